package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ServerSocketChannelConfig;

/**
 * The configuration of a {@link VirtualServerSocketChannel}: {@code SO_BACKLOG} (default 128) bounds both the
 * half-open handshakes of the listener and the accepted children waiting to be read; {@code SO_RCVBUF} is the
 * receive buffer of accepted connections (it must be known before the SYN-ACK, as on Linux);
 * {@link VirtualChannelOption#TRANSPARENT} and {@link VirtualChannelOption#DEFERRED_ACCEPT} make a gateway's
 * listener. Set them before bind. {@code SO_REUSEADDR} is kept and reported, with no effect. The option plumbing
 * is shared with the other virtual channels ({@code VirtualChannelConfig}).
 */
public final class VirtualServerSocketChannelConfig extends VirtualChannelConfig implements ServerSocketChannelConfig {
    /** Default backlog: 128. */
    public static final int DEFAULT_BACKLOG = 128;

    private static final OptionTable<VirtualServerSocketChannelConfig> OPTIONS =
            new OptionTable<VirtualServerSocketChannelConfig>()
                    .add(ChannelOption.SO_RCVBUF, VirtualServerSocketChannelConfig::getReceiveBufferSize,
                            VirtualServerSocketChannelConfig::setReceiveBufferSize)
                    .add(ChannelOption.SO_REUSEADDR, VirtualServerSocketChannelConfig::isReuseAddress,
                            VirtualServerSocketChannelConfig::setReuseAddress)
                    .add(ChannelOption.SO_BACKLOG, VirtualServerSocketChannelConfig::getBacklog,
                            VirtualServerSocketChannelConfig::setBacklog)
                    .add(VirtualChannelOption.TRANSPARENT, VirtualServerSocketChannelConfig::isTransparent,
                            VirtualServerSocketChannelConfig::setTransparent)
                    .add(VirtualChannelOption.DEFERRED_ACCEPT, VirtualServerSocketChannelConfig::isDeferredAccept,
                            VirtualServerSocketChannelConfig::setDeferredAccept);

    private volatile int backlog = DEFAULT_BACKLOG;
    private volatile boolean deferredAccept;

    VirtualServerSocketChannelConfig(VirtualServerSocketChannel channel) {
        super(channel, OPTIONS, 256 * 1024, 1024, 0);
    }

    /** Whether the listener accepts TCP to any address ({@link VirtualChannelOption#TRANSPARENT}). */
    public boolean isTransparent() {
        return transparent();
    }

    /** {@link VirtualChannelOption#TRANSPARENT}; before bind. */
    public VirtualServerSocketChannelConfig setTransparent(boolean transparent) {
        transparent(transparent);
        return this;
    }

    public boolean isDeferredAccept() {
        return deferredAccept;
    }

    /** {@link VirtualChannelOption#DEFERRED_ACCEPT}; before bind. */
    public VirtualServerSocketChannelConfig setDeferredAccept(boolean deferredAccept) {
        this.deferredAccept = deferredAccept;
        return this;
    }

    @Override
    public int getBacklog() {
        return backlog;
    }

    @Override
    public VirtualServerSocketChannelConfig setBacklog(int backlog) {
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog " + backlog + " (at least 1)");
        }
        this.backlog = backlog;
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setReuseAddress(boolean reuseAddress) {
        reuseAddress(reuseAddress);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        receiveBufferSize(receiveBufferSize);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    @Deprecated
    public VirtualServerSocketChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setWriteBufferHighWaterMark(int writeBufferHighWaterMark) {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setWriteBufferLowWaterMark(int writeBufferLowWaterMark) {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public VirtualServerSocketChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }
}
