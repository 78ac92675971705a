package dev.pktkit.examples;

import dev.pktkit.codec.dhcp.DhcpBinding;
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
 * QEMU virtual machines that reach the host's network through slirp, with no root, TAP or iptables: a
 * {@link QemuListener} on a Unix socket gives every VM that connects its own {@link SlirpGateway} tenant — DHCP
 * (10.0.2.15 onwards, router 10.0.2.2, DNS 10.0.2.3), IPv6 router advertisements (fec0::/64, DNS fec0::3), and a
 * slirp namespace whose TCP, UDP, ICMP echo and DNS leave through the host's own sockets. With
 * {@code --host-loopback} the gateway address is the host's loopback (as QEMU's {@code -netdev user}); with
 * {@code --forward=tcp:HOSTPORT:GUESTPORT} (or {@code udp:}) a port on the host's loopback reaches the newest VM's
 * 10.0.2.15. Runs until Ctrl-C or {@code --seconds=N}.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec
 * -Dexample.main=dev.pktkit.examples.SlirpLan -Dexample.args="--forward=tcp:2222:22"}; arguments:
 * {@code --socket=PATH} (default {@code /tmp/pktkit-slirp.sock}), {@code --seconds=N}, {@code --host-loopback},
 * {@code --forward=PROTO:HOSTPORT:GUESTPORT} (repeatable), {@code --dns=ADDRESS:PORT} (repeatable; default the
 * host's {@code /etc/resolv.conf}).
 */
public final class SlirpLan implements AutoCloseable {
    private final MultiThreadIoEventLoopGroup group;
    private final Slirp slirp;
    private final SlirpGateway gateway;
    private final QemuListener vms;
    private final Path socket;

    /**
     * What {@link #start} needs: the socket path, the loopback mapping, the forwards
     * ({@code PROTO:HOSTPORT:GUESTPORT}), and the upstream DNS servers (empty: the host's
     * {@code /etc/resolv.conf}).
     */
    public record Options(Path socket, boolean hostLoopback, List<String> forwards, List<InetSocketAddress> dns) {
        /** With the host's resolvers. */
        public Options(Path socket, boolean hostLoopback, List<String> forwards) {
            this(socket, hostLoopback, forwards, List.of());
        }
    }

    private SlirpLan(Options o) throws Exception {
        this.socket = o.socket();
        Files.deleteIfExists(socket);
        this.group = Transports.newEventLoopGroup(2);
        Slirp.Builder b = Slirp.builder().hostLoopback(o.hostLoopback()).hostTransport(group, Transports.chosen());
        if (!o.dns().isEmpty()) {
            b.dnsUpstreams(o.dns());
        }
        this.slirp = b.build();
        this.gateway = SlirpGateway.builder(slirp).group(group).build();
        this.vms = QemuListener.stream(QemuAddress.unix(socket)).group(group).connector(port -> {
            String id = port.id().asShortText();
            System.out.println("VM joined: port " + id);
            List<PortForward> added = new ArrayList<>();
            gateway.attach(port).addListener(f -> {
                if (!f.isSuccess()) {
                    System.out.println("VM " + id + ": no slirp tenant: " + f.cause());
                    port.close();
                    return;
                }
                SlirpGateway.Tenant t = (SlirpGateway.Tenant) f.getNow();
                for (String spec : o.forwards()) {
                    forward(t, spec, added);
                }
            });
            port.closeFuture().addListener(f -> {
                added.forEach(PortForward::close);
                System.out.println("VM left: port " + id);
            });
            return new dev.pktkit.codec.pipe.Attachment() {
                @Override
                public io.netty.channel.Channel port() {
                    return port;
                }

                @Override
                public boolean isAttached() {
                    return port.isOpen();
                }

                @Override
                public io.netty.util.concurrent.Future<Void> detach() {
                    return port.close();
                }
            };
        }).bind().get(5, TimeUnit.SECONDS);
    }

    /** Starts the listener and the slirp gateway. */
    public static SlirpLan start(Options options) throws Exception {
        return new SlirpLan(options);
    }

    private static void forward(SlirpGateway.Tenant t, String spec, List<PortForward> added) {
        String[] f = spec.split(":");
        if (f.length != 3 || !(f[0].equals("tcp") || f[0].equals("udp"))) {
            throw new IllegalArgumentException("--forward=PROTO:HOSTPORT:GUESTPORT, PROTO tcp or udp: " + spec);
        }
        InetSocketAddress host = new InetSocketAddress("127.0.0.1", Integer.parseInt(f[1]));
        InetSocketAddress guest = new InetSocketAddress("10.0.2.15", Integer.parseInt(f[2]));
        var future = f[0].equals("tcp") ? t.namespace().forwardTcp(host, guest) : t.namespace().forwardUdp(host, guest);
        future.addListener(r -> {
            if (r.isSuccess()) {
                PortForward pf = (PortForward) r.getNow();
                added.add(pf);
                System.out.println("forward: " + pf);
            } else {
                System.out.println("forward " + spec + " failed: " + r.cause());
            }
        });
    }

    /** The gateway: its tenants (one per VM), their namespaces and port forwards. */
    public SlirpGateway gateway() {
        return gateway;
    }

    /** The slirp: its counters. */
    public Slirp slirp() {
        return slirp;
    }

    /** The {@code -netdev} argument that joins a VM. */
    public String netdevArgument(String id) {
        return vms.netdevArgument(id);
    }

    @Override
    public void close() throws Exception {
        vms.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        gateway.close();
        slirp.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        Files.deleteIfExists(socket);
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of("/tmp/pktkit-slirp.sock");
        long seconds = 0;
        boolean loopback = false;
        List<String> forwards = new ArrayList<>();
        List<InetSocketAddress> dns = new ArrayList<>();
        for (String a : args) {
            for (String arg : a.trim().split("\\s+")) {
                if (arg.startsWith("--socket=")) {
                    socket = Path.of(arg.substring("--socket=".length()));
                } else if (arg.startsWith("--seconds=")) {
                    seconds = Long.parseLong(arg.substring("--seconds=".length()));
                } else if (arg.equals("--host-loopback")) {
                    loopback = true;
                } else if (arg.startsWith("--forward=")) {
                    forwards.add(arg.substring("--forward=".length()));
                } else if (arg.startsWith("--dns=")) {
                    String v = arg.substring("--dns=".length());
                    int colon = v.lastIndexOf(':');
                    dns.add(new InetSocketAddress(v.substring(0, colon).replace("[", "").replace("]", ""),
                            Integer.parseInt(v.substring(colon + 1))));
                } else if (!arg.isEmpty()) {
                    throw new IllegalArgumentException("unknown argument " + arg + " (use --socket=PATH, --seconds=N,"
                            + " --host-loopback, --forward=PROTO:HOSTPORT:GUESTPORT, --dns=ADDRESS:PORT)");
                }
            }
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        try (SlirpLan lan = start(new Options(socket, loopback, forwards, dns))) {
            System.out.println("Start a VM that reaches the world through slirp with:");
            System.out.println("  qemu-system-x86_64 -m 512 -nographic \\");
            System.out.println("    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \\");
            System.out.println("    -netdev " + lan.netdevArgument("n0") + " \\");
            System.out.println("    <your disk or -kernel/-initrd options>");
            System.out.println("It gets 10.0.2.15/24 by DHCP (router 10.0.2.2, DNS 10.0.2.3) and fec0::/64 by SLAAC.");
            Set<String> reported = new HashSet<>();
            long deadline = seconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
            while (!stop.await(1, TimeUnit.SECONDS) && System.nanoTime() - deadline < 0) {
                lan.reportLeases(reported);
            }
            System.out.println("slirp: " + lan.slirp().counters());
        }
    }

    private void reportLeases(Set<String> reported) {
        for (SlirpGateway.Tenant t : gateway.tenants()) {
            for (DhcpBinding b : t.dhcp().bindings()) {
                String key = MacAddress.format(b.mac()) + " " + b.address().getHostAddress();
                if (b.state() == DhcpBinding.State.BOUND && reported.add(key)) {
                    System.out.println("lease: " + key);
                }
            }
        }
    }
}
