package dev.pktkit.vtcp.engine;

/**
 * The engine's time source, in nanoseconds on an arbitrary origin (like {@link System#nanoTime()}). The host
 * implements it with its event loop's clock; tests use a manual clock. It must never go backwards.
 */
@FunctionalInterface
public interface TcpClock {
    /** The system clock, {@link System#nanoTime()}. */
    TcpClock SYSTEM = System::nanoTime;

    /** The current time in nanoseconds. */
    long nanoTime();
}
