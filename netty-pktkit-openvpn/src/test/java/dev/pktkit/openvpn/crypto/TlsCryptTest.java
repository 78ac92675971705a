package dev.pktkit.openvpn.crypto;

import dev.pktkit.openvpn.wire.ControlPacket;
import dev.pktkit.openvpn.wire.ControlPacketRepr;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tls-crypt wrapping both ways, tampering, direction; tls-crypt-v2 key files and WKc. */
class TlsCryptTest {
    static StaticKey key(long seed) {
        byte[] k = new byte[StaticKey.LENGTH];
        new Random(seed).nextBytes(k);
        return StaticKey.of(k);
    }

    static ByteBuf plain(byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        new ControlPacketRepr(Opcode.CONTROL_V1, 0, 0x1122334455667788L, new long[] {0, 1}, 0x99L, 2, payload).emit(b);
        return b;
    }

    @Test
    void clientToServerRoundTripDecryptsInPlaceAndHidesThePayload() {
        StaticKey k = key(1);
        TlsCrypt client = new TlsCrypt(k, false);
        TlsCrypt server = new TlsCrypt(k, true);
        byte[] payload = "a TLS record that must not be visible".getBytes(StandardCharsets.US_ASCII);
        ByteBuf p = plain(payload);
        ByteBuf wire = client.wrap(ByteBufAllocator.DEFAULT, p, 7, 1234);
        try {
            assertEquals(p.readableBytes() + client.overhead(), wire.readableBytes());
            assertEquals(7, wire.getInt(9), "packet-id in clear after the session ID");
            assertEquals(1234, wire.getInt(13), "net-time in clear");
            assertEquals(-1, ByteBufUtil.indexOf(Unpooled.wrappedBuffer(payload, 0, 8), wire), "payload encrypted");
            int off = server.unwrap(wire, 0, wire.readableBytes());
            assertTrue(off >= 0);
            assertEquals(7, server.lastPacketId());
            ByteBuf got = wire.slice(off, wire.readableBytes() - off);
            assertEquals(ByteBufUtil.hexDump(p), ByteBufUtil.hexDump(got));
            assertEquals(ControlPacket.OK, ControlPacket.check(got, 0, got.readableBytes()));
        } finally {
            wire.release();
            p.release();
        }
    }

    @Test
    void serverToClientUsesTheOtherSlotAndEveryFlippedBitIsRefused() {
        StaticKey k = key(2);
        TlsCrypt client = new TlsCrypt(k, false);
        TlsCrypt server = new TlsCrypt(k, true);
        ByteBuf p = plain(new byte[40]);
        ByteBuf wire = server.wrap(ByteBufAllocator.DEFAULT, p, 1, 1);
        byte[] bytes = ByteBufUtil.getBytes(wire);
        wire.release();
        p.release();
        ByteBuf own = Unpooled.wrappedBuffer(bytes.clone());
        assertEquals(-1, new TlsCrypt(k, true).unwrap(own, 0, own.readableBytes()), "own direction does not open");
        for (int bit = 0; bit < bytes.length * 8; bit += 7) {
            byte[] t = bytes.clone();
            t[bit / 8] ^= (byte) (1 << (bit % 8));
            ByteBuf tb = Unpooled.wrappedBuffer(t);
            assertEquals(-1, client.unwrap(tb, 0, t.length), "bit " + bit);
            assertArrayEquals(flip(bytes, bit), t, "a refused packet is left unchanged");
        }
        ByteBuf ok = Unpooled.wrappedBuffer(bytes.clone());
        assertTrue(client.unwrap(ok, 0, bytes.length) >= 0);
        assertEquals(-1, client.unwrap(Unpooled.wrappedBuffer(new byte[48]), 0, 48), "shorter than header + tag");
        assertEquals(-1, new TlsCrypt(key(3), false).unwrap(Unpooled.wrappedBuffer(bytes.clone()), 0, bytes.length),
                "other key");
    }

    static byte[] flip(byte[] b, int bit) {
        byte[] t = b.clone();
        t[bit / 8] ^= (byte) (1 << (bit % 8));
        return t;
    }

    @Test
    void tlsCryptV2ClientKeyFileRoundTripsAndItsWkcOpensOnlyWithTheServerKey() {
        SecureRandom r = new SecureRandom();
        TlsCryptV2.ServerKey sk = TlsCryptV2.ServerKey.generate(r);
        assertEquals(sk.format(), TlsCryptV2.ServerKey.parse(sk.format()).format());
        byte[] meta = {0, 'h', 'i'};
        TlsCryptV2.ClientKey ck = TlsCryptV2.ClientKey.parse(sk.newClientKey(r, meta));
        assertEquals(TlsCrypt.TAG + StaticKey.LENGTH + meta.length + 2, ck.wkc().length);
        ByteBuf pkt = Unpooled.buffer().writeZero(30).writeBytes(ck.wkc());
        int wl = TlsCryptV2.Unwrapper.wkcLength(pkt, 0, pkt.readableBytes());
        assertEquals(ck.wkc().length, wl);
        TlsCryptV2.Unwrapper u = sk.unwrapper();
        StaticKey kc = u.unwrap(pkt, 30, wl);
        assertNotNull(kc);
        assertArrayEquals(ck.key().bytes(), kc.bytes());
        assertArrayEquals(meta, u.lastMetadata());
        assertNull(TlsCryptV2.ServerKey.generate(r).unwrapper().unwrap(pkt, 30, wl), "another server key");
        pkt.setByte(30 + 40, pkt.getByte(30 + 40) ^ 1);
        assertNull(u.unwrap(pkt, 30, wl), "tampered WKc");
        assertEquals(-1, TlsCryptV2.Unwrapper.wkcLength(Unpooled.wrappedBuffer(new byte[] {1, 0, 5}), 0, 3));
        // the default metadata is a timestamp, as openvpn --genkey tls-crypt-v2-client writes
        TlsCryptV2.ClientKey stamped = TlsCryptV2.ClientKey.parse(sk.newClientKey(r, null));
        ByteBuf w = Unpooled.wrappedBuffer(stamped.wkc());
        assertNotNull(u.unwrap(w, 0, stamped.wkc().length));
        assertEquals(TlsCryptV2.METADATA_TIMESTAMP, u.lastMetadata()[0]);
        assertEquals(9, u.lastMetadata().length);
        assertThrows(IllegalArgumentException.class, () -> TlsCryptV2.ServerKey.parse("garbage"));
    }
}
