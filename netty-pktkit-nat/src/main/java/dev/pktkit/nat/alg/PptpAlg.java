package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.HelperPacket;
import dev.pktkit.nat.NatEngine;
import dev.pktkit.nat.ProtocolHelper;
import io.netty.buffer.ByteBuf;

/**
 * PPTP (RFC 2637) through the NAT (off by default), for inside clients (PNS) of outside servers (PAC, TCP 1723).
 * The control connection's call IDs are mapped: the inside host's Call ID in Outgoing-Call-Request,
 * Incoming-Call-Reply, Call-Clear-Request and Call-Disconnect-Notify becomes an outside call ID unique per
 * (outside address, server), so that two inside hosts that pick the same ID stay apart; the server's messages
 * that name it (Outgoing-Call-Reply, Incoming-Call-Connected, WAN-Error-Notify, Set-Link-Info as Peer's Call ID)
 * get the inside ID back. The enhanced GRE (version 1) packets of a call are translated: outbound by source
 * address (their key is the server's call ID), inbound by the key, which carries the outside call ID and goes
 * back to the inside host and its own ID.
 *
 * <p>Bounds: {@link #MAX_CALLS} calls at a time (a request beyond it passes untranslated, counted as
 * {@link AlgEvent#EXPECT_REFUSED}); calls end with Call-Clear-Request / Call-Disconnect-Notify or with their
 * control connection. GRE lookups scan the live calls (at most {@link #MAX_CALLS}). Limits: inside PAC servers
 * (behind a port forward) are not handled; a control message must lie within one segment.
 */
public final class PptpAlg extends Alg implements ProtocolHelper {
    /** Calls translated at a time. */
    public static final int MAX_CALLS = 256;
    static final int MAGIC = 0x1A2B3C4D;
    static final int OCRQ = 7;
    static final int OCRP = 8;
    static final int ICRQ = 9;
    static final int ICRP = 10;
    static final int ICCN = 11;
    static final int CCRQ = 12;
    static final int CDN = 13;
    static final int WEN = 14;
    static final int SLI = 15;

    private final int[] cSlot = new int[MAX_CALLS]; // control flow slot, -1 free
    private final int[] cNs = new int[MAX_CALLS];
    private final int[] cIn = new int[MAX_CALLS];
    private final int[] cInId = new int[MAX_CALLS];
    private final int[] cOut = new int[MAX_CALLS];
    private final int[] cOutId = new int[MAX_CALLS];
    private final int[] cRemote = new int[MAX_CALLS];
    private final int[] cPeerId = new int[MAX_CALLS]; // the server's call ID, -1 until known
    private int calls;
    private long greOut;
    private long greIn;

    PptpAlg(AlgConfig config) {
        super(config);
        java.util.Arrays.fill(cSlot, -1);
    }

    @Override
    public String name() {
        return "pptp";
    }

    @Override
    public int protocol() {
        return IpProtocol.GRE;
    }

    /** Calls being translated. */
    public int calls() {
        return calls;
    }

    /** GRE packets translated outbound and inbound (NAT loop only). */
    public long greTranslated() {
        return greOut + greIn;
    }

