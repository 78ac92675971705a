package dev.pktkit.vtcp.host;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.vtcp.engine.IcmpError;
import dev.pktkit.vtcp.engine.SegmentSink;
import dev.pktkit.vtcp.engine.TcpEngine;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import dev.pktkit.vtcp.engine.TcpFlow;
import dev.pktkit.vtcp.engine.TcpScheduler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The host's TCP: one {@link TcpEngine} on the host's event loop, fed with the segments and ICMP errors the host
 * demultiplexes, sending through the host ({@link SegmentSink}: the IP header is written into the engine's
 * headroom), with its timer as one scheduled task on the host's loop ({@link TcpScheduler}).
 */
final class TcpLayer implements VirtualHost.TcpSink, SegmentSink, TcpScheduler {
    private final VirtualHost host;
    final TcpEngine engine;
    final EventLoop loop;
    final PortTable<PortTable.Bound> ports;
    private final Runnable timerTask = this::onTimer;
    private ScheduledFuture<?> timer;
    private long timerDeadline = Long.MAX_VALUE;
    volatile int transparentListeners;

    TcpLayer(VirtualHost host, EventLoop loop, ByteBufAllocator alloc, TcpEngineConfig config,
             PortTable<PortTable.Bound> ports) {
        this.host = host;
        this.loop = loop;
        this.ports = ports;
        TcpEngineConfig c = config.copy().mtu(host.mtu()).headroom(64).copyPayload(true).computeChecksums(true);
        this.engine = new TcpEngine(c, System::nanoTime, this, this, alloc);
        this.configuredLarge = c.largeSegmentBytes();
    }

    private final int configuredLarge;

    /** The large-segment size used when the device takes {@code OffloadPacket}s and the config left it at 0. */
    static final int AUTO_LARGE_SEGMENT_BYTES = 64_000;

    /**
     * The device does (or does not) take {@code OffloadPacket}s ({@code OffloadPacket.ACCEPTS} on its channel):
     * with {@code largeSegmentBytes} left at 0 in the host's TCP config, large segments are turned on
     * ({@value #AUTO_LARGE_SEGMENT_BYTES} bytes) or off accordingly; a configured size is kept, and
     * {@code TcpEngineConfig.LARGE_SEGMENTS_OFF} keeps them off. On the host's loop (or before registration).
     */
    void deviceOffload(boolean accepts) {
        if (configuredLarge == 0) {
            engine.largeSegmentBytes(accepts ? AUTO_LARGE_SEGMENT_BYTES : 0);
        }
    }

    // ---- TcpSink (host → engine), on the host's loop ----

    @Override
    public boolean segment(ByteBuf pkt, int ipOff, int tcpOff, int tcpLen, boolean v6, boolean local) {
        if (!local && transparentListeners == 0) {
            return false;
        }
        if (v6) {
            long sHi = Ipv6.srcHi(pkt, ipOff);
            long sLo = Ipv6.srcLo(pkt, ipOff);
            long dHi = Ipv6.dstHi(pkt, ipOff);
            long dLo = Ipv6.dstLo(pkt, ipOff);
            int ecn = Ipv6.trafficClass(pkt, ipOff) & 3;
            pkt.setIndex(tcpOff, tcpOff + tcpLen);
            engine.input6(pkt, sHi, sLo, dHi, dLo, ecn, true);
        } else {
            int src = Ipv4.src(pkt, ipOff);
            int dst = Ipv4.dst(pkt, ipOff);
            int ecn = Ipv4.ecn(pkt, ipOff);
            pkt.setIndex(tcpOff, tcpOff + tcpLen);
            engine.input4(pkt, src, dst, ecn, true);
        }
        return true;
    }

    @Override
    public boolean icmpError(ByteBuf pkt, int innerIpOff, int l4, boolean v6, int type, int code, int mtu) {
        IcmpError e = v6 ? map6(type, code) : map4(type, code);
        if (e == null) {
            return false;
        }
        int end = pkt.writerIndex();
        ByteBuf quoted = pkt.slice(l4, end - l4);
        if (v6) {
            engine.icmpError6(pkt.getLong(innerIpOff + 8), pkt.getLong(innerIpOff + 16), pkt.getLong(innerIpOff + 24),
                    pkt.getLong(innerIpOff + 32), quoted, e, Math.max(mtu, 0));
        } else {
            engine.icmpError4(pkt.getInt(innerIpOff + 12), pkt.getInt(innerIpOff + 16), quoted, e, Math.max(mtu, 0));
        }
        return true;
    }

