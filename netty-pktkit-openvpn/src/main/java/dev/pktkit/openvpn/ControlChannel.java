package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.crypto.ControlWrap;
import dev.pktkit.openvpn.reliable.ReliableConfig;
import dev.pktkit.openvpn.reliable.ReliableLayer;
import dev.pktkit.openvpn.wire.ControlPacket;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.function.Consumer;

/**
 * One key's control channel between two session IDs: turns received control packets into in-order control
 * messages (the TLS byte stream's fragments) and outgoing messages into reliable, acknowledged, optionally
 * tls-auth protected packets. Transport-blind: packets go out through {@code output} and time is passed in.
 *
 * <p>Ownership: {@link #onPacket} takes the packet's reference; {@link #send} takes the payload's; buffers given
 * to {@code output} and {@code messages} belong to the receiver. One event loop; not thread-safe.
 *
 * <p>Protection: none, {@code tls-auth}, {@code tls-crypt} or a {@code tls-crypt-v2} client key (any
 * {@link ControlWrap}); the caller strips a WKc from {@code P_CONTROL_HARD_RESET_CLIENT_V3} /
 * {@code P_CONTROL_WKC_V1} before handing the packet in (those count as a client reset and a control packet). For
 * the stateless cookie handshake the server verifies the client's third packet itself and then starts the channel
 * past both resets ({@link #startAfterResets}). A renegotiation's key ({@link #softReset}) exchanges
 * {@code P_CONTROL_SOFT_RESET_V1} instead of hard resets, between the same session IDs.
 */
public final class ControlChannel {
    /** Largest payload of one control packet (OpenVPN 2.6's default {@code tls-mtu} 1250 minus headers). */
    public static final int DEFAULT_FRAGMENT = 1150;
    /** Default bound of the queue of messages waiting for the send window. */
    public static final int DEFAULT_SEND_QUEUE = 64;

    private final ByteBufAllocator alloc;
    private final ReliableLayer reliable;
    private final ControlWrap tlsAuth;
    /** The protection's packet-id state: one per session, shared by all its keys (as OpenVPN's tls_wrap is). */
    private Protection prot = new Protection();
    private final boolean server;
    private final long localSessionId;
    private final int keyId;
    private final Consumer<ByteBuf> output;
    private final Consumer<ByteBuf> messages;
    private final ArrayDeque<ByteBuf> sendQueue = new ArrayDeque<>();
    private final int sendQueueLimit;
    private final EnumMap<OpenVpnDropReason, Long> drops = new EnumMap<>(OpenVpnDropReason.class);
    private final long[] ackScratch = new long[ControlPacket.MAX_ACKS];
    private long remoteSessionId;
    private boolean remoteKnown;
    private long resetMessageId = -1;
    private boolean resetAcknowledged;
    /** A renegotiation's key: the resets both ways are P_CONTROL_SOFT_RESET_V1. */
    private boolean soft;

    /**
     * @param tlsAuth null for no control-channel protection
     * @param output receives each outgoing packet in its wire form (protected)
     * @param messages receives each incoming control message payload in message-ID order (reset payloads excluded)
     */
    public ControlChannel(ByteBufAllocator alloc, ReliableConfig config, ControlWrap tlsAuth, boolean server,
                          long localSessionId, int keyId, int sendQueueLimit, long now, Consumer<ByteBuf> output,
                          Consumer<ByteBuf> messages) {
        this.alloc = alloc;
        this.reliable = new ReliableLayer(config, now);
        this.tlsAuth = tlsAuth;
        this.server = server;
        this.localSessionId = localSessionId;
        this.keyId = keyId;
        this.sendQueueLimit = sendQueueLimit;
        this.output = output;
        this.messages = messages;
    }

    public long localSessionId() {
        return localSessionId;
    }

    /** The peer's session ID, or 0 before its first packet. */
    public long remoteSessionId() {
        return remoteSessionId;
    }

    /** Whether the peer's session ID is known (its first packet, e.g. the server's reset, arrived). */
    public boolean remoteKnown() {
        return remoteKnown;
    }

    public ReliableLayer reliable() {
        return reliable;
    }

    /** Whether the peer acknowledged our hard reset. */
    public boolean resetAcknowledged() {
        return resetAcknowledged;
    }

    public long drops(OpenVpnDropReason reason) {
        return drops.getOrDefault(reason, 0L);
    }

    private void drop(OpenVpnDropReason reason, ByteBuf pkt) {
        drops.merge(reason, 1L, Long::sum);
        pkt.release();
    }

    /**
     * Starts the channel as if both hard resets (message 0 each way) had been exchanged and acknowledged: the
     * server's state after the stateless cookie handshake, whose reset went out with packet-id 1 of the
     * protection.
     */
    public void startAfterResets(long remoteSessionId, long now) {
        this.remoteSessionId = remoteSessionId;
        this.remoteKnown = true;
        reliable.skipFirst();
        resetMessageId = 0;
        resetAcknowledged = true;
        prot.packetId = 1;
    }

