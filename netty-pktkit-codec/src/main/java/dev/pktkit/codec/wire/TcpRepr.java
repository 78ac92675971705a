package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;

/**
 * A parsed TCP segment with the options this toolkit understands and the payload, for control paths and tests.
 * The data offset and checksum are not components: the emitters compute them. Unknown options are not kept.
 *
 * <p>{@link #emit} lays options out as Linux does, so that a SYN built from a repr matches Linux's bytes: MSS;
 * SACK-permitted and timestamps ({@code 04 02 08 0a ...}, or a NOP pair before either alone); NOP and window
 * scale; a NOP pair and the SACK blocks; EOL padding to a multiple of 4. When that aligned layout would not fit
 * in 40 bytes the options are packed without NOPs.
 *
 * @param srcPort       source port 0..65535
 * @param dstPort       destination port 0..65535
 * @param seq           sequence number 0..2^32-1
 * @param ack           acknowledgment number 0..2^32-1
 * @param flags         flag bits ({@link Tcp#FIN} ... {@link Tcp#AE})
 * @param window        window field (unscaled) 0..65535
 * @param urgentPointer urgent pointer 0..65535
 * @param mss           MSS option value 0..65535, or -1 for none
 * @param windowScale   window scale shift count 0..255, or -1 for none
 * @param sackPermitted whether the SACK-permitted option is present
 * @param sackBlocks    SACK edges left0, right0, left1, ... (0 to 4 pairs, each 0..2^32-1); empty for none
 * @param tsVal         timestamps option TSval 0..2^32-1, or -1 for no timestamps option
 * @param tsEcr         timestamps option TSecr 0..2^32-1 (-1 exactly when {@code tsVal} is -1)
 * @param payload       payload bytes (copied in and out)
 */
