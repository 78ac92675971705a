/**
 * Linux network configuration without running {@code ip}: {@link dev.pktkit.linux.netlink.RtNetlink} (links,
 * MTU, up/down, names, MAC addresses, addresses, routes, moving links between namespaces) reporting interfaces as
 * {@link dev.pktkit.linux.netlink.LinkInfo}s. Failures are {@link dev.pktkit.linux.netlink.NetlinkException}s
 * with the kernel's errno. Every call blocks its caller until the kernel answers: never call it on an event
 * loop.
 */
package dev.pktkit.linux.netlink;
