package dev.pktkit.slirp;

import dev.pktkit.codec.adapter.DhcpLease;
import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.pipe.PortConnector;
import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SlirpGateway}'s tenants chosen by key: a guest whose port closes and comes back with the same key finds
 * its tenant (segment, DHCP lease, slirp namespace, port forwards) again; another key is another tenant with the
 * same addresses, which its forwards cannot reach across. Guests are {@link L2Adapter} (DHCP client) +
 * {@link VirtualHost} on {@link PacketPipe}s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlirpGatewayTest {
    private MultiThreadIoEventLoopGroup group;
    private Slirp slirp;
    private SlirpGateway gateway;
    private final List<PacketPipe> pipes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        // epoll: a closed listener is closed at once (NIO defers the close of a registered channel to the next
        // select, so a connect just after could still be accepted)
        org.junit.jupiter.api.Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL),
                "epoll natives not available");
        group = TestLoops.group(TestLoops.EPOLL, 2);
        slirp = Slirp.builder().hostLoopback(true).hostTransport(group, TransportKind.EPOLL).build();
        gateway = SlirpGateway.builder(slirp).group(group).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (gateway == null) {
            return;
        }
        gateway.close();
        pipes.forEach(PacketPipe::close);
        slirp.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private record Guest(PacketPipe pipe, L2Adapter adapter, VirtualHost host, SlirpGateway.Tenant tenant,
            DhcpLease lease) {
    }

    /**
     * A guest with {@code mac} on the tenant named {@code key}, leased, with a TCP server on port 8080 that says
     * {@code says} and closes.
     */
    private Guest guest(long mac, Object key, String says) throws Exception {
        return guest(mac, says, port -> gateway.attach(port, key).get(10, TimeUnit.SECONDS));
    }

    /** How a guest's port joins the gateway: returns its tenant. */
    private interface Join {
        SlirpGateway.Tenant join(Channel port) throws Exception;
    }

    private Guest guest(long mac, String says, Join join) throws Exception {
        PacketPipe pipe = new PacketPipe();
        pipes.add(pipe);
        pipe.register(group.next(), group.next()).sync();
        SlirpGateway.Tenant t = join.join(pipe.b());
        L2Adapter adapter = L2Adapter.builder().mac(mac).dhcp(true).build();
        VirtualHost host = VirtualHost.builder().addressesOf(adapter).build();
        pipe.a().eventLoop().submit(() -> pipe.a().pipeline().addLast(adapter, host)).sync();
        DhcpLease lease = adapter.leaseFuture().get(20, TimeUnit.SECONDS);
        new ServerBootstrap().group(pipe.a().eventLoop()).channelFactory(host.serverSocketChannels())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                ctx.writeAndFlush(Unpooled.copiedBuffer(says + "\n", StandardCharsets.US_ASCII))
                                        .addListener(ChannelFutureListener.CLOSE);
                            }
                        });
                    }
                }).bind(8080).sync();
        return new Guest(pipe, adapter, host, t, lease);
    }

    private static String read(InetSocketAddress at) throws IOException {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(10_000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
    }

    private static PortForward forward(SlirpGateway.Tenant t, int hostPort) throws Exception {
        return t.namespace().forwardTcp(new InetSocketAddress("127.0.0.1", hostPort),
                new InetSocketAddress("10.0.2.15", 8080)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aKeyedTenantOutlivesItsPortAndTakesItBack() throws Exception {
        Guest first = guest(0x5254_0000_0001L, "vm-1", "first");
        assertEquals("10.0.2.15", first.lease().address().getHostAddress());
        PortForward f = forward(first.tenant(), 0);
        InetSocketAddress at = f.hostAddress();
        assertEquals("first", read(at));
        SlirpNamespace ns = first.tenant().namespace();

        first.pipe().close(); // the VM went away (its netdev closed)
        first.pipe().b().closeFuture().sync();
        assertSame(first.tenant(), gateway.tenant("vm-1"), "a keyed tenant stays when its ports go");
        assertEquals(List.of(f), ns.loop.submit(ns::portForwards).get(5, TimeUnit.SECONDS), "with its forwards");

        Guest again = guest(0x5254_0000_0001L, "vm-1", "again");
        assertSame(first.tenant(), again.tenant(), "the same key, the same tenant");
        assertSame(ns, again.tenant().namespace());
        assertEquals(first.lease().address(), again.lease().address(), "its address again (its binding, or after the"
                + " RELEASE its closing adapter may send, its previous address: RFC 2131 §4.3.1)");
        assertEquals("again", read(at), "the forward made before reaches the guest that came back");
        assertEquals(1, gateway.tenantCount());
    }

    @Test
    void anotherKeyIsAnotherTenantWithTheSameAddresses() throws Exception {
        Guest one = guest(0x5254_0000_0001L, "vm-1", "one");
        Guest two = guest(0x5254_0000_0002L, "vm-2", "two");
        assertNotSame(one.tenant(), two.tenant());
        assertEquals("10.0.2.15", one.lease().address().getHostAddress());
        assertEquals("10.0.2.15", two.lease().address().getHostAddress(), "each tenant has its own pool");
        PortForward f1 = forward(one.tenant(), 0);
        PortForward f2 = forward(two.tenant(), 0);
        assertEquals("one", read(f1.hostAddress()));
        assertEquals("two", read(f2.hostAddress()), "10.0.2.15:8080 of the other tenant");
        assertEquals(2, gateway.tenantCount());

        InetSocketAddress gone = f1.hostAddress();
        gateway.closeTenant("vm-1");
        assertEquals(null, gateway.tenant("vm-1"));
        f1.closeFuture().get(5, TimeUnit.SECONDS); // closing a tenant closes its forwards
        assertThrows(ConnectException.class, () -> new Socket(gone.getAddress(), gone.getPort()).close());
        one.pipe().b().closeFuture().get(5, TimeUnit.SECONDS); // and the ports on its segment
        assertEquals("two", read(f2.hostAddress()), "the other tenant is untouched");
        assertTrue(two.pipe().b().isActive());
    }

    @Test
    void anOpenedTenantTakesForwardsFirstAndItsConnectorMakesOneLan() throws Exception {
        SlirpGateway.Tenant lan = gateway.open("lan").get(10, TimeUnit.SECONDS);
        assertSame(lan, gateway.tenant("lan"));
        PortForward f = forward(lan, 0); // before any guest: to the first lease's 10.0.2.15:8080
        PortConnector connector = gateway.connector("lan");
        List<Attachment> attached = new ArrayList<>();
        Join viaConnector = port -> {
            attached.add(connector.attach(port));
            return gateway.tenant("lan");
        };
        Guest one = guest(0x5254_0000_0001L, "one", viaConnector);
        Guest two = guest(0x5254_0000_0002L, "two", viaConnector);
        assertEquals("10.0.2.15", one.lease().address().getHostAddress());
        assertEquals("10.0.2.16", two.lease().address().getHostAddress(), "one LAN: one pool");
        assertEquals("one", read(f.hostAddress()), "the forward made before the first guest reaches it");
        assertEquals(1, gateway.tenantCount());

        attached.get(0).detach().get(5, TimeUnit.SECONDS);
        assertFalse(attached.get(0).isAttached());
        assertTrue(one.pipe().b().isOpen(), "detach takes the port off the segment and leaves it open");
        assertSame(lan, gateway.tenant("lan"), "the tenant stays");
        assertTrue(attached.get(1).isAttached());
        assertEquals(List.of(f), lan.namespace().loop.submit(lan.namespace()::portForwards).get(5, TimeUnit.SECONDS));
    }

    @Test
    void openAndTheConnectorsFailWhenFullOrClosedAndAttachFindsTheOpenedTenant() throws Exception {
        SlirpGateway one = SlirpGateway.builder(slirp).group(group).maxTenants(1).build();
        try {
            SlirpGateway.Tenant t = one.open("a").get(10, TimeUnit.SECONDS);
            assertSame(t, one.open("a").get(10, TimeUnit.SECONDS), "open again: the same tenant");
            PacketPipe pipe = new PacketPipe();
            pipes.add(pipe);
            pipe.register(group.next(), group.next()).sync();
            assertSame(t, one.attach(pipe.b(), "a").get(10, TimeUnit.SECONDS), "attach by the key finds it");
            ExecutionException full = assertThrows(ExecutionException.class,
                    () -> one.open("b").get(10, TimeUnit.SECONDS));
            assertTrue(full.getCause().getMessage().contains("maxTenants"), full.getCause().toString());
            assertThrows(IllegalStateException.class, () -> one.connector("b").attach(pipe.a()));
        } finally {
            one.close();
        }
        assertEquals(0, one.tenantCount());
        assertThrows(ExecutionException.class, () -> one.open("a").get(10, TimeUnit.SECONDS), "closed");
        assertThrows(IllegalStateException.class, () -> one.connector("a").attach(new PacketPipe().a()));
    }

    /**
     * The segment's hub writes a whole ingress read batch to the gateway and flushes once at its end, dropping into
     * an unwritable port: 16 frames of 64 KiB (a TAP's read batch at MTU 65520) must all reach the gateway, which
     * needs the cable's high water mark above Netty's 64 KiB default (with it, 15 of the 16 were dropped).
     */
    @Test
    void aReadBatchOfLargeFramesReachesTheGatewayWhole() throws Exception {
        Slirp big = Slirp.builder().mtu(65520).hostTransport(group, TransportKind.EPOLL).build();
        SlirpGateway gw = SlirpGateway.builder(big).group(group).build();
        try {
            PacketPipe pipe = new PacketPipe();
            pipes.add(pipe);
            io.netty.channel.EventLoop loop = group.next();
            pipe.register(loop, loop).sync(); // one loop: each flush is delivered before it returns
            SlirpGateway.Tenant t = gw.attach(pipe.b()).get(10, TimeUnit.SECONDS);
            assertTrue(pipe.b().config().getWriteBufferWaterMark().high() >= 32 * (65520 + 18),
                    "the attached port's write buffer holds a batch of MTU-sized frames");
            int frames = 16;
            loop.submit(() -> {
                for (int i = 0; i < frames; i++) {
                    io.netty.buffer.ByteBuf f = pipe.a().alloc().directBuffer(14 + 65520);
                    f.writeShort(0xFFFF).writeInt(0xFFFFFFFF); // broadcast: the hub floods it to the gateway
                    f.writeShort(0x0252).writeInt(0x54000001);
                    f.writeShort(0x88B5); // local experimental EtherType: the adapter counts and drops it
                    f.writeZero(65520);
                    pipe.a().write(f, pipe.a().voidPromise());
                }
                pipe.a().flush();
            }).sync();
            loop.submit(() -> { }).sync(); // anything the flush left for the loop
            dev.pktkit.switching.HubPort gatewayPort = t.segment().ports().stream()
                    .filter(p -> p.port() != pipe.b()).findFirst().orElseThrow();
            dev.pktkit.switching.HubPort guestPort = t.segment().port(pipe.b());
            assertEquals(frames, guestPort.counters().framesIn(), "the batch entered the hub");
            assertEquals(0, gatewayPort.counters().drops(dev.pktkit.switching.DropReason.CONGESTED),
                    "no frame dropped at the gateway's cable: " + gatewayPort.counters());
            assertEquals(frames, gatewayPort.counters().framesOut(), gatewayPort.counters().toString());
        } finally {
            gw.close();
            big.close();
        }
    }
}
