package dev.pktkit.openvpn.data;

import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.security.SecureRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Both sides from one key2 block: seal/open both ways, V1 and V2, tampering, replays and truncation rejected. */
class AeadDataChannelTest {
    static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    static byte[] key2() {
        byte[] k = new byte[KeyDerivation.KEY2_LENGTH];
        new SecureRandom().nextBytes(k);
        return k;
    }

    static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }

    @ParameterizedTest
    @EnumSource(value = DataCipher.class, names = {"AES_256_GCM", "AES_128_GCM", "CHACHA20_POLY1305"})
    void sealedByOneSideOpensOnTheOtherBothWaysAndInBothFormats(DataCipher cipher) {
        byte[] k = key2();
        AeadDataChannel server = KeyDerivation.channel(cipher, k, true, new ReplayWindow());
        AeadDataChannel client = KeyDerivation.channel(cipher, k, false, new ReplayWindow());
        for (int peerId : new int[] {7, -1}) {
            for (int len : new int[] {0, 1, 20, 1420}) {
                byte[] msg = new byte[len];
                new SecureRandom().nextBytes(msg);
                ByteBuf direct = ALLOC.directBuffer(len).writeBytes(msg);
                ByteBuf pkt = server.seal(ALLOC, direct, 0, peerId);
                direct.release();
                assertEquals(len + AeadDataChannel.overhead(peerId >= 0), pkt.readableBytes());
                assertEquals(peerId >= 0 ? Opcode.DATA_V2 : Opcode.DATA_V1, Opcode.of(pkt.getByte(0)));
                ByteBuf plain = client.open(ALLOC, pkt, pkt.readerIndex(), pkt.readableBytes());
                assertNotNull(plain, "opens");
                assertArrayEquals(msg, bytes(plain));
                plain.release();
                // and the other way
                ByteBuf heap = Unpooled.wrappedBuffer(msg);
                ByteBuf back = client.seal(ALLOC, heap, 0, peerId);
                ByteBuf plain2 = server.open(ALLOC, back, 0, back.readableBytes());
                assertArrayEquals(msg, bytes(plain2));
                plain2.release();
                // a fresh server cannot open its own direction's packet (it decrypts with the other slot)
                AeadDataChannel fresh = KeyDerivation.channel(cipher, k, true, new ReplayWindow());
                assertNull(fresh.open(ALLOC, pkt, 0, pkt.readableBytes()));
                assertEquals(AeadDataChannel.BAD_TAG, fresh.lastRejection());
                pkt.release();
                back.release();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataCipher.class, names = {"AES_256_GCM", "AES_128_GCM", "CHACHA20_POLY1305"})
    void tamperedReplayedAndTruncatedPacketsAreRejected(DataCipher cipher) {
        byte[] k = key2();
        AeadDataChannel server = KeyDerivation.channel(cipher, k, true, new ReplayWindow());
        AeadDataChannel client = KeyDerivation.channel(cipher, k, false, new ReplayWindow());
        ByteBuf in = Unpooled.wrappedBuffer(new byte[100]);
        ByteBuf pkt = server.seal(ALLOC, in, 0, 3);
        int len = pkt.readableBytes();
        for (int i = 0; i < len; i++) {
            ByteBuf bad = pkt.copy();
            bad.setByte(i, bad.getByte(i) ^ 0x40);
            ByteBuf r = client.open(ALLOC, bad, 0, len);
            if (i == 0) {
                // the opcode's key-id bits are not authenticated by AEAD here but the AD of V2 covers the byte
                assertNull(r, "byte 0 is in the associated data");
            } else {
                assertNull(r, "flipped byte " + i);
            }
            bad.release();
        }
        for (int cut = 0; cut < 24; cut++) {
            assertNull(client.open(ALLOC, pkt, 0, cut));
        }
        ByteBuf ok = client.open(ALLOC, pkt, 0, len);
        assertNotNull(ok);
        ok.release();
        assertNull(client.open(ALLOC, pkt, 0, len), "replay");
        assertEquals(AeadDataChannel.REPLAYED, client.lastRejection());
        assertEquals(1, client.lastReceivedPacketId());
        pkt.release();
    }
}
