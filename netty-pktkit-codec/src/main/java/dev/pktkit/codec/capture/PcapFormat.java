package dev.pktkit.codec.capture;

/**
 * The numbers of the classic pcap and the pcapng file formats, and the capture defaults, in one place.
 *
 * <p>References: classic pcap is draft-ietf-opsawg-pcap; pcapng is draft-ietf-opsawg-pcapng. Both writers in this
 * package write little-endian files (the byte order of the files tcpdump and Wireshark write on x86); readers
 * detect the order from the magic numbers.
 */
public final class PcapFormat {
    private PcapFormat() {
    }

    // ---- capture defaults ----

    /**
     * Default snap length for both formats: 262144 bytes, libpcap's and tcpdump's maximum and default
     * ({@code MAXIMUM_SNAPLEN}). Larger values are refused, because Wireshark treats longer records as corrupt.
     */
    public static final int DEFAULT_SNAP_LENGTH = 262_144;
    /** The largest snap length a writer accepts, equal to {@link #DEFAULT_SNAP_LENGTH}. */
    public static final int MAX_SNAP_LENGTH = 262_144;
    /** Default bound on packets waiting for the writer thread. */
    public static final int DEFAULT_MAX_QUEUED_PACKETS = 8192;
    /** Default bound on captured bytes waiting for the writer thread: 16 MiB. */
    public static final long DEFAULT_MAX_QUEUED_BYTES = 16L << 20;

    // ---- classic pcap ----

    /** Classic pcap magic for microsecond timestamps. */
    public static final int PCAP_MAGIC_MICROS = 0xA1B2C3D4;
    /** Classic pcap magic for nanosecond timestamps. */
    public static final int PCAP_MAGIC_NANOS = 0xA1B23C4D;
    public static final short PCAP_VERSION_MAJOR = 2;
    public static final short PCAP_VERSION_MINOR = 4;
    /** Bytes in the classic pcap file header. */
    public static final int PCAP_FILE_HEADER_LENGTH = 24;
    /** Bytes in a classic pcap record header. */
    public static final int PCAP_RECORD_HEADER_LENGTH = 16;

    // ---- pcapng ----

    public static final int PCAPNG_BLOCK_SHB = 0x0A0D0D0A;
    public static final int PCAPNG_BLOCK_IDB = 0x00000001;
    public static final int PCAPNG_BLOCK_EPB = 0x00000006;
    /** Byte-order magic in the Section Header Block. */
    public static final int PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    public static final short PCAPNG_VERSION_MAJOR = 1;
    public static final short PCAPNG_VERSION_MINOR = 0;
    /** Section length written in the SHB: -1, "not specified", because the file is written as a stream. */
    public static final long PCAPNG_SECTION_LENGTH_UNSPECIFIED = -1L;

    /** opt_endofopt. */
    public static final short OPT_END_OF_OPTIONS = 0;
    /** opt_comment, valid in every block. */
    public static final short OPT_COMMENT = 1;
    /** shb_userappl: the application that wrote the section. */
    public static final short SHB_USER_APPLICATION = 4;
    /** if_name. */
    public static final short IF_NAME = 2;
    /** if_tsresol. */
    public static final short IF_TSRESOL = 9;
    /** epb_flags (32 bits; bits 0-1 are the direction). */
    public static final short EPB_FLAGS = 2;

    /** if_tsresol value this package writes: 9, timestamps count nanoseconds. */
    public static final byte PCAPNG_TSRESOL_NANOS = 9;
    /** Longest option value the 16-bit option length can describe. */
    public static final int MAX_OPTION_LENGTH = 0xFFFF;
    /** Value written as shb_userappl. */
    public static final String USER_APPLICATION = "netty-pktkit";

    /** Fixed bytes of an SHB without options: type, length, magic, versions, section length, trailing length. */
    public static final int PCAPNG_SHB_FIXED_LENGTH = 28;
    /** Fixed bytes of an IDB without options. */
    public static final int PCAPNG_IDB_FIXED_LENGTH = 20;
    /** Fixed bytes of an EPB without packet data or options. */
    public static final int PCAPNG_EPB_FIXED_LENGTH = 32;
    /** Bytes of the epb_flags option with its header, plus opt_endofopt. */
    public static final int PCAPNG_EPB_FLAGS_OPTIONS_LENGTH = 12;

    /** Rounds {@code n} up to a multiple of 4, as pcapng pads block bodies and option values. */
    static int pad4(int n) {
        return (n + 3) & ~3;
    }
}
