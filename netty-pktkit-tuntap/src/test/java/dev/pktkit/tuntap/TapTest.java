package dev.pktkit.tuntap;

import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * TAP channels against the kernel's own Ethernet stack, in a namespace the test creates, on epoll and io_uring:
 * the kernel's ARP requests arrive as frames, and the kernel pings a gateway ({@link L2Adapter} with an
 * {@link EchoResponder}, on a {@link PacketPipe}) behind an {@link L2Hub} whose other port is the TAP channel,
 * over IPv4 (ARP) and IPv6 (NDP).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TapTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("ping", "iputils-ping");
        ns = cleanup.add(Netns.create());
    }

    /** Frames from the kernel, queued for the test thread. */
    static final class FrameRecorder extends ChannelInboundHandlerAdapter {
        final BlockingQueue<ByteBuf> frames = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                frames.add(b);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        void releaseAll() {
            ByteBuf b;
            while ((b = frames.poll()) != null) {
                b.release();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void kernelArpRequestsArriveAsEthernetFrames(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        FrameRecorder recorder = new FrameRecorder();
        TapChannel tap = (TapChannel) cleanup.add(new Bootstrap().group(group)
                .channelFactory(() -> new TapChannel(Namespaces.handle(ns)))
                .handler(recorder)
                .bind(TunTapAddress.of("pktap0")).sync().channel());
        try {
            tap.link().addAddress("10.78.0.1/24").up();
            long kernelMac = tap.link().info().macAddress();
            assertNotEquals(0, kernelMac);
            // nobody answers 10.78.0.9: the kernel asks for it with ARP requests, broadcast on the TAP
            ns.start(dir.resolve("ping.log"), "ping", "-c", "3", "-i", "0.5", "10.78.0.9");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                long left = deadline - System.nanoTime();
                ByteBuf f = left > 0 ? recorder.frames.poll(left, TimeUnit.NANOSECONDS) : null;
                if (f == null) {
                    fail("no ARP request for 10.78.0.9 arrived on the TAP channel");
                }
                try {
                    int off = f.readerIndex();
                    if (Ethernet.etherType(f, off) != Ethernet.ARP) {
                        continue; // IPv6 chatter of the new link
                    }
                    int arp = off + Ethernet.HEADER_LENGTH;
                    assertEquals(MacAddress.BROADCAST, Ethernet.dst(f, off));
                    assertEquals(kernelMac, Ethernet.src(f, off));
                    assertEquals(Arp.OP_REQUEST, Arp.operation(f, arp));
                    assertEquals(kernelMac, Arp.senderMac(f, arp));
                    assertEquals(Ip4.parse("10.78.0.1"), Arp.senderIp(f, arp));
                    assertEquals(Ip4.parse("10.78.0.9"), Arp.targetIp(f, arp));
                    break;
                } finally {
                    f.release();
                }
            }
            assertTrue(tap.counters().packetsIn() > 0);
        } finally {
            tap.close().syncUninterruptibly();
            recorder.releaseAll();
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void kernelPingsGatewayBehindL2Hub(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 2));
        L2Hub hub = cleanup.add(L2Hub.builder().name("tap-lan").build());
        L2Adapter adapter = L2Adapter.builder()
                .mac(0x02_00_5e_78_00_feL)
                .ipv4("10.78.0.254/24")
                .ipv6Address((Inet6Address) InetAddress.getByName("fd78::fe"), 64)
                .dadTransmits(0)
                .build();
        EchoResponder responder = new EchoResponder(adapter);
        PacketPipe gateway = PacketPipe.open(group.next(), new io.netty.channel.ChannelInitializer<>() {
            @Override
            protected void initChannel(io.netty.channel.Channel ch) {
                ch.pipeline().addLast(adapter, responder);
            }
        }, group.next(), null).sync().getNow();
        cleanup.add(gateway::close);
        hub.add(gateway.b());
        TapChannel tap = (TapChannel) cleanup.add(new Bootstrap().group(group)
                .channelFactory(() -> new TapChannel(Namespaces.handle(ns)))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of("pktap1")).sync().channel());
        hub.add(tap);
        tap.link().addAddress("10.78.0.1/24").addAddress("fd78::1/64").up();

        CommandResult v4 = ns.exec("ping", "-c", "3", "-i", "0.2", "-w", "20", "10.78.0.254");
        assertEquals(0, v4.exit(), v4.output());
        CommandResult v6 = ns.exec("ping", "-6", "-c", "3", "-i", "0.2", "-w", "20", "fd78::fe");
        assertEquals(0, v6.exit(), v6.output());
        assertTrue(responder.replies() >= 6, "replies: " + responder.replies());
        // the kernel resolved our gateway with ARP: its neighbour table holds our MAC
        CommandResult neigh = ns.exec("ip", "neigh", "show", "10.78.0.254");
        assertTrue(neigh.output().contains("02:00:5e:78:00:fe"), neigh.output());
    }
}