    /**
     * Makes this a renegotiation's channel (key ID 1..7 of an established session): both sides' message 0 is a
     * soft reset, and the peer's session ID is already known. Call before any packet.
     */
    public void softReset(long remoteSessionId) {
        this.soft = true;
        this.remoteSessionId = remoteSessionId;
        this.remoteKnown = true;
    }

    /**
     * Continues {@code other}'s protection packet-ids (sending) and replay window (receiving): a renegotiation's
     * key shares them with the session's first key. Call before any packet.
     */
    public void shareProtection(ControlChannel other) {
        this.prot = other.prot;
    }

    private static final class Protection {
        final ReplayWindow replay = new ReplayWindow();
        long packetId;
    }

    /** Whether everything sent was acknowledged and nothing waits to be sent. */
    public boolean idle() {
        return sendQueue.isEmpty() && reliable.unacknowledged() == 0;
    }

    /** The protection this channel uses (shared by a renegotiation's channel), or null. */
    public ControlWrap wrap() {
        return tlsAuth;
    }

    public int keyId() {
        return keyId;
    }

    private int ourResetOpcode() {
        return soft ? Opcode.CONTROL_SOFT_RESET_V1
                : server ? Opcode.CONTROL_HARD_RESET_SERVER_V2 : Opcode.CONTROL_HARD_RESET_CLIENT_V2;
    }

    /** Sends our reset (hard: server V2 or client V2; soft on a renegotiation's key) as message 0. */
    public void sendReset(long now) {
        int op = ourResetOpcode();
        resetMessageId = reliable.send(alloc.buffer(0), now);
        transmit(op, resetMessageId, reliable.config().piggybackAcks(), null);
    }

    /**
     * Sends a control message, fragmenting it into packets of at most {@link #DEFAULT_FRAGMENT} bytes; fragments
     * beyond the send window wait in a bounded queue.
     *
     * @return false when the queue overflowed (the rest of the message was dropped and counted)
     */
    public boolean send(ByteBuf payload, long now) {
        try {
            while (payload.isReadable()) {
                int n = Math.min(DEFAULT_FRAGMENT, payload.readableBytes());
                if (sendQueue.size() >= sendQueueLimit) {
                    drops.merge(OpenVpnDropReason.SEND_QUEUE_FULL, 1L, Long::sum);
                    return false;
                }
                sendQueue.add(payload.readRetainedSlice(n));
            }
        } finally {
            payload.release();
        }
        pump(now);
        return true;
    }

    private void pump(long now) {
        while (!sendQueue.isEmpty() && reliable.canSend()) {
            ByteBuf frag = sendQueue.poll();
            long id = reliable.send(frag, now);
            transmit(Opcode.CONTROL_V1, id, reliable.config().piggybackAcks(), frag);
        }
    }

    private void transmit(int op, long messageId, int maxAcks, ByteBuf payload) {
        int n = reliable.drainAcks(ackScratch, maxAcks);
        int plen = payload == null ? 0 : payload.readableBytes();
        ByteBuf plain = alloc.buffer(ControlPacket.length(op, n, plen));
        ControlPacket.writeHeader(plain, op, keyId, localSessionId, ackScratch, n, remoteSessionId, messageId);
        if (payload != null) {
            plain.writeBytes(payload, payload.readerIndex(), plen);
        }
        if (tlsAuth != null) {
            ByteBuf wrapped = tlsAuth.wrap(alloc, plain, ++prot.packetId, System.currentTimeMillis() / 1000);
            plain.release();
            plain = wrapped;
        }
        output.accept(plain);
    }

    /** Sends a P_ACK_V1 for pending acks, if any (call after processing a batch of input). */
    public void flushAcks() {
        while (reliable.pendingAcks() > 0 && remoteKnown) {
            transmit(Opcode.ACK_V1, -1, ControlPacket.MAX_ACKS, null);
        }
    }

    /** Retransmits what is due and returns the next deadline ({@code Long.MAX_VALUE} for none). */
    public long tick(long now) {
        reliable.pollRetransmissions(now, (id, payload) -> {
            int op = id == resetMessageId ? ourResetOpcode() : Opcode.CONTROL_V1;
            transmit(op, id, reliable.config().piggybackAcks(), payload);
        });
        return reliable.nextDeadline();
    }

