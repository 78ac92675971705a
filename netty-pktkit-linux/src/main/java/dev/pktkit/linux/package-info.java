/**
 * Linux FFM glue shared by the native transports (TUN/TAP, AF_XDP, slirp's ICMP sockets), so that none of them
 * depends on another:
 *
 * <ul>
 *   <li>{@link dev.pktkit.linux.LibC}: the C library's setup calls (files, ioctls, sockets and options,
 *       {@code setns}, {@code mmap}), returning {@code -errno} on failure, never throwing for one;</li>
 *   <li>{@link dev.pktkit.linux.Errno}: errno values and names; {@link dev.pktkit.linux.LinuxException}: a failed
 *       call as an exception with its errno and a {@link dev.pktkit.linux.LinuxException.Reason};</li>
 *   <li>{@link dev.pktkit.linux.NetNamespace}: a network namespace held by a descriptor, and running a task on a
 *       thread inside it (to create sockets and devices there);</li>
 *   <li>{@link dev.pktkit.linux.netlink}: rtnetlink (interfaces, addresses, routes).</li>
 * </ul>
 *
 * <p>Linux on 64-bit JVMs; elsewhere {@link dev.pktkit.linux.LibC#unavailabilityCause()} says why. These calls
 * are for setup and control traffic and may block (the kernel's rtnetlink lock, a namespace thread): keep them
 * off event loops.
 */
package dev.pktkit.linux;
