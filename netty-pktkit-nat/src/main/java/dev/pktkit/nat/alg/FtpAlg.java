package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.HelperPacket;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;

/**
 * FTP (RFC 959, RFC 2428) through the NAT. Control connections to or from the configured ports (21) are
 * tracked; in the inside host's packets:
 * <ul>
 *   <li>an inside <b>client</b>'s {@code PORT h1,h2,h3,h4,p1,p2} and {@code EPRT |1|a.b.c.d|port|} get the
 *   NAT's outside endpoint, and the server's data connection to it is expected (active mode);</li>
 *   <li>an inside <b>server</b>'s (behind a port forward) {@code 227 ... (h1,...,p2)} and
 *   {@code 229 ... (|||port|)} replies get the outside endpoint, and the client's data connection is expected
 *   (passive mode). An outside server's 227/229 needs nothing: the inside client connects out.</li>
 * </ul>
 * Only addresses equal to the inside host's own are rewritten ({@link AlgEvent#FOREIGN_ADDRESS} otherwise, as
 * Linux's {@code nf_conntrack_ftp} refuses to open flows for third parties); {@code EPRT |2|} (IPv6) passes
 * unchanged. When the text changes length the NAT keeps the TCP sequence offset for the rest of the connection.
 * Limits: a command or reply must lie within one segment (a line split across segments passes unchanged, as in
 * Linux); lines longer than {@link AlgConfig.Builder#maxLine} are not parsed.
 */
public final class FtpAlg extends Alg {
    private final int[] end = new int[1];

    FtpAlg(AlgConfig config) {
        super(config);
    }

    @Override
    public String name() {
        return "ftp";
    }

