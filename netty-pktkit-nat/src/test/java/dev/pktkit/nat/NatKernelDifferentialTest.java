package dev.pktkit.nat;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Differential test against the Linux kernel's NAT: the same traffic crosses {@code nft} masquerade in a router
 * namespace and our {@link Nat} between two TUN channels, with the same addresses on both paths (inside host
 * 10.70.0.2 and 10.70.0.3, NAT 10.70.0.1 / 198.51.100.1, server 198.51.100.10). A packet socket
 * ({@code AF_PACKET}) captures every IPv4 packet at the inside host's and at the server's interface; each packet
 * crossing a NAT is paired with its translation and described (what changed and how, which checksums hold), and
 * the descriptions from the two NATs must be equal.
 *
 * <p>Traffic (one script, run in each inside namespace): UDP 5000 → 7000 and → 7001 (endpoint-independent
 * mapping, port preservation), an unsolicited datagram from the server's port 7002 (address-and-port-dependent
 * filtering, the NAT's mode here, is what conntrack does), a second host with the same source port (port
 * conflict), a TCP connection from port 5001 with data and both FINs, a ping, and UDP to a closed port (ICMP port
 * unreachable translated back, embedded packet included).
 *
 * <p>The one known difference: Linux, being a router, decrements the TTL; our NAT is a transparent middlebox and
 * does not (see the module README). The TTL is therefore compared on its own.
 */
class NatKernelDifferentialTest {
    static final String SERVER = "198.51.100.10";
    static final String NAT_OUT = "198.51.100.1";
    static final String NAT_IN = "10.70.0.1";

    private static final String SERVER_PY = """
            import socket, sys, threading
            S = sys.argv[1]
            def tcp():
                l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                l.bind((S, 8080)); l.listen(4)
                while True:
                    c, _ = l.accept()
                    while True:
                        d = c.recv(100)
                        if not d:
                            break
                        c.sendall(d)
                    c.close()
            threading.Thread(target=tcp, daemon=True).start()
            other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); other.bind((S, 7002))
            def udp(port):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((S, port))
                while True:
                    d, a = s.recvfrom(2000)
                    if d == b"poke":
                        other.sendto(b"unsol", a)   # from another port: filtered by both NATs
                        s.sendto(b"sol", a)
                    else:
                        s.sendto(d, a)
            threading.Thread(target=udp, args=(7001,), daemon=True).start()
            udp(7000)
            """;

    private static final String CLIENT_PY = """
            import socket, sys, subprocess
            S = sys.argv[1]
            got = []
            def udp(addr, port):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(5)
                return s
            a = udp("10.70.0.2", 5000)
            for tag, port in ((b"u1", 7000), (b"u2", 7001), (b"poke", 7000)):
                a.sendto(tag, (S, port)); got.append(a.recv(100))
            b = udp("10.70.0.3", 5000)
            b.sendto(b"u3", (S, 7000)); got.append(b.recv(100))
            t = socket.socket(); t.settimeout(5); t.bind(("10.70.0.2", 5001)); t.connect((S, 8080))
            t.sendall(b"t1"); got.append(t.recv(100)); t.shutdown(socket.SHUT_WR)
            while t.recv(100):
                pass
            t.close()
            p = subprocess.run(["ping", "-c", "1", "-W", "5", "-p", "70696e67", S], capture_output=True)
            got.append(b"ping-ok" if p.returncode == 0 else b"ping-failed")
            c = udp("10.70.0.2", 5002); c.connect((S, 9999))
            try:
                c.send(b"u4"); c.recv(100); got.append(b"answered")
            except ConnectionRefusedError:
                got.append(b"refused")
            a.sendto(b"end", (S, 7000)); got.append(a.recv(100))
            print(" ".join(x.decode() for x in got))
            """;

    /** Captures IPv4 packets on one interface: a line "pkttype hex" each (0 = to this host, 4 = outgoing). */
    private static final String SNIFF_PY = """
            import socket, sys
            s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
            s.bind((sys.argv[1], 0))
            f = open(sys.argv[2], "w", buffering=1)
            print("ready", flush=True)
            while True:
                d, a = s.recvfrom(70000)
                if a[1] == 0x0800:
                    f.write("%d %s\\n" % (a[2], d.hex()))
            """;

