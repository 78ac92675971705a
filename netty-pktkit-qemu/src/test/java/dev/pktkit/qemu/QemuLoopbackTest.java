package dev.pktkit.qemu;

import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PortConnector;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.Unpooled;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

import static dev.pktkit.qemu.Frames.BROADCAST;
import static dev.pktkit.qemu.Frames.frame;
import static dev.pktkit.qemu.Frames.lengthOnly;
import static dev.pktkit.qemu.Frames.mac;
import static dev.pktkit.qemu.Recorder.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * QEMU framing over real sockets on loopback, with Netty peers in the role of QEMU, on every event-loop kind
 * available here: stream over TCP and Unix sockets, datagrams over UDP and Unix sockets, guests on an L2Hub.
 */
class QemuLoopbackTest {
    @TempDir
    Path dir;

    private MultiThreadIoEventLoopGroup group;
    private L2Hub hub;
    private Tracking tracking;
    private final List<QemuListener> listeners = new ArrayList<>();
    private final List<Channel> peers = new ArrayList<>();

    static List<String> loops() {
        return TestLoops.available();
    }

    private void start(String loop) {
        group = TestLoops.group(loop, 2);
        hub = L2Hub.builder().name("qemu-loopback").build();
        tracking = new Tracking(hub);
    }

    @AfterEach
    void tearDown() {
        for (Channel p : peers) {
            p.close().awaitUninterruptibly(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        for (QemuListener l : listeners) {
            l.close().awaitUninterruptibly(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        if (hub != null) {
            hub.close().awaitUninterruptibly(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        if (group != null) {
            group.shutdownGracefully(0, WAIT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Attaches to the hub and reports each attach, and each detach after the hub has removed the port. */
    static final class Tracking implements PortConnector {
        final PortConnector inner;
        final BlockingQueue<Channel> attached = new LinkedBlockingQueue<>();
        final BlockingQueue<Channel> detached = new LinkedBlockingQueue<>();

        Tracking(PortConnector inner) {
            this.inner = inner;
        }

        @Override
        public Attachment attach(Channel port) {
            Attachment a = inner.attach(port);
            // added after the hub's own close listener, so it runs once the port is gone from the hub
            port.closeFuture().addListener(f -> detached.add(port));
            attached.add(port);
            return a;
        }

        Channel nextAttached() throws InterruptedException {
            Channel c = attached.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(c, "no guest attached within " + WAIT_SECONDS + " s");
            return c;
        }

        Channel nextDetached() throws InterruptedException {
            Channel c = detached.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(c, "no guest detached within " + WAIT_SECONDS + " s");
            return c;
        }
    }

    /** A Netty peer standing in for one QEMU: a stream client with the QEMU codec. */
    record Guest(Channel channel, Recorder recorder, Channel serverSide) {
        void send(byte[] frame) {
            channel.writeAndFlush(Unpooled.wrappedBuffer(frame));
        }

        /** Bytes written below the codec, straight to the socket. */
        void sendRaw(byte[] bytes) {
            channel.pipeline().firstContext().writeAndFlush(Unpooled.wrappedBuffer(bytes));
        }
    }

    /** A counter of {@code ch}, read on its event loop (the counters' only writer). */
    private static long onLoop(Channel ch, ToLongFunction<QemuFrameCounters> counter) throws Exception {
        return ch.eventLoop().submit(() -> counter.applyAsLong(QemuFrameCounters.of(ch)))
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private QemuListener listen(QemuAddress address) throws Exception {
        QemuListener l = QemuListener.stream(address).group(group).connector(tracking).bind()
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(l);
        return l;
    }

    private Guest connect(QemuListener listener) throws Exception {
        Recorder r = new Recorder();
        Channel ch = QemuNetdev.streamClient(group, listener.localAddress(), r).connect()
                .syncUninterruptibly().channel();
        peers.add(ch);
        return new Guest(ch, r, tracking.nextAttached());
    }

    private static QemuAddress address(String transport, Path dir) {
        return transport.equals("tcp") ? QemuAddress.inet("127.0.0.1", 0) : QemuAddress.unix(dir.resolve("hub.sock"));
    }

    static List<Object[]> streamCases() {
        List<Object[]> cases = new ArrayList<>();
        for (String loop : TestLoops.available()) {
            cases.add(new Object[] {loop, "tcp"});
            cases.add(new Object[] {loop, "unix"});
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("streamCases")
    void guestsOnAHubExchangeFrames(String loop, String transport) throws Exception {
        start(loop);
        QemuListener listener = listen(address(transport, dir));
        Guest g1 = connect(listener);
        Guest g2 = connect(listener);
        Guest g3 = connect(listener);
        assertEquals(3, hub.ports().size());
        assertEquals(3, listener.guestCount());

        byte[] hello = frame(BROADCAST, mac(1), 342, 1);
        g1.send(hello);
        assertArrayEquals(hello, g2.recorder().next());
        assertArrayEquals(hello, g3.recorder().next());

        // unicast to mac 1, then a broadcast: g3 sees the broadcast first, so the unicast did not reach it
        byte[] unicast = frame(mac(1), mac(2), 1514, 2);
        byte[] after = frame(BROADCAST, mac(2), 60, 3);
        g2.send(unicast);
        g2.send(after);
        assertArrayEquals(unicast, g1.recorder().next());
        assertArrayEquals(after, g1.recorder().next());
        assertArrayEquals(after, g3.recorder().next());
        assertTrue(g1.recorder().frames.isEmpty() && g3.recorder().frames.isEmpty());

        assertEquals(1, onLoop(g1.serverSide(), QemuFrameCounters::framesIn));
        assertEquals(342, onLoop(g1.serverSide(), QemuFrameCounters::bytesIn));
        assertEquals(2, onLoop(g1.serverSide(), QemuFrameCounters::framesOut), "unicast and broadcast");
        assertEquals(1, onLoop(g2.serverSide(), QemuFrameCounters::framesOut), "g1's broadcast");
        assertEquals(2, onLoop(g3.serverSide(), QemuFrameCounters::framesOut), "both broadcasts");
        assertEquals(0, onLoop(g2.serverSide(), QemuFrameCounters::drops));
        if (transport.equals("tcp")) {
            assertTrue(listener.legacyNetdevArgument("n0").startsWith("socket,id=n0,connect=127.0.0.1:"));
        } else {
            assertEquals("stream,id=n0,server=off,addr.type=unix,addr.path=" + dir.resolve("hub.sock"),
                    listener.netdevArgument("n0"));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("streamCases")
    void guestSendingABadLengthIsCutOffWhileTheOthersKeepWorking(String loop, String transport) throws Exception {
        start(loop);
        QemuListener listener = listen(address(transport, dir));
        Guest g1 = connect(listener);
        Guest g2 = connect(listener);
        Guest bad = connect(listener);

        byte[] good = frame(BROADCAST, mac(3), 60, 1);
        bad.sendRaw(Frames.concat(Frames.stream(good), lengthOnly(13), new byte[13]));
        assertArrayEquals(good, g1.recorder().next(), "frames before the bad length are forwarded");
        assertArrayEquals(good, g2.recorder().next());

        assertEquals(bad.serverSide(), tracking.nextDetached());
        assertTrue(bad.channel().closeFuture().await(WAIT_SECONDS, TimeUnit.SECONDS), "the peer sees the close");
        QemuFrameCounters c = QemuFrameCounters.of(bad.serverSide());
        assertTrue(c.isCutOff());
        assertEquals(1, c.drops(QemuDropReason.TOO_SHORT));
        assertEquals(2, hub.ports().size());
        assertEquals(2, listener.guestCount());

        byte[] still = frame(BROADCAST, mac(1), 100, 2);
        g1.send(still);
        assertArrayEquals(still, g2.recorder().next());
        byte[] back = frame(mac(1), mac(2), 100, 3);
        g2.send(back);
        assertArrayEquals(back, g1.recorder().next());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("streamCases")
    void disconnectRemovesThePortAndTheListenerClosesEverything(String loop, String transport) throws Exception {
        start(loop);
        QemuListener listener = listen(address(transport, dir));
        Guest g1 = connect(listener);
        Guest g2 = connect(listener);
        assertEquals(2, hub.ports().size());

        g1.channel().close().syncUninterruptibly();
        assertEquals(g1.serverSide(), tracking.nextDetached());
        assertEquals(1, hub.ports().size());
        assertEquals(List.of(g2.serverSide()), listener.guests());

        assertTrue(listener.close().await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(g2.serverSide(), tracking.nextDetached());
        assertTrue(g2.channel().closeFuture().await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(0, hub.ports().size());
        if (transport.equals("unix")) {
            assertFalse(Files.exists(dir.resolve("hub.sock")), "the socket file goes with the listener");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("streamCases")
    void listenerRefusesGuestsBeyondItsCap(String loop, String transport) throws Exception {
        start(loop);
        QemuListener listener = QemuListener.stream(address(transport, dir)).group(group).connector(tracking)
                .maxGuests(1).bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(listener);
        connect(listener);
        Channel refused = QemuNetdev.streamClient(group, listener.localAddress(), new Recorder()).connect()
                .syncUninterruptibly().channel();
        peers.add(refused);
        assertTrue(refused.closeFuture().await(WAIT_SECONDS, TimeUnit.SECONDS), "closed by the listener");
        assertEquals(1, listener.refusedGuests());
        assertEquals(1, listener.guestCount());
        assertEquals(1, hub.ports().size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loops")
    void eachGuestCanGetAnIsolatedConnector(String loop) throws Exception {
        start(loop);
        List<L2Hub> perGuest = new ArrayList<>();
        BlockingQueue<Channel> attached = new LinkedBlockingQueue<>();
        QemuListener listener = QemuListener.stream(QemuAddress.inet("127.0.0.1", 0)).group(group)
                .connectorPerGuest(guest -> {
                    L2Hub own = L2Hub.builder().name("guest-" + guest.id()).build();
                    synchronized (perGuest) {
                        perGuest.add(own);
                    }
                    guest.closeFuture().addListener(f -> own.close());
                    return port -> {
                        Attachment a = own.attach(port);
                        attached.add(port);
                        return a;
                    };
                })
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(listener);
        Recorder r1 = new Recorder();
        Channel c1 = QemuNetdev.streamClient(group, listener.localAddress(), r1).connect().syncUninterruptibly()
                .channel();
        peers.add(c1);
        Channel c2 = QemuNetdev.streamClient(group, listener.localAddress(), new Recorder()).connect()
                .syncUninterruptibly().channel();
        peers.add(c2);
        assertNotNull(attached.poll(WAIT_SECONDS, TimeUnit.SECONDS));
        assertNotNull(attached.poll(WAIT_SECONDS, TimeUnit.SECONDS));
        synchronized (perGuest) {
            assertEquals(2, perGuest.size());
            assertEquals(1, perGuest.get(0).ports().size());
            assertEquals(1, perGuest.get(1).ports().size());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loops")
    void datagramGuestsOverUdpShareAHub(String loop) throws Exception {
        start(loop);
        // guest A: the endpoint learns its peer from the first datagram
        QemuListener a = QemuListener.datagram(QemuAddress.inet("127.0.0.1", 0)).group(group).connector(tracking)
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(a);
        tracking.nextAttached();
        Recorder ra = new Recorder();
        Channel peerA = QemuNetdev.datagram(group, QemuAddress.inet("127.0.0.1", 0), a.localAddress(), ra)
                .connect().syncUninterruptibly().channel();
        peers.add(peerA);

        // guest B: the peer binds first, the endpoint is connected to it (QEMU's local address known up front)
        Recorder rb = new Recorder();
        Channel peerB = QemuNetdev.datagram(group, QemuAddress.inet("127.0.0.1", 0), null, rb).bind()
                .syncUninterruptibly().channel();
        peers.add(peerB);
        QemuListener b = QemuListener.datagram(QemuAddress.inet("127.0.0.1", 0))
                .remote(QemuAddress.of(peerB.localAddress())).group(group).connector(tracking)
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(b);
        tracking.nextAttached();
        peerB.connect(QemuNetdev.socketAddress(group, b.localAddress())).syncUninterruptibly();
        assertEquals(2, hub.ports().size());
        assertTrue(b.netdevArgument("n0").startsWith("dgram,id=n0,local.type=inet,local.host=127.0.0.1,"));
        assertTrue(b.legacyNetdevArgument("n0").startsWith("socket,id=n0,udp=127.0.0.1:"));

        byte[] hello = frame(BROADCAST, mac(1), 342, 1);
        peerA.writeAndFlush(Unpooled.wrappedBuffer(hello));
        assertArrayEquals(hello, rb.next());
        byte[] reply = frame(mac(1), mac(2), 1514, 2);
        peerB.writeAndFlush(Unpooled.wrappedBuffer(reply));
        assertArrayEquals(reply, ra.next());

        assertEquals(1, onLoop(a.channel(), QemuFrameCounters::framesIn));
        assertEquals(1, onLoop(a.channel(), QemuFrameCounters::framesOut));
        assertEquals(0, onLoop(a.channel(), QemuFrameCounters::drops));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loops")
    void datagramGuestsOverUnixShareAHubOnEpoll(String loop) throws Exception {
        start(loop);
        QemuAddress hubA = QemuAddress.unix(dir.resolve("a.sock"));
        if (!loop.equals(TestLoops.EPOLL)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> QemuListener.datagram(hubA).group(group).connector(tracking).bind());
            assertTrue(e.getMessage().contains("epoll or kqueue"), e.getMessage());
            return;
        }
        // A learns its peer from the first datagram; B is told its peer's path up front (not connected:
        // that socket does not exist yet)
        QemuListener a = QemuListener.datagram(hubA).group(group).connector(tracking)
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(a);
        QemuListener b = QemuListener.datagram(QemuAddress.unix(dir.resolve("b.sock")))
                .remote(QemuAddress.unix(dir.resolve("pb.sock"))).group(group)
                .connector(tracking).bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(b);
        tracking.nextAttached();
        tracking.nextAttached();
        assertEquals(2, hub.ports().size());

        Recorder ra = new Recorder();
        Channel peerA = QemuNetdev.datagram(group, QemuAddress.unix(dir.resolve("pa.sock")), a.localAddress(), ra)
                .connect().syncUninterruptibly().channel();
        peers.add(peerA);
        Recorder rb = new Recorder();
        Channel peerB = QemuNetdev.datagram(group, QemuAddress.unix(dir.resolve("pb.sock")), b.localAddress(), rb)
                .connect().syncUninterruptibly().channel();
        peers.add(peerB);

        byte[] hello = frame(BROADCAST, mac(1), 342, 1);
        peerA.writeAndFlush(Unpooled.wrappedBuffer(hello));
        assertArrayEquals(hello, rb.next());
        byte[] reply = frame(mac(1), mac(2), 1514, 2);
        peerB.writeAndFlush(Unpooled.wrappedBuffer(reply));
        assertArrayEquals(reply, ra.next(), "A learned peer A's path from its first datagram");
        assertEquals(0, onLoop(a.channel(), QemuFrameCounters::drops));
        assertEquals(0, onLoop(b.channel(), QemuFrameCounters::drops));
        assertEquals("dgram,id=n0,local.type=unix,local.path=" + dir.resolve("pa.sock")
                + ",remote.type=unix,remote.path=" + dir.resolve("a.sock"),
                a.netdevArgument("n0", QemuAddress.unix(dir.resolve("pa.sock"))));

        a.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
        assertFalse(Files.exists(dir.resolve("a.sock")), "the socket file goes with the endpoint");
    }

    static List<Object[]> takeoverCases() {
        List<Object[]> cases = new ArrayList<>();
        for (String loop : TestLoops.available()) {
            cases.add(new Object[] {loop, "udp", false});
            if (loop.equals(TestLoops.EPOLL)) {
                cases.add(new Object[] {loop, "unix", false});
                cases.add(new Object[] {loop, "unix", true});
            }
        }
        return cases;
    }

    /** Sees every datagram that reaches a datagram endpoint's codec, and reports it once the codec has run. */
    static final class DatagramTap extends ChannelInboundHandlerAdapter {
        final BlockingQueue<SocketAddress> senders = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            SocketAddress sender = msg instanceof AddressedEnvelope<?, ?> e ? e.sender() : null;
            ctx.fireChannelRead(msg);
            senders.add(sender);
        }

        SocketAddress next() throws InterruptedException {
            SocketAddress a = senders.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(a, "no datagram reached the endpoint within " + WAIT_SECONDS + " s");
            return a;
        }
    }

    /**
     * The takeover attempt: a datagram guest's peer is locked (to the first sender, or to the configured remote);
     * a second local socket sends frames to the endpoint; they are dropped and counted, and the LAN's traffic
     * still goes to the original peer.
     */
    @ParameterizedTest(name = "{0} {1} configured remote {2}")
    @MethodSource("takeoverCases")
    void aSecondSocketCannotTakeADatagramGuestOver(String loop, String transport, boolean configured)
            throws Exception {
        start(loop);
        Guest lan = connect(listen(QemuAddress.inet("127.0.0.1", 0)));   // another guest on the hub, by stream
        boolean unix = transport.equals("unix");
        QemuAddress ours = unix ? QemuAddress.unix(dir.resolve("ours.sock")) : QemuAddress.inet("127.0.0.1", 0);
        QemuAddress qemuAt = unix ? QemuAddress.unix(dir.resolve("qemu.sock")) : QemuAddress.inet("127.0.0.1", 0);
        QemuAddress intruderAt = unix ? QemuAddress.unix(dir.resolve("intruder.sock"))
                : QemuAddress.inet("127.0.0.1", 0);
        DatagramTap tap = new DatagramTap();
        QemuListener.Builder b = QemuListener.datagram(ours).group(group).connector(port -> {
            port.pipeline().addFirst(tap);
            return tracking.attach(port);
        });
        if (configured) {
            b.remote(qemuAt);
        }
        QemuListener endpoint = b.bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(endpoint);
        tracking.nextAttached();

        Recorder qemu = new Recorder();
        Channel vm = QemuNetdev.datagram(group, qemuAt, endpoint.localAddress(), qemu).connect()
                .syncUninterruptibly().channel();
        peers.add(vm);
        Recorder intruderSaw = new Recorder();
        Channel intruder = QemuNetdev.datagram(group, intruderAt, endpoint.localAddress(), intruderSaw).connect()
                .syncUninterruptibly().channel();
        peers.add(intruder);

        byte[] first = frame(BROADCAST, mac(5), 60, 1);
        vm.writeAndFlush(Unpooled.wrappedBuffer(first)).syncUninterruptibly();
        assertEquals(vm.localAddress(), tap.next());
        assertArrayEquals(first, lan.recorder().next());

        byte[] injected = frame(BROADCAST, mac(6), 60, 2);
        for (int i = 0; i < 3; i++) {
            intruder.writeAndFlush(Unpooled.wrappedBuffer(injected)).syncUninterruptibly();
            assertEquals(intruder.localAddress(), tap.next());
        }
        assertEquals(3, onLoop(endpoint.channel(), c -> c.drops(QemuDropReason.FOREIGN_SENDER)));
        assertEquals(1, onLoop(endpoint.channel(), QemuFrameCounters::framesIn), "only the VM's frame came in");

        // the LAN's traffic still goes to the VM, not to the intruder
        byte[] toVm = frame(mac(5), mac(2), 100, 3);
        lan.send(toVm);
        assertArrayEquals(toVm, qemu.next());
        byte[] second = frame(BROADCAST, mac(5), 80, 4);
        vm.writeAndFlush(Unpooled.wrappedBuffer(second)).syncUninterruptibly();
        assertArrayEquals(second, lan.recorder().next(), "the VM is still heard; the injected frames never were");
        assertTrue(lan.recorder().frames.isEmpty());
        assertTrue(intruderSaw.frames.isEmpty());
        assertEquals(1, onLoop(endpoint.channel(), QemuFrameCounters::framesOut));
    }
}
