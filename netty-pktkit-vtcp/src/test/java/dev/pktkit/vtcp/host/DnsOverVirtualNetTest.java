package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Netty's DnsNameResolver over VirtualDatagramChannel against a DNS server on another virtual host. */
class DnsOverVirtualNetTest {
    static List<String> loops() {
        return TestLoops.available();
    }

    @ParameterizedTest
    @MethodSource("loops")
    void resolvesAAndAaaaAndNxdomainOverUdp(String kind) throws Exception {
        try (TwoHosts n = new TwoHosts(kind, 2)) {
            TinyDnsServer dns = new TinyDnsServer(Map.of("web.test", new InetAddress[] {
                    InetAddress.getByName("10.0.0.2"), InetAddress.getByName("fd00::2")}), Map.of());
            Channel server = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(dns.udp()).bind(53).sync().channel();
            DnsNameResolver r = n.a.dnsResolverBuilder(new InetSocketAddress("10.0.0.2", 53))
                    .eventLoop(n.group.next()).resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED).build();
            try {
                List<InetAddress> all = r.resolveAll("web.test").get();
                assertTrue(all.contains(InetAddress.getByName("10.0.0.2")), all.toString());
                assertTrue(all.contains(InetAddress.getByName("fd00::2")), all.toString());
                assertEquals(InetAddress.getByName("10.0.0.2"), r.resolve("web.test").get());
                Throwable nx = r.resolve("nowhere.test").await().cause();
                assertInstanceOf(UnknownHostException.class, nx);
                assertTrue(dns.udpQueries.get() >= 3);
            } finally {
                r.close();
            }
            server.close().sync();
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void bootstrapResolverResolvesOverTheVirtualNet(String kind) throws Exception {
        try (TwoHosts n = new TwoHosts(kind, 1)) {
            TinyDnsServer dns = new TinyDnsServer(Map.of("echo.test", new InetAddress[] {
                    InetAddress.getByName("10.0.0.2")}), Map.of());
            Channel server = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(dns.udp()).bind(53).sync().channel();
            Channel echo = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(new VirtualDatagramChannelTest.Echo()).bind(7).sync().channel();
            var group = n.a.dnsResolverGroup(new InetSocketAddress("10.0.0.2", 53));
            try {
                VirtualDatagramChannelTest.Collect c = new VirtualDatagramChannelTest.Collect();
                Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                        .resolver(group).handler(c)
                        .connect(InetSocketAddress.createUnresolved("echo.test", 7)).sync().channel();
                assertEquals(new InetSocketAddress("10.0.0.2", 7), client.remoteAddress());
                client.writeAndFlush(VirtualDatagramChannelTest.text("resolved")).sync();
                assertEquals("resolved", ((VirtualDatagramChannelTest.Got) c.next()).text());
                client.close().sync();
            } finally {
                group.close();
            }
            echo.close().sync();
            server.close().sync();
        }
    }
}
