package dev.pktkit.vtcp.host;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.internal.StringUtil;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.NotYetConnectedException;

/**
 * A Netty {@link DatagramChannel} on a {@link VirtualHost}: UDP over the virtual network with
 * {@link DatagramPacket}s, as with {@code NioDatagramChannel}. Open it with the host's factory:
 *
 * <pre>{@code
 * new Bootstrap().group(loop).channelFactory(host.datagramChannels()).handler(h).bind(5353);
 * }</pre>
 *
 * <ul>
 * <li>{@code bind} takes a port (0 for an ephemeral one) and the wildcard address (both families, as the JDK's
 * dual-stack sockets) or one of the host's addresses; a second bind of an overlapping address and port fails
 * with {@link java.net.BindException}.</li>
 * <li>{@code connect} binds an ephemeral port if needed, filters what is received to the peer, lets plain
 * {@code ByteBuf}s be written, and makes ICMP errors for the peer appear in {@code exceptionCaught}
 * ({@link java.net.PortUnreachableException}), as on Linux.</li>
 * <li>Inbound datagrams are slices of the received packet (no copy); the reader releases them. At most
 * {@link VirtualHost.Builder#maxQueuedDatagrams} datagrams and {@code SO_RCVBUF} bytes wait unread; more are
 * dropped and counted ({@link HostDropReason#RECEIVE_QUEUE_FULL}).</li>
 * <li>A write completes when the datagram is built and handed to the host (UDP never waits); a datagram larger
 * than the host's MTU allows fails with an {@link IOException} (no fragmentation).</li>
 * <li>With {@link VirtualChannelOption#TRANSPARENT} the channel receives UDP for any address; a
 * {@code DatagramPacket} written with a {@code sender} goes out from that address and port.</li>
 * <li>{@link UdpDatagram}s (addresses as numbers, pooled) may be written in place of {@code DatagramPacket}s,
 * and with {@link VirtualChannelOption#UDP_DATAGRAMS} are read in their place: no objects per datagram.</li>
 * <li>Multicast membership ({@code joinGroup}, {@code block}) is not supported: those futures fail with
 * {@link UnsupportedOperationException}.</li>
 * </ul>
 */
