package dev.pktkit.examples;

import com.sun.net.httpserver.HttpServer;
import dev.pktkit.slirp.PortForward;
import dev.pktkit.slirp.SlirpGateway;
import dev.pktkit.testkit.SnmpCounters;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.guest.LinuxGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's main example, {@link QemuLan}, with real VMs (testkit's {@link LinuxGuest}: a Debian kernel and
 * busybox under QEMU). On the shared LAN the first VM leases 10.0.2.15 and takes a SLAAC address from the
 * gateway's router advertisements, resolves a name through slirp's DNS forwarder over IPv4 and IPv6 (upstream: a
 * {@code dnsmasq} on loopback), downloads a file from an HTTP server on the host's loopback over IPv4 and IPv6 and
 * checks its SHA-256 with busybox {@code wget} and {@code sha256sum}, uploads it base64-encoded (the host decodes
 * it and checks the SHA-256), pings the gateway over both families (the host kernel's ICMP counters show the
 * requests arrived: the replies are the host's), and serves HTTP that the host reaches through the example's
 * {@code --forward} (IPv4) and a forward added at run time through the Java API (IPv6), and the same for a UDP
 * echo; a second VM on the same
 * LAN leases 10.0.2.16, pings the first and fetches its page. With {@code --isolated} two VMs each lease
 * 10.0.2.15 in a tenant of their own and both reach the host.
 *
 * <p>Busybox has no UDP server ({@code nc} without {@code -u}): the VM runs the host's {@code socat} (with its
 * libraries, {@link LinuxGuest.Builder#hostProgram}) as a UDP echo, which the host reaches through the example's
 * UDP {@code --forward} (IPv4) and a UDP forward added at run time (IPv6).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class QemuLanTest {
    private static final byte[] FILE = new byte[1 << 20];

    static {
        new Random(11).nextBytes(FILE);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /**
     * GET /file: the file; POST /upload: the SHA-256 of the body, base64-decoded (busybox {@code wget
     * --post-file} sends a file as a C string, cut at its first NUL byte: the VM uploads the file base64-encoded).
     */
    private static HttpServer http(String bind) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getByName(bind), 0), 16);
        s.createContext("/file", x -> {
            x.sendResponseHeaders(200, FILE.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(FILE);
            }
        });
        s.createContext("/upload", x -> {
            byte[] body;
            try (InputStream in = x.getRequestBody()) {
                body = in.readAllBytes();
            }
            byte[] answer;
            try {
                answer = sha256(java.util.Base64.getMimeDecoder().decode(body)).getBytes(StandardCharsets.US_ASCII);
            } catch (Exception e) {
                answer = e.toString().getBytes(StandardCharsets.US_ASCII);
            }
            x.sendResponseHeaders(200, answer.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(answer);
            }
        });
        s.start();
        return s;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Sends {@code text} to {@code at} until the echo comes back (UDP: up to 5 tries, 3 s each). */
    private static String udpEcho(InetSocketAddress at, String text) throws IOException {
        byte[] out = text.getBytes(StandardCharsets.US_ASCII);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(at.getAddress(), 0))) {
            s.setSoTimeout(3_000);
            for (int i = 0; i < 5; i++) {
                s.send(new DatagramPacket(out, out.length, at));
                DatagramPacket in = new DatagramPacket(new byte[512], 512);
                try {
                    s.receive(in);
                    return new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII);
                } catch (java.net.SocketTimeoutException e) {
                    // lost: try again
                }
            }
        }
        return "no echo";
    }

    private static String get(InetSocketAddress at, String path) throws IOException {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return resp.substring(resp.indexOf("\r\n\r\n") + 4).trim();
        }
    }

    @Test
    void vmsOnTheLanReachTheHostEachOtherAndAreReachedThroughForwards(@TempDir Path dir) throws Exception {
        Tools.assumeCommand("dnsmasq", "dnsmasq-base");
        int dnsPort = freePort();
        Process dnsmasq = new ProcessBuilder("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + dnsPort,
                "--pid-file=", "--address=/vm.pktkit.test/192.0.2.55", "--address=/vm.pktkit.test/2001:db8::55")
                .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.log").toFile()).start();
        HttpServer http4 = http("127.0.0.1");
        HttpServer http6 = http("::1");
        int forward4 = freePort();
        int udpForward4 = freeUdpPort();
        String mac = "52:54:00:12:34:56";
        String slaac = "fec0::5054:ff:fe12:3456"; // the EUI-64 of the MAC in the advertised fec0::/64
        try (QemuLan lan = QemuLan.start(new QemuLan.Options(dir.resolve("lan.sock"), dir.resolve("lan.pcapng"),
                false, true, List.of("tcp:" + forward4 + ":8080", "udp:" + udpForward4 + ":7777"),
                List.of(new InetSocketAddress("127.0.0.1", dnsPort))))) {
            long in4 = SnmpCounters.icmp(false, "InEchos");
            long in6 = SnmpCounters.icmp(true, "Icmp6InEchos");
            int p4 = http4.getAddress().getPort();
            int p6 = http6.getAddress().getPort();
            String script = """
                    udhcpc -i eth0 -n -q -t 5 -T 2 || mark dhcp failed
                    i=0
                    while [ $i -lt 100 ] && ! ip -6 addr show dev eth0 | grep 'fec0::' | grep -qv tentative; do
                      sleep 0.2; i=$((i+1))
                    done
                    mark v6 "$(ip -6 addr show dev eth0 | grep -o 'fec0::[0-9a-f:]*' | head -1)"
                    mark v6route "$(ip -6 route show default | head -1)"
                    mark dns4 "$(nslookup vm.pktkit.test 10.0.2.3 | grep -c -e 192.0.2.55 -e 2001:db8::55)"
                    mark dns6 "$(nslookup vm.pktkit.test fec0::3 | grep -c -e 192.0.2.55 -e 2001:db8::55)"
                    wget -q -O /tmp/f http://10.0.2.2:@P4@/file && mark sha4 "$(sha256sum /tmp/f | cut -d' ' -f1)"
                    wget -q -O /tmp/f6 'http://[fec0::2]:@P6@/file' && mark sha6 "$(sha256sum /tmp/f6 | cut -d' ' -f1)"
                    base64 /tmp/f > /tmp/f.b64 && wget -q -O /tmp/u --post-file=/tmp/f.b64 http://10.0.2.2:@P4@/upload \
                      && mark upload "$(cat /tmp/u)"
                    if ping -c 3 -W 3 10.0.2.2 >/dev/null; then mark ping4 ok; else mark ping4 fail; fi
                    if ping6 -c 3 -W 3 fec0::2 >/dev/null; then mark ping6 ok; else mark ping6 fail; fi
                    mkdir -p /www && echo hello-from-vm > /www/who && httpd -p 8080 -h /www
                    socat UDP4-LISTEN:7777,fork,reuseaddr PIPE &
                    socat UDP6-LISTEN:7777,fork,reuseaddr,ipv6only=1 PIPE &
                    mark ready yes
                    sleep 600
                    """.replace("@P4@", Integer.toString(p4)).replace("@P6@", Integer.toString(p6));
            try (LinuxGuest vm = LinuxGuest.builder().nic(lan.netdevArgument("n0"), mac)
                    .hostProgram("socat", "socat").script(script).start()) {
                Duration t = Duration.ofSeconds(120);
                String lease = vm.awaitMarker("lease", t);
                assertTrue(lease.startsWith("10.0.2.15/") && lease.contains("router 10.0.2.2")
                        && lease.contains("dns 10.0.2.3"), lease);
                assertEquals(slaac, vm.awaitMarker("v6", t), "SLAAC from the router advertisement");
                assertTrue(vm.awaitMarker("v6route", t).contains("via fe80::"), vm.consoleTail());
                assertEquals("2", vm.awaitMarker("dns4", t), "A and AAAA through the forwarder: " + vm.consoleTail());
                assertEquals("2", vm.awaitMarker("dns6", t), vm.consoleTail());
                String sha = sha256(FILE);
                assertEquals(sha, vm.awaitMarker("sha4", t), vm.consoleTail());
                assertEquals(sha, vm.awaitMarker("sha6", t), vm.consoleTail());
                assertEquals(sha, vm.awaitMarker("upload", t), "the host read the VM's upload whole");
                assertEquals("ok", vm.awaitMarker("ping4", t), () -> vm.consoleTail() + "\n" + lan.slirp().counters());
                assertEquals("ok", vm.awaitMarker("ping6", t), () -> vm.consoleTail() + "\n" + lan.slirp().counters());
                assertTrue(SnmpCounters.icmp(false, "InEchos") - in4 >= 3, "the host's kernel answered the IPv4 pings");
                assertTrue(SnmpCounters.icmp(true, "Icmp6InEchos") - in6 >= 3, "and the IPv6 ones");
                assertEquals("yes", vm.awaitMarker("ready", t));

                assertEquals("hello-from-vm", get(new InetSocketAddress("127.0.0.1", forward4), "/who"),
                        "the example's --forward reaches the VM's server over IPv4");
                SlirpGateway.Tenant tenant = lan.gateway().tenant(QemuLan.LAN);
                PortForward f6 = tenant.namespace().forwardTcp(new InetSocketAddress("::1", 0),
                        new InetSocketAddress(InetAddress.getByName(slaac), 8080)).get(5, TimeUnit.SECONDS);
                assertEquals("hello-from-vm", get(f6.hostAddress(), "/who"),
                        "a forward added at run time reaches it over IPv6");
                f6.close();
                assertEquals("udp-echo-4", udpEcho(new InetSocketAddress("127.0.0.1", udpForward4), "udp-echo-4"),
                        () -> "the example's UDP --forward reaches socat's echo in the VM over IPv4: "
                                + vm.consoleTail() + "\n" + lan.slirp().counters());
                PortForward u6 = tenant.namespace().forwardUdp(new InetSocketAddress("::1", 0),
                        new InetSocketAddress(InetAddress.getByName(slaac), 7777)).get(5, TimeUnit.SECONDS);
                assertEquals("udp-echo-6", udpEcho(u6.hostAddress(), "udp-echo-6"), "and one added at run time over IPv6");
                u6.close();

                try (LinuxGuest second = LinuxGuest.builder().nic(lan.netdevArgument("n0"), "52:54:00:12:34:57")
                        .script("""
                                udhcpc -i eth0 -n -q -t 5 -T 2 || mark dhcp failed
                                if ping -c 2 -W 3 10.0.2.15 >/dev/null; then mark ping ok; else mark ping fail; fi
                                mark peer "$(wget -q -O - http://10.0.2.15:8080/who)"
                                """).start()) {
                    assertTrue(second.awaitMarker("lease", t).startsWith("10.0.2.16/"), second.consoleTail());
                    assertEquals("ok", second.awaitMarker("ping", t), "the second VM reaches the first");
                    assertEquals("hello-from-vm", second.awaitMarker("peer", t), second.consoleTail());
                }
                assertEquals(1, lan.gateway().tenantCount(), "one LAN for both VMs");
            }
            assertTrue(lan.capture().packetsWritten() > 0, "the VMs' frames were captured");
        } finally {
            http4.stop(0);
            http6.stop(0);
            dnsmasq.destroy();
            dnsmasq.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void isolatedVmsGetTheSameAddressInTenantsOfTheirOwn(@TempDir Path dir) throws Exception {
        HttpServer http4 = http("127.0.0.1");
        try (QemuLan lan = QemuLan.start(new QemuLan.Options(dir.resolve("lan.sock"), dir.resolve("lan.pcapng"),
                true, true, List.of(), List.of()))) {
            String script = """
                    udhcpc -i eth0 -n -q -t 5 -T 2 || mark dhcp failed
                    wget -q -O /tmp/f http://10.0.2.2:@P4@/file && mark sha4 "$(sha256sum /tmp/f | cut -d' ' -f1)"
                    sleep 600
                    """.replace("@P4@", Integer.toString(http4.getAddress().getPort()));
            try (LinuxGuest a = LinuxGuest.builder().nic(lan.netdevArgument("n0"), "52:54:00:12:34:56")
                    .script(script).start();
                 LinuxGuest b = LinuxGuest.builder().nic(lan.netdevArgument("n0"), "52:54:00:12:34:57")
                    .script(script).start()) {
                Duration t = Duration.ofSeconds(120);
                String sha = sha256(FILE);
                for (LinuxGuest vm : List.of(a, b)) {
                    assertTrue(vm.awaitMarker("lease", t).startsWith("10.0.2.15/"), vm.consoleTail());
                    assertEquals(sha, vm.awaitMarker("sha4", t), vm.consoleTail());
                }
                assertEquals(2, lan.gateway().tenantCount(), "a tenant per VM");
                for (SlirpGateway.Tenant tenant : lan.gateway().tenants()) {
                    assertEquals(2, tenant.segment().size(), "a segment of its own: its gateway and one VM");
                }
            }
        } finally {
            http4.stop(0);
        }
    }

    @Test
    void badOptionsFailBeforeAnythingStarts() {
        Path socket = Path.of("/nonexistent/lan.sock");
        Path pcap = Path.of("target/unused.pcapng");
        for (String bad : List.of("ssh:2222:22", "tcp:2222", "tcp:70000:22", "tcp:2222:0", "udp:x:53")) {
            assertThrows(IllegalArgumentException.class, () -> new QemuLan.Options(socket, pcap, false, false,
                    List.of(bad), List.of()), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> new QemuLan.Options(socket, pcap, true, false,
                List.of("tcp:2222:22"), List.of()), "an isolated VM's forwards go through the API");
        new QemuLan.Options(socket, pcap, false, false, List.of("tcp:0:10.0.2.16:22", "udp:5353:53"), List.of());
    }

    @Test
    void aStartThatFailsLeavesNothingRunning(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Set<Thread> before = loopThreads();
            QemuLan.Options o = new QemuLan.Options(dir.resolve("lan.sock"), dir.resolve("lan.pcapng"), false, false,
                    List.of("tcp:" + taken.getLocalPort() + ":22"), List.of());
            Exception e = assertThrows(Exception.class, () -> QemuLan.start(o), "the forward's port is in use");
            assertFalse(Files.exists(dir.resolve("lan.sock")), "no listener was bound: " + e);
            Set<Thread> started = loopThreads();
            started.removeAll(before);
            for (Thread t : started) {
                t.join(10_000); // the group was shut down before start() threw: its threads end
                assertFalse(t.isAlive(), t + " still runs after the failed start");
            }
        }
    }

    /** The live threads of Netty event loop groups made with the default thread factory. */
    private static Set<Thread> loopThreads() {
        Set<Thread> s = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("multiThreadIoEventLoopGroup-")) {
                s.add(t);
            }
        }
        return s;
    }
}
