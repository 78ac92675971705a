package dev.pktkit.nat;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.WrappedByteBuf;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static dev.pktkit.nat.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The engine's NIO fast path (direct buffers without a memory address: JDK 25's default) against its general
 * path (heap buffers): the same seeded traffic — established and new flows both ways, TCP flags, zero UDP
 * checksums, partial checksums, hairpins, packets to the NAT itself, bad sources, headers with options,
 * fragments, corrupted and truncated headers — goes through two engines made alike, one fed heap copies and one
 * direct copies (pooled, unpooled, a one-component composite, a two-component composite, Netty 4.2's default
 * adaptive allocator): every verdict, every byte and every counter must be equal. A counting wrapper proves the
 * pooled copies did take the NIO view, and that the adaptive ones (whose view would be made anew per buffer use,
 * an allocation) did not: they take the same fast path through the buffer's getters.
 */
class NatFastPathTest {
    private static final String OUT = "203.0.113.1";
    private static final int[] INSIDE = {ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.4")};
    private static final int[] REMOTES = {ip("198.51.100.7"), ip("198.51.100.8")};

    /** A direct buffer that counts the NIO views taken from it. */
    static final class Counting extends WrappedByteBuf {
        static int views;

        Counting(ByteBuf buf) {
            super(buf);
        }

        @Override
        public ByteBuffer internalNioBuffer(int index, int length) {
            views++;
            return super.internalNioBuffer(index, length);
        }
    }

    private static NatEngine engine() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_DEPENDENT).build(), true);
        e.seed(42);
        return e;
    }

    private static final AdaptiveByteBufAllocator ADAPTIVE = new AdaptiveByteBufAllocator(true, false);

    private static ByteBuf direct(byte[] bytes, int kind) {
        switch (kind) {
            case 0:
                return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
            case 1:
                return UnpooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
            case 2: {
                CompositeByteBuf c = Unpooled.compositeBuffer();
                c.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes));
                return c;
            }
            case 3: {
                int cut = Math.min(bytes.length, 17);
                CompositeByteBuf c = Unpooled.compositeBuffer();
                c.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(cut).writeBytes(bytes, 0, cut));
                c.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length - cut)
                        .writeBytes(bytes, cut, bytes.length - cut));
                return c;
            }
            case 5:
                return new Counting(ADAPTIVE.directBuffer(bytes.length).writeBytes(bytes));
            default:
                return new Counting(PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes));
        }
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = ByteBufUtil.getBytes(b);
        b.release();
        return a;
    }

    @Test
    void theNioViewIsOnWithoutUnsafe() {
        // the tests run on JDK 25 defaults (no Unsafe): the fast path must be on, or the tests below prove nothing
        assertEquals(!io.netty.util.internal.PlatformDependent.hasUnsafe(), NatEngine.NIO_VIEW);
    }

    @Test
    void directAndHeapBuffersTranslateAlike() {
        NatEngine heap = engine();
        NatEngine dir = engine();
        int hp = heap.addPort(heap.openNamespace());
        int dp = dir.addPort(dir.openNamespace());
        assertEquals(hp, dp);
        SplittableRandom rnd = new SplittableRandom(7);
        Counting.views = 0;
        int counted = 0;
        int translated = 0;
        for (int i = 0; i < 20_000; i++) {
            boolean tcp = rnd.nextBoolean();
            boolean out = rnd.nextInt(3) != 0;
            int inside = INSIDE[rnd.nextInt(INSIDE.length)];
            int remote = REMOTES[rnd.nextInt(REMOTES.length)];
            int inPort = 40000 + rnd.nextInt(4);
            int rPort = rnd.nextBoolean() ? 80 : 53;
            int flags = tcp ? new int[]{Tcp.ACK, Tcp.ACK, Tcp.ACK | Tcp.PSH, Tcp.SYN, Tcp.SYN | Tcp.ACK, Tcp.FIN | Tcp.ACK,
                    Tcp.RST}[rnd.nextInt(7)] : 0;
            int payload = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(1, 200);
            ByteBuf p;
            if (out) {
                int dst = rnd.nextInt(40) == 0 ? ip(OUT) : rnd.nextInt(60) == 0 ? ip("10.0.0.1")
                        : rnd.nextInt(60) == 0 ? ip("224.0.0.5") : remote;
                int src = rnd.nextInt(60) == 0 ? ip("127.0.0.1") : inside;
                p = tcp ? tcp(src, inPort, dst, rPort, flags, payload) : udp(src, inPort, dst, rPort, payload, true);
            } else {
                int dport = rnd.nextInt(10) == 0 ? 40009 : inPort;
                p = tcp ? tcp(remote, rPort, ip(OUT), dport, flags, payload) : udp(remote, rPort, ip(OUT), dport, payload,
                        false);
            }
            if (!tcp && rnd.nextInt(8) == 0) {
                p.setShort(26, 0); // no UDP checksum
            }
            boolean partial = rnd.nextInt(6) == 0;
            byte[] a = bytes(p);
            switch (rnd.nextInt(24)) {
                case 0 -> a[rnd.nextInt(20)] ^= (byte) (1 << rnd.nextInt(8)); // a header bit flipped
                case 1 -> a[6] |= 0x20; // MF: a fragment
                case 2 -> a = java.util.Arrays.copyOf(a, rnd.nextInt(a.length)); // truncated
                case 3 -> a[3] += 4; // total length beyond the buffer
                default -> {
                }
            }
            int kind = rnd.nextInt(6);
            ByteBuf h = Unpooled.wrappedBuffer(a.clone());
            ByteBuf d = direct(a, kind);
            int vh = out ? heap.outbound(h, hp, partial) : heap.inbound(h, partial);
            int vd = out ? dir.outbound(d, dp, partial) : dir.inbound(d, partial);
            assertEquals(vh, vd, "verdict of packet " + i);
            assertArrayEquals(ByteBufUtil.getBytes(h), ByteBufUtil.getBytes(d), "bytes of packet " + i);
            if (kind == 4) {
                counted++;
            }
            if (vh == NatEngine.TO_OUTSIDE || vh >= 0) {
                translated++;
            }
            h.release();
            d.release();
        }
        assertEquals(heap.counters().toString(), dir.counters().toString());
        assertEquals(heap.mappingCount(), dir.mappingCount());
        assertEquals(heap.sessionCount(), dir.sessionCount());
        assertTrue(translated > 5000, "translated " + translated);
        if (NatEngine.NIO_VIEW) {
            assertTrue(Counting.views > counted / 2, "NIO views " + Counting.views + " of " + counted);
        }
    }

    @Test
    void establishedFlowsTakeTheNioViewAndStayValid() {
        NatEngine e = engine();
        int port = e.addPort(e.openNamespace());
        ByteBuf syn = Unpooled.wrappedBuffer(bytes(tcp(INSIDE[0], 40000, REMOTES[0], 80, Tcp.SYN, 0)));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(syn, port));
        syn.release();
        ByteBuf u0 = Unpooled.wrappedBuffer(bytes(udp(INSIDE[0], 40001, REMOTES[0], 53, 10, true)));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(u0, port));
        u0.release();
        Counting.views = 0;
        ByteBuf t = direct(bytes(tcp(INSIDE[0], 40000, REMOTES[0], 80, Tcp.ACK, 100)), 4);
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(t, port));
        assertEquals(ip(OUT), src(t));
        assertTrue(checksumsOk(t));
        t.release();
        ByteBuf u = direct(bytes(udp(INSIDE[0], 40001, REMOTES[0], 53, 30, true)), 4);
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(u, port));
        assertEquals(ip(OUT), src(u));
        assertEquals(40001, sport(u));
        assertTrue(checksumsOk(u));
        u.release();
        ByteBuf r = direct(bytes(tcp(REMOTES[0], 80, ip(OUT), 40000, Tcp.SYN | Tcp.ACK, 0)), 4);
        assertEquals(port, e.inbound(r));
        assertEquals(INSIDE[0], dst(r));
        assertEquals(40000, dport(r));
        assertTrue(checksumsOk(r));
        r.release();
        assertTrue(e.isEstablished(new FlowKey(0, IpProtocol.TCP, INSIDE[0], 40000, REMOTES[0], 80)));
        assertEquals(NatEngine.NIO_VIEW ? 3 : 0, Counting.views);
        assertEquals(4, e.counters().outbound());
        assertEquals(1, e.counters().inbound());

        // the same flows in buffers of the adaptive allocator: translated, and no NIO view taken
        ByteBuf ta = direct(bytes(tcp(INSIDE[0], 40000, REMOTES[0], 80, Tcp.ACK, 100)), 5);
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(ta, port));
        assertEquals(ip(OUT), src(ta));
        assertTrue(checksumsOk(ta));
        ta.release();
        ByteBuf ra = direct(bytes(tcp(REMOTES[0], 80, ip(OUT), 40000, Tcp.ACK, 20)), 5);
        assertEquals(port, e.inbound(ra));
        assertEquals(INSIDE[0], dst(ra));
        assertEquals(40000, dport(ra));
        assertTrue(checksumsOk(ra));
        ra.release();
        assertEquals(NatEngine.NIO_VIEW ? 3 : 0, Counting.views, "no view of an adaptive buffer");
        assertEquals(5, e.counters().outbound());
        assertEquals(2, e.counters().inbound());
    }
}
