package dev.pktkit.wireguard.noise;

/**
 * A peer's three keypair slots, rotated as WireGuard does: {@code current} seals; {@code previous} still opens
 * packets in flight from before the last rotation; {@code next} is a responder's fresh keypair that becomes
 * current once the initiator's first packet under it arrives (which proves the initiator has it).
 *
 * <p>Not thread-safe: the peer's loop owns it.
 */
public final class Keypairs {
    private Keypair previous;
    private Keypair current;
    private Keypair next;

    public Keypair previous() {
        return previous;
    }

    public Keypair current() {
        return current;
    }

    public Keypair next() {
        return next;
    }

    /** Installs a keypair we derived as initiator: it becomes current at once. */
    public void installAsInitiator(Keypair kp) {
        if (next != null) {
            destroy(previous);
            previous = next;
            next = null;
            destroy(current);
        } else {
            destroy(previous);
            previous = current;
        }
        current = kp;
    }

    /** Installs a keypair we derived as responder: it waits in {@code next} until confirmed. */
    public void installAsResponder(Keypair kp) {
        destroy(next);
        next = kp;
        destroy(previous);
        previous = null;
    }

    /**
     * Called after a packet authenticated under {@code kp}: if it is {@code next}, it is confirmed and rotates in.
     *
     * @return true if a rotation happened
     */
    public boolean received(Keypair kp) {
        if (kp != null && kp == next) {
            destroy(previous);
            previous = current;
            current = next;
            next = null;
            return true;
        }
        return false;
    }

    /** The slot holding local index {@code index}, or null. */
    public Keypair byLocalIndex(int index) {
        if (current != null && current.localIndex() == index) {
            return current;
        }
        if (next != null && next.localIndex() == index) {
            return next;
        }
        if (previous != null && previous.localIndex() == index) {
            return previous;
        }
        return null;
    }

    /** Destroys all three and empties the slots. */
    public void clear() {
        destroy(previous);
        destroy(current);
        destroy(next);
        previous = current = next = null;
    }

    /** Calls {@code action} for every non-null slot. */
    public void forEach(java.util.function.Consumer<Keypair> action) {
        if (previous != null) {
            action.accept(previous);
        }
        if (current != null) {
            action.accept(current);
        }
        if (next != null) {
            action.accept(next);
        }
    }

    private static void destroy(Keypair kp) {
        if (kp != null) {
            kp.destroy();
        }
    }
}
