package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.HelperPacket;
import io.netty.buffer.ByteBuf;

/**
 * H.323 through the NAT (off by default): H.225.0 call signalling (Q.931 in TPKT over TCP, port 1720, its
 * User-user IE holding the PER-encoded H323-UserInformation) and the H.245 control connections it announces, as
 * Linux's {@code nf_conntrack_h323} / {@code nf_nat_h323} handle them. The PER tree is read only as far as the
 * IPv4 {@code TransportAddress} fields (4 address bytes and a 2-byte port, see {@link H323Decoder}); a rewrite
 * keeps their size, so no TCP sequence offsets arise.
 *
 * <p>Outbound (from the inside host), an address equal to the inside host's own:
 * <ul>
 *   <li>{@code h245Address} (Setup, Call Proceeding, Connect, Alerting, Facility): the H.245 connection from the
 *   remote expected (TCP, from the remote's address, any port) and the address rewritten to its outside
 *   endpoint; that connection is then claimed as an H.245 control flow;</li>
 *   <li>Setup's {@code sourceCallSignalAddress}: rewritten to the signalling flow's outside endpoint;</li>
 *   <li>{@code mediaChannel} / {@code mediaControlChannel} of OpenLogicalChannel (H.245, or {@code fastStart} in
 *   H.225.0) and OpenLogicalChannelAck: RTP / RTCP expected (UDP, from the control flow's remote address, any
 *   port) and rewritten to the expected outside endpoint.</li>
 * </ul>
 * Inbound, a remote's {@code h245Address} is remembered so that the inside host's connection to it is claimed
 * as an H.245 control flow. Addresses of other hosts, and the inside host's with port 0 or a port below 1024 in
 * an {@code h245Address} or media channel, count {@link AlgEvent#FOREIGN_ADDRESS} and pass (nothing expected).
 *
 * <p>Bounds: {@link #MAX_PENDING} announced H.245 connections waiting (the oldest is forgotten beyond that; each
 * expires after the expectation timeout), {@link H323Decoder#MAX_ADDRESSES} addresses per message, the engine's
 * expectations per control flow. Malformed messages pass unchanged and count {@link AlgEvent#MALFORMED};
 * structures the decoder does not read count {@link AlgEvent#UNDECODED} (what came before them is handled).
 * Limits: a TPKT must lie within one TCP segment; tunnelled H.245 ({@code h245Control}), RAS (UDP 1719), T.120
 * {@code separateStack}, IPv6 and inside endpoints reached through a gatekeeper's routed signalling on other
 * ports are not handled; inbound addresses are never rewritten (an inside endpoint behind a port forward of
 * 1720 is handled for what it sends, as both directions' inside addresses are the host's own).
 */
public final class H323Alg extends Alg {
    /** Announced H.245 connections waiting to be claimed. */
    public static final int MAX_PENDING = 64;
    private static final int TPKT_VERSION = 3;
    private static final int Q931 = 0x08;
    private static final int USER_USER = 0x7E;

    private final H323Decoder decoder = new H323Decoder();
    private final int[] pNs = new int[MAX_PENDING];
    private final int[] pIn = new int[MAX_PENDING];
    private final int[] pInPort = new int[MAX_PENDING];   // 0: the inside host connects out
    private final int[] pRemote = new int[MAX_PENDING];
    private final int[] pRemotePort = new int[MAX_PENDING]; // 0: the remote connects in
    private final int[] pExpires = new int[MAX_PENDING];
    private final boolean[] pUsed = new boolean[MAX_PENDING];
    private int pNext;
    private int now;

    H323Alg(AlgConfig config) {
        super(config);
    }

    @Override
    public String name() {
        return "h323";
    }

    /** H.245 connections announced and not yet seen. */
    public int pendingH245() {
        int n = 0;
        for (int i = 0; i < MAX_PENDING; i++) {
            if (pUsed[i] && pExpires[i] - now > 0) {
                n++;
            }
        }
        return n;
    }

