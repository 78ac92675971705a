package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.RemoteFilter;

import java.util.List;

/**
 * One mapping granted through UPnP, NAT-PMP or PCP: a port forward in the NAT from {@code externalPort} on the
 * NAT's first outside address to {@code internalAddress:internalPort} in one namespace, until it expires; or, when
 * the host already had a dynamic mapping for that endpoint, that mapping opened for inbound ({@link #opened()}). Read
 * on the NAT's loop (the fields change when a lease is renewed); {@link PortControl#leases()} gives copies.
 */
public final class Lease {
    /** Which protocol asked for the lease. */
    public enum Source { UPNP, NATPMP, PCP }

    final int namespace;
    final int protocol;
    final int externalPort;
    final int internalAddress;
    final int internalPort;
    final Source source;
    final byte[] nonce;
    String description;
    long expiresAtNanos;
    /** The NAT's own dynamic mapping of the inside endpoint, opened ({@code NatEngine.openMapping}), not a forward. */
    boolean opened;
    /** PCP FILTER: the remotes that may open sessions to it (empty: any), as set in the NAT. */
    List<RemoteFilter> filters = List.of();

    Lease(int namespace, int protocol, int externalPort, int internalAddress, int internalPort, Source source,
          byte[] nonce, String description, long expiresAtNanos) {
        this.namespace = namespace;
        this.protocol = protocol;
        this.externalPort = externalPort;
        this.internalAddress = internalAddress;
        this.internalPort = internalPort;
        this.source = source;
        this.nonce = nonce;
        this.description = description;
        this.expiresAtNanos = expiresAtNanos;
    }

    Lease copy() {
        Lease l = new Lease(namespace, protocol, externalPort, internalAddress, internalPort, source, nonce,
                description, expiresAtNanos);
        l.opened = opened;
        l.filters = filters;
        return l;
    }

    /**
     * Whether this lease opened the NAT's existing dynamic mapping of the inside endpoint (the host had sent from
     * that port before: RFC 6886 §3.3, RFC 6887 §11.3) rather than adding a port forward.
     */
    public boolean opened() {
        return opened;
    }

    /**
     * The remote peers allowed to open sessions through this lease (PCP's FILTER option, RFC 6887 §13.3); empty
     * when any remote may.
     */
    public List<RemoteFilter> filters() {
        return filters;
    }

    public int namespace() {
        return namespace;
    }

    public int protocol() {
        return protocol;
    }

    public int externalPort() {
        return externalPort;
    }

    public int internalAddress() {
        return internalAddress;
    }

    public int internalPort() {
        return internalPort;
    }

    public Source source() {
        return source;
    }

    public String description() {
        return description;
    }

    /** Seconds left at {@code nowNanos}, at least 0. */
    public long secondsLeft(long nowNanos) {
        return Math.max(0, (expiresAtNanos - nowNanos + 999_999_999L) / 1_000_000_000L);
    }

    @Override
    public String toString() {
        return source + " " + IpProtocol.name(protocol) + " :" + externalPort + " -> ns" + namespace + " "
                + Ip4.format(internalAddress) + ":" + internalPort + (description == null ? "" : " '" + description + "'")
                + (filters.isEmpty() ? "" : " from " + filters);
    }
}
