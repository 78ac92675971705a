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

    @SuppressWarnings("deprecation")
    private VirtualChannelOption() {
        super(null);
    }
}
