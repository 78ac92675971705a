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
 * <p>A search sent to the group waits a random time below {@code min(MX, 5)} seconds before it is answered (UDA
 * 1.1 §1.3.3; MX is required there: a multicast search without a valid one, an integer of at least 1, is dropped);
 * a unicast search is answered at once. At most {@link PortControlConfig.Builder#maxSsdpPending} searches wait at a
 * time; more are dropped ({@link PortControlCounter#SSDP_PENDING_FULL}). Only the search targets and the sender are
 * kept while waiting; the answers are built when they go.
 *
 * <p>{@link #announce} sends the {@code NOTIFY} announcements (UDA 1.1 §1.2): {@code ssdp:alive} for the root
 * device ({@code upnp:rootdevice}, its {@code uuid:} and type), each embedded device ({@code uuid:}, type) and each
 * service (type), nine datagrams to 239.255.255.250:1900; {@code ssdp:byebye} the same set without location and
 * age. {@link #alive} sends the alive set {@link PortControlConfig.Builder#ssdpCopies} times, 200 ms apart.
 * {@link PortControl} sends alive sets a random 0–100 ms after a port's endpoints are up and then again after
 * each period, by default random per period in [max-age / 4, max-age / 2) (UDA 1.1 §1.2.2: a randomly
 * distributed interval less than half the max-age), or a fixed
 * {@link PortControlConfig.Builder#ssdpNotifyInterval} below half the max-age; byebye once when they close. Not done: {@code ssdp:update}, a BOOTID that changes per start.
 */
final class SsdpHandler extends ChannelInboundHandlerAdapter {
    private static final int MAX_ANSWERS = 8;
    /** UDA 1.1 §1.3.3: devices may treat an MX above 5 as 5. */
    static final int MAX_MX = 5;
    /** Between the copies of one alive set. */
    static final long COPY_GAP_MILLIS = 200;
    private final PortControl control;
    private final PortControlConfig config;
    /** Searches waiting for their MX delay (on the channel's loop). */
    private int pending;
    private volatile boolean stopped;
    private final String location;
    private final IgdDescriptions desc;

    SsdpHandler(PortControl control, String location) {
        this.control = control;
        this.location = location;
        this.desc = control.descriptions();
        this.config = control.config();
    }

    /** A well-formed M-SEARCH: what to answer, and its MX (-1 when absent or not an integer of at least 1). */
    record Search(List<String> targets, int mx) {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket p)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            Search search = search(p.content());
            boolean multicast = p.recipient() != null && p.recipient().getAddress() != null
                    && p.recipient().getAddress().isMulticastAddress();
            if (search == null || search.targets().isEmpty() || multicast && search.mx() < 1) {
                control.counters().add(PortControlCounter.SSDP_DROPPED);
                return;
            }
            if (!multicast) {
                answer(ctx, search.targets(), p.sender());
                return;
            }
            if (pending >= config.maxSsdpPending) {
                control.counters().add(PortControlCounter.SSDP_PENDING_FULL);
                return;
            }
            pending++;
            long delay = config.randomBelow(Math.min(search.mx(), MAX_MX) * 1000L);
            java.net.InetSocketAddress to = p.sender();
            ctx.executor().schedule(() -> {
                pending--;
                if (ctx.channel().isActive()) {
                    answer(ctx, search.targets(), to);
                }
            }, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
        } finally {
            p.release();
        }
    }

    /** Searches waiting for their MX delay now. */
    int pending() {
        return pending;
    }

    private void answer(ChannelHandlerContext ctx, List<String> targets, java.net.InetSocketAddress to) {
        for (String st : targets) {
            ByteBuf out = ctx.alloc().buffer(400);
            out.writeCharSequence(response(st), StandardCharsets.US_ASCII);
            ctx.write(new DatagramPacket(out, to));
        }
        ctx.flush();
        control.counters().add(PortControlCounter.SSDP_ANSWERED);
    }

    /** The search targets to answer, or null when the datagram is not a well-formed M-SEARCH for us. */
    List<String> parse(ByteBuf content) {
        Search s = search(content);
        return s == null ? null : s.targets();
    }

    /** The search, or null when the datagram is not a well-formed M-SEARCH. */
    Search search(ByteBuf content) {
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
        int mx = -1;
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
            } else if (name.equals("MX")) {
                mx = value.length() <= 9 && !value.isEmpty() && value.chars().allMatch(Character::isDigit)
                        ? Integer.parseInt(value) : -1;
            }
        }
        if (man == null || !man.replace("\"", "").equalsIgnoreCase("ssdp:discover") || st == null) {
            return null;
        }
        return new Search(targets(st), mx);
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

    /** The notification types and their USNs, in the order UDA 1.1 §1.2.2 lists them. */
    List<String[]> notifications() {
        List<String[]> out = new ArrayList<>();
        String root = "uuid:" + desc.root();
        out.add(new String[]{"upnp:rootdevice", root + "::upnp:rootdevice"});
        String[] types = {IgdDescriptions.IGD, IgdDescriptions.WAN_DEVICE, IgdDescriptions.WAN_CONN_DEVICE,
                IgdDescriptions.WAN_IP, IgdDescriptions.WAN_CIF};
        for (String t : types) {
            String uuid = "uuid:" + desc.deviceOf(t);
            String nt = t + IgdDescriptions.SEARCH_TYPES.get(t);
            if (t.contains(":device:")) {
                out.add(new String[]{uuid, uuid});
            }
            out.add(new String[]{nt, uuid + "::" + nt});
        }
        return out;
    }

    /** One NOTIFY message: {@code nts} is {@code ssdp:alive} or {@code ssdp:byebye}. */
    String notify(String nt, String usn, String nts) {
        boolean alive = nts.equals("ssdp:alive");
        return "NOTIFY * HTTP/1.1\r\n"
                + "HOST: 239.255.255.250:1900\r\n"
                + (alive ? "CACHE-CONTROL: max-age=" + control.config().ssdpMaxAge + "\r\n" : "")
                + (alive ? "LOCATION: " + location + "\r\n" : "")
                + "NT: " + nt + "\r\n"
                + "NTS: " + nts + "\r\n"
                + (alive ? "SERVER: Linux UPnP/1.1 netty-pktkit/0.1\r\n" : "")
                + "USN: " + usn + "\r\n"
                + "BOOTID.UPNP.ORG: 1\r\n"
                + "CONFIGID.UPNP.ORG: 1\r\n"
                + "\r\n";
    }

    /**
     * Sends the {@code ssdp:alive} set now and {@code ssdpCopies - 1} more times {@value #COPY_GAP_MILLIS} ms apart,
     * on {@code ch}'s loop, unless stopped meanwhile.
     */
    void alive(io.netty.channel.Channel ch) {
        aliveCopy(ch, 1);
    }

    private void aliveCopy(io.netty.channel.Channel ch, int n) {
        if (stopped || !ch.isActive()) {
            return;
        }
        announce(ch, "ssdp:alive");
        if (n < config.ssdpCopies) {
            ch.eventLoop().schedule(() -> aliveCopy(ch, n + 1), COPY_GAP_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    /** No more alive sets (those scheduled do not go); byebye still can. */
    void stop() {
        stopped = true;
    }

    /** Sends the announcements on {@code ch} (the SSDP channel, on its loop); counted per datagram. */
    void announce(io.netty.channel.Channel ch, String nts) {
        java.net.InetSocketAddress group = new java.net.InetSocketAddress("239.255.255.250",
                PortControlConfig.SSDP_PORT);
        for (String[] n : notifications()) {
            ByteBuf out = ch.alloc().buffer(400);
            out.writeCharSequence(notify(n[0], n[1], nts), StandardCharsets.US_ASCII);
            ch.write(new DatagramPacket(out, group));
            control.counters().add(PortControlCounter.SSDP_NOTIFY_SENT);
        }
        ch.flush();
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
