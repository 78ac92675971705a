package dev.pktkit.codec.capture;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Test helpers: hex literals with comments, and a minimal reader of the files the writers produce. */
final class CaptureBytes {
    private CaptureBytes() {
    }

    /** Bytes from hex text; whitespace is ignored and {@code #} starts a comment that runs to the line's end. */
    static byte[] hex(String text) {
        StringBuilder digits = new StringBuilder();
        for (String line : text.split("\n")) {
            int hash = line.indexOf('#');
            digits.append((hash >= 0 ? line.substring(0, hash) : line).replaceAll("\\s+", ""));
        }
        return HexFormat.of().parseHex(digits);
    }

    static String toHex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** An in-memory sink for writers. */
    static final class Sink {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final WritableByteChannel channel = Channels.newChannel(bytes);

        byte[] toByteArray() {
            return bytes.toByteArray();
        }
    }

    /** One pcapng block: its type and its body (between the leading and trailing lengths). */
    record Block(int type, byte[] body) {
        ByteBuffer bodyLE() {
            return ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Splits a little-endian pcapng file into blocks, checking every leading length against its trailing copy. */
    static List<Block> pcapngBlocks(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        List<Block> blocks = new ArrayList<>();
        while (b.hasRemaining()) {
            int start = b.position();
            int type = b.getInt();
            int length = b.getInt();
            if (length % 4 != 0 || length < 12 || start + length > file.length) {
                throw new AssertionError("bad block length " + length + " at " + start);
            }
            byte[] body = new byte[length - 12];
            b.get(body);
            int trailing = b.getInt();
            if (trailing != length) {
                throw new AssertionError("trailing length " + trailing + " != " + length + " at " + start);
            }
            blocks.add(new Block(type, body));
        }
        return blocks;
    }

    /** A parsed Enhanced Packet Block. */
    record Epb(int interfaceId, long timestamp, int capturedLength, int originalLength, byte[] data, int flags) {
        /** Direction bits of epb_flags, or -1 when the option is absent. */
        int direction() {
            return flags < 0 ? -1 : flags & 3;
        }
    }

    static List<Epb> epbs(byte[] file) {
        List<Epb> out = new ArrayList<>();
        for (Block block : pcapngBlocks(file)) {
            if (block.type() != PcapFormat.PCAPNG_BLOCK_EPB) {
                continue;
            }
            ByteBuffer b = block.bodyLE();
            int iface = b.getInt();
            long ts = ((long) b.getInt() << 32) | (b.getInt() & 0xFFFFFFFFL);
            int cap = b.getInt();
            int orig = b.getInt();
            byte[] data = new byte[cap];
            b.get(data);
            b.position(b.position() + PcapFormat.pad4(cap) - cap);
            int flags = -1;
            while (b.remaining() >= 4) {
                int code = b.getShort() & 0xFFFF;
                int len = b.getShort() & 0xFFFF;
                if (code == PcapFormat.OPT_END_OF_OPTIONS) {
                    break;
                }
                if (code == PcapFormat.EPB_FLAGS) {
                    flags = b.getInt();
                } else {
                    b.position(b.position() + PcapFormat.pad4(len));
                }
            }
            out.add(new Epb(iface, ts, cap, orig, data, flags));
        }
        return out;
    }

    /** Interface names of the IDBs in order (null where an IDB has no if_name). */
    static List<String> interfaceNames(byte[] file) {
        List<String> names = new ArrayList<>();
        for (Block block : pcapngBlocks(file)) {
            if (block.type() != PcapFormat.PCAPNG_BLOCK_IDB) {
                continue;
            }
            ByteBuffer b = block.bodyLE();
            b.position(8);
            String name = null;
            while (b.remaining() >= 4) {
                int code = b.getShort() & 0xFFFF;
                int len = b.getShort() & 0xFFFF;
                if (code == PcapFormat.OPT_END_OF_OPTIONS) {
                    break;
                }
                if (code == PcapFormat.IF_NAME) {
                    byte[] v = new byte[len];
                    b.get(v);
                    b.position(b.position() + PcapFormat.pad4(len) - len);
                    name = new String(v, java.nio.charset.StandardCharsets.UTF_8);
                } else {
                    b.position(b.position() + PcapFormat.pad4(len));
                }
            }
            names.add(name);
        }
        return names;
    }

    /** A classic pcap record. */
    record PcapRecord(long seconds, long fraction, int capturedLength, int originalLength, byte[] data) {
    }

    /** Records of a little-endian classic pcap file (after its 24-byte header). */
    static List<PcapRecord> pcapRecords(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        b.position(PcapFormat.PCAP_FILE_HEADER_LENGTH);
        List<PcapRecord> out = new ArrayList<>();
        while (b.hasRemaining()) {
            long sec = b.getInt() & 0xFFFFFFFFL;
            long frac = b.getInt() & 0xFFFFFFFFL;
            int cap = b.getInt();
            int orig = b.getInt();
            byte[] data = new byte[cap];
            b.get(data);
            out.add(new PcapRecord(sec, frac, cap, orig, data));
        }
        return out;
    }
}
