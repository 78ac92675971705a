/**
 * Port control on the NAT's inside: UPnP IGD (WANIPConnection v1/v2, SSDP discovery, description and SOAP
 * control over vtcp), NAT-PMP (RFC 6886) and PCP (RFC 6887, MAP and PEER) on UDP 5351. All three create
 * leases in one {@link dev.pktkit.nat.portcontrol.LeaseTable} on top of the NAT's own port-forward table (its
 * bounds apply). Entry point: {@link dev.pktkit.nat.portcontrol.PortControl}.
 */
package dev.pktkit.nat.portcontrol;
