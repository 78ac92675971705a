package dev.pktkit.examples;

import dev.pktkit.codec.adapter.Gateway;
import dev.pktkit.codec.dhcp.DhcpBinding;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.qemu.QemuAddress;
import dev.pktkit.qemu.QemuListener;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.vxlan.Vxlan;
import dev.pktkit.switching.vxlan.VxlanTunnel;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.net.InetAddress;
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
 * One host of a virtual LAN that spans several machines: an {@link L2Hub} with a {@link QemuListener} (every QEMU
 * VM that connects is a port) and a {@link VxlanTunnel} uplink to the other hosts (VNI 42 by default, head-end
 * replication to each {@code --peer}). Run it on each machine with the others as peers; give one of them
 * {@code --gateway=CIDR} and it also runs the LAN's gateway (DHCP server, ARP, ping) for the VMs of every host.
 *
 * <pre>
 * host A (192.0.2.1):  ... -Dexample.args="--peer=192.0.2.2 --gateway=10.0.3.1/24"
 * host B (192.0.2.2):  ... -Dexample.args="--peer=192.0.2.1"
 * </pre>
 *
 * A VM started on either host with the printed {@code -netdev} option leases from A's DHCP server (across the
 * tunnel for B's VMs) and reaches the VMs of both hosts. Open UDP port 4789 between the hosts.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec
 * -Dexample.main=dev.pktkit.examples.TwoHostLan -Dexample.args="..."}. Arguments:
 * {@code --bind=ADDR[:PORT]} (default {@code 0.0.0.0:4789}; {@code [v6]:port} for IPv6),
 * {@code --peer=ADDR} (repeatable), {@code --remote-port=N} (default 4789), {@code --vni=N} (42),
 * {@code --mtu=N} (1450; 1430 over IPv6), {@code --socket=PATH} (QEMU socket, {@code /tmp/pktkit-vxlan.sock}),
 * {@code --gateway=CIDR}, {@code --static-lease=MAC=IP} (repeatable, with {@code --gateway}),
 * {@code --seconds=N} (default: until Ctrl-C).
 *
 * <p>The tunnel carries frames in clear text, as VXLAN does: run it on a network you trust, or under a VPN.
 */
public final class TwoHostLan {
    private TwoHostLan() {
    }

