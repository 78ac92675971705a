package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * A virtual-time network of TCP engines for tests: one event queue ordered by virtual nanoseconds, engines whose
 * clock is that time and whose scheduler queues {@code onTimer()} events, and a seeded link that can drop,
 * duplicate, corrupt, delay and reorder segments (or drop chosen ones through {@link #filter}). Every segment
 * sent is logged ({@link #log}) for assertions on what the algorithms did.
 */
final class TestNet implements AutoCloseable {
    static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    /** What the link saw: one sent segment. */
    record Sent(long time, int from, int seq, int ack, int flags, int len, int window, int ecn, boolean dropped) {
        boolean has(int f) {
            return (flags & f) != 0;
        }
    }

    /** Decides for a segment whether to drop it (after logging). */
    interface Filter {
        boolean drop(int from, ByteBuf tcp, int seq, int len, int flags);
    }

    private record Ev(long time, long order, Runnable run, ByteBuf held) {
    }

    /** The allocator of engines, link copies and test data. */
    final ByteBufAllocator alloc;
    long now;
    private long order;
    private final PriorityQueue<Ev> queue = new PriorityQueue<>((x, y) -> x.time != y.time
            ? Long.compare(x.time, y.time) : Long.compare(x.order, y.order));
    final Random rnd;
    double loss;
    double duplicate;
    double corrupt;
    long delayNanos = 5_000_000L;
    long jitterNanos;
    /** Bytes per second of the bottleneck (0: unlimited) and its queue bound in bytes (tail drop). */
    long rateBytesPerSec;
    int queueLimitBytes = Integer.MAX_VALUE;
    private final long[] linkFreeAt = new long[8];
    /** ECN: mark CE instead of dropping when the bottleneck queue exceeds this (0 = off). */
    int ceMarkAboveBytes;
    Filter filter;

    /** Extra one-way delay in nanoseconds for chosen segments (reordering them behind later ones). */
    interface Delay {
        long extra(int from, int seq, int len, int flags);
    }

    Delay extraDelay;
    /**
     * Deliver each segment inside the sender's {@link SegmentSink#send} call, as two hosts on one event loop over
     * a {@code PacketPipe} do (no delay, no loss applied).
     */
    boolean synchronous;
    /** Sees every segment sent (before any drop), must not retain it. */
    java.util.function.BiConsumer<Integer, ByteBuf> tap;
    boolean logging = true;
    final List<Sent> log = new ArrayList<>();
    final List<Node> nodes = new ArrayList<>();

    TestNet(long seed) {
        this(seed, ALLOC);
    }

    TestNet(long seed, ByteBufAllocator alloc) {
        this.rnd = new Random(seed);
        this.alloc = alloc;
    }

    /** One engine with an IPv4 address (10.0.0.index+1) on the net. */
    final class Node implements SegmentSink, TcpScheduler, TcpClock {
        final int index;
        final int address;
        final TcpEngine engine;
        final List<ByteBuf> unreachables = new ArrayList<>();

        Node(int index, TcpEngineConfig config) {
            this.index = index;
            this.address = 0x0A00_0001 + index;
            this.engine = new TcpEngine(config, this, this, this, alloc);
        }

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void wakeAt(long deadlineNanos) {
            at(Math.max(deadlineNanos, now), engine::onTimer, null);
        }

        /** Sees each payload the engine hands to {@link #send} before the sink copies it (or null). */
        java.util.function.Consumer<ByteBuf> payloadTap;

        @Override
        public void send(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn) {
            if (payload != null && payloadTap != null) {
                payloadTap.accept(payload);
            }
            ByteBuf seg;
            if (payload == null) {
                seg = header;
            } else {
                seg = alloc.directBuffer(header.readableBytes() + payload.readableBytes());
                seg.writeBytes(header).writeBytes(payload);
                header.release();
                payload.release();
            }
            if (flow.isIpv6()) {
                transmit6(this, flow.remoteLo(), seg, ecn);
            } else {
                transmit(this, flow.remoteV4(), seg, ecn);
            }
        }

        /** Large segments handed over ({@code {payload bytes, segmentSize}}), IPv4 only. */
        final List<int[]> large = new ArrayList<>();

        /**
         * Cuts a large segment as a NIC's TSO (or Linux's GSO) does: each piece gets the header with its sequence
         * number, FIN and PSH only on the last piece, CWR only on the first, and a full checksum; IPv4 only.
         */
        @Override
        public void sendLarge(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn, int segmentSize) {
            ByteBuf all = header;
            if (payload != null) {
                all = alloc.directBuffer(header.readableBytes() + payload.readableBytes());
                all.writeBytes(header).writeBytes(payload);
                header.release();
                payload.release();
            }
            int off = all.readerIndex();
            int hl = (all.getUnsignedByte(off + 12) >>> 4) << 2;
            int len = all.readableBytes() - hl;
            large.add(new int[]{len, segmentSize});
            int seq = all.getInt(off + 4);
            int flags = all.getUnsignedByte(off + 13);
            for (int done = 0; done < len; done += segmentSize) {
                int n = Math.min(segmentSize, len - done);
                boolean last = done + n == len;
                ByteBuf piece = alloc.directBuffer(hl + n);
                piece.writeBytes(all, off, hl).writeBytes(all, off + hl + done, n);
                piece.setInt(4, seq + done);
                int f = flags;
                if (!last) {
                    f &= ~(dev.pktkit.codec.wire.Tcp.FIN | dev.pktkit.codec.wire.Tcp.PSH);
                }
                if (done > 0) {
                    f &= ~dev.pktkit.codec.wire.Tcp.CWR;
                }
                piece.setByte(13, f);
                piece.setShort(16, 0);
                long pseudo = dev.pktkit.codec.wire.Checksums.pseudoHeaderV4(flow.localV4(), flow.remoteV4(),
                        dev.pktkit.codec.wire.IpProtocol.TCP, hl + n);
                piece.setShort(16, dev.pktkit.codec.wire.Checksums.finish(
                        dev.pktkit.codec.wire.Checksums.partial(piece, 0, hl + n, pseudo)));
                transmit(this, flow.remoteV4(), piece, ecn);
            }
            all.release();
        }

        @Override
        public void sendUnreachable(TcpFlow flow, ByteBuf quotedTcpHeader) {
            unreachables.add(quotedTcpHeader);
        }

        InetSocketAddress sock(int port) {
            return new InetSocketAddress(inet(address), port);
        }

        /** The node's IPv6 address 2001:db8::index+1. */
        InetSocketAddress sock6(int port) {
            byte[] b = new byte[16];
            b[0] = 0x20;
            b[1] = 0x01;
            b[2] = 0x0d;
            b[3] = (byte) 0xb8;
            b[15] = (byte) (index + 1);
            try {
                return new InetSocketAddress(InetAddress.getByAddress(b), port);
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
    }

    Node node(TcpEngineConfig config) {
        Node n = new Node(nodes.size(), config);
        nodes.add(n);
        return n;
    }

    Node node() {
        return node(new TcpEngineConfig().secret(new byte[32]));
    }

    static InetAddress inet(int a) {
        try {
            return InetAddress.getByAddress(new byte[]{(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8),
                    (byte) a});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private Node byAddress(int a) {
        for (Node n : nodes) {
            if (n.address == a) {
                return n;
            }
        }
        return null;
    }

    void at(long time, Runnable r, ByteBuf held) {
        queue.add(new Ev(time, order++, r, held));
    }

    private void transmit(Node from, int dst, ByteBuf seg, int ecn) {
        if (synchronous) {
            Node to = byAddress(dst);
            if (to == null) {
                seg.release();
            } else {
                to.engine.input4(seg, from.address, dst, ecn, false);
            }
            return;
        }
        int off = seg.readerIndex();
        int seq = seg.getInt(off + 4);
        int flags = seg.getUnsignedShort(off + 12) & 0x1FF;
        int len = seg.readableBytes() - ((seg.getUnsignedByte(off + 12) >>> 4) << 2);
        if (tap != null) {
            tap.accept(from.index, seg);
        }
        boolean drop = filter != null && filter.drop(from.index, seg, seq, len, flags);
        if (!drop && loss > 0 && rnd.nextDouble() < loss) {
            drop = true;
        }
        long depart = now;
        int ceEcn = ecn;
        if (!drop && rateBytesPerSec > 0) {
            long free = Math.max(linkFreeAt[from.index], now);
            long backlogBytes = (free - now) * rateBytesPerSec / 1_000_000_000L;
            if (backlogBytes + seg.readableBytes() > queueLimitBytes) {
                drop = true;
            } else {
                if (ceMarkAboveBytes > 0 && backlogBytes > ceMarkAboveBytes && ecn != 0) {
                    ceEcn = 3;
                }
                free += seg.readableBytes() * 1_000_000_000L / rateBytesPerSec;
                linkFreeAt[from.index] = free;
                depart = free;
            }
        }
        if (logging) {
            log.add(new Sent(now, from.index, seq, seg.getInt(off + 8), flags, len, seg.getUnsignedShort(off + 14),
                    ecn, drop));
        }
        Node to = byAddress(dst);
        if (drop || to == null) {
            seg.release();
            return;
        }
        if (corrupt > 0 && rnd.nextDouble() < corrupt) {
            int i = off + rnd.nextInt(seg.readableBytes());
            seg.setByte(i, seg.getByte(i) ^ (1 << rnd.nextInt(8)));
        }
        int copies = duplicate > 0 && rnd.nextDouble() < duplicate ? 2 : 1;
        long extra = extraDelay == null ? 0 : extraDelay.extra(from.index, seq, len, flags);
        for (int c = 0; c < copies; c++) {
            ByteBuf b = c == copies - 1 ? seg : seg.copy();
            long t = depart + delayNanos + extra + (jitterNanos > 0 ? (long) (rnd.nextDouble() * jitterNanos) : 0);
            int src = from.address;
            int e = ceEcn;
            at(t, () -> to.engine.input4(b, src, dst, e, false), b);
        }
    }

    static final long V6_HI = 0x2001_0db8_0000_0000L;

    private void transmit6(Node from, long dstLo, ByteBuf seg, int ecn) {
        if (logging) {
            int off = seg.readerIndex();
            log.add(new Sent(now, from.index, seg.getInt(off + 4), seg.getInt(off + 8),
                    seg.getUnsignedShort(off + 12) & 0x1FF,
                    seg.readableBytes() - ((seg.getUnsignedByte(off + 12) >>> 4) << 2),
                    seg.getUnsignedShort(off + 14), ecn, false));
        }
        Node to = dstLo >= 1 && dstLo <= nodes.size() ? nodes.get((int) dstLo - 1) : null;
        if (to == null || (loss > 0 && rnd.nextDouble() < loss)) {
            seg.release();
            return;
        }
        long srcLo = from.index + 1;
        at(now + delayNanos, () -> to.engine.input6(seg, V6_HI, srcLo, V6_HI, dstLo, ecn, false), seg);
    }

    /** Injects a raw segment into {@code to} as if from {@code srcAddress}, after the link delay. */
    void inject(Node to, int srcAddress, ByteBuf seg) {
        at(now, () -> to.engine.input4(seg, srcAddress, to.address, 0, false), seg);
    }

    /** Runs events until {@code done} holds or virtual time passes {@code limitNanos} from now. */
    boolean runUntil(BooleanSupplier done, long limitNanos) {
        long end = now + limitNanos;
        while (!done.getAsBoolean()) {
            Ev e = queue.peek();
            if (e == null || e.time > end) {
                now = Math.max(now, Math.min(end, e == null ? end : e.time));
                return done.getAsBoolean();
            }
            queue.poll();
            now = Math.max(now, e.time);
            e.run.run();
        }
        return true;
    }

    /** Runs all events up to {@code nanos} from now. */
    void runFor(long nanos) {
        runUntil(() -> false, nanos);
    }

    List<Sent> sentBy(int node) {
        List<Sent> r = new ArrayList<>();
        for (Sent s : log) {
            if (s.from == node) {
                r.add(s);
            }
        }
        return r;
    }

    static boolean isData(Sent s) {
        return s.len > 0;
    }

    static boolean isSyn(Sent s) {
        return s.has(Tcp.SYN);
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            n.engine.close();
            for (ByteBuf b : n.unreachables) {
                b.release();
            }
            n.unreachables.clear();
        }
        Ev e;
        while ((e = queue.poll()) != null) {
            if (e.held != null && e.held.refCnt() > 0) {
                e.held.release();
            }
        }
    }
}
