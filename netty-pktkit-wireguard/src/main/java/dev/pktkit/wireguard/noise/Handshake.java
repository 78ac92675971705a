package dev.pktkit.wireguard.noise;

import dev.pktkit.wireguard.crypto.Blake2s;
import dev.pktkit.wireguard.crypto.Curve25519;
import dev.pktkit.wireguard.crypto.HandshakeAead;
import dev.pktkit.wireguard.crypto.Tai64n;
import dev.pktkit.wireguard.wire.Initiation;
import dev.pktkit.wireguard.wire.MessageType;
import dev.pktkit.wireguard.wire.Response;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake of one peer, as the WireGuard paper (§5.4) defines it:
 * the initiator's {@link #createInitiation}, the responder's {@link #decryptInitiation} / {@link #createResponse},
 * the initiator's {@link #consumeResponse}, and {@link #deriveKeypair} for either side. mac1/mac2 are not part of
 * the Noise state: {@link CookieGenerator} adds them and {@link CookieChecker} checks them.
 *
 * <p>Replay protection: a consumed initiation must carry a TAI64N timestamp strictly greater than the greatest one
 * seen from this peer, else it is refused. Not thread-safe; the endpoint calls it from one loop.
 */
public final class Handshake {
    static final byte[] CONSTRUCTION = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".getBytes(StandardCharsets.US_ASCII);
    static final byte[] IDENTIFIER = "WireGuard v1 zx2c4 Jason@zx2c4.com".getBytes(StandardCharsets.US_ASCII);
    /** {@code HASH(CONSTRUCTION)}, the initial chaining key. */
    public static final byte[] INITIAL_CHAIN_KEY = Blake2s.hash(CONSTRUCTION);
    /** {@code HASH(INITIAL_CHAIN_KEY || IDENTIFIER)}, the initial hash before the responder's static key. */
    public static final byte[] INITIAL_HASH = Blake2s.hash(INITIAL_CHAIN_KEY, IDENTIFIER);
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] ZERO_PSK = new byte[32];

    /** Where the handshake is. */
    public enum State { NONE, INITIATION_CREATED, INITIATION_CONSUMED, RESPONSE_CREATED }

    private final StaticIdentity local;
    private final byte[] remoteStatic;
    private final byte[] precomputedStaticStatic;
    private final byte[] presharedKey;
    private final byte[] initialHashForRemote;
    Supplier<byte[]> ephemeralSource = Curve25519::generatePrivateKey;

    private State state = State.NONE;
    private byte[] hash;
    private byte[] chainKey;
    private byte[] localEphemeral;
    private byte[] remoteEphemeral;
    private int localIndex;
    private int remoteIndex;
    private byte[] latestTimestamp = new byte[Tai64n.LEN];

    /**
     * @param local        this endpoint's static identity
     * @param remoteStatic the peer's public key (32 bytes)
     * @param presharedKey 32 bytes, or null for none (all zeros)
     * @throws IllegalArgumentException if the keys have the wrong length or the peer's key is a low-order point
     */
    public Handshake(StaticIdentity local, byte[] remoteStatic, byte[] presharedKey) {
        if (remoteStatic.length != 32 || (presharedKey != null && presharedKey.length != 32)) {
            throw new IllegalArgumentException("keys must be 32 bytes");
        }
        this.local = local;
        this.remoteStatic = remoteStatic.clone();
        this.presharedKey = presharedKey == null ? ZERO_PSK : presharedKey.clone();
        this.precomputedStaticStatic = Curve25519.dh(local.privateKey, this.remoteStatic);
        if (precomputedStaticStatic == null) {
            throw new IllegalArgumentException("peer public key is a low-order point");
        }
        this.initialHashForRemote = Blake2s.hash(INITIAL_HASH, this.remoteStatic);
    }

    public State state() {
        return state;
    }

    /** The peer's public key (a copy). */
    public byte[] remoteStatic() {
        return remoteStatic.clone();
    }

    public int localIndex() {
        return localIndex;
    }

    public int remoteIndex() {
        return remoteIndex;
    }

    /**
     * Builds an initiation with sender index {@code localIndex} and the timestamp of Unix time {@code wallNanos};
     * mac1 and mac2 are left zero for {@link CookieGenerator#addMacs}.
     */
    public byte[] createInitiation(int localIndex, long wallNanos) {
        byte[] msg = new byte[MessageType.INITIATION_LEN];
        msg[0] = MessageType.INITIATION;
        putIntLE(msg, Initiation.SENDER, localIndex);
        byte[] c = INITIAL_CHAIN_KEY;
        byte[] h = initialHashForRemote;
        byte[] e = ephemeralSource.get();
        byte[] ePub = Curve25519.publicKey(e);
        System.arraycopy(ePub, 0, msg, Initiation.EPHEMERAL, 32);
        c = Blake2s.kdf(1, c, ePub)[0];
        h = Blake2s.hash(h, ePub);
        byte[] es = Curve25519.dh(e, remoteStatic);
        byte[][] ck = Blake2s.kdf(2, c, es);
        c = ck[0];
        byte[] encStatic = HandshakeAead.seal(ck[1], local.publicKey, h);
        System.arraycopy(encStatic, 0, msg, Initiation.STATIC, Initiation.STATIC_LEN);
        h = Blake2s.hash(h, encStatic);
        ck = Blake2s.kdf(2, c, precomputedStaticStatic);
        c = ck[0];
        byte[] encTs = HandshakeAead.seal(ck[1], Tai64n.encode(wallNanos), h);
        System.arraycopy(encTs, 0, msg, Initiation.TIMESTAMP, Initiation.TIMESTAMP_LEN);
        h = Blake2s.hash(h, encTs);
        this.hash = h;
        this.chainKey = c;
        this.localEphemeral = e;
        this.localIndex = localIndex;
        this.remoteIndex = 0;
        this.state = State.INITIATION_CREATED;
        return msg;
    }

    /** What decrypting an initiation with the local static key yields, before it is matched to a peer. */
    public static final class ConsumedInitiation {
        final byte[] remoteStatic;
        final byte[] remoteEphemeral;
        final byte[] timestamp;
        final byte[] hash;
        final byte[] chainKey;
        final int senderIndex;

        ConsumedInitiation(byte[] remoteStatic, byte[] remoteEphemeral, byte[] timestamp, byte[] hash,
                           byte[] chainKey, int senderIndex) {
            this.remoteStatic = remoteStatic;
            this.remoteEphemeral = remoteEphemeral;
            this.timestamp = timestamp;
            this.hash = hash;
            this.chainKey = chainKey;
            this.senderIndex = senderIndex;
        }

        /** The initiator's static public key (a copy): the key that selects the peer. */
        public byte[] remoteStatic() {
            return remoteStatic.clone();
        }

        public int senderIndex() {
            return senderIndex;
        }
    }

    /**
     * Decrypts the static key of initiation {@code msg} (148 bytes, macs already checked). Needs only the local
     * identity; the result names the peer, whose {@link #acceptInitiation} finishes the step.
     *
     * @param staticStatic looks up {@code DH(local private, initiator static)} for a known peer key (the peer's
     *                     precomputed value), or returns null for an unknown key; may compute it for unknown keys
     * @return null if the message does not decrypt
     */
    public static ConsumedInitiation decryptInitiation(StaticIdentity local, byte[] msg,
                                                      java.util.function.Function<byte[], byte[]> staticStatic) {
        if (msg.length != MessageType.INITIATION_LEN || msg[0] != MessageType.INITIATION) {
            return null;
        }
        byte[] c = INITIAL_CHAIN_KEY;
        byte[] h = Blake2s.hash(INITIAL_HASH, local.publicKey);
        byte[] ePub = Arrays.copyOfRange(msg, Initiation.EPHEMERAL, Initiation.EPHEMERAL + 32);
        c = Blake2s.kdf(1, c, ePub)[0];
        h = Blake2s.hash(h, ePub);
        byte[] es = Curve25519.dh(local.privateKey, ePub);
        if (es == null) {
            return null;
        }
        byte[][] ck = Blake2s.kdf(2, c, es);
        c = ck[0];
        byte[] encStatic = Arrays.copyOfRange(msg, Initiation.STATIC, Initiation.STATIC + Initiation.STATIC_LEN);
        byte[] peerStatic = HandshakeAead.open(ck[1], encStatic, 0, encStatic.length, h);
        if (peerStatic == null) {
            return null;
        }
        h = Blake2s.hash(h, encStatic);
        byte[] ss = staticStatic.apply(peerStatic);
        if (ss == null) {
            return null;
        }
        ck = Blake2s.kdf(2, c, ss);
        c = ck[0];
        byte[] encTs = Arrays.copyOfRange(msg, Initiation.TIMESTAMP, Initiation.TIMESTAMP + Initiation.TIMESTAMP_LEN);
        byte[] ts = HandshakeAead.open(ck[1], encTs, 0, encTs.length, h);
        if (ts == null) {
            return null;
        }
        h = Blake2s.hash(h, encTs);
        return new ConsumedInitiation(peerStatic, ePub, ts, h, c, getIntLE(msg, Initiation.SENDER));
    }

    /** {@code DH(local private, remote static)}, precomputed: what {@link #decryptInitiation} asks for. */
    public byte[] staticStatic() {
        return precomputedStaticStatic;
    }

    /** Result of {@link #acceptInitiation}. */
    public enum Acceptance { ACCEPTED, WRONG_PEER, REPLAYED_TIMESTAMP }

    /**
     * Takes a decrypted initiation from this handshake's peer: refuses it unless its timestamp is newer than any
     * seen, then records it (state {@link State#INITIATION_CONSUMED}).
     */
    public Acceptance acceptInitiation(ConsumedInitiation init) {
        if (!Arrays.equals(init.remoteStatic, remoteStatic)) {
            return Acceptance.WRONG_PEER;
        }
        if (!Tai64n.after(init.timestamp, latestTimestamp)) {
            return Acceptance.REPLAYED_TIMESTAMP;
        }
        latestTimestamp = init.timestamp;
        hash = init.hash;
        chainKey = init.chainKey;
        remoteEphemeral = init.remoteEphemeral;
        remoteIndex = init.senderIndex;
        localEphemeral = null;
        state = State.INITIATION_CONSUMED;
        return Acceptance.ACCEPTED;
    }

    /**
     * Builds the response to the consumed initiation with sender index {@code localIndex} (macs zero).
     *
     * @throws IllegalStateException if no initiation was consumed
     */
    public byte[] createResponse(int localIndex) {
        if (state != State.INITIATION_CONSUMED) {
            throw new IllegalStateException("no initiation consumed: " + state);
        }
        byte[] msg = new byte[MessageType.RESPONSE_LEN];
        msg[0] = MessageType.RESPONSE;
        putIntLE(msg, Response.SENDER, localIndex);
        putIntLE(msg, Response.RECEIVER, remoteIndex);
        byte[] e = ephemeralSource.get();
        byte[] ePub = Curve25519.publicKey(e);
        System.arraycopy(ePub, 0, msg, Response.EPHEMERAL, 32);
        byte[] c = Blake2s.kdf(1, chainKey, ePub)[0];
        byte[] h = Blake2s.hash(hash, ePub);
        byte[] ee = Curve25519.dh(e, remoteEphemeral);
        byte[] se = Curve25519.dh(e, remoteStatic);
        if (ee == null || se == null) {
            state = State.NONE;
            return null;
        }
        c = Blake2s.kdf(1, c, ee)[0];
        c = Blake2s.kdf(1, c, se)[0];
        byte[][] ctk = Blake2s.kdf(3, c, presharedKey);
        c = ctk[0];
        h = Blake2s.hash(h, ctk[1]);
        byte[] empty = HandshakeAead.seal(ctk[2], EMPTY, h);
        System.arraycopy(empty, 0, msg, Response.EMPTY, 16);
        h = Blake2s.hash(h, empty);
        this.hash = h;
        this.chainKey = c;
        this.localEphemeral = e;
        this.localIndex = localIndex;
        this.state = State.RESPONSE_CREATED;
        return msg;
    }

    /**
     * Consumes a response (92 bytes, macs checked) to our initiation.
     *
     * @return true if it authenticated (state becomes ready for {@link #deriveKeypair}), false if it is not a
     *         response to the initiation in flight or does not authenticate (state unchanged)
     */
    public boolean consumeResponse(byte[] msg) {
        if (state != State.INITIATION_CREATED || msg.length != MessageType.RESPONSE_LEN
                || getIntLE(msg, Response.RECEIVER) != localIndex) {
            return false;
        }
        byte[] ePub = Arrays.copyOfRange(msg, Response.EPHEMERAL, Response.EPHEMERAL + 32);
        byte[] c = Blake2s.kdf(1, chainKey, ePub)[0];
        byte[] h = Blake2s.hash(hash, ePub);
        byte[] ee = Curve25519.dh(localEphemeral, ePub);
        byte[] se = Curve25519.dh(local.privateKey, ePub);
        if (ee == null || se == null) {
            return false;
        }
        c = Blake2s.kdf(1, c, ee)[0];
        c = Blake2s.kdf(1, c, se)[0];
        byte[][] ctk = Blake2s.kdf(3, c, presharedKey);
        c = ctk[0];
        h = Blake2s.hash(h, ctk[1]);
        byte[] empty = Arrays.copyOfRange(msg, Response.EMPTY, Response.EMPTY + 16);
        if (HandshakeAead.open(ctk[2], empty, 0, 16, h) == null) {
            return false;
        }
        h = Blake2s.hash(h, empty);
        this.hash = h;
        this.chainKey = c;
        this.remoteIndex = getIntLE(msg, Response.SENDER);
        this.remoteEphemeral = ePub;
        this.state = State.RESPONSE_CREATED; // both sides now hold the final chaining key
        this.initiatorReady = true;
        return true;
    }

    private boolean initiatorReady;

    /**
     * Derives the transport keypair from the completed handshake and wipes the handshake state.
     *
     * @param nowNanos monotonic creation time of the keypair
     * @throws IllegalStateException if the handshake is not complete
     */
    public Keypair deriveKeypair(long nowNanos) {
        if (state != State.RESPONSE_CREATED) {
            throw new IllegalStateException("handshake not complete: " + state);
        }
        boolean initiator = initiatorReady;
        byte[][] t = Blake2s.kdf(2, chainKey, EMPTY);
        Keypair kp = initiator
                ? new Keypair(t[0], t[1], true, localIndex, remoteIndex, nowNanos)
                : new Keypair(t[1], t[0], false, localIndex, remoteIndex, nowNanos);
        Arrays.fill(t[0], (byte) 0);
        Arrays.fill(t[1], (byte) 0);
        clear();
        return kp;
    }

    /** Forgets the handshake in progress (keeps the greatest timestamp seen, so replays stay refused). */
    public void clear() {
        wipe(chainKey);
        wipe(localEphemeral);
        hash = null;
        chainKey = null;
        localEphemeral = null;
        remoteEphemeral = null;
        initiatorReady = false;
        state = State.NONE;
    }

    private static void wipe(byte[] b) {
        if (b != null && b != INITIAL_CHAIN_KEY) {
            Arrays.fill(b, (byte) 0);
        }
    }

    static void putIntLE(byte[] a, int off, int v) {
        a[off] = (byte) v;
        a[off + 1] = (byte) (v >>> 8);
        a[off + 2] = (byte) (v >>> 16);
        a[off + 3] = (byte) (v >>> 24);
    }

    static int getIntLE(byte[] a, int off) {
        return (a[off] & 0xFF) | (a[off + 1] & 0xFF) << 8 | (a[off + 2] & 0xFF) << 16 | (a[off + 3] & 0xFF) << 24;
    }
}
