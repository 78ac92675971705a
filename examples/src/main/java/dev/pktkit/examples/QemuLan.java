package dev.pktkit.examples;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.capture.LinkType;
import dev.pktkit.codec.capture.PacketCapture;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.dhcp.DhcpBinding;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.qemu.QemuAddress;
import dev.pktkit.qemu.QemuListener;
import dev.pktkit.switching.L2Hub;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A virtual LAN for QEMU virtual machines, with no root and no TAP device: an {@link L2Hub}, a gateway
 * ({@link DhcpServer} handing out 10.0.2.100–199, an {@link L2Adapter} at 10.0.2.1 answering ARP and NDP, an
 * {@link EchoResponder} answering ping) and a {@link QemuListener} on a Unix socket whose every VM becomes a hub
 * port. It prints the QEMU options that join a VM, then reports VMs joining and leaving and the leases it gives,
 * until interrupted (Ctrl-C) or for {@code --seconds=N}. Every frame is captured to
 * {@code target/qemu-lan.pcapng}.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec}; arguments (with
 * {@code -Dexample.args="..."}): {@code --socket=PATH} (default {@code /tmp/pktkit-lan.sock}),
 * {@code --seconds=N}.
 */
public final class QemuLan {
    private QemuLan() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of("/tmp/pktkit-lan.sock");
        long seconds = 0;
        for (String a : args) {
            for (String arg : a.trim().split("\\s+")) {
                if (arg.startsWith("--socket=")) {
                    socket = Path.of(arg.substring("--socket=".length()));
                } else if (arg.startsWith("--seconds=")) {
                    seconds = Long.parseLong(arg.substring("--seconds=".length()));
                } else if (!arg.isEmpty()) {
                    throw new IllegalArgumentException("unknown argument " + arg
                            + " (use --socket=PATH, --seconds=N)");
                }
            }
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        run(socket, seconds, stop);
    }

    /** Runs the LAN on {@code socket} until {@code stop} opens or {@code seconds} (if positive) pass. */
    static void run(Path socket, long seconds, CountDownLatch stop) throws Exception {
        Files.deleteIfExists(socket);
        Path pcap = Path.of("target/qemu-lan.pcapng").toAbsolutePath();
        Files.createDirectories(pcap.getParent());

        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(2);
        L2Hub lan = L2Hub.builder().name("lan").build();
        PacketCapture capture = PacketCapture.pcapng(pcap, LinkType.ETHERNET);
        QemuListener vms = null;
        try {
            // The gateway: one port of the hub, with the DHCP server in front of the host's own NIC.
            L2Adapter gateway = L2Adapter.builder().ipv4("10.0.2.1/24").build();
            DhcpServer dhcp = DhcpServer.builder().serverMac(gateway.mac()).serverAddress("10.0.2.1", 24)
                    .pool("10.0.2.100", "10.0.2.199").router("10.0.2.1").dnsServer("10.0.2.1")
                    .domainName("pktkit.lan").leaseTime(Duration.ofHours(1)).build();
            PacketPipe cable = PacketPipe.open(group.next(), new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(dhcp, gateway, new EchoResponder(gateway));
                }
            }, group.next(), null).get(5, TimeUnit.SECONDS);
            cable.b().pipeline().addFirst(capture.newHandler("gateway"));
            lan.add(cable.b());

            // Every VM that connects to the socket becomes a port of the hub, and leaves it when it goes.
            vms = QemuListener.stream(QemuAddress.unix(socket)).group(group).connector(port -> {
                port.pipeline().addFirst(capture.newHandler("vm-" + port.id().asShortText()));
                System.out.println("VM joined: port " + port.id().asShortText());
                port.closeFuture().addListener(f -> System.out.println("VM left: port " + port.id().asShortText()));
                return lan.attach(port);
            }).bind().get(5, TimeUnit.SECONDS);

            System.out.println("transport: " + Transports.chosen() + "; gateway " + gateway + "; DHCP " + dhcp);
            System.out.println("Start a VM on this LAN with (give each VM its own MAC):");
            System.out.println("  qemu-system-x86_64 -m 512 -nographic \\");
            System.out.println("    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \\");
            System.out.println("    -netdev " + vms.netdevArgument("n0") + " \\");
            System.out.println("    <your disk or -kernel/-initrd options>");
            System.out.println("It gets 10.0.2.100-199/24 by DHCP, router and DNS 10.0.2.1 (which answers ping).");
            System.out.println(seconds > 0 ? "Running for " + seconds + " s." : "Running until Ctrl-C.");

            Set<String> reported = new HashSet<>();
            long deadline = seconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
            while (!stop.await(1, TimeUnit.SECONDS) && System.nanoTime() - deadline < 0) {
                List<DhcpBinding> leases = dhcp.bindings();
                for (DhcpBinding b : leases) {
                    String key = MacAddress.format(b.mac()) + " " + b.address().getHostAddress();
                    if (b.state() == DhcpBinding.State.BOUND && reported.add(key)) {
                        System.out.println("lease: " + key + (b.hostName() != null ? " (" + b.hostName() + ")" : ""));
                    }
                }
            }
            System.out.println("hub ports: " + lan.ports().size() + ", DHCP: " + dhcp.counters()
                    + ", gateway: " + gateway.counters());
        } finally {
            if (vms != null) {
                vms.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            lan.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            capture.close();
            Files.deleteIfExists(socket);
        }
        System.out.println("captured " + capture.packetsWritten() + " frames to " + pcap);
    }
}
