package dev.pktkit.vtcp.host;

import dev.pktkit.codec.pipe.PacketPipe;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import dev.pktkit.testkit.TestLoops;

import java.util.concurrent.TimeUnit;

/** Two virtual hosts, a (10.0.0.1, fd00::1) and b (10.0.0.2, fd00::2), wired by a PacketPipe. */
final class TwoHosts implements AutoCloseable {
    final MultiThreadIoEventLoopGroup group;
    final VirtualHost a;
    final VirtualHost b;
    final PacketPipe pipe;

    TwoHosts(String loopKind, int threads) throws Exception {
        this(loopKind, threads, null);
    }

    /** With {@code link} (or null) on end b, between the pipe and host b. */
    TwoHosts(String loopKind, int threads, ChannelHandler link) throws Exception {
        this(TestLoops.group(loopKind, threads), VirtualHost.builder().address("10.0.0.1").address("fd00::1"),
                VirtualHost.builder().address("10.0.0.2").address("fd00::2"), link);
    }

    TwoHosts(MultiThreadIoEventLoopGroup group, VirtualHost.Builder ba, VirtualHost.Builder bb, ChannelHandler link)
            throws Exception {
        this.group = group;
        this.a = ba.build();
        this.b = bb.build();
        EventLoop la = group.next();
        EventLoop lb = group.next();
        pipe = new PacketPipe();
        pipe.a().pipeline().addLast(a);
        if (link != null) {
            pipe.b().pipeline().addLast(link);
        }
        pipe.b().pipeline().addLast(b);
        pipe.register(la, lb).sync();
    }

    EventLoop loopOfA() {
        return pipe.a().eventLoop();
    }

    EventLoop loopOfB() {
        return pipe.b().eventLoop();
    }

    @Override
    public void close() throws Exception {
        pipe.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
