package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * The checksum arithmetic TCP and UDP share (RFC 9293 §3.1, RFC 768): the sum over a segment with its checksum
 * field skipped, verification, storing, and RFC 1624 incremental updates for a rewritten port or pseudo-header
 * address. What differs is a parameter: the checksum field's offset, the minimum length, and whether a zero field
 * means "no checksum" ({@code optional}, UDP over IPv4: zero stays zero and a computed zero is sent as
 * {@code 0xFFFF}).
 */
final class TransportChecksum {
    private TransportChecksum() {
    }

    /**
     * The checksum field value for the {@code len} bytes at {@code off}, computed as if the field at
     * {@code off + ckOff} were zero (it is skipped, so read-only buffers work); -1 if the range is not readable or
     * shorter than {@code minLength}. With {@code optional}, a computed 0 is returned as {@code 0xFFFF}.
     */
    static int compute(ByteBuf buf, int off, int len, int minLength, int ckOff, long pseudo, boolean optional) {
        if (len < minLength || !Bounds.has(buf, off, len)) {
            return -1;
        }
        long sum = Checksums.partial(buf, off, ckOff, pseudo);
        sum = Checksums.partial(buf, off + ckOff + 2, len - ckOff - 2, sum);
        int ck = Checksums.finish(sum);
        return optional && ck == 0 ? 0xFFFF : ck;
    }

    /** Stores {@code ck} in the field at {@code off + ckOff} unless it is -1 (not computable); returns it. */
    static int store(ByteBuf buf, int off, int ckOff, int ck) {
        if (ck >= 0) {
            buf.setShort(off + ckOff, ck);
        }
        return ck;
    }

    /** Whether the {@code len} bytes at {@code off}, checksum field included, verify; false if not readable. */
    static boolean verify(ByteBuf buf, int off, int len, int minLength, long pseudo) {
        return len >= minLength && Bounds.has(buf, off, len) && Checksums.verify(buf, off, len, pseudo);
    }

    /**
     * Writes {@code value} into the 16-bit word at {@code at} and updates the checksum field at {@code ckAt}
     * incrementally (RFC 1624); the caller has checked both are readable.
     */
    static void rewrite16(ByteBuf buf, int at, int value, int ckAt, boolean optional) {
        int old = buf.getUnsignedShort(at);
        buf.setShort(at, value);
        int ck = buf.getUnsignedShort(ckAt);
        if (optional && ck == 0) {
            return;
        }
        store(buf, ckAt, 0, nonZero(Checksums.incrementalUpdate16(ck, old, value), optional));
    }

    /** Updates the checksum field at {@code ckAt} for a covered 32-bit value (a pseudo-header address) that changed. */
    static void adjust32(ByteBuf buf, int ckAt, int oldValue, int newValue, boolean optional) {
        int ck = buf.getUnsignedShort(ckAt);
        if (optional && ck == 0) {
            return;
        }
        store(buf, ckAt, 0, nonZero(Checksums.incrementalUpdate32(ck, oldValue, newValue), optional));
    }

    /**
     * Validates the IPv4 or IPv6 packet at {@code ipOff} (by its version nibble) for a transport check: the IP
     * header is valid, carries {@code protocol}, and is not a fragment.
     *
     * @return the IP header length (with IPv6 extension headers), or a negative {@link WireError} code from the IP
     *         check, {@link WireError#BAD_TYPE} (another protocol, or a fragment), {@link WireError#BAD_VERSION}
     */
    static int ipHeaderFor(ByteBuf buf, int ipOff, int protocol) {
        if (!Bounds.has(buf, ipOff, 1)) {
            return WireError.TRUNCATED;
        }
        int version = buf.getUnsignedByte(ipOff) >>> 4;
        int hl;
        if (version == 4) {
            hl = Ipv4.check(buf, ipOff);
            if (hl >= 0 && (Ipv4.protocol(buf, ipOff) != protocol || Ipv4.isFragment(buf, ipOff))) {
                return WireError.BAD_TYPE;
            }
        } else if (version == 6) {
            hl = Ipv6.check(buf, ipOff);
            if (hl >= 0 && (Ipv6.upperLayerProtocol(buf, ipOff) != protocol || Ipv6.isFragment(buf, ipOff))) {
                return WireError.BAD_TYPE;
            }
        } else {
            return WireError.BAD_VERSION;
        }
        return hl;
    }

    private static int nonZero(int ck, boolean optional) {
        return optional && ck == 0 ? 0xFFFF : ck;
    }
}
