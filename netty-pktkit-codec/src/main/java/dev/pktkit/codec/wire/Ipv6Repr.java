package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * A parsed IPv6 fixed header, for control paths and tests. Extension headers are not represented; parse only
 * accepts packets whose chain {@link Ipv6#check validates}.
 *
 * @param trafficClass  8 bits
 * @param flowLabel     20 bits
 * @param payloadLength bytes after the fixed header
 * @param nextHeader    next header of the fixed header
 * @param hopLimit      hop limit
 * @param srcHi         source octets 0-7
 * @param srcLo         source octets 8-15
 * @param dstHi         destination octets 0-7
 * @param dstLo         destination octets 8-15
 */
public record Ipv6Repr(int trafficClass, int flowLabel, int payloadLength, int nextHeader, int hopLimit,
                       long srcHi, long srcLo, long dstHi, long dstLo) {

    /** The header at {@code off}, or null when {@link Ipv6#check} fails. */
    public static Ipv6Repr parse(ByteBuf buf, int off) {
        if (Ipv6.check(buf, off) < 0) {
            return null;
        }
        return new Ipv6Repr(Ipv6.trafficClass(buf, off), Ipv6.flowLabel(buf, off), Ipv6.payloadLength(buf, off),
                Ipv6.nextHeader(buf, off), Ipv6.hopLimit(buf, off), Ipv6.srcHi(buf, off), Ipv6.srcLo(buf, off),
                Ipv6.dstHi(buf, off), Ipv6.dstLo(buf, off));
    }

    /** {@link Ipv6#HEADER_LENGTH}. */
    public int emittedLength() {
        return Ipv6.HEADER_LENGTH;
    }

    /** Appends the fixed header at {@code out.writerIndex()}. */
    public void emit(ByteBuf out) {
        Ipv6.writeHeader(out, trafficClass, flowLabel, payloadLength, nextHeader, hopLimit, srcHi, srcLo, dstHi,
                dstLo);
    }

    @Override
    public String toString() {
        return "IPv6 " + Ip6.format(srcHi, srcLo) + " > " + Ip6.format(dstHi, dstLo) + " next "
                + IpProtocol.name(nextHeader) + " hlim " + hopLimit + " tc " + trafficClass + " flow " + flowLabel
                + " len " + payloadLength;
    }
}
