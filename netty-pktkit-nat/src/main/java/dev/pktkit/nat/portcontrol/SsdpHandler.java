package dev.pktkit.nat.portcontrol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SSDP discovery (UPnP Device Architecture 1.1 §1.3): answers {@code M-SEARCH} requests that reach the NAT's
 * inside address or 239.255.255.250:1900 with unicast {@code 200 OK} responses carrying the description's
 * {@code LOCATION}. A search for a type answers with the version asked for when it is at most ours (devices are
 * backward compatible), {@code ssdp:all} with every device and service.
 *
 * <p>Not done: {@code NOTIFY} announcements ({@code ssdp:alive} / {@code byebye}); the {@code MX} delay (answers
 * go at once).
 */
final class SsdpHandler extends ChannelInboundHandlerAdapter {
    private static final int MAX_ANSWERS = 8;
    private final PortControl control;
    private final String location;
    private final IgdDescriptions desc;

    SsdpHandler(PortControl control, String location) {
        this.control = control;
        this.location = location;
        this.desc = control.descriptions();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket p)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            List<String> targets = parse(p.content());
            if (targets == null || targets.isEmpty()) {
                control.counters().add(PortControlCounter.SSDP_DROPPED);
                return;
            }
            for (String st : targets) {
                ByteBuf out = ctx.alloc().buffer(400);
                out.writeCharSequence(response(st), StandardCharsets.US_ASCII);
                ctx.write(new DatagramPacket(out, p.sender()));
            }
            ctx.flush();
            control.counters().add(PortControlCounter.SSDP_ANSWERED);
        } finally {
            p.release();
        }
    }

    /** The search targets to answer, or null when the datagram is not a well-formed M-SEARCH for us. */
    List<String> parse(ByteBuf content) {
        if (content.readableBytes() > control.config().maxSsdpBytes || content.readableBytes() < 20) {
            return null;
        }
        if (ByteBufUtil.isText(content, StandardCharsets.US_ASCII) == false) {
            return null;
        }
        String text = content.toString(StandardCharsets.US_ASCII);
        String[] lines = text.split("\r\n|\n", 64);
        if (!lines[0].trim().equalsIgnoreCase("M-SEARCH * HTTP/1.1")) {
            return null;
        }
        String man = null;
        String st = null;
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i];
            int c = l.indexOf(':');
            if (c <= 0) {
                continue;
            }
            String name = l.substring(0, c).trim().toUpperCase(Locale.ROOT);
            String value = l.substring(c + 1).trim();
            if (name.equals("MAN")) {
                man = value;
            } else if (name.equals("ST")) {
                st = value;
            }
        }
        if (man == null || !man.replace("\"", "").equalsIgnoreCase("ssdp:discover") || st == null) {
            return null;
        }
        return targets(st);
    }

    List<String> targets(String st) {
        List<String> out = new ArrayList<>();
        if (st.equals("ssdp:all")) {
            out.add("upnp:rootdevice");
            for (Map.Entry<String, Integer> e : IgdDescriptions.SEARCH_TYPES.entrySet()) {
                out.add(e.getKey() + e.getValue());
            }
        } else if (st.equals("upnp:rootdevice") || st.equals("uuid:" + desc.root())) {
            out.add(st);
        } else {
            int colon = st.lastIndexOf(':');
            if (colon > 0) {
                Integer ours = IgdDescriptions.SEARCH_TYPES.get(st.substring(0, colon + 1));
                try {
                    int v = Integer.parseInt(st.substring(colon + 1));
                    if (ours != null && v >= 1 && v <= ours) {
                        out.add(st);
                    }
                } catch (NumberFormatException ignored) {
                    // not a versioned type
                }
            }
        }
        return out.size() > MAX_ANSWERS ? out.subList(0, MAX_ANSWERS) : out;
    }

    private String response(String st) {
        String usn;
        if (st.startsWith("uuid:")) {
            usn = st;
        } else {
            usn = "uuid:" + desc.deviceOf(st) + "::" + st;
        }
        return "HTTP/1.1 200 OK\r\n"
                + "CACHE-CONTROL: max-age=" + control.config().ssdpMaxAge + "\r\n"
                + "EXT:\r\n"
                + "LOCATION: " + location + "\r\n"
                + "SERVER: Linux UPnP/1.1 netty-pktkit/0.1\r\n"
                + "ST: " + st + "\r\n"
                + "USN: " + usn + "\r\n"
                + "BOOTID.UPNP.ORG: 1\r\n"
                + "CONFIGID.UPNP.ORG: 1\r\n"
                + "\r\n";
    }
}
