package dev.pktkit.afxdp;

import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.testkit.netns.NetnsExtension;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Setup paths against the kernel, in namespaces the test makes: a zero-copy bind refused by veth with a clear
 * error (and nothing left behind), two queues sharing one UMEM, a channel joining an XSKMAP found by its id (as
 * with another program's map), an interface with an XDP program already, and a device that goes away under a
 * running channel.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class XdpSetupTest {
    @RegisterExtension
    final NetnsExtension netns = new NetnsExtension();

    private MultiThreadIoEventLoopGroup group;
    private Netns a;
    private Netns b;

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeUsable();
        dev.pktkit.testkit.Tools.assumeCommand("ethtool", "ethtool");
        a = netns.create();
        b = netns.create();
        group = TestLoops.group(XdpFixture.loops().get(0), 2);
    }

    @AfterEach
    void tearDown() {
        group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void zeroCopyOnVethFailsClearlyAndLeavesNothingBehind() throws Exception {
        XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
        try (Umem umem = Umem.allocate(2048, 512)) {
            XdpException e = assertThrows(XdpException.class, () -> XdpChannel.open(XdpSocketConfig.builder("vx")
                    .namespace(XdpFixture.handle(b)).ringSize(64).umem(umem).bindMode(XdpBindMode.ZERO_COPY)
                    .attach(XdpMode.NATIVE).build()));
            assertEquals(XdpException.Reason.ZERO_COPY_REFUSED, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("copy mode"), e.getMessage());
            assertEquals(512, umem.unreservedChunks(), "the failed open gave its chunks back");
            // copy mode on the same UMEM works
            XdpChannel ok = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                    .ringSize(64).umem(umem).bindMode(XdpBindMode.COPY).attach(XdpMode.NATIVE).build());
            ok.pipeline().addLast(new ChannelInboundHandlerAdapter());
            group.register(ok).sync();
            ok.close().sync();
            assertFalse(umem.isFreed());
        }
        assertFalse(b.exec("ip", "-d", "link", "show", "vx").output().contains("prog/xdp"));
    }

    @Test
    void twoQueuesShareOneUmem() throws Exception {
        // two queues each way: flows from A spread over va's TX queues, and veth delivers TX queue n to RX queue n
        a.exec("ip", "link", "add", "va", "numtxqueues", "2", "numrxqueues", "2", "type", "veth", "peer", "name",
                "vx", "numtxqueues", "2", "numrxqueues", "2", "netns", b.name()).check();
        a.exec("ip", "addr", "add", "10.94.0.1/24", "dev", "va").check();
        a.exec("ip", "link", "set", "va", "up").check();
        b.exec("ip", "link", "set", "vx", "up").check();
        a.exec("ip", "neigh", "add", "10.94.0.2", "lladdr", "02:00:5e:94:00:02", "dev", "va").check();
        XdpSocketConfig.Builder base = XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b)).ringSize(256);
        int need = base.build().chunksNeeded();
        try (Umem umem = Umem.allocate(2048, 2 * need); XdpProgram prog = XdpProgram.load(2);
             XdpAttachment att = prog.attach(XdpFixture.handle(b), "vx", XdpMode.NATIVE)) {
            XdpChannel q0 = XdpChannel.open(base.queue(0).umem(umem).xskMap(prog.xskMap()).build());
            XdpChannel q1 = XdpChannel.open(base.queue(1).umem(umem).xskMap(prog.xskMap()).build());
            assertEquals(0, umem.unreservedChunks());
            XdpFixture.FrameRecorder r0 = new XdpFixture.FrameRecorder();
            XdpFixture.FrameRecorder r1 = new XdpFixture.FrameRecorder();
            q0.pipeline().addLast(r0);
            q1.pipeline().addLast(r1);
            group.register(q0).sync();
            group.register(q1).sync();
            try {
                // UDP flows with 256 source ports: their hashes pick both TX queues
                CommandResult send = a.exec(Duration.ofSeconds(30), "bash", "-c",
                        "for p in $(seq 20000 20255); do echo x > /dev/udp/10.94.0.2/$p; done");
                assertTrue(send.ok(), send.output());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while ((q0.counters().get(XdpCounter.FRAMES_IN) == 0 || q1.counters().get(XdpCounter.FRAMES_IN) == 0
                        || q0.counters().get(XdpCounter.FRAMES_IN) + q1.counters().get(XdpCounter.FRAMES_IN) < 256)
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20); // waiting for frames the kernel delivers on its own schedule
                }
                long f0 = q0.counters().get(XdpCounter.FRAMES_IN);
                long f1 = q1.counters().get(XdpCounter.FRAMES_IN);
                assertTrue(f0 > 0 && f1 > 0, "both queues received: " + f0 + " + " + f1);
                // every datagram arrived on one of the two sockets (and maybe the new link's IPv6 chatter)
                assertTrue(f0 + f1 >= 256, f0 + " + " + f1 + "; " + q0.kernelStatistics() + " "
                        + q1.kernelStatistics());
                // the frames live in the one UMEM, each socket in its own range of it
                long lo = umem.area().address();
                long hi = lo + umem.area().byteSize();
                ByteBuf x = r0.frames.poll(1, TimeUnit.SECONDS);
                ByteBuf y = r1.frames.poll(1, TimeUnit.SECONDS);
                assertTrue(x.memoryAddress() >= lo && x.memoryAddress() < lo + (long) need * 2048);
                assertTrue(y.memoryAddress() >= lo + (long) need * 2048 && y.memoryAddress() < hi);
                x.release();
                y.release();
            } finally {
                q0.close().sync();
                q1.close().sync();
                r0.releaseAll();
                r1.releaseAll();
            }
        }
    }

    @Test
    void aChannelJoinsAnExistingXskMapFoundByItsId() throws Exception {
        XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
        a.exec("ip", "addr", "add", "10.95.0.1/24", "dev", "va").check();
        // "someone else's" program: loaded and attached here, found again only by its map's id
        try (XdpProgram other = XdpProgram.load(4);
             XdpAttachment att = other.attach(XdpFixture.handle(b), "vx", XdpMode.GENERIC);
             XskMap found = XskMap.byId(other.xskMap().id())) {
            assertEquals(4, found.maxEntries());
            XdpChannel ch = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                    .ringSize(64).xskMap(found).build());
            XdpFixture.FrameRecorder rec = new XdpFixture.FrameRecorder();
            ch.pipeline().addLast(rec);
            group.register(ch).sync();
            try {
                a.exec("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.95.0.2"); // ARP requests to the socket
                ByteBuf f = rec.frames.poll(10, TimeUnit.SECONDS);
                assertTrue(f != null, "a frame arrived through the other program's map");
                f.release();
            } finally {
                ch.close().sync();
                rec.releaseAll();
            }
            // our channel left the map but not the program: it is still attached
            assertTrue(b.exec("ip", "-d", "link", "show", "vx").output().contains("xdpgeneric"));
        }
        XdpException notXsk = assertThrows(XdpException.class, () -> XskMap.byId(Integer.MAX_VALUE));
        assertEquals(XdpException.Reason.NO_SUCH_DEVICE, notXsk.reason(), notXsk.getMessage());
    }

    @Test
    void aSecondProgramOnTheSameInterfaceIsRefused() throws Exception {
        XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
        try (XdpProgram p1 = XdpProgram.load(1); XdpProgram p2 = XdpProgram.load(1);
             XdpAttachment first = p1.attach(XdpFixture.handle(b), "vx", XdpMode.NATIVE)) {
            XdpException e = assertThrows(XdpException.class,
                    () -> p2.attach(XdpFixture.handle(b), "vx", XdpMode.NATIVE));
            assertEquals(XdpException.Reason.BUSY, e.reason(), e.getMessage());
            XdpException none = assertThrows(XdpException.class,
                    () -> p2.attach(XdpFixture.handle(b), "nosuch0", XdpMode.NATIVE));
            assertEquals(XdpException.Reason.NO_SUCH_DEVICE, none.reason());
        }
    }

    @Test
    void aDeviceThatGoesAwayClosesTheChannelOnItsNextWriteAndFreesTheUmemOnce() throws Exception {
        XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
        Umem umem = Umem.allocate(2048, 512);
        XdpChannel ch = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                .ringSize(64).umem(umem).attach(XdpMode.NATIVE).deviceCheckMillis(0).build()); // the write finds it
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter());
        group.register(ch).sync();
        b.exec("ip", "link", "del", "vx").check();
        // the frame reaches the TX ring; the kick that should send it finds the device gone
        ch.writeAndFlush(ch.alloc().directBuffer(60).writeZero(60)).await(10, TimeUnit.SECONDS);
        assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS), "the channel closed");
        assertEquals(1, ch.counters().get(XdpCounter.DEVICE_GONE));
        assertTrue(ch.closeCause().getMessage().contains("device is gone"), ch.closeCause().toString());
        ExecutionException e = assertThrows(ExecutionException.class, () -> ch.writeAndFlush(
                ch.alloc().directBuffer(60).writeZero(60)).get(10, TimeUnit.SECONDS));
        assertInstanceOf(java.nio.channels.ClosedChannelException.class, e.getCause());
        assertFalse(umem.isFreed());
        umem.close();
        assertTrue(umem.isFreed());
        assertEquals(1, umem.unmapCount());
        umem.close();
        assertEquals(1, umem.unmapCount());
    }

    @Test
    void aReceiveOnlyChannelNoticesItsDeviceGoingAwayAndFreesTheUmemOnce() throws Exception {
        XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
        a.exec("ip", "addr", "add", "10.96.0.1/24", "dev", "va").check();
        Umem umem = Umem.allocate(2048, 512);
        XdpChannel ch = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                .ringSize(64).umem(umem).attach(XdpMode.NATIVE).deviceCheckMillis(50).build());
        XdpFixture.FrameRecorder rec = new XdpFixture.FrameRecorder();
        java.util.concurrent.BlockingQueue<Throwable> caught = new java.util.concurrent.LinkedBlockingQueue<>();
        ch.pipeline().addLast(rec, new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                caught.add(cause);
            }
        });
        group.register(ch).sync();
        ByteBuf held;
        try {
            a.exec("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.96.0.2"); // ARP requests reach the socket
            held = rec.frames.poll(10, TimeUnit.SECONDS);
            assertTrue(held != null, "a frame arrived before the device went away");
            // the channel never writes: only the device check can notice
            b.exec("ip", "link", "del", "vx").check();
            assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS), "the receive-only channel closed");
        } finally {
            rec.releaseAll();
        }
        assertEquals(1, ch.counters().get(XdpCounter.DEVICE_GONE));
        assertEquals(0, ch.counters().get(XdpCounter.FRAMES_OUT));
        Throwable cause = caught.poll(10, TimeUnit.SECONDS);
        assertInstanceOf(java.io.IOException.class, cause);
        assertTrue(cause.getMessage().contains("went away") && cause.getMessage().contains("ENETDOWN"),
                cause.getMessage());
        assertTrue(ch.closeCause() == cause);
        // the pipeline still holds a frame in the UMEM: it stays mapped until that frame comes back
        umem.close();
        assertFalse(umem.isFreed(), "a lent frame keeps the UMEM");
        assertEquals(0, umem.unmapCount());
        held.release();
        assertTrue(umem.isFreed());
        assertEquals(1, umem.unmapCount());
        umem.close();
        assertEquals(1, umem.unmapCount());
    }

    @Test
    void aChannelJoinsAnXskMapPinnedInBpffs() throws Exception {
        dev.pktkit.testkit.Tools.assumeCommand("unshare", "util-linux");
        XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
        a.exec("ip", "addr", "add", "10.97.0.1/24", "dev", "va").check();
        // a bpffs of the test's own: mounted in a private mount namespace held by a child process, reached through
        // /proc/<child>/root; it goes (with its pins) when the child exits, and the host's mounts never change
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pktkit-bpffs");
        Process holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t bpf bpf \"$0\" && echo mounted && read x", dir.toString()).redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                    holder.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            String line = out.readLine(); // the child prints this once the mount is there (or an error and exits)
            org.junit.jupiter.api.Assumptions.assumeTrue("mounted".equals(line), "no bpffs mount here: " + line);
            String root = "/proc/" + holder.pid() + "/root" + dir;
            String path = root + "/pktkit_xsks";
            try (XdpProgram other = XdpProgram.load(4);
                 XdpAttachment att = other.attach(XdpFixture.handle(b), "vx", XdpMode.GENERIC)) {
                other.xskMap().pin(path); // as xdp-loader or an agent would leave it
                XdpException twice = assertThrows(XdpException.class, () -> other.xskMap().pin(path));
                assertEquals(XdpException.Reason.BUSY, twice.reason(), twice.getMessage());
                try (XskMap found = XskMap.pinned(path)) {
                    assertEquals(other.xskMap().id(), found.id());
                    assertEquals(4, found.maxEntries());
                    XdpChannel ch = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                            .ringSize(64).xskMap(found).build());
                    XdpFixture.FrameRecorder rec = new XdpFixture.FrameRecorder();
                    ch.pipeline().addLast(rec);
                    group.register(ch).sync();
                    try {
                        a.exec("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.97.0.2");
                        ByteBuf f = rec.frames.poll(10, TimeUnit.SECONDS);
                        assertTrue(f != null, "a frame arrived through the pinned map");
                        f.release();
                    } finally {
                        ch.close().sync();
                        rec.releaseAll();
                    }
                }
                assertTrue(b.exec("ip", "-d", "link", "show", "vx").output().contains("xdpgeneric"));
            }
            // a pinned map that is not an XSKMAP is refused, and a path with nothing pinned is not found
            int array = dev.pktkit.linux.Bpf.mapCreate(2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1, "pktkit_arr");
            assertTrue(array >= 0, "array map: " + array);
            try {
                assertEquals(0, dev.pktkit.linux.Bpf.objPin(array, root + "/pktkit_arr"));
            } finally {
                dev.pktkit.linux.LibC.close(array);
            }
            XdpException notXsk = assertThrows(XdpException.class, () -> XskMap.pinned(root + "/pktkit_arr"));
            assertTrue(notXsk.getMessage().contains("not an XSKMAP"), notXsk.getMessage());
            XdpException none = assertThrows(XdpException.class, () -> XskMap.pinned(root + "/nothing"));
            assertEquals(XdpException.Reason.NO_SUCH_DEVICE, none.reason(), none.getMessage());
        } finally {
            holder.getOutputStream().close(); // ends the child's read: it exits, its mount namespace goes
            assertTrue(holder.waitFor(10, TimeUnit.SECONDS), "the bpffs holder exited");
            java.nio.file.Files.deleteIfExists(dir);
        }
    }
}
