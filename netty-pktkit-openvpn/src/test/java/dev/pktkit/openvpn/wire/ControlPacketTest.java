package dev.pktkit.openvpn.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlPacketTest {
    static ByteBuf hex(String s) {
        return Unpooled.wrappedBuffer(HexFormat.of().parseHex(s.replace(" ", "")));
    }

    @Test
    void parsesAClientHardResetV2AsOpenVpnSendsIt() {
        // opcode 7 key 0, session id, no acks, message id 0, no payload (2.6 may append early-negotiation TLVs).
        ByteBuf b = hex("38 0102030405060708 00 00000000");
        try {
            assertEquals(ControlPacket.OK, ControlPacket.check(b, 0, b.readableBytes()));
            ControlPacketRepr r = ControlPacketRepr.parse(b, 0, b.readableBytes());
            assertNotNull(r);
            assertEquals(Opcode.CONTROL_HARD_RESET_CLIENT_V2, r.opcode());
            assertEquals(0, r.keyId());
            assertEquals(0x0102030405060708L, r.sessionId());
            assertEquals(0, r.acks().length);
            assertEquals(0, r.messageId());
            assertEquals(0, r.payload().length);
        } finally {
            b.release();
        }
    }

    @Test
    void parsesAServerResetWithAckAndRemoteSession() {
        ByteBuf b = hex("40 1111111111111111 01 00000000 2222222222222222 00000000");
        try {
            ControlPacketRepr r = ControlPacketRepr.parse(b, 0, b.readableBytes());
            assertNotNull(r);
            assertEquals(Opcode.CONTROL_HARD_RESET_SERVER_V2, r.opcode());
            assertEquals(1, r.acks().length);
            assertEquals(0x2222222222222222L, r.remoteSessionId());
        } finally {
            b.release();
        }
    }

    @Test
    void emitThenParseRoundTripsEveryControlOpcode() {
        for (int op = Opcode.MIN; op <= Opcode.MAX; op++) {
            if (!Opcode.isControl(op)) {
                continue;
            }
            for (int acks = 0; acks <= ControlPacket.MAX_ACKS; acks += 4) {
                long[] ids = new long[acks];
                for (int i = 0; i < acks; i++) {
                    ids[i] = 0xfffffff0L + i;
                }
                byte[] payload = op == Opcode.ACK_V1 ? new byte[0] : new byte[]{1, 2, 3};
                ControlPacketRepr r = new ControlPacketRepr(op, 5, -2L, ids, acks > 0 ? 42 : 0,
                        op == Opcode.ACK_V1 ? -1 : 0xffffffffL, payload);
                ByteBuf b = Unpooled.buffer();
                try {
                    r.emit(b);
                    assertEquals(r.length(), b.readableBytes());
                    assertEquals(r, ControlPacketRepr.parse(b, 0, b.readableBytes()), Opcode.name(op));
                } finally {
                    b.release();
                }
            }
        }
    }

    @Test
    void refusesMalformedPackets() {
        ByteBuf b = hex("28 0102030405060708 09" + "00000000".repeat(9) + "0000000000000000");
        try {
            assertEquals(ControlPacket.TOO_MANY_ACKS, ControlPacket.check(b, 0, b.readableBytes()));
        } finally {
            b.release();
        }
        ByteBuf ack = hex("28 0102030405060708 01 00000000 2222222222222222 ff");
        try {
            assertEquals(ControlPacket.ACK_WITH_PAYLOAD, ControlPacket.check(ack, 0, ack.readableBytes()));
            assertEquals(ControlPacket.OK, ControlPacket.check(ack, 0, ack.readableBytes() - 1));
            assertEquals(ControlPacket.TRUNCATED, ControlPacket.check(ack, 0, ack.readableBytes() - 2));
        } finally {
            ack.release();
        }
        ByteBuf data = hex("48 000001 0000000000000000");
        try {
            assertEquals(ControlPacket.NOT_CONTROL, ControlPacket.check(data, 0, 12));
            assertEquals(ControlPacket.TRUNCATED, ControlPacket.check(data, 0, 5));
            assertEquals(ControlPacket.TRUNCATED, ControlPacket.check(data, 0, 13), "longer than the buffer");
            assertNull(ControlPacketRepr.parse(data, 0, 8));
        } finally {
            data.release();
        }
        assertThrows(IllegalArgumentException.class, () -> ControlPacket.writeHeader(Unpooled.buffer(), 4, 0, 0,
                new long[9], 9, 0, 0));
    }

    @Test
    void dataPacketHeaders() {
        ByteBuf b = Unpooled.buffer();
        try {
            DataPacket.writeV2Header(b, 2, 0xabcdef);
            b.writeInt(7);
            assertEquals(DataPacket.V2_HEADER_LENGTH, DataPacket.headerLength(b, 0, b.readableBytes()));
            assertEquals(0xabcdef, DataPacket.peerId(b, 0));
            assertEquals(2, Opcode.keyId(b.getByte(0)));
            assertEquals("4aabcdef00000007", ByteBufUtil.hexDump(b));
            assertEquals(-1, DataPacket.headerLength(b, 0, 3));
            b.setByte(0, Opcode.firstByte(Opcode.DATA_V1, 0));
            assertEquals(1, DataPacket.headerLength(b, 0, 1));
            b.setByte(0, Opcode.firstByte(Opcode.CONTROL_V1, 0));
            assertEquals(-1, DataPacket.headerLength(b, 0, 8));
        } finally {
            b.release();
        }
        assertTrue(Opcode.isSupported(Opcode.CONTROL_WKC_V1));
        assertEquals("P_CONTROL_HARD_RESET_CLIENT_V3", Opcode.name(Opcode.CONTROL_HARD_RESET_CLIENT_V3));
    }
}
