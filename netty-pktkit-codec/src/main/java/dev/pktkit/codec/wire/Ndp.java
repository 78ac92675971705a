package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * Views, validation and builders for IPv6 Neighbor Discovery (RFC 4861) messages carried in ICMPv6: Router
 * Solicitation (133), Router Advertisement (134), Neighbor Solicitation (135), Neighbor Advertisement (136) and
 * Redirect (137), and their options: source/target link-layer address (1, 2), prefix information (3), redirected
 * header (4), MTU (5), nonce (14, RFC 7527) and recursive DNS server (25, RFC 8106).
 *
 * <p>Message offsets ({@code off}) are absolute indices of the ICMPv6 header. Option offsets ({@code optOff})
 * are absolute indices of an option's type octet. Options are walked totally: every option must have a non-zero
 * length (in units of 8 octets) and end inside the message, or the whole list is malformed ({@link #checkOptions}
 * answers {@link WireError#BAD_OPTION}, {@link #findOption} -1). Field accessors return -1 (or 0 for address
 * halves, false for flags) when their bytes are not within {@code [0, writerIndex())}.
 */
public final class Ndp {
    private Ndp() {
    }

    /** Hop limit every ND message must carry (RFC 4861: proves it was not forwarded). */
    public static final int HOP_LIMIT = 255;

    /** Option: source link-layer address. */
    public static final int OPT_SOURCE_LINK_LAYER_ADDRESS = 1;
    /** Option: target link-layer address. */
    public static final int OPT_TARGET_LINK_LAYER_ADDRESS = 2;
    /** Option: prefix information (32 bytes). */
    public static final int OPT_PREFIX_INFORMATION = 3;
    /** Option: redirected header. */
    public static final int OPT_REDIRECTED_HEADER = 4;
    /** Option: MTU (8 bytes). */
    public static final int OPT_MTU = 5;
    /** Option: nonce (RFC 7527). */
    public static final int OPT_NONCE = 14;
    /** Option: recursive DNS server (RFC 8106). */
    public static final int OPT_RDNSS = 25;

    /** Router Advertisement flag: managed address configuration. */
    public static final int RA_FLAG_MANAGED = 0x80;
    /** Router Advertisement flag: other configuration. */
    public static final int RA_FLAG_OTHER = 0x40;
    /** Neighbor Advertisement flag: sender is a router. */
    public static final int NA_FLAG_ROUTER = 0x80;
    /** Neighbor Advertisement flag: sent in response to a solicitation. */
    public static final int NA_FLAG_SOLICITED = 0x40;
    /** Neighbor Advertisement flag: override an existing cache entry. */
    public static final int NA_FLAG_OVERRIDE = 0x20;
    /** Prefix information flag: on-link. */
    public static final int PREFIX_FLAG_ON_LINK = 0x80;
    /** Prefix information flag: autonomous address configuration. */
    public static final int PREFIX_FLAG_AUTONOMOUS = 0x40;

    /**
     * Length of the fixed part of an ND message of {@code type} (where its options start, relative to the ICMPv6
     * header): RS 8, RA 16, NS 24, NA 24, Redirect 40; -1 for other types.
     */
    public static int fixedLength(int type) {
        return switch (type) {
            case Icmpv6.TYPE_ROUTER_SOLICITATION -> 8;
            case Icmpv6.TYPE_ROUTER_ADVERTISEMENT -> 16;
            case Icmpv6.TYPE_NEIGHBOR_SOLICITATION, Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT -> 24;
            case Icmpv6.TYPE_REDIRECT -> 40;
            default -> -1;
        };
    }

    /** Absolute offset of the options of the ND message at {@code off}; -1 if short or not an ND type. */
    public static int optionsOffset(ByteBuf buf, int off) {
        int t = Icmpv6.type(buf, off);
        int fl = fixedLength(t);
        return fl < 0 || !Bounds.has(buf, off, fl) ? -1 : off + fl;
    }

    // ---- bodies ----

    /** RA current hop limit; -1 if short. */
    public static int raCurHopLimit(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getUnsignedByte(off + 4) : -1;
    }

    /** RA flags octet (M, O, ...); -1 if short. */
    public static int raFlags(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getUnsignedByte(off + 5) : -1;
    }

    /** RA router lifetime in seconds (0: not a default router); -1 if short. */
    public static int raRouterLifetime(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getUnsignedShort(off + 6) : -1;
    }

    /** RA reachable time in milliseconds (0: unspecified); -1 if short. */
    public static long raReachableTime(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getUnsignedInt(off + 8) : -1;
    }

    /** RA retransmission timer in milliseconds (0: unspecified); -1 if short. */
    public static long raRetransTimer(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getUnsignedInt(off + 12) : -1;
    }

    /** NA flags octet (R, S, O); -1 if short. */
    public static int naFlags(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 24) ? buf.getUnsignedByte(off + 4) : -1;
    }

    /** Target address of an NS, NA or Redirect, high half; 0 if short. */
    public static long targetHi(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 24) ? buf.getLong(off + 8) : 0;
    }

    /** Target address of an NS, NA or Redirect, low half; 0 if short. */
    public static long targetLo(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 24) ? buf.getLong(off + 16) : 0;
    }

    /** Destination address of a Redirect, high half; 0 if short. */
    public static long redirectDestinationHi(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 40) ? buf.getLong(off + 24) : 0;
    }

    /** Destination address of a Redirect, low half; 0 if short. */
    public static long redirectDestinationLo(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 40) ? buf.getLong(off + 32) : 0;
    }

    // ---- options ----

    /**
     * Walks the options in {@code [from, end)} totally. Every option needs its two-octet header, a non-zero
     * length, and must end by {@code end}; link-layer address options need a length of at least 1, prefix
     * information exactly 4, MTU exactly 1, RDNSS an odd length of at least 3. Unknown types are skipped.
     *
     * @return the number of options, or {@link WireError#BAD_OPTION}; {@link WireError#TRUNCATED} if
     *         {@code end} is past {@code writerIndex()}
     */
    public static int checkOptions(ByteBuf buf, int from, int end) {
        if (from < 0 || end < from || end > buf.writerIndex()) {
            return WireError.TRUNCATED;
        }
        int count = 0;
        int i = from;
        while (i < end) {
            if (i + 2 > end) {
                return WireError.BAD_OPTION;
            }
            int type = buf.getUnsignedByte(i);
            int units = buf.getUnsignedByte(i + 1);
            if (units == 0 || i + (units << 3) > end) {
                return WireError.BAD_OPTION;
            }
            boolean ok = switch (type) {
                case OPT_PREFIX_INFORMATION -> units == 4;
                case OPT_MTU -> units == 1;
                case OPT_RDNSS -> units >= 3 && (units & 1) == 1;
                default -> true;
            };
            if (!ok) {
                return WireError.BAD_OPTION;
            }
            i += units << 3;
            count++;
        }
        return count;
    }

    /**
     * Absolute offset of the first option of {@code type} in {@code [from, end)}, or -1 if there is none or the
     * list fails {@link #checkOptions}.
     */
    public static int findOption(ByteBuf buf, int from, int end, int type) {
        if (checkOptions(buf, from, end) < 0) {
            return -1;
        }
        for (int i = from; i < end; i += buf.getUnsignedByte(i + 1) << 3) {
            if (buf.getUnsignedByte(i) == type) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Absolute offset of the option after the one at {@code optOff}, or -1 if that is {@code end} or beyond; for
     * iterating lists that passed {@link #checkOptions}.
     */
    public static int nextOption(ByteBuf buf, int optOff, int end) {
        if (!Bounds.has(buf, optOff, 2)) {
            return -1;
        }
        int units = buf.getUnsignedByte(optOff + 1);
        int next = optOff + (units << 3);
        return units == 0 || next >= end ? -1 : next;
    }

    /** Type of the option at {@code optOff}; -1 if short. */
    public static int optionType(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 2) ? buf.getUnsignedByte(optOff) : -1;
    }

    /** Length in bytes of the option at {@code optOff} (the length field times 8); -1 if short. */
    public static int optionLength(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 2) ? buf.getUnsignedByte(optOff + 1) << 3 : -1;
    }

    /** The Ethernet address in a source/target link-layer address option; -1 if short. */
    public static long linkLayerAddress(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 8) ? MacAddress.read(buf, optOff + 2) : -1;
    }

    /** Prefix length (0..128) of a prefix information option; -1 if short. */
    public static int prefixLength(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 32) ? buf.getUnsignedByte(optOff + 2) : -1;
    }

    /** Flags octet (L, A) of a prefix information option; -1 if short. */
    public static int prefixFlags(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 32) ? buf.getUnsignedByte(optOff + 3) : -1;
    }

    /** Valid lifetime in seconds (0xFFFFFFFF: infinity) of a prefix information option; -1 if short. */
    public static long prefixValidLifetime(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 32) ? buf.getUnsignedInt(optOff + 4) : -1;
    }

    /** Preferred lifetime in seconds of a prefix information option; -1 if short. */
    public static long prefixPreferredLifetime(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 32) ? buf.getUnsignedInt(optOff + 8) : -1;
    }

    /** Prefix of a prefix information option, high half; 0 if short. */
    public static long prefixHi(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 32) ? buf.getLong(optOff + 16) : 0;
    }

    /** Prefix of a prefix information option, low half; 0 if short. */
    public static long prefixLo(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 32) ? buf.getLong(optOff + 24) : 0;
    }

    /** MTU of an MTU option; -1 if short. */
    public static long mtu(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 8) ? buf.getUnsignedInt(optOff + 4) : -1;
    }

    /** Lifetime in seconds of an RDNSS option; -1 if short. */
    public static long rdnssLifetime(ByteBuf buf, int optOff) {
        return Bounds.has(buf, optOff, 8) ? buf.getUnsignedInt(optOff + 4) : -1;
    }

    /** Number of addresses in an RDNSS option ((length - 1) / 2); -1 if short or the length is not valid. */
    public static int rdnssCount(ByteBuf buf, int optOff) {
        if (!Bounds.has(buf, optOff, 8)) {
            return -1;
        }
        int units = buf.getUnsignedByte(optOff + 1);
        if (units < 3 || (units & 1) == 0 || !Bounds.has(buf, optOff, units << 3)) {
            return -1;
        }
        return (units - 1) >>> 1;
    }

    /** Address {@code i} of an RDNSS option, high half; 0 if out of range or short. */
    public static long rdnssAddressHi(ByteBuf buf, int optOff, int i) {
        return i >= 0 && i < rdnssCount(buf, optOff) ? buf.getLong(optOff + 8 + 16 * i) : 0;
    }

    /** Address {@code i} of an RDNSS option, low half; 0 if out of range or short. */
    public static long rdnssAddressLo(ByteBuf buf, int optOff, int i) {
        return i >= 0 && i < rdnssCount(buf, optOff) ? buf.getLong(optOff + 16 + 16 * i) : 0;
    }

    // ---- validation ----

    /**
     * Validates the IPv6 packet at {@code ipOff} as an ND message, as a host or router must before acting on it
     * (RFC 4861 §6.1, §7.1, §8.1): {@link Icmpv6#checkInPacket}, hop limit 255, code 0, an ND type, the fixed part
     * present, valid options, and per type: NS/NA/Redirect targets not multicast; an NS from :: goes to a
     * solicited-node address and carries no source link-layer address; an NA to a multicast address has S clear;
     * an RA or Redirect comes from a link-local address; an RS from :: carries no source link-layer address; a
     * Redirect's destination is not multicast and its target is link-local or equals the destination.
     *
     * @return the ICMPv6 message length, or a {@link WireError}: codes of {@link Icmpv6#checkInPacket},
     *         {@link WireError#BAD_FIELD} (hop limit, code, NA flags), {@link WireError#BAD_TYPE} (not ND),
     *         {@link WireError#BAD_TOTAL_LENGTH} (shorter than the fixed part), {@link WireError#BAD_ADDRESS},
     *         {@link WireError#BAD_OPTION}
     */
    public static int check(ByteBuf buf, int ipOff) {
        int len = Icmpv6.checkInPacket(buf, ipOff);
        if (len < 0) {
            return len;
        }
        int off = Ipv6.upperLayerOffset(buf, ipOff);
        int type = buf.getUnsignedByte(off);
        int fixed = fixedLength(type);
        if (fixed < 0) {
            return WireError.BAD_TYPE;
        }
        if (Ipv6.hopLimit(buf, ipOff) != HOP_LIMIT || buf.getUnsignedByte(off + 1) != 0) {
            return WireError.BAD_FIELD;
        }
        if (len < fixed) {
            return WireError.BAD_TOTAL_LENGTH;
        }
        int end = off + len;
        int opts = checkOptions(buf, off + fixed, end);
        if (opts < 0) {
            return WireError.BAD_OPTION;
        }
        long srcHi = Ipv6.srcHi(buf, ipOff);
        long srcLo = Ipv6.srcLo(buf, ipOff);
        long dstHi = Ipv6.dstHi(buf, ipOff);
        long dstLo = Ipv6.dstLo(buf, ipOff);
        boolean fromUnspecified = Ip6.isUnspecified(srcHi, srcLo);
        switch (type) {
            case Icmpv6.TYPE_ROUTER_SOLICITATION -> {
                if (fromUnspecified && findOption(buf, off + fixed, end, OPT_SOURCE_LINK_LAYER_ADDRESS) >= 0) {
                    return WireError.BAD_OPTION;
                }
            }
            case Icmpv6.TYPE_ROUTER_ADVERTISEMENT -> {
                if (!Ip6.isLinkLocal(srcHi)) {
                    return WireError.BAD_ADDRESS;
                }
            }
            case Icmpv6.TYPE_NEIGHBOR_SOLICITATION -> {
                if (Ip6.isMulticast(buf.getLong(off + 8))) {
                    return WireError.BAD_ADDRESS;
                }
                if (fromUnspecified) {
                    if (!Ip6.isSolicitedNode(dstHi, dstLo)) {
                        return WireError.BAD_ADDRESS;
                    }
                    if (findOption(buf, off + fixed, end, OPT_SOURCE_LINK_LAYER_ADDRESS) >= 0) {
                        return WireError.BAD_OPTION;
                    }
                }
            }
            case Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT -> {
                if (Ip6.isMulticast(buf.getLong(off + 8))) {
                    return WireError.BAD_ADDRESS;
                }
                if (Ip6.isMulticast(dstHi) && (buf.getUnsignedByte(off + 4) & NA_FLAG_SOLICITED) != 0) {
                    return WireError.BAD_FIELD;
                }
            }
            default -> { // Redirect
                long tHi = buf.getLong(off + 8);
                long tLo = buf.getLong(off + 16);
                long dHi = buf.getLong(off + 24);
                long dLo = buf.getLong(off + 32);
                if (!Ip6.isLinkLocal(srcHi) || Ip6.isMulticast(dHi)
                        || !(Ip6.isLinkLocal(tHi) || (tHi == dHi && tLo == dLo))) {
                    return WireError.BAD_ADDRESS;
                }
            }
        }
        return len;
    }

    // ---- builders (complete IPv6 packets, hop limit 255, checksum filled in) ----

    private static int begin(ByteBuf out, int icmpLen, long srcHi, long srcLo, long dstHi, long dstLo) {
        Ipv6.writeHeader(out, 0, 0, icmpLen, IpProtocol.ICMPV6, HOP_LIMIT, srcHi, srcLo, dstHi, dstLo);
        out.ensureWritable(icmpLen);
        return out.writerIndex();
    }

    private static void linkLayerOption(ByteBuf out, int type, long mac) {
        out.writeByte(type);
        out.writeByte(1);
        MacAddress.write(out, mac);
    }

    /**
     * Appends a Router Solicitation to all-routers ({@code ff02::2}), with a source link-layer address option
     * unless {@code srcMac} is negative or the source is {@code ::}.
     *
     * @return bytes written
     */
    public static int writeRouterSolicitationPacket(ByteBuf out, long srcHi, long srcLo, long srcMac) {
        boolean slla = srcMac >= 0 && !Ip6.isUnspecified(srcHi, srcLo);
        int len = 8 + (slla ? 8 : 0);
        int w = begin(out, len, srcHi, srcLo, Ip6.ALL_ROUTERS_HI, Ip6.ALL_ROUTERS_LO);
        out.writeInt(Icmpv6.TYPE_ROUTER_SOLICITATION << 24);
        out.writeInt(0);
        if (slla) {
            linkLayerOption(out, OPT_SOURCE_LINK_LAYER_ADDRESS, srcMac);
        }
        Icmpv6.fillChecksum(out, w, len, srcHi, srcLo, Ip6.ALL_ROUTERS_HI, Ip6.ALL_ROUTERS_LO);
        return Ipv6.HEADER_LENGTH + len;
    }

    /**
     * Appends a Neighbor Solicitation for {@code target} to {@code dst} (the target's solicited-node address for
     * resolution, the target itself for unreachability detection), with a source link-layer address option
     * unless {@code srcMac} is negative or the source is {@code ::} (duplicate address detection).
     *
     * @return bytes written
     */
    public static int writeNeighborSolicitationPacket(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo,
                                                      long targetHi, long targetLo, long srcMac) {
        boolean slla = srcMac >= 0 && !Ip6.isUnspecified(srcHi, srcLo);
        int len = 24 + (slla ? 8 : 0);
        int w = begin(out, len, srcHi, srcLo, dstHi, dstLo);
        out.writeInt(Icmpv6.TYPE_NEIGHBOR_SOLICITATION << 24);
        out.writeInt(0);
        out.writeLong(targetHi);
        out.writeLong(targetLo);
        if (slla) {
            linkLayerOption(out, OPT_SOURCE_LINK_LAYER_ADDRESS, srcMac);
        }
        Icmpv6.fillChecksum(out, w, len, srcHi, srcLo, dstHi, dstLo);
        return Ipv6.HEADER_LENGTH + len;
    }

    /**
     * {@link #writeNeighborSolicitationPacket(ByteBuf, long, long, long, long, long, long, long)} to the target's
     * solicited-node multicast address, for address resolution.
     */
    public static int writeNeighborSolicitationPacket(ByteBuf out, long srcHi, long srcLo, long targetHi,
                                                      long targetLo, long srcMac) {
        return writeNeighborSolicitationPacket(out, srcHi, srcLo, Ip6.solicitedNodeHi(), Ip6.solicitedNodeLo(targetLo),
                targetHi, targetLo, srcMac);
    }

    /**
     * Appends a Neighbor Advertisement for {@code target} to {@code dst} with {@code flags}
     * ({@link #NA_FLAG_ROUTER} | {@link #NA_FLAG_SOLICITED} | {@link #NA_FLAG_OVERRIDE}) and a target link-layer
     * address option unless {@code targetMac} is negative.
     *
     * @return bytes written
     */
    public static int writeNeighborAdvertisementPacket(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo,
                                                       int flags, long targetHi, long targetLo, long targetMac) {
        boolean tlla = targetMac >= 0;
        int len = 24 + (tlla ? 8 : 0);
        int w = begin(out, len, srcHi, srcLo, dstHi, dstLo);
        out.writeInt(Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT << 24);
        out.writeInt((flags & 0xE0) << 24);
        out.writeLong(targetHi);
        out.writeLong(targetLo);
        if (tlla) {
            linkLayerOption(out, OPT_TARGET_LINK_LAYER_ADDRESS, targetMac);
        }
        Icmpv6.fillChecksum(out, w, len, srcHi, srcLo, dstHi, dstLo);
        return Ipv6.HEADER_LENGTH + len;
    }
}
