package dev.pktkit.openvpn.wire;

import io.netty.buffer.ByteBuf;

/**
 * Zero-copy accessors over an OpenVPN data packet: P_DATA_V1 is the opcode byte followed by the encrypted
 * payload; P_DATA_V2 adds a 24-bit peer-id after it (the first 4 bytes are then the AEAD's associated data prefix).
 */
public final class DataPacket {
    public static final int V1_HEADER_LENGTH = 1;
    public static final int V2_HEADER_LENGTH = 4;
    /** Peer-id value meaning "none" (OpenVPN's {@code MAX_PEER_ID}). */
    public static final int NO_PEER_ID = 0xffffff;

    private DataPacket() {
    }

    /** Header length for this packet's opcode, or -1 when it is not a data packet or too short to hold one. */
    public static int headerLength(ByteBuf buf, int off, int len) {
        if (len < 1) {
            return -1;
        }
        int op = Opcode.of(buf.getByte(off));
        int h = op == Opcode.DATA_V2 ? V2_HEADER_LENGTH : op == Opcode.DATA_V1 ? V1_HEADER_LENGTH : -1;
        return h > 0 && len >= h ? h : -1;
    }

    /** The 24-bit peer-id of a P_DATA_V2 packet. */
    public static int peerId(ByteBuf buf, int off) {
        return buf.getUnsignedMedium(off + 1);
    }

    /** Writes a P_DATA_V2 header at the writer index. */
    public static void writeV2Header(ByteBuf out, int keyId, int peerId) {
        out.writeByte(Opcode.firstByte(Opcode.DATA_V2, keyId));
        out.writeMedium(peerId);
    }
}
