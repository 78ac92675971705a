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
 * One fuzz target for every decoder of this module: the first byte picks the decoder, the rest is the input:
 * control channel, control packet views, key method 2, tls-crypt and WKc unwrapping, the data channel of every
 * cipher, the compression framings, and the whole server handler (stateless handshake, sessions) on datagrams.
 * Control packets go through a fresh {@link ControlChannel} (plain and tls-auth) which must drop, count and release
 * without throwing; a parsed control packet must re-emit to equal bytes' parse; key method 2 parsing may only
 * refuse with {@code IllegalArgumentException}. {@code mvn verify} fuzzes for 10 s ({@code JAZZER_FUZZ=1} in the
 * POM); without it only the seeds run.
 */
class PacketFuzzTest {
    static final StaticKey KEY;

    static final byte[] KEY2 = new byte[256];
    static final dev.pktkit.openvpn.crypto.TlsCryptV2.ServerKey V2_KEY =
            dev.pktkit.openvpn.crypto.TlsCryptV2.ServerKey.generate(new java.security.SecureRandom());
    static final io.netty.channel.embedded.EmbeddedChannel SERVER;

    static {
        byte[] k = new byte[StaticKey.LENGTH];
        Arrays.fill(k, (byte) 0x5a);
        KEY = StaticKey.of(k);
        try {
            io.netty.handler.ssl.util.SelfSignedCertificate c = new io.netty.handler.ssl.util.SelfSignedCertificate("server");
            SERVER = new io.netty.channel.embedded.EmbeddedChannel(OpenVpnServer.builder()
                    .ssl(io.netty.handler.ssl.SslContextBuilder.forServer(c.certificate(), c.privateKey()).build())
                    .build());
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void decoders(byte[] input) {
        if (input.length < 1) {
            return;
        }
        byte[] msg = Arrays.copyOfRange(input, 1, input.length);
        switch ((input[0] & 0xff) % 8) {
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
            case 4 -> {
                // tls-crypt unwrap and WKc unwrap: refuse (-1 / null) or accept, never throw
                ByteBuf b = Unpooled.wrappedBuffer(msg.clone());
                new dev.pktkit.openvpn.crypto.TlsCrypt(KEY, true).unwrap(b, 0, msg.length);
                int wl = dev.pktkit.openvpn.crypto.TlsCryptV2.Unwrapper.wkcLength(b, 0, msg.length);
                if (wl > 0) {
                    V2_KEY.unwrapper().unwrap(b, msg.length - wl, wl);
                }
                b.release();
            }
            case 5 -> {
                // data channel open for each cipher, and the compression framings
                ByteBuf b = Unpooled.wrappedBuffer(msg);
                if (msg.length > 0) {
                    for (dev.pktkit.openvpn.data.DataCipher c : dev.pktkit.openvpn.data.DataCipher.values()) {
                        ByteBuf out = dev.pktkit.openvpn.data.KeyDerivation.dataChannel(c, "SHA256", KEY2, true,
                                new dev.pktkit.openvpn.crypto.ReplayWindow()).open(ByteBufAllocator.DEFAULT, b, 0,
                                msg.length);
                        if (out != null) {
                            out.release();
                        }
                    }
                }
                for (Compression c : Compression.values()) {
                    c.unframe(b.duplicate());
                }
                b.release();
            }
            case 6, 7 -> {
                // the whole server (stateless handshake path and sessions) on a datagram from one of 4 addresses
                SERVER.writeInbound(new io.netty.channel.socket.DatagramPacket(Unpooled.wrappedBuffer(msg),
                        new java.net.InetSocketAddress("127.0.0.1", 1194),
                        new java.net.InetSocketAddress("127.0.0.2", 1000 + (input[0] & 3))));
                Object o;
                while ((o = SERVER.readOutbound()) != null) {
                    io.netty.util.ReferenceCountUtil.release(o);
                }
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
