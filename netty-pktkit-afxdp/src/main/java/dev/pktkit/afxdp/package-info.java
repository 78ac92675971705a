/**
 * AF_XDP sockets as a Netty channel ({@link dev.pktkit.afxdp.XdpChannel}): the {@link dev.pktkit.afxdp.Umem},
 * its fill/completion/RX/TX rings ({@link dev.pktkit.afxdp.XdpRing}) and the XDP redirect program
 * ({@link dev.pktkit.afxdp.XdpProgram}, {@link dev.pktkit.afxdp.XskMap}), through the Foreign Function &amp;
 * Memory API of {@code netty-pktkit-linux}. See the module README for modes, limits and what is not done.
 */
package dev.pktkit.afxdp;
