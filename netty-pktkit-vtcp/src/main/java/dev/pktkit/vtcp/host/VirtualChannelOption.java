package dev.pktkit.vtcp.host;

import io.netty.channel.ChannelOption;

/** {@link ChannelOption}s of the virtual channels beyond Netty's own. */
public final class VirtualChannelOption<T> extends ChannelOption<T> {
    /**
     * Any-address listening, as Linux's {@code IP_TRANSPARENT}: a channel with this option set before
     * {@code bind} receives traffic addressed to any address, not only the host's. Bound to port 0 it also
     * takes any port (one such catch-all per host and protocol); bound to a port it takes that port on every
     * address. Channels bound the ordinary way win over it. The original destination is the
     * {@code DatagramPacket}'s {@code recipient()} (the {@code localAddress()} of an accepted TCP child); a
     * datagram written with a {@code sender()} is sent from that address and port, so a gateway replies from
     * the address the client talked to.
     */
    public static final ChannelOption<Boolean> TRANSPARENT = valueOf(VirtualChannelOption.class, "TRANSPARENT");

    /**
     * On a {@link VirtualDatagramChannel}: inbound datagrams arrive as pooled {@link UdpDatagram}s (addresses as
     * primitives, no objects per datagram) instead of {@code DatagramPacket}s. Default false.
     */
    public static final ChannelOption<Boolean> UDP_DATAGRAMS = valueOf(VirtualChannelOption.class, "UDP_DATAGRAMS");

    /**
     * On a {@link VirtualServerSocketChannel}: keep each SYN unanswered and hand the application the child
     * channel at once, inactive, so it decides first ({@link VirtualSocketChannel#acceptConnection()} sends the
     * SYN-ACK, {@link VirtualSocketChannel#refuseConnection(Refusal)} refuses with RST, ICMP unreachable or
     * silence). A gateway connects to the real destination before it accepts. The child becomes active (and
     * {@code channelActive} fires) when the handshake completes.
     */
    public static final ChannelOption<Boolean> DEFERRED_ACCEPT =
            valueOf(VirtualChannelOption.class, "DEFERRED_ACCEPT");

    @SuppressWarnings("deprecation")
    private VirtualChannelOption() {
        super(null);
    }
}
