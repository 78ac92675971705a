package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.Expectation;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.FlowKey;
import dev.pktkit.nat.NatEngine;
import dev.pktkit.nat.NatMapping;
import dev.pktkit.nat.RemoteFilter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * NAT-PMP (RFC 6886, version 0) and PCP (RFC 6887, version 2: ANNOUNCE, MAP, PEER) on UDP 5351, told apart by
 * the version byte as RFC 6887 Appendix A says. Works on the NAT's loop: {@link #handle} takes one request and
 * returns the response to send (or null: dropped and counted).
 *
 * <p>PCP's FILTER option (RFC 6887 §13.3) on MAP: each option is 20 bytes (reserved, prefix length, remote peer
 * port, remote peer address); the filters of a request are applied in order to the lease's current ones (prefix
 * length 0 removes all, others are added, duplicates kept once), at most
 * {@link PortControlConfig#maxFiltersPerMapping} (else EXCESSIVE_REMOTE_PEERS, nothing changed), and set on the
 * NAT's mapping ({@link NatEngine#setRemoteFilters}), which then admits new inbound sessions only from them. The
 * options are echoed in the response. An IPv4-mapped address needs a prefix length of 96–128 (an IPv4 /0–/32);
 * an IPv6 remote peer (the NAT's outside is IPv4), another length, FILTER with lifetime 0 or on another opcode
 * than MAP: MALFORMED_OPTION.
 *
 * <p>Not done: NAT-PMP's announcement of an external-address change, MAP with protocol 0 (all protocols:
 * UNSUPP_PROTOCOL), IPv6 clients and IPv6 external addresses.
 */
final class PcpServer {
    // NAT-PMP result codes (RFC 6886 §3.5)
    static final int NATPMP_SUCCESS = 0;
    static final int NATPMP_UNSUPPORTED_VERSION = 1;
    static final int NATPMP_REFUSED = 2;
    static final int NATPMP_NETWORK_FAILURE = 3;
    static final int NATPMP_OUT_OF_RESOURCES = 4;
    static final int NATPMP_UNSUPPORTED_OPCODE = 5;

    // PCP (RFC 6887 §7.4, §19)
    static final int PCP_VERSION = 2;
    static final int OP_ANNOUNCE = 0;
    static final int OP_MAP = 1;
    static final int OP_PEER = 2;
    static final int SUCCESS = 0;
    static final int UNSUPP_VERSION = 1;
    static final int NOT_AUTHORIZED = 2;
    static final int MALFORMED_REQUEST = 3;
    static final int UNSUPP_OPCODE = 4;
    static final int UNSUPP_OPTION = 5;
    static final int MALFORMED_OPTION = 6;
    static final int NETWORK_FAILURE = 7;
    static final int NO_RESOURCES = 8;
    static final int UNSUPP_PROTOCOL = 9;
    static final int USER_EX_QUOTA = 10;
    static final int CANNOT_PROVIDE_EXTERNAL = 11;
    static final int ADDRESS_MISMATCH = 12;
    static final int EXCESSIVE_REMOTE_PEERS = 13;
    static final int OPT_THIRD_PARTY = 1;
    static final int OPT_PREFER_FAILURE = 2;
    static final int OPT_FILTER = 3;
    static final int MAX_MESSAGE = 1100;
    static final int HEADER = 24;
    static final int MAP_DATA = 36;
    static final int PEER_DATA = 56;
    /** Lifetimes of error responses (RFC 6887 §7.4: long for errors a retry will not fix, short otherwise). */
    static final int LONG_ERROR_LIFETIME = 1800;
    static final int SHORT_ERROR_LIFETIME = 30;

    private final PortControl control;
    private final LeaseTable leases;
    private final NatEngine engine;
    private final PortControlConfig config;
    private final PortControlCounters counters;
    private final Map<FlowKey, ExpectedFlow> peers = new HashMap<>();

    PcpServer(PortControl control) {
        this.control = control;
        this.leases = control.leaseTable();
        this.engine = control.nat().engine();
        this.config = control.config();
        this.counters = control.counters();
    }

    /** One request from {@code source} (an inside IPv4 address); ownership of {@code req} stays with the caller. */
    ByteBuf handle(ByteBuf req, int source, PortContext ctx, ByteBufAllocator alloc) {
        int len = req.readableBytes();
        if (len < 2) {
            counters.add(PortControlCounter.NATPMP_DROPPED);
            return null;
        }
        int base = req.readerIndex();
        int version = req.getUnsignedByte(base);
        if (version == 0) {
            if (!config.natPmp) {
                return natPmpShort(alloc, req.getUnsignedByte(base + 1), NATPMP_UNSUPPORTED_VERSION, false);
            }
            return natPmp(req, base, len, source, ctx, alloc);
        }
        if (!config.pcp) {
            // A NAT-PMP-only server answers other versions with its own "unsupported version" (RFC 6886 §3.5).
            return natPmpShort(alloc, req.getUnsignedByte(base + 1), NATPMP_UNSUPPORTED_VERSION, false);
        }
        return pcp(req, base, len, source, ctx, alloc);
    }

    // ---------------------------------------------------------------------------------------------------
    // NAT-PMP
    // ---------------------------------------------------------------------------------------------------

    private ByteBuf natPmp(ByteBuf req, int base, int len, int source, PortContext ctx, ByteBufAllocator alloc) {
        int op = req.getUnsignedByte(base + 1);
        if (op >= 128) {
            counters.add(PortControlCounter.NATPMP_DROPPED); // a response, not for us
            return null;
        }
        if (op == 0) {
            if (len != 2) {
                counters.add(PortControlCounter.NATPMP_DROPPED);
                return null;
            }
            ByteBuf r = alloc.buffer(12);
            r.writeByte(0).writeByte(128).writeShort(NATPMP_SUCCESS).writeInt(control.epochSeconds());
            r.writeInt(leases.outsideAddress());
            counters.add(PortControlCounter.NATPMP_OK);
            return r;
        }
        if (op != 1 && op != 2) {
            return natPmpShort(alloc, op, NATPMP_UNSUPPORTED_OPCODE, true);
        }
        if (len != 12) {
            counters.add(PortControlCounter.NATPMP_DROPPED);
            return null;
        }
        int protocol = op == 1 ? IpProtocol.UDP : IpProtocol.TCP;
        int internalPort = req.getUnsignedShort(base + 4);
        int suggested = req.getUnsignedShort(base + 6);
        long lifetime = req.getUnsignedInt(base + 8);
        int result;
        int external = 0;
        long granted = 0;
        if (lifetime == 0) {
            // RFC 6886 §3.4: delete one mapping, or with internal port 0 all of this host's for the protocol
            if (internalPort == 0) {
                leases.deleteHost(ctx.namespace(), protocol, source, Lease.Source.NATPMP);
            } else {
                LeaseTable.Result d = leases.deleteInside(ctx.namespace(), protocol, source, internalPort, null);
                if (d.status() == LeaseTable.Status.NOT_AUTHORIZED) {
                    return natPmpMap(alloc, op, NATPMP_REFUSED, internalPort, 0, 0);
                }
            }
            result = NATPMP_SUCCESS;
        } else if (internalPort == 0) {
            result = NATPMP_REFUSED;
        } else {
            LeaseTable.Result m = leases.map(ctx.namespace(), protocol, source, internalPort, suggested, false,
                    lifetime, Lease.Source.NATPMP, null, null);
            switch (m.status()) {
                case CREATED, RENEWED -> {
                    result = NATPMP_SUCCESS;
                    external = m.lease().externalPort;
                    granted = m.lease().secondsLeft(leases.now());
                }
                case NOT_AUTHORIZED -> result = NATPMP_REFUSED;
                default -> result = NATPMP_OUT_OF_RESOURCES;
            }
        }
        return natPmpMap(alloc, op, result, internalPort, external, granted);
    }

    private ByteBuf natPmpMap(ByteBufAllocator alloc, int op, int result, int internalPort, int external,
                              long lifetime) {
        ByteBuf r = alloc.buffer(16);
        r.writeByte(0).writeByte(op | 128).writeShort(result).writeInt(control.epochSeconds());
        r.writeShort(internalPort).writeShort(external).writeInt((int) lifetime);
        counters.add(result == NATPMP_SUCCESS ? PortControlCounter.NATPMP_OK : PortControlCounter.NATPMP_ERROR);
        return r;
    }

    private ByteBuf natPmpShort(ByteBufAllocator alloc, int op, int result, boolean natPmpCounter) {
        ByteBuf r = alloc.buffer(8);
        r.writeByte(0).writeByte((op & 0x7F) | 128).writeShort(result).writeInt(control.epochSeconds());
        counters.add(natPmpCounter || !config.pcp ? PortControlCounter.NATPMP_ERROR : PortControlCounter.PCP_ERROR);
        return r;
    }

    // ---------------------------------------------------------------------------------------------------
    // PCP
    // ---------------------------------------------------------------------------------------------------

    private ByteBuf pcp(ByteBuf req, int base, int len, int source, PortContext ctx, ByteBufAllocator alloc) {
        if (len < 4 || (req.getUnsignedByte(base + 1) & 0x80) != 0) {
            counters.add(PortControlCounter.PCP_DROPPED); // too short to answer, or a response
            return null;
        }
        int op = req.getUnsignedByte(base + 1) & 0x7F;
        if (req.getUnsignedByte(base) != PCP_VERSION) {
            return pcpError(req, base, 0, op, UNSUPP_VERSION, alloc);
        }
        if (len < HEADER || len > MAX_MESSAGE || (len & 3) != 0) {
            return pcpError(req, base, 0, op, MALFORMED_REQUEST, alloc);
        }
        long lifetime = req.getUnsignedInt(base + 4);
        int client = mappedV4(req, base + 8);
        if (client != source || client == 0 && !isMappedV4(req, base + 8)) {
            return pcpError(req, base, dataLength(op, len), op, ADDRESS_MISMATCH, alloc);
        }
        int dataLen;
        switch (op) {
            case OP_ANNOUNCE -> dataLen = 0;
            case OP_MAP -> dataLen = MAP_DATA;
            case OP_PEER -> dataLen = PEER_DATA;
            default -> {
                return pcpError(req, base, 0, op, UNSUPP_OPCODE, alloc);
            }
        }
        if (len < HEADER + dataLen) {
            return pcpError(req, base, 0, op, MALFORMED_REQUEST, alloc);
        }
        // options (RFC 6887 §7.3): code, reserved, length, data padded to 4 bytes
        int thirdParty = 0;
        boolean hasThirdParty = false;
        boolean preferFailure = false;
        List<RemoteFilter> filterOps = null; // FILTER options in order; null entries: prefix length 0 (remove all)
        int optEnd = base + len;
        int o = base + HEADER + dataLen;
        while (o < optEnd) {
            if (optEnd - o < 4) {
                return pcpError(req, base, dataLen, op, MALFORMED_OPTION, alloc);
            }
            int code = req.getUnsignedByte(o);
            int olen = req.getUnsignedShort(o + 2);
            int padded = (olen + 3) & ~3;
            if (o + 4 + padded > optEnd) {
                return pcpError(req, base, dataLen, op, MALFORMED_OPTION, alloc);
            }
            switch (code) {
                case OPT_THIRD_PARTY -> {
                    if (olen != 16 || hasThirdParty || op == OP_ANNOUNCE || !isMappedV4(req, o + 4)) {
                        return pcpError(req, base, dataLen, op, MALFORMED_OPTION, alloc);
                    }
                    hasThirdParty = true;
                    thirdParty = mappedV4(req, o + 4);
                }
                case OPT_PREFER_FAILURE -> {
                    if (olen != 0 || preferFailure || op != OP_MAP) {
                        return pcpError(req, base, dataLen, op, MALFORMED_OPTION, alloc);
                    }
                    preferFailure = true;
                }
                case OPT_FILTER -> {
                    // RFC 6887 §13.3: 20 bytes, MAP only, not with lifetime 0; IPv4 peers as ::ffff:a.b.c.d/96+n
                    if (olen != 20 || op != OP_MAP || lifetime == 0) {
                        return pcpError(req, base, dataLen, op, MALFORMED_OPTION, alloc);
                    }
                    int prefix = req.getUnsignedByte(o + 5);
                    RemoteFilter f = null;
                    if (prefix != 0) {
                        if (!isMappedV4(req, o + 8) || prefix < 96 || prefix > 128) {
                            return pcpError(req, base, dataLen, op, MALFORMED_OPTION, alloc);
                        }
                        f = new RemoteFilter(req.getInt(o + 20), prefix - 96, req.getUnsignedShort(o + 6));
                    }
                    if (filterOps == null) {
                        filterOps = new ArrayList<>(4);
                    }
                    filterOps.add(f);
                }
                default -> {
                    if (code < 128) { // mandatory to process: unknown ones
                        return pcpError(req, base, dataLen, op, UNSUPP_OPTION, alloc);
                    }
                }
            }
            o += 4 + padded;
        }
        int internal = source;
        if (hasThirdParty) {
            if (!config.allowThirdParty) {
                return pcpError(req, base, dataLen, op, NOT_AUTHORIZED, alloc);
            }
            internal = thirdParty;
        }
        return switch (op) {
            case OP_ANNOUNCE -> pcpResponse(req, base, 0, op, SUCCESS, 0, alloc);
            case OP_MAP -> map(req, base, lifetime, internal, preferFailure, filterOps, ctx, alloc);
            default -> peer(req, base, lifetime, internal, ctx, alloc);
        };
    }

    private static int dataLength(int op, int len) {
        int d = op == OP_MAP ? MAP_DATA : op == OP_PEER ? PEER_DATA : 0;
        return len >= HEADER + d ? d : 0;
    }

    private ByteBuf map(ByteBuf req, int base, long lifetime, int internal, boolean preferFailure,
                        List<RemoteFilter> filterOps, PortContext ctx, ByteBufAllocator alloc) {
        int d = base + HEADER;
        byte[] nonce = new byte[12];
        req.getBytes(d, nonce);
        int protocol = req.getUnsignedByte(d + 12);
        int internalPort = req.getUnsignedShort(d + 16);
        int suggestedPort = req.getUnsignedShort(d + 18);
        if (protocol != IpProtocol.TCP && protocol != IpProtocol.UDP) {
            return pcpError(req, base, MAP_DATA, OP_MAP, UNSUPP_PROTOCOL, alloc);
        }
        if (internalPort == 0) {
            return pcpError(req, base, MAP_DATA, OP_MAP, MALFORMED_REQUEST, alloc);
        }
        if (lifetime == 0) {
            LeaseTable.Result r = leases.deleteInside(ctx.namespace(), protocol, internal, internalPort, nonce);
            if (r.status() == LeaseTable.Status.NOT_AUTHORIZED) {
                return pcpError(req, base, MAP_DATA, OP_MAP, NOT_AUTHORIZED, alloc);
            }
            // RFC 6887 §15.1 (erratum 3621): the suggested port and address, zero from the client, are copied back
            return pcpResponse(req, base, MAP_DATA, OP_MAP, SUCCESS, 0, alloc);
        }
        boolean ipWanted = !isZeroAddress(req, d + 20);
        if (ipWanted && (!isMappedV4(req, d + 20) || mappedV4(req, d + 20) != leases.outsideAddress()) && preferFailure) {
            return pcpError(req, base, MAP_DATA, OP_MAP, CANNOT_PROVIDE_EXTERNAL, alloc);
        }
        List<RemoteFilter> filters = null; // null: the lease's filters stay as they are
        if (filterOps != null) {
            // RFC 6887 §13.3: added to the mapping's filters in order, prefix length 0 removing all; too many and
            // the whole request fails with nothing changed
            Lease existing = leases.ofInside(ctx.namespace(), protocol, internal, internalPort);
            filters = new ArrayList<>();
            if (existing != null && (existing.nonce == null || Arrays.equals(existing.nonce, nonce))) {
                filters.addAll(existing.filters);
            }
            for (RemoteFilter f : filterOps) {
                if (f == null) {
                    filters.clear();
                } else if (!filters.contains(f)) {
                    filters.add(f);
                }
            }
            if (filters.size() > config.maxFiltersPerMapping) {
                return pcpError(req, base, MAP_DATA, OP_MAP, EXCESSIVE_REMOTE_PEERS, alloc);
            }
        }
        LeaseTable.Result r = leases.map(ctx.namespace(), protocol, internal, internalPort, suggestedPort,
                preferFailure, lifetime, Lease.Source.PCP, nonce, null);
        int code = switch (r.status()) {
            case CREATED, RENEWED -> SUCCESS;
            case NOT_AUTHORIZED -> NOT_AUTHORIZED;
            case NO_RESOURCES -> NO_RESOURCES;
            default -> CANNOT_PROVIDE_EXTERNAL;
        };
        if (code != SUCCESS) {
            return pcpError(req, base, MAP_DATA, OP_MAP, code, alloc);
        }
        if (filters != null) {
            // a lease is a forward or an opened mapping, so the NAT has a mapping to filter
            if (!engine.setRemoteFilters(ctx.namespace(), protocol, internal, internalPort, filters)) {
                // no static or opened NAT mapping under the lease (the lease table re-creates a lost one, so
                // this is a defence): the request fails (counted as PCP_ERROR), and a lease it made is undone
                if (r.status() == LeaseTable.Status.CREATED) {
                    leases.deleteInside(ctx.namespace(), protocol, internal, internalPort, nonce);
                }
                return pcpError(req, base, MAP_DATA, OP_MAP, NO_RESOURCES, alloc);
            }
            r.lease().filters = List.copyOf(filters);
        }
        ByteBuf resp = pcpResponse(req, base, MAP_DATA, OP_MAP, SUCCESS, r.lease().secondsLeft(leases.now()), alloc);
        int rd = resp.readerIndex() + HEADER;
        resp.setShort(rd + 18, r.lease().externalPort);
        writeMappedV4(resp, rd + 20, leases.outsideAddress());
        return resp;
    }

    private ByteBuf peer(ByteBuf req, int base, long lifetime, int internal, PortContext ctx, ByteBufAllocator alloc) {
        int d = base + HEADER;
        int protocol = req.getUnsignedByte(d + 12);
        int internalPort = req.getUnsignedShort(d + 16);
        int remotePort = req.getUnsignedShort(d + 36);
        if (protocol != IpProtocol.TCP && protocol != IpProtocol.UDP) {
            return pcpError(req, base, PEER_DATA, OP_PEER, UNSUPP_PROTOCOL, alloc);
        }
        if (internalPort == 0 || remotePort == 0 || !isMappedV4(req, d + 40) || isZeroAddress(req, d + 40)) {
            return pcpError(req, base, PEER_DATA, OP_PEER, MALFORMED_REQUEST, alloc);
        }
        int remote = mappedV4(req, d + 40);
        FlowKey key = new FlowKey(ctx.namespace(), protocol, internal, internalPort, remote, remotePort);
        ExpectedFlow pending = peers.get(key);
        if (lifetime == 0) {
            if (pending != null) {
                pending.cancel();
                peers.remove(key);
            }
            return pcpResponse(req, base, PEER_DATA, OP_PEER, SUCCESS, 0, alloc);
        }
        int granted = leases.clampSeconds(lifetime);
        int externalPort;
        NatMapping m = engine.mappingOf(ctx.namespace(), protocol, internal, internalPort);
        int left = engine.secondsLeft(key);
        if (m != null && left > 0) {
            // the flow exists: report it (RFC 6887 §12.3: a PEER request for an existing flow returns its mapping)
            externalPort = m.outsidePort();
            granted = left;
        } else if (pending != null && pending.isPending()) {
            externalPort = pending.outsidePort();
        } else {
            expirePeers();
            if (peers.size() >= config.maxLeases) {
                return pcpError(req, base, PEER_DATA, OP_PEER, NO_RESOURCES, alloc);
            }
            // no flow yet: reserve the mapping and admit the remote peer's first packet for the lifetime
            ExpectedFlow f = engine.expect(new Expectation(key, protocol, internal, internalPort, remote, remotePort,
                    0, Duration.ofSeconds(granted)));
            if (f == null) {
                return pcpError(req, base, PEER_DATA, OP_PEER, NO_RESOURCES, alloc);
            }
            peers.put(key, f);
            externalPort = f.outsidePort();
        }
        ByteBuf resp = pcpResponse(req, base, PEER_DATA, OP_PEER, SUCCESS, granted, alloc);
        int rd = resp.readerIndex() + HEADER;
        resp.setShort(rd + 18, externalPort);
        writeMappedV4(resp, rd + 20, leases.outsideAddress());
        return resp;
    }

    /** Forgets PEER expectations that matched, expired or were cancelled. */
    void expirePeers() {
        for (Iterator<ExpectedFlow> it = peers.values().iterator(); it.hasNext(); ) {
            if (!it.next().isPending()) {
                it.remove();
            }
        }
    }

    private ByteBuf pcpError(ByteBuf req, int base, int dataLen, int op, int code, ByteBufAllocator alloc) {
        long lifetime = code == NO_RESOURCES || code == CANNOT_PROVIDE_EXTERNAL || code == NETWORK_FAILURE
                || code == USER_EX_QUOTA ? SHORT_ERROR_LIFETIME : LONG_ERROR_LIFETIME;
        return pcpResponse(req, base, dataLen, op, code, lifetime, alloc);
    }

    /**
     * A response (RFC 6887 §7.2): version 2, R bit and opcode, result, lifetime, epoch, 96 reserved bits, then
     * the request's opcode data (and, on success, its THIRD_PARTY / PREFER_FAILURE / FILTER options) copied.
     */
    private ByteBuf pcpResponse(ByteBuf req, int base, int dataLen, int op, int code, long lifetime,
                                ByteBufAllocator alloc) {
        int optionsLen = 0;
        if (code == SUCCESS) {
            optionsLen = req.readableBytes() - HEADER - dataLen;
        }
        ByteBuf r = alloc.buffer(HEADER + dataLen + Math.max(0, optionsLen));
        r.writeByte(PCP_VERSION).writeByte(0x80 | op).writeByte(0).writeByte(code);
        r.writeInt((int) lifetime).writeInt(control.epochSeconds());
        r.writeZero(12);
        if (dataLen > 0) {
            r.writeBytes(req, base + HEADER, dataLen);
        }
        if (optionsLen > 0) {
            // echo the options this server processed; optional ones (>= 128) it ignored are left out
            int o = base + HEADER + dataLen;
            int end = base + req.readableBytes();
            while (o + 4 <= end) {
                int code0 = req.getUnsignedByte(o);
                int padded = (req.getUnsignedShort(o + 2) + 3) & ~3;
                if (code0 == OPT_THIRD_PARTY || code0 == OPT_PREFER_FAILURE || code0 == OPT_FILTER) {
                    r.writeBytes(req, o, 4 + padded);
                }
                o += 4 + padded;
            }
        }
        counters.add(code == SUCCESS ? PortControlCounter.PCP_OK : PortControlCounter.PCP_ERROR);
        return r;
    }

    /**
     * The unsolicited announcements of a (re)started server to 224.0.0.1:5350, on the NAT's loop: NAT-PMP's
     * external-address response (RFC 6886 §3.2.1) when NAT-PMP is on, and PCP's ANNOUNCE response (RFC 6887
     * §14.1.3: opcode ANNOUNCE, result SUCCESS, lifetime 0, the epoch) when PCP is on; each once (RFC 6886 asks
     * for ten, at doubling intervals: not done).
     */
    java.util.List<ByteBuf> announcements(ByteBufAllocator alloc) {
        java.util.List<ByteBuf> out = new java.util.ArrayList<>(2);
        if (config.natPmp) {
            out.add(alloc.buffer(12).writeByte(0).writeByte(128).writeShort(NATPMP_SUCCESS)
                    .writeInt(control.epochSeconds()).writeInt(leases.outsideAddress()));
        }
        if (config.pcp) {
            out.add(alloc.buffer(HEADER).writeByte(PCP_VERSION).writeByte(0x80 | OP_ANNOUNCE).writeByte(0)
                    .writeByte(SUCCESS).writeInt(0).writeInt(control.epochSeconds()).writeZero(12));
        }
        return out;
    }

    static boolean isMappedV4(ByteBuf b, int off) {
        return b.getLong(off) == 0 && b.getInt(off + 8) == 0xFFFF;
    }

    static int mappedV4(ByteBuf b, int off) {
        return isMappedV4(b, off) ? b.getInt(off + 12) : 0;
    }

    static boolean isZeroAddress(ByteBuf b, int off) {
        return b.getLong(off) == 0 && (b.getInt(off + 8) == 0 || b.getInt(off + 8) == 0xFFFF) && b.getInt(off + 12) == 0;
    }

    static void writeMappedV4(ByteBuf b, int off, int addr) {
        b.setLong(off, 0);
        b.setInt(off + 8, 0xFFFF);
        b.setInt(off + 12, addr);
    }
}
