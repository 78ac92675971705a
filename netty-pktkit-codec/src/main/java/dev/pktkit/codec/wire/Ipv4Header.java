package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * The 20-byte fixed IPv4 header of one packet, read at once: a reusable, mutable view for code that needs several
 * fields of the same header (a router reads version, lengths, TTL, protocol and addresses).
 *
 * <p>{@link #read} checks the bounds once and loads the header in three reads (8 + 8 + 4 bytes); the accessors
 * then cost no buffer access. {@link Ipv4}'s static accessors do one bounds test and one {@code ByteBuf} read per
 * field instead (see {@link EthernetHeader} for why that matters on JDK 25's defaults). Like them, this view does
 * not validate: {@link Ipv4#check} does.
 *
 * <p>Not thread-safe and not tied to the buffer: the fields are a copy taken by the last successful
 * {@link #read}; keep one instance per handler (or per loop) and reuse it. Allocates nothing.
 */
public final class Ipv4Header {
    private long w0; // version/IHL, TOS, total length, identification, flags/fragment offset
    private long w8; // TTL, protocol, header checksum, source
    private int w16; // destination

    /**
     * Loads the fixed header at absolute index {@code off}; false (fields unchanged) if its 20 bytes are not within
     * {@code [0, writerIndex())}. Does not move indices; a released buffer throws as its getters do.
     */
    public boolean read(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, Ipv4.MIN_HEADER_LENGTH)) {
            return false;
        }
        w0 = buf.getLong(off);
        w8 = buf.getLong(off + 8);
        w16 = buf.getInt(off + 16);
        return true;
    }

    /** Version nibble (4 for IPv4). */
    public int version() {
        return (int) (w0 >>> 60);
    }

    /** Header length in bytes from the IHL field (IHL * 4, not validated). */
    public int headerLength() {
        return ((int) (w0 >>> 56) & 0x0F) << 2;
    }

    /** The TOS octet (DSCP and ECN). */
    public int tos() {
        return (int) (w0 >>> 48) & 0xFF;
    }

    /** DSCP (upper 6 bits of the TOS octet). */
    public int dscp() {
        return tos() >>> 2;
    }

    /** ECN (lower 2 bits of the TOS octet). */
    public int ecn() {
        return tos() & 3;
    }

    /** Total length field. */
    public int totalLength() {
        return (int) (w0 >>> 32) & 0xFFFF;
    }

    /** Identification field. */
    public int identification() {
        return (int) (w0 >>> 16) & 0xFFFF;
    }

    /** The 16-bit flags and fragment offset word. */
    public int flagsAndFragmentOffset() {
        return (int) w0 & 0xFFFF;
    }

    /** Whether DF is set. */
    public boolean dontFragment() {
        return (w0 & Ipv4.FLAG_DF) != 0;
    }

    /** Whether MF is set. */
    public boolean moreFragments() {
        return (w0 & Ipv4.FLAG_MF) != 0;
    }

    /** Fragment offset in bytes. */
    public int fragmentOffset() {
        return ((int) w0 & Ipv4.FRAGMENT_OFFSET_MASK) << 3;
    }

    /** Whether this is a fragment (MF set or a non-zero offset). */
    public boolean isFragment() {
        return (w0 & (Ipv4.FLAG_MF | Ipv4.FRAGMENT_OFFSET_MASK)) != 0;
    }

    /** Time to live. */
    public int ttl() {
        return (int) (w8 >>> 56);
    }

    /** Protocol number ({@link IpProtocol}). */
    public int protocol() {
        return (int) (w8 >>> 48) & 0xFF;
    }

    /** Header checksum field. */
    public int headerChecksum() {
        return (int) (w8 >>> 32) & 0xFFFF;
    }

    /** Source address. */
    public int src() {
        return (int) w8;
    }

    /** Destination address. */
    public int dst() {
        return w16;
    }
}
