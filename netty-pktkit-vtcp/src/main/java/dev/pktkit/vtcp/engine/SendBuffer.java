package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The send queue: the application's buffers, held as written (never copied, except that writes smaller than
 * {@link #COALESCE_BELOW} bytes are gathered into engine-owned chunks so that small writes do not make small
 * segments), addressed by sequence number. Sent data stays until acknowledged; a segment is a retained slice of
 * one buffer, or a copy when it spans two or more (counted in {@link #spanningCopies}).
 */
final class SendBuffer {
    static final int COALESCE_BELOW = 1024;
    static final int CHUNK = 16 * 1024;

    private final ByteBufAllocator alloc;
    private ByteBuf[] ring = new ByteBuf[16];
    private boolean[] owned = new boolean[16];
    private int head;
    private int count;
    /** Sequence number of the first readable byte of the head buffer. */
    int headSeq;
    /** Total readable bytes held. */
    int bytes;
    long spanningCopies;

    SendBuffer(ByteBufAllocator alloc) {
        this.alloc = alloc;
    }

    void start(int seq) {
        headSeq = seq;
    }

    /** Sequence number just past the last queued byte. */
    int endSeq() {
        return headSeq + bytes;
    }

    /** Appends {@code data}, taking ownership. */
    void add(ByteBuf data) {
        int n = data.readableBytes();
        if (n == 0) {
            data.release();
            return;
        }
        if (n < COALESCE_BELOW) {
            if (count > 0) {
                int t = (head + count - 1) & (ring.length - 1);
                ByteBuf tail = ring[t];
                if (owned[t] && tail.maxWritableBytes() >= n && tail.writableBytes() >= n) {
                    Buffers.append(data, data.readerIndex(), tail, n);
                    data.release();
                    bytes += n;
                    return;
                }
            }
            ByteBuf chunk = alloc.buffer(CHUNK, CHUNK);
            Buffers.append(data, data.readerIndex(), chunk, n);
            data.release();
            push(chunk, true);
        } else {
            push(data, false);
        }
        bytes += n;
    }

    private void push(ByteBuf b, boolean own) {
        if (count == ring.length) {
            ByteBuf[] r = new ByteBuf[ring.length * 2];
            boolean[] o = new boolean[ring.length * 2];
            for (int i = 0; i < count; i++) {
                r[i] = ring[(head + i) & (ring.length - 1)];
                o[i] = owned[(head + i) & (ring.length - 1)];
            }
            ring = r;
            owned = o;
            head = 0;
        }
        int t = (head + count) & (ring.length - 1);
        ring[t] = b;
        owned[t] = own;
        count++;
    }

    /** Drops everything before {@code seq} (acknowledged). */
    void ackTo(int seq) {
        int n = seq - headSeq;
        if (n <= 0) {
            return;
        }
        n = Math.min(n, bytes);
        bytes -= n;
        headSeq += n;
        while (n > 0) {
            ByteBuf b = ring[head];
            int r = b.readableBytes();
            if (r <= n) {
                n -= r;
                if (owned[head] && count == 1 && b.writableBytes() > 0 && n == 0) {
                    // keep the owned tail chunk for later small writes
                    b.skipBytes(r);
                    return;
                }
                b.release();
                ring[head] = null;
                head = (head + 1) & (ring.length - 1);
                count--;
            } else {
                b.skipBytes(n);
                n = 0;
            }
        }
    }

    /**
     * The payload for {@code [seq, seq + len)}: a retained slice, or a copy if it spans buffers.
     */
    ByteBuf slice(int seq, int len) {
        int off = seq - headSeq;
        int i = 0;
        while (i < count) {
            ByteBuf b = ring[(head + i) & (ring.length - 1)];
            int r = b.readableBytes();
            if (off < r) {
                if (off + len <= r) {
                    return b.retainedSlice(b.readerIndex() + off, len);
                }
                break;
            }
            off -= r;
            i++;
        }
        spanningCopies++;
        ByteBuf out = alloc.buffer(len, len);
        copyInto(seq, len, out);
        return out;
    }

    /** Copies {@code [seq, seq + len)} into {@code out}. */
    void copyInto(int seq, int len, ByteBuf out) {
        int off = seq - headSeq;
        for (int i = 0; i < count && len > 0; i++) {
            ByteBuf b = ring[(head + i) & (ring.length - 1)];
            int r = b.readableBytes();
            if (off >= r) {
                off -= r;
                continue;
            }
            int n = Math.min(r - off, len);
            Buffers.append(b, b.readerIndex() + off, out, n);
            len -= n;
            off = 0;
        }
    }

    /**
     * Copies {@code [seq, seq + len)} to {@code out}'s writer index as {@link #copyInto} does, and adds the bytes
     * it moves, as 16-bit words counted from the first, to {@code sum}: the copy and the checksum in one pass.
     * Bytes of direct buffers go through {@code scratch} (read once in bulk, summed there, written once in bulk),
     * where {@link Checksums#partial(ByteBuf, int, int, long)} would read them 8 bytes per call through the
     * buffer's bounds-checked accessors after a separate copy.
     *
     * @return the new running sum, not folded
     */
    long copyIntoSummed(int seq, int len, ByteBuf out, long sum, byte[] scratch) {
        int off = seq - headSeq;
        int done = 0; // bytes summed so far: an odd count puts the next bytes at odd word offsets
        out.ensureWritable(len);
        for (int i = 0; i < count && len > 0; i++) {
            ByteBuf b = ring[(head + i) & (ring.length - 1)];
            int r = b.readableBytes();
            if (off >= r) {
                off -= r;
                continue;
            }
            int n = Math.min(r - off, len);
            int from = b.readerIndex() + off;
            len -= n;
            off = 0;
            if (b.hasArray()) {
                byte[] a = b.array();
                int ai = b.arrayOffset() + from;
                long s = Checksums.partial(a, ai, n, 0);
                sum += (done & 1) == 0 ? s : Checksums.oddOffset(s);
                out.writeBytes(a, ai, n);
                done += n;
                continue;
            }
            while (n > 0) {
                int k = Math.min(n, scratch.length);
                b.getBytes(from, scratch, 0, k);
                long s = Checksums.partial(scratch, 0, k, 0);
                sum += (done & 1) == 0 ? s : Checksums.oddOffset(s);
                out.writeBytes(scratch, 0, k);
                done += k;
                from += k;
                n -= k;
            }
        }
        return sum;
    }

    void releaseAll() {
        for (int i = 0; i < count; i++) {
            int j = (head + i) & (ring.length - 1);
            ring[j].release();
            ring[j] = null;
        }
        count = 0;
        bytes = 0;
    }
}
