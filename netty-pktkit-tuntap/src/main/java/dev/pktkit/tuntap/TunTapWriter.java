package dev.pktkit.tuntap;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The write path of a TUN/TAP channel: which messages it accepts (and how they are made writable), the
 * virtio-net header in front of each, the {@code write(2)}/{@code writev(2)} calls, cutting in Java what a device
 * without offloads cannot take, and accounting for each finished write. Used by the I/O engines on the channel's
 * loop; loop-confined, no locks.
 */
final class TunTapWriter {
    /** The virtio-net header's 16-bit fields: little-endian (the channel asks for that on big-endian hosts). */
    private static final ValueLayout.OfShort LE16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final AbstractTunTapChannel ch;
    private final FileDescriptor fd;
    private final TunTapCounters counters;
    /** Header and iovecs for synchronous vectored writes. */
    private final MemorySegment writeScratch;

    TunTapWriter(AbstractTunTapChannel ch, FileDescriptor fd, TunTapCounters counters) {
        this.ch = ch;
        this.fd = fd;
        this.counters = counters;
        this.writeScratch = Arena.ofAuto().allocate(16 + 2L * LibC.IOVEC_SIZE, 16);
    }

    /**
     * What the channel writes for {@code msg}: a {@code ByteBuf} or {@link VirtioNetPacket} (or any
     * {@link dev.pktkit.codec.offload.OffloadPacket}, whose state is the same) whose bytes the
     * kernel can read in place (copied into a direct buffer if needed). Throws (and counts) for anything else.
     */
    Object filter(Object msg) {
        if (msg instanceof ByteBuf buf) {
            if (!buf.isReadable()) {
                counters.dropped(TunTapDropReason.TOO_SHORT);
                throw new IllegalArgumentException("empty packet");
            }
            return writable(buf);
        }
        if (msg instanceof dev.pktkit.codec.offload.OffloadPacket o) {
            VirtioNetPacket p = VirtioNetPacket.of(o); // codec's neutral type from a forwarder: same fields
            if (!p.content().isReadable()) {
                counters.dropped(TunTapDropReason.TOO_SHORT);
                throw new IllegalArgumentException("empty packet");
            }
            ByteBuf c = writable(p.content());
            return c == p.content() ? p : p.replace(c);
        }
        counters.dropped(TunTapDropReason.UNSUPPORTED_MESSAGE);
        throw new UnsupportedOperationException("a TUN/TAP channel writes ByteBuf and VirtioNetPacket, not "
                + (msg == null ? "null" : msg.getClass().getName()));
    }

    /** {@code buf} if the kernel can read it in place (direct, one piece, with an address); else a direct copy. */
    private ByteBuf writable(ByteBuf buf) {
        if (buf.hasMemoryAddress() && buf.nioBufferCount() == 1) {
            return buf;
        }
        ByteBuf copy = ch.alloc().directBuffer(buf.readableBytes());
        copy.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
        ReferenceCountUtil.safeRelease(buf);
        return copy;
    }

    /** The packet (or frame) bytes of a filtered outbound message. */
    static ByteBuf packetOf(Object msg) {
        return msg instanceof VirtioNetPacket p ? p.content() : (ByteBuf) msg;
    }

    /** Address of the first readable byte of a filtered outbound buffer. */
    static long addressOf(ByteBuf buf) {
        return buf.memoryAddress() + buf.readerIndex();
    }

