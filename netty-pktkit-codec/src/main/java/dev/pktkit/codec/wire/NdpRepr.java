package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * Parsed Neighbor Discovery messages, for control paths (router and host logic) and tests. {@link #parse} accepts
 * a whole IPv6 packet that passes {@link Ndp#check}; unknown options (such as a nonce) are skipped. Link-layer
 * addresses are {@code long} MACs, -1 when the option is absent.
 */
public sealed interface NdpRepr {

    /** Length of the ICMPv6 message {@link #emit} writes. */
    int emittedLength();

    /**
     * Appends the ICMPv6 message (no IPv6 header) at {@code out.writerIndex()}, checksum computed for the given
     * addresses. Options are written in the order: prefix information, RDNSS, MTU, link-layer address.
     */
    void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo);

    /** Appends a complete IPv6 packet (hop limit 255) carrying this message; returns bytes written. */
    default int emitPacket(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
        int len = emittedLength();
        Ipv6.writeHeader(out, 0, 0, len, IpProtocol.ICMPV6, Ndp.HOP_LIMIT, srcHi, srcLo, dstHi, dstLo);
        emit(out, srcHi, srcLo, dstHi, dstLo);
        return Ipv6.HEADER_LENGTH + len;
    }

    /** An IPv6 address as a value. */
    record Address(long hi, long lo) {
        @Override
        public String toString() {
            return Ip6.format(hi, lo);
        }
    }

    /** Router Solicitation. */
    record RouterSolicitation(long sourceLinkLayer) implements NdpRepr {
        @Override
        public int emittedLength() {
            return 8 + (sourceLinkLayer >= 0 ? 8 : 0);
        }

        @Override
        public void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
            int w = out.writerIndex();
            out.writeInt(Icmpv6.TYPE_ROUTER_SOLICITATION << 24).writeInt(0);
            linkLayer(out, Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS, sourceLinkLayer);
            Icmpv6.fillChecksum(out, w, out.writerIndex() - w, srcHi, srcLo, dstHi, dstLo);
        }
    }

    /** A prefix information option. Lifetimes in seconds, 0xFFFFFFFF meaning infinity. */
    record PrefixInformation(int prefixLength, boolean onLink, boolean autonomous, long validLifetime,
                             long preferredLifetime, long prefixHi, long prefixLo) {
    }

    /** An RDNSS option (RFC 8106): lifetime in seconds and the server addresses. */
    record Rdnss(long lifetime, List<Address> servers) {
        /** Copies {@code servers}; at least one is required. */
        public Rdnss {
            servers = List.copyOf(servers);
            if (servers.isEmpty()) {
                throw new IllegalArgumentException("RDNSS needs at least one address");
            }
        }
    }

    /**
     * Router Advertisement.
     *
     * @param curHopLimit     hop limit hosts should use (0: unspecified)
     * @param flags           the flags octet ({@link Ndp#RA_FLAG_MANAGED}, {@link Ndp#RA_FLAG_OTHER}, preference
     *                        bits)
     * @param routerLifetime  seconds; 0 means not a default router
     * @param reachableTime   milliseconds
     * @param retransTimer    milliseconds
     * @param sourceLinkLayer the router's MAC, or -1
     * @param mtu             link MTU option value, or -1 for none
     * @param prefixes        prefix information options
     * @param rdnss           RDNSS options
     */
    record RouterAdvertisement(int curHopLimit, int flags, int routerLifetime, long reachableTime,
                               long retransTimer, long sourceLinkLayer, long mtu, List<PrefixInformation> prefixes,
                               List<Rdnss> rdnss) implements NdpRepr {
        /** Copies the lists. */
        public RouterAdvertisement {
            prefixes = List.copyOf(prefixes);
            rdnss = List.copyOf(rdnss);
        }

        @Override
        public int emittedLength() {
            int n = 16 + 32 * prefixes.size() + (mtu >= 0 ? 8 : 0) + (sourceLinkLayer >= 0 ? 8 : 0);
            for (Rdnss r : rdnss) {
                n += 8 + 16 * r.servers().size();
            }
            return n;
        }

        @Override
        public void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
            int w = out.writerIndex();
            out.writeInt(Icmpv6.TYPE_ROUTER_ADVERTISEMENT << 24);
            out.writeByte(curHopLimit).writeByte(flags).writeShort(routerLifetime);
            out.writeInt((int) reachableTime).writeInt((int) retransTimer);
            for (PrefixInformation p : prefixes) {
                out.writeByte(Ndp.OPT_PREFIX_INFORMATION).writeByte(4).writeByte(p.prefixLength())
                        .writeByte((p.onLink() ? Ndp.PREFIX_FLAG_ON_LINK : 0)
                                | (p.autonomous() ? Ndp.PREFIX_FLAG_AUTONOMOUS : 0))
                        .writeInt((int) p.validLifetime()).writeInt((int) p.preferredLifetime()).writeInt(0)
                        .writeLong(p.prefixHi()).writeLong(p.prefixLo());
            }
            for (Rdnss r : rdnss) {
                out.writeByte(Ndp.OPT_RDNSS).writeByte(1 + 2 * r.servers().size()).writeShort(0)
                        .writeInt((int) r.lifetime());
                for (Address a : r.servers()) {
                    out.writeLong(a.hi()).writeLong(a.lo());
                }
            }
            if (mtu >= 0) {
                out.writeByte(Ndp.OPT_MTU).writeByte(1).writeShort(0).writeInt((int) mtu);
            }
            linkLayer(out, Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS, sourceLinkLayer);
            Icmpv6.fillChecksum(out, w, out.writerIndex() - w, srcHi, srcLo, dstHi, dstLo);
        }
    }

    /** Neighbor Solicitation. */
    record NeighborSolicitation(long targetHi, long targetLo, long sourceLinkLayer) implements NdpRepr {
        @Override
        public int emittedLength() {
            return 24 + (sourceLinkLayer >= 0 ? 8 : 0);
        }

        @Override
        public void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
            int w = out.writerIndex();
            out.writeInt(Icmpv6.TYPE_NEIGHBOR_SOLICITATION << 24).writeInt(0).writeLong(targetHi).writeLong(targetLo);
            linkLayer(out, Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS, sourceLinkLayer);
            Icmpv6.fillChecksum(out, w, out.writerIndex() - w, srcHi, srcLo, dstHi, dstLo);
        }
    }

    /** Neighbor Advertisement. */
    record NeighborAdvertisement(boolean router, boolean solicited, boolean override, long targetHi, long targetLo,
                                 long targetLinkLayer) implements NdpRepr {
        @Override
        public int emittedLength() {
            return 24 + (targetLinkLayer >= 0 ? 8 : 0);
        }

        @Override
        public void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
            int w = out.writerIndex();
            int flags = (router ? Ndp.NA_FLAG_ROUTER : 0) | (solicited ? Ndp.NA_FLAG_SOLICITED : 0)
                    | (override ? Ndp.NA_FLAG_OVERRIDE : 0);
            out.writeInt(Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT << 24).writeInt(flags << 24)
                    .writeLong(targetHi).writeLong(targetLo);
            linkLayer(out, Ndp.OPT_TARGET_LINK_LAYER_ADDRESS, targetLinkLayer);
            Icmpv6.fillChecksum(out, w, out.writerIndex() - w, srcHi, srcLo, dstHi, dstLo);
        }
    }

    /** Redirect (the redirected header option is not represented). */
    record Redirect(long targetHi, long targetLo, long destinationHi, long destinationLo, long targetLinkLayer)
            implements NdpRepr {
        @Override
        public int emittedLength() {
            return 40 + (targetLinkLayer >= 0 ? 8 : 0);
        }

        @Override
        public void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
            int w = out.writerIndex();
            out.writeInt(Icmpv6.TYPE_REDIRECT << 24).writeInt(0).writeLong(targetHi).writeLong(targetLo)
                    .writeLong(destinationHi).writeLong(destinationLo);
            linkLayer(out, Ndp.OPT_TARGET_LINK_LAYER_ADDRESS, targetLinkLayer);
            Icmpv6.fillChecksum(out, w, out.writerIndex() - w, srcHi, srcLo, dstHi, dstLo);
        }
    }

    private static void linkLayer(ByteBuf out, int type, long mac) {
        if (mac >= 0) {
            out.writeByte(type).writeByte(1);
            MacAddress.write(out, mac);
        }
    }

    /** The ND message in the IPv6 packet at {@code ipOff}, or null when {@link Ndp#check} fails. */
    static NdpRepr parse(ByteBuf buf, int ipOff) {
        int len = Ndp.check(buf, ipOff);
        if (len < 0) {
            return null;
        }
        int off = Ipv6.upperLayerOffset(buf, ipOff);
        int end = off + len;
        int type = buf.getUnsignedByte(off);
        int opts = off + Ndp.fixedLength(type);
        long slla = linkLayer(buf, opts, end, Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS);
        long tlla = linkLayer(buf, opts, end, Ndp.OPT_TARGET_LINK_LAYER_ADDRESS);
        return switch (type) {
            case Icmpv6.TYPE_ROUTER_SOLICITATION -> new RouterSolicitation(slla);
            case Icmpv6.TYPE_ROUTER_ADVERTISEMENT -> {
                List<PrefixInformation> prefixes = new ArrayList<>();
                List<Rdnss> rdnss = new ArrayList<>();
                long mtu = -1;
                for (int o = opts < end ? opts : -1; o >= 0; o = Ndp.nextOption(buf, o, end)) {
                    switch (buf.getUnsignedByte(o)) {
                        case Ndp.OPT_PREFIX_INFORMATION -> {
                            int f = Ndp.prefixFlags(buf, o);
                            prefixes.add(new PrefixInformation(Ndp.prefixLength(buf, o),
                                    (f & Ndp.PREFIX_FLAG_ON_LINK) != 0, (f & Ndp.PREFIX_FLAG_AUTONOMOUS) != 0,
                                    Ndp.prefixValidLifetime(buf, o), Ndp.prefixPreferredLifetime(buf, o),
                                    Ndp.prefixHi(buf, o), Ndp.prefixLo(buf, o)));
                        }
                        case Ndp.OPT_RDNSS -> {
                            List<Address> servers = new ArrayList<>();
                            for (int i = 0; i < Ndp.rdnssCount(buf, o); i++) {
                                servers.add(new Address(Ndp.rdnssAddressHi(buf, o, i), Ndp.rdnssAddressLo(buf, o, i)));
                            }
                            rdnss.add(new Rdnss(Ndp.rdnssLifetime(buf, o), servers));
                        }
                        case Ndp.OPT_MTU -> {
                            if (mtu < 0) {
                                mtu = Ndp.mtu(buf, o);
                            }
                        }
                        default -> {
                        }
                    }
                }
                yield new RouterAdvertisement(Ndp.raCurHopLimit(buf, off), Ndp.raFlags(buf, off),
                        Ndp.raRouterLifetime(buf, off), Ndp.raReachableTime(buf, off), Ndp.raRetransTimer(buf, off),
                        slla, mtu, prefixes, rdnss);
            }
            case Icmpv6.TYPE_NEIGHBOR_SOLICITATION ->
                    new NeighborSolicitation(Ndp.targetHi(buf, off), Ndp.targetLo(buf, off), slla);
            case Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT -> {
                int f = Ndp.naFlags(buf, off);
                yield new NeighborAdvertisement((f & Ndp.NA_FLAG_ROUTER) != 0, (f & Ndp.NA_FLAG_SOLICITED) != 0,
                        (f & Ndp.NA_FLAG_OVERRIDE) != 0, Ndp.targetHi(buf, off), Ndp.targetLo(buf, off), tlla);
            }
            default -> new Redirect(Ndp.targetHi(buf, off), Ndp.targetLo(buf, off),
                    Ndp.redirectDestinationHi(buf, off), Ndp.redirectDestinationLo(buf, off), tlla);
        };
    }

    /** The MAC in the first link-layer option of {@code type}, or -1. */
    private static long linkLayer(ByteBuf buf, int opts, int end, int type) {
        int o = Ndp.findOption(buf, opts, end, type);
        return o < 0 ? -1 : Ndp.linkLayerAddress(buf, o);
    }
}
