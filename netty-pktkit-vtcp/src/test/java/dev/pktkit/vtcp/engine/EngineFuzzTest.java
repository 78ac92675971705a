package dev.pktkit.vtcp.engine;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterAll;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Coverage-guided fuzzing of the engine's segment input ({@link TcpEngine#input4}, {@link TcpEngine#input6},
 * {@link TcpEngine#icmpError4}) against a live connection and a listener. The first input byte picks the target
 * and how the bytes are patched: aimed at the established connection (its ports, sequence and acknowledgment
 * numbers near the live values so that the deeper state machine is reached), at the listener, raw, over IPv6, or
 * as an ICMP quote; with a correct checksum or not. Nothing may throw, and every buffer must be released (the
 * module's paranoid leak detection and testkit's LeakGuard check that).
 *
 * <p>{@code mvn verify} fuzzes for {@link #MAX_DURATION} ({@code JAZZER_FUZZ=1} in the module POM); without
 * that variable only the seeds in {@code src/test/resources/dev/pktkit/vtcp/engine/EngineFuzzTestInputs/} run.
 */
class EngineFuzzTest {
    static final String MAX_DURATION = "10s";

    private static StateMachineTest.Pair pair;
    private static long runs;

    private static StateMachineTest.Pair live() {
        if (pair == null || pair.s() == null || pair.s().state() != TcpState.ESTABLISHED
                || pair.c.state() != TcpState.ESTABLISHED || ++runs % 5000 == 0) {
            if (pair != null) {
                pair.close();
            }
            pair = new StateMachineTest.Pair(runs, new TcpSocketOptions());
            pair.net.logging = false;
            pair.connect();
        }
        return pair;
    }

    @AfterAll
    static void closePair() {
        if (pair != null) {
            pair.close();
            pair = null;
        }
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    void segmentInput(byte[] input) {
        if (input.length < 2) {
            return;
        }
        StateMachineTest.Pair p = live();
        int mode = input[0] & 0xFF;
        int a = p.a.address;
        int b = p.b.address;
        ByteBuf seg = TestNet.ALLOC.buffer(input.length - 1).writeBytes(input, 1, input.length - 1);
        int target = mode & 7;
        boolean fixChecksum = (mode & 8) == 0;
        boolean verified = (mode & 16) != 0;
        int ecn = (mode >>> 5) & 3;
        if (seg.readableBytes() >= 20) {
            switch (target) {
                case 0, 1, 2 -> {
                    // at the live connection, numbers near the live ones
                    seg.setShort(0, 40000);
                    seg.setShort(2, 80);
                    TcpConnection s = p.s();
                    seg.setInt(4, s.rcvNxt + seg.getShort(4));
                    seg.setInt(8, s.sndNxt + seg.getShort(8));
                }
                case 3 -> seg.setShort(2, 80); // at the listener
                default -> {
                }
            }
            if (fixChecksum && target != 5) {
                Tcp.fillChecksumV4(seg, 0, seg.readableBytes(), a, b);
            }
        }
        if (target == 5) {
            p.b.engine.input6(seg, 0x2001_0db8_0000_0000L, 1, 0x2001_0db8_0000_0000L, 2, ecn, verified);
        } else if (target == 6) {
            try {
                IcmpError[] kinds = IcmpError.values();
                if (seg.readableBytes() >= 4) {
                    seg.setShort(0, 80);
                    seg.setShort(2, 40000);
                }
                p.b.engine.icmpError4(b, a, seg, kinds[(mode >>> 3) % kinds.length], seg.readableBytes() * 8);
            } finally {
                seg.release();
            }
        } else {
            p.b.engine.input4(seg, a, b, ecn, verified);
        }
        p.net.runFor(2_000_000L);
        assertEquals(0, p.b.engine.timeWaitCount() > 16_384 ? 1 : 0);
    }
}