    /** Parsed arguments. */
    record Options(InetSocketAddress bind, List<String> peers, int remotePort, int vni, int mtu, Path socket,
                   String gateway, List<String> staticLeases, long seconds) {
        static Options parse(String... args) throws Exception {
            String bind = "0.0.0.0:" + Vxlan.DEFAULT_PORT;
            List<String> peers = new ArrayList<>();
            List<String> leases = new ArrayList<>();
            int remotePort = Vxlan.DEFAULT_PORT;
            int vni = 42;
            int mtu = VxlanTunnel.DEFAULT_MTU;
            Path socket = Path.of("/tmp/pktkit-vxlan.sock");
            String gateway = null;
            long seconds = 0;
            for (String a : args) {
                for (String arg : a.trim().split("\\s+")) {
                    int eq = arg.indexOf('=');
                    String key = eq < 0 ? arg : arg.substring(0, eq);
                    String value = eq < 0 ? "" : arg.substring(eq + 1);
                    switch (key) {
                        case "--bind" -> bind = value;
                        case "--peer" -> peers.add(value);
                        case "--remote-port" -> remotePort = Integer.parseInt(value);
                        case "--vni" -> vni = Integer.parseInt(value);
                        case "--mtu" -> mtu = Integer.parseInt(value);
                        case "--socket" -> socket = Path.of(value);
                        case "--gateway" -> gateway = value;
                        case "--static-lease" -> leases.add(value);
                        case "--seconds" -> seconds = Long.parseLong(value);
                        case "" -> {
                        }
                        default -> throw new IllegalArgumentException("unknown argument " + arg + " (see the "
                                + "Javadoc of TwoHostLan: --bind, --peer, --remote-port, --vni, --mtu, --socket, "
                                + "--gateway, --static-lease, --seconds)");
                    }
                }
            }
            int colon = bind.lastIndexOf(':');
            String host = bind.substring(0, colon).replace("[", "").replace("]", "");
            int port = Integer.parseInt(bind.substring(colon + 1));
            return new Options(new InetSocketAddress(InetAddress.getByName(host), port), peers, remotePort, vni, mtu,
                    socket, gateway, leases, seconds);
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        run(o, stop);
    }

    /** Runs this host until {@code stop} opens or {@code seconds} (if positive) pass. */
    static void run(Options o, CountDownLatch stop) throws Exception {
        Files.deleteIfExists(o.socket());
        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(2);
        L2Hub lan = L2Hub.builder().name("lan").build();
        QemuListener vms = null;
        Channel udp = null;
        Gateway gateway = null;
        try {
            VxlanTunnel.Builder tb = VxlanTunnel.builder().vni(o.vni(), lan).remotePort(o.remotePort()).mtu(o.mtu());
            for (String p : o.peers()) {
                tb.peer(o.vni(), p);
            }
            VxlanTunnel vxlan = tb.build();
            // a deep receive buffer: the kernel's default (about 200 KiB) overflows under TCP bursts
            // (VxlanThroughput: 213k retransmits with it, none with 4 MiB)
            udp = new Bootstrap().group(group).channel(Transports.datagramChannelClass())
                    .option(io.netty.channel.ChannelOption.SO_RCVBUF, 4 << 20).handler(vxlan)
                    .bind(o.bind()).sync().channel();
            vxlan.ready().get(5, TimeUnit.SECONDS);

            if (o.gateway() != null) {
                gateway = Gateway.builder(o.gateway()).dhcp(d -> {
                    for (String l : o.staticLeases()) {
                        int eq = l.indexOf('=');
                        d.staticLease(MacAddress.parse(l.substring(0, eq)), l.substring(eq + 1));
                    }
                }).build();
                lan.attach(group.next(), gateway);
            }
            vms = QemuListener.stream(QemuAddress.unix(o.socket())).group(group).connector(port -> {
                System.out.println("VM joined: port " + port.id().asShortText());
                return lan.attach(port);
            }).bind().get(5, TimeUnit.SECONDS);

            System.out.println("VXLAN VNI " + o.vni() + " on " + udp.localAddress() + " to peers " + o.peers()
                    + " (port " + o.remotePort() + ")" + (gateway != null ? "; gateway " + o.gateway() : ""));
            System.out.println("QEMU: -netdev " + vms.netdevArgument("n0")
                    + " -device virtio-net-pci,netdev=n0,mac=52:54:00:xx:xx:xx");
            System.out.println("ready");
            System.out.flush();

            Set<String> reported = new HashSet<>();
            long deadline = o.seconds() > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(o.seconds())
                    : Long.MAX_VALUE;
            while (!stop.await(1, TimeUnit.SECONDS) && System.nanoTime() - deadline < 0) {
                if (gateway != null) {
                    for (DhcpBinding b : gateway.dhcpServer().bindings()) {
                        String key = MacAddress.format(b.mac()) + " " + b.address().getHostAddress();
                        if (b.state() == DhcpBinding.State.BOUND && reported.add(key)) {
                            System.out.println("lease: " + key);
                        }
                    }
                }
                for (String row : vxlan.fdb()) {
                    if (reported.add(row)) {
                        System.out.println("remote station: VNI " + row);
                    }
                }
                System.out.flush();
            }
            System.out.println("tunnel: " + vxlan.traffic() + " drops " + vxlan.drops());
        } finally {
            if (vms != null) {
                vms.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            if (udp != null) {
                udp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            lan.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            Files.deleteIfExists(o.socket());
        }
    }
}
