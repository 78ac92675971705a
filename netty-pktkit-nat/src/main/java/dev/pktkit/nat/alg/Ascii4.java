package dev.pktkit.nat.alg;

/** Dotted-quad text of an IPv4 address held in an int. */
final class Ascii4 {
    private Ascii4() {
    }

    static String text(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }
}
