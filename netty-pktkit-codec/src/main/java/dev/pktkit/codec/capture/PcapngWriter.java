package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.ObjectUtil;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Writes a pcapng file (draft-ietf-opsawg-pcapng), little-endian, one section.
 *
 * <p>Layout: a Section Header Block (version 1.0, section length -1 "unspecified" because the file is a stream,
 * {@code shb_userappl} "netty-pktkit" and an optional {@code opt_comment}); one Interface Description Block per
 * {@link #addInterface} (its link type, this writer's snap length, an optional {@code if_name} and
 * {@code if_tsresol} 9, so timestamps count nanoseconds); and one Enhanced Packet Block per packet, with
 * {@code epb_flags} carrying the direction unless it is {@link CaptureDirection#UNKNOWN}. Interfaces may be added
 * at any time; each must be added before packets that name it.
 *
 * <p>The SHB is staged by the constructor and reaches the channel with the first flush. Ownership and threading:
 * see {@link CaptureWriter}.
 */
public final class PcapngWriter extends CaptureWriter {
    /** Room for the largest non-packet block: a header block with two maximal options. */
    private static final int MAX_BLOCK_OVERHEAD = 2 * (PcapFormat.MAX_OPTION_LENGTH + 64);

    private int interfaceCount;

    /**
     * @param out            destination; owned (closed) by this writer
     * @param snapLength     1 to {@link PcapFormat#MAX_SNAP_LENGTH}; written in every IDB
     * @param sectionComment {@code opt_comment} of the section header, or null; at most 65535 UTF-8 bytes
     */
    public PcapngWriter(WritableByteChannel out, int snapLength, String sectionComment) {
        super(out, snapLength, MAX_BLOCK_OVERHEAD);
        byte[] comment = optionValue(sectionComment, "sectionComment");
        byte[] application = PcapFormat.USER_APPLICATION.getBytes(StandardCharsets.UTF_8);
        int length = PcapFormat.PCAPNG_SHB_FIXED_LENGTH + optionLength(comment) + optionLength(application) + 4;
        staging.putInt(PcapFormat.PCAPNG_BLOCK_SHB)
                .putInt(length)
                .putInt(PcapFormat.PCAPNG_BYTE_ORDER_MAGIC)
                .putShort(PcapFormat.PCAPNG_VERSION_MAJOR)
                .putShort(PcapFormat.PCAPNG_VERSION_MINOR)
                .putLong(PcapFormat.PCAPNG_SECTION_LENGTH_UNSPECIFIED);
        putOption(PcapFormat.OPT_COMMENT, comment);
        putOption(PcapFormat.SHB_USER_APPLICATION, application);
        putEndOfOptions();
        staging.putInt(length);
    }

    /** A writer without a section comment. */
    public PcapngWriter(WritableByteChannel out, int snapLength) {
        this(out, snapLength, null);
    }

    /** Interfaces added so far; ids are 0 to this minus 1. */
    public int interfaceCount() {
        return interfaceCount;
    }

    /**
     * Stages an Interface Description Block and returns its id (0, 1, 2, … in order of addition).
     *
     * @param name if_name, or null; at most 65535 UTF-8 bytes
     */
    @Override
    public int addInterface(String name, LinkType linkType) throws IOException {
        ensureOpen();
        ObjectUtil.checkNotNull(linkType, "linkType");
        byte[] nameBytes = optionValue(name, "name");
        int length = PcapFormat.PCAPNG_IDB_FIXED_LENGTH + optionLength(nameBytes) + 8 + 4;
        reserve(length);
        staging.putInt(PcapFormat.PCAPNG_BLOCK_IDB)
                .putInt(length)
                .putShort((short) linkType.value())
                .putShort((short) 0) // reserved
                .putInt(snapLength());
        putOption(PcapFormat.IF_NAME, nameBytes);
        putOption(PcapFormat.IF_TSRESOL, new byte[] {PcapFormat.PCAPNG_TSRESOL_NANOS});
        putEndOfOptions();
        staging.putInt(length);
        return interfaceCount++;
    }

    @Override
    void checkInterface(int interfaceId) {
        if (interfaceId < 0 || interfaceId >= interfaceCount) {
            throw new IllegalArgumentException("interface " + interfaceId + " not added (have " + interfaceCount + ")");
        }
    }

    @Override
    int recordLength(int capturedLength, CaptureDirection direction) {
        return PcapFormat.PCAPNG_EPB_FIXED_LENGTH + PcapFormat.pad4(capturedLength)
                + (direction == CaptureDirection.UNKNOWN ? 0 : PcapFormat.PCAPNG_EPB_FLAGS_OPTIONS_LENGTH);
    }

    @Override
    void encodeRecord(int interfaceId, long timestampNanos, CaptureDirection direction, ByteBuf packet,
                      int capturedLength, int originalLength) {
        int length = recordLength(capturedLength, direction);
        staging.putInt(PcapFormat.PCAPNG_BLOCK_EPB)
                .putInt(length)
                .putInt(interfaceId)
                .putInt((int) (timestampNanos >>> 32)) // timestamp, high 32 bits first
                .putInt((int) timestampNanos)
                .putInt(capturedLength)
                .putInt(originalLength);
        putPacketBytes(packet, capturedLength);
        putZeros(PcapFormat.pad4(capturedLength) - capturedLength);
        if (direction != CaptureDirection.UNKNOWN) {
            staging.putShort(PcapFormat.EPB_FLAGS).putShort((short) 4).putInt(direction.flagBits());
            putEndOfOptions();
        }
        staging.putInt(length);
    }

    private static byte[] optionValue(String value, String what) {
        if (value == null) {
            return null;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > PcapFormat.MAX_OPTION_LENGTH) {
            throw new IllegalArgumentException(what + " is " + bytes.length + " UTF-8 bytes, more than "
                    + PcapFormat.MAX_OPTION_LENGTH);
        }
        return bytes;
    }

    /** Bytes an option takes: 4 header bytes and the value padded to 32 bits; 0 for an absent (null) option. */
    private static int optionLength(byte[] value) {
        return value == null ? 0 : 4 + PcapFormat.pad4(value.length);
    }

    private void putOption(short code, byte[] value) {
        if (value == null) {
            return;
        }
        staging.putShort(code).putShort((short) value.length).put(value);
        putZeros(PcapFormat.pad4(value.length) - value.length);
    }

    private void putEndOfOptions() {
        staging.putShort(PcapFormat.OPT_END_OF_OPTIONS).putShort((short) 0);
    }
}
