package dev.pktkit.testkit;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;

import java.util.ArrayList;
import java.util.List;

/** The event-loop kinds a test can run on here; tests parameterise over {@link #available()}. */
public final class TestLoops {
    private TestLoops() {
    }

    public static final String NIO = "nio";
    public static final String EPOLL = "epoll";
    public static final String IO_URING = "io_uring";

    /** Kinds whose native library loads on this machine; NIO always. */
    public static List<String> available() {
        List<String> kinds = new ArrayList<>();
        kinds.add(NIO);
        if (Epoll.isAvailable()) {
            kinds.add(EPOLL);
        }
        if (IoUring.isAvailable()) {
            kinds.add(IO_URING);
        }
        return kinds;
    }

    public static IoHandlerFactory factory(String kind) {
        return switch (kind) {
            case NIO -> NioIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case IO_URING -> IoUringIoHandler.newFactory();
            default -> throw new IllegalArgumentException("unknown loop kind " + kind);
        };
    }

    public static MultiThreadIoEventLoopGroup group(String kind, int threads) {
        return new MultiThreadIoEventLoopGroup(threads, factory(kind));
    }
}
