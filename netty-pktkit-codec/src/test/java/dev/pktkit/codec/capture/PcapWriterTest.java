package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static dev.pktkit.codec.capture.CaptureBytes.hex;
import static dev.pktkit.codec.capture.CaptureBytes.toHex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Classic pcap layout, byte for byte, against draft-ietf-opsawg-pcap. */
class PcapWriterTest {
    /** 2023-11-14T22:13:20.123456789Z: seconds 0x6553f100, microseconds 0x1e240, nanoseconds 0x075bcd15. */
    private static final long TIMESTAMP = 1_700_000_000_123_456_789L;

    @Test
    void microsecondFileHeaderAndRecordAreByteExact() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(hex("01 02 03 04"));
        try (PcapWriter writer = new PcapWriter(sink.channel, LinkType.ETHERNET, 65535)) {
            assertEquals(0, writer.addInterface("ignored", LinkType.ETHERNET));
            writer.writePacket(0, TIMESTAMP, CaptureDirection.INBOUND, packet);
        }
        assertEquals(toHex(hex("""
                d4 c3 b2 a1   # magic a1b2c3d4, microseconds, little-endian
                02 00 04 00   # version 2.4
                00 00 00 00   # reserved 1
                00 00 00 00   # reserved 2
                ff ff 00 00   # snap length 65535
                01 00 00 00   # link type 1 ETHERNET, no FCS
                00 f1 53 65   # ts seconds
                40 e2 01 00   # ts microseconds 123456
                04 00 00 00   # captured length
                04 00 00 00   # original length
                01 02 03 04   # data, no padding in classic pcap
                """)), toHex(sink.toByteArray()));
        assertEquals(0, packet.readerIndex(), "the writer reads without moving the reader index");
        assertEquals(1, packet.refCnt(), "the writer does not release the caller's buffer");
        packet.release();
    }

    @Test
    void nanosecondMagicAndTimestamps() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(hex("45"));
        try (PcapWriter writer = new PcapWriter(sink.channel, LinkType.RAW, 262144, true)) {
            writer.writePacket(0, TIMESTAMP, CaptureDirection.UNKNOWN, packet);
        }
        packet.release();
        assertEquals(toHex(hex("""
                4d 3c b2 a1   # magic a1b23c4d, nanoseconds
                02 00 04 00
                00 00 00 00 00 00 00 00
                00 00 04 00   # snap length 262144
                65 00 00 00   # link type 101 RAW
                00 f1 53 65
                15 cd 5b 07   # ts nanoseconds 123456789
                01 00 00 00 01 00 00 00
                45
                """)), toHex(sink.toByteArray()));
    }

    @Test
    void longPacketIsTruncatedToSnapLengthAndKeepsItsOriginalLength() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(hex("aa bb cc dd ee"));
        packet.readerIndex(1); // only readable bytes count
        try (PcapWriter writer = new PcapWriter(sink.channel, LinkType.ETHERNET, 2)) {
            writer.writePacket(0, 1_000_000_000L, CaptureDirection.OUTBOUND, packet);
        }
        packet.release();
        byte[] file = sink.toByteArray();
        assertEquals(toHex(hex("""
                01 00 00 00 00 00 00 00
                02 00 00 00   # captured: snap length
                04 00 00 00   # original: readable bytes
                bb cc
                """)), toHex(java.util.Arrays.copyOfRange(file, 24, file.length)));
    }

    @Test
    void oneLinkTypeAndOneInterfacePerFile() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        ByteBuf packet = Unpooled.wrappedBuffer(hex("00"));
        try (PcapWriter writer = new PcapWriter(sink.channel, LinkType.ETHERNET, 100)) {
            assertThrows(IllegalArgumentException.class, () -> writer.addInterface("l3", LinkType.RAW));
            assertThrows(IllegalArgumentException.class,
                    () -> writer.writePacket(1, 0, CaptureDirection.UNKNOWN, packet));
            assertThrows(IllegalArgumentException.class,
                    () -> writer.writePacket(0, 0, CaptureDirection.UNKNOWN, packet, 0));
        } finally {
            packet.release();
        }
        assertEquals(PcapFormat.PCAP_FILE_HEADER_LENGTH, sink.toByteArray().length, "nothing but the header");
    }

    @Test
    void snapLengthOutsideTheLimitsIsRefused() {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        assertThrows(IllegalArgumentException.class, () -> new PcapWriter(sink.channel, LinkType.RAW, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new PcapWriter(sink.channel, LinkType.RAW, PcapFormat.MAX_SNAP_LENGTH + 1));
    }

    @Test
    void writingAfterCloseFails() throws IOException {
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        PcapWriter writer = new PcapWriter(sink.channel, LinkType.RAW, 100);
        writer.close();
        writer.close(); // idempotent
        ByteBuf packet = Unpooled.wrappedBuffer(hex("60"));
        assertThrows(IOException.class, () -> writer.writePacket(0, 0, CaptureDirection.UNKNOWN, packet));
        packet.release();
    }
}
