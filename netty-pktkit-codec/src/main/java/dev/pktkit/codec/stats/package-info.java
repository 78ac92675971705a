/**
 * Counters of devices and ports: {@link dev.pktkit.codec.stats.EnumCounters}, one lock-free cell per constant of an
 * enum (traffic kinds, drop reasons), and {@link dev.pktkit.codec.stats.MicrometerCounters}, which exports any of
 * them to a Micrometer registry; {@link dev.pktkit.codec.stats.CountersBinder} binds the meters of one device
 * together (each device has a ready subclass).
 *
 * <p>Micrometer is an optional dependency of this module: only an application that calls
 * {@code MicrometerCounters} needs {@code io.micrometer:micrometer-core} on its class path.
 */
package dev.pktkit.codec.stats;
