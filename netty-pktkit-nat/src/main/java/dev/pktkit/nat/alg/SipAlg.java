package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.HelperPacket;

import java.nio.charset.StandardCharsets;

/**
 * SIP over UDP (RFC 3261, SDP RFC 4566) through the NAT (off by default). Signalling between an inside user agent
 * and a configured port (5060) outside, or to an inside UA behind a port forward of that port, is tracked:
 * <ul>
 *   <li>outbound messages: the inside UA's {@code address[:port]} in the request line, {@code Via} ({@code v})
 *   and {@code Contact} ({@code m}) headers becomes the signalling flow's outside endpoint; in the SDP body,
 *   {@code c=} and {@code o=} addresses equal to the inside host's become the outside address, and each
 *   {@code m=} port gets an expected RTP flow (and RTCP on the next port) from any remote, its outside port
 *   written back when it differs; {@code Content-Length} ({@code l}) follows the body;</li>
 *   <li>inbound messages: the outside endpoint in the request line and {@code Via} headers goes back to the
 *   inside UA's, so that it recognises its own Via in responses and requests addressed to its registered
 *   Contact.</li>
 * </ul>
 * A media port below 1024 is not expected (counted {@link AlgEvent#FOREIGN_ADDRESS}), nor is a {@code c=} address
 * other than exactly the inside host's.
 * Bounds: a message with any line longer than {@link AlgConfig.Builder#maxLine} is not parsed
 * ({@link AlgEvent#MALFORMED}); media expectations are bounded by the engine's per-control-flow bound, and once
 * one is refused the message's further {@code m=} lines are refused without asking; a message that goes out
 * unchanged because it is malformed after some {@code m=} lines, or because its rewrite does not fit
 * {@link AlgConfig.Builder#maxGrowth} ({@link AlgEvent#REWRITE_FAILED}), withdraws the flows it announced.
 * Limits: UDP only (no TCP/TLS SIP, no compressed SigComp); one message per datagram; IPv4 addresses only;
 * media are expected from any remote address (a media relay or the peer may send), which opens the RTP ports to
 * anyone for the expectation timeout; {@code Record-Route}, {@code Route} and {@code Refer-To} are not
 * rewritten; an SDP body in a multipart MIME body is not found.
 */
public final class SipAlg extends Alg {
    /** The flows this message announced for the first time: withdrawn when the message cannot be rewritten. */
    private final java.util.List<ExpectedFlow> announced = new java.util.ArrayList<>();
    /** An expectation of this message was refused: its further m= lines expect nothing (counted refused). */
    private boolean refused;

    SipAlg(AlgConfig config) {
        super(config);
    }

    @Override
    public String name() {
        return "sip";
    }