public final class VirtualDatagramChannel extends AbstractVirtualChannel
        implements DatagramChannel, PortTable.Bound {
    private static final ChannelMetadata METADATA = new ChannelMetadata(true, 16);
    private static final String EXPECTED_TYPES = " (expected: " + StringUtil.simpleClassName(DatagramPacket.class)
            + ", " + StringUtil.simpleClassName(AddressedEnvelope.class) + '<'
            + StringUtil.simpleClassName(ByteBuf.class) + ", " + StringUtil.simpleClassName(InetSocketAddress.class)
            + ">, " + StringUtil.simpleClassName(ByteBuf.class) + ')';

    private final VirtualDatagramChannelConfig config = new VirtualDatagramChannelConfig(this);
    private final long[] v6src = new long[2];
    private volatile boolean open = true;
    private volatile Endpoint local;
    private volatile Endpoint remote;
    private volatile boolean transparent;
    private volatile int boundPort = -1;

    VirtualDatagramChannel(VirtualHost host) {
        super(null, host);
    }

    // ---- PortTable.Bound ----

    @Override
    public Endpoint local() {
        return local;
    }

    @Override
    public Endpoint remote() {
        return remote;
    }

    @Override
    public boolean transparent() {
        return transparent;
    }

    // ---- Channel ----

    @Override
    public VirtualDatagramChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && local != null;
    }

    @Override
    public boolean isConnected() {
        return remote != null;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) super.remoteAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        Endpoint l = local;
        return l == null ? null : l.toSocketAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        Endpoint r = remote;
        return r == null ? null : r.toSocketAddress();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new DatagramUnsafe();
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        if (!(localAddress instanceof InetSocketAddress isa)) {
            throw new IllegalArgumentException("not an InetSocketAddress: " + localAddress);
        }
        bind0(Endpoint.of(isa));
    }

    private void bind0(Endpoint want) throws IOException {
        if (local != null) {
            throw new java.net.BindException("already bound to " + local);
        }
        if (want.family() == 4 && !host.isLocalIpv4(want.v4()) && !config.isTransparent()
                || want.family() == 6 && !host.isLocalIpv6(want.hi(), want.lo()) && !config.isTransparent()) {
            throw new java.net.BindException("Cannot assign requested address: " + want
                    + " is not an address of " + host);
        }
        boolean t = config.isTransparent();
        synchronized (host.udpPorts) {
            int port = host.udpPorts.reservePort(want, t);
            this.transparent = t;
            this.local = want.withPort(port);
            this.boundPort = port;
            host.udpPorts.add(port, this);
        }
    }

    @Override
    protected void doDisconnect() {
        remote = null;
    }

    @Override
    protected void doClose() {
        open = false;
        int p = boundPort;
        if (p >= 0) {
            host.udpPorts.remove(p, this);
            boundPort = -1;
        }
        releaseQueued();
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof DatagramPacket || msg instanceof UdpDatagram) {
            return msg;
        }
        if (msg instanceof ByteBuf) {
            return msg;
        }
        if (msg instanceof AddressedEnvelope<?, ?> e && e.content() instanceof ByteBuf
                && (e.recipient() == null || e.recipient() instanceof InetSocketAddress)) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: "
                + StringUtil.simpleClassName(msg) + EXPECTED_TYPES);
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                return;
            }
            try {
                send(msg);
                in.remove();
            } catch (Exception e) {
                in.remove(e);
            }
        }
    }

    /** Sends a {@link UdpDatagram}: its destination, and its source when transparent. No objects made. */
    private void sendDatagram(UdpDatagram d) throws IOException {
        Endpoint me = local;
        if (me == null) {
            bind0(Endpoint.WILDCARD);
            me = local;
        }
        boolean fromSource = transparent;
        int srcPort = fromSource ? d.srcPort() : me.port();
        ByteBuf data = d.content();
        int len = data.readableBytes();
        int ttl = config.getTimeToLive();
        int tos = config.getTrafficClass();
        if (d.family() == 4) {
            int s;
            if (fromSource) {
                s = d.srcV4();
            } else if (me.family() == 6) {
                throw new IOException("cannot send to IPv4 from IPv6 " + me);
            } else {
                s = me.family() == 4 ? me.v4() : host.sourceIpv4();
            }
            if (s == 0) {
                host.dropCount(HostDropReason.NO_SOURCE_ADDRESS);
                throw new java.net.NoRouteToHostException("the host has no IPv4 address");
            }
            int total = Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + len;
            if (total > host.mtu()) {
                throw new IOException("Message too long: " + len + " bytes of UDP exceed the MTU of " + host.mtu());
            }
            ByteBuf p = host.newPacket(total);
            Ipv4.writeHeader(p, tos, host.nextIpId(), 0, ttl, IpProtocol.UDP, s, d.dstV4(), null, 0, 0,
                    Udp.HEADER_LENGTH + len);
            Udp.writeDatagramV4(p, s, d.dstV4(), srcPort, d.dstPort(), data, data.readerIndex(), len);
            host.countUdpOut();
            host.transmit(p);
        } else {
            long sHi;
            long sLo;
            if (fromSource) {
                sHi = d.srcHi();
                sLo = d.srcLo();
            } else if (me.family() == 6) {
                sHi = me.hi();
                sLo = me.lo();
            } else if (me.family() == 4) {
                throw new IOException("cannot send to IPv6 from IPv4 " + me);
            } else if (host.sourceIpv6(d.dstHi(), v6src)) {
                sHi = v6src[0];
                sLo = v6src[1];
            } else {
                host.dropCount(HostDropReason.NO_SOURCE_ADDRESS);
                throw new java.net.NoRouteToHostException("the host has no IPv6 address");
            }
            int total = Ipv6.HEADER_LENGTH + Udp.HEADER_LENGTH + len;
            if (total > host.mtu()) {
                throw new IOException("Message too long: " + len + " bytes of UDP exceed the MTU of " + host.mtu());
            }
            ByteBuf p = host.newPacket(total);
            Ipv6.writeHeader(p, tos, 0, Udp.HEADER_LENGTH + len, IpProtocol.UDP, ttl, sHi, sLo, d.dstHi(),
                    d.dstLo());
            Udp.writeDatagramV6(p, sHi, sLo, d.dstHi(), d.dstLo(), srcPort, d.dstPort(), data, data.readerIndex(),
                    len);
            host.countUdpOut();
            host.transmit(p);
        }
    }

    @SuppressWarnings("unchecked")
    private void send(Object msg) throws IOException {
        if (msg instanceof UdpDatagram d) {
            sendDatagram(d);
            return;
        }
        ByteBuf data;
        InetSocketAddress to;
        InetSocketAddress from = null;
        if (msg instanceof AddressedEnvelope<?, ?> e) {
            AddressedEnvelope<ByteBuf, InetSocketAddress> env = (AddressedEnvelope<ByteBuf, InetSocketAddress>) e;
            data = env.content();
            to = env.recipient();
            from = env.sender();
        } else {
            data = (ByteBuf) msg;
            to = null;
        }
        Endpoint dst;
        if (to == null) {
            dst = remote;
            if (dst == null) {
                throw new NotYetConnectedException();
            }
        } else {
            dst = Endpoint.of(to);
            if (dst.isWildcard()) {
                throw new IOException("cannot send to the wildcard address " + to);
            }
        }
        Endpoint me = local;
        if (me == null) {
            bind0(Endpoint.WILDCARD); // a send on an unbound socket binds an ephemeral port, as on Linux
            me = local;
        }
        int srcPort = me.port();
        Endpoint src = me;
        if (transparent && from != null) {
            src = Endpoint.of(from);
            srcPort = from.getPort();
        }
        int len = data.readableBytes();
        int ttl = config.getTimeToLive();
        int tos = config.getTrafficClass();
        if (dst.family() == 4) {
            int s = src.family() == 4 ? src.v4() : host.sourceIpv4();
            if (src.family() == 6) {
                throw new IOException("cannot send to IPv4 " + dst + " from IPv6 " + src);
            }
            if (s == 0) {
                host.dropCount(HostDropReason.NO_SOURCE_ADDRESS);
                throw new java.net.NoRouteToHostException("the host has no IPv4 address");
            }
            int total = Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + len;
            if (total > host.mtu()) {
                throw new IOException("Message too long: " + len + " bytes of UDP exceed the MTU of " + host.mtu());
            }
            ByteBuf p = host.newPacket(total);
            Ipv4.writeHeader(p, tos, host.nextIpId(), 0, ttl, IpProtocol.UDP, s, dst.v4(), null, 0, 0,
                    Udp.HEADER_LENGTH + len);
            Udp.writeDatagramV4(p, s, dst.v4(), srcPort, dst.port(), data, data.readerIndex(), len);
            host.countUdpOut();
            host.transmit(p);
        } else {
            long sHi;
            long sLo;
            if (src.family() == 6) {
                sHi = src.hi();
                sLo = src.lo();
            } else if (src.family() == 4) {
                throw new IOException("cannot send to IPv6 " + dst + " from IPv4 " + src);
            } else if (host.sourceIpv6(dst.hi(), v6src)) {
                sHi = v6src[0];
                sLo = v6src[1];
            } else {
                host.dropCount(HostDropReason.NO_SOURCE_ADDRESS);
                throw new java.net.NoRouteToHostException("the host has no IPv6 address");
            }
            int total = Ipv6.HEADER_LENGTH + Udp.HEADER_LENGTH + len;
            if (total > host.mtu()) {
                throw new IOException("Message too long: " + len + " bytes of UDP exceed the MTU of " + host.mtu());
            }
            ByteBuf p = host.newPacket(total);
            Ipv6.writeHeader(p, tos, 0, Udp.HEADER_LENGTH + len, IpProtocol.UDP, ttl, sHi, sLo, dst.hi(), dst.lo());
            Udp.writeDatagramV6(p, sHi, sLo, dst.hi(), dst.lo(), srcPort, dst.port(), data, data.readerIndex(), len);
            host.countUdpOut();
            host.transmit(p);
        }
    }

    // ---- from the host ----

    boolean offerDatagram(Object packet, int bytes) {
        return offer(packet, bytes, host.maxQueuedDatagrams(), config.getReceiveBufferSize());
    }

    /** An ICMP error about a datagram we sent to {@code dst4:port}: reported when connected to it. */
    boolean offerIcmpError(Exception error, int dst4, int port) {
        Endpoint r = remote;
        if (r == null || r.family() != 4 || r.v4() != dst4 || r.port() != port) {
            return false;
        }
        return offer(error, 0, host.maxQueuedDatagrams(), Long.MAX_VALUE);
    }

    /** {@link #offerIcmpError(Exception, int, int)} for IPv6. */
    boolean offerIcmpError(Exception error, long hi, long lo, int port) {
        Endpoint r = remote;
        if (r == null || r.family() != 6 || r.hi() != hi || r.lo() != lo || r.port() != port) {
            return false;
        }
        return offer(error, 0, host.maxQueuedDatagrams(), Long.MAX_VALUE);
    }

    // ---- multicast: not supported ----

    private ChannelFuture noMulticast(ChannelPromise p) {
        return p.setFailure(new UnsupportedOperationException("multicast membership on a VirtualDatagramChannel"));
    }

    @Override
    public ChannelFuture joinGroup(InetAddress multicastAddress) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture joinGroup(InetAddress multicastAddress, ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture joinGroup(InetSocketAddress multicastAddress, NetworkInterface networkInterface) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture joinGroup(InetSocketAddress multicastAddress, NetworkInterface networkInterface,
                                   ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture joinGroup(InetAddress multicastAddress, NetworkInterface networkInterface,
                                   InetAddress source) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture joinGroup(InetAddress multicastAddress, NetworkInterface networkInterface,
                                   InetAddress source, ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture leaveGroup(InetAddress multicastAddress) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture leaveGroup(InetAddress multicastAddress, ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture leaveGroup(InetSocketAddress multicastAddress, NetworkInterface networkInterface) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture leaveGroup(InetSocketAddress multicastAddress, NetworkInterface networkInterface,
                                    ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture leaveGroup(InetAddress multicastAddress, NetworkInterface networkInterface,
                                    InetAddress source) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture leaveGroup(InetAddress multicastAddress, NetworkInterface networkInterface,
                                    InetAddress source, ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture block(InetAddress multicastAddress, NetworkInterface networkInterface,
                               InetAddress sourceToBlock) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture block(InetAddress multicastAddress, NetworkInterface networkInterface,
                               InetAddress sourceToBlock, ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public ChannelFuture block(InetAddress multicastAddress, InetAddress sourceToBlock) {
        return noMulticast(newPromise());
    }

    @Override
    public ChannelFuture block(InetAddress multicastAddress, InetAddress sourceToBlock, ChannelPromise future) {
        return noMulticast(future);
    }

    @Override
    public String toString() {
        return "VirtualDatagramChannel(" + local + (remote == null ? "" : " -> " + remote) + ")";
    }

    private final class DatagramUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            if (!promise.setUncancellable() || !ensureOpen(promise)) {
                return;
            }
            try {
                if (remote != null) {
                    throw new AlreadyConnectedException();
                }
                if (!(remoteAddress instanceof InetSocketAddress to)) {
                    throw new IllegalArgumentException("not an InetSocketAddress: " + remoteAddress);
                }
                Endpoint r = Endpoint.of(to);
                boolean wasActive = isActive();
                if (local == null) {
                    bind0(localAddress == null ? Endpoint.WILDCARD : Endpoint.of((InetSocketAddress) localAddress));
                }
                remote = r;
                promise.setSuccess();
                if (!wasActive && isActive()) {
                    pipeline().fireChannelActive();
                }
            } catch (Throwable t) {
                promise.tryFailure(t);
                closeIfClosed();
            }
        }
    }
}
