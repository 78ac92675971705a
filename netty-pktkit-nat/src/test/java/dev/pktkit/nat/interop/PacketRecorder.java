package dev.pktkit.nat.interop;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Copies every IP packet read from or written to a TUN (first in its pipeline, so it sees the packets as the
 * kernel does), at most {@link #MAX_PACKETS}; later ones are not kept. Written out as a classic pcap file
 * (link type RAW) for tshark, or inspected in place.
 */
@ChannelHandler.Sharable
public final class PacketRecorder extends ChannelDuplexHandler {
    /** The bound on the packets kept. */
    public static final int MAX_PACKETS = 10_000;

    /** One packet and its direction: {@code fromKernel} read from the TUN, else written to it. */
    public record Packet(boolean fromKernel, byte[] bytes) {
        public int protocol() {
            return bytes[9] & 0xff;
        }

        public String source() {
            return (bytes[12] & 0xff) + "." + (bytes[13] & 0xff) + "." + (bytes[14] & 0xff) + "." + (bytes[15] & 0xff);
        }

        public String destination() {
            return (bytes[16] & 0xff) + "." + (bytes[17] & 0xff) + "." + (bytes[18] & 0xff) + "." + (bytes[19] & 0xff);
        }

        private int l4() {
            return (bytes[0] & 0x0f) * 4;
        }

        /** The UDP/TCP source port (IPv4, unfragmented). */
        public int sourcePort() {
            return ((bytes[l4()] & 0xff) << 8) | (bytes[l4() + 1] & 0xff);
        }

        /** The UDP/TCP destination port (IPv4, unfragmented). */
        public int destinationPort() {
            return ((bytes[l4() + 2] & 0xff) << 8) | (bytes[l4() + 3] & 0xff);
        }

        /** Whether this is an IPv4 UDP datagram. */
        public boolean udp() {
            return bytes.length >= 28 && (bytes[0] >> 4) == 4 && protocol() == 17;
        }

        /** The UDP payload as ISO-8859-1 text ("" if not UDP). */
        public String udpText() {
            return udp() ? new String(bytes, l4() + 8, bytes.length - l4() - 8,
                    java.nio.charset.StandardCharsets.ISO_8859_1) : "";
        }
    }

    private final List<Packet> packets = new ArrayList<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        copy(msg, true);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise p) {
        copy(msg, false);
        ctx.write(msg, p);
    }

    private void copy(Object msg, boolean fromKernel) {
        if (msg instanceof ByteBuf b) {
            byte[] a = new byte[b.readableBytes()];
            b.getBytes(b.readerIndex(), a);
            synchronized (packets) {
                if (packets.size() < MAX_PACKETS) {
                    packets.add(new Packet(fromKernel, a));
                }
            }
        }
    }

    /** A copy of the packets kept so far. */
    public List<Packet> packets() {
        synchronized (packets) {
            return List.copyOf(packets);
        }
    }

    /** How many of the packets kept match. */
    public long count(Predicate<Packet> p) {
        return packets().stream().filter(p).count();
    }

    /** Forgets the packets kept so far. */
    public void clear() {
        synchronized (packets) {
            packets.clear();
        }
    }

    /** Writes the packets kept as a classic pcap file (link type 101, raw IP). */
    public void write(Path file) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(101);
        try (OutputStream o = Files.newOutputStream(file)) {
            o.write(h.array());
            int i = 0;
            for (Packet p : packets()) {
                ByteBuffer r = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                r.putInt(1).putInt(i++).putInt(p.bytes().length).putInt(p.bytes().length);
                o.write(r.array());
                o.write(p.bytes());
            }
        }
    }
}
