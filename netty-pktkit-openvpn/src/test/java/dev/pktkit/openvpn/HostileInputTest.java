package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsAuth;
import dev.pktkit.openvpn.reliable.ReliableConfig;
import dev.pktkit.openvpn.wire.ControlPacket;
import dev.pktkit.openvpn.wire.ControlPacketRepr;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every opcode truncated, oversized or wrong reaches the control channel: dropped, counted, released, survived. */
class HostileInputTest {
    final List<ByteBuf> out = new ArrayList<>();
    final List<ByteBuf> messages = new ArrayList<>();

    @AfterEach
    void release() {
        out.forEach(ByteBuf::release);
        messages.forEach(ByteBuf::release);
    }

    ControlChannel server(TlsAuth auth) {
        return new ControlChannel(ByteBufAllocator.DEFAULT, ReliableConfig.DEFAULT, auth, true, 0x1111L, 0,
                ControlChannel.DEFAULT_SEND_QUEUE, 0, out::add, messages::add);
    }

    static ByteBuf packet(int op, long sid, long[] acks, long remote, long msgId, byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        new ControlPacketRepr(op, 0, sid, acks, remote, msgId, payload).emit(b);
        return b;
    }

    @Test
    void everyOpcodeTruncatedAtEveryLengthIsDroppedAndCounted() {
        for (int op = 0; op < 32; op++) {
            ByteBuf full = packet(Opcode.isControl(op) ? op : Opcode.CONTROL_V1, 7, new long[]{0}, 0x1111L, 1,
                    new byte[3]);
            full.setByte(0, Opcode.firstByte(op, 0));
            int fullLen = full.readableBytes();
            for (int len = 0; len < fullLen; len++) {
                ControlChannel cc = server(null);
                ByteBuf cut = Unpooled.buffer(Math.max(len, 1)).writeBytes(full.array(), 0, len);
                OpenVpnDropReason r = cc.onPacket(cut, 0);
                // A reliable packet cut inside its payload is a valid shorter one (the payload is opaque here).
                boolean stillValid = Opcode.isControl(op) && len >= ControlPacket.length(op, 1, 0);
                if (!stillValid) {
                    assertTrue(r == OpenVpnDropReason.MALFORMED || r == OpenVpnDropReason.BAD_OPCODE,
                            Opcode.name(op) + " cut to " + len + ": " + r);
                }
                cc.release();
                assertEquals(0, cut.refCnt(), Opcode.name(op) + " cut to " + len + " released; " + r);
            }
            full.release();
        }
    }

    @Test
    void obsoleteUnknownAndWrongDirectionOpcodesAreRefused() {
        int[] refused = {0, Opcode.CONTROL_HARD_RESET_CLIENT_V1, Opcode.CONTROL_HARD_RESET_SERVER_V1,
                Opcode.CONTROL_HARD_RESET_SERVER_V2, Opcode.DATA_V1, Opcode.DATA_V2, 12, 31};
        for (int op : refused) {
            ControlChannel cc = server(null);
            ByteBuf p = packet(Opcode.CONTROL_V1, 7, new long[0], 0, 0, new byte[4]);
            p.setByte(0, Opcode.firstByte(op, 0));
            assertEquals(OpenVpnDropReason.BAD_OPCODE, cc.onPacket(p, 0), Opcode.name(op));
            assertEquals(1, cc.drops(OpenVpnDropReason.BAD_OPCODE));
            assertEquals(0, p.refCnt());
            cc.release();
        }
    }

    @Test
    void oversizedAckArraysAndForeignSessionsAreDropped() {
        ControlChannel cc = server(null);
        ByteBuf nine = Unpooled.buffer();
        nine.writeByte(Opcode.firstByte(Opcode.ACK_V1, 0)).writeLong(7).writeByte(9).writeZero(9 * 4 + 8);
        assertEquals(OpenVpnDropReason.MALFORMED, cc.onPacket(nine, 0));
        assertNull(cc.onPacket(packet(Opcode.CONTROL_HARD_RESET_CLIENT_V2, 7, new long[0], 0, 0, new byte[0]), 0));
        assertEquals(OpenVpnDropReason.WRONG_SESSION,
                cc.onPacket(packet(Opcode.CONTROL_V1, 8, new long[0], 0, 1, new byte[1]), 0));
        assertEquals(OpenVpnDropReason.WRONG_SESSION,
                cc.onPacket(packet(Opcode.ACK_V1, 7, new long[]{0}, 0x2222L, -1, new byte[0]), 0),
                "acks for somebody else's session");
        assertEquals(OpenVpnDropReason.RELIABLE_WINDOW,
                cc.onPacket(packet(Opcode.CONTROL_V1, 7, new long[0], 0, 13, new byte[1]), 0));
        assertEquals(1, cc.drops(OpenVpnDropReason.MALFORMED));
        assertEquals(2, cc.drops(OpenVpnDropReason.WRONG_SESSION));
        assertEquals(1, cc.drops(OpenVpnDropReason.RELIABLE_WINDOW));
        // Still works afterwards: message 1 is delivered in order.
        assertNull(cc.onPacket(packet(Opcode.CONTROL_V1, 7, new long[0], 0, 1, new byte[]{9}), 0));
        assertEquals(1, messages.size());
        assertEquals(9, messages.get(0).getByte(0));
        cc.release();
    }

