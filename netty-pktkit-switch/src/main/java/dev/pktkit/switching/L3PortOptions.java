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
    private static final L3PortOptions NONE = new L3PortOptions(List.of());

    private final List<Prefix> prefixes;

    private L3PortOptions(List<Prefix> prefixes) {
        this.prefixes = List.copyOf(prefixes);
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
        return new L3PortOptions(list);
    }

    /** A port owning the given prefixes. */
    public static L3PortOptions prefixes(Prefix... prefixes) {
        return new L3PortOptions(List.of(prefixes));
    }

    public List<Prefix> prefixes() {
        return prefixes;
    }

    @Override
    public String toString() {
        return prefixes.toString();
    }
}
