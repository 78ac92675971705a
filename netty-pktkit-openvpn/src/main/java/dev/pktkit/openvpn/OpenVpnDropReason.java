package dev.pktkit.openvpn;

/** Why an OpenVPN packet was dropped; each has a counter in {@link ControlChannel#drops(OpenVpnDropReason)} (control channel) or
 * {@code OpenVpnServer#drops(OpenVpnDropReason)} (server). */
public enum OpenVpnDropReason {
    /** Shorter than its opcode's fixed part, or the ack array does not fit. */
    MALFORMED,
    /** Opcode not in use by OpenVPN 2.6 (key method 1 resets, unknown values) or not valid in this state. */
    BAD_OPCODE,
    /** tls-auth HMAC or tls-crypt tag did not verify (or the packet was too short for it). */
    BAD_HMAC,
    /** Control-channel packet-id seen before or too old. */
    REPLAY,
    /** Session ID differs from the one this session was established with. */
    WRONG_SESSION,
    /** Message ID beyond the receive slots, or the ack queue is full. */
    RELIABLE_WINDOW,
    /** The bounded queue of control messages waiting for the send window was full. */
    SEND_QUEUE_FULL,
    /** A packet other than a client hard reset from an address with no session, or a data packet for no peer-id. */
    NO_SESSION,
    /** A new session was refused: {@code maxClients} or {@code maxHandshakes} reached. */
    SESSION_LIMIT,
    /** A data packet before the session's keys exist. */
    NO_KEYS,
    /** A data packet that is too short, or whose AEAD tag did not verify. */
    DATA_BAD_TAG,
    /** A data packet whose packet-id was seen before or is behind the replay window. */
    DATA_REPLAY,
    /** A data packet for a client whose pipeline did not take it in time (its inbound queue was full). */
    INBOUND_QUEUE_FULL,
    /** An outgoing data packet when the key's packet-id space was used up. */
    PACKET_ID_EXHAUSTED,
    /**
     * A packet of the stateless handshake's third step (control, ack or WKC from an address with no session) whose
     * remote session ID is not a valid HMAC cookie for its sender, or whose IDs are not those of that step.
     */
    BAD_COOKIE,
    /** A tls-crypt-v2 packet whose wrapped client key (WKc) is malformed or does not open with the server key. */
    BAD_WKC,
    /** A data packet that arrived compressed (or with wrong compression framing); we never decompress. */
    COMPRESSED,
    /** A renegotiation (soft reset) not completed within the hand-window; the previous key stays in use. */
    RENEGOTIATION_FAILED,
    /** A control message that could not be parsed (key method 2, or plaintext beyond its bound). */
    BAD_CONTROL_MESSAGE
}
