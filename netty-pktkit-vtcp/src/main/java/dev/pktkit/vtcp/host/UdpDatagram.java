package dev.pktkit.vtcp.host;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import io.netty.buffer.ByteBuf;
import io.netty.util.Recycler;
import io.netty.util.ReferenceCounted;

import java.net.InetSocketAddress;

/**
 * A UDP datagram with its addresses as primitives: the allocation-free alternative to {@code DatagramPacket} on a
 * {@link VirtualDatagramChannel} (a relay such as slirp looks its flows up by these numbers and never needs
 * {@code InetSocketAddress} objects). Instances are pooled ({@link Recycler}): the holder goes back to the pool
 * when its content is released to zero, so a reader must not touch one after releasing it.
 *
 * <ul>
 * <li>Inbound: a channel with {@link VirtualChannelOption#UDP_DATAGRAMS} set fires these instead of
 * {@code DatagramPacket}s; the source ({@link #sender()}) is the sender, the destination ({@link #recipient()}) the address it was sent
 * to (with {@link VirtualChannelOption#TRANSPARENT}, any address).</li>
 * <li>Outbound: any {@link VirtualDatagramChannel} takes them: sent to the destination, from the source when the
 * channel is {@link VirtualChannelOption#TRANSPARENT} (else from the channel's own address and port).</li>
 * </ul>
 * Addresses: {@link #family()} 4 (the address in {@link #srcV4()}/{@link #dstV4()}) or 6 (in the hi/lo halves).
 * Reference counting is the content's: {@code retain}, {@code release} and {@code refCnt} act on it.
 */
public final class UdpDatagram implements ReferenceCounted {
    private static final Recycler<UdpDatagram> RECYCLER = new Recycler<>() {
        @Override
        protected UdpDatagram newObject(Handle<UdpDatagram> handle) {
            return new UdpDatagram(handle);
        }
    };

    private final Recycler.Handle<UdpDatagram> handle;
    private ByteBuf content;
    private int family;
    private long srcHi;
    private long srcLo;
    private long dstHi;
    private long dstLo;
    private int srcPort;
    private int dstPort;

    private UdpDatagram(Recycler.Handle<UdpDatagram> handle) {
        this.handle = handle;
    }

    /** A pooled IPv4 datagram; takes ownership of {@code content}. */
    public static UdpDatagram v4(ByteBuf content, int src, int srcPort, int dst, int dstPort) {
        UdpDatagram d = RECYCLER.get();
        d.content = content;
        d.family = 4;
        d.srcHi = 0;
        d.srcLo = src & 0xFFFFFFFFL;
        d.dstHi = 0;
        d.dstLo = dst & 0xFFFFFFFFL;
        d.srcPort = srcPort;
        d.dstPort = dstPort;
        return d;
    }

    /** A pooled IPv6 datagram; takes ownership of {@code content}. */
    public static UdpDatagram v6(ByteBuf content, long srcHi, long srcLo, int srcPort, long dstHi, long dstLo,
                                 int dstPort) {
        UdpDatagram d = RECYCLER.get();
        d.content = content;
        d.family = 6;
        d.srcHi = srcHi;
        d.srcLo = srcLo;
        d.dstHi = dstHi;
        d.dstLo = dstLo;
        d.srcPort = srcPort;
        d.dstPort = dstPort;
        return d;
    }

    /** The payload (the UDP data, without header). */
    public ByteBuf content() {
        return content;
    }

    /** 4 or 6. */
    public int family() {
        return family;
    }

    public int srcV4() {
        return (int) srcLo;
    }

    public int dstV4() {
        return (int) dstLo;
    }

    public long srcHi() {
        return srcHi;
    }

    public long srcLo() {
        return srcLo;
    }

    public long dstHi() {
        return dstHi;
    }

    public long dstLo() {
        return dstLo;
    }

    public int srcPort() {
        return srcPort;
    }

    public int dstPort() {
        return dstPort;
    }

    /** The source as an object (allocates: for control paths, not per packet). */
    public InetSocketAddress sender() {
        return new InetSocketAddress(family == 4 ? Ip4.toInet((int) srcLo) : Ip6.toInet(srcHi, srcLo), srcPort);
    }

    /** The destination as an object (allocates: for control paths, not per packet). */
    public InetSocketAddress recipient() {
        return new InetSocketAddress(family == 4 ? Ip4.toInet((int) dstLo) : Ip6.toInet(dstHi, dstLo), dstPort);
    }

    /**
     * Hands the content to the caller and returns this holder to the pool (the caller owns the content's
     * reference; this object must not be used again).
     */
    public ByteBuf takeContent() {
        ByteBuf c = content;
        recycle();
        return c;
    }

    private void recycle() {
        content = null;
        handle.recycle(this);
    }

    @Override
    public int refCnt() {
        return content.refCnt();
    }

    @Override
    public UdpDatagram retain() {
        content.retain();
        return this;
    }

    @Override
    public UdpDatagram retain(int increment) {
        content.retain(increment);
        return this;
    }

    @Override
    public UdpDatagram touch() {
        content.touch();
        return this;
    }

    @Override
    public UdpDatagram touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        if (content.release()) {
            recycle();
            return true;
        }
        return false;
    }

    @Override
    public boolean release(int decrement) {
        if (content.release(decrement)) {
            recycle();
            return true;
        }
        return false;
    }

    @Override
    public String toString() {
        return "UdpDatagram(" + (content == null ? "recycled" : sender() + " -> " + recipient() + ", "
                + content.readableBytes() + " B") + ")";
    }
}
