package dev.pktkit.nat.alg;

import dev.pktkit.codec.stats.EnumCounters;
import dev.pktkit.nat.Expectation;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.FlowKey;
import dev.pktkit.nat.HelperPacket;
import dev.pktkit.nat.NatHelper;

import java.nio.charset.StandardCharsets;

/**
 * One application-level gateway: a {@link NatHelper} with its own counters, installed by {@link Algs}. Runs on
 * the NAT's event loop; its counters are readable from any thread.
 */
public abstract class Alg implements NatHelper {
    final AlgConfig config;
    final EnumCounters<AlgEvent> counters = EnumCounters.singleWriter(AlgEvent.class); // the NAT loop writes
    /** Whether the last {@link #expect} created its flow (false: refused, or a pending one found again). */
    boolean expectedNew;

    Alg(AlgConfig config) {
        this.config = config;
    }

    /** The ALG's name ("ftp", "tftp", ...). */
    public abstract String name();

    public EnumCounters<AlgEvent> counters() {
        return counters;
    }

    @Override
    public final boolean claims(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        if (claim(protocol, insidePort, remotePort, fromOutside)) {
            counters.increment(AlgEvent.FLOWS);
            return true;
        }
        return false;
    }

    abstract boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside);

    /**
     * Announces a flow; counted. A retransmitted message finds the flow it announced still pending and gets it
     * again instead of a second one.
     */
    ExpectedFlow expect(HelperPacket p, int slot, int protocol, int insideAddress, int insidePort,
                        int remoteAddress, int remotePort, int outsidePort) {
        FlowKey master = p.flow();
        if (p.engine().expectationCount() > 0) {
            for (ExpectedFlow f : p.engine().expectations()) {
                Expectation x = f.expectation();
                if (x.protocol() == protocol && x.insideAddress() == insideAddress && x.insidePort() == insidePort
                        && x.remoteAddress() == remoteAddress && x.remotePort() == remotePort
                        && x.master().equals(master)) {
                    expectedNew = false;
                    return f;
                }
            }
        }
        ExpectedFlow f = p.engine().expect(new Expectation(master, protocol, insideAddress, insidePort,
                remoteAddress, remotePort, outsidePort, config.expectTimeout));
        counters.increment(f == null ? AlgEvent.EXPECT_REFUSED : AlgEvent.EXPECTED);
        expectedNew = f != null;
        return f;
    }

    /** Replaces {@code [from, to)} with ASCII text; counted. */
    boolean rewrite(HelperPacket p, int from, int to, String text) {
        if (p.replace(from, to - from, text.getBytes(StandardCharsets.US_ASCII))) {
            counters.increment(AlgEvent.REWRITTEN);
            return true;
        }
        counters.increment(AlgEvent.REWRITE_FAILED);
        return false;
    }

    @Override
    public String toString() {
        return name() + " ALG " + counters;
    }
}
