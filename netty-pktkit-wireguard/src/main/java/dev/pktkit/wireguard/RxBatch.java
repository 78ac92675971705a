package dev.pktkit.wireguard;

import dev.pktkit.wireguard.crypto.TransportCipher;
import dev.pktkit.wireguard.noise.Keypair;
import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * Up to {@link #SIZE} received transport messages (of any peers) to open together on a crypto worker. Each
 * message is an {@link Job} that also sits in its peer's receive queue; the loop finishes jobs (replay window,
 * roaming, timers, delivery) strictly in that queue's order once they are opened, so per-peer order and the replay
 * window stay exactly as in the single-threaded path. Pooled by the endpoint.
 */
final class RxBatch implements Runnable {
    static final int SIZE = 32;

    /** One received transport message: ciphertext copied into {@link #plain}'s array, opened in place. */
    static final class Job {
        static final int PENDING = Integer.MIN_VALUE;
        Peer peer;
        Keypair keypair;
        ByteBuf plain;
        long counter;
        int sealedLength;
        int datagramLength;
        InetSocketAddress sender;
        /** Plaintext length, -1 if it did not authenticate, {@link #PENDING} until opened. */
        volatile int result = PENDING;

        void open() {
            byte[] arr = plain.array();
            int off = plain.arrayOffset() + plain.writerIndex();
            TransportCipher c = keypair.receiveCipher();
            result = c.open(counter, arr, off, sealedLength);
        }

        void clear() {
            peer = null;
            keypair = null;
            plain = null;
            sender = null;
            result = PENDING;
        }
    }

    final WireGuardEndpoint endpoint;
    final Job[] jobs = new Job[SIZE];
    final Runnable openedOnWorker;
    int count;

    RxBatch(WireGuardEndpoint endpoint) {
        this.endpoint = endpoint;
        this.openedOnWorker = () -> endpoint.rxOpenedOnWorker(this);
    }

    void openAll() {
        for (int i = 0; i < count; i++) {
            jobs[i].open();
        }
    }

    /** On a crypto worker. */
    @Override
    public void run() {
        openAll();
        endpoint.backToLoop(openedOnWorker);
    }
}
