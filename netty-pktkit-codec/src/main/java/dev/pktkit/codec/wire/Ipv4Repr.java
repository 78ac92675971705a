package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A parsed IPv4 header, for control paths and tests. The checksum is not a component: {@link #emit} computes it
 * and {@link #parse} accepts only headers whose checksum verifies.
 *
 * @param tos            DSCP/ECN octet
 * @param identification 16-bit identification
 * @param dontFragment   DF flag
 * @param moreFragments  MF flag
 * @param fragmentOffset fragment offset in bytes (a multiple of 8)
 * @param ttl            time to live
 * @param protocol       {@link IpProtocol} number
 * @param src            source address
 * @param dst            destination address
 * @param options        option bytes as on the wire, padding included (length a multiple of 4, at most 40);
 *                       empty for none
 * @param payloadLength  payload length in bytes (total length minus header length)
 */
public record Ipv4Repr(int tos, int identification, boolean dontFragment, boolean moreFragments, int fragmentOffset,
                       int ttl, int protocol, int src, int dst, byte[] options, int payloadLength) {

    /** Checks ranges and copies {@code options}. */
    public Ipv4Repr {
        options = options == null ? new byte[0] : options.clone();
        if (options.length % 4 != 0 || options.length > 40) {
            throw new IllegalArgumentException("options length " + options.length);
        }
        if ((fragmentOffset & 7) != 0 || fragmentOffset < 0 || fragmentOffset > 0xFFF8) {
            throw new IllegalArgumentException("fragment offset " + fragmentOffset);
        }
    }

    /** A plain header: no options, not fragmented, DF set, TOS 0. */
    public static Ipv4Repr of(int src, int dst, int protocol, int ttl, int payloadLength) {
        return new Ipv4Repr(0, 0, true, false, 0, ttl, protocol, src, dst, null, payloadLength);
    }

    /** The header at {@code off}, or null when {@link Ipv4#check} fails. */
    public static Ipv4Repr parse(ByteBuf buf, int off) {
        int hl = Ipv4.check(buf, off);
        if (hl < 0) {
            return null;
        }
        byte[] opts = new byte[hl - Ipv4.MIN_HEADER_LENGTH];
        buf.getBytes(off + Ipv4.MIN_HEADER_LENGTH, opts);
        return new Ipv4Repr(Ipv4.tos(buf, off), Ipv4.identification(buf, off), Ipv4.dontFragment(buf, off),
                Ipv4.moreFragments(buf, off), Ipv4.fragmentOffset(buf, off), Ipv4.ttl(buf, off),
                Ipv4.protocol(buf, off), Ipv4.src(buf, off), Ipv4.dst(buf, off), opts,
                Ipv4.payloadLength(buf, off));
    }

    /** Header length in bytes (20 plus options). */
    public int emittedLength() {
        return Ipv4.MIN_HEADER_LENGTH + options.length;
    }

    /** Appends the header, checksum computed, at {@code out.writerIndex()}. */
    public void emit(ByteBuf out) {
        int flags = (dontFragment ? Ipv4.FLAG_DF : 0) | (moreFragments ? Ipv4.FLAG_MF : 0) | (fragmentOffset >>> 3);
        ByteBuf opts = options.length == 0 ? null : Unpooled.wrappedBuffer(options);
        try {
            Ipv4.writeHeader(out, tos, identification, flags, ttl, protocol, src, dst, opts, 0, options.length,
                    payloadLength);
        } finally {
            if (opts != null) {
                opts.release();
            }
        }
    }

    @Override
    public byte[] options() {
        return options.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ipv4Repr r && tos == r.tos && identification == r.identification
                && dontFragment == r.dontFragment && moreFragments == r.moreFragments
                && fragmentOffset == r.fragmentOffset && ttl == r.ttl && protocol == r.protocol && src == r.src
                && dst == r.dst && Arrays.equals(options, r.options) && payloadLength == r.payloadLength;
    }

    @Override
    public int hashCode() {
        return ((src * 31 + dst) * 31 + protocol) * 31 + Arrays.hashCode(options) + identification;
    }

    @Override
    public String toString() {
        return "IPv4 " + Ip4.format(src) + " > " + Ip4.format(dst) + " proto " + IpProtocol.name(protocol)
                + " ttl " + ttl + " id " + identification + (dontFragment ? " DF" : "") + (moreFragments ? " MF" : "")
                + (fragmentOffset != 0 ? " off " + fragmentOffset : "") + " tos " + tos
                + (options.length > 0 ? " opts " + HexFormat.of().formatHex(options) : "") + " len " + payloadLength;
    }
}
