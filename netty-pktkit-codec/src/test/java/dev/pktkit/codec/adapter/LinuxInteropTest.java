package dev.pktkit.codec.adapter;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.linux.KernelTap;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link L2Adapter} against the Linux kernel's own ARP, NDP, ping and a real DHCP server ({@code dnsmasq}),
 * through a TAP device in a namespace the test creates ({@link KernelTap}).
 */
class LinuxInteropTest {
    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void loops() {
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll not available");
        group = TestLoops.group(TestLoops.EPOLL, 1);
    }

    @AfterEach
    void shutdown() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The adapter, an echo responder, and a queue of what reaches the top of the pipeline. */
    static ChannelInitializer<Channel> host(L2Adapter nic, BlockingQueue<Object> seen) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(nic, new EchoResponder(nic), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        seen.add(msg);
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        seen.add(evt);
                    }
                });
            }
        };
    }

    static void drain(BlockingQueue<Object> q) {
        for (Object o; (o = q.poll()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @Test
    void kernelResolvesAndPingsTheAdapterOverIpv4AndIpv6AndAnswersItsPing() throws Exception {
        Tools.assumeCommand("ping", "iputils-ping");
        L2Adapter nic = L2Adapter.builder().ipv4("10.77.0.1/24")
                .ipv6Address((Inet6Address) InetAddress.getByName("fd00:77::1"), 64).build();
        BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
        try (KernelTap tap = KernelTap.open(group, "10.77.0.2/24", host(nic, seen))) {
            String mac = MacAddress.format(nic.mac());
            assertEquals(0, tap.exec("ip", "-6", "addr", "add", "fd00:77::2/64", "dev", KernelTap.TAP, "nodad").exit());

            KernelTap.Result ping4 = tap.exec(30, "ping", "-c", "3", "-w", "20", "10.77.0.1");
            assertEquals(0, ping4.exit(), ping4.output());
            String neigh4 = tap.exec("ip", "neigh", "show", "10.77.0.1", "dev", KernelTap.TAP).output();
            assertTrue(neigh4.contains(mac), "kernel ARP entry for our MAC: " + neigh4);

            KernelTap.Result ping6 = tap.exec(30, "ping", "-6", "-c", "3", "-w", "20", "fd00:77::1");
            assertEquals(0, ping6.exit(), ping6.output());
            String neigh6 = tap.exec("ip", "-6", "neigh", "show", "fd00:77::1", "dev", KernelTap.TAP).output();
            assertTrue(neigh6.contains(mac), "kernel NDP entry for our MAC: " + neigh6);
            String ll = nic.ipv6Addresses().get(0).getHostAddress().replaceAll("%.*", "");
            KernelTap.Result pingLl = tap.exec(30, "ping", "-6", "-c", "2", "-w", "20", ll + "%" + KernelTap.TAP);
            assertEquals(0, pingLl.exit(), "link-local: " + pingLl.output());

            // And the other way: the adapter resolves the kernel by ARP, the kernel answers our echo request.
            drain(seen);
            ByteBuf ping = tap.channel().alloc().buffer(64);
            ping.writerIndex(L2Adapter.HEADROOM).readerIndex(L2Adapter.HEADROOM);
            ByteBuf data = tap.channel().alloc().buffer(4).writeInt(0x5151);
            Ipv4.writeHeader(ping, Ip4.parse("10.77.0.1"), Ip4.parse("10.77.0.2"), IpProtocol.ICMP, 64, 12, 9,
                    false);
            Icmpv4.writeEcho(ping, Icmpv4.TYPE_ECHO_REQUEST, 0x77, 1, data, 0, 4);
            data.release();
            tap.channel().pipeline().writeAndFlush(ping).sync();
            ByteBuf reply = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (reply == null && System.nanoTime() < deadline) {
                Object o = seen.poll(1, TimeUnit.SECONDS);
                if (o instanceof ByteBuf b && Ipv4.protocol(b, b.readerIndex()) == IpProtocol.ICMP
                        && Icmpv4.type(b, Ipv4.payloadOffset(b, b.readerIndex())) == Icmpv4.TYPE_ECHO_REPLY) {
                    reply = b;
                } else {
                    ReferenceCountUtil.release(o);
                }
            }
            assertNotNull(reply, "echo reply from the kernel");
            assertEquals(Ip4.parse("10.77.0.2"), Ipv4.src(reply, reply.readerIndex()));
            reply.release();
        } finally {
            drain(seen);
        }
    }

    @Test
    void dhcpClientGetsALeaseFromDnsmasqAndReleasesIt() throws Exception {
        String dnsmasq = Tools.assumeCommand("dnsmasq", "dnsmasq-base");
        Tools.assumeCommand("ping", "iputils-ping");
        L2Adapter nic = L2Adapter.builder().dhcp(true).dhcpHostname("pktkit").ipv6(false).build();
        BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
        try (KernelTap tap = KernelTap.open(group, "10.78.0.1/24", host(nic, seen))) {
            Path leases = tap.dir().resolve("dnsmasq.leases");
            tap.start(dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--user=root", "--port=0",
                    "--interface=" + KernelTap.TAP, "--bind-interfaces", "--dhcp-authoritative",
                    "--dhcp-range=10.78.0.50,10.78.0.60,255.255.255.0,2m",
                    "--dhcp-option=option:router,10.78.0.1", "--dhcp-option=option:dns-server,10.78.0.1",
                    "--dhcp-option=option:domain-name,pktkit.test",
                    "--dhcp-leasefile=" + leases, "--pid-file=" + tap.dir().resolve("dnsmasq.pid"));
            DhcpLease lease = nic.leaseFuture().get(30, TimeUnit.SECONDS);
            int a = Ip4.of(lease.address());
            assertTrue(a >= Ip4.parse("10.78.0.50") && a <= Ip4.parse("10.78.0.60"), lease.toString());
            assertEquals(24, lease.prefixLength());
            assertEquals("10.78.0.1", lease.router().getHostAddress());
            assertEquals("10.78.0.1", lease.dnsServers().get(0).getHostAddress());
            assertEquals("pktkit.test", lease.domainName());
            assertEquals(120, lease.leaseTime().toSeconds());
            assertEquals(lease.address(), nic.ipv4Address());
            String mac = MacAddress.format(nic.mac());
            KernelTap.await(() -> Files.exists(leases) && Files.readString(leases).contains(mac), "dnsmasq lease");
            assertTrue(Files.readString(leases).contains("pktkit"), "host name option reached dnsmasq");

            // The lease is applied: the kernel reaches the leased address (ARP answered by the adapter).
            KernelTap.Result ping = tap.exec(30, "ping", "-c", "2", "-w", "20", lease.address().getHostAddress());
            assertEquals(0, ping.exit(), ping.output());

            // Closing the channel sends RELEASE; dnsmasq drops the lease.
            tap.channel().close().sync();
            KernelTap.await(() -> !Files.readString(leases).contains(mac), "dnsmasq to drop the released lease");
        } finally {
            drain(seen);
        }
    }
}