    @Override
    boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        return protocol == IpProtocol.UDP && AlgConfig.contains(config.sipPorts, fromOutside ? insidePort : remotePort);
    }

    @Override
    public boolean packet(HelperPacket p, int slot) {
        counters.increment(AlgEvent.PACKETS);
        int len = p.payloadLength();
        if (len < 12) {
            counters.increment(AlgEvent.MALFORMED);
            return true;
        }
        String msg = p.buffer().toString(p.payloadOffset(), len, StandardCharsets.ISO_8859_1);
        int headEnd = msg.indexOf("\r\n\r\n");
        if (headEnd < 0 || longestLine(msg) > config.maxLine) {
            counters.increment(AlgEvent.MALFORMED);
            return true;
        }
        counters.increment(AlgEvent.MESSAGES);
        String in = Ascii4.text(p.insideAddress());
        String out = Ascii4.text(p.outsideAddress());
        announced.clear();
        refused = false;
        String rewritten = p.isOutbound()
                ? outbound(p, slot, msg, headEnd, in, p.insidePort(), out, p.outsidePort())
                : inbound(msg, headEnd, out, p.outsidePort(), in, p.insidePort());
        boolean ok = rewritten != null
                && (rewritten.equals(msg) || rewrite(p, p.payloadOffset(), p.payloadOffset() + len, rewritten));
        if (!ok) {
            // the message goes out as it was (malformed, or its rewrite did not fit maxGrowth): nothing it
            // announced may stay open
            for (ExpectedFlow f : announced) {
                f.cancel();
            }
        }
        announced.clear();
        return true;
    }

    /** The longest line of a message, in characters, its line end not counted. */
    static int longestLine(String msg) {
        int longest = 0;
        int start = 0;
        while (true) {
            int nl = msg.indexOf('\n', start);
            int end = nl < 0 ? msg.length() : nl;
            longest = Math.max(longest, end - start);
            if (nl < 0) {
                return longest;
            }
            start = nl + 1;
        }
    }

    /** {@link #expect}, remembering a new flow in {@link #announced}; after a refusal, refuses at once. */
    private ExpectedFlow expectMedia(HelperPacket p, int slot, int port, int outsidePort) {
        if (refused) {
            counters.increment(AlgEvent.EXPECT_REFUSED);
            return null;
        }
        ExpectedFlow f = expect(p, slot, IpProtocol.UDP, p.insideAddress(), port, 0, 0, outsidePort);
        if (f == null) {
            refused = true;
        } else if (expectedNew) {
            announced.add(f);
        }
        return f;
    }

    private String inbound(String msg, int headEnd, String from, int fromPort, String to, int toPort) {
        String[] lines = msg.substring(0, headEnd).split("\r\n", -1);
        boolean request = !lines[0].startsWith("SIP/2.0");
        StringBuilder b = new StringBuilder(msg.length() + 32);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if ((i == 0 && request) || isHeader(l, "via", "v")) {
                l = endpoint(l, from, fromPort, to, toPort, i == 0 ? 0 : l.indexOf(':') + 1);
            }
            b.append(l).append("\r\n");
        }
        return b.append(msg, headEnd + 2, msg.length()).toString();
    }

    private String outbound(HelperPacket p, int slot, String msg, int headEnd, String from, int fromPort, String to,
                            int toPort) {
        String[] lines = msg.substring(0, headEnd).split("\r\n", -1);
        boolean request = !lines[0].startsWith("SIP/2.0");
        String body = msg.substring(headEnd + 4);
        String newBody = body;
        if (!body.isEmpty() && isSdp(lines)) {
            newBody = sdp(p, slot, body, from, to);
            if (newBody == null) {
                return null;
            }
        }
        StringBuilder b = new StringBuilder(msg.length() + 64);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if ((i == 0 && request) || isHeader(l, "via", "v") || isHeader(l, "contact", "m")) {
                l = endpoint(l, from, fromPort, to, toPort, i == 0 ? 0 : l.indexOf(':') + 1);
            } else if (isHeader(l, "content-length", "l") && newBody.length() != body.length()) {
                l = l.substring(0, l.indexOf(':') + 1) + " " + newBody.getBytes(StandardCharsets.ISO_8859_1).length;
            }
            b.append(l).append("\r\n");
        }
        return b.append("\r\n").append(newBody).toString();
    }

    private static boolean isSdp(String[] lines) {
        for (String l : lines) {
            if (isHeader(l, "content-type", "c")) {
                return l.toLowerCase(java.util.Locale.ROOT).contains("application/sdp");
            }
        }
        return false;
    }

    /** Whether a header line has the given long or compact name (RFC 3261 §7.3.3). */
    static boolean isHeader(String line, String name, String compact) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        String n = line.substring(0, colon).trim();
        return n.equalsIgnoreCase(name) || n.equalsIgnoreCase(compact);
    }

    /**
     * Replaces {@code from[:fromPort]} with {@code to:toPort} in {@code line} from {@code start} on, where the
     * address stands alone (not part of a longer number); an address without a port means 5060.
     */
    static String endpoint(String line, String from, int fromPort, String to, int toPort, int start) {
        StringBuilder b = null;
        int i = start;
        int copied = 0;
        while (true) {
            int at = line.indexOf(from, i);
            if (at < 0) {
                break;
            }
            int end = at + from.length();
            boolean alone = (at == 0 || !isAddrChar(line.charAt(at - 1)))
                    && (end == line.length() || !isAddrChar(line.charAt(end)) || line.charAt(end) == ':');
            if (!alone || (end < line.length() && line.charAt(end) == '.')) {
                i = end;
                continue;
            }
            int port = 5060;
            int portEnd = end;
            if (end < line.length() && line.charAt(end) == ':') {
                int k = end + 1;
                while (k < line.length() && k - end <= 5 && Character.isDigit(line.charAt(k))) {
                    k++;
                }
                if (k > end + 1) {
                    port = Integer.parseInt(line.substring(end + 1, k));
                    portEnd = k;
                }
            }
            if (port == fromPort) {
                if (b == null) {
                    b = new StringBuilder(line.length() + 16);
                }
                b.append(line, copied, at).append(to);
                if (portEnd != end || toPort != 5060) {
                    b.append(':').append(toPort);
                }
                copied = portEnd;
            }
            i = portEnd;
        }
        return b == null ? line : b.append(line, copied, line.length()).toString();
    }

    private static boolean isAddrChar(char c) {
        return Character.isDigit(c) || c == '.';
    }

    /**
     * Whether a {@code c=} line names exactly the inside host ({@code c=IN IP4 addr}, optionally {@code /ttl}): a
     * longer address that merely starts with it ({@code 10.0.0.23} for {@code 10.0.0.2}) is another host's.
     */
    static boolean isOurs(String cLine, String from) {
        String t = cLine.trim();
        return t.equals("c=IN IP4 " + from) || t.startsWith("c=IN IP4 " + from + "/");
    }

    /** The SDP body with c=/o= addresses rewritten and the m= ports expected; null when malformed. */
    private String sdp(HelperPacket p, int slot, String body, String from, String to) {
        String[] lines = body.split("\r?\n", -1);
        String sep = body.contains("\r\n") ? "\r\n" : "\n";
        boolean sessionOurs = false;
        boolean mediaOurs = false;
        boolean inMedia = false;
        // first pass: is the connection address (session level or per media) the inside host?
        for (String l : lines) {
            if (l.startsWith("m=")) {
                inMedia = true;
            } else if (l.startsWith("c=")) {
                boolean ours = isOurs(l, from);
                if (inMedia) {
                    mediaOurs |= ours;
                } else {
                    sessionOurs = ours;
                }
            }
        }
        if (!sessionOurs && !mediaOurs) {
            if (body.contains("IN IP4 ")) {
                counters.increment(AlgEvent.FOREIGN_ADDRESS);
            }
            return body;
        }
        StringBuilder b = new StringBuilder(body.length() + 32);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if ((l.startsWith("c=") && isOurs(l, from)) || (l.startsWith("o=") && l.endsWith(" IN IP4 " + from))) {
                l = l.replace("IN IP4 " + from, "IN IP4 " + to);
            } else if (l.startsWith("m=")) {
                String[] f = l.split(" ", 3);
                if (f.length < 3) {
                    counters.increment(AlgEvent.MALFORMED);
                    return null;
                }
                int slash = f[1].indexOf('/');
                String portText = slash < 0 ? f[1] : f[1].substring(0, slash);
                int port;
                try {
                    port = Integer.parseInt(portText);
                } catch (NumberFormatException e) {
                    counters.increment(AlgEvent.MALFORMED);
                    return null;
                }
                if (port < 0 || port > 65534) {
                    counters.increment(AlgEvent.MALFORMED);
                    return null;
                }
                if (port != 0 && port < 1024) {
                    // a privileged port is no RTP port (Linux's nf_conntrack_sip refuses it too): nothing is
                    // expected, the line passes as it is
                    counters.increment(AlgEvent.FOREIGN_ADDRESS);
                } else if (port != 0) { // port 0: a declined stream
                    ExpectedFlow rtp = expectMedia(p, slot, port, 0);
                    if (rtp != null) {
                        expectMedia(p, slot, port + 1, rtp.outsidePort() == port ? 0 : rtp.outsidePort() + 1);
                        if (rtp.outsidePort() != port) {
                            l = f[0] + " " + rtp.outsidePort() + (slash < 0 ? "" : f[1].substring(slash)) + " " + f[2];
                        }
                    }
                }
            }
            b.append(l);
            if (i < lines.length - 1) {
                b.append(sep);
            }
        }
        return b.toString();
    }
}
