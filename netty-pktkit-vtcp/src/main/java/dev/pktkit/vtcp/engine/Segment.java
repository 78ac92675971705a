package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.TcpOptions;
import io.netty.buffer.ByteBuf;

/**
 * One inbound segment parsed in a single pass over its header and options (RFC 9293 §3.1–3.2), reused by the
 * engine for every segment so that parsing allocates nothing.
 */
final class Segment {
    ByteBuf buf;
    int off;
    int hl;
    int seq;
    int ack;
    int flags;
    int wnd;
    int payloadOff;
    int payloadLen;
    int ecn;
    int srcPort;
    int dstPort;
    // options
    int mss;
    int wscale;
    boolean sackOk;
    boolean hasTs;
    int tsVal;
    int tsEcr;
    int sackBlocks;
    final int[] sack = new int[2 * TcpOptions.MAX_SACK_BLOCKS];

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Sequence space the segment occupies: data plus one for SYN and one for FIN. */
    int seqLen() {
        return payloadLen + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
    }

    /**
     * Parses the segment at {@code buf.readerIndex()}.
     *
     * @return null when it parsed, else the drop reason
     */
    DropReason parse(ByteBuf b) {
        buf = b;
        off = b.readerIndex();
        int len = b.readableBytes();
        if (len < Tcp.MIN_HEADER_LENGTH) {
            return DropReason.MALFORMED_HEADER;
        }
        hl = (b.getUnsignedByte(off + 12) >>> 4) << 2;
        if (hl < Tcp.MIN_HEADER_LENGTH || hl > len) {
            return DropReason.MALFORMED_HEADER;
        }
        srcPort = b.getUnsignedShort(off);
        dstPort = b.getUnsignedShort(off + 2);
        seq = b.getInt(off + 4);
        ack = b.getInt(off + 8);
        flags = b.getUnsignedShort(off + 12) & 0x1FF;
        wnd = b.getUnsignedShort(off + 14);
        payloadOff = off + hl;
        payloadLen = len - hl;
        mss = -1;
        wscale = -1;
        sackOk = false;
        hasTs = false;
        sackBlocks = 0;
        int end = off + hl;
        for (int p = off + Tcp.MIN_HEADER_LENGTH; p < end; ) {
            int kind = b.getUnsignedByte(p);
            if (kind == TcpOptions.KIND_EOL) {
                break;
            }
            if (kind == TcpOptions.KIND_NOP) {
                p++;
                continue;
            }
            if (end - p < 2) {
                return DropReason.MALFORMED_OPTION;
            }
            int ol = b.getUnsignedByte(p + 1);
            if (ol < 2 || ol > end - p) {
                return DropReason.MALFORMED_OPTION;
            }
            switch (kind) {
                case TcpOptions.KIND_MSS -> {
                    if (ol != TcpOptions.MSS_LENGTH) {
                        return DropReason.MALFORMED_OPTION;
                    }
                    mss = b.getUnsignedShort(p + 2);
                }
                case TcpOptions.KIND_WINDOW_SCALE -> {
                    if (ol != TcpOptions.WINDOW_SCALE_LENGTH) {
                        return DropReason.MALFORMED_OPTION;
                    }
                    wscale = b.getUnsignedByte(p + 2);
                }
                case TcpOptions.KIND_SACK_PERMITTED -> {
                    if (ol != TcpOptions.SACK_PERMITTED_LENGTH) {
                        return DropReason.MALFORMED_OPTION;
                    }
                    sackOk = true;
                }
                case TcpOptions.KIND_TIMESTAMPS -> {
                    if (ol != TcpOptions.TIMESTAMPS_LENGTH) {
                        return DropReason.MALFORMED_OPTION;
                    }
                    hasTs = true;
                    tsVal = b.getInt(p + 2);
                    tsEcr = b.getInt(p + 6);
                }
                case TcpOptions.KIND_SACK -> {
                    if (ol < 10 || ((ol - 2) & 7) != 0 || ol > 2 + 8 * TcpOptions.MAX_SACK_BLOCKS) {
                        return DropReason.MALFORMED_OPTION;
                    }
                    int n = (ol - 2) >>> 3;
                    for (int i = 0; i < n; i++) {
                        sack[2 * i] = b.getInt(p + 2 + 8 * i);
                        sack[2 * i + 1] = b.getInt(p + 6 + 8 * i);
                    }
                    sackBlocks = n;
                }
                default -> {
                    // unknown options are ignored (RFC 9293 §3.1, MUST-68)
                }
            }
            p += ol;
        }
        return null;
    }
}
