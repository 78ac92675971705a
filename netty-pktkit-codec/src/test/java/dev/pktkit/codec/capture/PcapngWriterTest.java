package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static dev.pktkit.codec.capture.CaptureBytes.hex;
import static dev.pktkit.codec.capture.CaptureBytes.toHex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** pcapng layout, byte for byte, against draft-ietf-opsawg-pcapng. */
class PcapngWriterTest {
    /** 1_700_000_000_123_456_789 ns = 0x17979cfe_3d85cd15. */
    private static final long TIMESTAMP = 1_700_000_000_123_456_789L;

    private static final String SHB_WITHOUT_COMMENT = """
            0a 0d 0d 0a               # block type SHB
            30 00 00 00               # block total length 48
            4d 3c 2b 1a               # byte-order magic 1a2b3c4d, little-endian
            01 00 00 00               # version 1.0
            ff ff ff ff ff ff ff ff   # section length -1: unspecified
            04 00 0c 00               # shb_userappl, 12 bytes
            6e 65 74 74 79 2d 70 6b 74 6b 69 74   # "netty-pktkit"
            00 00 00 00               # opt_endofopt
            30 00 00 00               # block total length
            """;

    @Test
    void sectionHeaderIsByteExact() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        new PcapngWriter(sink.channel, 65535).close();
        assertEquals(toHex(hex(SHB_WITHOUT_COMMENT)), toHex(sink.toByteArray()));
    }

    @Test
    void sectionCommentIsPaddedToFourBytes() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        new PcapngWriter(sink.channel, 65535, "hi").close();
        assertEquals(toHex(hex("""
                0a 0d 0d 0a
                38 00 00 00               # 56 = 48 + the 8-byte comment option
                4d 3c 2b 1a 01 00 00 00 ff ff ff ff ff ff ff ff
                01 00 02 00 68 69 00 00   # opt_comment "hi", 2 pad bytes
                04 00 0c 00 6e 65 74 74 79 2d 70 6b 74 6b 69 74
                00 00 00 00
                38 00 00 00
                """)), toHex(sink.toByteArray()));
    }

    @Test
    void interfaceAndEnhancedPacketBlocksAreByteExact() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(hex("01 02 03 04 05"));
        try (PcapngWriter writer = new PcapngWriter(sink.channel, 1514)) {
            assertEquals(0, writer.addInterface("port1", LinkType.ETHERNET));
            assertEquals(1, writer.addInterface(null, LinkType.RAW));
            writer.writePacket(0, TIMESTAMP, CaptureDirection.INBOUND, packet);
            writer.writePacket(1, TIMESTAMP, CaptureDirection.UNKNOWN, packet, 9);
            writer.writePacket(1, 1, CaptureDirection.OUTBOUND, packet);
            assertEquals(2, writer.interfaceCount());
        }
        assertEquals(0, packet.readerIndex());
        assertEquals(1, packet.refCnt());
        packet.release();
        byte[] file = sink.toByteArray();
        assertEquals(toHex(hex(SHB_WITHOUT_COMMENT)), toHex(Arrays.copyOfRange(file, 0, 48)));
        assertEquals(toHex(hex("""
                01 00 00 00               # IDB
                2c 00 00 00               # length 44
                01 00 00 00               # link type 1 ETHERNET, reserved 0
                ea 05 00 00               # snap length 1514
                02 00 05 00 70 6f 72 74 31 00 00 00   # if_name "port1", padded
                09 00 01 00 09 00 00 00   # if_tsresol 9: nanoseconds
                00 00 00 00               # opt_endofopt
                2c 00 00 00
                01 00 00 00               # IDB without a name
                20 00 00 00               # length 32
                65 00 00 00               # link type 101 RAW
                ea 05 00 00
                09 00 01 00 09 00 00 00
                00 00 00 00
                20 00 00 00
                06 00 00 00               # EPB
                34 00 00 00               # length 52
                00 00 00 00               # interface 0
                fe 9c 97 17               # timestamp high
                15 cd 85 3d               # timestamp low
                05 00 00 00               # captured length
                05 00 00 00               # original length
                01 02 03 04 05 00 00 00   # data, padded to 32 bits
                02 00 04 00 01 00 00 00   # epb_flags: inbound
                00 00 00 00               # opt_endofopt
                34 00 00 00
                06 00 00 00               # EPB, direction unknown: no options
                28 00 00 00               # length 40
                01 00 00 00
                fe 9c 97 17 15 cd 85 3d
                05 00 00 00
                09 00 00 00               # original length as given
                01 02 03 04 05 00 00 00
                28 00 00 00
                06 00 00 00
                34 00 00 00
                01 00 00 00
                00 00 00 00 01 00 00 00   # timestamp 1 ns
                05 00 00 00 05 00 00 00
                01 02 03 04 05 00 00 00
                02 00 04 00 02 00 00 00   # epb_flags: outbound
                00 00 00 00
                34 00 00 00
                """)), toHex(Arrays.copyOfRange(file, 48, file.length)));
    }

    @Test
    void packetForAnUnknownInterfaceIsRefused() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(hex("00"));
        try (PcapngWriter writer = new PcapngWriter(sink.channel, 100)) {
            assertThrows(IllegalArgumentException.class,
                    () -> writer.writePacket(0, 0, CaptureDirection.UNKNOWN, packet));
        } finally {
            packet.release();
        }
    }

    @Test
    void truncatedPacketIsPaddedAndKeepsItsOriginalLength() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        byte[] big = new byte[100];
        Arrays.fill(big, (byte) 0x5a);
        ByteBuf packet = Unpooled.wrappedBuffer(big);
        try (PcapngWriter writer = new PcapngWriter(sink.channel, 7)) {
            writer.addInterface("x", LinkType.ETHERNET);
            writer.writePacket(0, 0, CaptureDirection.UNKNOWN, packet);
        }
        packet.release();
        CaptureBytes.Epb epb = CaptureBytes.epbs(sink.toByteArray()).get(0);
        assertEquals(7, epb.capturedLength());
        assertEquals(100, epb.originalLength());
        assertEquals(-1, epb.direction());
    }

    @Test
    void overlongOptionIsRefused() {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        String tooLong = "x".repeat(PcapFormat.MAX_OPTION_LENGTH + 1);
        assertThrows(IllegalArgumentException.class, () -> new PcapngWriter(sink.channel, 100, tooLong));
    }

    @Test
    void manyRecordsOverflowTheStagingBufferIntoTheChannel() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(new byte[1500]);
        int count = 1000; // about 1.5 MB, many times the staging buffer
        try (PcapngWriter writer = new PcapngWriter(sink.channel, 1500)) {
            writer.addInterface("bulk", LinkType.ETHERNET);
            for (int i = 0; i < count; i++) {
                writer.writePacket(0, i, CaptureDirection.INBOUND, packet);
            }
        }
        packet.release();
        java.util.List<CaptureBytes.Epb> epbs = CaptureBytes.epbs(sink.toByteArray());
        assertEquals(count, epbs.size());
        assertEquals(count - 1, epbs.get(count - 1).timestamp());
    }
}
