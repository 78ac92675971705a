/**
 * Packet NAT: {@link dev.pktkit.nat.Nat} (the device between inside ports and one outside channel) and
 * {@link dev.pktkit.nat.NatEngine} (NAPT per RFC 4787 / 5382 / 5508 / 7857 and stateful NAT64 per RFC 6146 /
 * 7915, connection tracking, expectations, static mappings and port forwards). ALGs, port control and slirp are
 * not built yet; the module README says what works.
 */
package dev.pktkit.nat;
