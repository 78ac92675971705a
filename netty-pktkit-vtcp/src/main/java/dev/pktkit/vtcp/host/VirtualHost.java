package dev.pktkit.vtcp.host;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.ObjectUtil;
import io.netty.util.internal.PlatformDependent;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A virtual IP host: an L3 device that owns IPv4 and IPv6 addresses and hands out real Netty channels whose
 * traffic is the IP packets this handler reads and writes.
 *
 * <p>Put it in the pipeline of any channel whose messages are IP packets ({@code ByteBuf}s holding one IPv4 or
 * IPv6 packet from {@code readerIndex()}): a {@code PacketPipe} end, after an {@link L2Adapter} on an L2 port,
 * an {@code L3Hub} port, a {@code TunChannel}. Then open channels on any event loop with its factories:
 *
 * <pre>{@code
 * VirtualHost host = VirtualHost.builder().address("10.0.0.2").address("fd00::2").build();
 * pipe.a().pipeline().addLast(host);
 * new Bootstrap().group(loop).channelFactory(host.datagramChannels()).handler(...).bind(0);
 * }</pre>
 *
 * <h2>What it answers itself</h2>
 * ICMP and ICMPv6 echo requests to its addresses (echo replies); UDP to a port nobody listens on (ICMP port
 * unreachable); IP protocols it does not speak (ICMP protocol unreachable, ICMPv6 parameter problem); ICMP
 * errors are rate limited ({@link Builder#icmpErrorsPerSecond}) and never sent about ICMP errors, broadcasts,
 * multicasts or fragments (RFC 1122 §3.2.2, RFC 4443 §2.4). ICMP errors it receives go to the flow they quote:
 * a connected {@link VirtualDatagramChannel} sees {@link PortUnreachableException} or
 * {@link NoRouteToHostException} in {@code exceptionCaught}, as Netty's NIO datagram channel does.
 *
 * <h2>Bad input and bounds</h2>
 * Every packet that fails its IP, UDP, ICMP or TCP checks (lengths, checksums) is dropped, released and
 * counted in {@link #counters()} by {@link HostDropReason}; nothing is thrown to the pipeline. Bounds, each a
 * builder setting: datagram channels per host, datagrams queued per channel (and its {@code SO_RCVBUF} bytes),
 * packets queued between a channel's loop and the host's loop, bytes waiting in the device channel's outbound
 * buffer, ICMP errors per second.
 *
 * <h2>Threads</h2>
 * The host runs on its device channel's event loop; its channels may run on any loops (NIO, epoll, io_uring,
 * {@code DefaultEventLoop}): a channel on the host's loop is served synchronously, others through one task per
 * batch. The port tables are lock-free to read; binding takes a short lock (control path only).
 *
 * <h2>Limits</h2>
 * No IP fragmentation or reassembly (fragments are dropped and counted; datagrams larger than the MTU fail their
 * write), no IP options on output, no multicast group membership for datagram channels (multicast and
 * broadcast UDP reaches wildcard-bound channels of the port), no raw or ICMP sockets.
 *
 * <p>Not {@code @Sharable}: a host is one interface.
 */
public final class VirtualHost extends ChannelInboundHandlerAdapter implements LocalAddresses {
    /** Bytes reserved before every packet the host builds, so an {@link L2Adapter} writes its header in place. */
    public static final int HEADROOM = L2Adapter.HEADROOM;
    /** Default MTU: 1500. */
    public static final int DEFAULT_MTU = 1500;
    /** Default bound on datagram channels per host: 4096. */
    public static final int DEFAULT_MAX_DATAGRAM_CHANNELS = 4096;
    /** Default bound on datagrams queued unread per datagram channel: 1024 (also bounded by SO_RCVBUF bytes). */
    public static final int DEFAULT_MAX_QUEUED_DATAGRAMS = 1024;
    /** Default bound on packets queued from other loops towards the host's loop: 8192. */
    public static final int DEFAULT_MAX_PENDING_OUTPUT = 8192;
    /** Default bound on bytes in the device channel's outbound buffer before the host drops: 8 MiB. */
    public static final int DEFAULT_MAX_DEVICE_QUEUE_BYTES = 8 << 20;
    /** Default ICMP error rate: 1000 per second (burst of the same size). */
    public static final int DEFAULT_ICMP_ERRORS_PER_SECOND = 1000;
    /** Default bound on bound TCP sockets and listeners per host (connections are bounded by the engine): 16384. */
    public static final int DEFAULT_MAX_TCP_BINDINGS = 16384;
    /** Default ephemeral port range: 49152–65535 (RFC 6335). */
    public static final int DEFAULT_EPHEMERAL_LOW = 49152;
    public static final int DEFAULT_EPHEMERAL_HIGH = 65535;

    private final int[] staticV4;
    private final long[] staticV6;
    private final L2Adapter adapter;
    private final int mtu;
    private final int maxQueuedDatagrams;
    private final int maxPendingOutput;
    private final int maxDeviceQueueBytes;
    private final boolean answerPing;
    final PortTable<VirtualDatagramChannel> udpPorts;
    final PortTable<PortTable.Bound> tcpPorts;
    private final TcpEngineConfig tcpConfig;
    private volatile TcpLayer tcpLayer;
    private volatile Throwable tcpFailure;
    private final HostCounters counters = new HostCounters();
    private final AtomicInteger ipId = new AtomicInteger();
    private final IcmpRateLimiter icmpLimiter;

    private final Queue<ByteBuf> pendingOutput = PlatformDependent.newMpscQueue();
    private final AtomicInteger pendingOutputCount = new AtomicInteger();
    private final AtomicInteger outputWakeup = new AtomicInteger();
    private final Runnable outputTask = this::drainOutput;

    private volatile ChannelHandlerContext ctx;
    private volatile EventLoop loop;
    private boolean inRead;
    private boolean flushNeeded;
    /** Inside {@link #holdFlushes()}: packets sent from the host's side wait for one flush per batch. */
    private boolean holding;
    /** Packets written while {@link #holding} since the last flush. */
    private int held;
    private TcpSink tcp;

    private VirtualHost(Builder b) {
        this.staticV4 = b.v4.stream().mapToInt(Integer::intValue).toArray();
        this.staticV6 = b.v6.stream().mapToLong(Long::longValue).toArray();
        this.adapter = b.adapter;
        this.mtu = b.mtu;
        this.maxQueuedDatagrams = b.maxQueuedDatagrams;
        this.maxPendingOutput = b.maxPendingOutput;
        this.maxDeviceQueueBytes = b.maxDeviceQueueBytes;
        this.answerPing = b.answerPing;
        this.udpPorts = new PortTable<>(b.maxDatagramChannels, b.ephemeralLow, b.ephemeralHigh);
        this.tcpPorts = new PortTable<>(b.maxTcpBindings, b.ephemeralLow, b.ephemeralHigh);
        this.tcpConfig = b.tcpConfig.copy();
        this.icmpLimiter = new IcmpRateLimiter(b.icmpErrorsPerSecond);
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---- public API ----

    /** A factory for {@link VirtualDatagramChannel}s of this host, for {@code Bootstrap.channelFactory}. */
    public ChannelFactory<VirtualDatagramChannel> datagramChannels() {
        return () -> new VirtualDatagramChannel(this);
    }

    /** A factory for {@link VirtualSocketChannel}s of this host, for {@code Bootstrap.channelFactory}. */
    public ChannelFactory<VirtualSocketChannel> socketChannels() {
        return () -> new VirtualSocketChannel(this);
    }

    /** A factory for {@link VirtualServerSocketChannel}s of this host, for {@code ServerBootstrap.channelFactory}. */
    public ChannelFactory<VirtualServerSocketChannel> serverSocketChannels() {
        return () -> new VirtualServerSocketChannel(this);
    }

    /**
     * The host's TCP layer, once the host is in a pipeline.
     *
     * @throws IllegalStateException if the host is not attached yet or its TCP engine could not start
     */
    TcpLayer tcpLayer() {
        TcpLayer t = tcpLayer;
        if (t == null) {
            Throwable f = tcpFailure;
            throw new IllegalStateException(f == null ? "the VirtualHost is not in a pipeline yet"
                    : "the TCP engine did not start: " + f, f);
        }
        return t;
    }

    /** TCP connections of this host (any state but TIME-WAIT); 0 before it is attached. Call on the host's loop. */
    public int tcpConnectionCount() {
        TcpLayer t = tcpLayer;
        return t == null ? 0 : t.engine.connectionCount();
    }

    /**
     * A builder for Netty's own {@link DnsNameResolver} running over this host's channels: queries go out through
     * {@link VirtualDatagramChannel}s, truncated answers are retried over {@link VirtualSocketChannel}s (Netty's
     * TCP fallback), to {@code nameServers} in order. The machine's {@code /etc/hosts} and search domains are not
     * consulted (they describe another network); EDNS0 advertises a payload that fits the host's MTU, since the
     * host does not reassemble fragments. Set the event loop ({@link DnsNameResolverBuilder#eventLoop}) and
     * anything else, then {@code build()}, or wrap it in a {@link DnsAddressResolverGroup} for
     * {@code Bootstrap.resolver(...)} ({@link #dnsResolverGroup}).
     */
    public DnsNameResolverBuilder dnsResolverBuilder(InetSocketAddress... nameServers) {
        if (nameServers.length == 0) {
            throw new IllegalArgumentException("at least one name server");
        }
        return new DnsNameResolverBuilder()
                .datagramChannelFactory(datagramChannels())
                .socketChannelFactory(socketChannels())
                .nameServerProvider(new SequentialDnsServerAddressStreamProvider(nameServers))
                .searchDomains(List.of())
                .hostsFileEntriesResolver((name, types) -> null)
                .maxPayloadSize(mtu - Ipv6.HEADER_LENGTH - Udp.HEADER_LENGTH);
    }

    /** {@code Bootstrap.resolver(host.dnsResolverGroup(server))}: names resolve over the virtual network. */
    public DnsAddressResolverGroup dnsResolverGroup(InetSocketAddress... nameServers) {
        return new DnsAddressResolverGroup(dnsResolverBuilder(nameServers));
    }

    /** The host's counters. */
    public HostCounters counters() {
        return counters;
    }

    /** The IP MTU of the host's interface. */
    public int mtu() {
        return mtu;
    }

    /** The device channel the host is attached to, or null before it is added to a pipeline. */
    public Channel deviceChannel() {
        ChannelHandlerContext c = ctx;
        return c == null ? null : c.channel();
    }

    /** The event loop of the device channel, or null before the host is attached. */
    public EventLoop eventLoop() {
        return loop;
    }

    /** The IPv4 address used as a source, or null when the host has none (yet). */
    public Inet4Address ipv4Address() {
        int a = sourceIpv4();
        return a == 0 ? null : Ip4.toInet(a);
    }

    /** The IPv6 addresses of the host (static ones, or those of its adapter). */
    public List<Inet6Address> ipv6Addresses() {
        if (adapter != null) {
            return adapter.ipv6Addresses();
        }
        List<Inet6Address> l = new ArrayList<>();
        for (int i = 0; i < staticV6.length; i += 2) {
            l.add(Ip6.toInet(staticV6[i], staticV6[i + 1]));
        }
        return l;
    }

    @Override
    public boolean isLocalIpv4(int address) {
        for (int a : staticV4) {
            if (a == address) {
                return true;
            }
        }
        return adapter != null && adapter.isLocalIpv4(address);
    }

    @Override
    public boolean isLocalIpv6(long hi, long lo) {
        for (int i = 0; i < staticV6.length; i += 2) {
            if (staticV6[i] == hi && staticV6[i + 1] == lo) {
                return true;
            }
        }
        return adapter != null && adapter.isLocalIpv6(hi, lo);
    }

    @Override
    public String toString() {
        return "VirtualHost(" + (ipv4Address() == null ? "" : ipv4Address().getHostAddress()) + " "
                + ipv6Addresses() + ")";
    }

    // ---- pipeline ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        handlerAdded0(ctx);
        checkDeviceOffload(ctx);
    }

    private void handlerAdded0(ChannelHandlerContext ctx) {
        if (this.ctx != null && this.ctx != ctx) {
            throw new IllegalStateException("a VirtualHost is one interface: already in " + this.ctx.channel());
        }
        this.ctx = ctx;
        this.loop = ctx.channel().eventLoop();
        if (tcpLayer == null) {
            try {
                TcpLayer t = new TcpLayer(this, loop, ctx.alloc(), tcpConfig, tcpPorts);
                tcpLayer = t;
                tcp = t;
            } catch (RuntimeException e) {
                // No TCP engine: the host still answers TCP with RST, and socket channels fail with this cause.
                tcpFailure = e;
            }
        }
    }

    /**
     * Segmentation offload follows the device: on when its channel takes {@code OffloadPacket}s
     * ({@link dev.pktkit.codec.offload.OffloadPacket#ACCEPTS}, set by tuntap's {@code VirtioNetCodec}, default or
     * {@code forwarding()}, on a TUN/TAP with offloads), off for a pipe, an adapter or a hub port; checked
     * when the host is added and when the channel becomes active. Inbound {@code OffloadPacket}s are completed.
     */
    private void checkDeviceOffload(ChannelHandlerContext ctx) {
        TcpLayer t = tcpLayer;
        if (t != null) {
            t.deviceOffload(dev.pktkit.codec.offload.OffloadPacket.acceptedBy(ctx.channel()));
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        checkDeviceOffload(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        TcpLayer t = tcpLayer;
        if (t != null) {
            t.close();
        }
        this.ctx = null;
        releasePendingOutput();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releasePendingOutput();
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof dev.pktkit.codec.offload.OffloadPacket op) {
            // a device that keeps offload state inbound (tuntap's VirtioNetCodec.forwarding(), which also marks
            // the channel OffloadPacket.ACCEPTS): complete it into a plain packet, a large TCP segment staying
            // one (oversized) packet as after GRO
            msg = dev.pktkit.codec.offload.Offloads.complete(op, ctx.alloc(), false);
            if (msg == null) {
                counters.drop(HostDropReason.MALFORMED_IP);
                return;
            }
        }
        if (!(msg instanceof ByteBuf pkt)) {
            ReferenceCountUtil.release(msg);
            counters.drop(HostDropReason.MALFORMED_IP);
            return;
        }
        counters.countReceived();
        inRead = true;
        try {
            receive(pkt);
        } catch (RuntimeException e) {
            // Wire input never reaches the pipeline's tail; a bug here must not kill the device channel either.
            counters.drop(HostDropReason.MALFORMED_IP);
            if (pkt.refCnt() > 0) {
                ReferenceCountUtil.safeRelease(pkt);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        if (flushNeeded && !holding) {
            flushNeeded = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (tcp != null && ctx.channel().isWritable()) {
            tcp.deviceWritable();
        }
        super.channelWritabilityChanged(ctx);
    }

    // ---- inbound demux ----

    private void receive(ByteBuf pkt) {
        int off = pkt.readerIndex();
        if (pkt.readableBytes() < 1) {
            drop(pkt, HostDropReason.MALFORMED_IP);
            return;
        }
        int version = pkt.getUnsignedByte(off) >>> 4;
        if (version == 4) {
            receive4(pkt, off);
        } else if (version == 6) {
            receive6(pkt, off);
        } else {
            drop(pkt, HostDropReason.MALFORMED_IP);
        }
    }

    private void receive4(ByteBuf pkt, int off) {
        int hl = Ipv4.check(pkt, off);
        if (hl < 0) {
            drop(pkt, HostDropReason.MALFORMED_IP);
            return;
        }
        if (Ipv4.isFragment(pkt, off)) {
            drop(pkt, HostDropReason.FRAGMENT);
            return;
        }
        int dst = Ipv4.dst(pkt, off);
        int src = Ipv4.src(pkt, off);
        boolean local = isLocalIpv4(dst);
        boolean group = Ip4.isMulticast(dst) || dst == Ip4.BROADCAST;
        int proto = Ipv4.protocol(pkt, off);
        int l4 = off + hl;
        int l4len = Ipv4.totalLength(pkt, off) - hl;
        switch (proto) {
            case IpProtocol.UDP -> {
                if (Udp.checkV4(pkt, l4, l4len, src, dst) < 0) {
                    drop(pkt, HostDropReason.MALFORMED_UDP);
                    return;
                }
                receiveUdp(pkt, off, l4, false, local, group);
            }
            case IpProtocol.TCP -> {
                if (Tcp.checkV4(pkt, l4, l4len, src, dst) < 0) {
                    drop(pkt, HostDropReason.MALFORMED_TCP);
                    return;
                }
                counters.tcpIn();
                receiveTcp(pkt, off, l4, l4len, false, local, group);
            }
            case IpProtocol.ICMP -> {
                if (!local && !udpPorts.hasTransparent() && (tcp == null || !tcp.hasTransparent())) {
                    drop(pkt, HostDropReason.NOT_LOCAL);
                    return;
                }
                if (Icmpv4.check(pkt, l4, l4len) < 0) {
                    drop(pkt, HostDropReason.MALFORMED_ICMP);
                    return;
                }
                receiveIcmp4(pkt, off, l4, l4len);
            }
            default -> {
                if (local) {
                    sendIcmp4Error(pkt, off, Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.CODE_PROTOCOL_UNREACHABLE);
                }
                drop(pkt, local ? HostDropReason.UNKNOWN_PROTOCOL : HostDropReason.NOT_LOCAL);
            }
        }
    }

    private void receive6(ByteBuf pkt, int off) {
        int hl = Ipv6.check(pkt, off);
        if (hl < 0) {
            drop(pkt, HostDropReason.MALFORMED_IP);
            return;
        }
        if (Ipv6.isFragment(pkt, off)) {
            drop(pkt, HostDropReason.FRAGMENT);
            return;
        }
        long dHi = Ipv6.dstHi(pkt, off);
        long dLo = Ipv6.dstLo(pkt, off);
        boolean local = isLocalIpv6(dHi, dLo);
        boolean group = Ip6.isMulticast(dHi);
        int proto = Ipv6.upperLayerProtocol(pkt, off);
        int l4 = off + hl;
        int l4len = Ipv6.upperLayerLength(pkt, off);
        switch (proto) {
            case IpProtocol.UDP -> {
                if (Udp.checkV6(pkt, l4, l4len, Ipv6.srcHi(pkt, off), Ipv6.srcLo(pkt, off), dHi, dLo) < 0) {
                    drop(pkt, HostDropReason.MALFORMED_UDP);
                    return;
                }
                receiveUdp(pkt, off, l4, true, local, group);
            }
            case IpProtocol.TCP -> {
                if (Tcp.checkV6(pkt, l4, l4len, Ipv6.srcHi(pkt, off), Ipv6.srcLo(pkt, off), dHi, dLo) < 0) {
                    drop(pkt, HostDropReason.MALFORMED_TCP);
                    return;
                }
                counters.tcpIn();
                receiveTcp(pkt, off, l4, l4len, true, local, group);
            }
            case IpProtocol.ICMPV6 -> {
                if (!local && !udpPorts.hasTransparent() && (tcp == null || !tcp.hasTransparent())) {
                    drop(pkt, HostDropReason.NOT_LOCAL);
                    return;
                }
                if (Icmpv6.check(pkt, l4, l4len, Ipv6.pseudoHeaderSum(pkt, off, IpProtocol.ICMPV6, l4len)) < 0) {
                    drop(pkt, HostDropReason.MALFORMED_ICMP);
                    return;
                }
                receiveIcmp6(pkt, off, l4, l4len);
            }
            case IpProtocol.IPV6_NONXT -> drop(pkt, HostDropReason.UNKNOWN_PROTOCOL);
            default -> {
                if (local) {
                    // RFC 4443 §3.4: parameter problem, unrecognized next header, pointing at the field. The
                    // pointer is the fixed header's next-header field when there are no extension headers.
                    int pointer = hl == Ipv6.HEADER_LENGTH ? 6 : hl - 8;
                    sendIcmp6Error(pkt, off, Icmpv6.TYPE_PARAMETER_PROBLEM, Icmpv6.CODE_UNRECOGNIZED_NEXT_HEADER,
                            pointer);
                }
                drop(pkt, local ? HostDropReason.UNKNOWN_PROTOCOL : HostDropReason.NOT_LOCAL);
            }
        }
    }

    private void receiveUdp(ByteBuf pkt, int ipOff, int udpOff, boolean v6, boolean local, boolean group) {
        int dport = Udp.dstPort(pkt, udpOff);
        int sport = Udp.srcPort(pkt, udpOff);
        VirtualDatagramChannel ch;
        if (v6) {
            ch = udpPorts.lookup6(dport, Ipv6.dstHi(pkt, ipOff), Ipv6.dstLo(pkt, ipOff),
                    Ipv6.srcHi(pkt, ipOff), Ipv6.srcLo(pkt, ipOff), sport, local || group);
        } else {
            ch = udpPorts.lookup4(dport, Ipv4.dst(pkt, ipOff), Ipv4.src(pkt, ipOff), sport, local || group);
        }
        if (ch == null) {
            if (local) {
                if (v6) {
                    sendIcmp6Error(pkt, ipOff, Icmpv6.TYPE_DESTINATION_UNREACHABLE, Icmpv6.CODE_PORT_UNREACHABLE, 0);
                } else {
                    sendIcmp4Error(pkt, ipOff, Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.CODE_PORT_UNREACHABLE);
                }
            }
            drop(pkt, local || group ? HostDropReason.NO_LISTENER : HostDropReason.NOT_LOCAL);
            return;
        }
        int payloadLen = Udp.length(pkt, udpOff) - Udp.HEADER_LENGTH;
        if (ch.config().isUdpDatagrams()) {
            // no objects per datagram: the addresses as numbers, the payload a (pooled) slice, the holder pooled
            ByteBuf payload = pkt.retainedSlice(udpOff + Udp.HEADER_LENGTH, payloadLen);
            UdpDatagram d = v6
                    ? UdpDatagram.v6(payload, Ipv6.srcHi(pkt, ipOff), Ipv6.srcLo(pkt, ipOff), sport,
                            Ipv6.dstHi(pkt, ipOff), Ipv6.dstLo(pkt, ipOff), dport)
                    : UdpDatagram.v4(payload, Ipv4.src(pkt, ipOff), sport, Ipv4.dst(pkt, ipOff), dport);
            pkt.release();
            if (ch.offerDatagram(d, payloadLen)) {
                counters.udpIn();
            } else {
                counters.drop(HostDropReason.RECEIVE_QUEUE_FULL);
            }
            return;
        }
        InetSocketAddress sender;
        InetSocketAddress recipient;
        if (v6) {
            sender = new InetSocketAddress(v6Inet(Ipv6.srcHi(pkt, ipOff), Ipv6.srcLo(pkt, ipOff)), sport);
            recipient = new InetSocketAddress(v6Inet(Ipv6.dstHi(pkt, ipOff), Ipv6.dstLo(pkt, ipOff)), dport);
        } else {
            sender = new InetSocketAddress(Ip4.toInet(Ipv4.src(pkt, ipOff)), sport);
            recipient = new InetSocketAddress(Ip4.toInet(Ipv4.dst(pkt, ipOff)), dport);
        }
        ByteBuf payload = pkt.retainedSlice(udpOff + Udp.HEADER_LENGTH, payloadLen);
        pkt.release();
        if (ch.offerDatagram(new io.netty.channel.socket.DatagramPacket(payload, recipient, sender), payloadLen)) {
            counters.udpIn();
        } else {
            counters.drop(HostDropReason.RECEIVE_QUEUE_FULL);
        }
    }

    /** IPv4-mapped IPv6 addresses stay IPv6 objects, as the JDK would return an Inet4Address; keep it simple. */
    private static InetAddress v6Inet(long hi, long lo) {
        return Ip6.toInet(hi, lo);
    }

    private void receiveTcp(ByteBuf pkt, int ipOff, int tcpOff, int tcpLen, boolean v6, boolean local,
                            boolean group) {
        if (group) {
            drop(pkt, HostDropReason.NOT_LOCAL); // TCP is unicast only (RFC 1122 §4.2.3.10)
            return;
        }
        TcpSink t = tcp;
        if (t != null && t.segment(pkt, ipOff, tcpOff, tcpLen, v6, local)) {
            return; // the TCP layer took the packet
        }
        if (!local) {
            drop(pkt, HostDropReason.NOT_LOCAL);
            return;
        }
        sendReset(pkt, ipOff, tcpOff, tcpLen, v6);
        drop(pkt, HostDropReason.NO_LISTENER);
    }

    private void receiveIcmp4(ByteBuf pkt, int off, int icmp, int len) {
        int type = Icmpv4.type(pkt, icmp);
        if (type == Icmpv4.TYPE_ECHO_REQUEST && answerPing && isLocalIpv4(Ipv4.dst(pkt, off))) {
            ByteBuf r = newPacket(Ipv4.MIN_HEADER_LENGTH + len);
            Icmpv4.writeEchoReplyPacket(r, pkt, off, nextIpId());
            pkt.release();
            counters.echoReply();
            transmit(r);
            return;
        }
        if (Icmpv4.isError(type) && len >= Icmpv4.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH + 8) {
            int inner = icmp + Icmpv4.HEADER_LENGTH;
            int ihl = (pkt.getUnsignedByte(inner) & 0x0F) * 4;
            if (pkt.getUnsignedByte(inner) >>> 4 == 4 && ihl >= Ipv4.MIN_HEADER_LENGTH
                    && inner + ihl + 8 <= pkt.writerIndex()) {
                int code = Icmpv4.code(pkt, icmp);
                int innerSrc = pkt.getInt(inner + 12);
                int innerDst = pkt.getInt(inner + 16);
                int innerProto = pkt.getUnsignedByte(inner + 9);
                int l4 = inner + ihl;
                int sport = pkt.getUnsignedShort(l4);
                int dport = pkt.getUnsignedShort(l4 + 2);
                boolean delivered = false;
                if (innerProto == IpProtocol.UDP) {
                    VirtualDatagramChannel ch = udpPorts.lookup4(sport, innerSrc, innerDst, dport, true);
                    if (ch != null) {
                        delivered = ch.offerIcmpError(icmpError4(type, code, innerDst, dport), innerDst, dport);
                    }
                } else if (innerProto == IpProtocol.TCP && tcp != null) {
                    int mtuHint = type == Icmpv4.TYPE_DESTINATION_UNREACHABLE
                            && code == Icmpv4.CODE_FRAGMENTATION_NEEDED ? Icmpv4.nextHopMtu(pkt, icmp) : -1;
                    delivered = tcp.icmpError(pkt, inner, l4, false, type, code, mtuHint);
                }
                if (delivered) {
                    counters.icmpErrorDelivered();
                    pkt.release();
                    return;
                }
                drop(pkt, HostDropReason.ICMP_NO_FLOW);
                return;
            }
        }
        drop(pkt, HostDropReason.ICMP_IGNORED);
    }

    private void receiveIcmp6(ByteBuf pkt, int off, int icmp, int len) {
        int type = Icmpv6.type(pkt, icmp);
        if (type == Icmpv6.TYPE_ECHO_REQUEST && answerPing
                && isLocalIpv6(Ipv6.dstHi(pkt, off), Ipv6.dstLo(pkt, off))) {
            ByteBuf r = newPacket(Ipv6.HEADER_LENGTH + len);
            if (Icmpv6.writeEchoReplyPacket(r, pkt, off) < 0) {
                r.release();
                drop(pkt, HostDropReason.MALFORMED_ICMP);
                return;
            }
            pkt.release();
            counters.echoReply();
            transmit(r);
            return;
        }
        if (Icmpv6.isError(type) && len >= Icmpv6.HEADER_LENGTH + Ipv6.HEADER_LENGTH + 8) {
            int inner = icmp + Icmpv6.HEADER_LENGTH;
            if (pkt.getUnsignedByte(inner) >>> 4 == 6) {
                int code = Icmpv6.code(pkt, icmp);
                // The quote may be cut short, so walk no extension headers: the common case has none.
                int innerProto = pkt.getUnsignedByte(inner + 6);
                int l4 = inner + Ipv6.HEADER_LENGTH;
                long sHi = pkt.getLong(inner + 8);
                long sLo = pkt.getLong(inner + 16);
                long dHi = pkt.getLong(inner + 24);
                long dLo = pkt.getLong(inner + 32);
                int sport = pkt.getUnsignedShort(l4);
                int dport = pkt.getUnsignedShort(l4 + 2);
                boolean delivered = false;
                if (innerProto == IpProtocol.UDP) {
                    VirtualDatagramChannel ch = udpPorts.lookup6(sport, sHi, sLo, dHi, dLo, dport, true);
                    if (ch != null) {
                        delivered = ch.offerIcmpError(icmpError6(type, code, dHi, dLo, dport), dHi, dLo, dport);
                    }
                } else if (innerProto == IpProtocol.TCP && tcp != null) {
                    int mtuHint = type == Icmpv6.TYPE_PACKET_TOO_BIG ? (int) Math.min(Icmpv6.mtu(pkt, icmp), 65535)
                            : -1;
                    delivered = tcp.icmpError(pkt, inner, l4, true, type, code, mtuHint);
                }
                if (delivered) {
                    counters.icmpErrorDelivered();
                    pkt.release();
                    return;
                }
                drop(pkt, HostDropReason.ICMP_NO_FLOW);
                return;
            }
        }
        drop(pkt, HostDropReason.ICMP_IGNORED);
    }

    private static Exception icmpError4(int type, int code, int dst, int port) {
        String where = Ip4.format(dst) + ":" + port;
        if (type == Icmpv4.TYPE_DESTINATION_UNREACHABLE && code == Icmpv4.CODE_PORT_UNREACHABLE) {
            return new PortUnreachableException("ICMP port unreachable from " + where);
        }
        return new NoRouteToHostException("ICMP type " + type + " code " + code + " for " + where);
    }

    private static Exception icmpError6(int type, int code, long hi, long lo, int port) {
        String where = "[" + Ip6.format(hi, lo) + "]:" + port;
        if (type == Icmpv6.TYPE_DESTINATION_UNREACHABLE && code == Icmpv6.CODE_PORT_UNREACHABLE) {
            return new PortUnreachableException("ICMPv6 port unreachable from " + where);
        }
        return new NoRouteToHostException("ICMPv6 type " + type + " code " + code + " for " + where);
    }

    private void drop(ByteBuf pkt, HostDropReason reason) {
        counters.drop(reason);
        pkt.release();
    }

    // ---- ICMP errors and resets we send ----

    /** Sends an ICMP error about the IPv4 packet at {@code off} (the caller still owns and releases it). */
    void sendIcmp4Error(ByteBuf pkt, int off, int type, int code) {
        if (!Icmpv4.isErrorAllowed(pkt, off)) {
            return;
        }
        if (!icmpLimiter.tryAcquire()) {
            counters.drop(HostDropReason.ICMP_RATE_LIMITED);
            return;
        }
        ByteBuf r = newPacket(Icmpv4.MAX_ERROR_DATAGRAM);
        if (Icmpv4.writeErrorPacket(r, Ipv4.dst(pkt, off), type, code, 0, pkt, off, nextIpId()) < 0) {
            r.release();
            return;
        }
        counters.icmpErrorSent();
        transmit(r);
    }

    /** Sends an ICMPv6 error about the IPv6 packet at {@code off} (the caller still owns and releases it). */
    void sendIcmp6Error(ByteBuf pkt, int off, int type, int code, long rest) {
        if (!Icmpv6.isErrorAllowed(pkt, off, type, code) || Ip6.isMulticast(Ipv6.dstHi(pkt, off))) {
            return;
        }
        if (!icmpLimiter.tryAcquire()) {
            counters.drop(HostDropReason.ICMP_RATE_LIMITED);
            return;
        }
        ByteBuf r = newPacket(Ipv6.MIN_MTU);
        if (Icmpv6.writeErrorPacket(r, Ipv6.dstHi(pkt, off), Ipv6.dstLo(pkt, off), type, code, rest, pkt, off,
                Ipv6.DEFAULT_HOP_LIMIT) < 0) {
            r.release();
            return;
        }
        counters.icmpErrorSent();
        transmit(r);
    }

    /**
     * Answers a segment for which no connection or listener exists with a reset (RFC 9293 §3.10.7.1): a
     * segment carrying ACK gets {@code <SEQ=SEG.ACK><CTL=RST>}, others {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
     * <CTL=RST,ACK>}; a reset is never answered. The caller still owns and releases {@code pkt}.
     */
    void sendReset(ByteBuf pkt, int ipOff, int tcpOff, int tcpLen, boolean v6) {
        int flags = Tcp.flags(pkt, tcpOff);
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        long seq;
        long ack;
        int outFlags;
        if ((flags & Tcp.ACK) != 0) {
            seq = Tcp.ack(pkt, tcpOff);
            ack = 0;
            outFlags = Tcp.RST;
        } else {
            seq = 0;
            ack = (Tcp.seq(pkt, tcpOff) + Tcp.sequenceLength(pkt, tcpOff, tcpLen)) & 0xFFFF_FFFFL;
            outFlags = Tcp.RST | Tcp.ACK;
        }
        int sport = Tcp.dstPort(pkt, tcpOff);
        int dport = Tcp.srcPort(pkt, tcpOff);
        ByteBuf r = newPacket(Ipv6.HEADER_LENGTH + Tcp.MIN_HEADER_LENGTH);
        if (v6) {
            long sHi = Ipv6.dstHi(pkt, ipOff);
            long sLo = Ipv6.dstLo(pkt, ipOff);
            long dHi = Ipv6.srcHi(pkt, ipOff);
            long dLo = Ipv6.srcLo(pkt, ipOff);
            Ipv6.writeHeader(r, 0, 0, Tcp.MIN_HEADER_LENGTH, IpProtocol.TCP, Ipv6.DEFAULT_HOP_LIMIT, sHi, sLo, dHi, dLo);
            int t = r.writerIndex();
            Tcp.writeHeader(r, sport, dport, seq, ack, outFlags, 0, 0, null, 0, 0);
            Tcp.fillChecksumV6(r, t, Tcp.MIN_HEADER_LENGTH, sHi, sLo, dHi, dLo);
        } else {
            int src = Ipv4.dst(pkt, ipOff);
            int dst = Ipv4.src(pkt, ipOff);
            Ipv4.writeHeader(r, src, dst, IpProtocol.TCP, Ipv4.DEFAULT_TTL, Tcp.MIN_HEADER_LENGTH, nextIpId(), true);
            int t = r.writerIndex();
            Tcp.writeHeader(r, sport, dport, seq, ack, outFlags, 0, 0, null, 0, 0);
            Tcp.fillChecksumV4(r, t, Tcp.MIN_HEADER_LENGTH, src, dst);
        }
        transmit(r);
    }

    // ---- outbound ----

    /** A new buffer for a packet of up to {@code capacity} bytes, with {@link #HEADROOM} reserved. */
    ByteBuf newPacket(int capacity) {
        ChannelHandlerContext c = ctx;
        ByteBufAllocator alloc = c == null ? ByteBufAllocator.DEFAULT : c.alloc();
        ByteBuf b = alloc.directBuffer(HEADROOM + capacity);
        b.writerIndex(HEADROOM).readerIndex(HEADROOM);
        return b;
    }

    int nextIpId() {
        return ipId.incrementAndGet() & 0xFFFF;
    }

    /**
     * Sends a complete IP packet out of the device channel, from any thread; takes ownership. Returns false (the
     * packet released and counted) when it was dropped at once.
     */
    boolean transmit(ByteBuf packet) {
        ChannelHandlerContext c = ctx;
        EventLoop l = loop;
        if (c == null || l == null) {
            counters.drop(HostDropReason.NOT_ATTACHED);
            packet.release();
            return false;
        }
        if (l.inEventLoop()) {
            return write(c, packet, true);
        }
        if (pendingOutputCount.incrementAndGet() > maxPendingOutput) {
            pendingOutputCount.decrementAndGet();
            counters.drop(HostDropReason.DEVICE_QUEUE_FULL);
            packet.release();
            return false;
        }
        pendingOutput.offer(packet);
        if (outputWakeup.compareAndSet(0, 1)) {
            try {
                l.execute(outputTask);
            } catch (RejectedExecutionException e) {
                releasePendingOutput();
            }
        }
        return true;
    }

    /**
     * Sends a large TCP segment with its offload state (segmentation and checksum left to the device), on the
     * host's loop only (the TCP engine's {@code largeSegmentBytes}).
     */
    boolean transmitLarge(dev.pktkit.codec.offload.OffloadPacket packet) {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            counters.drop(HostDropReason.NOT_ATTACHED);
            packet.release();
            return false;
        }
        return write(c, packet, true);
    }

    /**
     * At most this many packets sent inside {@link #holdFlushes()} wait for one flush: the device's segment (a hub
     * that flushes once per read batch) takes a batch whole only up to its ports' water marks, which
     * {@code SlirpGateway} sets to 32 frames by default.
     */
    static final int HELD_FLUSH_PACKETS = 16;

    /**
     * Makes the packets sent from now until {@link #releaseFlushes(boolean)} leave with one device flush per
     * {@value #HELD_FLUSH_PACKETS} rather than one each (the segments one host write gives the TCP engine: each
     * flush runs the device's pipeline, and a pipe's delivery, on its own), or sooner when the device's write buffer
     * passes its high water mark. On the device's loop only; a call on another thread or inside a batch changes
     * nothing, and inside a device read the read's own flush at its end covers what was held.
     *
     * @return whether this call began a batch; pass it to {@link #releaseFlushes(boolean)}
     */
    boolean holdFlushes() {
        EventLoop l = loop;
        if (holding || l == null || !l.inEventLoop()) {
            return false;
        }
        holding = true;
        return true;
    }

    /** Ends the batch {@link #holdFlushes()} began (when {@code began}), flushing what it held. */
    void releaseFlushes(boolean began) {
        if (!began) {
            return;
        }
        holding = false;
        held = 0;
        ChannelHandlerContext c = ctx;
        if (flushNeeded && !inRead) {
            flushNeeded = false;
            if (c != null) {
                c.flush();
            }
        }
    }

    /** Sends several packets built on another loop in one hop. */
    private boolean write(ChannelHandlerContext c, io.netty.util.ReferenceCounted packet, boolean flushNow) {
        Channel ch = c.channel();
        if (!ch.isActive()) {
            counters.drop(HostDropReason.NOT_ATTACHED);
            packet.release();
            return false;
        }
        ChannelOutboundBuffer ob = ch.unsafe().outboundBuffer();
        if (ob != null && ob.totalPendingWriteBytes() > maxDeviceQueueBytes) {
            counters.drop(HostDropReason.DEVICE_QUEUE_FULL);
            packet.release();
            return false;
        }
        counters.countTransmitted();
        c.write(packet, c.voidPromise());
        if (flushNow) {
            if (inRead) {
                flushNeeded = true;
            } else if (holding && ++held < HELD_FLUSH_PACKETS && ch.isWritable()) {
                // held: unless the device's write buffer is past its high water mark (a hub port with lower marks,
                // or large segments), which a held batch must not overrun
                flushNeeded = true;
            } else {
                held = 0;
                flushNeeded = false;
                c.flush();
            }
        }
        return true;
    }

    private void drainOutput() {
        outputWakeup.set(0);
        ChannelHandlerContext c = ctx;
        int n = 0;
        for (;;) {
            ByteBuf p = pendingOutput.poll();
            if (p == null) {
                break;
            }
            pendingOutputCount.decrementAndGet();
            if (c == null) {
                counters.drop(HostDropReason.NOT_ATTACHED);
                p.release();
                continue;
            }
            write(c, p, false);
            n++;
        }
        if (n > 0 && c != null) {
            if (inRead) {
                flushNeeded = true;
            } else {
                c.flush();
            }
        }
    }

    private void releasePendingOutput() {
        for (;;) {
            ByteBuf p = pendingOutput.poll();
            if (p == null) {
                return;
            }
            pendingOutputCount.decrementAndGet();
            counters.drop(HostDropReason.NOT_ATTACHED);
            p.release();
        }
    }

    // ---- addresses ----

    /** The IPv4 source address, or 0 when none is configured. */
    int sourceIpv4() {
        if (staticV4.length > 0) {
            return staticV4[0];
        }
        if (adapter != null) {
            Inet4Address a = adapter.ipv4Address();
            return a == null ? 0 : Ip4.of(a);
        }
        return 0;
    }

    /**
     * Picks an IPv6 source for {@code dst} (RFC 6724 in short: link-local for link-local destinations, else a
     * non-link-local address when there is one) into {@code out[0..1]}; false when the host has none.
     */
    boolean sourceIpv6(long dstHi, long[] out) {
        boolean wantLinkLocal = Ip6.isLinkLocal(dstHi);
        boolean found = false;
        if (staticV6.length > 0) {
            for (int i = 0; i < staticV6.length; i += 2) {
                if (!found || Ip6.isLinkLocal(staticV6[i]) == wantLinkLocal) {
                    out[0] = staticV6[i];
                    out[1] = staticV6[i + 1];
                    found = true;
                    if (Ip6.isLinkLocal(staticV6[i]) == wantLinkLocal) {
                        return true;
                    }
                }
            }
            return found;
        }
        if (adapter != null) {
            for (Inet6Address a : adapter.ipv6Addresses()) {
                long hi = Ip6.hi(a);
                if (!found || Ip6.isLinkLocal(hi) == wantLinkLocal) {
                    out[0] = hi;
                    out[1] = Ip6.lo(a);
                    found = true;
                    if (Ip6.isLinkLocal(hi) == wantLinkLocal) {
                        return true;
                    }
                }
            }
        }
        return found;
    }

    int maxQueuedDatagrams() {
        return maxQueuedDatagrams;
    }

    void dropCount(HostDropReason reason) {
        counters.drop(reason);
    }

    void countUdpOut() {
        counters.udpOut();
    }

    /** Installs the TCP layer (done once by the host's socket support). */
    void tcp(TcpSink sink) {
        this.tcp = sink;
    }

    /** The TCP layer's view of the host: inbound segments and the ICMP errors that quote them. */
    interface TcpSink {
        /** Takes a checked segment; returns false (ownership kept by the caller) when no flow or listener wants it. */
        boolean segment(ByteBuf pkt, int ipOff, int tcpOff, int tcpLen, boolean v6, boolean local);

        /** An ICMP error quoting a TCP header at {@code l4}; returns whether a connection took it (pkt not owned). */
        boolean icmpError(ByteBuf pkt, int innerIpOff, int l4, boolean v6, int type, int code, int mtu);

        /** The device channel became writable again. */
        void deviceWritable();

        /** Whether an any-address listener exists (ICMP errors to foreign addresses then matter). */
        boolean hasTransparent();
    }

    /** A token bucket for ICMP errors (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)). */
    static final class IcmpRateLimiter {
        private final long perSecond;
        private long tokens;
        private long last = System.nanoTime();

        IcmpRateLimiter(int perSecond) {
            this.perSecond = perSecond;
            this.tokens = perSecond;
        }

        synchronized boolean tryAcquire() {
            long now = System.nanoTime();
            long add = (now - last) * perSecond / 1_000_000_000L;
            if (add > 0) {
                tokens = Math.min(perSecond, tokens + add);
                last = now;
            }
            if (tokens > 0) {
                tokens--;
                return true;
            }
            return false;
        }
    }

    /** Builds a {@link VirtualHost}. */
    public static final class Builder {
        private final List<Integer> v4 = new ArrayList<>();
        private final List<Long> v6 = new ArrayList<>();
        private L2Adapter adapter;
        private int mtu = DEFAULT_MTU;
        private int maxDatagramChannels = DEFAULT_MAX_DATAGRAM_CHANNELS;
        private int maxQueuedDatagrams = DEFAULT_MAX_QUEUED_DATAGRAMS;
        private int maxPendingOutput = DEFAULT_MAX_PENDING_OUTPUT;
        private int maxDeviceQueueBytes = DEFAULT_MAX_DEVICE_QUEUE_BYTES;
        private int icmpErrorsPerSecond = DEFAULT_ICMP_ERRORS_PER_SECOND;
        private int ephemeralLow = DEFAULT_EPHEMERAL_LOW;
        private int ephemeralHigh = DEFAULT_EPHEMERAL_HIGH;
        private boolean answerPing = true;
        private int maxTcpBindings = DEFAULT_MAX_TCP_BINDINGS;
        private TcpEngineConfig tcpConfig = new TcpEngineConfig();

        private Builder() {
        }

        /** Adds a static IPv4 or IPv6 address (the first of each family is the default source). */
        public Builder address(InetAddress address) {
            Objects.requireNonNull(address, "address");
            if (address instanceof Inet4Address a4) {
                v4.add(Ip4.of(a4));
            } else {
                Inet6Address a6 = (Inet6Address) address;
                v6.add(Ip6.hi(a6));
                v6.add(Ip6.lo(a6));
            }
            return this;
        }

        /** {@link #address(InetAddress)} from a literal such as {@code "10.0.0.2"} or {@code "fd00::2"}. */
        public Builder address(String literal) {
            Objects.requireNonNull(literal, "literal");
            if (literal.indexOf(':') >= 0) {
                return address(Ip6.toInet(Ip6.parseHi(literal), Ip6.parseLo(literal)));
            }
            return address(Ip4.toInet(Ip4.parse(literal)));
        }

        /**
         * Takes the addresses of {@code adapter} (its DHCP lease, SLAAC and static addresses, as they change);
         * put the host right after the adapter in the same pipeline. Static addresses, if any, come first.
         */
        public Builder addressesOf(L2Adapter adapter) {
            this.adapter = Objects.requireNonNull(adapter, "adapter");
            return this;
        }

        /** IP MTU of the interface (default {@value #DEFAULT_MTU}); TCP's MSS and UDP's maximum follow it. */
        public Builder mtu(int mtu) {
            if (mtu < 1280 || mtu > 65535) {
                throw new IllegalArgumentException("mtu " + mtu + " (1280..65535)");
            }
            this.mtu = mtu;
            return this;
        }

        /** Bound on bound datagram channels (default {@value #DEFAULT_MAX_DATAGRAM_CHANNELS}). */
        public Builder maxDatagramChannels(int n) {
            this.maxDatagramChannels = ObjectUtil.checkPositive(n, "maxDatagramChannels");
            return this;
        }

        /** Bound on datagrams queued unread per datagram channel (default {@value #DEFAULT_MAX_QUEUED_DATAGRAMS}). */
        public Builder maxQueuedDatagrams(int n) {
            this.maxQueuedDatagrams = ObjectUtil.checkPositive(n, "maxQueuedDatagrams");
            return this;
        }

        /** Bound on packets waiting to cross from channel loops to the host's loop (default 8192). */
        public Builder maxPendingOutput(int n) {
            this.maxPendingOutput = ObjectUtil.checkPositive(n, "maxPendingOutput");
            return this;
        }

        /** Bytes the device channel may hold unsent before the host drops what it sends (default 8 MiB). */
        public Builder maxDeviceQueueBytes(int n) {
            this.maxDeviceQueueBytes = ObjectUtil.checkPositive(n, "maxDeviceQueueBytes");
            return this;
        }

        /** ICMP errors the host may send per second (default {@value #DEFAULT_ICMP_ERRORS_PER_SECOND}). */
        public Builder icmpErrorsPerSecond(int n) {
            this.icmpErrorsPerSecond = ObjectUtil.checkPositive(n, "icmpErrorsPerSecond");
            return this;
        }

        /** The range ephemeral ports come from (default 49152–65535). */
        public Builder ephemeralPorts(int low, int high) {
            if (low < 1 || high > 65535 || low > high) {
                throw new IllegalArgumentException("ephemeral ports " + low + ".." + high);
            }
            this.ephemeralLow = low;
            this.ephemeralHigh = high;
            return this;
        }

        /** Whether the host answers echo requests (default true). */
        public Builder answerPing(boolean answer) {
            this.answerPing = answer;
            return this;
        }

        /**
         * The TCP engine's bounds and settings (copied; default {@code new TcpEngineConfig()}); the host sets the
         * engine's MTU, headroom and payload copying itself. Segmentation offload: {@code largeSegmentBytes} 0
         * (default) turns it on when the device channel is marked {@code OffloadPacket.ACCEPTS}, a size above 0
         * forces it on, {@link TcpEngineConfig#LARGE_SEGMENTS_OFF} keeps it off on any device.
         */
        public Builder tcp(TcpEngineConfig config) {
            this.tcpConfig = Objects.requireNonNull(config, "config").copy();
            return this;
        }

        /** Bound on bound TCP sockets and listeners (default {@value #DEFAULT_MAX_TCP_BINDINGS}). */
        public Builder maxTcpBindings(int n) {
            this.maxTcpBindings = ObjectUtil.checkPositive(n, "maxTcpBindings");
            return this;
        }

        public VirtualHost build() {
            return new VirtualHost(this);
        }
    }
}
