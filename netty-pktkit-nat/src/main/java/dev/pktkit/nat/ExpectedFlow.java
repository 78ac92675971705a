package dev.pktkit.nat;

import dev.pktkit.codec.wire.Ip4;

/**
 * The NAT's answer to an {@link Expectation}: the outside endpoint it reserved (what an ALG writes into the
 * rewritten control message), and a handle to cancel it. Its methods must be called on the NAT's event loop.
 */
public final class ExpectedFlow {
    final NatEngine engine;
    final Expectation expectation;
    final int outsideAddress;
    final int outsidePort;
    int slot;
    boolean pending = true;
    boolean matched;

    ExpectedFlow(NatEngine engine, Expectation expectation, int outsideAddress, int outsidePort, int slot) {
        this.engine = engine;
        this.expectation = expectation;
        this.outsideAddress = outsideAddress;
        this.outsidePort = outsidePort;
        this.slot = slot;
    }

    public Expectation expectation() {
        return expectation;
    }

    /** The reserved outside address. */
    public int outsideAddress() {
        return outsideAddress;
    }

    /** The reserved outside port. */
    public int outsidePort() {
        return outsidePort;
    }

    /** Whether it still waits for its first packet (false once matched, expired or cancelled). */
    public boolean isPending() {
        return pending;
    }

    /** Whether an inbound packet matched it. */
    public boolean isMatched() {
        return matched;
    }

    /** Withdraws the expectation if still pending; idempotent. */
    public void cancel() {
        if (pending) {
            engine.removeExpectation(slot);
        }
    }

    @Override
    public String toString() {
        return "ExpectedFlow{" + Ip4.format(outsideAddress) + ":" + outsidePort + " for " + expectation
                + (pending ? ", pending" : matched ? ", matched" : ", gone") + '}';
    }
}
