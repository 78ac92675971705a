/**
 * AF_XDP sockets as a Netty channel: the UMEM, its fill/completion/RX/TX rings and the XDP redirect program,
 * through the Foreign Function &amp; Memory API. Work in progress (issue 16); nothing here is usable yet.
 */
package dev.pktkit.afxdp;
