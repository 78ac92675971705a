package dev.pktkit.codec.capture;

import dev.pktkit.testkit.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pktkit.codec.capture.CaptureBytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes pcap and pcapng files of real-looking traffic through {@link PacketCaptureHandler} and has tshark read
 * them back: every record must decode to the expected fields with valid checksums, and without malformed packets,
 * warnings or errors in tshark's expert info.
 */
class PcapTsharkInteropTest {
    private static final long TSHARK_TIMEOUT_SECONDS = 120;
    /** tshark's expert severity for warnings (PI_WARN); errors (PI_ERROR) are above it. */
    private static final String EXPERT_WARN_OR_WORSE = "_ws.malformed || _ws.expert.severity >= 0x00600000";
    /** Checksum status values tshark prints: PROTO_CHECKSUM_E_GOOD. */
    private static final String GOOD = "1";
    /** Lower-case hex of the UDP payload "hello pktkit", as tshark prints byte fields. */
    private static final String UDP_PAYLOAD_HEX = CaptureBytes.toHex("hello pktkit".getBytes(StandardCharsets.UTF_8));

    /** Checksum validation is off by default in Wireshark; turn it on so a wrong checksum shows. */
    private static final List<String> CHECK_CHECKSUMS = List.of(
            "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE");

    private static String tshark;

    @TempDir
    Path dir;

    @BeforeAll
    static void needTshark() {
        tshark = Tools.assumeCommand("tshark", "tshark");
    }

    // ---- test traffic: hand-written bytes, checksums filled in by the helpers below ----

    private static final String MAC_A = "02 00 00 00 00 01";
    private static final String MAC_B = "02 00 00 00 00 02";

    /** IPv4 10.0.0.1 -> 10.0.0.2, UDP 40000 -> 40001, payload "hello pktkit" (12 bytes): 40 bytes. */
    static byte[] ipv4Udp() {
        byte[] p = hex("""
                45 00 00 28   # IPv4, IHL 5, total length 40
                12 34 40 00   # id 0x1234, DF
                40 11 00 00   # TTL 64, UDP, header checksum (filled in)
                0a 00 00 01   # 10.0.0.1
                0a 00 00 02   # 10.0.0.2
                9c 40 9c 41   # UDP 40000 -> 40001
                00 14 00 00   # UDP length 20, checksum (filled in)
                68 65 6c 6c 6f 20 70 6b 74 6b 69 74   # "hello pktkit"
                """);
        putShort(p, 10, checksum(0, p, 0, 20));
        long pseudo = sum(0, p, 12, 8) + 17 + 20; // src, dst, protocol, UDP length
        int udp = checksum(pseudo, p, 20, 20);
        putShort(p, 26, udp == 0 ? 0xFFFF : udp); // 0 means "no checksum" in UDP over IPv4
        return p;
    }

    /** IPv6 fd00::1 -> fd00::2 (or back), ICMPv6 echo request (128) or reply (129), id 0x4242 seq 1, "ping". */
    static byte[] ipv6Echo(boolean reply) {
        String a = "fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01";
        String b = "fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02";
        byte[] p = hex("60 00 00 00"                 // version 6, traffic class 0, flow label 0
                + " 00 0c 3a 40"                     // payload length 12, next header 58 ICMPv6, hop limit 64
                + (reply ? b + a : a + b)
                + (reply ? " 81 00" : " 80 00")      // type, code 0
                + " 00 00"                           // checksum (filled in)
                + " 42 42 00 01"                     // identifier, sequence
                + " 70 69 6e 67");                   // "ping"
        long pseudo = sum(0, p, 8, 32) + 12 + 58;    // src, dst, upper-layer length, next header
        putShort(p, 42, checksum(pseudo, p, 40, 12));
        return p;
    }

    /** Ethernet header from {@code src} to {@code dst} with {@code etherType}, then {@code payload}. */
    static byte[] ethernet(String dst, String src, String etherType, byte[] payload) {
        byte[] header = hex(dst + src + etherType);
        byte[] frame = new byte[header.length + payload.length];
        System.arraycopy(header, 0, frame, 0, header.length);
        System.arraycopy(payload, 0, frame, header.length, payload.length);
        return frame;
    }

    /** ARP request, broadcast: who has 10.0.0.2? tell 10.0.0.1. 42 bytes. */
    static byte[] arpRequest() {
        return ethernet("ff ff ff ff ff ff", MAC_A, "08 06", hex("""
                00 01 08 00 06 04   # Ethernet, IPv4, address lengths 6 and 4
                00 01               # request
                02 00 00 00 00 01   # sender MAC
                0a 00 00 01         # sender IP
                00 00 00 00 00 00   # target MAC unknown
                0a 00 00 02         # target IP
                """));
    }

    static long sum(long acc, byte[] b, int off, int len) {
        for (int i = 0; i < len - 1; i += 2) {
            acc += ((b[off + i] & 0xFF) << 8) | (b[off + i + 1] & 0xFF);
        }
        if ((len & 1) != 0) {
            acc += (b[off + len - 1] & 0xFF) << 8;
        }
        return acc;
    }

