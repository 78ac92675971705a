package dev.pktkit.qemu;

import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PortConnector;
import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real QEMU (no guest OS) on each socket netdev variant against this module's endpoints. SeaBIOS boots the
 * virtio NIC's iPXE option ROM ({@code -boot n}), which broadcasts DHCP DISCOVERs from the NIC's MAC. Each test
 * proves one variant both ways: it receives such a DISCOVER (well-formed down to the DHCP options, checksums
 * verified) through our codec, answers with an OFFER through the same channel, and receives iPXE's REQUEST for
 * the offered address.
 *
 * <p>Our side starts first (QEMU 7.2's stream client neither retries nor reports a failed connect). Every wait
 * is bounded; QEMU is killed after each test. Skipped when {@code qemu-system-x86_64} or iPXE's ROM is missing.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class QemuPeerInteropTest {
    /** The NIC's MAC as QEMU is told it; iPXE's DISCOVERs come from it. */
    static final long GUEST_MAC = 0x5254_0012_3456L;
    static final String GUEST_MAC_TEXT = "52:54:00:12:34:56";
    /** TCG boots SeaBIOS and iPXE in about 3 s here; allow for a loaded CI machine. */
    static final long DHCP_WAIT_SECONDS = 90;
    static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    static final long SERVER_MAC = 0x0200_0000_0001L;
    /** 10.0.2.2 and 10.0.2.15, as in QEMU's own user network. */
    static final int SERVER_IP = 0x0A00_0202;
    static final int OFFERED_IP = 0x0A00_020F;

    private static String qemu;
    private static MultiThreadIoEventLoopGroup group;

    @TempDir
    Path dir;

    private Process process;
    private Path console;
    private final List<QemuListener> listeners = new ArrayList<>();
    private final List<Channel> channels = new ArrayList<>();
    private final Capture capture = new Capture();

    @BeforeAll
    static void setUpClass() {
        qemu = Tools.assumeCommand("qemu-system-x86_64", "qemu-system-x86");
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/qemu/efi-virtio.rom"))
                        || Files.exists(Path.of("/usr/lib/ipxe/qemu/efi-virtio.rom")),
                "iPXE's virtio option ROM is missing (Debian package ipxe-qemu); .ci/run installs it");
        // Unix datagram sockets need epoll; everything else runs on it too
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "the epoll transport is missing");
        group = TestLoops.group(TestLoops.EPOLL, 1);
    }

    @AfterAll
    static void tearDownClass() {
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            stopQemu();
        } finally {
            for (Channel c : channels) {
                c.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            for (QemuListener l : listeners) {
                l.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Records every frame of every guest channel attached to it (one sharable recorder for all). */
    static final class Capture implements PortConnector {
        final Recorder recorder = new Recorder();
        final BlockingQueue<Channel> guests = new LinkedBlockingQueue<>();

        @Override
        public Attachment attach(Channel port) {
            port.pipeline().addLast(recorder);
            guests.add(port);
            return new Attachment() {
                @Override
                public Channel port() {
                    return port;
                }

                @Override
                public boolean isAttached() {
                    return port.pipeline().context(recorder) != null;
                }

                @Override
                public Future<Void> detach() {
                    port.pipeline().remove(recorder);
                    return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
                }
            };
        }
    }

    // ---- the variants ----

    @Test
    void streamOverUnix() throws Exception {
        QemuListener l = listen(QemuListener.stream(QemuAddress.unix(dir.resolve("vm.sock"))));
        startQemu(l.netdevArgument("n0"));
        expectDhcpExchange();
        assertEquals(1, l.guestCount());
    }

    @Test
    void streamOverTcp() throws Exception {
        QemuListener l = listen(QemuListener.stream(QemuAddress.inet("127.0.0.1", 0)));
        String arg = l.netdevArgument("n0");
        assertTrue(arg.startsWith("stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port="), arg);
        startQemu(arg);
        expectDhcpExchange();
    }

    @Test
    void legacySocketConnect() throws Exception {
        QemuListener l = listen(QemuListener.stream(QemuAddress.inet("127.0.0.1", 0)));
        startQemu(l.legacyNetdevArgument("n0"));
        expectDhcpExchange();
    }

    @Test
    void datagramOverUdp() throws Exception {
        QemuAddress qemuLocal = QemuAddress.inet("127.0.0.1", freeUdpPort());
        QemuListener l = listen(QemuListener.datagram(QemuAddress.inet("127.0.0.1", 0)).remote(qemuLocal));
        startQemu(l.netdevArgument("n0"));
        expectDhcpExchange();
    }

    @Test
    void datagramOverUnix() throws Exception {
        QemuAddress qemuLocal = QemuAddress.unix(dir.resolve("qemu.sock"));
        // no remote: QEMU's socket does not exist yet; the endpoint learns it from the first datagram
        QemuListener l = listen(QemuListener.datagram(QemuAddress.unix(dir.resolve("ours.sock"))));
        startQemu(l.netdevArgument("n0", qemuLocal));
        expectDhcpExchange();
    }

    @Test
    void legacySocketUdp() throws Exception {
        QemuAddress qemuLocal = QemuAddress.inet("127.0.0.1", freeUdpPort());
        QemuListener l = listen(QemuListener.datagram(QemuAddress.inet("127.0.0.1", 0)).remote(qemuLocal));
        String arg = l.legacyNetdevArgument("n0");
        assertTrue(arg.startsWith("socket,id=n0,udp=127.0.0.1:"), arg);
        startQemu(arg);
        expectDhcpExchange();
    }

    @Test
    void streamClientToAListeningQemu() throws Exception {
        Path sock = dir.resolve("qemu-listens.sock");
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            startQemu(QemuNetdev.streamServerArgument("n0", QemuAddress.unix(sock)));
            awaitFile(watch, sock);
        }
        Channel ch = QemuNetdev.streamClient(group, QemuAddress.unix(sock), null).connect()
                .syncUninterruptibly().channel();
        channels.add(ch);
        capture.attach(ch);
        expectDhcpExchange();
    }

    // ---- helpers ----

    private QemuListener listen(QemuListener.Builder b) throws Exception {
        QemuListener l = b.group(group).connector(capture).bind().get(10, TimeUnit.SECONDS);
        listeners.add(l);
        return l;
    }

    private void startQemu(String netdev) throws IOException {
        console = dir.resolve("qemu.log");
        process = new ProcessBuilder(qemu, "-accel", "tcg", "-nographic", "-nodefaults", "-no-reboot",
                "-boot", "n", "-device", "virtio-net-pci,netdev=n0,mac=" + GUEST_MAC_TEXT, "-netdev", netdev)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(console.toFile())
                .start();
    }

    private void stopQemu() throws Exception {
        if (process == null) {
            return;
        }
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private String consoleText() throws IOException {
        return console != null && Files.exists(console) ? Files.readString(console) : "";
    }

    /**
     * The exchange every variant must pass: iPXE broadcasts a DISCOVER; we answer through the same channel with
     * an OFFER; iPXE requests the offered address. Frames thus travel both ways through our codec.
     */
    private void expectDhcpExchange() throws Exception {
        ByteBuf discover = expectDhcp(Dhcp4.DISCOVER);
        long xid = Dhcp4.xid(discover, dhcpOffset(discover));
        Channel guest = capture.guests.poll(5, TimeUnit.SECONDS);
        assertNotNull(guest, "no guest channel");
        guest.writeAndFlush(offer(xid)).syncUninterruptibly();
        ByteBuf request = expectDhcp(Dhcp4.REQUEST);
        int dhcp = dhcpOffset(request);
        int len = request.writerIndex() - dhcp;
        assertEquals(xid, Dhcp4.xid(request, dhcp), "the REQUEST answers our OFFER");
        assertEquals(OFFERED_IP, Dhcp4.requestedIp(request, dhcp, len), "for the address we offered");
        assertEquals(SERVER_IP, Dhcp4.serverId(request, dhcp, len), "from us");
        QemuFrameCounters counters = QemuFrameCounters.of(guest);
        assertTrue(counters.framesIn() >= 2 && counters.framesOut() == 1 && counters.drops() == 0, counters::toString);
    }

    /** Waits for a DHCP message of {@code type} from the guest MAC; other frames are skipped. */
    private ByteBuf expectDhcp(int type) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DHCP_WAIT_SECONDS);
        int seen = 0;
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            byte[] frame = capture.recorder.frames.poll(left, TimeUnit.NANOSECONDS);
            if (frame == null) {
                break;
            }
            seen++;
            ByteBuf f = Unpooled.wrappedBuffer(frame);
            if (isDhcpFromGuest(f, GUEST_MAC, type)) {
                return f;
            }
            if (!process.isAlive()) {
                break;
            }
        }
        return fail("no DHCP message type " + type + " from " + GUEST_MAC_TEXT + " within " + DHCP_WAIT_SECONDS
                + " s (" + seen + " other frames; QEMU " + (process.isAlive() ? "running" : "exited "
                + process.exitValue()) + "); QEMU output:\n" + consoleText());
    }

    /**
     * Whether {@code f} is an untagged broadcast Ethernet frame from {@code mac} carrying a valid IPv4/UDP
     * (checksums verified) DHCP client message of {@code type}, 68 to 67, whose chaddr is {@code mac}.
     */
    static boolean isDhcpFromGuest(ByteBuf f, long mac, int type) {
        int off = f.readerIndex();
        if (Ethernet.check(f, off) != Ethernet.HEADER_LENGTH || Ethernet.dst(f, off) != BROADCAST
                || Ethernet.src(f, off) != mac || Ethernet.etherType(f, off) != Ethernet.IPV4) {
            return false;
        }
        int ip = off + Ethernet.HEADER_LENGTH;
        int udpLength = Udp.checkInPacket(f, ip);
        if (udpLength < 0) {
            return false;
        }
        int udp = ip + Ipv4.headerLength(f, ip);
        if (Udp.srcPort(f, udp) != Dhcp4.CLIENT_PORT || Udp.dstPort(f, udp) != Dhcp4.SERVER_PORT) {
            return false;
        }
        int dhcp = udp + Udp.HEADER_LENGTH;
        int dhcpLength = udpLength - Udp.HEADER_LENGTH;
        return Dhcp4.check(f, dhcp, dhcpLength) == dhcpLength
                && Dhcp4.op(f, dhcp) == Dhcp4.OP_REQUEST
                && Dhcp4.messageType(f, dhcp, dhcpLength) == type
                && Dhcp4.chaddr(f, dhcp) == mac;
    }

    private static int dhcpOffset(ByteBuf f) {
        int ip = f.readerIndex() + Ethernet.HEADER_LENGTH;
        return ip + Ipv4.headerLength(f, ip) + Udp.HEADER_LENGTH;
    }

    /** A broadcast DHCP OFFER of {@link #OFFERED_IP} for transaction {@code xid}, from {@link #SERVER_IP}. */
    static ByteBuf offer(long xid) {
        ByteBuf dhcp = Unpooled.buffer();
        ByteBuf frame = Unpooled.buffer();
        try {
            Dhcp4.writeFixed(dhcp, Dhcp4.OP_REPLY, xid, 0, 0, 0, OFFERED_IP, SERVER_IP, 0, GUEST_MAC);
            Dhcp4.writeByteOption(dhcp, Dhcp4Option.MESSAGE_TYPE, Dhcp4.OFFER);
            Dhcp4.writeIntOption(dhcp, Dhcp4Option.SERVER_IDENTIFIER, SERVER_IP);
            Dhcp4.writeIntOption(dhcp, Dhcp4Option.LEASE_TIME, 3600);
            Dhcp4.writeIntOption(dhcp, Dhcp4Option.SUBNET_MASK, 0xFFFF_FF00);
            Dhcp4.writeIntOption(dhcp, Dhcp4Option.ROUTER, SERVER_IP);
            Dhcp4.writeEnd(dhcp, 0);
            Ethernet.writeHeader(frame, BROADCAST, SERVER_MAC, Ethernet.IPV4);
            int udpLength = Udp.HEADER_LENGTH + dhcp.readableBytes();
            Ipv4.writeHeader(frame, SERVER_IP, 0xFFFF_FFFF, IpProtocol.UDP, 64, udpLength, 1, false);
            Udp.writeDatagramV4(frame, SERVER_IP, 0xFFFF_FFFF, Dhcp4.SERVER_PORT, Dhcp4.CLIENT_PORT, dhcp, 0,
                    dhcp.readableBytes());
            return frame.retain();
        } finally {
            dhcp.release();
            frame.release();
        }
    }

    @Test
    void dhcpCheckAcceptsOnlyTheGuestsMessagesOfTheType() {
        assertFalse(isDhcpFromGuest(Unpooled.wrappedBuffer(Frames.frame(BROADCAST, GUEST_MAC, 342, 1)), GUEST_MAC,
                Dhcp4.DISCOVER), "not DHCP");
        ByteBuf offer = offer(0x1234);
        try {
            assertFalse(isDhcpFromGuest(offer, SERVER_MAC, Dhcp4.OFFER), "a server message, op 2");
            assertEquals(342, offer.readableBytes());
            int dhcp = dhcpOffset(offer);
            assertEquals(Dhcp4.OFFER, Dhcp4.messageType(offer, dhcp, offer.writerIndex() - dhcp));
            assertTrue(Udp.checkInPacket(offer, Ethernet.HEADER_LENGTH) > 0, "checksums of our OFFER are valid");
        } finally {
            offer.release();
        }
    }

    /** A UDP port free right now on loopback, for QEMU to bind (it cannot report an ephemeral one). */
    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitFile(WatchService watch, Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(file)) {
            long left = deadline - System.nanoTime();
            WatchKey key = left > 0 ? watch.poll(left, TimeUnit.NANOSECONDS) : null;
            assertNotNull(key, "QEMU did not create " + file + " within 30 s; output:\n" + consoleText());
            key.pollEvents();
            key.reset();
        }
    }
}