    @Test
    void sameTrafficThroughNftMasqueradeAndThroughOurNat() throws Exception {
        Netns.assumeUsable();
        Tools.assumeCommand("nft", "nftables");
        Tools.assumeCommand("ethtool", "ethtool");
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("ping", "iputils-ping");
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
        Path dir = Files.createTempDirectory("nat-diff");
        for (String[] f : new String[][]{{"server.py", SERVER_PY}, {"client.py", CLIENT_PY}, {"sniff.py", SNIFF_PY}}) {
            Files.writeString(dir.resolve(f[0]), f[1]);
        }
        Run kernel;
        try (Netns in = Netns.create(); Netns router = Netns.create(); Netns srv = Netns.create()) {
            in.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "rin", "netns", router.name).check();
            srv.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "rout", "netns", router.name)
                    .check();
            in.sh("ip addr add 10.70.0.2/24 dev eth0 && ip addr add 10.70.0.3/24 dev eth0 && ip link set eth0 up"
                    + " && ip route add default via " + NAT_IN + " && ethtool -K eth0 tx off >/dev/null").check();
            srv.sh("ip addr add " + SERVER + "/24 dev eth0 && ip link set eth0 up && ethtool -K eth0 tx off"
                    + " >/dev/null").check();
            router.sh("ip addr add " + NAT_IN + "/24 dev rin && ip addr add " + NAT_OUT + "/24 dev rout"
                    + " && ip link set rin up && ip link set rout up && sysctl -q -w net.ipv4.ip_forward=1").check();
            Path rules = dir.resolve("masquerade.nft");
            Files.writeString(rules, """
                    table ip pktkit_nat {
                        chain post {
                            type nat hook postrouting priority srcnat; policy accept;
                            oifname "rout" masquerade
                        }
                    }
                    """);
            router.exec("nft", "-f", rules.toString()).check();
            kernel = run(dir, "kernel", in, "eth0", srv, "eth0");
        }
        Run ours;
        MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.EPOLL, 1);
        try (Netns in = Netns.create(); Netns srv = Netns.create()) {
            Nat nat = Nat.create(group.next(), NatConfig.builder().outsideAddresses(NAT_OUT).insideAddress(NAT_IN)
                    .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build());
            TunChannel tunIn = bind(group, in, "nin0");
            TunChannel tunOut = bind(group, srv, "nout0");
            try {
                tunIn.link().addAddress("10.70.0.2/24").addAddress("10.70.0.3/24").up();
                in.exec("ip", "route", "add", "default", "dev", "nin0").check();
                tunOut.link().addAddress(SERVER + "/24").up();
                nat.attach(tunIn);
                nat.attachOutside(tunOut);
                ours = run(dir, "ours", in, "nin0", srv, "nout0");
            } finally {
                nat.close();
                tunIn.close().sync();
                tunOut.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }

        String expectedClient = "u1 u2 sol u3 t1 ping-ok refused end";
        assertEquals(expectedClient, kernel.client, "the kernel path (sanity of the fixture)");
        assertEquals(expectedClient, ours.client, "what the inside host received through our NAT");
        List<String> required = List.of("out udp u1", "in udp u1", "out udp u2", "in udp u2", "out udp poke",
                "in udp sol", "in udp unsol", "out udp u3", "in udp u3", "out tcp S seq+0 len 0",
                "in tcp SA seq+0 len 0", "out tcp PA seq+1 len 2", "in tcp PA seq+1 len 2", "out tcp FA seq+3 len 0",
                "in tcp FA seq+3 len 0", "out icmp echo 8 seq 1", "in icmp echo 0 seq 1", "out udp u4",
                "in icmp error 3/3 about udp u4", "out udp end", "in udp end");
        for (String name : required) {
            assertTrue(kernel.translations.containsKey(name), "kernel path lacks " + name + ": " + kernel);
            assertTrue(ours.translations.containsKey(name), "our path lacks " + name + ": " + ours);
        }
        Map<String, String> k = new TreeMap<>();
        Map<String, String> o = new TreeMap<>();
        for (String name : kernel.translations.keySet()) {
            if (ours.translations.containsKey(name)) {
                k.put(name, kernel.translations.get(name));
                o.put(name, ours.translations.get(name));
            }
        }
        assertEquals(render(k), render(o), "translations: kernel (expected) vs ours");
        // the only difference: the kernel routes (TTL - 1), we do not touch the TTL of NAPT traffic
        assertEquals(List.of(-1), kernel.ttlDeltas.stream().distinct().toList(), kernel.toString());
        assertEquals(List.of(0), ours.ttlDeltas.stream().distinct().toList(), ours.toString());
    }

    private static String render(Map<String, String> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((n, d) -> b.append(n).append(": ").append(d).append('\n'));
        return b.toString();
    }

    private static TunChannel bind(MultiThreadIoEventLoopGroup group, Netns ns, String name) throws Exception {
        return (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(ns.handle))
                .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of(name)).sync().channel();
    }

    /** One path's result: what the client received, and each crossing packet's translation by name. */
    record Run(String client, Map<String, String> translations, List<Integer> ttlDeltas) {
    }

    private static Run run(Path dir, String tag, Netns in, String inIf, Netns srv, String srvIf) throws Exception {
        Path inCap = dir.resolve(tag + "-inside.cap");
        Path srvCap = dir.resolve(tag + "-server.cap");
        Path inLog = dir.resolve(tag + "-sniff-inside.log");
        Path srvLog = dir.resolve(tag + "-sniff-server.log");
        in.start(inLog, "python3", "-u", dir.resolve("sniff.py").toString(), inIf, inCap.toString());
        srv.start(srvLog, "python3", "-u", dir.resolve("sniff.py").toString(), srvIf, srvCap.toString());
        srv.start(dir.resolve(tag + "-server.log"), "python3", dir.resolve("server.py").toString(), SERVER);
        awaitLine(inLog, "ready");
        awaitLine(srvLog, "ready");
        srv.awaitListening(8080, false);
        srv.awaitListening(7000, true);
        srv.awaitListening(7001, true);
        Netns.Result r = in.exec("python3", dir.resolve("client.py").toString(), SERVER);
        String client = r.output().trim();
        // the last packet of the traffic is the "end" echo: once both captures hold it, they hold the rest
        String end = HexFormat.of().formatHex("end".getBytes(StandardCharsets.US_ASCII));
        awaitLine(inCap, "0 ", end);
        awaitLine(srvCap, "4 ", end);
        return pair(client, read(inCap), read(srvCap));
    }

    /** Polls {@code file} until a line starts with {@code prefix} and ends with {@code suffix}; fails after 20 s. */
    private static void awaitLine(Path file, String prefix) throws IOException {
        awaitLine(file, prefix, "");
    }

    private static void awaitLine(Path file, String prefix, String suffix) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readAllLines(file).stream()
                    .anyMatch(l -> l.startsWith(prefix) && l.endsWith(suffix))) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("no line " + prefix + "…" + suffix + " in " + file);
    }

    record Captured(int type, byte[] bytes) {
    }

    private static List<Captured> read(Path file) throws IOException {
        List<Captured> l = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            int sp = line.indexOf(' ');
            if (sp > 0 && line.length() > sp + 1) {
                l.add(new Captured(Integer.parseInt(line.substring(0, sp)),
                        HexFormat.of().parseHex(line.substring(sp + 1))));
            }
        }
        return l;
    }

    /**
     * Names every packet the inside host sent (type 4 on its interface) and every packet the server sent
     * (type 4 on its interface), finds each one's translation on the other side (type 0), and describes it.
     */
    private static Run pair(String client, List<Captured> inside, List<Captured> server) {
        Map<String, byte[]> insideOut = named(inside, 4, "out");
        Map<String, byte[]> insideIn = named(inside, 0, "in");
        Map<String, byte[]> serverIn = named(server, 0, "out");
        Map<String, byte[]> serverOut = named(server, 4, "in");
        Map<String, String> t = new TreeMap<>();
        List<Integer> ttl = new ArrayList<>();
        insideOut.forEach((n, p) -> t.put(n, describe(p, serverIn.get(n), ttl)));
        serverOut.forEach((n, p) -> t.put(n, describe(p, insideIn.get(n), ttl)));
        return new Run(client, t, ttl);
    }

    /**
     * Names packets by what they are, independent of addresses, ports and initial sequence numbers (so the same
     * name on both sides of a NAT, and on both paths): UDP by payload, TCP by flags and sequence relative to the
     * first seen, ICMP echo by type and sequence, ICMP errors by type/code and the embedded UDP payload. A
     * retransmission has its original's name and is skipped.
     */
    private static Map<String, byte[]> named(List<Captured> caps, int type, String dir) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        Map<String, Long> isn = new LinkedHashMap<>();
        for (Captured c : caps) {
            if (c.type != type) {
                continue;
            }
            ByteBuf b = Unpooled.wrappedBuffer(c.bytes);
            if (b.readableBytes() < 20 || Ipv4.version(b, 0) != 4) {
                continue;
            }
            int l4 = Ipv4.headerLength(b, 0);
            int end = Ipv4.totalLength(b, 0);
            String name = switch (Ipv4.protocol(b, 0)) {
                case IpProtocol.UDP -> "udp " + ascii(b, l4 + 8, end);
                case IpProtocol.TCP -> {
                    String flow = Ip4.format(Ipv4.src(b, 0)) + ":" + b.getUnsignedShort(l4);
                    long seq = b.getUnsignedInt(l4 + 4);
                    long base = isn.computeIfAbsent(dir + flow, f -> seq);
                    yield "tcp " + tcpFlags(b.getUnsignedByte(l4 + 13)) + " seq+" + ((seq - base) & 0xFFFF_FFFFL)
                            + " len " + (end - l4 - ((b.getUnsignedByte(l4 + 12) >>> 4) << 2));
                }
                case IpProtocol.ICMP -> {
                    int t = b.getUnsignedByte(l4);
                    if (t == 0 || t == 8) {
                        yield "icmp echo " + t + " seq " + b.getUnsignedShort(l4 + 6);
                    }
                    int e = l4 + 8;
                    int el4 = e + Ipv4.headerLength(b, e);
                    yield "icmp error " + t + "/" + b.getUnsignedByte(l4 + 1) + " about udp "
                            + ascii(b, el4 + 8, end);
                }
                default -> "proto " + Ipv4.protocol(b, 0);
            };
            m.putIfAbsent(dir + " " + name, c.bytes);
        }
        return m;
    }

    private static String ascii(ByteBuf b, int from, int to) {
        return from >= to ? "" : b.toString(from, to - from, StandardCharsets.ISO_8859_1);
    }

    /** TCP flags as letters in the order S F R P A ("SA" a SYN-ACK, "FA" a FIN with ACK). */
    private static String tcpFlags(int f) {
        StringBuilder s = new StringBuilder();
        int[] bits = {0x02, 0x01, 0x04, 0x08, 0x10};
        String letters = "SFRPA";
        for (int i = 0; i < bits.length; i++) {
            if ((f & bits[i]) != 0) {
                s.append(letters.charAt(i));
            }
        }
        return s.length() == 0 ? "-" : s.toString();
    }

    /**
     * What a NAT did to one packet: each IPv4 header field and the transport header's fields, as "=" (kept) or
     * "old→new"; whether the header checksum and the transport checksum hold after; whether the rest (transport
     * payload, TCP options) is unchanged. The TTL change goes to {@code ttl} instead. For ICMP errors the embedded
     * packet is described the same way against its original (kept, or rewritten back).
     */
    private static String describe(byte[] before, byte[] after, List<Integer> ttl) {
        if (after == null) {
            return "not delivered";
        }
        ByteBuf a = Unpooled.wrappedBuffer(before);
        ByteBuf z = Unpooled.wrappedBuffer(after);
        ttl.add(Ipv4.ttl(z, 0) - Ipv4.ttl(a, 0));
        StringBuilder d = new StringBuilder();
        header(d, a, z, 0);
        int proto = Ipv4.protocol(a, 0);
        int la = Ipv4.headerLength(a, 0);
        int lz = Ipv4.headerLength(z, 0);
        int endZ = Ipv4.totalLength(z, 0);
        d.append(" ipck ").append(Ipv4.verifyChecksum(z, 0) ? "ok" : "BAD");
        switch (proto) {
            case IpProtocol.UDP, IpProtocol.TCP -> {
                ports(d, a, la, z, lz);
                long pseudo = Checksums.pseudoHeaderV4(Ipv4.src(z, 0), Ipv4.dst(z, 0), proto, endZ - lz);
                d.append(" l4ck ").append(Checksums.verify(z, lz, endZ - lz, pseudo) ? "ok" : "BAD");
                // after the ports, the checksum excluded
                d.append(" rest ").append(sameExcept(a, la + 4, z, lz + 4, Ipv4.totalLength(a, 0),
                        proto == IpProtocol.TCP ? 12 : 2) ? "=" : "changed");
            }
            case IpProtocol.ICMP -> {
                int t = z.getUnsignedByte(lz);
                d.append(" icmp ").append(a.getUnsignedByte(la)).append('/').append(a.getUnsignedByte(la + 1))
                        .append(change(a.getUnsignedByte(la), t));
                d.append(" icmpck ").append(Checksums.internet(z, lz, endZ - lz) == 0 ? "ok" : "BAD");
                if (t == 0 || t == 8) {
                    d.append(" id").append(change(a.getUnsignedShort(la + 4), z.getUnsignedShort(lz + 4)));
                    d.append(" rest ").append(sameExcept(a, la + 6, z, lz + 6, Ipv4.totalLength(a, 0), -1)
                            ? "=" : "changed");
                } else {
                    int ea = la + 8;
                    int ez = lz + 8;
                    d.append(" | embedded");
                    header(d, a, z, ea, ez);
                    d.append(" ipck ").append(Ipv4.verifyChecksum(z, ez) ? "ok" : "BAD");
                    int ela = ea + Ipv4.headerLength(a, ea);
                    int elz = ez + Ipv4.headerLength(z, ez);
                    ports(d, a, ela, z, elz);
                    int eEnd = ez + Ipv4.totalLength(z, ez);
                    if (eEnd <= endZ) {
                        long pseudo = Checksums.pseudoHeaderV4(Ipv4.src(z, ez), Ipv4.dst(z, ez), IpProtocol.UDP,
                                eEnd - elz);
                        d.append(" l4ck ").append(Checksums.verify(z, elz, eEnd - elz, pseudo) ? "ok" : "BAD");
                    }
                    d.append(" quoted ").append(endZ - lz).append(change(Ipv4.totalLength(a, 0) - la, endZ - lz));
                }
            }
            default -> d.append(" proto ").append(proto);
        }
        return d.toString();
    }

    private static void header(StringBuilder d, ByteBuf a, ByteBuf z, int off) {
        header(d, a, z, off, off);
    }

    /** The IPv4 header fields but TTL and checksum: tos, total length, id, flags/offset, protocol, addresses. */
    private static void header(StringBuilder d, ByteBuf a, ByteBuf z, int oa, int oz) {
        d.append(" tos").append(change(Ipv4.tos(a, oa), Ipv4.tos(z, oz)));
        d.append(" len").append(change(Ipv4.totalLength(a, oa), Ipv4.totalLength(z, oz)));
        d.append(" id").append(change(Ipv4.identification(a, oa), Ipv4.identification(z, oz)));
        d.append(" frag").append(change(Ipv4.flagsAndFragmentOffset(a, oa), Ipv4.flagsAndFragmentOffset(z, oz)));
        d.append(" src").append(changeAddress(Ipv4.src(a, oa), Ipv4.src(z, oz)));
        d.append(" dst").append(changeAddress(Ipv4.dst(a, oa), Ipv4.dst(z, oz)));
    }

    private static final int CONFLICTING_HOST = Ip4.parse("10.70.0.3");

    /**
     * Ports as "=" or "old→new". The outside port of the conflicting flow (10.70.0.3:5000, whose port 10.70.0.2
     * holds) is only "changed": each NAT picks its own free port (the unit tests check ours keeps parity).
     */
    private static void ports(StringBuilder d, ByteBuf a, int la, ByteBuf z, int lz) {
        int sa = a.getUnsignedShort(la);
        int sz = z.getUnsignedShort(lz);
        int da = a.getUnsignedShort(la + 2);
        int dz = z.getUnsignedShort(lz + 2);
        boolean out = Ipv4.src(a, 0) == CONFLICTING_HOST && sa == 5000;
        boolean in = Ipv4.dst(z, 0) == CONFLICTING_HOST && dz == 5000;
        d.append(" sport").append(out && sa != sz ? " changed" : change(sa, sz));
        d.append(" dport").append(in && da != dz ? " changed" : change(da, dz));
    }

    private static String change(int a, int z) {
        return a == z ? "=" : " " + a + "→" + z;
    }

    private static String changeAddress(int a, int z) {
        return a == z ? "=" : " " + Ip4.format(a) + "→" + Ip4.format(z);
    }

    /** Whether bytes from {@code fa}/{@code fz} to the end agree, but the 2 bytes at {@code skip} past the start. */
    private static boolean sameExcept(ByteBuf a, int fa, ByteBuf z, int fz, int endA, int skip) {
        int n = endA - fa;
        if (z.readableBytes() < fz + n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (i == skip || i == skip + 1) {
                continue;
            }
            if (a.getByte(fa + i) != z.getByte(fz + i)) {
                return false;
            }
        }
        return true;
    }
}
