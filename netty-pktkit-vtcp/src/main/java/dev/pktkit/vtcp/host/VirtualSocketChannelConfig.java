package dev.pktkit.vtcp.host;

import dev.pktkit.vtcp.engine.TcpSocketOptions;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannelConfig;

import java.util.Map;

/**
 * The configuration of a {@link VirtualSocketChannel}, with the {@code ChannelOption}s of Netty's socket
 * channels mapped onto the TCP engine's per-connection options:
 * <ul>
 * <li>{@code SO_RCVBUF}: the initial receive buffer (the window; auto-tuning grows it up to 4 MiB). Set it before
 * connect: after the handshake the window scale is fixed.</li>
 * <li>{@code SO_SNDBUF}: the send buffer. Writes move from Netty's outbound buffer into it while it is below its
 * size; a write's promise completes when its bytes enter it; when it is full, writes wait in the outbound buffer,
 * whose {@code WRITE_BUFFER_WATER_MARK} turns the channel unwritable, as with a kernel socket.</li>
 * <li>{@code TCP_NODELAY} (default true, as in Netty), {@code SO_KEEPALIVE}, {@code SO_LINGER} (0: close sends
 * RST): changed on a live connection too.</li>
 * <li>{@code ALLOW_HALF_CLOSURE}: a FIN from the peer fires {@code ChannelInputShutdownEvent} instead of closing.</li>
 * <li>{@code CONNECT_TIMEOUT_MILLIS} (default 30 s): the connect fails with {@code ConnectTimeoutException}.</li>
 * <li>{@code IP_TOS}, {@code SO_REUSEADDR}: kept and reported, no effect.</li>
 * </ul>
 */
public final class VirtualSocketChannelConfig extends DefaultChannelConfig implements SocketChannelConfig {
    private final VirtualSocketChannel ch;
    private volatile int receiveBufferSize;
    private volatile int sendBufferSize;
    private volatile boolean tcpNoDelay = true;
    private volatile boolean keepAlive;
    private volatile int soLinger = -1;
    private volatile int trafficClass;
    private volatile boolean reuseAddress;
    private volatile boolean allowHalfClosure;

    VirtualSocketChannelConfig(VirtualSocketChannel channel, TcpSocketOptions from) {
        super(channel);
        this.ch = channel;
        this.receiveBufferSize = from.receiveBuffer();
        this.sendBufferSize = from.sendBuffer();
        this.tcpNoDelay = from.noDelay();
        this.keepAlive = from.keepAlive();
        this.soLinger = from.lingerSeconds();
    }

