package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.ObjectUtil;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * Writes a classic pcap file (draft-ietf-opsawg-pcap), little-endian, version 2.4.
 *
 * <p>Timestamps are microseconds (magic {@code a1b2c3d4}, readable by every pcap tool) unless the writer was made
 * with {@code nanosecondTimestamps} (magic {@code a1b23c4d}, libpcap 1.5+ and Wireshark). A classic pcap file has
 * one link type and no interfaces, names or directions: {@link #addInterface} checks the link type and returns 0.
 *
 * <p>The 24-byte file header is staged by the constructor and reaches the channel with the first flush.
 * Ownership and threading: see {@link CaptureWriter}.
 */
public final class PcapWriter extends CaptureWriter {
    private final LinkType linkType;
    private final boolean nanos;

    /**
     * @param out                  destination; owned (closed) by this writer
     * @param linkType             link type of every record
     * @param snapLength           1 to {@link PcapFormat#MAX_SNAP_LENGTH}
     * @param nanosecondTimestamps nanosecond magic and timestamps instead of microseconds
     */
    public PcapWriter(WritableByteChannel out, LinkType linkType, int snapLength, boolean nanosecondTimestamps) {
        super(out, snapLength, PcapFormat.PCAP_FILE_HEADER_LENGTH + PcapFormat.PCAP_RECORD_HEADER_LENGTH);
        this.linkType = ObjectUtil.checkNotNull(linkType, "linkType");
        this.nanos = nanosecondTimestamps;
        staging.putInt(nanos ? PcapFormat.PCAP_MAGIC_NANOS : PcapFormat.PCAP_MAGIC_MICROS)
                .putShort(PcapFormat.PCAP_VERSION_MAJOR)
                .putShort(PcapFormat.PCAP_VERSION_MINOR)
                .putInt(0)           // reserved (was thiszone)
                .putInt(0)           // reserved (was sigfigs)
                .putInt(snapLength)
                .putInt(linkType.value()); // FCS bits (28-31) zero: frames carry no FCS
    }

    /** A microsecond-timestamp writer. */
    public PcapWriter(WritableByteChannel out, LinkType linkType, int snapLength) {
        this(out, linkType, snapLength, false);
    }

    public LinkType linkType() {
        return linkType;
    }

    public boolean nanosecondTimestamps() {
        return nanos;
    }

    @Override
    public int addInterface(String name, LinkType linkType) throws IOException {
        ensureOpen();
        if (linkType != this.linkType) {
            throw new IllegalArgumentException("a pcap file has one link type, " + this.linkType + "; got " + linkType);
        }
        return 0;
    }

    @Override
    void checkInterface(int interfaceId) {
        if (interfaceId != 0) {
            throw new IllegalArgumentException("a pcap file has only interface 0; got " + interfaceId);
        }
    }

    @Override
    int recordLength(int capturedLength, CaptureDirection direction) {
        return PcapFormat.PCAP_RECORD_HEADER_LENGTH + capturedLength;
    }

    @Override
    void encodeRecord(int interfaceId, long timestampNanos, CaptureDirection direction, ByteBuf packet,
                      int capturedLength, int originalLength) {
        long seconds = Math.floorDiv(timestampNanos, 1_000_000_000L);
        long fraction = Math.floorMod(timestampNanos, 1_000_000_000L);
        staging.putInt((int) seconds) // unsigned 32-bit seconds: good until 2106
                .putInt((int) (nanos ? fraction : fraction / 1000))
                .putInt(capturedLength)
                .putInt(originalLength);
        putPacketBytes(packet, capturedLength);
    }
}
