package dev.pktkit.nat.alg;

import io.netty.buffer.ByteBuf;

/** Bounded ASCII scanning over a buffer, without allocation (the ALGs' parsers). */
final class Ascii {
    private Ascii() {
    }

    /** Whether the bytes at {@code at} start with {@code prefix}, ASCII case-insensitively. */
    static boolean startsWithIgnoreCase(ByteBuf b, int at, int end, String prefix) {
        if (end - at < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            int c = b.getByte(at + i);
            if (c >= 'a' && c <= 'z') {
                c -= 32;
            }
            int w = prefix.charAt(i);
            if (w >= 'a' && w <= 'z') {
                w -= 32;
            }
            if (c != w) {
                return false;
            }
        }
        return true;
    }

    /** Index of {@code c} in {@code [at, end)}, or -1. */
    static int indexOf(ByteBuf b, int at, int end, int c) {
        for (int i = at; i < end; i++) {
            if (b.getByte(i) == c) {
                return i;
            }
        }
        return -1;
    }

    /** Index of the first occurrence of {@code s} in {@code [at, end)}, case-insensitively, or -1. */
    static int indexOf(ByteBuf b, int at, int end, String s) {
        for (int i = at; i + s.length() <= end; i++) {
            if (startsWithIgnoreCase(b, i, end, s)) {
                return i;
            }
        }
        return -1;
    }

    static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /**
     * Parses an unsigned decimal at {@code at} of at most {@code maxDigits} digits: returns
     * {@code value << 32 | endIndex}, or -1 when there is no digit or too many.
     */
    static long number(ByteBuf b, int at, int end, int maxDigits) {
        long v = 0;
        int i = at;
        while (i < end && isDigit(b.getByte(i))) {
            if (i - at == maxDigits) {
                return -1;
            }
            v = v * 10 + (b.getByte(i) - '0');
            i++;
        }
        return i == at ? -1 : (v << 32) | i;
    }

    static int value(long parsed) {
        return (int) (parsed >>> 32);
    }

    static int end(long parsed) {
        return (int) parsed;
    }

    /**
     * Parses "h1,h2,h3,h4,p1,p2" (RFC 959 host-port) at {@code at}: returns {@code address << 32 | port << 16}
     * plus the end index in {@link #hostPortEnd}, or -1 when malformed.
     */
    static long hostPort(ByteBuf b, int at, int end, int[] endOut) {
        long addr = 0;
        int port = 0;
        int i = at;
        for (int k = 0; k < 6; k++) {
            long n = number(b, i, end, 3);
            if (n < 0 || value(n) > 255) {
                return -1;
            }
            i = end(n);
            if (k < 4) {
                addr = (addr << 8) | value(n);
            } else {
                port = (port << 8) | value(n);
            }
            if (k < 5) {
                if (i >= end || b.getByte(i) != ',') {
                    return -1;
                }
                i++;
            }
        }
        endOut[0] = i;
        return (addr << 16) | port;
    }

    /** Parses a dotted-quad IPv4 address at {@code at}: {@code address << 32 | endIndex}, or -1. */
    static long dottedQuad(ByteBuf b, int at, int end) {
        long addr = 0;
        int i = at;
        for (int k = 0; k < 4; k++) {
            long n = number(b, i, end, 3);
            if (n < 0 || value(n) > 255) {
                return -1;
            }
            addr = (addr << 8) | value(n);
            i = end(n);
            if (k < 3) {
                if (i >= end || b.getByte(i) != '.') {
                    return -1;
                }
                i++;
            }
        }
        return (addr << 32) | i;
    }

    /** "a,b,c,d,p1,p2" for an address and port. */
    static String hostPortText(int addr, int port) {
        return (addr >>> 24) + "," + ((addr >>> 16) & 0xFF) + "," + ((addr >>> 8) & 0xFF) + "," + (addr & 0xFF)
                + "," + (port >>> 8) + "," + (port & 0xFF);
    }
}
