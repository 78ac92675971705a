package dev.pktkit.openvpn.wire;

import io.netty.buffer.ByteBuf;

/**
 * Zero-copy accessors over an OpenVPN control packet in its plain form (no control-channel protection, or after
 * tls-auth / tls-crypt was removed):
 *
 * <pre>
 * opcode|key-id (1)  session-id (8)  ack-count (1)  ack message IDs (4 each)
 * [remote session-id (8), only if ack-count &gt; 0]  [message ID (4), not in P_ACK_V1]  payload
 * </pre>
 *
 * <p>Offsets are absolute buffer indexes; {@code len} is the packet's length from {@code off}. Call
 * {@link #check} first: the other accessors assume a packet it accepted. Nothing here allocates or moves indexes.
 */
public final class ControlPacket {
    /** Opcode byte plus session ID. */
    public static final int HEADER_LENGTH = 9;
    /** Most message IDs in one ack array (OpenVPN's {@code RELIABLE_ACK_SIZE}). */
    public static final int MAX_ACKS = 8;

    /** {@link #check} results. */
    public static final int OK = 0;
    public static final int TRUNCATED = 1;
    public static final int NOT_CONTROL = 2;
    public static final int TOO_MANY_ACKS = 3;
    public static final int ACK_WITH_PAYLOAD = 4;

    private ControlPacket() {
    }

    public static int opcode(ByteBuf buf, int off) {
        return Opcode.of(buf.getByte(off));
    }

    public static int keyId(ByteBuf buf, int off) {
        return Opcode.keyId(buf.getByte(off));
    }

    public static long sessionId(ByteBuf buf, int off) {
        return buf.getLong(off + 1);
    }

    public static int ackCount(ByteBuf buf, int off) {
        return buf.getUnsignedByte(off + HEADER_LENGTH);
    }

    /** The {@code i}-th acknowledged message ID (unsigned 32 bits). */
    public static long ack(ByteBuf buf, int off, int i) {
        return buf.getUnsignedInt(off + HEADER_LENGTH + 1 + 4 * i);
    }

    /** The session ID the acks refer to; only present when {@link #ackCount} is not zero. */
    public static long remoteSessionId(ByteBuf buf, int off) {
        return buf.getLong(off + HEADER_LENGTH + 1 + 4 * ackCount(buf, off));
    }

    /** Offset of the message ID (reliable opcodes) or of the end of the packet (P_ACK_V1). */
    public static int messageIdOffset(ByteBuf buf, int off) {
        int n = ackCount(buf, off);
        return off + HEADER_LENGTH + 1 + 4 * n + (n > 0 ? 8 : 0);
    }

    /** The message ID of a reliable packet (unsigned 32 bits). */
    public static long messageId(ByteBuf buf, int off) {
        return buf.getUnsignedInt(messageIdOffset(buf, off));
    }

    /** Offset of the payload of a reliable packet. */
    public static int payloadOffset(ByteBuf buf, int off) {
        return messageIdOffset(buf, off) + 4;
    }

    /**
     * Validates the structure of a plain control packet of {@code len} bytes at {@code off}: a control opcode,
     * an ack array of at most {@value #MAX_ACKS} entries that fits, the remote session ID when acks are present,
     * the message ID of a reliable opcode, and no trailing bytes after a P_ACK_V1.
     *
     * @return {@link #OK} or the reason it was refused
     */
    public static int check(ByteBuf buf, int off, int len) {
        if (len < HEADER_LENGTH + 1 || off < 0 || off + len > buf.capacity()) {
            return TRUNCATED;
        }
        int op = opcode(buf, off);
        if (!Opcode.isControl(op)) {
            return NOT_CONTROL;
        }
        int n = ackCount(buf, off);
        if (n > MAX_ACKS) {
            return TOO_MANY_ACKS;
        }
        int need = HEADER_LENGTH + 1 + 4 * n + (n > 0 ? 8 : 0);
        if (op == Opcode.ACK_V1) {
            if (len < need) {
                return TRUNCATED;
            }
            return len == need ? OK : ACK_WITH_PAYLOAD;
        }
        return len < need + 4 ? TRUNCATED : OK;
    }

    /** Length of a plain control packet with {@code acks} acks and {@code payload} payload bytes. */
    public static int length(int opcode, int acks, int payload) {
        return HEADER_LENGTH + 1 + 4 * acks + (acks > 0 ? 8 : 0) + (opcode == Opcode.ACK_V1 ? 0 : 4 + payload);
    }

    /**
     * Writes the header of a plain control packet (everything before the payload) at the writer index.
     *
     * @param acks message IDs to acknowledge; {@code ackCount} of them, at most {@value #MAX_ACKS}
     * @param messageId ignored for P_ACK_V1
     */
    public static void writeHeader(ByteBuf out, int opcode, int keyId, long sessionId, long[] acks, int ackCount,
                                   long remoteSessionId, long messageId) {
        if (ackCount > MAX_ACKS || ackCount < 0) {
            throw new IllegalArgumentException("ackCount " + ackCount + " not in 0.." + MAX_ACKS);
        }
        out.writeByte(Opcode.firstByte(opcode, keyId));
        out.writeLong(sessionId);
        out.writeByte(ackCount);
        for (int i = 0; i < ackCount; i++) {
            out.writeInt((int) acks[i]);
        }
        if (ackCount > 0) {
            out.writeLong(remoteSessionId);
        }
        if (opcode != Opcode.ACK_V1) {
            out.writeInt((int) messageId);
        }
    }

    /** A short name for a {@link #check} result. */
    public static String reason(int check) {
        return switch (check) {
            case OK -> "ok";
            case TRUNCATED -> "truncated";
            case NOT_CONTROL -> "not a control opcode";
            case TOO_MANY_ACKS -> "more than " + MAX_ACKS + " acks";
            case ACK_WITH_PAYLOAD -> "P_ACK_V1 with trailing bytes";
            default -> "unknown";
        };
    }
}
