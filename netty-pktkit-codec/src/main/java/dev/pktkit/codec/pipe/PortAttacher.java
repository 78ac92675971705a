package dev.pktkit.codec.pipe;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.util.internal.ObjectUtil;

/**
 * A child initializer that attaches every channel it initialises to a {@link PortConnector}: use it as a
 * server's {@code childHandler} so every accepted peer (a QEMU guest, a TAP queue) becomes a port, and leaves
 * when it disconnects.
 */
@ChannelHandler.Sharable
public final class PortAttacher extends ChannelInitializer<Channel> {
    private final PortConnector connector;

    public PortAttacher(PortConnector connector) {
        this.connector = ObjectUtil.checkNotNull(connector, "connector");
    }

    @Override
    protected void initChannel(Channel ch) {
        connector.attach(ch);
    }
}