    @Override
    boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        return protocol == IpProtocol.TCP && AlgConfig.contains(config.ftpPorts, fromOutside ? insidePort : remotePort);
    }

    private static final long NEWLINES = 0x0A0A_0A0A_0A0A_0A0AL;
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGHS = 0x8080_8080_8080_8080L;

    /**
     * The fast path: wants a packet only when it goes out and one of its lines starts with a
     * letter of PORT/EPRT or a digit 2 (227/229); every other control segment crosses as plain NAT traffic. Every
     * line is checked: the first byte, then every byte after a line feed (a line feed in the last byte starts no
     * line). The line feeds are looked for eight bytes at a time, without a branch per word: each word XOR
     * {@code 0x0A..} goes through {@code (x - 0x01..) & ~x & 0x80..} (non-zero exactly when the word holds a line
     * feed) and the results are ORed together, the last word overlapping the one before it so that no byte is
     * read one at a time. A segment of one line (a command ends in its only line feed, the last byte) thus costs
     * about {@code length / 8} loads and five ALU operations per load; only a segment with a line feed before its
     * last byte is then checked line by line ({@link #wantsSlow}). A heap buffer's array is read directly (one
     * {@code VarHandle} load per word), other buffers through {@code getLong}; the engine's fast path hands over
     * its NIO view of a direct buffer ({@link #wants(ByteBuf, ByteBuffer, int, int, int, boolean)}). A packet
     * turned away is counted ({@link AlgEvent#PACKETS}) here, a wanted one in {@link #packet}: once each, although
     * the engine asks twice when its fast path passes a wanted packet on to its general path.
     */
    @Override
    public boolean wants(ByteBuf b, int at, int length, boolean outbound) {
        if (outbound && (b.hasArray() ? wants(b.array(), b.arrayOffset() + at, length) : wantsDirect(b, at, length))) {
            return true; // counted in packet(), which follows (the engine may ask twice: fast path, then general)
        }
        counters.increment(AlgEvent.PACKETS); // done with here: an inbound packet, or no line to look at
        return false;
    }

    /** The check on a buffer without an array, through {@code getLong}. */
    private static boolean wantsDirect(ByteBuf b, int at, int length) {
        if (lineStart(b.getByte(at))) {
            return true;
        }
        int n = length - 1; // bytes that may hold a line feed with a byte after it
        if (n >= 8) {
            long hits = 0;
            int last = at + n - 8;
            for (int i = at; i < last; i += 8) {
                hits |= lineFeeds(b.getLong(i));
            }
            if ((hits | lineFeeds(b.getLong(last))) == 0) {
                return false;
            }
        }
        return wantsSlow(b, at, length);
    }

    /**
     * {@link #wants(ByteBuf, int, int, boolean)} on the engine's NIO view of the packet ({@code view} index
     * {@code viewAt} is the payload's first byte; absolute reads only, the view is not changed).
     */
    @Override
    public boolean wants(ByteBuf b, ByteBuffer view, int viewAt, int at, int length, boolean outbound) {
        if (outbound && wants(b, view, viewAt, at, length)) {
            return true;
        }
        counters.increment(AlgEvent.PACKETS);
        return false;
    }

    private static boolean wants(ByteBuf b, ByteBuffer view, int viewAt, int at, int length) {
        if (lineStart(view.get(viewAt))) {
            return true;
        }
        int n = length - 1;
        if (n >= 8) {
            long hits = 0;
            int last = viewAt + n - 8;
            for (int i = viewAt; i < last; i += 8) {
                hits |= lineFeeds(view.getLong(i)); // byte order does not matter to "holds a line feed"
            }
            if ((hits | lineFeeds(view.getLong(last))) == 0) {
                return false;
            }
        }
        return wantsSlow(b, at, length);
    }

    /** Non-zero exactly when one of the eight bytes of {@code w} is a line feed (exact for "none"). */
    private static long lineFeeds(long w) {
        long x = w ^ NEWLINES;
        return (x - ONES) & ~x & HIGHS;
    }

    /**
     * The line-by-line check, once a line feed before the last byte was seen (or the payload is short): a word
     * without a line feed is skipped, one with a line feed checked byte by byte.
     */
    private static boolean wantsSlow(ByteBuf b, int at, int length) {
        int last = at + length - 1;
        int i = at;
        for (; i + 8 <= last; i += 8) {
            if (lineFeeds(b.getLong(i)) != 0) {
                for (int k = i; k < i + 8; k++) {
                    if (b.getByte(k) == '\n' && lineStart(b.getByte(k + 1))) {
                        return true;
                    }
                }
            }
        }
        for (; i < last; i++) {
            if (b.getByte(i) == '\n' && lineStart(b.getByte(i + 1))) {
                return true;
            }
        }
        return false;
    }

    private static final java.lang.invoke.VarHandle LONG_BE = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /** {@link #wants(ByteBuf, int, int, boolean)} on a heap buffer's array, {@code at} an array index. */
    private static boolean wants(byte[] a, int at, int length) {
        if (lineStart(a[at])) {
            return true;
        }
        int n = length - 1;
        if (n >= 8) {
            long hits = 0;
            int last = at + n - 8;
            for (int i = at; i < last; i += 8) {
                hits |= lineFeeds((long) LONG_BE.get(a, i));
            }
            if ((hits | lineFeeds((long) LONG_BE.get(a, last))) == 0) {
                return false;
            }
        }
        int end = at + length - 1;
        for (int i = at; i < end; i++) {
            if (a[i] == '\n' && lineStart(a[i + 1])) {
                return true;
            }
        }
        return false;
    }

    /** Whether a line starting with {@code c} could be PORT, EPRT, 227 or 229 (ASCII case-insensitively). */
    private static boolean lineStart(int c) {
        c |= 0x20;
        return c == 'p' || c == 'e' || c == '2';
    }

    @Override
    public boolean packet(HelperPacket p, int slot) {
        counters.increment(AlgEvent.PACKETS); // here when wants() said yes (it counts the packets it turns away)
        if (!p.isOutbound()) {
            return true; // an outside peer's addresses are its own: nothing to translate
        }
        boolean insideIsServer = !AlgConfig.contains(config.ftpPorts, p.remotePort());
        ByteBuf b = p.buffer();
        int at = p.payloadOffset();
        while (at < p.payloadOffset() + p.payloadLength()) {
            int limit = p.payloadOffset() + p.payloadLength();
            int c = b.getByte(at) | 0x20; // the fast path: a line that cannot be PORT/EPRT or 227/229 is skipped
            if (insideIsServer ? c != ('2' | 0x20) : c != 'p' && c != 'e') {
                int next = b.indexOf(at, limit, (byte) '\n');
                if (next < 0) {
                    return true;
                }
                at = next + 1;
                continue;
            }
            int nl = Ascii.indexOf(b, at, Math.min(limit, at + config.maxLine), '\n');
            if (nl < 0) {
                if (limit - at >= config.maxLine) {
                    counters.increment(AlgEvent.MALFORMED);
                }
                return true;
            }
            int lineEnd = nl + 1;
            int after = p.payloadOffset() + p.payloadLength() - lineEnd;
            if (insideIsServer) {
                if (Ascii.startsWithIgnoreCase(b, at, nl, "227")) {
                    pasv(p, slot, at + 3, nl);
                } else if (Ascii.startsWithIgnoreCase(b, at, nl, "229")) {
                    epsv(p, slot, at + 3, nl);
                }
            } else if (Ascii.startsWithIgnoreCase(b, at, nl, "PORT ")) {
                port(p, slot, at + 5, nl);
            } else if (Ascii.startsWithIgnoreCase(b, at, nl, "EPRT ")) {
                eprt(p, slot, at + 5, nl);
            }
            at = p.payloadOffset() + p.payloadLength() - after; // the line may have changed length
        }
        return true;
    }

    private void port(HelperPacket p, int slot, int at, int nl) {
        counters.increment(AlgEvent.MESSAGES);
        ByteBuf b = p.buffer();
        while (at < nl && b.getByte(at) == ' ') {
            at++;
        }
        long hp = Ascii.hostPort(b, at, nl, end);
        if (hp < 0) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int addr = (int) (hp >>> 16);
        int port = (int) (hp & 0xFFFF);
        if (addr != p.insideAddress() || port == 0) {
            counters.increment(AlgEvent.FOREIGN_ADDRESS);
            return;
        }
        ExpectedFlow f = expect(p, slot, IpProtocol.TCP, addr, port, p.remoteAddress(), 0, 0);
        if (f != null && !rewrite(p, at, end[0], Ascii.hostPortText(f.outsideAddress(), f.outsidePort()))) {
            f.cancel();
        }
    }

    private void eprt(HelperPacket p, int slot, int at, int nl) {
        counters.increment(AlgEvent.MESSAGES);
        ByteBuf b = p.buffer();
        // EPRT <d>1<d>a.b.c.d<d>port<d>, the delimiter any printable character (RFC 2428 §2)
        if (at + 1 >= nl) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int d = b.getByte(at);
        if (d < 33 || d > 126 || Ascii.isDigit(d)) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int i = at + 1;
        long af = Ascii.number(b, i, nl, 1);
        if (af < 0 || Ascii.end(af) >= nl || b.getByte(Ascii.end(af)) != d) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        if (Ascii.value(af) != 1) {
            return; // IPv6 (2): not ours to translate
        }
        int addrAt = Ascii.end(af) + 1;
        long q = Ascii.dottedQuad(b, addrAt, nl);
        if (q < 0 || Ascii.end(q) >= nl || b.getByte(Ascii.end(q)) != d) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        long pn = Ascii.number(b, Ascii.end(q) + 1, nl, 5);
        if (pn < 0 || Ascii.value(pn) > 65535 || Ascii.value(pn) == 0 || Ascii.end(pn) >= nl
                || b.getByte(Ascii.end(pn)) != d) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int addr = (int) (q >>> 32);
        if (addr != p.insideAddress()) {
            counters.increment(AlgEvent.FOREIGN_ADDRESS);
            return;
        }
        ExpectedFlow f = expect(p, slot, IpProtocol.TCP, addr, Ascii.value(pn), p.remoteAddress(), 0, 0);
        if (f != null && !rewrite(p, addrAt, Ascii.end(pn), dotted(f.outsideAddress()) + (char) d + f.outsidePort())) {
            f.cancel();
        }
    }

    /** 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2): the six numbers anywhere after the code. */
    private void pasv(HelperPacket p, int slot, int at, int nl) {
        counters.increment(AlgEvent.MESSAGES);
        ByteBuf b = p.buffer();
        int i = at;
        while (i < nl && !Ascii.isDigit(b.getByte(i))) {
            i++;
        }
        long hp = Ascii.hostPort(b, i, nl, end);
        if (hp < 0) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int addr = (int) (hp >>> 16);
        int port = (int) (hp & 0xFFFF);
        if (addr != p.insideAddress() || port == 0) {
            counters.increment(AlgEvent.FOREIGN_ADDRESS);
            return;
        }
        ExpectedFlow f = expect(p, slot, IpProtocol.TCP, addr, port, p.remoteAddress(), 0, 0);
        if (f != null && !rewrite(p, i, end[0], Ascii.hostPortText(f.outsideAddress(), f.outsidePort()))) {
            f.cancel();
        }
    }

    /** 229 Entering Extended Passive Mode (|||port|): the port is the inside server's; the address is implied. */
    private void epsv(HelperPacket p, int slot, int at, int nl) {
        counters.increment(AlgEvent.MESSAGES);
        ByteBuf b = p.buffer();
        int open = Ascii.indexOf(b, at, nl, '(');
        if (open < 0 || open + 5 > nl) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int d = b.getByte(open + 1);
        if (b.getByte(open + 2) != d || b.getByte(open + 3) != d) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        long pn = Ascii.number(b, open + 4, nl, 5);
        if (pn < 0 || Ascii.value(pn) > 65535 || Ascii.value(pn) == 0 || Ascii.end(pn) >= nl
                || b.getByte(Ascii.end(pn)) != d) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int port = Ascii.value(pn);
        ExpectedFlow f = expect(p, slot, IpProtocol.TCP, p.insideAddress(), port, p.remoteAddress(), 0, 0);
        if (f != null && f.outsidePort() != port && !rewrite(p, open + 4, Ascii.end(pn),
                Integer.toString(f.outsidePort()))) {
            f.cancel();
        }
    }

    static String dotted(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }
}
