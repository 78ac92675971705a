package dev.pktkit.codec.transport;

/** The I/O event-loop implementations Netty 4.2 offers, best first. */
public enum TransportKind {
    /** Linux io_uring ({@code netty-transport-native-io_uring}). */
    IO_URING,
    /** Linux epoll ({@code netty-transport-native-epoll}). */
    EPOLL,
    /** BSD/macOS kqueue ({@code netty-transport-native-kqueue}). */
    KQUEUE,
    /** Java NIO selectors; always available. */
    NIO
}
