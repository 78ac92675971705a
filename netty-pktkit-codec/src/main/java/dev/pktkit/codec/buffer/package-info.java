/** Buffer ownership helpers for devices that modify packets in place. */
package dev.pktkit.codec.buffer;
