package dev.pktkit.switching.vxlan;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A remote VTEP of a {@link VxlanTunnel}: one configured as a peer (a head-end replication target, never aged) or
 * one learned from a datagram sent from inside an accepted prefix (aged like the MAC entries pointing at it).
 * Frames to it go to {@link #destination()}: its address and the tunnel's remote port. Identity is by address
 * only, as in the kernel's VXLAN: the UDP source port of a VTEP's datagrams varies by flow and is not kept.
 */
public final class Vtep {
    private final InetAddress address;
    private final InetSocketAddress destination;
    private final boolean configured;
    /** Coarse time of the last datagram from it; written on the tunnel's loop only. */
    long lastSeen;
    /** Whether it is still in the tunnel's table (false once aged out). */
    boolean live = true;

    Vtep(InetAddress address, int remotePort, boolean configured, long now) {
        this.address = address;
        this.destination = new InetSocketAddress(address, remotePort);
        this.configured = configured;
        this.lastSeen = now;
    }

    /** The VTEP's underlay address. */
    public InetAddress address() {
        return address;
    }

    /** Where frames to it are sent: its address and the tunnel's remote UDP port. */
    public InetSocketAddress destination() {
        return destination;
    }

    /** True for a configured peer, false for one learned from an accepted prefix. */
    public boolean isConfigured() {
        return configured;
    }

    @Override
    public String toString() {
        return io.netty.util.NetUtil.toAddressString(address) + (configured ? "" : " (learned)");
    }
}
