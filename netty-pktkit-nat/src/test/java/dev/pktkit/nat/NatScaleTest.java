package dev.pktkit.nat;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static dev.pktkit.nat.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The engine at 10, 10,000 and 1,000,000 mappings (issue 12's scale points): its memory is fixed when it is made,
 * and the work a packet costs does not grow with the number of mappings. Work is counted, not timed: the probes
 * each index look-up takes (a hit on every stored entry, a miss from every home slot) and the outside ports tried
 * per new mapping. Speed at these sizes is {@code NatBenchmark}'s job.
 */
class NatScaleTest {
    private static final int HOSTS = 1024;
    private static final int REMOTE = ip("198.51.100.7");

    /** A reusable UDP packet from {@code src:sport} to the remote's port 53 (no UDP checksum). */
    private static void refill(ByteBuf b, int src, int sport) {
        b.setInt(12, src);
        b.setInt(16, REMOTE);
        b.setShort(20, sport);
        b.setShort(22, 53);
        b.setShort(26, 0);
        Ipv4.fillChecksum(b, 0);
    }

    @ParameterizedTest
    @ValueSource(ints = {10, 10_000, 1_000_000})
    void memoryFixedAndWorkPerPacketIndependentOfTheMappingCount(int n) {
        int cap = n + 64;
        int[] outside = new int[32]; // 1,000,000 mappings need more than one address's 64,512 ports
        for (int i = 0; i < outside.length; i++) {
            outside[i] = ip("203.0.113.1") + i;
        }
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(outside).maxMappings(cap)
                .maxMappingsPerNamespace(cap).maxMappingsPerHost(65536).build());
        int port = e.addPort(e.openNamespace());
        long bytes = e.tableBytes();
        // at most 264 bytes per mapping (the indices are powers of two, 2-4 slots per entry, two sessions per
        // mapping; the outside index keeps its keys in 16-byte slots) plus the tables sized by the other bounds
        // (namespaces, expectations, static mappings, IPv6 cache)
        assertTrue(bytes <= 264L * cap + 128 * 1024, bytes + " bytes for " + cap + " mappings");

        ByteBuf b = Unpooled.buffer(28).writeZero(28);
        Ipv4.writeHeader(b.clear(), 0, 0, IpProtocol.UDP, 64, 8, 1, false);
        b.writerIndex(28);
        b.setShort(24, 8);
        int host = ip("10.1.0.0");
        try {
            for (int k = 0; k < n; k++) {
                refill(b, host + k % HOSTS, 1024 + k / HOSTS);
                assertEquals(NatEngine.TO_OUTSIDE, e.outbound(b, port), () -> e.counters().toString());
            }
            assertEquals(n, e.mappingCount());
            assertEquals(n, e.sessionCount());
            assertEquals(bytes, e.tableBytes(), "no table grew");

            // look-up work: every index at most half full, so linear probing costs about 1.5 probes per hit and
            // 2.5 per miss whatever the fill; the longest probe sequence stays short
            String[] names = {"inside", "outside", "sessions", "hosts"};
            long[][] stats = e.probeStats();
            for (int i = 0; i < stats.length; i++) {
                long[] s = stats[i];
                assertTrue(s[0] * 2 <= s[4], names[i] + " load above one half");
                double hit = s[0] == 0 ? 1 : (double) s[1] / s[0];
                double miss = (double) s[3] / s[4];
                assertTrue(hit <= 1.6, names[i] + ": " + hit + " probes per hit");
                assertTrue(miss <= 3.0, names[i] + ": " + miss + " probes per miss");
                assertTrue(s[2] <= 96, names[i] + ": longest probe sequence " + s[2]);
            }
            // port choice: the preserved port, else random tries; not a scan through taken ports
            double perMapping = (double) e.portProbes() / n;
            assertTrue(perMapping <= 3.0, perMapping + " ports tried per new mapping");

            // established flows still translate both ways, wherever they are in the tables
            SplittableRandom rnd = new SplittableRandom(n);
            for (int i = 0; i < 1000; i++) {
                int k = rnd.nextInt(n);
                int src = host + k % HOSTS;
                int sport = 1024 + k / HOSTS;
                refill(b, src, sport);
                assertEquals(NatEngine.TO_OUTSIDE, e.outbound(b, port));
                int outAddr = Ipv4.src(b, 0);
                int outPort = b.getUnsignedShort(20);
                NatMapping m = e.mappingAt(IpProtocol.UDP, outAddr, outPort);
                assertEquals(src, m.insideAddress());
                assertEquals(sport, m.insidePort());
                b.setInt(12, REMOTE);
                b.setInt(16, outAddr);
                b.setShort(20, 53);
                b.setShort(22, outPort);
                Ipv4.fillChecksum(b, 0);
                assertEquals(port, e.inbound(b));
                assertEquals(src, Ipv4.dst(b, 0));
                assertEquals(sport, b.getUnsignedShort(22));
                assertTrue(checksumsOk(b));
            }
            assertEquals(n, e.mappingCount(), "no mapping made or lost by the replies");

            // expiry clears every table, a bounded number of slots per tick, within ceil(maxSessions / budget) ticks
            int budget = NatConfig.DEFAULT_EXPIRY_SCAN_PER_TICK;
            int bound = (2 * cap + budget - 1) / budget;
            int t = e.now() + 121;
            int ticks = 0;
            while (e.sessionCount() > 0 && ticks <= bound) {
                e.tick(t + ticks++);
                assertTrue(e.lastTickVisits() <= budget, e.lastTickVisits() + " slots in one tick");
            }
            assertTrue(ticks <= bound, ticks + " ticks for " + n + " mappings, bound " + bound);
            assertEquals(0, e.mappingCount());
            assertEquals(0, e.sessionCount());
            for (long[] s : e.probeStats()) {
                assertEquals(0, s[0]);
            }
            assertEquals(0, e.counters().droppedTotal(), () -> e.counters().toString());
        } finally {
            b.release();
        }
    }
}