    @Override
    boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        return protocol == IpProtocol.TCP && AlgConfig.contains(config.h323Ports, fromOutside ? insidePort : remotePort);
    }

    @Override
    public boolean claims(int ns, int protocol, int insideAddress, int insidePort, int remoteAddress,
                          int remotePort, boolean fromOutside) {
        if (claims(protocol, insidePort, remotePort, fromOutside)) {
            return true;
        }
        if (protocol != IpProtocol.TCP) {
            return false;
        }
        for (int i = 0; i < MAX_PENDING; i++) {
            if (pUsed[i] && pNs[i] == ns && pIn[i] == insideAddress && pRemote[i] == remoteAddress
                    && pExpires[i] - now > 0
                    && (fromOutside ? pInPort[i] == insidePort && pRemotePort[i] == 0
                                    : pInPort[i] == 0 && pRemotePort[i] == remotePort)) {
                pUsed[i] = false;
                counters.increment(AlgEvent.FLOWS);
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean packet(HelperPacket p, int slot) {
        counters.increment(AlgEvent.PACKETS);
        now = p.engine().now();
        boolean h225 = AlgConfig.contains(config.h323Ports, p.remotePort())
                || AlgConfig.contains(config.h323Ports, p.insidePort());
        ByteBuf b = p.buffer();
        int at = p.payloadOffset();
        int end = at + p.payloadLength();
        while (end - at >= 4) {
            int len = b.getUnsignedShort(at + 2);
            if (b.getUnsignedByte(at) != TPKT_VERSION || b.getUnsignedByte(at + 1) != 0 || len < 5) {
                counters.increment(AlgEvent.MALFORMED);
                return true;
            }
            if (at + len > end) {
                return true; // split across segments: passed as it is
            }
            if (h225) {
                q931(p, slot, b, at + 4, at + len);
            } else {
                result(p, slot, decoder.decodeH245(b, at + 4, at + len), decoder.h245Message >= 0);
            }
            at += len;
        }
        return true;
    }

    /** A Q.931 message: its User-user IE's H323-UserInformation. */
    private void q931(HelperPacket p, int slot, ByteBuf b, int at, int end) {
        if (end - at < 3 || b.getUnsignedByte(at) != Q931) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int crl = b.getUnsignedByte(at + 1) & 0x0F;
        int i = at + 2 + crl + 1; // after the message type
        while (i < end) {
            int id = b.getUnsignedByte(i);
            if ((id & 0x80) != 0) {
                i++;
                continue;
            }
            if (id == USER_USER) {
                if (i + 4 > end) {
                    break;
                }
                int len = b.getUnsignedShort(i + 1);
                if (len < 1 || i + 3 + len > end) {
                    break;
                }
                result(p, slot, decoder.decodeH225(b, i + 4, i + 3 + len), true);
                return;
            }
            if (i + 2 > end) {
                break;
            }
            i += 2 + b.getUnsignedByte(i + 1);
        }
        if (i != end) {
            counters.increment(AlgEvent.MALFORMED);
        }
    }

    private void result(HelperPacket p, int slot, int r, boolean message) {
        if (r == H323Decoder.MALFORMED) {
            counters.increment(AlgEvent.MALFORMED);
            return; // nothing trusted: unchanged
        }
        if (r == H323Decoder.UNSUPPORTED) {
            counters.increment(AlgEvent.UNDECODED);
        }
        if (message) {
            counters.increment(AlgEvent.MESSAGES);
        }
        boolean rewritten = false;
        ByteBuf b = p.buffer();
        for (int k = 0; k < decoder.count; k++) {
            int at = decoder.at[k];
            int kind = decoder.kind[k];
            int ip = b.getInt(at);
            int port = b.getUnsignedShort(at + 4);
            if (kind == H323Decoder.OTHER) {
                continue;
            }
            if (!p.isOutbound()) {
                if (kind == H323Decoder.H245_ADDRESS && port != 0) {
                    pending(p.namespace(), p.insideAddress(), 0, ip, port);
                }
                continue;
            }
            if (ip != p.insideAddress()) {
                counters.increment(AlgEvent.FOREIGN_ADDRESS);
                continue;
            }
            int newIp;
            int newPort;
            if (kind == H323Decoder.SIGNAL_ADDRESS) {
                if (port != p.insidePort()) {
                    continue;
                }
                newIp = p.outsideAddress();
                newPort = p.outsidePort();
            } else {
                if (port < 1024) {
                    // port 0 or a privileged port: no H.245 or RTP endpoint; nothing expected, unchanged
                    counters.increment(AlgEvent.FOREIGN_ADDRESS);
                    continue;
                }
                boolean tcp = kind == H323Decoder.H245_ADDRESS;
                ExpectedFlow f = expect(p, slot, tcp ? IpProtocol.TCP : IpProtocol.UDP, ip, port,
                        p.remoteAddress(), 0, 0);
                if (f == null) {
                    continue;
                }
                if (tcp) {
                    pending(p.namespace(), ip, port, p.remoteAddress(), 0);
                }
                newIp = f.outsideAddress();
                newPort = f.outsidePort();
            }
            if (newIp != ip || newPort != port) {
                byte[] with = {(byte) (newIp >>> 24), (byte) (newIp >>> 16), (byte) (newIp >>> 8), (byte) newIp,
                        (byte) (newPort >>> 8), (byte) newPort};
                if (p.replace(at, 6, with)) {
                    rewritten = true;
                } else {
                    counters.increment(AlgEvent.REWRITE_FAILED);
                }
            }
        }
        if (rewritten) {
            counters.increment(AlgEvent.REWRITTEN);
        }
    }

    private void pending(int ns, int in, int inPort, int remote, int remotePort) {
        int free = -1;
        for (int i = 0; i < MAX_PENDING; i++) {
            if (pUsed[i] && pNs[i] == ns && pIn[i] == in && pInPort[i] == inPort && pRemote[i] == remote
                    && pRemotePort[i] == remotePort) {
                free = i; // a retransmission: refreshed
                break;
            }
            if (free < 0 && (!pUsed[i] || pExpires[i] - now <= 0)) {
                free = i;
            }
        }
        if (free < 0) {
            free = pNext;
            pNext = (pNext + 1) % MAX_PENDING;
        }
        pUsed[free] = true;
        pNs[free] = ns;
        pIn[free] = in;
        pInPort[free] = inPort;
        pRemote[free] = remote;
        pRemotePort[free] = remotePort;
        pExpires[free] = now + (int) Math.max(1, config.expectTimeout.toSeconds());
    }
}