    @Override
    boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        return protocol == IpProtocol.TCP && !fromOutside && AlgConfig.contains(config.pptpPorts, remotePort);
    }

    @Override
    public boolean packet(HelperPacket p, int slot) {
        counters.increment(AlgEvent.PACKETS);
        ByteBuf b = p.buffer();
        int at = p.payloadOffset();
        int end = at + p.payloadLength();
        while (end - at >= 16) {
            int len = b.getUnsignedShort(at);
            if (len < 16 || at + len > end || b.getUnsignedShort(at + 2) != 1 || b.getInt(at + 4) != MAGIC) {
                if (len < 16 || b.getInt(at + 4) != MAGIC) {
                    counters.increment(AlgEvent.MALFORMED);
                }
                return true; // a message split across segments, or not PPTP: passed as it is
            }
            message(p, slot, b, at, len, b.getUnsignedShort(at + 8));
            at += len;
        }
        return true;
    }

    private void message(HelperPacket p, int slot, ByteBuf b, int at, int len, int type) {
        if (type < OCRQ || type > SLI) {
            return; // connection management (start/stop/echo): no call IDs
        }
        counters.increment(AlgEvent.MESSAGES);
        int f1 = at + 12;
        int f2 = at + 14;
        if (p.isOutbound()) {
            switch (type) {
                case OCRQ -> newCall(p, slot, b, f1, -1);
                case ICRP -> {
                    if (len >= 16) {
                        newCall(p, slot, b, f1, b.getUnsignedShort(f2));
                    }
                }
                case CCRQ, CDN -> {
                    int c = byInside(p.namespace(), p.insideAddress(), p.remoteAddress(), b.getUnsignedShort(f1));
                    if (c >= 0) {
                        set(p, b, f1, cOutId[c]);
                        if (type == CDN) {
                            free(c);
                        }
                    }
                }
                default -> {
                    // WEN, SLI from the client name the server's call ID; nothing of ours
                }
            }
        } else {
            switch (type) {
                case OCRP, ICCN, WEN, SLI -> {
                    int field = type == OCRP ? f2 : f1;
                    int c = byOutside(p.outsideAddress(), p.remoteAddress(), b.getUnsignedShort(field));
                    if (c < 0) {
                        counters.increment(AlgEvent.FOREIGN_ADDRESS);
                        return;
                    }
                    if (type == OCRP) {
                        cPeerId[c] = b.getUnsignedShort(f1);
                    }
                    set(p, b, field, cInId[c]);
                }
                case CDN -> {
                    // the server's own call ID: the call ends
                    int c = byPeer(p.outsideAddress(), p.remoteAddress(), b.getUnsignedShort(f1));
                    if (c >= 0) {
                        free(c);
                    }
                }
                default -> {
                    // ICRQ: the server's new call ID; the client answers with ICRP
                }
            }
        }
    }

    private void set(HelperPacket p, ByteBuf b, int field, int id) {
        if (b.getUnsignedShort(field) != id) {
            p.replace(field, 2, new byte[]{(byte) (id >>> 8), (byte) id});
            counters.increment(AlgEvent.REWRITTEN);
        }
    }

    private void newCall(HelperPacket p, int slot, ByteBuf b, int field, int peerId) {
        int inId = b.getUnsignedShort(field);
        int existing = byInside(p.namespace(), p.insideAddress(), p.remoteAddress(), inId);
        if (existing >= 0) { // a retransmitted request
            set(p, b, field, cOutId[existing]);
            return;
        }
        int c = -1;
        for (int i = 0; i < MAX_CALLS; i++) {
            if (cSlot[i] < 0) {
                c = i;
                break;
            }
        }
        int perFlow = 0;
        for (int i = 0; i < MAX_CALLS; i++) {
            if (cSlot[i] == slot) {
                perFlow++;
            }
        }
        if (c < 0 || perFlow >= config.maxCallsPerControl) {
            counters.increment(AlgEvent.EXPECT_REFUSED);
            return;
        }
        int outId = inId;
        for (int tries = 0; byOutside(p.outsideAddress(), p.remoteAddress(), outId) >= 0; tries++) {
            if (tries == 65536) {
                counters.increment(AlgEvent.EXPECT_REFUSED);
                return;
            }
            outId = (outId + 1) & 0xFFFF;
        }
        cSlot[c] = slot;
        cNs[c] = p.namespace();
        cIn[c] = p.insideAddress();
        cInId[c] = inId;
        cOut[c] = p.outsideAddress();
        cOutId[c] = outId;
        cRemote[c] = p.remoteAddress();
        cPeerId[c] = peerId;
        calls++;
        counters.increment(AlgEvent.EXPECTED);
        set(p, b, field, outId);
    }

    private void free(int c) {
        cSlot[c] = -1;
        calls--;
    }

    @Override
    public void sessionRemoved(int slot) {
        for (int i = 0; i < MAX_CALLS; i++) {
            if (cSlot[i] == slot) {
                free(i);
            }
        }
    }

    private int byInside(int ns, int in, int remote, int inId) {
        for (int i = 0; i < MAX_CALLS && calls > 0; i++) {
            if (cSlot[i] >= 0 && cInId[i] == inId && cIn[i] == in && cRemote[i] == remote && cNs[i] == ns) {
                return i;
            }
        }
        return -1;
    }

    private int byOutside(int out, int remote, int outId) {
        for (int i = 0; i < MAX_CALLS && calls > 0; i++) {
            if (cSlot[i] >= 0 && cOutId[i] == outId && cOut[i] == out && cRemote[i] == remote) {
                return i;
            }
        }
        return -1;
    }

    private int byPeer(int out, int remote, int peerId) {
        for (int i = 0; i < MAX_CALLS && calls > 0; i++) {
            if (cSlot[i] >= 0 && cPeerId[i] == peerId && cOut[i] == out && cRemote[i] == remote) {
                return i;
            }
        }
        return -1;
    }

    /** Enhanced GRE (RFC 2637 §4.1): version 1, key present, protocol 0x880B; the key's low half the call ID. */
    private static boolean enhancedGre(ByteBuf b, int l4, int end) {
        return end - l4 >= 8 && (b.getUnsignedByte(l4 + 1) & 0x07) == 1 && (b.getUnsignedByte(l4) & 0x20) != 0
                && b.getUnsignedShort(l4 + 2) == 0x880B;
    }

    @Override
    public int outbound(ByteBuf b, int off, int l4, int end, int ns, int src, int dst) {
        if (calls == 0 || !enhancedGre(b, l4, end)) {
            return NatEngine.PASS;
        }
        int peerId = b.getUnsignedShort(l4 + 6);
        for (int i = 0; i < MAX_CALLS; i++) {
            if (cSlot[i] >= 0 && cPeerId[i] == peerId && cIn[i] == src && cRemote[i] == dst && cNs[i] == ns) {
                b.setInt(off + 12, cOut[i]);
                b.setShort(off + 10, Checksums.incrementalUpdate32(b.getUnsignedShort(off + 10), src, cOut[i]));
                greOut++;
                return NatEngine.TO_OUTSIDE;
            }
        }
        return NatEngine.PASS;
    }

    @Override
    public int inbound(ByteBuf b, int off, int l4, int end, int src, int dst) {
        if (calls == 0 || !enhancedGre(b, l4, end)) {
            return NatEngine.PASS;
        }
        int c = byOutside(dst, src, b.getUnsignedShort(l4 + 6));
        if (c < 0) {
            return NatEngine.PASS;
        }
        NatEngine e = engine;
        int port = e == null ? -1 : e.portOf(cNs[c], cIn[c]);
        if (port < 0) {
            return NatEngine.DROP;
        }
        b.setInt(off + 16, cIn[c]);
        b.setShort(off + 10, Checksums.incrementalUpdate32(b.getUnsignedShort(off + 10), dst, cIn[c]));
        b.setShort(l4 + 6, cInId[c]); // GRE version 1 has no checksum
        greIn++;
        return port;
    }

    private NatEngine engine;

    void engine(NatEngine e) {
        engine = e;
    }
}
