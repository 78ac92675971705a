/**
 * Choice of Netty event-loop implementation: {@link dev.pktkit.codec.transport.Transports} picks io_uring, epoll,
 * kqueue or NIO, whichever is best and present, overridable with {@code -Dpktkit.transport=...}.
 */
package dev.pktkit.codec.transport;
