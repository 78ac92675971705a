package dev.pktkit.examples;

import dev.pktkit.codec.capture.LinkType;
import dev.pktkit.codec.capture.PacketCapture;
import dev.pktkit.codec.dhcp.DhcpBinding;
import dev.pktkit.codec.pipe.PortConnector;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.qemu.QemuAddress;
import dev.pktkit.qemu.QemuListener;
import dev.pktkit.slirp.PortForward;
import dev.pktkit.slirp.Slirp;
import dev.pktkit.slirp.SlirpGateway;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A virtual LAN for QEMU virtual machines that reaches the host's network, with no root, TAP or iptables: a
 * {@link QemuListener} on a Unix socket puts every VM that connects on one LAN segment, whose gateway — a
 * {@link SlirpGateway} tenant — hands out 10.0.2.15 onwards by DHCP (router 10.0.2.2, DNS 10.0.2.3), advertises
 * fec0::/64 for SLAAC with DNS fec0::3, and takes the VMs' TCP, UDP, ICMP echo and DNS out through the host's
 * own sockets (slirp; ICMP echo where the host lets this process open ICMP sockets — {@code ping_group_range} or
 * {@code CAP_NET_RAW} — and answered administratively prohibited where it does not). The VMs also reach each other. With {@code --isolated} every VM gets a tenant of its own
 * instead (the same addresses, and no VM sees another). Every frame of every VM is captured to
 * {@code target/qemu-lan.pcapng}. Runs until Ctrl-C or {@code --seconds=N}.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec}; arguments (with
 * {@code -Dexample.args="..."}):
 * <ul>
 * <li>{@code --socket=PATH}: the listener's socket (default {@code /tmp/pktkit-lan.sock});</li>
 * <li>{@code --seconds=N}: stop after N seconds;</li>
 * <li>{@code --isolated}: a tenant per VM instead of one shared LAN;</li>
 * <li>{@code --host-loopback}: the gateway address 10.0.2.2 (fec0::2) is the host's loopback, as with QEMU's
 * {@code -netdev user}; off by default, so the VMs reach the host's other addresses only;</li>
 * <li>{@code --forward=PROTO:HOSTPORT:GUESTPORT} or {@code --forward=PROTO:HOSTPORT:GUESTADDRESS:GUESTPORT}
 * (repeatable; PROTO {@code tcp} or {@code udp}): a port on the host's loopback that reaches a VM's port (an IPv4
 * address, default 10.0.2.15, the first lease; shared LAN only, as every isolated VM has the same addresses; IPv6
 * forwards through the Java API, {@code gateway().tenant("lan").namespace().forwardTcp(...)});</li>
 * <li>{@code --dns=ADDRESS:PORT} (repeatable): the forwarder's upstreams (default the host's
 * {@code /etc/resolv.conf}).</li>
 * </ul>
 */
public final class QemuLan implements AutoCloseable {
    /** The key of the shared LAN's tenant. */
    static final String LAN = "lan";

    private final Options options;
    private final MultiThreadIoEventLoopGroup group;
    // set in order by the constructor; null when it failed before (close() takes what there is)
    private Slirp slirp;
    private SlirpGateway gateway;
    private PacketCapture capture;
    private QemuListener vms;
    /**
     * What {@link #start} needs: the socket, the capture file, a tenant per VM or one LAN, the loopback
     * mapping, the forwards ({@code PROTO:HOSTPORT:[GUESTADDRESS:]GUESTPORT}), and the upstream DNS servers
     * (empty: the host's {@code /etc/resolv.conf}).
     */
    public record Options(Path socket, Path pcap, boolean isolated, boolean hostLoopback, List<String> forwards,
                          List<InetSocketAddress> dns) {
        public Options {
            forwards = List.copyOf(forwards);
            dns = List.copyOf(dns);
            forwards.forEach(Forward::parse); // a bad --forward fails here, before anything starts
            if (isolated && !forwards.isEmpty()) {
                throw new IllegalArgumentException("--forward needs the shared LAN: an isolated VM's forwards go"
                        + " through its own tenant's namespace (SlirpGateway.Tenant.namespace())");
            }
        }

        /** One shared LAN, no forwards, the host's resolvers, captured to {@code target/qemu-lan.pcapng}. */
        public static Options defaults(Path socket) {
            return new Options(socket, Path.of("target/qemu-lan.pcapng"), false, false, List.of(), List.of());
        }
    }

