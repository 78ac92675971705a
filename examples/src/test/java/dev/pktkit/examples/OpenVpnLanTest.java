package dev.pktkit.examples;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.transport.Transports;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.DatagramChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example's own setup (certificates, tls-crypt key, client profile) and server, with the stock
 * {@code openvpn --config client.ovpn} in a namespace the test makes: it connects and pings 10.8.0.1.
 */
class OpenVpnLanTest {
    @TempDir
    Path dir;

    @Test
    void stockClientConnectsWithTheWrittenProfileAndPings() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("openvpn", "openvpn");
        Tools.assumeCommand("ping", "iputils-ping");
        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(1);
        ReflectiveChannelFactory<? extends DatagramChannel> channels =
                new ReflectiveChannelFactory<>(Transports.datagramChannelClass());
        try (Netns ns = Netns.create()) {
            NetNamespace handle = ns.closeWith(NetNamespace.named(ns.name()));
            try (OpenVpnLan lan = OpenVpnLan.start(dir, "127.0.0.1", 0, "127.0.0.1", group, () -> {
                try {
                    return handle.call(channels::newChannel);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            })) {
                String profile = Files.readString(lan.profile());
                assertTrue(profile.contains("<tls-crypt>") && profile.contains("<ca>"), profile);
                Path log = dir.resolve("client.log");
                Process client = ns.start(log, "openvpn", "--config", lan.profile().toString());
                try {
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!(Files.exists(log) && Files.readString(log).contains("Initialization Sequence Completed"))) {
                        assertTrue(System.nanoTime() < end, "client did not connect: " + Files.readString(log));
                        Thread.sleep(50); // polling a condition with a deadline
                    }
                    CommandResult ping = ns.exec(Duration.ofSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "5",
                            OpenVpnLan.SERVER_ADDRESS);
                    assertEquals(0, ping.exit(), ping.output() + Files.readString(log));
                    assertEquals(1, (int) lan.udp.eventLoop().submit(lan.server()::clientCount).get());
                } finally {
                    client.destroy();
                    if (!client.waitFor(5, TimeUnit.SECONDS)) {
                        client.destroyForcibly();
                    }
                }
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }
}
