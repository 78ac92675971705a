package dev.pktkit.wireguard.crypto;

/**
 * TAI64N timestamps as WireGuard's initiation carries them: 8 bytes big-endian seconds since 1970 plus
 * {@code 2^62 + 10} (the TAI64 label base as WireGuard implementations use it), then 4 bytes big-endian
 * nanoseconds. Responders keep the greatest one seen per peer and drop initiations that are not newer, so a
 * captured initiation cannot be replayed.
 *
 * <p>Nanoseconds are rounded down to a multiple of 2^24 ns (about 16.8 ms), as wireguard-go and Linux do, so the
 * timestamp does not leak a fine-grained clock; two initiations less than that apart carry the same timestamp
 * (the second is then dropped by the responder, which is what rate limits initiations per peer anyway).
 */
public final class Tai64n {
    /** Encoded length. */
    public static final int LEN = 12;
    /** TAI64 label of the Unix epoch: 2^62 + 10. */
    public static final long BASE = 0x400000000000000aL;
    private static final int WHITENER_MASK = (1 << 24) - 1;

    private Tai64n() {
    }

    /** Encodes Unix time {@code epochNanos} (nanoseconds since 1970-01-01T00:00:00Z). */
    public static byte[] encode(long epochNanos) {
        long secs = Math.floorDiv(epochNanos, 1_000_000_000L);
        int nanos = (int) Math.floorMod(epochNanos, 1_000_000_000L) & ~WHITENER_MASK;
        byte[] out = new byte[LEN];
        long s = BASE + secs;
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (s >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            out[8 + i] = (byte) (nanos >>> (24 - 8 * i));
        }
        return out;
    }

    /** Whether timestamp {@code a} is strictly after {@code b} (unsigned byte-wise comparison, as both are big-endian). */
    public static boolean after(byte[] a, byte[] b) {
        return java.util.Arrays.compareUnsigned(a, 0, LEN, b, 0, LEN) > 0;
    }
}