    /** Writes the virtio-net header of {@code msg} (all zero for a plain buffer) at {@code off} of {@code seg}. */
    static void writeHeader(MemorySegment seg, long off, Object msg) {
        if (msg instanceof VirtioNetPacket p) {
            seg.set(ValueLayout.JAVA_BYTE, off, (byte) p.flags());
            seg.set(ValueLayout.JAVA_BYTE, off + 1, (byte) p.gsoType());
            seg.set(LE16, off + 2, (short) p.headerLength());
            seg.set(LE16, off + 4, (short) p.gsoSize());
            seg.set(LE16, off + 6, (short) p.checksumStart());
            seg.set(LE16, off + 8, (short) p.checksumOffset());
        } else {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, off, 0L);
            seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, off + 8, (short) 0);
        }
    }

    /**
     * Whether {@code msg} must be cut or checksummed in Java before it can be written: a
     * {@link VirtioNetPacket} with offload state, on a channel without virtio-net headers.
     */
    boolean needsSoftwareOffload(Object msg) {
        return ch.vnetLength == 0 && msg instanceof VirtioNetPacket p && (p.isGso() || p.needsChecksum());
    }

    /**
     * Writes {@code msg} now with {@code write}/{@code writev} (cutting it in Java first if
     * {@link #needsSoftwareOffload}); returns the bytes written, or {@code -errno}.
     */
    long writeNow(Object msg) {
        if (needsSoftwareOffload(msg)) {
            return writeSoftwareOffload((VirtioNetPacket) msg);
        }
        ByteBuf pkt = packetOf(msg);
        int len = pkt.readableBytes();
        if (ch.vnetLength == 0) {
            return write(addressOf(pkt), len);
        }
        MemorySegment s = writeScratch;
        writeHeader(s, 0, msg);
        long iov = s.address() + 16;
        s.set(ValueLayout.JAVA_LONG, 16, s.address());
        s.set(ValueLayout.JAVA_LONG, 24, VirtioNetHeader.LENGTH);
        s.set(ValueLayout.JAVA_LONG, 32, addressOf(pkt));
        s.set(ValueLayout.JAVA_LONG, 40, len);
        long r = writev(iov, 2);
        return r > 0 ? r - VirtioNetHeader.LENGTH : r;
    }

    /** {@code write(2)} of {@code length} bytes at {@code address}: bytes, or {@code -errno}. */
    long write(long address, int length) {
        try {
            int n = fd.writeAddress(address, 0, length);
            return n == 0 ? -Errno.EAGAIN : n;
        } catch (IOException e) {
            return errnoOf(e);
        }
    }

    /** {@code writev(2)} of the {@code count} iovecs at {@code iov}: bytes, or {@code -errno}. */
    long writev(long iov, int count) {
        try {
            long n = fd.writevAddresses(iov, count);
            return n == 0 ? -Errno.EAGAIN : n;
        } catch (IOException e) {
            return errnoOf(e);
        }
    }

    /** The negated errno of a failed Netty {@code FileDescriptor} call. */
    static long errnoOf(IOException e) {
        if (e instanceof Errors.NativeIoException n) {
            return n.expectedErr(); // already negative
        }
        if (e instanceof java.nio.channels.ClosedChannelException) {
            return -Errno.EBADF;
        }
        return -Errno.EIO;
    }

    /** Cuts (or checksums) {@code msg} in Java and writes each piece; {@code msg} is left to the caller. */
    private long writeSoftwareOffload(VirtioNetPacket msg) {
        ByteBuf content = msg.content().retainedDuplicate();
        if (!msg.isGso()) {
            ByteBuf own = Buffers.exclusive(content, ch.alloc());
            try {
                if (!GsoSegmenter.completeChecksum(own, msg.checksumStart(), msg.checksumOffset())) {
                    return -Errno.EINVAL;
                }
                return write(addressOf(own), own.readableBytes());
            } finally {
                own.release();
            }
        }
        SoftwareSegmentWriter w = new SoftwareSegmentWriter();
        int r = GsoSegmenter.segment(content, ch.isTap(), msg.gsoType(), msg.gsoSize(), ch.alloc(), w);
        if (r < 0) {
            return -Errno.EINVAL;
        }
        return w.error != 0 ? w.error : w.bytes;
    }

    /** Writes each segment it receives; remembers the first error. Cold path (software offload only). */
    private final class SoftwareSegmentWriter implements GsoSegmenter.SegmentConsumer {
        long bytes;
        int error;

        @Override
        public void accept(ByteBuf segment) {
            try {
                if (error == 0) {
                    long r = write(addressOf(segment), segment.readableBytes());
                    if (r < 0) {
                        error = (int) r;
                    } else {
                        bytes += r;
                    }
                }
            } finally {
                segment.release();
            }
        }
    }

    /**
     * Accounts for a finished write of {@code msg} with result {@code res} (bytes, or {@code -errno}); returns
     * null on success, else the failure for the message's promise.
     */
    Throwable writeDone(Object msg, long res) {
        if (res >= 0) {
            counters.packetOut(packetOf(msg).readableBytes());
            if (msg instanceof VirtioNetPacket p && p.isGso() && ch.vnetLength != 0) {
                counters.largeOut();
            }
            return null;
        }
        if (res == -Errno.EIO) {
            counters.dropped(TunTapDropReason.LINK_DOWN); // the interface is down: a drop, not an error
            return null;
        }
        counters.dropped(TunTapDropReason.WRITE_FAILED);
        return new IOException("the kernel refused a " + packetOf(msg).readableBytes() + "-byte packet on "
                + ch.localAddress() + ": " + Errno.name((int) -res));
    }

    /** Whether a write error means the device is gone for this descriptor (the channel must close). */
    static boolean isFatalWriteError(long res) {
        int e = (int) -res;
        return e == Errno.EBADF || e == Errno.EBADFD || e == Errno.ENODEV || e == Errno.ENXIO;
    }
}