    static IcmpError map4(int type, int code) {
        if (type == Icmpv4.TYPE_TIME_EXCEEDED) {
            return IcmpError.TIME_EXCEEDED;
        }
        if (type == Icmpv4.TYPE_PARAMETER_PROBLEM) {
            return IcmpError.PARAMETER_PROBLEM;
        }
        if (type != Icmpv4.TYPE_DESTINATION_UNREACHABLE) {
            return null;
        }
        return switch (code) {
            case Icmpv4.CODE_NET_UNREACHABLE, Icmpv4.CODE_NET_UNKNOWN -> IcmpError.NET_UNREACHABLE;
            case Icmpv4.CODE_HOST_UNREACHABLE, Icmpv4.CODE_HOST_UNKNOWN -> IcmpError.HOST_UNREACHABLE;
            case Icmpv4.CODE_PROTOCOL_UNREACHABLE -> IcmpError.PROTOCOL_UNREACHABLE;
            case Icmpv4.CODE_PORT_UNREACHABLE -> IcmpError.PORT_UNREACHABLE;
            case Icmpv4.CODE_FRAGMENTATION_NEEDED -> IcmpError.PACKET_TOO_BIG;
            case Icmpv4.CODE_NET_PROHIBITED, Icmpv4.CODE_HOST_PROHIBITED, Icmpv4.CODE_COMMUNICATION_PROHIBITED ->
                    IcmpError.ADMIN_PROHIBITED;
            default -> IcmpError.OTHER_UNREACHABLE;
        };
    }

    static IcmpError map6(int type, int code) {
        return switch (type) {
            case Icmpv6.TYPE_PACKET_TOO_BIG -> IcmpError.PACKET_TOO_BIG;
            case Icmpv6.TYPE_TIME_EXCEEDED -> IcmpError.TIME_EXCEEDED;
            case Icmpv6.TYPE_PARAMETER_PROBLEM -> IcmpError.PARAMETER_PROBLEM;
            case Icmpv6.TYPE_DESTINATION_UNREACHABLE -> switch (code) {
                case Icmpv6.CODE_NO_ROUTE -> IcmpError.NET_UNREACHABLE;
                case Icmpv6.CODE_ADDRESS_UNREACHABLE -> IcmpError.HOST_UNREACHABLE;
                case Icmpv6.CODE_PORT_UNREACHABLE -> IcmpError.PORT_UNREACHABLE;
                case Icmpv6.CODE_ADMINISTRATIVELY_PROHIBITED, Icmpv6.CODE_REJECT_ROUTE,
                     Icmpv6.CODE_SOURCE_POLICY_FAILED -> IcmpError.ADMIN_PROHIBITED;
                default -> IcmpError.OTHER_UNREACHABLE;
            };
            default -> null;
        };
    }

    @Override
    public void deviceWritable() {
        // The engine paces by its windows; a device that was full drops, and TCP recovers. Nothing to resume.
    }

    @Override
    public boolean hasTransparent() {
        return transparentListeners > 0;
    }

    // ---- SegmentSink (engine → host), on the host's loop ----

    @Override
    public void send(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn) {
        host.transmit(ipPacket(flow, header, payload, ecn));
    }

    /** Writes the IP header into the headroom before {@code header} (with the payload appended); returns it. */
    private ByteBuf ipPacket(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn) {
        if (payload != null) {
            // copyPayload is on, so this does not happen; if it does, keep one contiguous packet.
            header.writeBytes(payload);
            payload.release();
        }
        int tcpLen = header.readableBytes();
        int ri = header.readerIndex();
        if (flow.isIpv6()) {
            int start = ri - Ipv6.HEADER_LENGTH;
            header.readerIndex(start);
            int wi = header.writerIndex();
            header.writerIndex(start);
            Ipv6.writeHeader(header, ecn & 3, 0, tcpLen, IpProtocol.TCP, Ipv6.DEFAULT_HOP_LIMIT, flow.localHi(),
                    flow.localLo(), flow.remoteHi(), flow.remoteLo());
            header.writerIndex(wi);
        } else {
            int start = ri - Ipv4.MIN_HEADER_LENGTH;
            header.readerIndex(start);
            int wi = header.writerIndex();
            header.writerIndex(start);
            Ipv4.writeHeader(header, ecn & 3, host.nextIpId(), Ipv4.FLAG_DF, Ipv4.DEFAULT_TTL, IpProtocol.TCP,
                    flow.localV4(), flow.remoteV4(), null, 0, 0, tcpLen);
            header.writerIndex(wi);
        }
        return header;
    }

