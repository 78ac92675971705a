package dev.pktkit.wireguard;

import dev.pktkit.wireguard.crypto.TransportCipher;
import dev.pktkit.wireguard.noise.Keypair;
import dev.pktkit.wireguard.wire.MessageType;
import dev.pktkit.wireguard.wire.Transport;
import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * Up to {@link #MAX_SEGMENTS} transport messages for one peer, under one keypair, to one endpoint, laid out back to
 * back in one heap buffer: every segment {@link #segmentSize} bytes except possibly the last, which may be shorter
 * (the layout a GSO send, {@code io.netty.channel.unix.SegmentedDatagramPacket}, requires). Their counters are
 * consecutive from {@link #firstCounter}, handed out on the loop in the order the packets were written.
 *
 * <p>The loop fills it ({@link #append}); then it is sealed ({@link #sealAll}), inline or on a crypto worker
 * ({@link #run}), and goes back to the loop, which sends the peer's batches strictly in their order. Pooled by
 * the endpoint: nothing is allocated per packet.
 */
final class TxBatch implements Runnable {
    /** At most this many segments per batch: Linux's UDP_MAX_SEGMENTS (64) before 6.x raised it. */
    static final int MAX_SEGMENTS = 64;
    /** At most this many bytes per batch (one UDP datagram of GSO payload must fit 64 KiB). */
    static final int MAX_BYTES = 65000;

    final WireGuardEndpoint endpoint;
    /** Runs on the loop once a worker sealed the batch. */
    final Runnable sealedOnWorker;
    Peer peer;
    Keypair keypair;
    InetSocketAddress to;
    ByteBuf buf;
    int segmentSize;
    int count;
    long firstCounter;
    /** A shorter segment was appended: nothing more may follow it. */
    boolean closedForAppend;
    boolean failed;
    boolean offloaded;
    volatile boolean sealed;

    TxBatch(WireGuardEndpoint endpoint) {
        this.endpoint = endpoint;
        this.sealedOnWorker = () -> endpoint.txSealedOnWorker(this);
    }

    void reset(Peer p, Keypair kp, InetSocketAddress dst, ByteBuf b) {
        peer = p;
        keypair = kp;
        to = dst;
        buf = b;
        segmentSize = 0;
        count = 0;
        closedForAppend = false;
        failed = false;
        offloaded = false;
        sealed = false;
    }

    /** Whether a message of {@code total} bytes under {@code kp} to {@code dst} may be appended. */
    boolean accepts(Keypair kp, InetSocketAddress dst, int total) {
        return kp == keypair && !closedForAppend && count < MAX_SEGMENTS && total <= segmentSize
                && buf.writerIndex() + total <= MAX_BYTES && dst.equals(to);
    }

    boolean full() {
        return closedForAppend || count >= MAX_SEGMENTS || buf.writerIndex() + segmentSize > MAX_BYTES;
    }

    /** Writes header, plaintext and zero padding (and room for the tag) of one message; takes no ownership. */
    void append(long counter, ByteBuf packet, int len, int padded) {
        int total = Transport.PAYLOAD + padded + TransportCipher.TAG_LEN;
        if (count == 0) {
            segmentSize = total;
            firstCounter = counter;
        } else if (total < segmentSize) {
            closedForAppend = true;
        }
        buf.writeIntLE(MessageType.TRANSPORT);
        buf.writeIntLE(keypair.remoteIndex());
        buf.writeLongLE(counter);
        buf.writeBytes(packet, packet.readerIndex(), len);
        buf.writeZero(padded - len + TransportCipher.TAG_LEN);
        count++;
    }

    /** Length of segment {@code i}. */
    int segmentLength(int i) {
        return i == count - 1 ? buf.writerIndex() - i * segmentSize : segmentSize;
    }

    /** Seals every segment in place; a destroyed key (the keypair expired meanwhile) marks the batch failed. */
    void sealAll() {
        byte[] a = buf.array();
        int base = buf.arrayOffset();
        TransportCipher c = keypair.sendCipher();
        try {
            for (int i = 0; i < count; i++) {
                int off = base + i * segmentSize;
                c.seal(firstCounter + i, a, off + Transport.PAYLOAD,
                        segmentLength(i) - Transport.PAYLOAD - TransportCipher.TAG_LEN);
            }
        } catch (IllegalStateException e) {
            failed = true;
        }
        sealed = true;
    }

    /** On a crypto worker. */
    @Override
    public void run() {
        sealAll();
        endpoint.backToLoop(sealedOnWorker);
    }
}
