package dev.pktkit.switching;

import dev.pktkit.switching.lpm.Prefix;

import java.util.ArrayList;
import java.util.List;

/**
 * An {@link L3Hub} port's own prefixes: packets whose destination falls inside one of them are routed to the
 * port (longest match across all ports and added routes). Immutable.
 *
 * <pre>{@code
 * hub.attach(ch, L3PortOptions.prefixes("10.0.1.0/24", "2001:db8:1::/64"));
 * }</pre>
 */
public final class L3PortOptions {
    private static final L3PortOptions NONE = new L3PortOptions(List.of(), 0);

    private final List<Prefix> prefixes;
    private final int mtu;

    private L3PortOptions(List<Prefix> prefixes, int mtu) {
        this.prefixes = List.copyOf(prefixes);
        this.mtu = mtu;
    }

    /** A port with no prefix of its own (reachable only through {@link L3Hub#addRoute}). */
    public static L3PortOptions none() {
        return NONE;
    }

    /** A port owning the given prefixes, each written {@code address/length}. */
    public static L3PortOptions prefixes(String... cidrs) {
        List<Prefix> list = new ArrayList<>();
        for (String c : cidrs) {
            list.add(Prefix.parse(c));
        }
        return new L3PortOptions(list, 0);
    }

    /** A port owning the given prefixes. */
    public static L3PortOptions prefixes(Prefix... prefixes) {
        return new L3PortOptions(List.of(prefixes), 0);
    }

    public List<Prefix> prefixes() {
        return prefixes;
    }

    /**
     * These options with an egress MTU: packets routed to the port whose IP length exceeds {@code mtu} are not
     * sent. IPv6 packets and IPv4 packets with DF set are answered, in router mode, with ICMPv6 Packet Too Big /
     * ICMP Destination Unreachable "fragmentation needed" carrying {@code mtu} (RFC 4443 §3.2, RFC 1191 §4),
     * towards their source; IPv4 packets without DF are dropped too, since the hub does not fragment (RFC 1812
     * §5.2.6 would). All three are counted as {@link DropReason#PACKET_TOO_BIG} on the ingress port. A large
     * segment with offload state is judged by the packets it will be cut into (header + segment size).
     *
     * @param mtu 68..65535 for a limit, 0 for none (the default)
     */
    public L3PortOptions mtu(int mtu) {
        if (mtu != 0 && (mtu < 68 || mtu > 65535)) {
            throw new IllegalArgumentException("mtu: " + mtu + " (expected 0 or 68..65535)");
        }
        return new L3PortOptions(prefixes, mtu);
    }

    /** The egress MTU, 0 when unlimited. */
    public int mtu() {
        return mtu;
    }

    @Override
    public String toString() {
        return mtu == 0 ? prefixes.toString() : prefixes + " mtu " + mtu;
    }
}
