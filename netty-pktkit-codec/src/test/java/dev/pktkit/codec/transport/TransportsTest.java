package dev.pktkit.codec.transport;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransportsTest {
    @AfterEach
    void clearProperty() {
        System.clearProperty(Transports.PROPERTY);
    }

    @Test
    void picksTheBestAvailableInOrder() {
        // This test classpath ships the epoll and io_uring natives for linux-x86_64, not kqueue.
        TransportKind expected = IoUring.isAvailable() ? TransportKind.IO_URING
                : Epoll.isAvailable() ? TransportKind.EPOLL : TransportKind.NIO;
        assertEquals(expected, Transports.chosen());
        assertFalse(Transports.isAvailable(TransportKind.KQUEUE), "kqueue's jar is not on this class path");
        assertNotNull(Transports.unavailabilityCause(TransportKind.KQUEUE));
        assertNull(Transports.unavailabilityCause(TransportKind.NIO));
    }

    @Test
    void propertyOverridesTheChoice() {
        System.setProperty(Transports.PROPERTY, "nio");
        assertEquals(TransportKind.NIO, Transports.chosen());
        assertEquals(NioDatagramChannel.class, Transports.datagramChannelClass());
        if (Epoll.isAvailable()) {
            System.setProperty(Transports.PROPERTY, "EPOLL");
            assertEquals(EpollServerSocketChannel.class, Transports.serverSocketChannelClass());
        }
        if (IoUring.isAvailable()) {
            System.setProperty(Transports.PROPERTY, "io-uring");
            assertEquals(IoUringSocketChannel.class, Transports.socketChannelClass());
        }
    }

    @Test
    void forcingAnUnavailableTransportFailsWithTheReason() {
        System.setProperty(Transports.PROPERTY, "kqueue");
        IllegalStateException e = assertThrows(IllegalStateException.class, Transports::chosen);
        assertTrue(e.getMessage().contains("KQUEUE"), e.getMessage());
        System.setProperty(Transports.PROPERTY, "carrier-pigeon");
        assertThrows(IllegalArgumentException.class, Transports::chosen);
    }

    @Test
    void groupOfTheChosenKindRunsTasks() throws Exception {
        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(1);
        try {
            assertEquals(42, group.submit(() -> 42).get(5, TimeUnit.SECONDS));
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
    }
}
