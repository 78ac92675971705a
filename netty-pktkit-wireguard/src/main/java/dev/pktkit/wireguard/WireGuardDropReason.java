package dev.pktkit.wireguard;

/** Why the endpoint dropped a datagram or packet; {@link WireGuardEndpoint#drops(WireGuardDropReason)} counts each. */
public enum WireGuardDropReason {
    /** Not a WireGuard message: too short, unknown type, non-zero reserved bytes or wrong length. */
    MALFORMED,
    /** A handshake message whose mac1 is wrong (not meant for our public key). */
    BAD_MAC1,
    /** Under load, a handshake message without a valid mac2: answered with a cookie reply instead. */
    COOKIE_REQUIRED,
    /** Under load, the sender's address exceeded its handshake rate. */
    RATE_LIMITED,
    /** An initiation that did not decrypt, or from a key that is not a peer (and was not admitted). */
    BAD_INITIATION,
    /** An initiation whose timestamp is not newer than the last one from that peer (a replay). */
    REPLAYED_INITIATION,
    /** An initiation less than {@link WireGuardTimers#handshakeInitiationRate()} after the previous one. */
    INITIATION_FLOOD,
    /** A response that did not match an initiation in flight or did not authenticate. */
    BAD_RESPONSE,
    /** A cookie reply that did not match or did not authenticate. */
    BAD_COOKIE_REPLY,
    /** Transport data for an unknown receiver index. */
    UNKNOWN_INDEX,
    /** Transport data under an expired keypair (older than REJECT_AFTER_TIME). */
    EXPIRED_KEYPAIR,
    /** Transport data that did not authenticate. */
    BAD_AUTH,
    /** Transport data whose counter was seen before, is too old for the window, or is past REJECT_AFTER_MESSAGES. */
    REPLAYED_COUNTER,
    /** A decrypted packet that is not a well-formed IPv4 or IPv6 packet. */
    BAD_INNER_PACKET,
    /** A decrypted packet whose source address is not in the sending peer's allowed IPs. */
    NOT_ALLOWED_SOURCE,
    /** A packet to send while no keypair exists and the peer's pending queue is full (oldest dropped). */
    QUEUE_FULL,
    /** A packet to send to a peer with no known endpoint. */
    NO_ENDPOINT,
    /** A packet larger than the configured MTU, or not a ByteBuf. */
    OVERSIZED,
    /** A decrypted packet for a peer channel that does not read and whose inbound queue is full. */
    INBOUND_QUEUE_FULL,
    /** A datagram the UDP channel failed to send (e.g. no route to the peer's endpoint); reported, not thrown. */
    SEND_FAILED,
    /** A datagram whose handling failed inside the endpoint (a bug: reported at debug level, never thrown). */
    INTERNAL_ERROR,
    /** A handshake could not start because {@code maxHandshakesInFlight} initiations are awaiting responses. */
    HANDSHAKES_IN_FLIGHT,
    /** Multi-core path: a peer already had {@code maxCryptoQueuedPerPeer} messages waiting in one direction. */
    CRYPTO_QUEUE_FULL
}
