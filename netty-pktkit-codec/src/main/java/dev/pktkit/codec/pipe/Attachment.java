package dev.pktkit.codec.pipe;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/** A port's membership in a {@link PortConnector}; detach it to remove the port without closing its channel. */
public interface Attachment {
    /** The attached channel. */
    Channel port();

    /** Whether the port is still attached. */
    boolean isAttached();

    /**
     * Removes the port from its connector; idempotent. The channel stays open. The future completes on the
     * port's loop once the connector's handler has left the pipeline.
     */
    Future<Void> detach();
}
