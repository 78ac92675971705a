package dev.pktkit.nat;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.nat.defrag.DefragConfig;
import dev.pktkit.nat.defrag.Defragmenter;
import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.nat.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

class NatDeviceTest {
    static final String OUT = "203.0.113.1";
    static final String REMOTE = "198.51.100.7";
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private Nat nat;
    private final List<ByteBuf> held = new ArrayList<>();

    /** One end of a pipe whose other end is a NAT port; collects what the NAT sends it. */
    static final class Host extends ChannelInboundHandlerAdapter {
        final BlockingQueue<Object> got = new LinkedBlockingQueue<>();
        PacketPipe pipe;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            got.add(msg);
        }

        void send(Object b) {
            pipe.a().writeAndFlush(b);
        }

        Object takeAny() throws InterruptedException {
            Object b = got.poll(10, TimeUnit.SECONDS);
            assertNotNull(b, "nothing arrived");
            return b;
        }

        Channel port() {
            return pipe.b();
        }

        ByteBuf take() throws InterruptedException {
            Object b = takeAny();
            assertInstanceOf(ByteBuf.class, b);
            return (ByteBuf) b;
        }
    }

    private Host host() {
        Host h = new Host();
        h.pipe = PacketPipe.open(loop, h, loop, new ChannelInboundHandlerAdapter()).syncUninterruptibly().getNow();
        return h;
    }

    private ByteBuf hold(ByteBuf b) {
        held.add(b);
        return b;
    }

    @BeforeEach
    void setUp() {
        group = TestLoops.group(TestLoops.NIO, 1);
        loop = group.next();
        nat = Nat.create(loop, NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .outsideMtu(1500).insideMtu(1400).build());
    }

    @AfterEach
    void tearDown() {
        nat.close();
        held.forEach(ByteBuf::release);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A TCP packet whose checksum field holds only the pseudo-header sum (checksum offload, CHECKSUM_PARTIAL). */
    static ByteBuf tcpPartial(String src, int sport, String dst, int dport, int payload) {
        ByteBuf b = tcp(ip(src), sport, ip(dst), dport, Tcp.ACK, payload);
        b.setShort(36, partialSum(b));
        return b;
    }

    /** The folded pseudo-header sum of a TCP packet, as a partial checksum field holds it. */
    static int partialSum(ByteBuf b) {
        int off = b.readerIndex();
        int len = Ipv4.totalLength(b, off) - 20;
        return Checksums.fold(Checksums.pseudoHeaderV4(Ipv4.src(b, off), Ipv4.dst(b, off), IpProtocol.TCP, len));
    }

    @Test
    void offloadStateCrossesTheNat() throws Exception {
        Host inside = host();
        Host outside = host();
        outside.port().attr(OffloadPacket.ACCEPTS).set(true); // takes OffloadPackets as they are
        nat.attachOutside(outside.port());
        nat.attach(inside.port());
        // a large TCP segment (above both MTUs) with a partial checksum: crosses whole, still partial
        inside.send(new OffloadPacket(tcpPartial("10.0.0.2", 40000, REMOTE, 80, 6000), OffloadPacket.FLAG_NEEDS_CSUM,
                OffloadPacket.GSO_TCPV4, 40, 1448, 20, 16));
        Object got = outside.takeAny();
        assertInstanceOf(OffloadPacket.class, got);
        OffloadPacket op = (OffloadPacket) got;
        try {
            ByteBuf c = op.content();
            assertEquals(ip(OUT), src(c));
            assertEquals(40000, sport(c));
            assertEquals(6040, c.readableBytes(), "not fragmented, not refused");
            assertTrue(op.isGso());
            assertEquals(1448, op.gsoSize());
            assertTrue(op.needsChecksum());
            assertEquals(partialSum(c), c.getUnsignedShort(l4(c) + 16), "the pseudo-header sum of the new addresses");
            assertTrue(Checksums.verify(c, c.readerIndex(), 20, 0), "IP header checksum");
            assertTrue(Offloads.completeChecksum(c, op.checksumStart(), op.checksumOffset()));
            assertTrue(checksumsOk(c), "completed, it is the right checksum");
        } finally {
            op.release();
        }
        // a partial reply to an inside port that wants plain packets: translated, then completed
        outside.send(new OffloadPacket(tcpPartial(REMOTE, 80, OUT, 40000, 100), OffloadPacket.FLAG_NEEDS_CSUM,
                OffloadPacket.GSO_NONE, 0, 0, 20, 16));
        ByteBuf in = hold(inside.take());
        assertEquals(ip("10.0.0.2"), dst(in));
        assertEquals(40000, dport(in));
        assertTrue(checksumsOk(in));
        // a small packet with a partial checksum keeps its state too
        inside.send(new OffloadPacket(tcpPartial("10.0.0.2", 40000, REMOTE, 80, 1000), OffloadPacket.FLAG_NEEDS_CSUM,
                OffloadPacket.GSO_NONE, 0, 0, 20, 16));
        got = outside.takeAny();
        assertInstanceOf(OffloadPacket.class, got, "small partial packets keep their state too");
        op = (OffloadPacket) got;
        try {
            assertEquals(partialSum(op.content()), op.content().getUnsignedShort(l4(op.content()) + 16));
        } finally {
            op.release();
        }
        assertEquals(0, nat.counters().droppedTotal(), nat.counters().toString());
    }

    @Test
    void udpRoundTripPingAndForward() throws Exception {
        Host inside = host();
        Host outside = host();
        nat.attachOutside(outside.port());
        nat.attach(inside.port());
        inside.send(udp("10.0.0.2", 40000, REMOTE, 53, 20));
        ByteBuf o = hold(outside.take());
        assertEquals(ip(OUT), src(o));
        assertEquals(40000, sport(o));
        assertTrue(checksumsOk(o));
        outside.send(udp(REMOTE, 53, OUT, 40000, 20));
        ByteBuf i = hold(inside.take());
        assertEquals(ip("10.0.0.2"), dst(i));
        assertTrue(checksumsOk(i));
        inside.send(echo("10.0.0.2", "10.0.0.1", Icmpv4.TYPE_ECHO_REQUEST, 1, 1));
        ByteBuf pong = hold(inside.take());
        assertEquals(Icmpv4.TYPE_ECHO_REPLY, pong.getUnsignedByte(l4(pong)));
        NatMapping fwd = nat.addPortForward("web", IpProtocol.TCP, 8080, "10.0.0.9", 80).sync().getNow();
        assertTrue(fwd.permanent());
        Host web = host();
        nat.attach(web.port(), "web");
        outside.send(tcp(REMOTE, 5000, OUT, 8080, Tcp.SYN));
        ByteBuf syn = hold(web.take());
        assertEquals(ip("10.0.0.9"), dst(syn));
        assertEquals(80, dport(syn));
        assertTrue(nat.removePortForward(IpProtocol.TCP, 8080).sync().getNow());
        assertEquals(1, nat.mappings().sync().getNow().size());
        assertEquals(0, nat.counters().droppedTotal(), nat.counters().toString());
    }

    @Test
    void largeDatagramIsReassembledTranslatedAndRefragmentedBothWays() throws Exception {
        Host inside = host();
        Host outside = host();
        nat.attachOutside(outside.port());
        nat.attach(inside.port());
        ByteBuf big = hold(udp(ip("10.0.0.2"), 7000, ip(REMOTE), 7001, 60000, false));
        List<ByteBuf> pieces = new ArrayList<>();
        new dev.pktkit.nat.defrag.Fragmenter().fragment(big.retainedDuplicate(), 1400, pieces::add);
        pieces.forEach(inside::send);
        Defragmenter check = new Defragmenter(DefragConfig.builder().build());
        ByteBuf whole = null;
        int n = 0;
        while (whole == null) {
            ByteBuf f = outside.take();
            n++;
            assertTrue(f.readableBytes() <= 1500, "nothing above the outside MTU");
            whole = check.offer(f, UnpooledByteBufAllocator.DEFAULT);
        }
        hold(whole);
        assertTrue(n >= 41);
        assertEquals(ip(OUT), src(whole));
        assertEquals(60008, whole.readableBytes() - 20);
        assertTrue(checksumsOk(whole));
        // back: fragments of 1500 from outside, re-cut to the inside MTU of 1400
        ByteBuf reply = hold(udp(ip(REMOTE), 7001, ip(OUT), 7000, 60000, false));
        List<ByteBuf> back = new ArrayList<>();
        new dev.pktkit.nat.defrag.Fragmenter().fragment(reply.retainedDuplicate(), 1500, back::add);
        back.forEach(outside::send);
        ByteBuf in = null;
        while (in == null) {
            ByteBuf f = inside.take();
            assertTrue(f.readableBytes() <= 1400);
            in = check.offer(f, UnpooledByteBufAllocator.DEFAULT);
        }
        hold(in);
        assertEquals(ip("10.0.0.2"), dst(in));
        assertTrue(checksumsOk(in));
        assertEquals(2, nat.defragmenter().counters().reassembled());
    }

    @Test
    void tooBigWithDontFragmentGetsFragmentationNeeded() throws Exception {
        Host inside = host();
        Host outside = host();
        nat.attachOutside(outside.port());
        nat.attach(inside.port());
        inside.send(udp(ip("10.0.0.2"), 7000, ip(REMOTE), 7001, 2000, true));
        ByteBuf err = hold(inside.take());
        assertEquals(ip("10.0.0.1"), src(err), "from the NAT's inside address");
        assertEquals(ip("10.0.0.2"), dst(err));
        int icmp = l4(err);
        assertEquals(Icmpv4.TYPE_DESTINATION_UNREACHABLE, err.getUnsignedByte(icmp));
        assertEquals(Icmpv4.CODE_FRAGMENTATION_NEEDED, err.getUnsignedByte(icmp + 1));
        assertEquals(1500, Icmpv4.nextHopMtu(err, icmp));
        assertTrue(checksumsOk(err));
        assertEquals(ip("10.0.0.2"), Ipv4.src(err, icmp + 8), "quotes the packet as sent");
        assertEquals(1, nat.counters().dropped(NatDropReason.TOO_BIG));
    }

    @Test
    void namedNamespaceSharedByPortsAndDetach() throws Exception {
        Host a = host();
        Host b = host();
        Host outside = host();
        nat.attachOutside(outside.port());
        Attachment aa = nat.attach(a.port(), "t");
        Attachment bb = nat.attach(b.port(), "t");
        a.send(udp("10.0.0.2", 5000, REMOTE, 1, 0));
        hold(outside.take());
        b.send(udp("10.0.0.3", 5000, REMOTE, 1, 0));
        ByteBuf ob = hold(outside.take());
        assertNotEquals(5000, sport(ob), "same namespace: one outside port per inside endpoint");
        outside.send(udp(REMOTE, 1, OUT, sport(ob), 0));
        assertEquals(ip("10.0.0.3"), dst(hold(b.take())));
        aa.detach().sync();
        assertFalse(aa.isAttached());
        assertNull(a.pipe.b().pipeline().get(Nat.HANDLER_NAME));
        // the host behind a's port moves to b's port: its mapping follows it
        b.send(udp("10.0.0.2", 5000, REMOTE, 1, 0));
        ByteBuf again = hold(outside.take());
        assertEquals(5000, sport(again));
        outside.send(udp(REMOTE, 1, OUT, 5000, 0));
        assertEquals(ip("10.0.0.2"), dst(hold(b.take())));
        b.pipe.b().close().sync();
        bb.detach().sync(); // completes once the NAT has let go of the closed port
        nat.closeNamespace("t").sync();
        assertEquals(0, nat.mappings().sync().getNow().size());
    }

    @Test
    void portOnAnotherLoopWorks() throws Exception {
        MultiThreadIoEventLoopGroup other = TestLoops.group(TestLoops.NIO, 1);
        try {
            Host inside = new Host();
            inside.pipe = PacketPipe.open(other.next(), inside, other.next(), new ChannelInboundHandlerAdapter())
                    .sync().getNow();
            Host outside = host();
            nat.attachOutside(outside.port());
            nat.attach(inside.port());
            inside.send(udp("10.0.0.2", 40000, REMOTE, 53, 20));
            assertEquals(ip(OUT), src(hold(outside.take())));
            outside.send(udp(REMOTE, 53, OUT, 40000, 20));
            assertEquals(ip("10.0.0.2"), dst(hold(inside.take())));
        } finally {
            other.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
    }
}