    /**
     * Processes one received control packet in wire form (its readable bytes).
     *
     * @return null when accepted, or why it was dropped (and counted)
     */
    public OpenVpnDropReason onPacket(ByteBuf pkt, long now) {
        int off = pkt.readerIndex();
        int len = pkt.readableBytes();
        if (tlsAuth != null) {
            int plain = tlsAuth.unwrap(pkt, off, len);
            if (plain < 0) {
                drop(OpenVpnDropReason.BAD_HMAC, pkt);
                return OpenVpnDropReason.BAD_HMAC;
            }
            len -= plain - off;
            off = plain;
            return onUnwrapped(pkt, off, len, tlsAuth.lastPacketId(), now);
        }
        return onUnwrapped(pkt, off, len, 0, now);
    }

    /**
     * As {@link #onPacket}, for a packet whose protection the caller already verified and removed: the plain
     * packet is the {@code len} bytes at {@code off}; {@code packetId} is its protection's packet-id (ignored
     * without protection).
     */
    public OpenVpnDropReason onUnwrapped(ByteBuf pkt, int off, int len, long packetId, long now) {
        if (tlsAuth != null && !prot.replay.update(packetId)) {
            drop(OpenVpnDropReason.REPLAY, pkt);
            return OpenVpnDropReason.REPLAY;
        }
        int check = ControlPacket.check(pkt, off, len);
        if (check != ControlPacket.OK) {
            OpenVpnDropReason r = check == ControlPacket.NOT_CONTROL
                    ? OpenVpnDropReason.BAD_OPCODE : OpenVpnDropReason.MALFORMED;
            drop(r, pkt);
            return r;
        }
        int op = ControlPacket.opcode(pkt, off);
        if (op == Opcode.CONTROL_HARD_RESET_CLIENT_V3) {
            op = Opcode.CONTROL_HARD_RESET_CLIENT_V2; // its WKc was taken off by the caller
        } else if (op == Opcode.CONTROL_WKC_V1) {
            op = Opcode.CONTROL_V1;
        }
        boolean hard = op == Opcode.CONTROL_HARD_RESET_CLIENT_V2 || op == Opcode.CONTROL_HARD_RESET_SERVER_V2;
        // a first key's channel takes hard resets only, a renegotiation's soft resets only
        if (!Opcode.isSupported(op) || (soft ? hard : op == Opcode.CONTROL_SOFT_RESET_V1)
                || (server ? op == Opcode.CONTROL_HARD_RESET_SERVER_V2 : op == Opcode.CONTROL_HARD_RESET_CLIENT_V2)) {
            drop(OpenVpnDropReason.BAD_OPCODE, pkt);
            return OpenVpnDropReason.BAD_OPCODE;
        }
        long sid = ControlPacket.sessionId(pkt, off);
        if (!remoteKnown) {
            remoteSessionId = sid;
            remoteKnown = true;
        } else if (sid != remoteSessionId) {
            drop(OpenVpnDropReason.WRONG_SESSION, pkt);
            return OpenVpnDropReason.WRONG_SESSION;
        }
        int n = ControlPacket.ackCount(pkt, off);
        if (n > 0) {
            if (ControlPacket.remoteSessionId(pkt, off) != localSessionId) {
                drop(OpenVpnDropReason.WRONG_SESSION, pkt);
                return OpenVpnDropReason.WRONG_SESSION;
            }
            for (int i = 0; i < n; i++) {
                long id = ControlPacket.ack(pkt, off, i);
                if (reliable.acknowledge(id, now) && id == resetMessageId) {
                    resetAcknowledged = true;
                }
            }
        }
        if (op == Opcode.ACK_V1) {
            pkt.release();
            pump(now);
            return null;
        }
        long msgId = ControlPacket.messageId(pkt, off);
        int p = ControlPacket.payloadOffset(pkt, off);
        boolean isReset = hard || op == Opcode.CONTROL_SOFT_RESET_V1;
        ByteBuf payload = pkt.retainedSlice(p, off + len - p);
        pkt.release();
        ReliableLayer.Received r = reliable.receive(msgId, payload);
        if (r == ReliableLayer.Received.OUT_OF_WINDOW || r == ReliableLayer.Received.ACK_QUEUE_FULL) {
            drops.merge(OpenVpnDropReason.RELIABLE_WINDOW, 1L, Long::sum);
            return OpenVpnDropReason.RELIABLE_WINDOW;
        }
        if (isReset && msgId != 0) {
            // A reset is always message 0; anything else is a confused peer. It was acknowledged and stored, but
            // its payload (early-negotiation TLVs) carries no TLS bytes either way.
            drops.merge(OpenVpnDropReason.BAD_OPCODE, 1L, Long::sum);
        }
        ByteBuf m;
        while ((m = reliable.poll()) != null) {
            if (reliable.expectedMessageId() == 1) {
                m.release(); // message 0 is the peer's reset
            } else {
                messages.accept(m);
            }
        }
        pump(now);
        return null;
    }

    /** Releases buffered messages; the channel must not be used afterwards. */
    public void release() {
        reliable.release();
        ByteBuf b;
        while ((b = sendQueue.poll()) != null) {
            b.release();
        }
    }
}
