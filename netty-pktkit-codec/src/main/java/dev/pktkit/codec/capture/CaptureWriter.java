package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.ObjectUtil;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * A synchronous encoder of one capture file: {@link PcapWriter} (classic pcap) or {@link PcapngWriter}.
 *
 * <p>Records are encoded into an internal staging buffer and written to the channel when it fills, on
 * {@link #flush()} and on {@link #close()}. A writer is not thread-safe and does blocking I/O: use it from one
 * thread that may block. {@link PacketCapture} drives one from its writer thread for pipelines.
 *
 * <p>The writer owns the channel it was given and closes it in {@link #close()}. It never takes ownership of the
 * {@code ByteBuf}s passed to {@link #writePacket}: it reads their readable bytes without changing their indices
 * and the caller keeps (and releases) them.
 */
public abstract sealed class CaptureWriter implements Closeable permits PcapWriter, PcapngWriter {
    /** Staging buffer size beyond the largest record, so several records go out in one write. */
    private static final int STAGING_SLACK = 64 * 1024;

    private final WritableByteChannel out;
    private final int snapLength;
    /** Little-endian staging area; position is the end of encoded, unwritten bytes. */
    final ByteBuffer staging;
    private boolean closed;

    CaptureWriter(WritableByteChannel out, int snapLength, int maxRecordOverhead) {
        this.out = ObjectUtil.checkNotNull(out, "out");
        this.snapLength = checkSnapLength(snapLength);
        this.staging = ByteBuffer.allocate(maxRecordOverhead + PcapFormat.pad4(snapLength) + STAGING_SLACK)
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    static int checkSnapLength(int snapLength) {
        return ObjectUtil.checkInRange(snapLength, 1, PcapFormat.MAX_SNAP_LENGTH, "snapLength");
    }

    /** Most packet bytes a record holds; longer packets are truncated and keep their original length. */
    public final int snapLength() {
        return snapLength;
    }

    /**
     * Declares an interface (a capture point) and returns the id to pass to {@link #writePacket}.
     *
     * @param name     interface name (pcapng {@code if_name}); null for none. Classic pcap ignores it.
     * @param linkType what the interface's packets are
     * @throws IllegalArgumentException classic pcap: {@code linkType} differs from the file's, which has only one
     */
    public abstract int addInterface(String name, LinkType linkType) throws IOException;

    /**
     * Appends one packet record holding the first {@code min(packet.readableBytes(), snapLength())} readable
     * bytes of {@code packet}.
     *
     * @param interfaceId     an id from {@link #addInterface}
     * @param timestampNanos  capture time, nanoseconds since the Unix epoch
     * @param direction       pcapng writes it as {@code epb_flags} unless {@link CaptureDirection#UNKNOWN};
     *                        classic pcap ignores it
     * @param packet          the packet; not released, indices unchanged
     * @param originalLength  the packet's length on the wire, at least the captured length
     */
    public final void writePacket(int interfaceId, long timestampNanos, CaptureDirection direction, ByteBuf packet,
                                  int originalLength) throws IOException {
        ensureOpen();
        ObjectUtil.checkNotNull(direction, "direction");
        int captured = Math.min(packet.readableBytes(), snapLength);
        if (originalLength < captured) {
            throw new IllegalArgumentException("originalLength " + originalLength + " < captured " + captured);
        }
        checkInterface(interfaceId);
        reserve(recordLength(captured, direction));
        encodeRecord(interfaceId, timestampNanos, direction, packet, captured, originalLength);
    }

    /** Same as {@link #writePacket(int, long, CaptureDirection, ByteBuf, int)} with the full readable length. */
    public final void writePacket(int interfaceId, long timestampNanos, CaptureDirection direction, ByteBuf packet)
            throws IOException {
        writePacket(interfaceId, timestampNanos, direction, packet, packet.readableBytes());
    }

    abstract void checkInterface(int interfaceId);

    abstract int recordLength(int capturedLength, CaptureDirection direction);

    abstract void encodeRecord(int interfaceId, long timestampNanos, CaptureDirection direction, ByteBuf packet,
                               int capturedLength, int originalLength);

    /** Copies {@code length} bytes of {@code packet} from its reader index into the staging buffer. */
    final void putPacketBytes(ByteBuf packet, int length) {
        int at = staging.position();
        packet.getBytes(packet.readerIndex(), staging.slice(at, length));
        staging.position(at + length);
    }

    final void putZeros(int count) {
        for (int i = 0; i < count; i++) {
            staging.put((byte) 0);
        }
    }

    /** Makes room for {@code length} more bytes, writing staged bytes out if needed. */
    final void reserve(int length) throws IOException {
        if (staging.remaining() < length) {
            writeStaged();
        }
        if (staging.remaining() < length) {
            throw new IllegalStateException("record of " + length + " bytes exceeds the staging buffer");
        }
    }

    final void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("capture writer is closed");
        }
    }

    private void writeStaged() throws IOException {
        staging.flip();
        try {
            while (staging.hasRemaining()) {
                out.write(staging);
            }
        } finally {
            staging.clear();
        }
    }

    /** Writes every staged record to the channel (it does not force the file to disk). */
    public final void flush() throws IOException {
        ensureOpen();
        writeStaged();
    }

    /** Flushes and closes the channel; idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            writeStaged();
        }
    }
}
