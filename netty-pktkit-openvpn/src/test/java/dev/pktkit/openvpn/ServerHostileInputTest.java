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
        long counted = s.drops(OpenVpnDropReason.NO_SESSION) + s.drops(OpenVpnDropReason.MALFORMED)
                + s.drops(OpenVpnDropReason.BAD_COOKIE);
        assertEquals(0, s.sessionsCreated());
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
        OpenVpnServer s = OpenVpnServer.builder().ssl(ssl).maxClients(100, 5).statelessHandshake(false).build();
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

    static ByteBuf reset(long clientSid) {
        ByteBuf b = Unpooled.buffer();
        new ControlPacketRepr(Opcode.CONTROL_HARD_RESET_CLIENT_V2, 0, clientSid, new long[0], 0, 0, new byte[0]).emit(b);
        return b;
    }

    @Test
    void spoofedResetFloodIsAnsweredStatelesslyAndOnlyAnEchoedCookieCreatesState() {
        OpenVpnServer s = OpenVpnServer.builder().ssl(ssl).maxClients(100, 5).build();
        ch = new EmbeddedChannel(s);
        int flood = 2000;
        long cookieFor7 = 0;
        for (int i = 0; i < flood; i++) {
            ch.writeInbound(dgram(reset(0x7000 + i), 10000 + i));
            DatagramPacket reply = ch.readOutbound();
            ByteBuf r = reply.content();
            assertEquals(Opcode.CONTROL_HARD_RESET_SERVER_V2, Opcode.of(r.getByte(0)));
            assertEquals(1, r.getByte(9), "one ack");
            assertEquals(0, r.getInt(10), "of the client's message 0");
            assertEquals(0x7000 + i, r.getLong(14), "to the client's session");
            assertEquals(0, r.getInt(22), "our reset is message 0");
            if (i == 7) {
                cookieFor7 = r.getLong(1);
            }
            reply.release();
        }
        assertEquals(0, s.sessionCount(), "a reset flood leaves no session state");
        assertEquals(0, s.sessionsCreated());
        assertEquals(flood, s.statelessReplies());
        // a third packet that guesses the cookie, or echoes it from another address, creates nothing
        ByteBuf guess = Unpooled.buffer();
        new ControlPacketRepr(Opcode.ACK_V1, 0, 0x7007, new long[] {0}, cookieFor7 ^ 1, 0, new byte[0]).emit(guess);
        ch.writeInbound(dgram(guess, 10007));
        ByteBuf moved = Unpooled.buffer();
        new ControlPacketRepr(Opcode.ACK_V1, 0, 0x7007, new long[] {0}, cookieFor7, 0, new byte[0]).emit(moved);
        ch.writeInbound(dgram(moved, 10008));
        ByteBuf late = Unpooled.buffer();
        new ControlPacketRepr(Opcode.CONTROL_V1, 0, 0x7007, new long[] {0}, cookieFor7, 5, new byte[1]).emit(late);
        ch.writeInbound(dgram(late, 10007));
        assertEquals(3, s.drops(OpenVpnDropReason.BAD_COOKIE));
        assertEquals(0, s.sessionsCreated());
        // the echo from the right address does
        ByteBuf echo = Unpooled.buffer();
        new ControlPacketRepr(Opcode.ACK_V1, 0, 0x7007, new long[] {0}, cookieFor7, 0, new byte[0]).emit(echo);
        ch.writeInbound(dgram(echo, 10007));
        assertEquals(1, s.sessionsCreated());
        assertEquals(1, s.sessionCount());
        assertEquals(null, (Object) ch.readOutbound(), "an ack needs no answer");
    }

    @Test
    void tlsCryptResetsThatDoNotAuthenticateAreNeitherAnsweredNorKept() {
        byte[] kb = new byte[StaticKey.LENGTH];
        new SecureRandom().nextBytes(kb);
        StaticKey key = StaticKey.of(kb);
        OpenVpnServer s = OpenVpnServer.builder().ssl(ssl).tlsCrypt(key).build();
        ch = new EmbeddedChannel(s);
        SecureRandom r = new SecureRandom();
        for (int i = 0; i < 500; i++) {
            byte[] b = new byte[9 + 8 + 32 + 5];
            r.nextBytes(b);
            b[0] = (byte) Opcode.firstByte(Opcode.CONTROL_HARD_RESET_CLIENT_V2, 0);
            ch.writeInbound(dgram(Unpooled.wrappedBuffer(b), 2000 + i));
        }
        // a genuine client reset (wrapped with the client's direction) is answered, still without state
        ByteBuf plain = reset(0x42);
        ByteBuf wire = new dev.pktkit.openvpn.crypto.TlsCrypt(key, false).wrap(io.netty.buffer.ByteBufAllocator.DEFAULT,
                plain, 1, 1);
        plain.release();
        ch.writeInbound(dgram(wire, 4000));
        DatagramPacket reply = ch.readOutbound();
        ByteBuf rc = reply.content();
        int off = new dev.pktkit.openvpn.crypto.TlsCrypt(key, false).unwrap(rc, 0, rc.readableBytes());
        assertTrue(off >= 0, "our reply is tls-crypt wrapped for the client");
        assertEquals(Opcode.CONTROL_HARD_RESET_SERVER_V2, Opcode.of(rc.getByte(off)));
        reply.release();
        assertEquals(500, s.drops(OpenVpnDropReason.BAD_HMAC));
        assertEquals(0, s.sessionsCreated());
        assertEquals(1, s.statelessReplies());
        assertEquals(null, (Object) ch.readOutbound());
    }
}
