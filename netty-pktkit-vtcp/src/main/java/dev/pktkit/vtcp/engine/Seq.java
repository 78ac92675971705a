package dev.pktkit.vtcp.engine;

/** Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): sequence numbers are {@code int}s compared by
 * signed difference. */
final class Seq {
    private Seq() {
    }

    static boolean lt(int a, int b) {
        return a - b < 0;
    }

    static boolean le(int a, int b) {
        return a - b <= 0;
    }

    static boolean gt(int a, int b) {
        return a - b > 0;
    }

    static boolean ge(int a, int b) {
        return a - b >= 0;
    }

    static int max(int a, int b) {
        return a - b >= 0 ? a : b;
    }

    static int min(int a, int b) {
        return a - b <= 0 ? a : b;
    }

    /** {@code lo <= x < hi}. */
    static boolean inRange(int x, int lo, int hi) {
        return x - lo >= 0 && x - hi < 0;
    }
}
