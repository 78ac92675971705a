package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.HelperPacket;
import io.netty.buffer.ByteBuf;

/**
 * IRC DCC through the NAT (off by default). On an inside client's connection to a configured IRC server port
 * (6667), a CTCP {@code DCC SEND name address port size} or {@code DCC CHAT chat address port} (between 0x01 bytes)
 * whose address (a decimal 32-bit number) is the inside host's own gets the NAT's outside endpoint, and the
 * peer's transfer connection to it is expected from any address (the peer is another IRC user, unknown to the
 * NAT, as in Linux's {@code nf_conntrack_irc}). Other DCC types (RESUME, ACCEPT, passive DCC with port 0) pass
 * unchanged. Limits: a DCC message must lie within one segment and one line of at most
 * {@link AlgConfig.Builder#maxLine} bytes; file names with spaces must be quoted.
 */
public final class IrcAlg extends Alg {
    IrcAlg(AlgConfig config) {
        super(config);
    }

    @Override
    public String name() {
        return "irc";
    }

    @Override
    boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        return protocol == IpProtocol.TCP && !fromOutside && AlgConfig.contains(config.ircPorts, remotePort);
    }

    @Override
    public boolean packet(HelperPacket p, int slot) {
        counters.increment(AlgEvent.PACKETS);
        if (!p.isOutbound()) {
            return true;
        }
        ByteBuf b = p.buffer();
        int at = p.payloadOffset();
        while (at < p.payloadOffset() + p.payloadLength()) {
            int limit = p.payloadOffset() + p.payloadLength();
            int nl = Ascii.indexOf(b, at, Math.min(limit, at + config.maxLine), '\n');
            if (nl < 0) {
                if (limit - at >= config.maxLine) {
                    counters.increment(AlgEvent.MALFORMED);
                }
                return true;
            }
            int after = limit - (nl + 1);
            int dcc = Ascii.indexOf(b, at, nl, "\u0001DCC ");
            if (dcc >= 0) {
                dcc(p, slot, dcc + 5, nl);
            }
            at = p.payloadOffset() + p.payloadLength() - after;
        }
        return true;
    }

    private void dcc(HelperPacket p, int slot, int at, int nl) {
        ByteBuf b = p.buffer();
        int close = Ascii.indexOf(b, at, nl, 1);
        if (close < 0) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        boolean send = Ascii.startsWithIgnoreCase(b, at, close, "SEND ");
        if (!send && !Ascii.startsWithIgnoreCase(b, at, close, "CHAT ")) {
            return;
        }
        counters.increment(AlgEvent.MESSAGES);
        // the argument: a token, or a quoted name
        int i = at + 5;
        while (i < close && b.getByte(i) == ' ') {
            i++;
        }
        if (i < close && b.getByte(i) == '"') {
            int q = Ascii.indexOf(b, i + 1, close, '"');
            if (q < 0) {
                counters.increment(AlgEvent.MALFORMED);
                return;
            }
            i = q + 1;
        } else {
            while (i < close && b.getByte(i) != ' ') {
                i++;
            }
        }
        while (i < close && b.getByte(i) == ' ') {
            i++;
        }
        int addrAt = i;
        long addr = 0;
        int j = addrAt;
        while (j < close && j - addrAt < 11 && Ascii.isDigit(b.getByte(j))) {
            addr = addr * 10 + (b.getByte(j) - '0');
            j++;
        }
        if (j == addrAt || j >= close || b.getByte(j) != ' ') {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        long pn = Ascii.number(b, j + 1, close, 5);
        if (addr > 0xFFFF_FFFFL || pn < 0 || Ascii.value(pn) > 65535) {
            counters.increment(AlgEvent.MALFORMED);
            return;
        }
        int port = Ascii.value(pn);
        if ((int) addr != p.insideAddress() || port < 1024) {
            counters.increment(AlgEvent.FOREIGN_ADDRESS); // also passive DCC (port 0) and privileged ports
            return;
        }
        ExpectedFlow f = expect(p, slot, IpProtocol.TCP, p.insideAddress(), port, 0, 0, 0);
        if (f != null && !rewrite(p, addrAt, Ascii.end(pn),
                (f.outsideAddress() & 0xFFFF_FFFFL) + " " + f.outsidePort())) {
            f.cancel();
        }
    }
}