public record TcpRepr(int srcPort, int dstPort, long seq, long ack, int flags, int window, int urgentPointer,
                      int mss, int windowScale, boolean sackPermitted, long[] sackBlocks, long tsVal, long tsEcr,
                      byte[] payload) {

    private static final long U32 = 0xFFFF_FFFFL;

    /** Checks ranges and that the options fit in 40 bytes; copies the arrays. */
    public TcpRepr {
        sackBlocks = sackBlocks == null ? new long[0] : sackBlocks.clone();
        payload = payload == null ? new byte[0] : payload.clone();
        if (((srcPort | dstPort | window | urgentPointer) & ~0xFFFF) != 0 || (flags & ~0x1FF) != 0
                || (seq & ~U32) != 0 || (ack & ~U32) != 0 || mss < -1 || mss > 0xFFFF
                || windowScale < -1 || windowScale > 0xFF || (sackBlocks.length & 1) != 0
                || sackBlocks.length > 2 * TcpOptions.MAX_SACK_BLOCKS || (tsVal == -1) != (tsEcr == -1)
                || tsVal < -1 || tsVal > U32 || tsEcr < -1 || tsEcr > U32) {
            throw new IllegalArgumentException("out of range: " + describe(srcPort, dstPort, seq, ack, flags,
                    window, mss, windowScale, sackBlocks.length, tsVal, tsEcr));
        }
        for (long e : sackBlocks) {
            if ((e & ~U32) != 0) {
                throw new IllegalArgumentException("SACK edge " + e);
            }
        }
        if (packedLength(mss, windowScale, sackPermitted, sackBlocks.length, tsVal) > TcpOptions.MAX_LENGTH) {
            throw new IllegalArgumentException("options do not fit in 40 bytes");
        }
    }

    /** A segment without options or payload. */
    public static TcpRepr of(int srcPort, int dstPort, long seq, long ack, int flags, int window) {
        return new TcpRepr(srcPort, dstPort, seq, ack, flags, window, 0, -1, -1, false, null, -1, -1, null);
    }

    /** The segment of {@code len} bytes at {@code off}, without checking the checksum; null when {@link Tcp#check} fails. */
    public static TcpRepr parse(ByteBuf buf, int off, int len) {
        return Tcp.check(buf, off, len) < 0 ? null : read(buf, off, len);
    }

    /** {@link #parse}, accepting only segments whose IPv4 checksum verifies ({@link Tcp#checkV4}). */
    public static TcpRepr parseV4(ByteBuf buf, int off, int len, int src, int dst) {
        return Tcp.checkV4(buf, off, len, src, dst) < 0 ? null : read(buf, off, len);
    }

    /** {@link #parse}, accepting only segments whose IPv6 checksum verifies ({@link Tcp#checkV6}). */
    public static TcpRepr parseV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi, long dstLo) {
        return Tcp.checkV6(buf, off, len, srcHi, srcLo, dstHi, dstLo) < 0 ? null : read(buf, off, len);
    }

    private static TcpRepr read(ByteBuf buf, int off, int len) {
        int hl = Tcp.dataOffset(buf, off);
        int n = TcpOptions.sackBlockCount(buf, off);
        long[] sack = new long[2 * n];
        for (int i = 0; i < n; i++) {
            sack[2 * i] = TcpOptions.sackLeft(buf, off, i);
            sack[2 * i + 1] = TcpOptions.sackRight(buf, off, i);
        }
        byte[] data = new byte[len - hl];
        buf.getBytes(off + hl, data);
        return new TcpRepr(Tcp.srcPort(buf, off), Tcp.dstPort(buf, off), Tcp.seq(buf, off), Tcp.ack(buf, off),
                Tcp.flags(buf, off), Tcp.window(buf, off), Tcp.urgentPointer(buf, off), TcpOptions.mss(buf, off),
                TcpOptions.windowScale(buf, off), TcpOptions.sackPermitted(buf, off), sack,
                TcpOptions.tsVal(buf, off), TcpOptions.tsEcr(buf, off), data);
    }

    private static int packedLength(int mss, int ws, boolean sackOk, int edges, long tsVal) {
        return (mss >= 0 ? TcpOptions.MSS_LENGTH : 0) + (ws >= 0 ? TcpOptions.WINDOW_SCALE_LENGTH : 0)
                + (sackOk ? TcpOptions.SACK_PERMITTED_LENGTH : 0) + (edges > 0 ? 2 + 4 * edges : 0)
                + (tsVal >= 0 ? TcpOptions.TIMESTAMPS_LENGTH : 0);
    }

    private int alignedLength() {
        int n = mss >= 0 ? TcpOptions.MSS_LENGTH : 0;
        if (tsVal >= 0) {
            n += 2 + TcpOptions.TIMESTAMPS_LENGTH; // 04 02 or NOP NOP, then timestamps
        } else if (sackPermitted) {
            n += 4;
        }
        n += windowScale >= 0 ? 4 : 0;
        n += sackBlocks.length > 0 ? 4 + 4 * sackBlocks.length : 0;
        return n;
    }

    private boolean aligned() {
        return alignedLength() <= TcpOptions.MAX_LENGTH;
    }

    /** Length of the options as emitted, padding included (a multiple of 4, at most 40). */
    public int optionsLength() {
        int n = aligned() ? alignedLength()
                : packedLength(mss, windowScale, sackPermitted, sackBlocks.length, tsVal);
        return (n + 3) & ~3;
    }

    /** Header length as emitted (20 plus options). */
    public int headerLength() {
        return Tcp.MIN_HEADER_LENGTH + optionsLength();
    }

    /** Segment length in bytes (header plus payload). */
    public int emittedLength() {
        return headerLength() + payload.length;
    }

    /** Appends the segment at {@code out.writerIndex()} with a zero checksum; returns its start index. */
    public int emit(ByteBuf out) {
        int start = out.writerIndex();
        int optLen = optionsLength();
        ByteBuf opts = Unpooled.buffer(optLen);
        try {
            writeOptions(opts);
            Tcp.writeHeader(out, srcPort, dstPort, seq, ack, flags, window, urgentPointer, opts, 0,
                    opts.readableBytes());
        } finally {
            opts.release();
        }
        out.writeBytes(payload);
        return start;
    }

    /** Appends the segment with its IPv4 checksum. */
    public void emitV4(ByteBuf out, int src, int dst) {
        int start = emit(out);
        Tcp.fillChecksumV4(out, start, out.writerIndex() - start, src, dst);
    }

    /** Appends the segment with its IPv6 checksum. */
    public void emitV6(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
        int start = emit(out);
        Tcp.fillChecksumV6(out, start, out.writerIndex() - start, srcHi, srcLo, dstHi, dstLo);
    }

    private void writeOptions(ByteBuf o) {
        boolean nops = aligned();
        if (mss >= 0) {
            TcpOptions.writeMss(o, mss);
        }
        if (tsVal >= 0) {
            if (sackPermitted) {
                TcpOptions.writeSackPermitted(o);
            } else if (nops) {
                o.writeByte(TcpOptions.KIND_NOP).writeByte(TcpOptions.KIND_NOP);
            }
            TcpOptions.writeTimestamps(o, tsVal, tsEcr);
        } else if (sackPermitted) {
            if (nops) {
                o.writeByte(TcpOptions.KIND_NOP).writeByte(TcpOptions.KIND_NOP);
            }
            TcpOptions.writeSackPermitted(o);
        }
        if (windowScale >= 0) {
            if (nops) {
                TcpOptions.writeNop(o);
            }
            TcpOptions.writeWindowScale(o, windowScale);
        }
        if (sackBlocks.length > 0) {
            if (nops) {
                o.writeByte(TcpOptions.KIND_NOP).writeByte(TcpOptions.KIND_NOP);
            }
            TcpOptions.writeSack(o, sackBlocks);
        }
        TcpOptions.writePadding(o, 0);
    }

    @Override
    public long[] sackBlocks() {
        return sackBlocks.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TcpRepr r && srcPort == r.srcPort && dstPort == r.dstPort && seq == r.seq
                && ack == r.ack && flags == r.flags && window == r.window && urgentPointer == r.urgentPointer
                && mss == r.mss && windowScale == r.windowScale && sackPermitted == r.sackPermitted
                && Arrays.equals(sackBlocks, r.sackBlocks) && tsVal == r.tsVal && tsEcr == r.tsEcr
                && Arrays.equals(payload, r.payload);
    }

    @Override
    public int hashCode() {
        return ((srcPort * 31 + dstPort) * 31 + Long.hashCode(seq)) * 31 + flags + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("TCP ").append(srcPort).append(" > ").append(dstPort).append(" [");
        String names = "FSRPAUEC";
        for (int i = 0; i < 8; i++) {
            if ((flags & (1 << i)) != 0) {
                sb.append(names.charAt(i));
            }
        }
        if ((flags & Tcp.AE) != 0) {
            sb.append("AE");
        }
        sb.append("] seq ").append(seq).append(" ack ").append(ack).append(" win ").append(window);
        if (urgentPointer != 0) {
            sb.append(" urg ").append(urgentPointer);
        }
        if (mss >= 0) {
            sb.append(" mss ").append(mss);
        }
        if (windowScale >= 0) {
            sb.append(" wscale ").append(windowScale);
        }
        if (sackPermitted) {
            sb.append(" sackOK");
        }
        if (sackBlocks.length > 0) {
            sb.append(" sack");
            for (int i = 0; i < sackBlocks.length; i += 2) {
                sb.append(' ').append(sackBlocks[i]).append('-').append(sackBlocks[i + 1]);
            }
        }
        if (tsVal >= 0) {
            sb.append(" TS ").append(tsVal).append('/').append(tsEcr);
        }
        return sb.append(" len ").append(payload.length).toString();
    }

    private static String describe(int srcPort, int dstPort, long seq, long ack, int flags, int window, int mss,
                                   int ws, int edges, long tsVal, long tsEcr) {
        return srcPort + ">" + dstPort + " seq " + seq + " ack " + ack + " flags " + flags + " win " + window
                + " mss " + mss + " ws " + ws + " sack edges " + edges + " ts " + tsVal + "/" + tsEcr;
    }
}
