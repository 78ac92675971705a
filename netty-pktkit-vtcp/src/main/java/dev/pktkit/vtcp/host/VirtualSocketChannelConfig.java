package dev.pktkit.vtcp.host;

import dev.pktkit.vtcp.engine.TcpSocketOptions;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannelConfig;

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
 * <li>{@code IP_TOS} (0..255), {@code SO_REUSEADDR}: kept and reported, no effect.</li>
 * </ul>
 * The option plumbing is shared with the other virtual channels ({@code VirtualChannelConfig}).
 */
public final class VirtualSocketChannelConfig extends VirtualChannelConfig implements SocketChannelConfig {
    private static final OptionTable<VirtualSocketChannelConfig> OPTIONS = new OptionTable<VirtualSocketChannelConfig>()
            .add(ChannelOption.SO_RCVBUF, VirtualSocketChannelConfig::getReceiveBufferSize,
                    VirtualSocketChannelConfig::setReceiveBufferSize)
            .add(ChannelOption.SO_SNDBUF, VirtualSocketChannelConfig::getSendBufferSize,
                    VirtualSocketChannelConfig::setSendBufferSize)
            .add(ChannelOption.TCP_NODELAY, VirtualSocketChannelConfig::isTcpNoDelay,
                    VirtualSocketChannelConfig::setTcpNoDelay)
            .add(ChannelOption.SO_KEEPALIVE, VirtualSocketChannelConfig::isKeepAlive,
                    VirtualSocketChannelConfig::setKeepAlive)
            .add(ChannelOption.SO_REUSEADDR, VirtualSocketChannelConfig::isReuseAddress,
                    VirtualSocketChannelConfig::setReuseAddress)
            .add(ChannelOption.SO_LINGER, VirtualSocketChannelConfig::getSoLinger,
                    VirtualSocketChannelConfig::setSoLinger)
            .add(ChannelOption.IP_TOS, VirtualSocketChannelConfig::getTrafficClass,
                    VirtualSocketChannelConfig::setTrafficClass)
            .add(ChannelOption.ALLOW_HALF_CLOSURE, VirtualSocketChannelConfig::isAllowHalfClosure,
                    VirtualSocketChannelConfig::setAllowHalfClosure);

    private final VirtualSocketChannel ch;
    private volatile boolean tcpNoDelay;
    private volatile boolean keepAlive;
    private volatile int soLinger;
    private volatile boolean allowHalfClosure;

    VirtualSocketChannelConfig(VirtualSocketChannel channel, TcpSocketOptions from) {
        super(channel, OPTIONS, from.receiveBuffer(), 1, from.sendBuffer());
        this.ch = channel;
        this.tcpNoDelay = from.noDelay();
        this.keepAlive = from.keepAlive();
        this.soLinger = from.lingerSeconds();
    }

    /** The engine options for a connection opened with this configuration. */
    TcpSocketOptions toOptions() {
        return new TcpSocketOptions()
                .receiveBuffer(Math.max(1024, getReceiveBufferSize()))
                .sendBuffer(Math.max(1024, getSendBufferSize()))
                .noDelay(tcpNoDelay)
                .keepAlive(keepAlive)
                .lingerSeconds(soLinger);
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
        return sendBufferSize();
    }

    @Override
    public VirtualSocketChannelConfig setSendBufferSize(int sendBufferSize) {
        sendBufferSize(sendBufferSize);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        receiveBufferSize(receiveBufferSize);
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
        return trafficClass();
    }

    @Override
    public VirtualSocketChannelConfig setTrafficClass(int trafficClass) {
        trafficClass(trafficClass);
        return this;
    }

    @Override
    public VirtualSocketChannelConfig setReuseAddress(boolean reuseAddress) {
        reuseAddress(reuseAddress);
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
