package dev.pktkit.openvpn.data;

import dev.pktkit.openvpn.crypto.ReplayWindow;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** AES-256-CBC + HMAC both ways, every length around the block size, tampering and replays refused. */
class CbcHmacDataChannelTest {
    @ParameterizedTest
    @ValueSource(strings = {"SHA1", "SHA256", "SHA512"})
    void roundTripsTamperAndReplay(String digest) {
        byte[] k = new byte[KeyDerivation.KEY2_LENGTH];
        new Random(5).nextBytes(k);
        DataChannel server = KeyDerivation.dataChannel(DataCipher.AES_256_CBC, digest, k, true, new ReplayWindow());
        DataChannel client = KeyDerivation.dataChannel(DataCipher.AES_256_CBC, digest, k, false, new ReplayWindow());
        int hmac = ((CbcHmacDataChannel) server).hmacLength();
        Random r = new Random(9);
        for (int len = 0; len < 70; len++) {
            byte[] p = new byte[len];
            r.nextBytes(p);
            int peerId = len % 2 == 0 ? 7 : -1;
            ByteBuf pkt = server.seal(ByteBufAllocator.DEFAULT, Unpooled.wrappedBuffer(p), 1, peerId);
            int head = peerId >= 0 ? 4 : 1;
            assertEquals(head + hmac + 16 + ((4 + len) / 16 + 1) * 16, pkt.readableBytes(), "padded to blocks");
            ByteBuf got = client.open(ByteBufAllocator.DEFAULT, pkt, pkt.readerIndex(), pkt.readableBytes());
            assertNotNull(got, "len " + len);
            assertEquals(ByteBufUtil.hexDump(p), ByteBufUtil.hexDump(got));
            got.release();
            assertNull(client.open(ByteBufAllocator.DEFAULT, pkt, 0, pkt.readableBytes()), "a replay");
            assertEquals(DataChannel.REPLAYED, client.lastRejection());
            ByteBuf t = pkt.copy();
            t.setByte(t.readableBytes() - 1, t.getByte(t.readableBytes() - 1) ^ 1);
            assertNull(client.open(ByteBufAllocator.DEFAULT, t, 0, t.readableBytes()));
            assertEquals(DataChannel.BAD_TAG, client.lastRejection());
            assertNull(server.open(ByteBufAllocator.DEFAULT, pkt, 0, pkt.readableBytes()), "own direction");
            t.release();
            pkt.release();
        }
        assertNull(client.open(ByteBufAllocator.DEFAULT, Unpooled.wrappedBuffer(new byte[20]), 0, 20));
        assertEquals(DataChannel.TOO_SHORT, client.lastRejection());
    }
}
