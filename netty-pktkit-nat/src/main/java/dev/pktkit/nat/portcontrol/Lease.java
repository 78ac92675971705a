package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;

/**
 * One mapping granted through UPnP, NAT-PMP or PCP: a port forward in the NAT from {@code externalPort} on the
 * NAT's first outside address to {@code internalAddress:internalPort} in one namespace, until it expires. Read
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
        return new Lease(namespace, protocol, externalPort, internalAddress, internalPort, source, nonce,
                description, expiresAtNanos);
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
                + Ip4.format(internalAddress) + ":" + internalPort + (description == null ? "" : " '" + description + "'");
    }
}