    /** The engine options for a connection opened with this configuration. */
    TcpSocketOptions toOptions() {
        TcpSocketOptions o = new TcpSocketOptions()
                .receiveBuffer(Math.max(1024, receiveBufferSize))
                .sendBuffer(Math.max(1024, sendBufferSize))
                .noDelay(tcpNoDelay)
                .keepAlive(keepAlive)
                .lingerSeconds(soLinger);
        return o;
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), ChannelOption.SO_RCVBUF, ChannelOption.SO_SNDBUF,
                ChannelOption.TCP_NODELAY, ChannelOption.SO_KEEPALIVE, ChannelOption.SO_REUSEADDR,
                ChannelOption.SO_LINGER, ChannelOption.IP_TOS, ChannelOption.ALLOW_HALF_CLOSURE);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == ChannelOption.SO_RCVBUF) {
            return (T) Integer.valueOf(getReceiveBufferSize());
        }
        if (option == ChannelOption.SO_SNDBUF) {
            return (T) Integer.valueOf(getSendBufferSize());
        }
        if (option == ChannelOption.TCP_NODELAY) {
            return (T) Boolean.valueOf(isTcpNoDelay());
        }
        if (option == ChannelOption.SO_KEEPALIVE) {
            return (T) Boolean.valueOf(isKeepAlive());
        }
        if (option == ChannelOption.SO_REUSEADDR) {
            return (T) Boolean.valueOf(isReuseAddress());
        }
        if (option == ChannelOption.SO_LINGER) {
            return (T) Integer.valueOf(getSoLinger());
        }
        if (option == ChannelOption.IP_TOS) {
            return (T) Integer.valueOf(getTrafficClass());
        }
        if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
            return (T) Boolean.valueOf(isAllowHalfClosure());
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == ChannelOption.SO_RCVBUF) {
            setReceiveBufferSize((Integer) value);
        } else if (option == ChannelOption.SO_SNDBUF) {
            setSendBufferSize((Integer) value);
        } else if (option == ChannelOption.TCP_NODELAY) {
            setTcpNoDelay((Boolean) value);
        } else if (option == ChannelOption.SO_KEEPALIVE) {
            setKeepAlive((Boolean) value);
        } else if (option == ChannelOption.SO_REUSEADDR) {
            setReuseAddress((Boolean) value);
        } else if (option == ChannelOption.SO_LINGER) {
            setSoLinger((Integer) value);
        } else if (option == ChannelOption.IP_TOS) {
            setTrafficClass((Integer) value);
        } else if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
            setAllowHalfClosure((Boolean) value);
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    @Override
    public boolean isTcpNoDelay() {
        return tcpNoDelay;
    }

    @Override
    public VirtualSocketChannelConfig setTcpNoDelay(boolean tcpNoDelay) {
        this.tcpNoDelay = tcpNoDelay;
        ch.onLive(c -> c.setNoDelay(tcpNoDelay));
        return this;
    }

    @Override
    public int getSoLinger() {
        return soLinger;
    }

    @Override
    public VirtualSocketChannelConfig setSoLinger(int soLinger) {
        this.soLinger = soLinger < 0 ? -1 : soLinger;
        int v = this.soLinger;
        ch.onLive(c -> c.setLinger(v));
        return this;
    }

    @Override
    public int getSendBufferSize() {
        return sendBufferSize;
    }

    @Override
    public VirtualSocketChannelConfig setSendBufferSize(int sendBufferSize) {
        if (sendBufferSize <= 0) {
            throw new IllegalArgumentException("sendBufferSize " + sendBufferSize);
        }
        this.sendBufferSize = sendBufferSize;
        return this;
    }

    @Override
    public int getReceiveBufferSize() {
        return receiveBufferSize;
    }

    @Override
    public VirtualSocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        if (receiveBufferSize <= 0) {
            throw new IllegalArgumentException("receiveBufferSize " + receiveBufferSize);
        }
        this.receiveBufferSize = receiveBufferSize;
        return this;
    }

    @Override
    public boolean isKeepAlive() {
        return keepAlive;
    }

    @Override
    public VirtualSocketChannelConfig setKeepAlive(boolean keepAlive) {
        this.keepAlive = keepAlive;
        ch.onLive(c -> c.setKeepAlive(keepAlive));
        return this;
    }

    @Override
    public int getTrafficClass() {
        return trafficClass;
    }

    @Override
    public VirtualSocketChannelConfig setTrafficClass(int trafficClass) {
        this.trafficClass = trafficClass;
        return this;
    }

    @Override
    public boolean isReuseAddress() {
        return reuseAddress;
    }

    @Override
    public VirtualSocketChannelConfig setReuseAddress(boolean reuseAddress) {
        this.reuseAddress = reuseAddress;
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        return this;
    }

    @Override
    public boolean isAllowHalfClosure() {
        return allowHalfClosure;
    }

    @Override
    public VirtualSocketChannelConfig setAllowHalfClosure(boolean allowHalfClosure) {
        this.allowHalfClosure = allowHalfClosure;
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    @Deprecated
    public VirtualSocketChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setWriteBufferHighWaterMark(int writeBufferHighWaterMark) {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setWriteBufferLowWaterMark(int writeBufferLowWaterMark) {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }
}
