/**
 * NAT64 helpers: RFC 6052 address synthesis ({@link dev.pktkit.nat.nat64.Nat64Prefix}). The stateful
 * translation (RFC 6146, headers per RFC 7915) runs inside {@link dev.pktkit.nat.NatEngine}, sharing its mapping
 * tables, bounds and timers with IPv4 NAPT.
 */
package dev.pktkit.nat.nat64;
