/**
 * Linux network configuration without running {@code ip}: {@link dev.pktkit.tuntap.netlink.RtNetlink} (links,
 * MTU, up/down, addresses, routes, MAC addresses, moving links between namespaces) and
 * {@link dev.pktkit.tuntap.netlink.NetNamespace} (entering a network namespace on a helper thread to create
 * sockets and devices there). Failures are {@link dev.pktkit.tuntap.netlink.NetlinkException}s with the kernel's
 * errno.
 */
package dev.pktkit.tuntap.netlink;
