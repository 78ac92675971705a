package dev.pktkit.examples;

import dev.pktkit.codec.adapter.DhcpLease;
import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.capture.LinkType;
import dev.pktkit.codec.capture.PacketCapture;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP between two virtual hosts on a switched LAN, in one JVM: an {@link L2Hub} with a DHCP server (a gateway
 * port: {@link DhcpServer} + {@link L2Adapter} at 10.0.5.1 + {@link EchoResponder}) and two hosts, each an
 * {@link L2Adapter} that leases its address by DHCP with a {@link VirtualHost} behind it ({@code addressesOf}).
 * One host serves HTTP with Netty's own {@link HttpServerCodec} on a {@code ServerBootstrap} over the virtual
 * host's channels; the other fetches {@code GET /} with {@link HttpClientCodec} on a {@code Bootstrap}. Every
 * frame on the LAN is captured to a pcapng file (DHCP, ARP, the TCP handshake, HTTP, the close), which
 * {@code tshark -r} or Wireshark decode.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec
 * -Dexample.main=dev.pktkit.examples.HttpLan} (optional argument: the capture file, default
 * {@code target/http-lan.pcapng}).
 */
public final class HttpLan {
    /** The body the server sends: large enough for many segments, window growth and delayed ACKs. */
    static final int BODY_BYTES = 200_000;

    private HttpLan() {
    }

    /** What {@link #run} saw. */
    public record Result(DhcpLease serverLease, DhcpLease clientLease, int status, int bodyBytes, String bodySha256,
                         String expectedSha256, long framesCaptured) {
    }

    public static void main(String[] args) throws Exception {
        Path pcap = Path.of(args.length > 0 && !args[0].isBlank() ? args[0] : "target/http-lan.pcapng")
                .toAbsolutePath();
        Result r = run(pcap);
        System.out.println("server leased " + r.serverLease().address().getHostAddress() + "/"
                + r.serverLease().prefixLength() + ", client leased " + r.clientLease().address().getHostAddress()
                + "/" + r.clientLease().prefixLength());
        System.out.println("GET http://" + r.serverLease().address().getHostAddress() + "/ -> " + r.status() + ", "
                + r.bodyBytes() + " bytes, SHA-256 " + r.bodySha256()
                + (r.bodySha256().equals(r.expectedSha256()) ? " (as served)" : " (DIFFERS from what was served)"));
        System.out.println("captured " + r.framesCaptured() + " frames to " + pcap);
    }

    static byte[] body() {
        byte[] b = new byte[BODY_BYTES];
        byte[] line = "netty-pktkit: HTTP over vtcp over an L2Hub\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < b.length; i++) {
            b[i] = line[i % line.length];
        }
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Builds the LAN, fetches once, tears everything down; the capture is complete when this returns. */
    public static Result run(Path pcap) throws Exception {
        pcap.getParent().toFile().mkdirs();
        byte[] body = body();
        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(2);
        L2Hub lan = L2Hub.builder().name("lan").build();
        PacketCapture capture = PacketCapture.pcapng(pcap, LinkType.ETHERNET);
        try {
            // the gateway port: DHCP server in front of its own NIC (which answers ARP and ping)
            L2Adapter gateway = L2Adapter.builder().ipv4("10.0.5.1/24").build();
            DhcpServer dhcp = DhcpServer.builder().serverMac(gateway.mac()).serverAddress("10.0.5.1", 24)
                    .pool("10.0.5.100", "10.0.5.199").router("10.0.5.1").leaseTime(Duration.ofHours(1)).build();
            attach(group, lan, capture, "gateway", new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(dhcp, gateway, new EchoResponder(gateway));
                }
            });

            // two hosts: a NIC that leases by DHCP, and a virtual host that follows its addresses
            L2Adapter serverNic = L2Adapter.builder().dhcp(true).dhcpHostname("www").ipv6(false)
                    .dhcpProbeWait(Duration.ofMillis(200)).build();
            VirtualHost server = VirtualHost.builder().addressesOf(serverNic).build();
            L2Adapter clientNic = L2Adapter.builder().dhcp(true).dhcpHostname("client").ipv6(false)
                    .dhcpProbeWait(Duration.ofMillis(200)).build();
            VirtualHost client = VirtualHost.builder().addressesOf(clientNic).build();
            attach(group, lan, capture, "www", new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(serverNic, server);
                }
            });
            attach(group, lan, capture, "client", new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(clientNic, client);
                }
            });
            DhcpLease serverLease = serverNic.leaseFuture().get(30, TimeUnit.SECONDS);
            DhcpLease clientLease = clientNic.leaseFuture().get(30, TimeUnit.SECONDS);

            // unchanged Netty HTTP code, over the virtual host's channel factories
            Channel listener = new ServerBootstrap().group(group).channelFactory(server.serverSocketChannels())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                            FullHttpResponse resp = new DefaultFullHttpResponse(
                                                    HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                                    Unpooled.wrappedBuffer(body));
                                            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
                                            HttpUtil.setContentLength(resp, body.length);
                                            boolean keepAlive = HttpUtil.isKeepAlive(req);
                                            var f = ctx.writeAndFlush(resp);
                                            if (!keepAlive) {
                                                f.addListener(ChannelFutureListener.CLOSE);
                                            }
                                        }
                                    });
                        }
                    }).bind(80).sync().channel();

            CompletableFuture<FullHttpResponse> response = new CompletableFuture<>();
            String host = serverLease.address().getHostAddress();
            Channel c = new Bootstrap().group(group).channelFactory(client.socketChannels())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                            response.complete(r.retainedDuplicate());
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            response.completeExceptionally(cause);
                                            ctx.close();
                                        }
                                    });
                        }
                    }).connect(host, 80).sync().channel();
            FullHttpRequest get = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            get.headers().set(HttpHeaderNames.HOST, host).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            c.writeAndFlush(get);
            FullHttpResponse r = response.get(30, TimeUnit.SECONDS);
            int status;
            byte[] got;
            try {
                status = r.status().code();
                ByteBuf content = r.content();
                got = ByteBufUtil.getBytes(content);
            } finally {
                r.release();
            }
            c.closeFuture().sync(); // the server closes after the response (Connection: close)
            listener.close().sync();
            return new Result(serverLease, clientLease, status, got.length, sha256(got), sha256(body),
                    capture.packetsWritten());
        } finally {
            lan.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            capture.close();
        }
    }

    private static void attach(MultiThreadIoEventLoopGroup group, L2Hub lan, PacketCapture capture, String name,
                               ChannelInitializer<Channel> device) throws Exception {
        PacketPipe cable = PacketPipe.open(group.next(), device, group.next(), null).get(5, TimeUnit.SECONDS);
        cable.b().pipeline().addFirst(capture.newHandler(name)); // the hub side of the cable
        lan.add(cable.b());
    }
}
