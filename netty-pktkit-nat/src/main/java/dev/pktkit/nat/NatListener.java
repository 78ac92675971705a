package dev.pktkit.nat;

/**
 * Observes mappings as they are created and removed. Called on the NAT's event loop, on the data path of the
 * packet that caused the event: keep it short and never block. Only called when a listener is configured (the
 * snapshot records are then allocated per event).
 */
public interface NatListener {
    /** A mapping was created (by an outbound packet, an expectation, a static mapping or a port forward). */
    default void mappingCreated(NatMapping mapping) {
    }

    /** A mapping was removed: its last session expired, or a static mapping / port forward was removed. */
    default void mappingRemoved(NatMapping mapping) {
    }
}
