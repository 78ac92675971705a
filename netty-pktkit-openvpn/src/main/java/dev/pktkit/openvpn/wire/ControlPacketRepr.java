package dev.pktkit.openvpn.wire;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * A parsed plain control packet, for tests, logs and the handshake (not the data path). {@code messageId} is
 * -1 for P_ACK_V1; {@code remoteSessionId} is 0 when there are no acks.
 */
public record ControlPacketRepr(int opcode, int keyId, long sessionId, long[] acks, long remoteSessionId,
                                long messageId, byte[] payload) {

    public ControlPacketRepr {
        acks = acks.clone();
        payload = payload.clone();
    }

    /** Parses the packet of {@code len} bytes at {@code off}, or returns null if {@link ControlPacket#check} refuses it. */
    public static ControlPacketRepr parse(ByteBuf buf, int off, int len) {
        if (ControlPacket.check(buf, off, len) != ControlPacket.OK) {
            return null;
        }
        int op = ControlPacket.opcode(buf, off);
        int n = ControlPacket.ackCount(buf, off);
        long[] acks = new long[n];
        for (int i = 0; i < n; i++) {
            acks[i] = ControlPacket.ack(buf, off, i);
        }
        long remote = n > 0 ? ControlPacket.remoteSessionId(buf, off) : 0;
        long msgId = -1;
        byte[] payload = new byte[0];
        if (op != Opcode.ACK_V1) {
            msgId = ControlPacket.messageId(buf, off);
            int p = ControlPacket.payloadOffset(buf, off);
            payload = new byte[off + len - p];
            buf.getBytes(p, payload);
        }
        return new ControlPacketRepr(op, ControlPacket.keyId(buf, off), ControlPacket.sessionId(buf, off), acks,
                remote, msgId, payload);
    }

    /** Writes this packet at the writer index. */
    public void emit(ByteBuf out) {
        ControlPacket.writeHeader(out, opcode, keyId, sessionId, acks, acks.length, remoteSessionId, messageId);
        if (opcode != Opcode.ACK_V1) {
            out.writeBytes(payload);
        }
    }

    public int length() {
        return ControlPacket.length(opcode, acks.length, payload.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ControlPacketRepr r && r.opcode == opcode && r.keyId == keyId
                && r.sessionId == sessionId && Arrays.equals(r.acks, acks) && r.remoteSessionId == remoteSessionId
                && r.messageId == messageId && Arrays.equals(r.payload, payload);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sessionId) * 31 + Long.hashCode(messageId) * 7 + Arrays.hashCode(acks);
    }

    @Override
    public String toString() {
        return Opcode.name(opcode) + "{key=" + keyId + ", sid=" + Long.toHexString(sessionId) + ", acks="
                + Arrays.toString(acks) + (acks.length > 0 ? ", remote=" + Long.toHexString(remoteSessionId) : "")
                + (messageId >= 0 ? ", msg=" + messageId : "") + ", payload=" + payload.length + "}";
    }
}
