package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramChannelConfig;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Map;

/**
 * The configuration of a {@link VirtualDatagramChannel}. {@code SO_RCVBUF} bounds the bytes queued unread
 * (default 212992, Linux's default), {@code IP_TOS} sets the IPv4 TOS / IPv6 traffic class,
 * {@code IP_MULTICAST_TTL} the TTL / hop limit of every datagram (default 64), {@link VirtualChannelOption#TRANSPARENT}
 * any-address listening, {@link VirtualChannelOption#UDP_DATAGRAMS} {@link UdpDatagram}s instead of
 * {@code DatagramPacket}s. {@code SO_SNDBUF}, {@code SO_REUSEADDR}, {@code SO_BROADCAST} and the multicast
 * interface options are kept and reported but change nothing: sends never wait, a port is bound once, and there
 * is one interface.
 */
public final class VirtualDatagramChannelConfig extends DefaultChannelConfig implements DatagramChannelConfig {
    /** Default receive buffer: 212992 bytes. */
    public static final int DEFAULT_RECEIVE_BUFFER = 212992;

    private volatile int receiveBufferSize = DEFAULT_RECEIVE_BUFFER;
    private volatile int sendBufferSize = DEFAULT_RECEIVE_BUFFER;
    private volatile int trafficClass;
    private volatile int ttl = 64;
    private volatile boolean reuseAddress;
    private volatile boolean broadcast;
    private volatile boolean loopbackModeDisabled = true;
    private volatile boolean transparent;
    private volatile boolean udpDatagrams;
    private volatile InetAddress multicastInterface;
    private volatile NetworkInterface networkInterface;

    VirtualDatagramChannelConfig(VirtualDatagramChannel channel) {
        super(channel, new FixedRecvByteBufAllocator(2048));
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), ChannelOption.SO_BROADCAST, ChannelOption.SO_RCVBUF,
                ChannelOption.SO_SNDBUF, ChannelOption.SO_REUSEADDR, ChannelOption.IP_MULTICAST_LOOP_DISABLED,
                ChannelOption.IP_MULTICAST_ADDR, ChannelOption.IP_MULTICAST_IF, ChannelOption.IP_MULTICAST_TTL,
                ChannelOption.IP_TOS, VirtualChannelOption.TRANSPARENT, VirtualChannelOption.UDP_DATAGRAMS);
    }

    @Override
    @SuppressWarnings({"unchecked", "deprecation"})
    public <T> T getOption(ChannelOption<T> option) {
        if (option == ChannelOption.SO_BROADCAST) {
            return (T) Boolean.valueOf(isBroadcast());
        }
        if (option == ChannelOption.SO_RCVBUF) {
            return (T) Integer.valueOf(getReceiveBufferSize());
        }
        if (option == ChannelOption.SO_SNDBUF) {
            return (T) Integer.valueOf(getSendBufferSize());
        }
        if (option == ChannelOption.SO_REUSEADDR) {
            return (T) Boolean.valueOf(isReuseAddress());
        }
        if (option == ChannelOption.IP_MULTICAST_LOOP_DISABLED) {
            return (T) Boolean.valueOf(isLoopbackModeDisabled());
        }
        if (option == ChannelOption.IP_MULTICAST_ADDR) {
            return (T) getInterface();
        }
        if (option == ChannelOption.IP_MULTICAST_IF) {
            return (T) getNetworkInterface();
        }
        if (option == ChannelOption.IP_MULTICAST_TTL) {
            return (T) Integer.valueOf(getTimeToLive());
        }
        if (option == ChannelOption.IP_TOS) {
            return (T) Integer.valueOf(getTrafficClass());
        }
        if (option == VirtualChannelOption.TRANSPARENT) {
            return (T) Boolean.valueOf(transparent);
        }
        if (option == VirtualChannelOption.UDP_DATAGRAMS) {
            return (T) Boolean.valueOf(udpDatagrams);
        }
        return super.getOption(option);
    }

    @Override
    @SuppressWarnings("deprecation")
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == ChannelOption.SO_BROADCAST) {
            setBroadcast((Boolean) value);
        } else if (option == ChannelOption.SO_RCVBUF) {
            setReceiveBufferSize((Integer) value);
        } else if (option == ChannelOption.SO_SNDBUF) {
            setSendBufferSize((Integer) value);
        } else if (option == ChannelOption.SO_REUSEADDR) {
            setReuseAddress((Boolean) value);
        } else if (option == ChannelOption.IP_MULTICAST_LOOP_DISABLED) {
            setLoopbackModeDisabled((Boolean) value);
        } else if (option == ChannelOption.IP_MULTICAST_ADDR) {
            setInterface((InetAddress) value);
        } else if (option == ChannelOption.IP_MULTICAST_IF) {
            setNetworkInterface((NetworkInterface) value);
        } else if (option == ChannelOption.IP_MULTICAST_TTL) {
            setTimeToLive((Integer) value);
        } else if (option == ChannelOption.IP_TOS) {
            setTrafficClass((Integer) value);
        } else if (option == VirtualChannelOption.TRANSPARENT) {
            setTransparent((Boolean) value);
        } else if (option == VirtualChannelOption.UDP_DATAGRAMS) {
            setUdpDatagrams((Boolean) value);
        } else {
            return super.setOption(option, value);
        }
        return true;
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
        return transparent;
    }

    /** Sets {@link VirtualChannelOption#TRANSPARENT}; takes effect at the next bind. */
    public VirtualDatagramChannelConfig setTransparent(boolean transparent) {
        if (channel.isActive()) {
            throw new IllegalStateException("TRANSPARENT must be set before bind");
        }
        this.transparent = transparent;
        return this;
    }

    @Override
    public int getSendBufferSize() {
        return sendBufferSize;
    }

    @Override
    public VirtualDatagramChannelConfig setSendBufferSize(int sendBufferSize) {
        this.sendBufferSize = checkPositive(sendBufferSize, "sendBufferSize");
        return this;
    }

    @Override
    public int getReceiveBufferSize() {
        return receiveBufferSize;
    }

    @Override
    public VirtualDatagramChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        this.receiveBufferSize = checkPositive(receiveBufferSize, "receiveBufferSize");
        return this;
    }

    @Override
    public int getTrafficClass() {
        return trafficClass;
    }

    @Override
    public VirtualDatagramChannelConfig setTrafficClass(int trafficClass) {
        if (trafficClass < 0 || trafficClass > 255) {
            throw new IllegalArgumentException("trafficClass " + trafficClass + " (0..255)");
        }
        this.trafficClass = trafficClass;
        return this;
    }

    @Override
    public boolean isReuseAddress() {
        return reuseAddress;
    }

    @Override
    public VirtualDatagramChannelConfig setReuseAddress(boolean reuseAddress) {
        this.reuseAddress = reuseAddress;
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

    private static int checkPositive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " " + v + " (must be positive)");
        }
        return v;
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
