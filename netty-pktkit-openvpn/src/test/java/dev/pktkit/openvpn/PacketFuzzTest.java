package dev.pktkit.openvpn;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsAuth;
import dev.pktkit.openvpn.reliable.ReliableConfig;
import dev.pktkit.openvpn.wire.ControlPacketRepr;
import dev.pktkit.openvpn.wire.DataPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One fuzz target for every decoder of this module: the first byte picks the decoder, the rest is the input.
 * Control packets go through a fresh {@link ControlChannel} (plain and tls-auth) which must drop, count and release
 * without throwing; a parsed control packet must re-emit to equal bytes' parse; key method 2 parsing may only
 * refuse with {@code IllegalArgumentException}. {@code mvn verify} fuzzes for 10 s ({@code JAZZER_FUZZ=1} in the
 * POM); without it only the seeds run.
 */
class PacketFuzzTest {
    static final StaticKey KEY;

    static {
        byte[] k = new byte[StaticKey.LENGTH];
        Arrays.fill(k, (byte) 0x5a);
        KEY = StaticKey.of(k);
    }

    @FuzzTest(maxDuration = "10s")
    void decoders(byte[] input) {
        if (input.length < 1) {
            return;
        }
        byte[] msg = Arrays.copyOfRange(input, 1, input.length);
        switch ((input[0] & 0xff) % 4) {
            case 0, 1 -> {
                TlsAuth auth = (input[0] & 1) == 1 ? new TlsAuth(KEY, KeyDirection.BIDIRECTIONAL, "SHA1") : null;
                ControlChannel cc = new ControlChannel(ByteBufAllocator.DEFAULT, ReliableConfig.DEFAULT, auth, true,
                        42, 0, 4, 0, ByteBuf::release, ByteBuf::release);
                try {
                    cc.onPacket(Unpooled.wrappedBuffer(msg.clone()), 0);
                    cc.onPacket(Unpooled.wrappedBuffer(msg.clone()), 1);
                    cc.flushAcks();
                    cc.tick(Long.MAX_VALUE / 2);
                } finally {
                    cc.release();
                }
            }
            case 2 -> {
                ByteBuf b = Unpooled.wrappedBuffer(msg);
                ControlPacketRepr r = ControlPacketRepr.parse(b, 0, msg.length);
                DataPacket.headerLength(b, 0, msg.length);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    r.emit(out);
                    assertEquals(r, ControlPacketRepr.parse(out, 0, out.readableBytes()));
                    out.release();
                }
                b.release();
            }
            default -> {
                ByteBuf b = Unpooled.wrappedBuffer(msg);
                try {
                    KeyMethod2Message m = KeyMethod2Message.parse(b, (input[0] & 0x10) != 0);
                    m.peerInfoMap();
                } catch (IllegalArgumentException refused) {
                    // the only allowed outcome for bad input
                } finally {
                    b.release();
                }
            }
        }
    }
}
