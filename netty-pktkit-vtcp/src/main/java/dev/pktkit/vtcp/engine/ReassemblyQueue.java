package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.TcpOptions;
import io.netty.buffer.ByteBuf;

/**
 * Out-of-order data (RFC 9293 §3.10.7.4 seventh step: segments beyond RCV.NXT are held for later in-order
 * delivery), sorted by sequence number, overlaps trimmed on insertion, bounded in bytes by the caller. Also the
 * source of the SACK blocks we send (RFC 2018 §4).
 */
final class ReassemblyQueue {
    private int[] seqs = new int[8];
    private ByteBuf[] bufs = new ByteBuf[8];
    private int count;
    int bytes;
    /** Sequence number of the most recently inserted segment (RFC 2018 §4: the first SACK block holds it). */
    int lastSeq;
    boolean hasLast;

    boolean isEmpty() {
        return count == 0;
    }

    /**
     * Inserts {@code [seq, seq + data.readableBytes())}, taking ownership; parts already held are dropped.
     *
     * @return the bytes actually added
     */
    int insert(int seq, ByteBuf data) {
        int end = seq + data.readableBytes();
        int i = 0;
        while (i < count && Seq.le(seqs[i] + bufs[i].readableBytes(), seq)) {
            i++;
        }
        // i: first segment ending after seq
        if (i < count && Seq.le(seqs[i], seq)) {
            int e = seqs[i] + bufs[i].readableBytes();
            if (Seq.ge(e, end)) {
                data.release();
                return 0; // fully covered
            }
            int cut = e - seq;
            data.skipBytes(cut);
            seq = e;
            i++;
        }
        // remove segments fully covered by the new one, trim the first partially covered one
        int added = 0;
        while (i < count && Seq.lt(seqs[i], end)) {
            int e = seqs[i] + bufs[i].readableBytes();
            if (Seq.le(e, end)) {
                bytes -= bufs[i].readableBytes();
                bufs[i].release();
                remove(i);
            } else {
                // new data ends inside segment i: cut the new data's tail
                data.writerIndex(data.writerIndex() - (end - seqs[i]));
                end = seqs[i];
                break;
            }
        }
        if (data.readableBytes() == 0) {
            data.release();
            return 0;
        }
        insertAt(i, seq, data);
        added = data.readableBytes();
        bytes += added;
        lastSeq = seq;
        hasLast = true;
        return added;
    }

    private void remove(int i) {
        System.arraycopy(seqs, i + 1, seqs, i, count - i - 1);
        System.arraycopy(bufs, i + 1, bufs, i, count - i - 1);
        count--;
        bufs[count] = null;
    }

    private void insertAt(int i, int seq, ByteBuf b) {
        if (count == seqs.length) {
            seqs = java.util.Arrays.copyOf(seqs, count * 2);
            bufs = java.util.Arrays.copyOf(bufs, count * 2);
        }
        System.arraycopy(seqs, i, seqs, i + 1, count - i);
        System.arraycopy(bufs, i, bufs, i + 1, count - i);
        seqs[i] = seq;
        bufs[i] = b;
        count++;
    }

    /**
     * Removes and returns the segment starting at or before {@code rcvNxt} (trimmed to start at it), or
     * {@code null}; segments entirely before {@code rcvNxt} are released.
     */
    ByteBuf pollAt(int rcvNxt) {
        while (count > 0) {
            int s = seqs[0];
            if (Seq.gt(s, rcvNxt)) {
                return null;
            }
            ByteBuf b = bufs[0];
            remove(0);
            bytes -= b.readableBytes();
            int e = s + b.readableBytes();
            if (Seq.le(e, rcvNxt)) {
                b.release();
                continue;
            }
            b.skipBytes(rcvNxt - s);
            return b;
        }
        return null;
    }

    /**
     * The number of SACK blocks {@link #sackBlocks} would write with this {@code max}: the contiguous runs held,
     * at most {@code max}. Used to size a segment's payload before it is built (RFC 9293 §3.7.1).
     */
    int sackBlockCount(int max) {
        int runs = 0;
        for (int i = 0; i < count && runs < max; i++) {
            if (i == 0 || seqs[i - 1] + bufs[i - 1].readableBytes() != seqs[i]) {
                runs++;
            }
        }
        return runs;
    }

    /**
     * Writes up to {@code max} SACK blocks (left, right pairs) into {@code out}: first the block holding the most
     * recently received segment, then the others from the lowest (RFC 2018 §4 asks for the most recent ones; we
     * report the rest in order).
     *
     * @return the number of blocks
     */
    int sackBlocks(int[] out, int max) {
        int n = 0;
        int first = -1;
        if (hasLast) {
            for (int i = 0; i < count; i++) {
                if (Seq.le(seqs[i], lastSeq) && Seq.gt(seqs[i] + bufs[i].readableBytes(), lastSeq)) {
                    first = i;
                    break;
                }
            }
        }
        if (first >= 0) {
            int l = first;
            while (l > 0 && seqs[l - 1] + bufs[l - 1].readableBytes() == seqs[l]) {
                l--;
            }
            int r = first;
            while (r + 1 < count && seqs[r] + bufs[r].readableBytes() == seqs[r + 1]) {
                r++;
            }
            out[0] = seqs[l];
            out[1] = seqs[r] + bufs[r].readableBytes();
            n = 1;
        }
        int i = 0;
        while (i < count && n < max) {
            int l = i;
            while (i + 1 < count && seqs[i] + bufs[i].readableBytes() == seqs[i + 1]) {
                i++;
            }
            int left = seqs[l];
            int right = seqs[i] + bufs[i].readableBytes();
            i++;
            if (first >= 0 && left == out[0]) {
                continue;
            }
            out[2 * n] = left;
            out[2 * n + 1] = right;
            n++;
        }
        return n;
    }

    private final int[] scratch = new int[2 * TcpOptions.MAX_SACK_BLOCKS];

    /**
     * The SACK blocks that follow a D-SACK block for {@code [l, r)} (RFC 2883 §4): the run holding the duplicate,
     * if it lies in this queue, first, then the others as {@link #sackBlocks} orders them; written into
     * {@code out} from index {@code off}.
     *
     * @return the number of blocks, {@link #sackBlockCount}{@code (max)}
     */
    int sackBlocksAfterDuplicate(int[] out, int off, int max, int l, int r) {
        int n = sackBlocks(scratch, max);
        int first = -1;
        for (int i = 0; i < n; i++) {
            if (Seq.le(scratch[2 * i], l) && Seq.ge(scratch[2 * i + 1], r)) {
                first = i;
                break;
            }
        }
        int w = off;
        if (first >= 0) {
            out[w++] = scratch[2 * first];
            out[w++] = scratch[2 * first + 1];
        }
        for (int i = 0; i < n; i++) {
            if (i != first) {
                out[w++] = scratch[2 * i];
                out[w++] = scratch[2 * i + 1];
            }
        }
        return n;
    }

    void releaseAll() {
        for (int i = 0; i < count; i++) {
            bufs[i].release();
            bufs[i] = null;
        }
        count = 0;
        bytes = 0;
        hasLast = false;
    }
}
