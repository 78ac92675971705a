package dev.pktkit.openvpn.reliable;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.function.BiConsumer;

/**
 * One key's control-channel reliability state, as OpenVPN 2.6's {@code reliable.c} keeps it: outgoing messages get
 * message IDs from 0 without gaps and stay buffered until acknowledged (acks are not cumulative, each names one
 * message); incoming messages are acknowledged (even duplicates, so a lost ack is repaired) and released to the
 * caller in message-ID order.
 *
 * <p>It knows nothing about sockets, packets or clocks: the caller passes the time ({@code now}, nanoseconds of
 * any monotonic clock) into every call, builds packets from what {@link #pollRetransmissions} and
 * {@link #drainAcks} return, and calls {@link #nextDeadline} to arm its timer. Not thread-safe: one event loop.
 *
 * <p>Ownership: {@link #send} takes the payload reference and keeps it until the message is acknowledged or the
 * layer is {@linkplain #release() released}; retransmission callbacks get a borrowed buffer (retain or copy it).
 * {@link #receive} takes the payload reference (releasing it if the message is refused or a duplicate);
 * {@link #poll} hands a reference to the caller.
 *
 * <p>Message IDs are 32-bit and never wrap within one key: a key is renegotiated long before.
 */
public final class ReliableLayer {
    /** {@link #receive} results. */
    public enum Received {
        /** New message stored (and queued for acknowledgement). */
        ACCEPTED,
        /** Seen before; acknowledged again, payload released. */
        DUPLICATE,
        /** Beyond the receive slots; not acknowledged (the peer retransmits), payload released. */
        OUT_OF_WINDOW,
        /** The ack queue was full; not stored and not acknowledged, payload released. */
        ACK_QUEUE_FULL
    }

    private final ReliableConfig config;
    private final long timeoutNanos;
    private final long handWindowNanos;
    private final long startNanos;

    // Send side: slot i holds message sendBase + i.
    private final ByteBuf[] sendBuf;
    private final long[] sendNextTry;
    private final long[] sendTimeout;
    private final int[] sendLaterAcks;
    private long sendBase;
    private long nextSendId;

    // Receive side: slot (id - receiveBase) holds message id.
    private final ByteBuf[] recvBuf;
    private long receiveBase;

    // Pending acks, in arrival order.
    private final long[] acks;
    private int ackCount;

    private long retransmissions;
    private long duplicates;
    private long outOfWindow;
    private long unknownAcks;

    public ReliableLayer(ReliableConfig config, long now) {
        this.config = config;
        this.timeoutNanos = config.tlsTimeout().toNanos();
        this.handWindowNanos = config.handWindow().toNanos();
        this.startNanos = now;
        this.sendBuf = new ByteBuf[config.sendWindow()];
        this.sendNextTry = new long[config.sendWindow()];
        this.sendTimeout = new long[config.sendWindow()];
        this.sendLaterAcks = new int[config.sendWindow()];
        this.recvBuf = new ByteBuf[config.receiveSlots()];
        this.acks = new long[config.pendingAcks()];
    }

    public ReliableConfig config() {
        return config;
    }

    // ---- send side ----

    /** Whether {@link #send} would accept a message now (the send window is not full). */
    public boolean canSend() {
        return nextSendId - sendBase < sendBuf.length;
    }

    /** The message ID the next {@link #send} assigns. */
    public long nextMessageId() {
        return nextSendId;
    }

