package dev.pktkit.wireguard;

import dev.pktkit.switching.lpm.Prefix;
import dev.pktkit.wireguard.noise.CookieGenerator;
import dev.pktkit.wireguard.noise.Handshake;
import dev.pktkit.wireguard.noise.Keypairs;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** A peer's protocol state; loop-confined (the endpoint's loop), fields read racily only by status. */
final class Peer {
    final WireGuardKey publicKey;
    volatile WireGuardPeerConfig config;
    final Handshake handshake;
    final CookieGenerator cookies;
    final Keypairs keypairs = new Keypairs();
    final ArrayDeque<ByteBuf> staged = new ArrayDeque<>();
    final List<Promise<Void>> handshakeWaiters = new ArrayList<>(1);
    WireGuardPeerChannel channel;
    /** Multi-core / GSO path: the batch being filled, batches being sealed or waiting to go out, in order. */
    TxBatch txOpen;
    final ArrayDeque<TxBatch> txQueue = new ArrayDeque<>();
    /** Multi-core path: received messages being opened or waiting to be finished, in arrival order. */
    final ArrayDeque<RxBatch.Job> rxQueue = new ArrayDeque<>();

    volatile InetSocketAddress endpoint;
    /** Our index of the initiation in flight, or 0. */
    int handshakeIndex;
    int handshakeAttempts;
    long lastSentHandshakeNanos;
    boolean hasSentHandshake;
    long lastInitiationConsumedNanos;
    boolean hasConsumedInitiation;
    boolean needAnotherKeepalive;
    boolean sentLastMinuteHandshake;
    boolean inReadBatch;
    boolean removed;
    boolean resolving;

    volatile long rxBytes;
    volatile long txBytes;
    volatile long latestHandshakeMillis;
    volatile long handshakes;

    LazyTimer retransmitHandshake;
    LazyTimer sendKeepalive;
    LazyTimer newHandshake;
    LazyTimer zeroKeyMaterial;
    LazyTimer persistentKeepalive;

    Peer(WireGuardPeerConfig config, Handshake handshake, CookieGenerator cookies) {
        this.publicKey = config.publicKey();
        this.config = config;
        this.handshake = handshake;
        this.cookies = cookies;
        InetSocketAddress e = config.endpoint();
        this.endpoint = e == null || e.isUnresolved() ? null : e;
    }

    void cancelTimers() {
        for (LazyTimer t : new LazyTimer[] {retransmitHandshake, sendKeepalive, newHandshake, zeroKeyMaterial,
                persistentKeepalive}) {
            if (t != null) {
                t.cancel();
            }
        }
    }

    void releaseStaged() {
        ByteBuf b;
        while ((b = staged.poll()) != null) {
            b.release();
        }
    }

    WireGuardPeerStatus status() {
        WireGuardPeerConfig c = config;
        return new WireGuardPeerStatus(publicKey, endpoint, c.allowedIps().stream().map(Prefix::toString).toList(),
                latestHandshakeMillis, rxBytes, txBytes, c.persistentKeepalive(), handshakes);
    }
}
