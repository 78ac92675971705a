package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.ControlChannel;
import dev.pktkit.openvpn.KeyMethod2Message;
import dev.pktkit.openvpn.Ncp;
import dev.pktkit.openvpn.OpenVpnDropReason;
import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsAuth;
import dev.pktkit.openvpn.reliable.ReliableConfig;
import dev.pktkit.openvpn.wire.Opcode;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stock {@code openvpn --client} (Debian's 2.6) against this module's control channel over UDP on loopback:
 * its hard reset is parsed and acknowledged, our reset is acknowledged by it, TLS (1.3, and 1.2 when the profile
 * caps it) completes through Netty's {@code SslHandler} with the JDK provider and mutual certificate checks, and
 * its key method 2 message arrives and parses, with the peer-info NCP reads.
 *
 * <p>This stops at key method 2: the server side of key method 2, PUSH_REPLY and the data channel are not built
 * yet, so the client eventually gives up (the test stops it first).
 */
class StockClientControlChannelTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "tls-auth={0}, tls-version-max={1}")
    @CsvSource({"true, 1.3, TLSv1.3", "false, 1.2, TLSv1.2"})
    void stockClientCompletesTlsAndSendsKeyMethod2(boolean tlsAuth, String tlsMax, String expectProtocol)
            throws Exception {
        String openvpn = Tools.assumeCommand("openvpn", "openvpn");
        Tools.assumeCommand("openssl", "openssl");
        TestPki pki = TestPki.create(dir);
        SslContext ssl = SslContextBuilder.forServer(pki.serverCert.toFile(), pki.serverKey.toFile())
                .sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2")
                .trustManager(pki.ca.toFile()).clientAuth(ClientAuth.REQUIRE).build();
        StaticKey key = StaticKey.parse(Files.readString(pki.staticKey));

        CompletableFuture<KeyMethod2Message> km2 = new CompletableFuture<>();
        CompletableFuture<String> protocol = new CompletableFuture<>();
        CompletableFuture<Integer> firstOpcode = new CompletableFuture<>();
        ControlChannel[] session = new ControlChannel[1];
        EventLoopGroup group = TestLoops.group(TestLoops.NIO, 1);
        Process client = null;
        try {
            Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                        EmbeddedChannel tls;
                        ByteBuf plain = Unpooled.buffer();
                        InetSocketAddress peer;

                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket pkt) {
                            long now = System.nanoTime();
                            if (session[0] == null) {
                                firstOpcode.complete(Opcode.of(pkt.content().getByte(pkt.content().readerIndex())));
                                peer = pkt.sender();
                                SslHandler h = ssl.newHandler(ctx.alloc());
                                h.handshakeFuture().addListener(f -> protocol.complete(
                                        f.isSuccess() ? h.engine().getSession().getProtocol() : "failed: " + f.cause()));
                                tls = new EmbeddedChannel(h);
                                session[0] = new ControlChannel(ctx.alloc(), ReliableConfig.DEFAULT,
                                        tlsAuth ? new TlsAuth(key, KeyDirection.NORMAL, "SHA1") : null, true,
                                        new SecureRandom().nextLong(), 0, ControlChannel.DEFAULT_SEND_QUEUE, now,
                                        out -> ctx.writeAndFlush(new DatagramPacket(out, peer)),
                                        msg -> tls.writeInbound(msg));
                                session[0].onPacket(pkt.content().retain(), now);
                                session[0].sendReset(now);
                                ctx.executor().scheduleAtFixedRate(() -> session[0].tick(System.nanoTime()),
                                        250, 250, TimeUnit.MILLISECONDS);
                            } else {
                                session[0].onPacket(pkt.content().retain(), now);
                            }
                            ByteBuf out;
                            while ((out = tls.readOutbound()) != null) {
                                session[0].send(out, now);
                            }
                            session[0].flushAcks();
                            ByteBuf in;
                            while ((in = tls.readInbound()) != null) {
                                plain.writeBytes(in);
                                in.release();
                            }
                            if (plain.isReadable() && !km2.isDone()) {
                                try {
                                    km2.complete(KeyMethod2Message.parse(plain, true));
                                } catch (IllegalArgumentException partial) {
                                    // wait for the rest of the record stream
                                }
                            }
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext ctx) {
                            plain.release();
                            if (tls != null) {
                                tls.finishAndReleaseAll();
                            }
                            if (session[0] != null) {
                                session[0].release();
                            }
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            int port = ((InetSocketAddress) udp.localAddress()).getPort();
            String profile = """
                    client
                    dev null
                    proto udp
                    remote 127.0.0.1 %d
                    nobind
                    ca %s
                    cert %s
                    key %s
                    remote-cert-tls server
                    tls-version-max %s
                    %s
                    verb 4
                    """.formatted(port, pki.ca, pki.clientCert, pki.clientKey, tlsMax,
                    tlsAuth ? "tls-auth " + pki.staticKey + " 1" : "");
            Path conf = dir.resolve("client.ovpn");
            Files.writeString(conf, profile);
            Path log = dir.resolve("client.log");
            client = new ProcessBuilder(openvpn, "--config", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();

            KeyMethod2Message m;
            try {
                m = km2.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("no key method 2 message; client log:\n" + Files.readString(log), e);
            }
            assertEquals(Opcode.CONTROL_HARD_RESET_CLIENT_V2, firstOpcode.get());
            assertEquals(expectProtocol, protocol.get(5, TimeUnit.SECONDS));
            Map<String, String> info = m.peerInfoMap();
            assertTrue(info.getOrDefault("IV_VER", "").startsWith("2.6"), m.toString());
            assertTrue(info.containsKey("IV_PROTO"), m.toString());
            assertTrue(m.options().startsWith("V4,"), m.options());
            assertEquals(KeyMethod2Message.PRE_MASTER, m.preMaster().length);
            assertEquals("AES-256-GCM",
                    Ncp.select(List.of("AES-256-GCM", "CHACHA20-POLY1305"), info.get("IV_CIPHERS")).orElseThrow());
            assertEquals("CHACHA20-POLY1305",
                    Ncp.select(List.of("CHACHA20-POLY1305", "AES-256-GCM"), info.get("IV_CIPHERS")).orElseThrow());
            ControlChannel s = udp.eventLoop().submit(() -> session[0]).get();
            assertTrue(udp.eventLoop().submit(s::resetAcknowledged).get(), "openvpn acknowledged our reset");
            assertEquals(0L, udp.eventLoop().submit(() -> s.drops(OpenVpnDropReason.BAD_HMAC)).get());
            udp.close().sync();
        } finally {
            if (client != null) {
                client.destroy();
                if (!client.waitFor(5, TimeUnit.SECONDS)) {
                    client.destroyForcibly();
                }
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
