package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.adapter.DhcpLease;
import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.testkit.TestLoops;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The adapter's DHCP client against the server, over a {@link PacketPipe} on real loops. */
class DhcpClientServerTest {
    private MultiThreadIoEventLoopGroup group;

    @AfterEach
    void shutdown() {
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    static Stream<String> kinds() {
        return TestLoops.available().stream();
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void clientLeasesFromServerAndReleasesOnClose(String kind) throws Exception {
        group = TestLoops.group(kind, 1);
        EventLoop loop = group.next();
        long gwMac = MacAddress.parse("02:00:00:00:00:01");
        DhcpServer server = DhcpServer.builder().serverMac(gwMac).serverAddress("172.16.5.1", 24)
                .pool("172.16.5.10", "172.16.5.20").router("172.16.5.1").dnsServer("172.16.5.1")
                .route("192.168.0.0", 16, "172.16.5.254").leaseTime(Duration.ofMinutes(5)).build();
        L2Adapter gateway = L2Adapter.builder().mac(gwMac).ipv4("172.16.5.1/24").ipv6(false).build();
        L2Adapter client = L2Adapter.builder().dhcp(true).ipv6(false).build();
        PacketPipe pipe = PacketPipe.open(loop, client, loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(server, gateway);
            }
        }).get(10, TimeUnit.SECONDS);
        try {
            DhcpLease lease = client.leaseFuture().get(20, TimeUnit.SECONDS);
            assertEquals("172.16.5.10", lease.address().getHostAddress());
            assertEquals(24, lease.prefixLength());
            assertEquals("172.16.5.1", lease.server().getHostAddress());
            assertEquals(1, lease.routes().size(), "option 121: the client asks, the server sends");
            assertEquals(Duration.ofMinutes(5), lease.leaseTime());
            assertEquals(1, server.bindings().size());
            assertEquals(client.mac(), server.bindings().get(0).mac());
            assertEquals(DhcpBinding.State.BOUND, server.bindings().get(0).state());
            pipe.a().close().sync();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!server.bindings().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20); // polling a condition with a deadline
            }
            assertTrue(server.bindings().isEmpty(), "RELEASE on close frees the binding");
        } finally {
            pipe.close();
        }
    }
}
