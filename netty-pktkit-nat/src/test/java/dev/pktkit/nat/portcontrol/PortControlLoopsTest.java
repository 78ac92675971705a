package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole path inside the JVM, without root: an inside host (a vtcp {@link VirtualHost} on one end of a
 * {@link PacketPipe}) whose port is on another event loop than the NAT's, so every request hops loops. It asks
 * NAT-PMP over UDP and fetches the UPnP description and runs a SOAP action over TCP, through the port-control
 * filter and the control endpoints' own vtcp host.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortControlLoopsTest {
    private MultiThreadIoEventLoopGroup group;
    private Nat nat;
    private PortControl pc;
    private VirtualHost client;
    private EventLoop portLoop;
    private PacketPipe cable;
    /** SSDP datagrams to 239.255.255.250:1900 that reached the inside host's cable, as text. */
    private final java.util.concurrent.BlockingQueue<String> multicast = new java.util.concurrent.LinkedBlockingQueue<>();
    /** NAT-PMP / PCP datagrams from 5351 to 224.0.0.1:5350 that reached the inside host's cable. */
    private final java.util.concurrent.BlockingQueue<byte[]> announced = new java.util.concurrent.LinkedBlockingQueue<>();

    /** Copies what the control endpoints multicast to SSDP's group, before the inside host (which drops it). */
    private final class MulticastTap extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b && b.readableBytes() >= 28 && (b.getUnsignedByte(b.readerIndex()) >> 4) == 4
                    && b.getInt(b.readerIndex() + 16) == 0xEFFF_FFFA
                    && b.getUnsignedByte(b.readerIndex() + 9) == IpProtocol.UDP) {
                int l4 = b.readerIndex() + (b.getUnsignedByte(b.readerIndex()) & 0x0F) * 4;
                if (b.getUnsignedShort(l4 + 2) == 1900) {
                    multicast.add(b.toString(l4 + 8, b.getUnsignedShort(l4 + 4) - 8, StandardCharsets.US_ASCII));
                }
            } else if (msg instanceof ByteBuf b && b.readableBytes() >= 28
                    && b.getInt(b.readerIndex() + 16) == 0xE000_0001 // 224.0.0.1
                    && b.getUnsignedByte(b.readerIndex() + 9) == IpProtocol.UDP) {
                int l4 = b.readerIndex() + (b.getUnsignedByte(b.readerIndex()) & 0x0F) * 4;
                if (b.getUnsignedShort(l4) == 5351 && b.getUnsignedShort(l4 + 2) == 5350) {
                    byte[] d = new byte[b.getUnsignedShort(l4 + 4) - 8];
                    b.getBytes(l4 + 8, d);
                    announced.add(d);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        EventLoop natLoop = group.next();
        portLoop = group.next();
        assertNotSame(natLoop, portLoop);
        nat = Nat.create(natLoop, NatConfig.builder().outsideAddresses("198.51.100.1").insideAddress("10.76.0.1").build());
        // one announcement and one alive set, so the counts below are exact (the schedules: PortControlScheduleTest)
        pc = PortControl.create(nat, PortControlConfig.builder().announcements(1, 250).ssdpCopies(1).build());
        client = VirtualHost.builder().address("10.76.0.2").build();
        cable = new PacketPipe();
        cable.a().pipeline().addLast(new MulticastTap(), client);
        cable.register(portLoop, portLoop).sync();
        pc.attach(cable.b(), "lan").sync();
    }

    @AfterEach
    void tearDown() throws Exception {
        pc.close();
        nat.close();
        cable.close();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }

    @Test
    void natPmpOverUdpAcrossLoops() throws Exception {
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        Channel udp = new Bootstrap().group(portLoop).channelFactory(client.datagramChannels())
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        byte[] b = new byte[p.content().readableBytes()];
                        p.content().getBytes(p.content().readerIndex(), b);
                        reply.complete(b);
                    }
                }).bind(0).sync().channel();
        ByteBuf req = Unpooled.buffer().writeByte(0).writeByte(2).writeShort(0).writeShort(8080).writeShort(18080)
                .writeInt(600);
        udp.writeAndFlush(new DatagramPacket(req, new InetSocketAddress("10.76.0.1", 5351))).sync();
        byte[] r = reply.get(20, TimeUnit.SECONDS);
        assertEquals(16, r.length);
        assertEquals((byte) 130, r[1]);
        assertEquals(0, r[2] | r[3]);
        assertEquals(18080, ((r[10] & 0xFF) << 8) | (r[11] & 0xFF));
        assertEquals(1, nat.mappings().get().stream().filter(m -> m.protocol() == IpProtocol.TCP
                && m.outsidePort() == 18080).count());
        udp.close().sync();
    }

    @Test
    void upnpOverTcpAcrossLoops() throws Exception {
        assertTrue(get("/rootDesc.xml").contains("<controlURL>/ctl/IPConn</controlURL>"));
        String body = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\"/></s:Body></s:Envelope>";
        String r = request(HttpMethod.POST, "/ctl/IPConn", body);
        assertTrue(r.contains("<NewExternalIPAddress>198.51.100.1</NewExternalIPAddress>"), r);
        assertEquals(1, pc.counters().get(PortControlCounter.SOAP_OK));
    }

    private String get(String path) throws Exception {
        return request(HttpMethod.GET, path, null);
    }

    private String request(HttpMethod method, String path, String body) throws Exception {
        CompletableFuture<String> got = new CompletableFuture<>();
        Channel c = new Bootstrap().group(portLoop).channelFactory(client.socketChannels())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
                                        got.complete(resp.status().code() + " " + resp.content().toString(StandardCharsets.UTF_8));
                                    }
                                });
                    }
                }).connect("10.76.0.1", 5000).sync().channel();
        ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path, content);
        req.headers().set(HttpHeaderNames.HOST, "10.76.0.1:5000");
        req.headers().set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        c.writeAndFlush(req).sync();
        String r = got.get(20, TimeUnit.SECONDS);
        c.close().sync();
        return r;
    }

    /** The alive announcements reach the inside link when the port is attached, and byebye when it closes. */
    @Test
    void ssdpNotifyAliveOnAttachAndByebyeOnClose() throws Exception {
        java.util.List<String> alive = new java.util.ArrayList<>();
        for (int i = 0; i < 9; i++) {
            String m = multicast.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "alive announcement " + i + " of 9: " + alive);
            alive.add(m);
        }
        java.util.Set<String> nts = new java.util.HashSet<>();
        for (String m : alive) {
            assertTrue(m.startsWith("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"), m);
            assertTrue(m.contains("\r\nNTS: ssdp:alive\r\n"), m);
            assertTrue(m.contains("\r\nLOCATION: http://10.76.0.1:5000/rootDesc.xml\r\n"), m);
            assertTrue(m.contains("\r\nCACHE-CONTROL: max-age=1800\r\n"), m);
            assertTrue(m.endsWith("\r\n\r\n"), m);
            String nt = m.split("\r\nNT: ")[1].split("\r\n")[0];
            String usn = m.split("\r\nUSN: ")[1].split("\r\n")[0];
            assertTrue(usn.startsWith("uuid:") && (usn.equals(nt) || usn.endsWith("::" + nt)), m);
            nts.add(nt);
        }
        assertEquals(9, nts.size(), "nine different notification types: " + nts);
        assertTrue(nts.contains("upnp:rootdevice"));
        assertTrue(nts.contains("urn:schemas-upnp-org:device:InternetGatewayDevice:2"), nts.toString());
        assertTrue(nts.contains("urn:schemas-upnp-org:service:WANIPConnection:2"), nts.toString());
        assertEquals(3, nts.stream().filter(t -> t.startsWith("uuid:")).count(), "root and two embedded devices");
        assertEquals(9, pc.counters().get(PortControlCounter.SSDP_NOTIFY_SENT));
        pc.close();
        for (int i = 0; i < 9; i++) {
            String m = multicast.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "byebye " + i + " of 9");
            assertTrue(m.contains("\r\nNTS: ssdp:byebye\r\n"), m);
            assertFalse(m.contains("LOCATION:"), m);
        }
        assertEquals(18, pc.counters().get(PortControlCounter.SSDP_NOTIFY_SENT));
    }

    /** The unsolicited NAT-PMP address response and PCP ANNOUNCE reach the inside link when the port is attached. */
    @Test
    void natPmpAndPcpAnnounceThemselvesOnAttach() throws Exception {
        byte[] first = announced.poll(20, TimeUnit.SECONDS);
        byte[] second = announced.poll(20, TimeUnit.SECONDS);
        assertNotNull(first);
        assertNotNull(second);
        byte[] pmp = first[0] == 0 ? first : second;
        byte[] pcp = first[0] == 0 ? second : first;
        // RFC 6886 §3.2: version 0, op 128, result 0, epoch, external address
        assertEquals(12, pmp.length);
        assertEquals((byte) 128, pmp[1]);
        assertEquals(0, pmp[2] | pmp[3]);
        assertArrayEquals(new byte[]{(byte) 198, 51, 100, 1}, java.util.Arrays.copyOfRange(pmp, 8, 12));
        // RFC 6887 §7.2 / §14.1.3: version 2, R | ANNOUNCE, result SUCCESS, lifetime 0, epoch, 96 zero bits
        assertEquals(24, pcp.length);
        assertEquals(2, pcp[0]);
        assertEquals((byte) 0x80, pcp[1]);
        assertEquals(0, pcp[3]);
        assertEquals(0, pcp[4] | pcp[5] | pcp[6] | pcp[7]);
        assertArrayEquals(new byte[12], java.util.Arrays.copyOfRange(pcp, 12, 24));
        assertEquals(2, pc.counters().get(PortControlCounter.ANNOUNCEMENTS_SENT));
    }
}
