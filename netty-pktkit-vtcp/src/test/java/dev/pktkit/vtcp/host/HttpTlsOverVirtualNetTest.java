package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Netty's HTTP codec and SslHandler over VirtualSocketChannel, unchanged. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class HttpTlsOverVirtualNetTest {
    static List<String> loops() {
        return TestLoops.available();
    }

    /** A self-signed certificate made with openssl at test time (no key material in the repository). */
    static final class SelfSigned implements AutoCloseable {
        final Path dir;
        final File cert;
        final File key;

        SelfSigned() throws Exception {
            Tools.assumeCommand("openssl", "openssl");
            dir = Files.createTempDirectory("vtcph-tls");
            cert = dir.resolve("cert.pem").toFile();
            key = dir.resolve("key.pem").toFile();
            Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.getPath(), "-out", cert.getPath(),
                    "-days", "1", "-subj", "/CN=web.test").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl req failed: " + out);
            }
        }

        @Override
        public void close() throws Exception {
            Files.deleteIfExists(cert.toPath());
            Files.deleteIfExists(key.toPath());
            Files.deleteIfExists(dir);
        }
    }

    /** Answers every request with a body of {@code size} seeded bytes. */
    static final class HttpServerHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        final byte[] body;

        HttpServerHandler(byte[] body) {
            this.body = body;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
            HttpUtil.setContentLength(r, body.length);
            HttpUtil.setKeepAlive(r, HttpUtil.isKeepAlive(req));
            ctx.writeAndFlush(r);
        }
    }

    static byte[] body(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    static byte[] get(TwoHosts n, SslContext client, String path) throws Exception {
        CompletableFuture<byte[]> got = new CompletableFuture<>();
        Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (client != null) {
                            ch.pipeline().addLast(client.newHandler(ch.alloc(), "web.test", 443));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 24),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        byte[] b = new byte[r.content().readableBytes()];
                                        r.content().getBytes(0, b);
                                        got.complete(b);
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        got.completeExceptionally(cause);
                                    }
                                });
                    }
                }).connect("10.0.0.2", client != null ? 443 : 80).sync().channel();
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        req.headers().set(HttpHeaderNames.HOST, "web.test");
        c.writeAndFlush(req);
        byte[] b = got.get(60, TimeUnit.SECONDS);
        c.closeFuture().sync();
        return b;
    }

    @ParameterizedTest
    @MethodSource("loops")
    void httpAndHttpsGet(String kind) throws Exception {
        try (TwoHosts n = new TwoHosts(kind, 2); SelfSigned cert = new SelfSigned()) {
            byte[] body = body(1_000_000);
            SslContext serverTls = SslContextBuilder.forServer(cert.cert, cert.key).build();
            SslContext clientTls = SslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            Channel http = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new HttpServerHandler(body));
                        }
                    }).bind(80).sync().channel();
            Channel https = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(serverTls.newHandler(ch.alloc()), new HttpServerCodec(),
                                    new HttpObjectAggregator(65536), new HttpServerHandler(body));
                        }
                    }).bind(443).sync().channel();
            assertEquals(java.util.Arrays.hashCode(body), java.util.Arrays.hashCode(get(n, null, "/")));
            assertEquals(java.util.Arrays.hashCode(body), java.util.Arrays.hashCode(get(n, clientTls, "/")));
            http.close().sync();
            https.close().sync();
        }
    }
}
