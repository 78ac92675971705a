package dev.pktkit.tuntap;

import dev.pktkit.linux.Errno;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;

/**
 * The read path of a TUN/TAP channel, used by the I/O engines on the channel's loop: read buffers sized to the
 * device, the {@code read(2)} call, and what happens to each packet read (virtio-net header parsed, large
 * segments cut or wrapped as the offload mode says, counted, fired up the pipeline). Loop-confined, no locks.
 */
final class TunTapReader {
    /**
     * Packets up to this many bytes read into a large (offload) read buffer are copied into a buffer of their
     * size, so that small packets do not each pin 64 KiB and the read buffer is reused.
     */
    static final int COPY_OUT_THRESHOLD = 2048;
    /** The largest packet a device with offloads hands over: a 64 KiB GSO segment. */
    static final int MAX_OFFLOAD_PACKET = 65536;
    /** Ethernet header with one 802.1Q tag: the most a TAP frame adds in front of its MTU-sized payload. */
    static final int MAX_LINK_HEADER = 18;

    private final AbstractTunTapChannel ch;
    private final FileDescriptor fd;
    private final TunTapCounters counters;
    private final SegmentSink segmentSink = new SegmentSink();
    /** A {@code read()} asked for packets and none has been delivered since. */
    boolean readPending;

    TunTapReader(AbstractTunTapChannel ch, FileDescriptor fd, TunTapCounters counters) {
        this.ch = ch;
        this.fd = fd;
        this.counters = counters;
    }

    /** Bytes per read buffer: header, link header and MTU (or a 64 KiB segment with offloads), plus one. */
    int readLength() {
        return ch.readLength();
    }

    ByteBuf newReadBuffer() {
        return ch.alloc().directBuffer(ch.readLength());
    }

    /** How many packets one read batch may deliver. */
    int maxMessagesPerRead() {
        RecvByteBufAllocator a = ch.config().getRecvByteBufAllocator();
        int max = a instanceof MaxMessagesRecvByteBufAllocator m ? m.maxMessagesPerRead() : 16;
        return Math.max(1, max);
    }

    /** Whether the pipeline wants more packets now. */
    boolean wantsRead() {
        return ch.isActive() && (ch.config().isAutoRead() || readPending);
    }

    /** {@code read(2)} of up to {@code length} bytes at {@code address}: bytes, or {@code -errno}. */
    long read(long address, int length) {
        try {
            int n = fd.readAddress(address, 0, length);
            return n == 0 ? -Errno.EAGAIN : n; // Netty reports EAGAIN as 0; a TUN/TAP read is never empty
        } catch (IOException e) {
            return TunTapWriter.errnoOf(e);
        }
    }

    /**
     * Handles one read of {@code n} bytes at index 0 of {@code buf}: parses the virtio-net header, segments or
     * wraps as the offload mode says, counts, and fires {@code channelRead}. Returns true if {@code buf} was
     * handed on (the caller must not touch it again), false if the caller still owns it (copied out, dropped).
     */
    boolean onRead(ByteBuf buf, int n) {
        if (n >= buf.capacity()) {
            counters.dropped(TunTapDropReason.TRUNCATED);
            ch.refreshMtu(); // off the loop; later reads use the new size
            return false;
        }
        int hdr = ch.vnetLength;
        if (n <= hdr) {
            counters.dropped(TunTapDropReason.TOO_SHORT);
            return false;
        }
        ChannelPipeline p = ch.pipeline();
        if (hdr == 0) {
            buf.setIndex(0, n);
            deliver(p, buf, n);
            return true;
        }
        if (VirtioNetHeader.isPlain(buf, 0)) {
            return deliverMaybeCopy(p, buf, hdr, n);
        }
        int gsoType = VirtioNetHeader.gsoType(buf, 0);
        boolean gso = VirtioNetHeader.baseGsoType(gsoType) != VirtioNetHeader.GSO_NONE;
        if (gso) {
            counters.largeIn();
        }
        if (ch.offload == OffloadMode.LARGE) {
            int flags = VirtioNetHeader.flags(buf, 0);
            int hdrLen = VirtioNetHeader.headerLength(buf, 0);
            int gsoSize = VirtioNetHeader.gsoSize(buf, 0);
            int csumStart = VirtioNetHeader.checksumStart(buf, 0);
            int csumOffset = VirtioNetHeader.checksumOffset(buf, 0);
            int len = n - hdr;
            boolean copied = !gso && len <= COPY_OUT_THRESHOLD;
            ByteBuf content;
            if (copied) {
                content = ch.alloc().directBuffer(len);
                content.writeBytes(buf, hdr, len);
            } else {
                content = buf.setIndex(hdr, n);
            }
            counters.packetIn(len);
            readPending = false;
            p.fireChannelRead(new VirtioNetPacket(content, flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset));
            return !copied;
        }
        buf.setIndex(hdr, n);
        if (gso) {
            readPending = false;
            int r = GsoSegmenter.segment(buf, ch.isTap(), gsoType, VirtioNetHeader.gsoSize(buf, 0), ch.alloc(),
                    segmentSink);
            if (r < 0) {
                counters.dropped(r == GsoSegmenter.UNSUPPORTED ? TunTapDropReason.UNSUPPORTED_OFFLOAD
                        : TunTapDropReason.BAD_OFFLOAD);
            }
            return true; // segmented (and released) or passed on
        }
        if (!GsoSegmenter.completeChecksum(buf, VirtioNetHeader.checksumStart(buf, 0),
                VirtioNetHeader.checksumOffset(buf, 0))) {
            counters.dropped(TunTapDropReason.BAD_OFFLOAD);
            return false;
        }
        return deliverMaybeCopy(p, buf, hdr, n);
    }

    private boolean deliverMaybeCopy(ChannelPipeline p, ByteBuf buf, int from, int to) {
        int len = to - from;
        if (len <= COPY_OUT_THRESHOLD) {
            ByteBuf copy = ch.alloc().directBuffer(len);
            copy.writeBytes(buf, from, len);
            deliver(p, copy, len);
            return false;
        }
        buf.setIndex(from, to);
        deliver(p, buf, len);
        return true;
    }

    private void deliver(ChannelPipeline p, ByteBuf packet, int len) {
        counters.packetIn(len);
        readPending = false;
        p.fireChannelRead(packet);
    }

    /** Ends a read batch: one {@code channelReadComplete} if anything was delivered. */
    void readBatchDone(int delivered) {
        if (delivered > 0) {
            counters.readBatch();
            ch.pipeline().fireChannelReadComplete();
        }
    }

    /** A read failed with {@code errno} (not {@code EAGAIN}): the device is gone; report and close. */
    void readFailed(int errno) {
        if (!ch.isOpen()) {
            return;
        }
        IOException e = new IOException("reading from " + ch.localAddress() + " failed: " + Errno.name(errno));
        ch.pipeline().fireExceptionCaught(e);
        ch.unsafe().close(ch.voidPromise());
    }

    private final class SegmentSink implements GsoSegmenter.SegmentConsumer {
        @Override
        public void accept(ByteBuf segment) {
            counters.packetIn(segment.readableBytes());
            ch.pipeline().fireChannelRead(segment);
        }
    }
}
