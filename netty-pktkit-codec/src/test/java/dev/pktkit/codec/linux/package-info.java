/** Test support: the Linux kernel as a peer, through a TAP device in a network namespace the test creates. */
package dev.pktkit.codec.linux;
