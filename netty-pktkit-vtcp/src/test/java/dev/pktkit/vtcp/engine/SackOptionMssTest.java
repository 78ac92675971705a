package dev.pktkit.vtcp.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 9293 §3.7.1 / RFC 6691 §3: a segment's data is the effective MSS less the options it actually carries. Both
 * ends send bulk data at once over a link that drops every tenth data segment of each, so each end holds
 * out-of-order data (and puts SACK blocks on everything it sends) while it sends full-sized segments and
 * retransmits; no IP packet may exceed the MTU. The code before the fix sent 1448 data bytes plus up to 40 bytes
 * of timestamps and SACK options: 1508-byte packets.
 */
class SackOptionMssTest {
    static final long S = 1_000_000_000L;
    static final int MTU = 1500;

    @ParameterizedTest(name = "largeSegmentBytes {0}")
    @ValueSource(ints = {0, 64_000})
    void noSegmentExceedsTheMtuWhileSackBlocksAreSent(int largeBytes) {
        try (TestNet net = new TestNet(11)) {
            TestNet.Node a = net.node(new TcpEngineConfig().secret(new byte[32]).mtu(MTU).largeSegmentBytes(largeBytes));
            TestNet.Node b = net.node(new TcpEngineConfig().secret(new byte[32]).mtu(MTU).largeSegmentBytes(largeBytes));
            Recorder client = new Recorder();
            Recorder server = new Recorder();
            b.engine.listen(TestNet.inet(b.address), 80, 16, new TcpSocketOptions(), server);
            TcpConnection c = a.engine.connect(a.sock(40000), b.sock(80),
                    new TcpSocketOptions().sendBuffer(4 << 20), client);
            assertTrue(net.runUntil(() -> client.established && server.established, 10 * S));
            TcpConnectionStats st = c.stats();
            assertTrue(st.timestamps() && st.sack(), st.toString());
            int mss = st.mss();
            assertEquals(MTU - 20 - 20 - 12, mss);

            int[] maxIp = new int[1];
            int[] sackData = new int[2]; // per node: full data segments carrying SACK blocks and timestamps
            int[] sackRetrans = new int[2]; // per node: retransmissions carrying SACK blocks
            Map<Integer, Integer> highest = new HashMap<>();
            int[] dataSeen = new int[2];
            boolean[] fresh = new boolean[1]; // the segment the tap just saw carries new data
            int[] tooLong = new int[1]; // data segments longer than the MSS less their SACK option
            net.tap = (from, seg) -> {
                int off = seg.readerIndex();
                int hl = (seg.getUnsignedByte(off + 12) >>> 4) << 2;
                int len = seg.readableBytes() - hl;
                maxIp[0] = Math.max(maxIp[0], 20 + seg.readableBytes());
                fresh[0] = false;
                if (len == 0) {
                    return;
                }
                boolean ts = false;
                int sackBlocks = 0;
                for (int p = off + 20; p < off + hl; ) {
                    int kind = seg.getUnsignedByte(p);
                    if (kind == 0) {
                        break;
                    }
                    if (kind == 1) {
                        p++;
                        continue;
                    }
                    int l = seg.getUnsignedByte(p + 1);
                    if (kind == 8) {
                        ts = true;
                    } else if (kind == 5) {
                        sackBlocks = (l - 2) / 8;
                    }
                    p += l;
                }
                int seq = seg.getInt(off + 4);
                Integer hi = highest.get(from);
                boolean retrans = hi != null && Seq.lt(seq, hi);
                if (hi == null || Seq.gt(seq + len, hi)) {
                    highest.put(from, seq + len);
                    fresh[0] = true;
                }
                if (sackBlocks > 0 && ts) {
                    if (len > mss - 4 - 8 * sackBlocks) {
                        tooLong[0]++;
                    }
                    if (len == mss - 4 - 8 * sackBlocks) {
                        sackData[from]++;
                    }
                    if (retrans) {
                        sackRetrans[from]++;
                    }
                }
            };
            // every tenth first transmission of data is lost, both ways: out-of-order data on both ends
            net.filter = (from, seg, seq, len, flags) -> {
                if (len == 0) {
                    return false;
                }
                return fresh[0] && ++dataSeen[from] % 10 == 0;
            };
            byte[] up = StateMachineTest.bytes(1_500_000, 21);
            byte[] down = StateMachineTest.bytes(1_500_000, 22);
            c.write(StateMachineTest.buf(up));
            c.flush();
            TcpConnection sc = server.connection;
            sc.write(StateMachineTest.buf(down));
            sc.flush();
            assertTrue(net.runUntil(() -> server.receivedBytes == up.length && client.receivedBytes == down.length,
                    120 * S), "client got " + client.receivedBytes + ", server " + server.receivedBytes);
            assertArrayEquals(up, server.received.toByteArray());
            assertArrayEquals(down, client.received.toByteArray());
            assertTrue(maxIp[0] <= MTU, "largest IP packet " + maxIp[0]);
            assertEquals(0, tooLong[0], "data segments longer than the MSS less their SACK option");
            for (int n = 0; n < 2; n++) {
                assertTrue(sackData[n] > 0, "node " + n + ": full segments with SACK blocks: " + sackData[n]);
                assertTrue(sackRetrans[n] > 0, "node " + n + ": retransmissions with SACK blocks: " + sackRetrans[n]);
            }
        }
    }
}
