package dev.pktkit.openvpn.interop;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.openvpn.OpenVpnClientChannel;
import dev.pktkit.testkit.netns.CommandResult;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.epoll.EpollDatagramChannel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Float: the stock client talks to our server through a UDP relay in its namespace; mid-session the relay sends
 * from a new source port (as a NAT rebinding does). The server takes the new address once a data packet from it
 * authenticates: pings and a 16 MiB transfer continue, with no new session.
 */
class StockClientFloatTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    /** The relay's sockets in the client's namespace. */
    private static FloatRelay relay(TunnelFixture f, InetSocketAddress server) throws Exception {
        NetNamespace ns = f.outer.closeWith(NetNamespace.named(f.outer.name()));
        return new FloatRelay(new Bootstrap().group(f.group).channelFactory(() -> {
            try {
                return ns.call(EpollDatagramChannel::new);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }), server);
    }

    @Test
    void clientAddressChangesAndTrafficContinues() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.startServer(b -> b.dataCiphers("AES-128-GCM"));
            FloatRelay relay = relay(f, (InetSocketAddress) f.udp.localAddress());
            try {
                f.startClient(f.profile("udp", "127.0.0.1", relay.port(), ""));
                f.awaitClientLog("Initialization Sequence Completed", 30);
                CommandResult ping = f.inOuter(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
                assertEquals(0, ping.exit(), ping.output());
                OpenVpnClientChannel ch = clients(f).get(0);
                assertEquals(relay.upstreamAddress(0), transport(f, ch));
                relay.current = 1; // the client's address changes (a NAT rebinding)
                CommandResult after = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
                assertEquals(0, after.exit(), after.output() + f.server.drops());
                TunnelFixture.Payload data = f.payload(16);
                assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V4), "16 MiB after the float");
                assertEquals(relay.upstreamAddress(1), transport(f, ch), "the server took the new address");
                assertNotEquals(relay.upstreamAddress(0), relay.upstreamAddress(1));
                assertEquals(1, f.sessionsCreated(), "no new session");
                assertEquals(1, clients(f).size());
            } finally {
                relay.close();
            }
        }
    }

    static List<OpenVpnClientChannel> clients(TunnelFixture f) throws Exception {
        return f.udp.eventLoop().submit(f.server::clientChannels).get();
    }

    static InetSocketAddress transport(TunnelFixture f, OpenVpnClientChannel ch) throws Exception {
        return f.udp.eventLoop().submit(ch::transportAddress).get();
    }
}
