package dev.pktkit.openvpn;

/** Why an OpenVPN packet was dropped; each has a counter in {@link ControlChannel#drops(OpenVpnDropReason)}. */
public enum OpenVpnDropReason {
    /** Shorter than its opcode's fixed part, or the ack array does not fit. */
    MALFORMED,
    /** Opcode not in use by OpenVPN 2.6 (key method 1 resets, unknown values) or not valid in this state. */
    BAD_OPCODE,
    /** tls-auth HMAC did not verify. */
    BAD_HMAC,
    /** Control-channel packet-id seen before or too old. */
    REPLAY,
    /** Session ID differs from the one this session was established with. */
    WRONG_SESSION,
    /** Message ID beyond the receive slots, or the ack queue is full. */
    RELIABLE_WINDOW,
    /** The bounded queue of control messages waiting for the send window was full. */
    SEND_QUEUE_FULL
}
