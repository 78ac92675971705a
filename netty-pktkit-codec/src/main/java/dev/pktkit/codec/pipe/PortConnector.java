package dev.pktkit.codec.pipe;

import io.netty.channel.Channel;

/**
 * Anything that accepts ports: a hub, a NAT, a tunnel adapter. A port is a {@link Channel} — a transport
 * (QEMU socket, TAP, UDP) or an end of a {@link PacketPipe}.
 *
 * <p>{@link #attach} installs the connector's handler on the channel and starts forwarding; the returned
 * {@link Attachment} detaches it again. Closing the channel detaches it too, so a server's child initializer can
 * attach each accepted child and forget about it ({@link PortAttacher}).
 */
public interface PortConnector {
    /**
     * Attaches {@code port}. May be called from any thread; forwarding starts once the attachment has run on the
     * port's event loop.
     *
     * @throws IllegalStateException if the connector is closed or full
     */
    Attachment attach(Channel port);
}