    @Test
    void tlsAuthRefusesBadHmacAndReplays() {
        byte[] k = new byte[StaticKey.LENGTH];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) i;
        }
        StaticKey key = StaticKey.of(k);
        TlsAuth client = new TlsAuth(key, KeyDirection.INVERSE, "SHA1");
        ControlChannel cc = server(new TlsAuth(key, KeyDirection.NORMAL, "SHA1"));
        ByteBuf plain = packet(Opcode.CONTROL_HARD_RESET_CLIENT_V2, 7, new long[0], 0, 0, new byte[0]);
        ByteBuf wrapped = client.wrap(ByteBufAllocator.DEFAULT, plain, 1, 1000);
        ByteBuf replay = wrapped.copy();
        ByteBuf flipped = wrapped.copy();
        flipped.setByte(flipped.writerIndex() - 1, flipped.getByte(flipped.writerIndex() - 1) ^ 1);
        assertEquals(OpenVpnDropReason.BAD_HMAC, cc.onPacket(flipped, 0));
        assertNull(cc.onPacket(wrapped, 0));
        assertEquals(7, cc.remoteSessionId());
        assertEquals(OpenVpnDropReason.REPLAY, cc.onPacket(replay, 0));
        // The wrong key direction does not verify either.
        ByteBuf wrongDir = new TlsAuth(key, KeyDirection.NORMAL, "SHA1").wrap(ByteBufAllocator.DEFAULT, plain, 2, 1);
        assertEquals(OpenVpnDropReason.BAD_HMAC, cc.onPacket(wrongDir, 0));
        assertEquals(OpenVpnDropReason.BAD_HMAC, cc.onPacket(Unpooled.wrappedBuffer(new byte[5]), 0));
        assertEquals(3, cc.drops(OpenVpnDropReason.BAD_HMAC));
        plain.release();
        cc.release();
    }

    @Test
    void twoChannelsTalkThroughLossAndRetransmission() {
        // A client and a server channel, every first transmission of a reliable packet lost: the timers repair it.
        List<ByteBuf> toServer = new ArrayList<>();
        List<ByteBuf> toClient = new ArrayList<>();
        List<ByteBuf> atServer = new ArrayList<>();
        ControlChannel srv = new ControlChannel(ByteBufAllocator.DEFAULT, ReliableConfig.DEFAULT, null, true, 0xa,
                0, 64, 0, toClient::add, atServer::add);
        ControlChannel cli = new ControlChannel(ByteBufAllocator.DEFAULT, ReliableConfig.DEFAULT, null, false, 0xb,
                0, 64, 0, toServer::add, messages::add);
        long s = 1_000_000_000L;
        cli.sendReset(0);
        toServer.remove(0).release(); // lost
        cli.tick(2 * s);
        assertEquals(1, toServer.size());
        assertNull(srv.onPacket(toServer.remove(0), 2 * s));
        srv.sendReset(2 * s);
        byte[] big = new byte[3000];
        Arrays.fill(big, (byte) 1);
        cli.send(Unpooled.wrappedBuffer(big), 2 * s); // before the server's reset: 3 fragments
        for (ByteBuf b : toClient) {
            assertNull(cli.onPacket(b, 2 * s));
        }
        toClient.clear();
        assertTrue(srv.resetAcknowledged() || !toServer.isEmpty());
        for (ByteBuf b : toServer) {
            srv.onPacket(b, 2 * s);
        }
        toServer.clear();
        srv.flushAcks();
        for (ByteBuf b : toClient) {
            cli.onPacket(b, 2 * s);
        }
        toClient.clear();
        int got = atServer.stream().mapToInt(ByteBuf::readableBytes).sum();
        assertEquals(3000, got);
        assertTrue(cli.resetAcknowledged());
        assertEquals(0, cli.reliable().unacknowledged());
        atServer.forEach(ByteBuf::release);
        srv.release();
        cli.release();
    }
}
