package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.wire.ControlPacketRepr;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Garbage, spoofed resets and stray data packets at the server handler: dropped, counted, released, survived. */
class ServerHostileInputTest {
    static SslContext ssl;
    EmbeddedChannel ch;

    @BeforeAll
    static void tls() throws Exception {
        SelfSignedCertificate c = new SelfSignedCertificate("server");
        ssl = SslContextBuilder.forServer(c.certificate(), c.privateKey()).build();
    }

    @AfterEach
    void close() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    static DatagramPacket dgram(ByteBuf b, int port) {
        return new DatagramPacket(b, new InetSocketAddress("127.0.0.1", 1194),
                new InetSocketAddress("127.0.0.2", port));
    }

    @Test
    void randomDatagramsOfEveryOpcodeCreateNothingAndAreCounted() {
        OpenVpnServer s = OpenVpnServer.builder().ssl(ssl).build();
        ch = new EmbeddedChannel(s);
        Random r = new Random(15);
        long before = 0;
        for (int op = 0; op < 32; op++) {
            if (op == Opcode.CONTROL_HARD_RESET_CLIENT_V2) {
                continue;
            }
            for (int len = 0; len < 80; len++) {
                byte[] b = new byte[len];
                r.nextBytes(b);
                if (len > 0) {
                    b[0] = (byte) Opcode.firstByte(op, r.nextInt(8));
                }
                ch.writeInbound(dgram(Unpooled.wrappedBuffer(b), 1000 + len));
                ch.runPendingTasks();
            }
        }
        assertEquals(0, s.sessionCount());
        long counted = s.drops(OpenVpnDropReason.NO_SESSION) + s.drops(OpenVpnDropReason.MALFORMED);
        assertEquals(31 * 80, counted + before);
        Object out = ch.readOutbound();
        assertEquals(null, out, "nothing is answered");
    }

    @Test
    void spoofedResetFloodWithTlsAuthLeavesNoSessionState() {
        byte[] kb = new byte[StaticKey.LENGTH];
        new SecureRandom().nextBytes(kb);
        StaticKey key = StaticKey.of(kb);
        OpenVpnServer s = OpenVpnServer.builder().ssl(ssl).tlsAuth(key, KeyDirection.NORMAL, "SHA1").build();
        ch = new EmbeddedChannel(s);
        SecureRandom r = new SecureRandom();
        for (int i = 0; i < 2000; i++) {
            // a reset with the right shape but an HMAC the sender cannot make
            byte[] b = new byte[14 + 20 + 8 + 4];
            r.nextBytes(b);
            b[0] = (byte) Opcode.firstByte(Opcode.CONTROL_HARD_RESET_CLIENT_V2, 0);
            ch.writeInbound(dgram(Unpooled.wrappedBuffer(b), 2000 + i));
        }
        assertEquals(0, s.sessionCount());
        assertEquals(2000, s.drops(OpenVpnDropReason.BAD_HMAC) + s.drops(OpenVpnDropReason.MALFORMED));
        assertEquals(null, (Object) ch.readOutbound(), "nothing is answered");
    }

    @Test
    void resetsBeyondTheHandshakeBoundAreRefusedAndCounted() {
        OpenVpnServer s = OpenVpnServer.builder().ssl(ssl).maxClients(100, 5).build();
        ch = new EmbeddedChannel(s);
        for (int i = 0; i < 20; i++) {
            ByteBuf b = Unpooled.buffer();
            new ControlPacketRepr(Opcode.CONTROL_HARD_RESET_CLIENT_V2, 0, 1000 + i, new long[0], 0, 0, new byte[0])
                    .emit(b);
            ch.writeInbound(dgram(b, 3000 + i));
        }
        assertEquals(5, s.sessionCount());
        assertEquals(15, s.drops(OpenVpnDropReason.SESSION_LIMIT));
        int answers = 0;
        Object o;
        while ((o = ch.readOutbound()) != null) {
            DatagramPacket p = (DatagramPacket) o;
            assertEquals(Opcode.CONTROL_HARD_RESET_SERVER_V2, Opcode.of(p.content().getByte(0)));
            p.release();
            answers++;
        }
        assertEquals(5, answers);
        // data packets for peer-ids nobody has, and for a session without keys
        for (int peer = 0; peer < 10; peer++) {
            ByteBuf d = Unpooled.buffer().writeByte(Opcode.firstByte(Opcode.DATA_V2, 0)).writeMedium(peer)
                    .writeZero(40);
            ch.writeInbound(dgram(d, 3000));
        }
        ByteBuf v1 = Unpooled.buffer().writeByte(Opcode.firstByte(Opcode.DATA_V1, 0)).writeZero(40);
        ch.writeInbound(dgram(v1, 3000));
        assertEquals(10, s.drops(OpenVpnDropReason.NO_SESSION));
        assertEquals(1, s.drops(OpenVpnDropReason.NO_KEYS));
        assertTrue(ch.isActive());
    }
}
