/**
 * QEMU's userspace network socket protocols as Netty pipelines whose messages are Ethernet frames.
 */
package dev.pktkit.qemu;
