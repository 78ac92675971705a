package dev.pktkit.switching;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.switching.Lan.Host;
import dev.pktkit.testkit.TestLoops;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.pktkit.switching.Lan.BROADCAST;
import static dev.pktkit.switching.Lan.frame;
import static dev.pktkit.switching.Lan.mac;
import static dev.pktkit.switching.Lan.tagged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class L2HubTest {
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private MockTicker ticker;
    private L2Hub hub;
    private Lan lan;

    @BeforeEach
    void setUp() {
        group = TestLoops.group(TestLoops.NIO, 1);
        loop = group.next();
        ticker = Ticker.newMockTicker();
        hub = newHub(L2Hub.builder());
        lan = new Lan(loop, hub);
    }

    private L2Hub newHub(L2Hub.Builder b) {
        return b.ticker(ticker).tickInterval(Duration.ZERO).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        lan.assertAllReleased(); // floods, drops and deliveries of every test let go of every frame
        hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void broadcastFloodsToAllButSourceThenUnicastGoesToLearnedPortOnly() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        Host h3 = lan.host();
        String bcast = frame(BROADCAST, mac(1), 1);
        lan.run(() -> h1.send(bcast));
        assertEquals(List.of(), h1.take(), "never back to the source");
        assertEquals(List.of(bcast), h2.take());
        assertEquals(List.of(bcast), h3.take());

        String reply = frame(mac(1), mac(2), 2);
        lan.run(() -> h2.send(reply));
        assertEquals(List.of(reply), h1.take(), "unicast to the learned port");
        assertEquals(List.of(), h3.take(), "and nowhere else");
        assertSame(h1.port, hub.lookup(0x020000000001L, 1));
        assertSame(h2.port, hub.lookup(0x020000000002L, 1));
        assertEquals(2, hub.macEntries());
    }

    @Test
    void unknownUnicastAndMulticastFlood() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        Host h3 = lan.host();
        String unknown = frame(mac(9), mac(1), 1);
        String multicast = frame("01005e000001", mac(1), 2);
        lan.run(() -> {
            h1.send(unknown);
            h1.send(multicast);
        });
        assertEquals(List.of(unknown, multicast), h2.take());
        assertEquals(List.of(unknown, multicast), h3.take());
        assertEquals(List.of(), h1.take());
    }

    @Test
    void frameToAStationOnTheIngressPortIsFiltered() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
        lan.run(() -> h1.send(frame(BROADCAST, mac(3), 1))); // mac 3 also lives behind port 1
        h2.take();
        lan.run(() -> h1.send(frame(mac(3), mac(1), 2)));
        assertEquals(List.of(), h2.take());
        assertEquals(1, h1.port.counters().drops(DropReason.SAME_PORT));
    }

    @Test
    void addressesAgeOutAndThenFlood() throws Exception {
        hub.close();
        hub = newHub(L2Hub.builder().agingTime(Duration.ofSeconds(300)));
        lan = new Lan(loop, hub);
        Host h1 = lan.host();
        Host h2 = lan.host();
        Host h3 = lan.host();
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
        h2.take();
        h3.take();

        ticker.advance(299, TimeUnit.SECONDS);
        assertEquals(0, hub.tick());
        assertSame(h1.port, hub.lookup(0x020000000001L, 1));

        ticker.advance(2, TimeUnit.SECONDS);
        assertEquals(1, hub.tick(), "aged out after 301 s without traffic");
        assertNull(hub.lookup(0x020000000001L, 1));
        assertEquals(0, hub.macEntries());
        String toOne = frame(mac(1), mac(2), 5);
        lan.run(() -> h2.send(toOne));
        assertEquals(List.of(toOne), h3.take(), "unknown again: flooded");
        assertEquals(List.of(toOne), h1.take());
    }

    @Test
    void trafficKeepsAnAddressAlive() throws Exception {
        Host h1 = lan.host();
        lan.host();
        for (int i = 0; i < 5; i++) {
            lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
            ticker.advance(200, TimeUnit.SECONDS);
            hub.tick();
        }
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
        assertSame(h1.port, hub.lookup(0x020000000001L, 1), "refreshed by every frame");
    }

    @Test
    void tableCapStopsLearningAndNewStationsFlood() throws Exception {
        hub.close();
        hub = newHub(L2Hub.builder().maxMacEntries(4));
        lan = new Lan(loop, hub);
        Host h1 = lan.host();
        Host h2 = lan.host();
        lan.run(() -> {
            for (int i = 1; i <= 10; i++) {
                h1.send(frame(BROADCAST, mac(i), i));
            }
        });
        assertEquals(4, hub.macEntries());
        assertEquals(10, h1.port.counters().framesIn(), "all ten frames entered");
        assertEquals(10, h2.take().size(), "frames are still forwarded when the table is full");
        long learnedCount = java.util.stream.IntStream.rangeClosed(1, 10)
                .filter(i -> hub.lookup(0x020000000000L | i, 1) != null).count();
        assertEquals(4, learnedCount);
    }

    @Test
    void perPortCapLeavesRoomForOtherPorts() throws Exception {
        Host greedy = lan.host(ch -> hub.attach(ch, L2PortOptions.defaults().maxMacEntries(3)));
        Host fair = lan.host();
        lan.run(() -> {
            for (int i = 1; i <= 50; i++) {
                greedy.send(frame(BROADCAST, mac(i), i));
            }
            fair.send(frame(BROADCAST, mac(1000), 1));
        });
        assertEquals(3, ((L2Port) greedy.port).learnedAddresses());
        assertSame(fair.port, hub.lookup(0x020000000000L | 1000, 1));
        assertEquals(4, hub.macEntries());
        greedy.take();
    }

    @Test
    void stationMoveFollowsTheLatestFrame() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        Host h3 = lan.host();
        lan.run(() -> h1.send(frame(BROADCAST, mac(7), 1)));
        assertSame(h1.port, hub.lookup(0x020000000007L, 1));
        lan.run(() -> h2.send(frame(BROADCAST, mac(7), 2))); // the station moved to port 2
        assertSame(h2.port, hub.lookup(0x020000000007L, 1));
        h1.take();
        h2.take();
        h3.take();
        String toSeven = frame(mac(7), mac(3), 3);
        lan.run(() -> h3.send(toSeven));
        assertEquals(List.of(toSeven), h2.take());
        assertEquals(List.of(), h1.take());
        assertEquals(0, ((L2Port) h1.port).learnedAddresses());
        assertEquals(1, ((L2Port) h2.port).learnedAddresses());
    }

    @Test
    void vlansAreIsolatedAndTrunksCarryTags() throws Exception {
        Host a10 = lan.host(ch -> hub.attach(ch, L2PortOptions.access(10)));
        Host b10 = lan.host(ch -> hub.attach(ch, L2PortOptions.access(10)));
        Host a20 = lan.host(ch -> hub.attach(ch, L2PortOptions.access(20)));
        Host trunk = lan.host(ch -> hub.attach(ch, L2PortOptions.trunk(10, 20, 30)));

        String bcast10 = frame(BROADCAST, mac(1), 1);
        lan.run(() -> a10.send(bcast10));
        assertEquals(List.of(bcast10), b10.take());
        assertEquals(List.of(), a20.take(), "VLAN 20 never sees VLAN 10");
        assertEquals(List.of(bcast10), trunk.take(), "VLAN 10 is the trunk's native VLAN: untagged");

        String bcast20 = frame(BROADCAST, mac(2), 2);
        lan.run(() -> a20.send(bcast20));
        assertEquals(List.of(tagged(BROADCAST, mac(2), 20, 0, 2)), trunk.take(), "tagged 20 on the trunk");
        assertEquals(List.of(), a10.take());
        assertEquals(List.of(), b10.take());

        // From the trunk: tagged 20 (priority 5) reaches the VLAN 20 access port untagged.
        String fromTrunk = tagged(mac(2), mac(3), 20, 5, 3);
        lan.run(() -> trunk.send(fromTrunk));
        assertEquals(List.of(frame(mac(2), mac(3), 3)), a20.take());
        assertEquals(List.of(), a10.take());

        // Same MAC in two VLANs: separate entries.
        lan.run(() -> trunk.send(tagged(BROADCAST, mac(1), 30, 0, 4)));
        assertSame(a10.port, hub.lookup(0x020000000001L, 10));
        assertSame(trunk.port, hub.lookup(0x020000000001L, 30));

        // A VLAN the access port is not in: dropped and counted.
        lan.run(() -> a10.send(tagged(BROADCAST, mac(1), 20, 0, 5)));
        assertEquals(List.of(), a20.take());
        assertEquals(1, a10.port.counters().drops(DropReason.VLAN));
        // A VLAN the trunk does not carry: dropped.
        lan.run(() -> trunk.send(tagged(BROADCAST, mac(3), 40, 0, 6)));
        assertEquals(1, trunk.port.counters().drops(DropReason.VLAN));
        assertEquals(List.of(), a10.take());
        assertEquals(List.of(), b10.take());
    }

    @Test
    void priorityTaggedFrameOnAccessPortIsForwardedUntagged() throws Exception {
        Host a = lan.host();
        Host b = lan.host();
        lan.run(() -> a.send(tagged(BROADCAST, mac(1), 0, 3, 1)));
        assertEquals(List.of(frame(BROADCAST, mac(1), 1)), b.take());
    }

    @Test
    void mirrorPortSeesEveryFrameAndInjectsNothing() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        Host mon = lan.host(ch -> hub.attach(ch, L2PortOptions.mirror()));
        String bcast = frame(BROADCAST, mac(1), 1);
        String uni = frame(mac(1), mac(2), 2);
        lan.run(() -> {
            h1.send(bcast);
            h2.send(uni);
        });
        assertEquals(List.of(bcast, uni), mon.take());
        assertEquals(List.of(uni), h1.take());
        assertEquals(List.of(bcast), h2.take());
        lan.run(() -> mon.send(frame(BROADCAST, mac(9), 3)));
        assertEquals(List.of(), h1.take());
        assertEquals(List.of(), h2.take());
        PacketPipe second = new PacketPipe();
        assertThrows(IllegalStateException.class, () -> hub.attach(second.b(), L2PortOptions.mirror()));
        assertEquals(3, hub.ports().size());
    }

    @Test
    void mirrorAlsoSeesFramesTheHubDrops() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host(ch -> hub.attach(ch, L2PortOptions.access(10)));
        Host mon = lan.host(ch -> hub.attach(ch, L2PortOptions.mirror()));
        String runt = "00".repeat(13);
        String groupSource = frame(BROADCAST, "010000000001", 1);
        String wrongVlan = tagged(BROADCAST, mac(1), 20, 0, 2); // access port 1 does not take VLAN 20
        lan.run(() -> {
            h1.send(runt);
            h1.send(groupSource);
            h1.send(wrongVlan);
        });
        assertEquals(List.of(runt, groupSource, wrongVlan), mon.take(), "a monitor sees what was dropped");
        assertEquals(List.of(), h2.take());
        assertEquals(3, h1.port.counters().drops());
    }

    /**
     * A batch to more destinations than a fixed dirty set held flushes exactly those destinations, not every
     * port of the hub.
     */
    @Test
    void aBatchToManyDestinationsFlushesOnlyThose() throws Exception {
        int n = 12;
        Host[] hosts = new Host[n + 1];
        AtomicInteger[] flushes = new AtomicInteger[n + 1];
        for (int i = 0; i <= n; i++) {
            hosts[i] = lan.host();
            AtomicInteger count = new AtomicInteger();
            flushes[i] = count;
            hosts[i].pipe.b().pipeline().addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
                @Override
                public void flush(io.netty.channel.ChannelHandlerContext ctx) {
                    count.incrementAndGet();
                    ctx.flush();
                }
            });
        }
        for (int i = 1; i <= n; i++) {
            int k = i;
            lan.run(() -> hosts[k].send(frame(mac(0), mac(k), k))); // learn station k on port k
        }
        lan.run(() -> {
            for (int i = 0; i <= n; i++) {
                flushes[i].set(0);
                hosts[i].take();
            }
            // One batch from host 0 to ten learned stations (1..10); 11 and 12 get nothing.
            for (int k = 1; k <= 10; k++) {
                io.netty.buffer.ByteBuf b = Lan.pooled(frame(mac(k), mac(0), 100 + k));
                lan.sent.add(b);
                hosts[0].pipe.a().write(b);
            }
            hosts[0].pipe.a().flush();
        });
        for (int k = 1; k <= 10; k++) {
            assertEquals(1, hosts[k].take().size());
            assertEquals(1, flushes[k].get(), "destination " + k + " flushed once for the batch");
        }
        assertEquals(0, flushes[11].get(), "no flush for a port the batch did not write to");
        assertEquals(0, flushes[12].get());
        assertEquals(0, flushes[0].get());
    }

    @Test
    void malformedAndBadSourceFramesAreDroppedAndCounted() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        lan.run(() -> {
            h1.send("00".repeat(13));
            h1.send(frame(BROADCAST, "010000000001", 1)); // group source address
            h1.send(mac(1) + mac(2) + "8100"); // tag TPID without a tag
            h1.pipe.a().writeAndFlush("not a frame");
        });
        lan.assertAllReleased(); // every dropped frame was released
        assertEquals(List.of(), h2.take());
        PortCounters c = h1.port.counters();
        assertEquals(3, c.drops(DropReason.MALFORMED));
        assertEquals(1, c.drops(DropReason.BAD_SOURCE));
        assertEquals(0, hub.macEntries());
    }

    @Test
    void closingAPortDetachesItAndForgetsItsAddresses() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
        assertEquals(1, hub.macEntries());
        assertEquals(2, hub.size());
        h1.pipe.b().close().sync();
        lan.run(() -> { });
        assertEquals(1, hub.size(), "group membership follows the channel");
        assertEquals(1, hub.ports().size());
        // The table scan runs on the hub's executor, not on the closing channel's loop.
        assertTrue(hub.hubExecutor.submit(() -> hub.macEntries()).get(5, TimeUnit.SECONDS) == 0);
        assertEquals(0, hub.macEntries());
        assertFalse(h1.port.isAttached());
        h2.take();
    }

    @Test
    void detachKeepsTheChannelOpenAndStopsForwarding() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        h1.port.detach().get(5, TimeUnit.SECONDS);
        assertTrue(h1.pipe.b().isOpen());
        assertEquals(1, hub.size());
        lan.run(() -> h2.send(frame(BROADCAST, mac(2), 1)));
        assertEquals(List.of(), h1.take());
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 2)));
        assertEquals(List.of(), h2.take(), "a detached port's frames go nowhere");
        assertEquals(1, hub.macEntries(), "and are not learned");
        assertThrows(IllegalStateException.class, () -> hub.attach(h2.pipe.b()));
    }

    @Test
    void groupApiWritesToEveryPortAndCloseClosesThem() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        String announce = frame(BROADCAST, mac(99), 1);
        io.netty.buffer.ByteBuf msg = Lan.pooled(announce);
        hub.writeAndFlush(msg).await(5, TimeUnit.SECONDS);
        lan.run(() -> { });
        assertEquals(List.of(announce), h1.take());
        assertEquals(List.of(announce), h2.take());
        assertEquals(0, msg.refCnt(), "the group write released its message after the fan-out");
        hub.close().await(5, TimeUnit.SECONDS);
        assertFalse(h1.pipe.b().isOpen());
        assertTrue(h2.pipe.a().closeFuture().await(5, TimeUnit.SECONDS), "and the pipe's far end follows");
    }

    @Test
    void countersCountFramesAndBytes() throws Exception {
        Host h1 = lan.host();
        Host h2 = lan.host();
        lan.run(() -> h1.send(frame(BROADCAST, mac(1), 1)));
        assertEquals(1, h1.port.counters().framesIn());
        assertEquals(60, h1.port.counters().bytesIn());
        assertEquals(1, h2.port.counters().framesOut());
        assertEquals(60, h2.port.counters().bytesOut());
        h2.take();
    }
}