    /**
     * A large segment (the engine's {@code largeSegmentBytes}): the IP header as for {@link #send}, sent as an
     * {@link OffloadPacket} that asks the device to cut it into {@code segmentSize}-byte pieces and to complete the
     * partial TCP checksum of each; only a device that takes {@code OffloadPacket}s (a {@code TunChannel}, with
     * or without virtio-net headers: without, it cuts in software) can carry it.
     */
    @Override
    public void sendLarge(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn, int segmentSize) {
        int tcpStart = header.readerIndex();
        boolean cwr = (header.getUnsignedByte(tcpStart + 13) & dev.pktkit.codec.wire.Tcp.CWR) != 0;
        int thl = (header.getUnsignedByte(tcpStart + 12) >>> 4) << 2;
        ByteBuf pkt = ipPacket(flow, header, payload, ecn);
        int l3 = tcpStart - pkt.readerIndex();
        int type = (flow.isIpv6() ? OffloadPacket.GSO_TCPV6 : OffloadPacket.GSO_TCPV4) | (cwr ? OffloadPacket.GSO_ECN : 0);
        host.transmitLarge(new OffloadPacket(pkt, OffloadPacket.FLAG_NEEDS_CSUM, type, l3 + thl, segmentSize, l3, 16));
    }

    @Override
    public void sendUnreachable(TcpFlow flow, ByteBuf quotedTcpHeader) {
        try {
            int tl = quotedTcpHeader.readableBytes();
            if (flow.isIpv6()) {
                ByteBuf inv = host.newPacket(Ipv6.HEADER_LENGTH + tl);
                Ipv6.writeHeader(inv, 0, 0, tl, IpProtocol.TCP, Ipv6.DEFAULT_HOP_LIMIT, flow.remoteHi(),
                        flow.remoteLo(), flow.localHi(), flow.localLo());
                inv.writeBytes(quotedTcpHeader);
                ByteBuf r = host.newPacket(Ipv6.MIN_MTU);
                Icmpv6.writeDestinationUnreachablePacket(r, flow.localHi(), flow.localLo(),
                        Icmpv6.CODE_PORT_UNREACHABLE, inv, inv.readerIndex());
                inv.release();
                host.transmit(r);
            } else {
                ByteBuf inv = host.newPacket(Ipv4.MIN_HEADER_LENGTH + tl);
                Ipv4.writeHeader(inv, flow.remoteV4(), flow.localV4(), IpProtocol.TCP, Ipv4.DEFAULT_TTL, tl, 0, true);
                inv.writeBytes(quotedTcpHeader);
                ByteBuf r = host.newPacket(Icmpv4.MAX_ERROR_DATAGRAM);
                Icmpv4.writeDestinationUnreachablePacket(r, flow.localV4(), Icmpv4.CODE_PORT_UNREACHABLE, 0, inv,
                        inv.readerIndex(), host.nextIpId());
                inv.release();
                host.transmit(r);
            }
        } finally {
            quotedTcpHeader.release();
        }
    }

    // ---- TcpScheduler ----

    @Override
    public void wakeAt(long deadlineNanos) {
        if (timer != null && deadlineNanos >= timerDeadline) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerDeadline = deadlineNanos;
        long delay = Math.max(0, deadlineNanos - System.nanoTime());
        timer = loop.schedule(timerTask, delay, TimeUnit.NANOSECONDS);
    }

    private void onTimer() {
        timer = null;
        timerDeadline = Long.MAX_VALUE;
        engine.onTimer();
    }

    void close() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        engine.close();
    }
}