    /** A parsed {@code --forward}. */
    private record Forward(boolean tcp, int hostPort, String guestAddress, int guestPort) {
        static Forward parse(String spec) {
            String[] f = spec.split(":");
            if ((f.length != 3 && f.length != 4) || !(f[0].equals("tcp") || f[0].equals("udp"))) {
                throw new IllegalArgumentException(
                        "--forward=PROTO:HOSTPORT:[GUESTADDRESS:]GUESTPORT, PROTO tcp or udp: " + spec);
            }
            int host = Integer.parseInt(f[1]);
            int guest = Integer.parseInt(f[f.length - 1]);
            if (host < 0 || host > 65535 || guest < 1 || guest > 65535) {
                throw new IllegalArgumentException("--forward ports: HOSTPORT 0-65535 (0: any free one), GUESTPORT"
                        + " 1-65535: " + spec);
            }
            return new Forward(f[0].equals("tcp"), host, f.length == 4 ? f[2] : "10.0.2.15", guest);
        }
    }

    private QemuLan(Options o) throws Exception {
        this.options = o;
        Files.deleteIfExists(o.socket());
        Path pcap = o.pcap().toAbsolutePath();
        Files.createDirectories(pcap.getParent());
        this.group = Transports.newEventLoopGroup(2);
        try { // a start that fails halfway (a forward's port in use, a bad socket path) leaves nothing running
            Slirp.Builder b = Slirp.builder().hostLoopback(o.hostLoopback())
                    .hostTransport(group, Transports.chosen());
            if (!o.dns().isEmpty()) {
                b.dnsUpstreams(o.dns());
            }
            this.slirp = b.build();
            this.gateway = SlirpGateway.builder(slirp).group(group).build();
            this.capture = PacketCapture.pcapng(pcap, LinkType.ETHERNET);
            PortConnector tenants = o.isolated() ? gateway.connector() : sharedLan(o.forwards());
            this.vms = QemuListener.stream(QemuAddress.unix(o.socket())).group(group).connector(port -> {
                String id = port.id().asShortText();
                port.pipeline().addFirst(capture.newHandler("vm-" + id));
                System.out.println("VM joined: port " + id);
                port.closeFuture().addListener(f -> System.out.println("VM left: port " + id));
                return tenants.attach(port);
            }).bind().get(5, TimeUnit.SECONDS);
        } catch (Exception | Error e) {
            try {
                close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The shared LAN: its tenant is opened before its first VM, so that its namespace takes the forwards now.
     */
    private PortConnector sharedLan(List<String> forwards) throws Exception {
        SlirpGateway.Tenant lan = gateway.open(LAN).get(5, TimeUnit.SECONDS);
        for (String spec : forwards) {
            Forward f = Forward.parse(spec);
            InetSocketAddress host = new InetSocketAddress("127.0.0.1", f.hostPort());
            InetSocketAddress guest = new InetSocketAddress(f.guestAddress(), f.guestPort());
            PortForward pf = (f.tcp() ? lan.namespace().forwardTcp(host, guest)
                    : lan.namespace().forwardUdp(host, guest)).get(5, TimeUnit.SECONDS);
            System.out.println("forward: " + pf);
        }
        return gateway.connector(LAN);
    }

    /** Starts the listener, the slirp and its gateway. */
    public static QemuLan start(Options options) throws Exception {
        return new QemuLan(options);
    }

    /** The gateway: its tenants (one, or one per VM), their namespaces and port forwards. */
    public SlirpGateway gateway() {
        return gateway;
    }

    /** The slirp: its counters. */
    public Slirp slirp() {
        return slirp;
    }

    /** The capture of every VM's frames. */
    public PacketCapture capture() {
        return capture;
    }

    /** The {@code -netdev} argument that joins a VM. */
    public String netdevArgument(String id) {
        return vms.netdevArgument(id);
    }

    @Override
    public void close() throws Exception {
        if (vms != null) {
            vms.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (gateway != null) {
            gateway.close();
        }
        if (slirp != null) {
            slirp.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (capture != null) {
            capture.close();
        }
        Files.deleteIfExists(options.socket());
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of("/tmp/pktkit-lan.sock");
        long seconds = 0;
        boolean isolated = false;
        boolean loopback = false;
        List<String> forwards = new ArrayList<>();
        List<InetSocketAddress> dns = new ArrayList<>();
        for (String a : args) {
            for (String arg : a.trim().split("\\s+")) {
                if (arg.startsWith("--socket=")) {
                    socket = Path.of(arg.substring("--socket=".length()));
                } else if (arg.startsWith("--seconds=")) {
                    seconds = Long.parseLong(arg.substring("--seconds=".length()));
                } else if (arg.equals("--isolated")) {
                    isolated = true;
                } else if (arg.equals("--host-loopback")) {
                    loopback = true;
                } else if (arg.startsWith("--forward=")) {
                    forwards.add(arg.substring("--forward=".length()));
                } else if (arg.startsWith("--dns=")) {
                    String v = arg.substring("--dns=".length());
                    int colon = v.lastIndexOf(':');
                    if (colon < 0) {
                        throw new IllegalArgumentException("--dns=ADDRESS:PORT: " + v);
                    }
                    dns.add(new InetSocketAddress(v.substring(0, colon).replace("[", "").replace("]", ""),
                            Integer.parseInt(v.substring(colon + 1))));
                } else if (!arg.isEmpty()) {
                    throw new IllegalArgumentException("unknown argument " + arg + " (use --socket=PATH, --seconds=N,"
                            + " --isolated, --host-loopback, --forward=PROTO:HOSTPORT:[GUESTADDRESS:]GUESTPORT,"
                            + " --dns=ADDRESS:PORT)");
                }
            }
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        Options o = new Options(socket, Path.of("target/qemu-lan.pcapng"), isolated, loopback, forwards, dns);
        try (QemuLan lan = start(o)) {
            System.out.println("transport: " + Transports.chosen() + "; " + (isolated ? "a LAN per VM" : "one LAN")
                    + "; host loopback at 10.0.2.2: " + (loopback ? "yes" : "no"));
            System.out.println("Start a VM on this LAN with (give each VM its own MAC):");
            System.out.println("  qemu-system-x86_64 -m 512 -nographic \\");
            System.out.println("    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \\");
            System.out.println("    -netdev " + lan.netdevArgument("n0") + " \\");
            System.out.println("    <your disk or -kernel/-initrd options>");
            System.out.println("It gets 10.0.2.15 onwards by DHCP (router 10.0.2.2, DNS 10.0.2.3) and fec0::/64 by"
                    + " SLAAC, and reaches the host's network through slirp.");
            System.out.println(seconds > 0 ? "Running for " + seconds + " s." : "Running until Ctrl-C.");
            Set<String> reported = new HashSet<>();
            long deadline = seconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
            while (!stop.await(1, TimeUnit.SECONDS) && System.nanoTime() - deadline < 0) {
                lan.reportLeases(reported);
            }
            System.out.println("slirp: " + lan.slirp().counters());
        }
        System.out.println("captured to " + o.pcap().toAbsolutePath());
    }

    private void reportLeases(Set<String> reported) {
        for (SlirpGateway.Tenant t : gateway.tenants()) {
            for (DhcpBinding b : t.dhcp().bindings()) {
                String key = MacAddress.format(b.mac()) + " " + b.address().getHostAddress();
                if (b.state() == DhcpBinding.State.BOUND && reported.add(key)) {
                    System.out.println("lease: " + key + (b.hostName() != null ? " (" + b.hostName() + ")" : ""));
                }
            }
        }
    }
}
