package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.resolver.dns.DnsNameResolver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * More real Linux peers through a TUN into a namespace (one native loop kind: the loop does not matter here,
 * {@link LinuxTcpInteropTest} covers both): an impaired link with Linux's TCP on the other side, openssl
 * {@code s_client} and {@code s_server} against {@code SslHandler}s on the virtual host, dnsmasq answering over
 * Netty's TCP fallback, and tshark showing the TCP options negotiated on the wire.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LinuxPeersInteropTest {
    static String loop() {
        List<String> l = LinuxPeer.loops();
        return l.isEmpty() ? dev.pktkit.testkit.TestLoops.EPOLL : l.get(0);
    }

    /**
     * 1 % loss, 1 % duplication, reordering (0–5 ms jitter) and 25 ms each way (50 ms RTT) between the TUN and the
     * host, seeded; and {@code tc netem} with the same figures on the namespace's side where the kernel has it
     * (this one does not). 4 MiB each way at once with socat, SHA-256 checked.
     */
    @Test
    void impairedLinkWithLinuxTcp() throws Exception {
        Tools.assumeCommand("socat", "socat");
        long size = 4L << 20;
        ImpairedLink link = new ImpairedLink(11, 0.01, 0.01, 0, 25_000_000L, 5_000_000L, 8192);
        Path dir = Files.createTempDirectory("vtcph-impaired");
        try (LinuxPeer p = new LinuxPeer(loop(), VirtualHost.builder(), link, 1500)) {
            TestNamespace.Result netem = p.ns.exec("tc", "qdisc", "add", "dev", "vt0", "root", "netem", "delay", "25ms",
                    "5ms", "loss", "1%", "duplicate", "1%", "reorder", "1%");
            System.out.println("tc netem in the namespace: " + (netem.exit() == 0 ? "applied" : "unavailable ("
                    + netem.output().trim() + "), the seeded ImpairedLink alone impairs the link"));
            Path src = dir.resolve("down.bin");
            Path up = dir.resolve("up.bin");
            p.ns.exec("sh", "-c", "head -c " + size + " /dev/urandom > " + src).check();
            Process upSocat = p.ns.start(dir.resolve("up.log"), "socat", "-u",
                    "TCP4-LISTEN:5001,reuseaddr,bind=" + LinuxPeer.NS_V4, "CREATE:" + up);
            Process downSocat = p.ns.start(dir.resolve("down.log"), "socat", "-u", "OPEN:" + src,
                    "TCP4-LISTEN:5002,reuseaddr,bind=" + LinuxPeer.NS_V4);
            LinuxUdpInteropTest.awaitListening(p.ns, 5001);
            LinuxUdpInteropTest.awaitListening(p.ns, 5002);
            Transfers.Sender sender = new Transfers.Sender(size, 4, false);
            Channel upCh = new Bootstrap().group(p.group).channelFactory(p.host.socketChannels()).handler(sender)
                    .connect(new InetSocketAddress(LinuxPeer.NS_V4, 5001)).sync().channel();
            Transfers.Receiver receiver = new Transfers.Receiver();
            Channel downCh = new Bootstrap().group(p.group).channelFactory(p.host.socketChannels()).handler(receiver)
                    .connect(new InetSocketAddress(LinuxPeer.NS_V4, 5002)).sync().channel();
            String upSha = sender.done.get(120, TimeUnit.SECONDS);
            assertEquals(LinuxTcpInteropTest.sha256(src) + ":" + size, receiver.done.get(120, TimeUnit.SECONDS),
                    "download through the impaired link: " + link);
            assertTrue(upSocat.waitFor(120, TimeUnit.SECONDS), "socat saw the upload's FIN: " + link);
            assertEquals(upSha, LinuxTcpInteropTest.sha256(up), "upload through the impaired link");
            assertTrue(downSocat.waitFor(30, TimeUnit.SECONDS));
            assertTrue(link.dropped > 50 && link.duplicated > 50, link.toString());
            upCh.closeFuture().sync();
            downCh.close().sync();
        } finally {
            deleteAll(dir);
        }
    }

    /**
     * Linux's {@code openssl s_client} against an {@code SslHandler} server on the virtual host, with tshark on the
     * namespace's TUN capturing the handshake's SYN and SYN-ACK: both carry SACK-permitted, timestamps and window
     * scale, and ECN is negotiated (SYN with ECE+CWR, SYN-ACK with ECE) — the wire evidence this kernel's
     * {@code ss -tin} does not print.
     */
    @Test
    void opensslClientAgainstSslHandlerAndTheOptionsOnTheWire() throws Exception {
        String openssl = Tools.assumeCommand("openssl", "openssl");
        String tshark = Tools.assumeCommand("tshark", "tshark");
        Path dir = Files.createTempDirectory("vtcph-sclient");
        try (LinuxPeer p = new LinuxPeer(loop(), VirtualHost.builder(), null, 1500);
             HttpTlsOverVirtualNetTest.SelfSigned cert = new HttpTlsOverVirtualNetTest.SelfSigned()) {
            p.ns.exec("sysctl", "-q", "-w", "net.ipv4.tcp_ecn=1").check();
            SslContext tls = SslContextBuilder.forServer(cert.cert, cert.key).build();
            Channel server = new ServerBootstrap().group(p.group).channelFactory(p.host.serverSocketChannels())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                                @Override
                                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                    if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                                        ctx.writeAndFlush(Unpooled.copiedBuffer("hello-from-vtcp\n",
                                                StandardCharsets.US_ASCII)).addListener(ChannelFutureListener.CLOSE);
                                    }
                                }
                            });
                        }
                    }).bind(8443).sync().channel();
            Path capture = dir.resolve("tshark.log");
            Process cap = p.ns.start(capture, tshark, "-i", "vt0", "-n", "-l", "-c", "2", "-f",
                    "tcp port 8443 and tcp[tcpflags] & tcp-syn != 0", "-T", "fields", "-E", "separator=|",
                    "-e", "ip.src", "-e", "tcp.flags.ece", "-e", "tcp.flags.cwr", "-e", "tcp.options.sack_perm",
                    "-e", "tcp.options.timestamp.tsval", "-e", "tcp.options.wscale.shift");
            awaitText(capture, "Capturing on");
            TestNamespace.Result r = p.ns.exec("sh", "-c", "sleep 5 | timeout 30 " + openssl + " s_client -connect "
                    + LinuxPeer.HOST_V4 + ":8443 -servername web.test -brief 2>&1");
            assertTrue(r.output().contains("hello-from-vtcp"), r.output());
            assertTrue(r.output().contains("Protocol version: TLSv1.3"), r.output());
            assertTrue(cap.waitFor(30, TimeUnit.SECONDS), "tshark saw SYN and SYN-ACK: " + Files.readString(capture));
            List<String> rows = Files.readAllLines(capture).stream().filter(l -> l.contains("|")).toList();
            assertEquals(2, rows.size(), rows.toString());
            String syn = rows.stream().filter(l -> l.startsWith(LinuxPeer.NS_V4 + "|")).findFirst().orElseThrow();
            String synAck = rows.stream().filter(l -> l.startsWith(LinuxPeer.HOST_V4 + "|")).findFirst()
                    .orElseThrow();
            for (String row : new String[] {syn, synAck}) {
                String[] f = row.split("\\|", -1);
                assertTrue(!f[3].isEmpty(), "SACK permitted (tshark prints the option's bytes, 0402): " + row);
                assertTrue(!f[4].isEmpty(), "timestamps: " + row);
                assertTrue(!f[5].isEmpty(), "window scale: " + row);
                assertTrue(f[1].equals("1") || f[1].equalsIgnoreCase("true"), "ECE: " + row);
            }
            String[] s = syn.split("\\|", -1);
            assertTrue(s[2].equals("1") || s[2].equalsIgnoreCase("true"), "Linux's SYN has CWR: " + syn);
            System.out.println("tshark on vt0 (src|ece|cwr|sack_perm|tsval|wscale): " + rows);
            server.close().sync();
        } finally {
            deleteAll(dir);
        }
    }

    /** The virtual host's {@code SslHandler} client against Linux's {@code openssl s_server -rev}. */
    @Test
    void sslHandlerClientAgainstOpensslServer() throws Exception {
        String openssl = Tools.assumeCommand("openssl", "openssl");
        Path dir = Files.createTempDirectory("vtcph-sserver");
        try (LinuxPeer p = new LinuxPeer(loop(), VirtualHost.builder(), null, 1500);
             HttpTlsOverVirtualNetTest.SelfSigned cert = new HttpTlsOverVirtualNetTest.SelfSigned()) {
            p.ns.start(dir.resolve("s_server.log"), openssl, "s_server", "-accept", LinuxPeer.NS_V4 + ":4433",
                    "-cert", cert.cert.getPath(), "-key", cert.key.getPath(), "-rev", "-naccept", "1");
            LinuxUdpInteropTest.awaitListening(p.ns, 4433);
            SslContext tls = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            CompletableFuture<String> got = new CompletableFuture<>();
            StringBuilder text = new StringBuilder();
            Channel c = new Bootstrap().group(p.group).channelFactory(p.host.socketChannels())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), LinuxPeer.NS_V4, 4433),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                            if (evt instanceof SslHandshakeCompletionEvent e) {
                                                if (e.isSuccess()) {
                                                    ctx.writeAndFlush(Unpooled.copiedBuffer("hello vtcp\n",
                                                            StandardCharsets.US_ASCII));
                                                } else {
                                                    got.completeExceptionally(e.cause());
                                                }
                                            }
                                        }

                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            ByteBuf b = (ByteBuf) msg;
                                            text.append(b.toString(StandardCharsets.US_ASCII));
                                            b.release();
                                            if (text.indexOf("\n") >= 0) {
                                                got.complete(text.toString());
                                            }
                                        }
                                    });
                        }
                    }).connect(new InetSocketAddress(LinuxPeer.NS_V4, 4433)).sync().channel();
            // s_server -rev answers each line reversed
            assertEquals("pctv olleh", got.get(30, TimeUnit.SECONDS).trim());
            c.close().sync();
        } finally {
            deleteAll(dir);
        }
    }

    /**
     * dnsmasq serves a TXT record of 750 bytes; with EDNS off the UDP answer must be truncated (512 bytes), so
     * Netty's resolver repeats the query over TCP through {@code VirtualSocketChannel}: the whole record arrives,
     * dnsmasq's log shows the query twice, and the host's TCP saw the segments.
     */
    @Test
    void dnsmasqOverTheTcpFallback() throws Exception {
        String dnsmasq = Tools.assumeCommand("dnsmasq", "dnsmasq-base");
        String a = "a".repeat(250);
        String b = "b".repeat(250);
        String c = "c".repeat(250);
        try (LinuxPeer p = new LinuxPeer(loop(), VirtualHost.builder(), null, 1500)) {
            Path log = Files.createTempFile("vtcph-dnsmasq-tcp", ".log");
            try {
                p.ns.start(log, dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
                        "--user=root", "--bind-interfaces", "--listen-address=" + LinuxPeer.NS_V4,
                        "--txt-record=big.test," + a + "," + b + "," + c, "--log-queries", "--pid-file=");
                LinuxUdpInteropTest.awaitListening(p.ns, 53);
                long tcpBefore = p.host.counters().tcpReceived();
                DnsNameResolver r = p.host.dnsResolverBuilder(new InetSocketAddress(LinuxPeer.NS_V4, 53))
                        .eventLoop(p.group.next()).optResourceEnabled(false).queryTimeoutMillis(5000).build();
                try {
                    AddressedEnvelope<DnsResponse, InetSocketAddress> env =
                            r.query(new DefaultDnsQuestion("big.test", DnsRecordType.TXT)).get(20, TimeUnit.SECONDS);
                    try {
                        DnsResponse resp = env.content();
                        assertEquals(1, resp.count(DnsSection.ANSWER));
                        DnsRawRecord rec = resp.recordAt(DnsSection.ANSWER, 0);
                        String txt = rec.content().toString(StandardCharsets.US_ASCII);
                        assertTrue(rec.content().readableBytes() > 512, "record of " + rec.content().readableBytes());
                        assertTrue(txt.contains(a) && txt.contains(b) && txt.contains(c), txt);
                        assertTrue(!resp.isTruncated(), "the TCP answer is whole");
                    } finally {
                        env.release();
                    }
                } finally {
                    r.close();
                }
                assertTrue(p.host.counters().tcpReceived() > tcpBefore, "the answer came over TCP");
                String l = Files.readString(log);
                long queries = l.lines().filter(x -> x.contains("query[TXT] big.test from " + LinuxPeer.HOST_V4))
                        .count();
                assertTrue(queries >= 2, "UDP then TCP: " + l);
            } finally {
                Files.deleteIfExists(log);
            }
        }
    }

    static void awaitText(Path file, String text) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no \"" + text + "\" in " + file + ": "
                + (Files.exists(file) ? Files.readString(file) : "(missing)"));
    }

    static void deleteAll(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