    /** Messages sent and not yet acknowledged. */
    public int unacknowledged() {
        int n = 0;
        for (ByteBuf b : sendBuf) {
            if (b != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Buffers a new outgoing message and returns its message ID; the caller transmits it now (it is due for
     * retransmission after {@code tls-timeout}).
     *
     * @throws IllegalStateException when the send window is full (check {@link #canSend()})
     */
    public long send(ByteBuf payload, long now) {
        if (!canSend()) {
            ReferenceCountUtil.release(payload);
            throw new IllegalStateException("send window of " + sendBuf.length + " is full");
        }
        long id = nextSendId++;
        int slot = (int) (id - sendBase);
        sendBuf[slot] = payload;
        sendTimeout[slot] = timeoutNanos;
        sendNextTry[slot] = now + timeoutNanos;
        sendLaterAcks[slot] = 0;
        return id;
    }

    /**
     * Processes one acknowledged message ID from the peer. Earlier unacknowledged messages count a later ack; at
     * {@code fastRetransmitAcks} they become due at once.
     *
     * @return whether the ID named a message waiting for its ack
     */
    public boolean acknowledge(long messageId, long now) {
        long rel = messageId - sendBase;
        if (rel < 0 || rel >= nextSendId - sendBase || sendBuf[(int) rel] == null) {
            unknownAcks++;
            return false;
        }
        int slot = (int) rel;
        sendBuf[slot].release();
        sendBuf[slot] = null;
        for (int i = 0; i < slot; i++) {
            if (sendBuf[i] != null && ++sendLaterAcks[i] >= config.fastRetransmitAcks()) {
                sendLaterAcks[i] = 0;
                sendNextTry[i] = now;
            }
        }
        // Slide the window past acknowledged messages at its start.
        int shift = 0;
        long limit = nextSendId - sendBase;
        while (shift < limit && sendBuf[shift] == null) {
            shift++;
        }
        if (shift > 0) {
            int n = sendBuf.length;
            System.arraycopy(sendBuf, shift, sendBuf, 0, n - shift);
            System.arraycopy(sendNextTry, shift, sendNextTry, 0, n - shift);
            System.arraycopy(sendTimeout, shift, sendTimeout, 0, n - shift);
            System.arraycopy(sendLaterAcks, shift, sendLaterAcks, 0, n - shift);
            for (int i = n - shift; i < n; i++) {
                sendBuf[i] = null;
            }
            sendBase += shift;
        }
        return true;
    }

    /**
     * Calls {@code resend(messageId, payload)} for every message whose retransmission time has come, in ID order,
     * and doubles its timeout (exponential backoff). The payload is borrowed.
     *
     * @return how many were due
     */
    public int pollRetransmissions(long now, BiConsumer<Long, ByteBuf> resend) {
        int n = 0;
        for (int i = 0; i < sendBuf.length; i++) {
            if (sendBuf[i] != null && now - sendNextTry[i] >= 0) {
                sendTimeout[i] = sendTimeout[i] > Long.MAX_VALUE / 4 ? sendTimeout[i] : sendTimeout[i] * 2;
                sendNextTry[i] = now + sendTimeout[i];
                retransmissions++;
                n++;
                resend.accept(sendBase + i, sendBuf[i]);
            }
        }
        return n;
    }

    /**
     * Counts message 0 as sent and acknowledged and as received and delivered (both hard resets of the stateless
     * cookie handshake, which no layer buffered). Only on a fresh layer.
     */
    public void skipFirst() {
        if (nextSendId != 0 || receiveBase != 0) {
            throw new IllegalStateException("skipFirst on a used reliability layer");
        }
        nextSendId = 1;
        sendBase = 1;
        receiveBase = 1;
    }

    // ---- receive side ----

    /**
     * Processes an incoming reliable message. Within the receive slots it is acknowledged; new ones are stored
     * until {@link #poll} releases them in order.
     */
    public Received receive(long messageId, ByteBuf payload) {
        long rel = messageId - receiveBase;
        if (rel >= recvBuf.length) {
            outOfWindow++;
            payload.release();
            return Received.OUT_OF_WINDOW;
        }
        if (!queueAck(messageId)) {
            payload.release();
            return Received.ACK_QUEUE_FULL;
        }
        if (rel < 0 || recvBuf[(int) rel] != null) {
            duplicates++;
            payload.release();
            return Received.DUPLICATE;
        }
        recvBuf[(int) rel] = payload;
        return Received.ACCEPTED;
    }

    /** The next message in ID order, or null when it has not arrived yet. The caller owns the buffer. */
    public ByteBuf poll() {
        ByteBuf b = recvBuf[0];
        if (b == null) {
            return null;
        }
        System.arraycopy(recvBuf, 1, recvBuf, 0, recvBuf.length - 1);
        recvBuf[recvBuf.length - 1] = null;
        receiveBase++;
        return b;
    }

    /** The message ID the receive side expects next in order. */
    public long expectedMessageId() {
        return receiveBase;
    }

    private boolean queueAck(long messageId) {
        for (int i = 0; i < ackCount; i++) {
            if (acks[i] == messageId) {
                return true;
            }
        }
        if (ackCount == acks.length) {
            return false;
        }
        acks[ackCount++] = messageId;
        return true;
    }

    /** Acks waiting to be sent. */
    public int pendingAcks() {
        return ackCount;
    }

    /**
     * Moves up to {@code max} pending acks (oldest first) into {@code out} for one outgoing packet; use
     * {@link ReliableConfig#piggybackAcks()} for a reliable packet and up to 8 for a P_ACK_V1.
     *
     * @return how many were written
     */
    public int drainAcks(long[] out, int max) {
        int n = Math.min(Math.min(max, out.length), ackCount);
        System.arraycopy(acks, 0, out, 0, n);
        System.arraycopy(acks, n, acks, 0, ackCount - n);
        ackCount -= n;
        return n;
    }

    // ---- timers ----

    /**
     * The earliest time a retransmission is due, or {@code Long.MAX_VALUE} when nothing waits. Pending acks are
     * not included: the caller sends them right after processing input.
     */
    public long nextDeadline() {
        long d = Long.MAX_VALUE;
        for (int i = 0; i < sendBuf.length; i++) {
            if (sendBuf[i] != null && (d == Long.MAX_VALUE || sendNextTry[i] - d < 0)) {
                d = sendNextTry[i];
            }
        }
        return d;
    }

    /** Whether {@code hand-window} has passed since this layer was created (the handshake must be over by then). */
    public boolean handWindowExpired(long now) {
        return now - startNanos >= handWindowNanos;
    }

    public long retransmissions() {
        return retransmissions;
    }

    public long duplicates() {
        return duplicates;
    }

    public long outOfWindow() {
        return outOfWindow;
    }

    public long unknownAcks() {
        return unknownAcks;
    }

    /** Releases every buffered message; the layer must not be used afterwards. */
    public void release() {
        for (int i = 0; i < sendBuf.length; i++) {
            ReferenceCountUtil.safeRelease(sendBuf[i]);
            sendBuf[i] = null;
        }
        for (int i = 0; i < recvBuf.length; i++) {
            ReferenceCountUtil.safeRelease(recvBuf[i]);
            recvBuf[i] = null;
        }
    }
}
