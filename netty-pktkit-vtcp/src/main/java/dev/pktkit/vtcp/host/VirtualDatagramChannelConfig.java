package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramChannelConfig;

import java.net.InetAddress;
import java.net.NetworkInterface;

/**
 * The configuration of a {@link VirtualDatagramChannel}. {@code SO_RCVBUF} bounds the bytes queued unread
 * (default 212992, Linux's default), {@code IP_TOS} sets the IPv4 TOS / IPv6 traffic class,
 * {@code IP_MULTICAST_TTL} the TTL / hop limit of every datagram (default 64), {@link VirtualChannelOption#TRANSPARENT}
 * any-address listening, {@link VirtualChannelOption#UDP_DATAGRAMS} {@link UdpDatagram}s instead of
 * {@code DatagramPacket}s. {@code SO_SNDBUF}, {@code SO_REUSEADDR}, {@code SO_BROADCAST} and the multicast
 * interface options are kept and reported but change nothing: sends never wait, a port is bound once, and there
 * is one interface. The option plumbing is shared with the other virtual channels ({@code VirtualChannelConfig}).
 */
public final class VirtualDatagramChannelConfig extends VirtualChannelConfig implements DatagramChannelConfig {
    /** Default receive buffer: 212992 bytes. */
    public static final int DEFAULT_RECEIVE_BUFFER = 212992;

    @SuppressWarnings("deprecation")
    private static final OptionTable<VirtualDatagramChannelConfig> OPTIONS =
            new OptionTable<VirtualDatagramChannelConfig>()
                    .add(ChannelOption.SO_BROADCAST, VirtualDatagramChannelConfig::isBroadcast,
                            VirtualDatagramChannelConfig::setBroadcast)
                    .add(ChannelOption.SO_RCVBUF, VirtualDatagramChannelConfig::getReceiveBufferSize,
                            VirtualDatagramChannelConfig::setReceiveBufferSize)
                    .add(ChannelOption.SO_SNDBUF, VirtualDatagramChannelConfig::getSendBufferSize,
                            VirtualDatagramChannelConfig::setSendBufferSize)
                    .add(ChannelOption.SO_REUSEADDR, VirtualDatagramChannelConfig::isReuseAddress,
                            VirtualDatagramChannelConfig::setReuseAddress)
                    .add(ChannelOption.IP_MULTICAST_LOOP_DISABLED, VirtualDatagramChannelConfig::isLoopbackModeDisabled,
                            VirtualDatagramChannelConfig::setLoopbackModeDisabled)
                    .add(ChannelOption.IP_MULTICAST_ADDR, VirtualDatagramChannelConfig::getInterface,
                            VirtualDatagramChannelConfig::setInterface)
                    .add(ChannelOption.IP_MULTICAST_IF, VirtualDatagramChannelConfig::getNetworkInterface,
                            VirtualDatagramChannelConfig::setNetworkInterface)
                    .add(ChannelOption.IP_MULTICAST_TTL, VirtualDatagramChannelConfig::getTimeToLive,
                            VirtualDatagramChannelConfig::setTimeToLive)
                    .add(ChannelOption.IP_TOS, VirtualDatagramChannelConfig::getTrafficClass,
                            VirtualDatagramChannelConfig::setTrafficClass)
                    .add(VirtualChannelOption.TRANSPARENT, VirtualDatagramChannelConfig::isTransparent,
                            VirtualDatagramChannelConfig::setTransparent)
                    .add(VirtualChannelOption.UDP_DATAGRAMS, VirtualDatagramChannelConfig::isUdpDatagrams,
                            VirtualDatagramChannelConfig::setUdpDatagrams);

    private volatile int ttl = 64;
    private volatile boolean broadcast;
    private volatile boolean loopbackModeDisabled = true;
    private volatile boolean udpDatagrams;
    private volatile InetAddress multicastInterface;
    private volatile NetworkInterface networkInterface;

    VirtualDatagramChannelConfig(VirtualDatagramChannel channel) {
        super(channel, new FixedRecvByteBufAllocator(2048), OPTIONS, DEFAULT_RECEIVE_BUFFER, 1,
                DEFAULT_RECEIVE_BUFFER);
    }

    /** Whether inbound datagrams arrive as {@link UdpDatagram}s ({@link VirtualChannelOption#UDP_DATAGRAMS}). */
    public boolean isUdpDatagrams() {
        return udpDatagrams;
    }

    /** Sets {@link VirtualChannelOption#UDP_DATAGRAMS}; applies to datagrams received from then on. */
    public VirtualDatagramChannelConfig setUdpDatagrams(boolean udpDatagrams) {
        this.udpDatagrams = udpDatagrams;
        return this;
    }

    /** Whether the channel listens on any address ({@link VirtualChannelOption#TRANSPARENT}). */
    public boolean isTransparent() {
        return transparent();
    }

    /** Sets {@link VirtualChannelOption#TRANSPARENT}; takes effect at the next bind. */
    public VirtualDatagramChannelConfig setTransparent(boolean transparent) {
        if (channel.isActive()) {
            throw new IllegalStateException("TRANSPARENT must be set before bind");
        }
        transparent(transparent);
        return this;
    }

    @Override
    public int getSendBufferSize() {
        return sendBufferSize();
    }

    @Override
    public VirtualDatagramChannelConfig setSendBufferSize(int sendBufferSize) {
        sendBufferSize(sendBufferSize);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        receiveBufferSize(receiveBufferSize);
        return this;
    }

    @Override
    public int getTrafficClass() {
        return trafficClass();
    }

    @Override
    public VirtualDatagramChannelConfig setTrafficClass(int trafficClass) {
        trafficClass(trafficClass);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setReuseAddress(boolean reuseAddress) {
        reuseAddress(reuseAddress);
        return this;
    }

    @Override
    public boolean isBroadcast() {
        return broadcast;
    }

    @Override
    public VirtualDatagramChannelConfig setBroadcast(boolean broadcast) {
        this.broadcast = broadcast;
        return this;
    }

    @Override
    public boolean isLoopbackModeDisabled() {
        return loopbackModeDisabled;
    }

    @Override
    public VirtualDatagramChannelConfig setLoopbackModeDisabled(boolean loopbackModeDisabled) {
        this.loopbackModeDisabled = loopbackModeDisabled;
        return this;
    }

    @Override
    public int getTimeToLive() {
        return ttl;
    }

    @Override
    public VirtualDatagramChannelConfig setTimeToLive(int ttl) {
        if (ttl < 1 || ttl > 255) {
            throw new IllegalArgumentException("ttl " + ttl + " (1..255)");
        }
        this.ttl = ttl;
        return this;
    }

    @Override
    public InetAddress getInterface() {
        return multicastInterface;
    }

    @Override
    public VirtualDatagramChannelConfig setInterface(InetAddress interfaceAddress) {
        this.multicastInterface = interfaceAddress;
        return this;
    }

    @Override
    public NetworkInterface getNetworkInterface() {
        return networkInterface;
    }

    @Override
    public VirtualDatagramChannelConfig setNetworkInterface(NetworkInterface networkInterface) {
        this.networkInterface = networkInterface;
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setWriteBufferHighWaterMark(int writeBufferHighWaterMark) {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setWriteBufferLowWaterMark(int writeBufferLowWaterMark) {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public VirtualDatagramChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }
}
