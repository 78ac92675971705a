package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Linux on the other side: a namespace with a TUN device (10.77.0.1/24, fd77::1/64) whose channel carries a
 * {@link VirtualHost} (10.77.0.2, fd77::2), optionally behind a link handler (impairment, router).
 */
final class LinuxPeer implements AutoCloseable {
    static final String NS_V4 = "10.77.0.1";
    static final String NS_V6 = "fd77::1";
    static final String HOST_V4 = "10.77.0.2";
    static final String HOST_V6 = "fd77::2";

    final TestNamespace ns;
    final MultiThreadIoEventLoopGroup group;
    final TunChannel tun;
    final VirtualHost host;

    /** The native loop kinds (TUN needs epoll or io_uring). */
    static List<String> loops() {
        List<String> l = new ArrayList<>();
        if (Epoll.isAvailable()) {
            l.add(TestLoops.EPOLL);
        }
        if (IoUring.isAvailable()) {
            l.add(TestLoops.IO_URING);
        }
        return l;
    }

    LinuxPeer(String loopKind, VirtualHost.Builder hostBuilder, ChannelHandler link, int mtu) throws Exception {
        this(loopKind, hostBuilder, link, mtu, dev.pktkit.tuntap.OffloadMode.NONE);
    }

    /** With {@code offload} on the TUN ({@code LARGE} adds a {@code VirtioNetCodec} in front of the host). */
    LinuxPeer(String loopKind, VirtualHost.Builder hostBuilder, ChannelHandler link, int mtu,
              dev.pktkit.tuntap.OffloadMode offload) throws Exception {
        this(loopKind, hostBuilder, link, mtu, offload, false);
    }

    /**
     * With {@code forwardingCodec}, {@code LARGE} adds {@code VirtioNetCodec.forwarding()} instead: inbound offload
     * state kept, and the channel marked {@code OffloadPacket.ACCEPTS} (the host then turns its offload on).
     */
    LinuxPeer(String loopKind, VirtualHost.Builder hostBuilder, ChannelHandler link, int mtu,
              dev.pktkit.tuntap.OffloadMode offload, boolean forwardingCodec) throws Exception {
        TestNamespace.assumeUsable();
        ns = TestNamespace.create();
        try {
            group = TestLoops.group(loopKind, 1);
            host = hostBuilder.address(HOST_V4).address(HOST_V6).build();
            tun = (TunChannel) new Bootstrap().group(group)
                    .channelFactory(() -> new TunChannel(ns.handle))
                    .option(dev.pktkit.tuntap.TunTapChannelOption.OFFLOAD, offload)
                    .handler(new ChannelInitializer<TunChannel>() {
                        @Override
                        protected void initChannel(TunChannel ch) {
                            if (offload == dev.pktkit.tuntap.OffloadMode.LARGE) {
                                ch.pipeline().addLast(forwardingCodec ? dev.pktkit.tuntap.VirtioNetCodec.forwarding()
                                        : new dev.pktkit.tuntap.VirtioNetCodec());
                            }
                            if (link != null) {
                                ch.pipeline().addLast(link);
                            }
                            ch.pipeline().addLast(host);
                        }
                    })
                    .bind(TunTapAddress.of("vt0")).sync().channel();
            tun.link().mtu(mtu).addAddress(NS_V4 + "/24").addAddress(NS_V6 + "/64").up();
        } catch (Exception | Error e) {
            ns.close();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            tun.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        } finally {
            ns.close();
        }
    }
}
