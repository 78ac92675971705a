/**
 * {@link dev.pktkit.codec.dhcp.DhcpServer}: a DHCPv4 server (RFC 2131) as a frame-level device on an L2 port,
 * with a bounded lease table, static leases and classless static routes. The DHCP client lives in
 * {@code L2Adapter}.
 */
package dev.pktkit.codec.dhcp;
