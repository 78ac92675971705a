package dev.pktkit.openvpn.crypto;

/**
 * A sliding-window replay filter over 32-bit packet IDs (OpenVPN's {@code packet_id} / {@code replay-window},
 * default 64). IDs start at 1; 0 is never valid. An ID is accepted once, if it is newer than the highest seen or
 * within the window behind it. Not thread-safe.
 */
public final class ReplayWindow {
    /** OpenVPN's default {@code replay-window} size. */
    public static final int DEFAULT_SIZE = 64;

    private final long[] bits;
    private final int size;
    private long highest;

    public ReplayWindow() {
        this(DEFAULT_SIZE);
    }

    public ReplayWindow(int size) {
        if (size < 64 || size > 65536 || (size & 63) != 0) {
            throw new IllegalArgumentException("replay window " + size + " must be a multiple of 64 in 64..65536");
        }
        this.size = size;
        this.bits = new long[size / 64];
    }

    /** Whether {@code id} would be accepted, without recording it. */
    public boolean check(long id) {
        if (id <= 0 || id > 0xffffffffL) {
            return false;
        }
        if (id > highest) {
            return true;
        }
        long back = highest - id;
        if (back >= size) {
            return false;
        }
        return (bits[(int) ((id >>> 6) % bits.length)] & (1L << (id & 63))) == 0;
    }

    /** Records {@code id} if {@link #check} accepts it; call only after the packet authenticated. */
    public boolean update(long id) {
        if (!check(id)) {
            return false;
        }
        if (id > highest) {
            long fromWord = (highest >>> 6) + 1;
            long toWord = id >>> 6;
            if (highest == 0 || toWord - fromWord >= bits.length) {
                java.util.Arrays.fill(bits, 0);
            } else {
                for (long w = fromWord; w <= toWord; w++) {
                    bits[(int) (w % bits.length)] = 0;
                }
            }
            highest = id;
        }
        bits[(int) ((id >>> 6) % bits.length)] |= 1L << (id & 63);
        return true;
    }

    public long highest() {
        return highest;
    }
}
