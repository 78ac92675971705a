/**
 * VXLAN (RFC 7348) between hosts: {@link dev.pktkit.switching.vxlan.VxlanTunnel}, the handler of a UDP channel
 * whose VNIs become ports of {@link dev.pktkit.switching.L2Hub}s (flood-and-learn, head-end replication to
 * configured peers, IPv4 and IPv6 underlay, bounded and aged tables), and {@link dev.pktkit.switching.vxlan.Vxlan},
 * the header's constants and accessors. Interoperates with the Linux kernel's {@code vxlan} device.
 */
package dev.pktkit.switching.vxlan;
