package dev.pktkit.tuntap;

import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.SnmpCounters;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the channel reads and writes, with the kernel as the peer: Java writes ICMP echo requests from 10.71.0.2 to
 * the kernel's 10.71.0.1 on the device, the kernel answers through the device. Read batches, auto-read off,
 * flush, and moving a channel to a loop of the other kind. On epoll and io_uring.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TunChannelBehaviourTest {
    static final int KERNEL = Ip4.parse("10.71.0.1");
    static final int US = Ip4.parse("10.71.0.2");

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;
    private final BatchRecorder recorder = new BatchRecorder();

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        ns = cleanup.add(Netns.create());
        cleanup.add(recorder::releaseAll); // after the channel's close, before the namespace's
    }

    /** Counts packets per read batch and keeps them for the test thread. */
    static final class BatchRecorder extends ChannelInboundHandlerAdapter {
        final BlockingQueue<ByteBuf> packets = new LinkedBlockingQueue<>();
        final List<Integer> batches = new CopyOnWriteArrayList<>();
        final AtomicInteger inBatch = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            inBatch.incrementAndGet();
            if (msg instanceof ByteBuf b && isEchoReply(b)) {
                packets.add(b);
            } else {
                ReferenceCountUtil.release(msg); // the kernel's own IPv6 chatter
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            batches.add(inBatch.getAndSet(0));
            ctx.fireChannelReadComplete();
        }

        int replies() {
            return packets.size();
        }

        void releaseAll() {
            ByteBuf b;
            while ((b = packets.poll()) != null) {
                b.release();
            }
        }
    }

    static boolean isEchoReply(ByteBuf b) {
        int off = b.readerIndex();
        return b.readableBytes() >= 28 && b.getUnsignedByte(off) >>> 4 == 4
                && Ipv4.protocol(b, off) == IpProtocol.ICMP && Ipv4.dst(b, off) == US
                && b.getUnsignedByte(off + 20) == Icmpv4.TYPE_ECHO_REPLY;
    }

    private TunChannel open(MultiThreadIoEventLoopGroup g, boolean autoRead, int maxPerRead) throws Exception {
        TunChannel t = (TunChannel) new Bootstrap().group(g).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .option(ChannelOption.AUTO_READ, autoRead)
                .option(ChannelOption.MAX_MESSAGES_PER_READ, maxPerRead)
                .handler(recorder)
                .bind(TunTapAddress.of("pktbeh")).sync().channel();
        t.link().addAddress("10.71.0.1/24").up();
        return t;
    }

    /** An echo request from us to the kernel, from the channel's allocator. */
    static ByteBuf echoRequest(Channel ch, int seq) {
        ByteBuf b = ch.alloc().directBuffer(20 + 8 + 32);
        Ipv4.writeHeader(b, US, KERNEL, IpProtocol.ICMP, 64, 8 + 32, seq, true);
        ByteBuf data = ch.alloc().heapBuffer(32).writeZero(32);
        Icmpv4.writeEcho(b, Icmpv4.TYPE_ECHO_REQUEST, 0x4242, seq, data, 0, 32);
        data.release();
        return b;
    }

    private void awaitReplies(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (recorder.replies() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + recorder.replies() + " of " + n + " echo replies arrived");
            }
            Thread.onSpinWait();
        }
    }

    private <T> T onLoop(Channel ch, java.util.concurrent.Callable<T> task) throws Exception {
        return ch.eventLoop().submit(task).get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @MethodSource("loops")
    void eachReadBatchEndsWithOneReadCompleteAndHoldsAtMostMaxMessages(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        TunChannel tun = cleanup.add(open(group, true, 8));
        int n = 40;
        tun.eventLoop().submit(() -> {
            for (int i = 0; i < n; i++) {
                tun.write(echoRequest(tun, i), tun.voidPromise());
            }
            tun.flush();
        }).sync();
        awaitReplies(n);
        // packets arrive one by one; a batch is counted at its channelReadComplete
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (recorder.batches.stream().mapToInt(Integer::intValue).sum() < n) {
            assertTrue(System.nanoTime() < deadline, "batches never completed: " + recorder.batches);
            Thread.onSpinWait();
        }
        for (int size : recorder.batches) {
            assertTrue(size >= 1 && size <= 8, "batch of " + size + ": " + recorder.batches);
        }
        assertTrue(recorder.batches.size() >= n / 8, recorder.batches.toString());
        assertTrue(onLoop(tun, () -> recorder.batches.size() == tun.counters().readBatches()),
                "one channelReadComplete per counted batch");
        assertEquals(n, (long) onLoop(tun, () -> tun.counters().packetsOut()));
    }

    @ParameterizedTest
    @MethodSource("loops")
    void writesLeaveOnFlush(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        TunChannel tun = cleanup.add(open(group, true, 16));
        long beforeFlush = onLoop(tun, () -> {
            for (int i = 0; i < 10; i++) {
                tun.write(echoRequest(tun, i), tun.voidPromise());
            }
            return tun.counters().packetsOut();
        });
        assertEquals(0, beforeFlush, "nothing is written before the flush");
        tun.flush();
        awaitReplies(10);
        assertEquals(10, (long) onLoop(tun, () -> tun.counters().packetsOut()));
    }

    @ParameterizedTest
    @MethodSource("loops")
    void writesToADownLinkAreDroppedAndRefusedPacketsFailTheirPromise(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        TunChannel tun = (TunChannel) cleanup.add(new Bootstrap().group(group).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .handler(recorder).bind(TunTapAddress.of("pktbeh")).sync().channel());
        // down: the kernel discards it (EIO); counted, and the promise succeeds
        io.netty.channel.ChannelFuture down = tun.writeAndFlush(echoRequest(tun, 1));
        assertTrue(down.await(10, TimeUnit.SECONDS));
        assertTrue(down.isSuccess(), String.valueOf(down.cause()));
        assertEquals(1, (long) onLoop(tun, () -> tun.counters().drops(TunTapDropReason.LINK_DOWN)));

        tun.link().addAddress("10.71.0.1/24").up();
        // not an IP packet (version 7): the kernel refuses it (EINVAL); counted, the promise fails, the channel lives
        ByteBuf junk = tun.alloc().directBuffer(40).writeByte(0x70).writeZero(39);
        io.netty.channel.ChannelFuture refused = tun.writeAndFlush(junk);
        assertTrue(refused.await(10, TimeUnit.SECONDS));
        assertTrue(refused.cause() instanceof java.io.IOException, String.valueOf(refused.cause()));
        assertTrue(refused.cause().getMessage().contains("EINVAL"), refused.cause().getMessage());
        assertEquals(1, (long) onLoop(tun, () -> tun.counters().drops(TunTapDropReason.WRITE_FAILED)));
        assertTrue(tun.isActive());
        // and the next good packet goes through
        tun.writeAndFlush(echoRequest(tun, 2));
        awaitReplies(1);
        // messages a TUN channel cannot write fail at once and are counted
        io.netty.channel.ChannelFuture wrong = tun.writeAndFlush("not a packet");
        assertTrue(wrong.await(10, TimeUnit.SECONDS));
        assertTrue(wrong.cause() instanceof UnsupportedOperationException, String.valueOf(wrong.cause()));
        assertEquals(1, (long) onLoop(tun, () -> tun.counters().drops(TunTapDropReason.UNSUPPORTED_MESSAGE)));
    }

    @ParameterizedTest
    @MethodSource("loops")
    void withoutAutoReadEachReadDeliversOnePacket(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        TunChannel tun = cleanup.add(open(group, false, 16));
        tun.eventLoop().submit(() -> {
            for (int i = 0; i < 5; i++) {
                tun.write(echoRequest(tun, i), tun.voidPromise());
            }
            tun.flush();
        }).sync();
        // the kernel has sent its 5 replies into the device (they wait in its queue), and nobody asked to read
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (kernelEchoReplies() < 5) {
            assertTrue(System.nanoTime() < deadline, "the kernel did not answer");
            Thread.onSpinWait();
        }
        assertEquals(0, recorder.replies(), "no read() yet, nothing delivered");
        assertEquals(0, recorder.batches.size());
        // one read() at a time (the kernel's own IPv6 chatter may come first): each delivers one packet
        int calls = 0;
        while (recorder.replies() < 5) {
            int before = recorder.batches.size();
            tun.read();
            assertTrue(++calls <= 50, "too many reads for 5 replies");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (recorder.batches.size() == before) {
                assertTrue(System.nanoTime() < end, "read() delivered nothing");
                Thread.onSpinWait();
            }
        }
        for (int size : recorder.batches) {
            assertEquals(1, size, "one packet per read(): " + recorder.batches);
        }
    }

    /** The namespace's {@code Icmp OutEchoReps} counter from {@code /proc/net/snmp}. */
    private long kernelEchoReplies() throws Exception {
        return SnmpCounters.snmp(ns.exec("cat", "/proc/net/snmp").check().output(), "Icmp", "OutEchoReps");
    }

    @Test
    void channelMovesBetweenEpollAndIoUringLoops() throws Exception {
        List<String> kinds = NativeLoops.available();
        Assumptions.assumeTrue(kinds.contains(TestLoops.EPOLL) && kinds.contains(TestLoops.IO_URING),
                "needs both epoll and io_uring");
        Tools.assumeCommand("ping", "iputils-ping");
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(TestLoops.EPOLL, 1));
        MultiThreadIoEventLoopGroup otherGroup = cleanup.add(TestLoops.group(TestLoops.IO_URING, 1));
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.71.0.2")));
        TunChannel tun = (TunChannel) cleanup.add(new Bootstrap().group(group).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .handler(responder).bind(TunTapAddress.of("pktmove")).sync().channel());
        tun.link().addAddress("10.71.0.1/24").up();
        assertEquals(0, ns.exec("ping", "-c", "2", "-i", "0.2", "-w", "10", "10.71.0.2").exit());

        tun.deregister().sync();
        otherGroup.next().register(tun).sync();
        assertTrue(tun.isActive());
        CommandResult ping = ns.exec("ping", "-c", "2", "-i", "0.2", "-w", "10", "10.71.0.2");
        assertEquals(0, ping.exit(), ping.output());

        tun.deregister().sync();
        group.next().register(tun).sync();
        CommandResult back = ns.exec("ping", "-c", "2", "-i", "0.2", "-w", "10", "10.71.0.2");
        assertEquals(0, back.exit(), back.output());
        assertNotNull(tun.localAddress());
        assertTrue(responder.replies() >= 6);
    }
}
