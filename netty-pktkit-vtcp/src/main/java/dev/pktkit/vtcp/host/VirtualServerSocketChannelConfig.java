package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ServerSocketChannelConfig;

import java.util.Map;

/**
 * The configuration of a {@link VirtualServerSocketChannel}: {@code SO_BACKLOG} (default 128) bounds both the
 * half-open handshakes of the listener and the accepted children waiting to be read; {@code SO_RCVBUF} is the
 * receive buffer of accepted connections (it must be known before the SYN-ACK, as on Linux);
 * {@link VirtualChannelOption#TRANSPARENT} and {@link VirtualChannelOption#DEFERRED_ACCEPT} make a gateway's
 * listener. Set them before bind. {@code SO_REUSEADDR} is kept and reported, with no effect.
 */
public final class VirtualServerSocketChannelConfig extends DefaultChannelConfig implements ServerSocketChannelConfig {
    /** Default backlog: 128. */
    public static final int DEFAULT_BACKLOG = 128;

    private volatile int backlog = DEFAULT_BACKLOG;
    private volatile int receiveBufferSize = 256 * 1024;
    private volatile boolean reuseAddress;
    private volatile boolean transparent;
    private volatile boolean deferredAccept;

    VirtualServerSocketChannelConfig(VirtualServerSocketChannel channel) {
        super(channel);
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), ChannelOption.SO_RCVBUF, ChannelOption.SO_REUSEADDR,
                ChannelOption.SO_BACKLOG, VirtualChannelOption.TRANSPARENT, VirtualChannelOption.DEFERRED_ACCEPT);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == ChannelOption.SO_RCVBUF) {
            return (T) Integer.valueOf(getReceiveBufferSize());
        }
        if (option == ChannelOption.SO_REUSEADDR) {
            return (T) Boolean.valueOf(isReuseAddress());
        }
        if (option == ChannelOption.SO_BACKLOG) {
            return (T) Integer.valueOf(getBacklog());
        }
        if (option == VirtualChannelOption.TRANSPARENT) {
            return (T) Boolean.valueOf(transparent);
        }
        if (option == VirtualChannelOption.DEFERRED_ACCEPT) {
            return (T) Boolean.valueOf(deferredAccept);
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == ChannelOption.SO_RCVBUF) {
            setReceiveBufferSize((Integer) value);
        } else if (option == ChannelOption.SO_REUSEADDR) {
            setReuseAddress((Boolean) value);
        } else if (option == ChannelOption.SO_BACKLOG) {
            setBacklog((Integer) value);
        } else if (option == VirtualChannelOption.TRANSPARENT) {
            setTransparent((Boolean) value);
        } else if (option == VirtualChannelOption.DEFERRED_ACCEPT) {
            setDeferredAccept((Boolean) value);
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    public boolean isTransparent() {
        return transparent;
    }

    /** {@link VirtualChannelOption#TRANSPARENT}; before bind. */
    public VirtualServerSocketChannelConfig setTransparent(boolean transparent) {
        this.transparent = transparent;
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
    public boolean isReuseAddress() {
        return reuseAddress;
    }

    @Override
    public VirtualServerSocketChannelConfig setReuseAddress(boolean reuseAddress) {
        this.reuseAddress = reuseAddress;
        return this;
    }

    @Override
    public int getReceiveBufferSize() {
        return receiveBufferSize;
    }

    @Override
    public VirtualServerSocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        if (receiveBufferSize < 1024) {
            throw new IllegalArgumentException("receiveBufferSize " + receiveBufferSize + " (at least 1024)");
        }
        this.receiveBufferSize = receiveBufferSize;
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
