package dev.pktkit.switching;

import dev.pktkit.switching.Lan.Host;
import dev.pktkit.testkit.TestLoops;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.switching.Lan.BROADCAST;
import static dev.pktkit.switching.Lan.frame;
import static dev.pktkit.switching.Lan.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HubMetricsTest {
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void setUp() {
        group = TestLoops.group(TestLoops.NIO, 1);
        loop = group.next();
    }

    @AfterEach
    void tearDown() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private double count(String name, String port, String... moreTags) {
        FunctionCounter c = registry.find(name).tags("hub", "lan", "port", port).tags(moreTags).functionCounter();
        return c == null ? Double.NaN : c.count();
    }

    @Test
    void exportsEveryPortTaggedByPortAndFollowsPortsComingAndGoing() throws Exception {
        L2Hub hub = L2Hub.builder().name("lan").tickInterval(Duration.ZERO).build();
        Lan lan = new Lan(loop, hub);
        Host h1 = lan.host();
        HubMetrics metrics = HubMetrics.of(hub, p -> p == h1.port ? "one" : "p" + hub.ports().indexOf(p),
                Tags.of("site", "test"));
        metrics.bindTo(registry);
        Host h2 = lan.host(); // attached after bindTo: gets its meters on attach
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
        lan.run(() -> h1.send(mac(1) + mac(1) + "0800" + "00".repeat(46))); // to itself: SAME_PORT
        lan.run(() -> h1.send("00".repeat(13))); // runt: MALFORMED
        h2.take();
        lan.assertAllReleased();

        assertEquals(3, count("pktkit.port.frames.in", "one"));
        assertEquals(60 + 60 + 13, count("pktkit.port.bytes.in", "one"));
        assertEquals(1, count("pktkit.port.frames.out", "p1"));
        assertEquals(60, count("pktkit.port.bytes.out", "p1"));
        assertEquals(1, count("pktkit.port.drops", "one", "reason", "same_port"));
        assertEquals(1, count("pktkit.port.drops", "one", "reason", "malformed"));
        assertEquals(0, count("pktkit.port.drops", "p1", "reason", "congested"));
        assertEquals(1, registry.find("pktkit.port.frames.in").tags("site", "test", "port", "one")
                .functionCounters().size(), "the caller's tags are on every meter");
        assertEquals(2, registry.find("pktkit.port.frames.in").functionCounters().size(), "one per port");
        assertThrows(IllegalStateException.class, () -> metrics.bindTo(new SimpleMeterRegistry()));

        h2.port.detach().get(5, TimeUnit.SECONDS);
        assertNull(registry.find("pktkit.port.frames.out").tags("port", "p1").functionCounter(),
                "a detached port's meters are removed");
        assertEquals(DropReason.values().length,
                registry.find("pktkit.port.drops").tags("port", "one").functionCounters().size());

        metrics.close();
        assertEquals(0, registry.getMeters().size(), "close removes every meter");
        lan.host(); // no longer followed
        assertEquals(0, registry.getMeters().size());
        hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Test
    void l3HubPortsExportTheirDrops() throws Exception {
        L3Hub hub = L3Hub.builder().name("lan").build();
        Lan lan = new Lan(loop, hub);
        Host a = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("10.0.1.0/24")));
        HubMetrics.of(hub, p -> "a", Tags.empty()).bindTo(registry);
        lan.run(() -> a.send(L3HubTest.ipv4("10.0.1.1", "192.0.2.1", 64)));
        lan.assertAllReleased();
        assertEquals(1, count("pktkit.port.drops", "a", "reason", "no_route"));
        assertEquals(1, count("pktkit.port.frames.in", "a"));
        hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
