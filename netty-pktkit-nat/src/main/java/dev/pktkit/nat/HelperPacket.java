package dev.pktkit.nat;

import dev.pktkit.codec.wire.IpProtocol;
import io.netty.buffer.ByteBuf;

/**
 * What a {@link NatHelper} sees of one packet: the buffer, where its payload lies, its direction and the
 * session's endpoints; and the one way to change it, {@link #replace}. One instance per engine, reused for every
 * packet (no allocation): valid only during {@link NatHelper#packet}.
 */
public final class HelperPacket {
    final NatEngine engine;
    ByteBuf buf;
    int ipOffset;
    int payloadOffset;
    int payloadLength;
    boolean outbound;
    int protocol;
    int namespace;
    int insideAddress;
    int insidePort;
    int outsideAddress;
    int outsidePort;
    int remoteAddress;
    int remotePort;
    long seq;
    int delta;
    boolean edited;
    private final int maxGrowth;

    HelperPacket(NatEngine engine, int maxGrowth) {
        this.engine = engine;
        this.maxGrowth = maxGrowth;
    }

    void reset(ByteBuf buf, int ipOffset, int payloadOffset, int payloadLength, boolean outbound, int protocol,
               int namespace, int insideAddress, int insidePort, int outsideAddress, int outsidePort,
               int remoteAddress, int remotePort, long seq) {
        this.buf = buf;
        this.ipOffset = ipOffset;
        this.payloadOffset = payloadOffset;
        this.payloadLength = payloadLength;
        this.outbound = outbound;
        this.protocol = protocol;
        this.namespace = namespace;
        this.insideAddress = insideAddress;
        this.insidePort = insidePort;
        this.outsideAddress = outsideAddress;
        this.outsidePort = outsidePort;
        this.remoteAddress = remoteAddress;
        this.remotePort = remotePort;
        this.seq = seq;
        this.delta = 0;
        this.edited = false;
    }

    /** The engine, for {@link NatEngine#expect}. */
    public NatEngine engine() {
        return engine;
    }

    /** The packet's buffer; read the payload at {@link #payloadOffset()}; change it only through {@link #replace}. */
    public ByteBuf buffer() {
        return buf;
    }

    /** Absolute index of the first payload byte. */
    public int payloadOffset() {
        return payloadOffset;
    }

    public int payloadLength() {
        return payloadLength;
    }

    /** From the inside to the outside. */
    public boolean isOutbound() {
        return outbound;
    }

    /** {@link IpProtocol#TCP} or {@link IpProtocol#UDP}. */
    public int protocol() {
        return protocol;
    }

    public int namespace() {
        return namespace;
    }

    public int insideAddress() {
        return insideAddress;
    }

    public int insidePort() {
        return insidePort;
    }

    /** The session's outside endpoint: what the remote sees. */
    public int outsideAddress() {
        return outsideAddress;
    }

    public int outsidePort() {
        return outsidePort;
    }

    public int remoteAddress() {
        return remoteAddress;
    }

    public int remotePort() {
        return remotePort;
    }

    /** The TCP sequence number as the sender wrote it (0 for UDP). */
    public long sequence() {
        return seq;
    }

    /** The session as a {@link FlowKey} (allocates: for {@link Expectation#master()}). */
    public FlowKey flow() {
        return new FlowKey(namespace, protocol, insideAddress, insidePort, remoteAddress, remotePort);
    }

    /**
     * Replaces {@code length} payload bytes at absolute index {@code at} with {@code with}. The packet may grow
     * or shrink (by at most the engine's per-packet growth bound in total); the engine fixes lengths, checksums
     * and, for TCP, the sequence offsets after the helper returns.
     *
     * @return false when refused (out of the payload, or the packet would grow beyond the bound)
     */
    public boolean replace(int at, int length, byte[] with) {
        int end = payloadOffset + payloadLength;
        if (at < payloadOffset || length < 0 || at + length > end) {
            return false;
        }
        int d = with.length - length;
        int total = buf.getUnsignedShort(ipOffset + 2);
        if (delta + d > maxGrowth || total + d > 65535) {
            return false;
        }
        buf.writerIndex(end);
        int tail = end - (at + length);
        if (d != 0) {
            byte[] rest = new byte[tail];
            buf.getBytes(at + length, rest);
            if (d > 0) {
                buf.ensureWritable(d);
            }
            buf.writerIndex(end + d);
            buf.setBytes(at + with.length, rest);
        }
        buf.setBytes(at, with);
        payloadLength += d;
        delta += d;
        buf.setShort(ipOffset + 2, total + d);
        edited = true;
        return true;
    }
}