    /** The Internet checksum (RFC 1071) of {@code b[off, off+len)} plus the partial sum {@code acc}. */
    static int checksum(long acc, byte[] b, int off, int len) {
        long s = sum(acc, b, off, len);
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) (~s & 0xFFFF);
    }

    static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    // ---- writing captures through the handler ----

    private Path capture(String name, PacketCapture.Builder builder, String iface, byte[]... packets)
            throws IOException {
        Path file = dir.resolve(name);
        PacketCapture capture = builder.clock(new AtomicLong(1_700_000_000_000_000_000L)::incrementAndGet)
                .open(file);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler(iface));
        for (int i = 0; i < packets.length; i++) {
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(packets[i]);
            if (i % 2 == 0) {
                channel.writeInbound(b);
            } else {
                channel.writeOutbound(b);
            }
        }
        channel.finishAndReleaseAll();
        capture.close();
        assertEquals(packets.length, capture.packetsWritten());
        return file;
    }

    private byte[][] ethernetFrames() {
        return new byte[][] {
                ethernet(MAC_B, MAC_A, "08 00", ipv4Udp()),
                arpRequest(),
                ethernet(MAC_B, MAC_A, "86 dd", ipv6Echo(false)),
                ethernet(MAC_A, MAC_B, "86 dd", ipv6Echo(true)),
        };
    }

    private static final String[] ETHERNET_FIELDS = {
            "frame.len", "frame.cap_len", "eth.type", "ip.checksum.status", "udp.checksum.status", "udp.payload",
            "arp.opcode", "ipv6.nxt", "icmpv6.type", "icmpv6.checksum.status"};

    private static final List<String> ETHERNET_EXPECTED = List.of(
            "54|54|0x0800|1|1|" + UDP_PAYLOAD_HEX + "||||",
            "42|42|0x0806||||1|||",
            "66|66|0x86dd|||||58|128|1",
            "66|66|0x86dd|||||58|129|1");

    @Test
    void classicPcapOfEthernetFrames() throws Exception {
        Path file = capture("eth.pcap", PacketCapture.builder(CaptureFormat.PCAP, LinkType.ETHERNET), "eth0",
                ethernetFrames());
        assertEquals(ETHERNET_EXPECTED, fields(file, ETHERNET_FIELDS));
        assertCleanExpertInfo(file);
    }

    @Test
    void nanosecondPcapOfEthernetFrames() throws Exception {
        Path file = capture("eth-ns.pcap", PacketCapture.builder(CaptureFormat.PCAP, LinkType.ETHERNET)
                .nanosecondTimestamps(true), "eth0", ethernetFrames());
        assertEquals(ETHERNET_EXPECTED, fields(file, ETHERNET_FIELDS));
        // the clock ticks 1 ns per packet: only a nanosecond file keeps that
        assertEquals(List.of("1700000000.000000001", "1700000000.000000002", "1700000000.000000003",
                "1700000000.000000004"), fields(file, "frame.time_epoch"));
        assertCleanExpertInfo(file);
    }

    @Test
    void pcapngOfEthernetFramesWithInterfaceNameDirectionAndComment() throws Exception {
        Path file = capture("eth.pcapng", PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.ETHERNET)
                .comment("netty-pktkit interop test"), "port1", ethernetFrames());
        assertEquals(ETHERNET_EXPECTED, fields(file, ETHERNET_FIELDS));
        // epb_flags direction: 1 inbound, 2 outbound, alternating as the packets were read and written
        assertEquals(List.of("port1|0x00000001", "port1|0x00000002", "port1|0x00000001", "port1|0x00000002"),
                fields(file, "frame.interface_name", "frame.packet_flags_direction"));
        assertEquals(List.of("1700000000.000000001", "1700000000.000000002", "1700000000.000000003",
                "1700000000.000000004"), fields(file, "frame.time_epoch"));
        assertCleanExpertInfo(file);

        String capinfos = Tools.assumeCommand("capinfos", "wireshark-common");
        ToolRun info = run(List.of(capinfos, "-k", "-I", file.toString()));
        assertTrue(info.stdout().contains("netty-pktkit interop test"), info.stdout());
        assertTrue(info.stdout().contains("Name = port1"), info.stdout());
    }

    private static final String[] RAW_FIELDS = {
            "frame.len", "ip.version", "ip.checksum.status", "udp.checksum.status", "udp.payload",
            "ipv6.nxt", "icmpv6.type", "icmpv6.checksum.status"};

    private static final List<String> RAW_EXPECTED = List.of(
            "40|4|1|1|" + UDP_PAYLOAD_HEX + "|||",
            "52|6||||58|128|1",
            "52|6||||58|129|1");

    @Test
    void classicPcapOfRawIpPackets() throws Exception {
        Path file = capture("raw.pcap", PacketCapture.builder(CaptureFormat.PCAP, LinkType.RAW), "tun0",
                ipv4Udp(), ipv6Echo(false), ipv6Echo(true));
        assertEquals(RAW_EXPECTED, fields(file, RAW_FIELDS));
        assertCleanExpertInfo(file);
    }

    @Test
    void pcapngOfRawIpPackets() throws Exception {
        Path file = capture("raw.pcapng", PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.RAW), "tun0",
                ipv4Udp(), ipv6Echo(false), ipv6Echo(true));
        assertEquals(RAW_EXPECTED, fields(file, RAW_FIELDS));
        assertCleanExpertInfo(file);
    }

    @Test
    void pcapngWithMixedLinkTypesAndATruncatedRecord() throws Exception {
        Path file = dir.resolve("mixed.pcapng");
        byte[] ethUdp = ethernet(MAC_B, MAC_A, "08 00", ipv4Udp());
        try (PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.ETHERNET)
                .snapLength(34) // Ethernet + IPv4 headers only
                .open(file)) {
            EmbeddedChannel eth = new EmbeddedChannel(capture.newHandler("eth0"));
            EmbeddedChannel tun = new EmbeddedChannel(capture.newHandler("tun0", LinkType.RAW));
            eth.writeInbound(PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(ethUdp));
            tun.writeOutbound(PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(ipv6Echo(false)));
            eth.finishAndReleaseAll();
            tun.finishAndReleaseAll();
        }
        assertEquals(List.of("eth0|54|34|0x0800|4", "tun0|52|34||6"),
                fields(file, "frame.interface_name", "frame.len", "frame.cap_len", "eth.type", "ip.version"));
        // records cut at the snap length read as short packets, not as a damaged file (run() checks stderr)
        assertEquals(List.of("1|34", "2|34"), fields(file, "frame.number", "frame.cap_len"));
    }

    @Test
    void theCleanlinessCheckCatchesABadChecksum() throws Exception {
        byte[] bad = ipv4Udp();
        bad[11] ^= 1; // IPv4 header checksum off by one bit
        Path file = capture("bad.pcap", PacketCapture.builder(CaptureFormat.PCAP, LinkType.RAW), "tun0", bad);
        assertEquals(List.of("40|4|0"), fields(file, "frame.len", "ip.version", "ip.checksum.status"));
        List<String> args = new ArrayList<>(List.of("-r", file.toString()));
        args.addAll(CHECK_CHECKSUMS);
        args.addAll(List.of("-Y", EXPERT_WARN_OR_WORSE, "-T", "fields", "-e", "frame.number"));
        assertEquals(List.of("1"), tshark(args).lines(), "the filter the clean checks rely on flags the packet");
    }

    // ---- running tshark ----

    private record ToolRun(int exitCode, String stdout, String stderr) {
        List<String> lines() {
            List<String> lines = new ArrayList<>();
            for (String line : stdout.split("\n")) {
                if (!line.isEmpty()) {
                    lines.add(line);
                }
            }
            return lines;
        }
    }

    private ToolRun tshark(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(tshark);
        command.addAll(args);
        return run(command);
    }

    /** Runs a Wireshark tool, which must exit 0 and say nothing bad about the file on stderr. */
    private ToolRun run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "tshark", ".out");
        Path err = Files.createTempFile(dir, "tshark", ".err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .start();
        if (!process.waitFor(TSHARK_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("did not finish: " + command);
        }
        ToolRun run = new ToolRun(process.exitValue(), Files.readString(out), Files.readString(err));
        // tshark warns about running as root on stderr; anything about the file itself is a failure
        assertEquals(0, run.exitCode(), () -> "failed: " + command + "\n" + run.stderr());
        for (String bad : List.of("damaged", "corrupt", "cut short", "isn't a capture file", "unknown")) {
            assertFalse(run.stderr().toLowerCase().contains(bad), () -> command + ": " + run.stderr());
        }
        return run;
    }

    /** One line per packet: the fields' values joined by '|' (first occurrence of each). */
    private List<String> fields(Path file, String... fields) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-r", file.toString()));
        args.addAll(CHECK_CHECKSUMS);
        args.addAll(List.of("-T", "fields", "-E", "separator=|", "-E", "occurrence=f"));
        for (String f : fields) {
            args.add("-e");
            args.add(f);
        }
        return tshark(args).lines();
    }

    /** No packet is malformed or carries expert info of warning or error severity. */
    private void assertCleanExpertInfo(Path file) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-r", file.toString()));
        args.addAll(CHECK_CHECKSUMS);
        args.addAll(List.of("-Y", EXPERT_WARN_OR_WORSE, "-T", "fields", "-e", "frame.number",
                "-e", "_ws.expert.message"));
        assertEquals(List.of(), tshark(args).lines(), "packets tshark finds malformed or suspicious");

        List<String> summary = new ArrayList<>(List.of("-r", file.toString(), "-q", "-z", "expert"));
        summary.addAll(CHECK_CHECKSUMS);
        String report = tshark(summary).stdout();
        assertFalse(report.contains("Malformed"), report);
        assertFalse(report.contains("Errors ("), report);
        assertFalse(report.contains("Warns ("), report);
        assertTrue(fields(file, "frame.number").size() > 0, "tshark read packets");
    }
}
