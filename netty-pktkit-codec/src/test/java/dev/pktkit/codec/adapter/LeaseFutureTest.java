package dev.pktkit.codec.adapter;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.pipe.PacketPipe;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.BlockingOperationException;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link L2Adapter#leaseFuture()} belongs to the adapter's loop: listeners run there, blocking there fails fast. */
class LeaseFutureTest {
    private final EventLoop loop = new DefaultEventLoop();

    @AfterEach
    void shutdown() {
        loop.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void syncOnTheAdaptersOwnLoopFailsFastAndListenersRunOnTheLoop() throws Exception {
        L2Adapter gw = L2Adapter.builder().ipv4("10.0.2.1/24").ipv6(false).build();
        DhcpServer dhcp = DhcpServer.builder().serverMac(gw.mac()).serverAddress("10.0.2.1", 24)
                .pool("10.0.2.100", "10.0.2.110").router("10.0.2.1").build();
        L2Adapter client = L2Adapter.builder().dhcp(true).dhcpProbeWait(Duration.ZERO).ipv6(false).build();
        Future<DhcpLease> lease = client.leaseFuture();

        // Blocking on the loop that must complete the lease: Netty's deadlock check instead of a hang.
        CompletableFuture<Throwable> onLoop = new CompletableFuture<>();
        CompletableFuture<Boolean> listenerOnLoop = new CompletableFuture<>();
        PacketPipe pipe = PacketPipe.open(loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(dhcp, gw, new EchoResponder(gw));
            }
        }, loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(client);
                lease.addListener(f -> listenerOnLoop.complete(loop.inEventLoop()));
                try {
                    lease.sync();
                    onLoop.complete(null);
                } catch (Throwable t) {
                    onLoop.complete(t);
                }
            }
        }).sync().getNow();
        try {
            assertInstanceOf(BlockingOperationException.class, onLoop.get(10, TimeUnit.SECONDS));
            // From another thread, waiting is fine.
            DhcpLease l = lease.get(10, TimeUnit.SECONDS);
            assertEquals("10.0.2.100", l.address().getHostAddress());
            assertTrue(listenerOnLoop.get(10, TimeUnit.SECONDS), "listener ran on the adapter's loop");
        } finally {
            pipe.close();
            pipe.a().closeFuture().sync();
            pipe.b().closeFuture().sync();
        }
    }
}
