package dev.pktkit.examples;

import dev.pktkit.codec.capture.LinkType;
import dev.pktkit.codec.capture.PacketCapture;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2Port;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Promise;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A switched virtual LAN in one JVM: three stations, each on its own {@link PacketPipe}, joined by an
 * {@link L2Hub}; every frame is captured to a pcapng file. Station 1 pings the others (ARP, then ICMP echo),
 * then the program prints the round trips, the hub's MAC table and port counters, and exits.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec}
 * (optional argument: the capture file, default {@code target/virtual-lan.pcapng}). Open the capture with
 * Wireshark or {@code tshark -r}.
 */
public final class VirtualLan {
    private VirtualLan() {
    }

    public static void main(String[] args) throws Exception {
        Path pcap = Path.of(args.length > 0 && !args[0].isBlank() ? args[0] : "target/virtual-lan.pcapng")
                .toAbsolutePath();
        pcap.getParent().toFile().mkdirs();
        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(2);
        L2Hub hub = L2Hub.builder().name("lan").build();
        PacketCapture capture = PacketCapture.pcapng(pcap, LinkType.ETHERNET);
        try {
            System.out.println("transport: " + Transports.chosen());
            List<DemoStation> stations = new ArrayList<>();
            List<EventLoop> loops = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                DemoStation s = new DemoStation("host" + i, MacAddress.randomLocallyAdministered(),
                        Ip4.parse("10.0.0." + (10 + i)));
                EventLoop loop = group.next();
                PacketPipe cable = PacketPipe.open(loop, s, loop, null).get(5, TimeUnit.SECONDS);
                cable.b().pipeline().addFirst(capture.newHandler(s.name));  // hub side of the cable
                hub.add(cable.b());
                stations.add(s);
                loops.add(loop);
                System.out.println("attached " + s);
            }

            DemoStation from = stations.get(0);
            for (DemoStation to : stations.subList(1, 3)) {
                for (int n = 0; n < 3; n++) {
                    Promise<Long> rtt = loops.get(0).newPromise();
                    loops.get(0).execute(() -> from.ping(to.ip, rtt));
                    if (!rtt.await(5, TimeUnit.SECONDS) || !rtt.isSuccess()) {
                        throw new IllegalStateException("no reply from " + to);
                    }
                    System.out.printf("%s -> %s: echo reply in %.1f us%n", from.name, Ip4.format(to.ip),
                            rtt.getNow() / 1000.0);
                }
            }

            System.out.println("MAC table (vlan mac port):");
            for (String row : hub.macTable()) {
                System.out.println("  " + row);
            }
            for (L2Port port : hub.ports()) {
                System.out.println("port " + port.port().remoteAddress() + ": " + port.counters());
            }
        } finally {
            hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            capture.close();
        }
        System.out.println("captured " + capture.packetsWritten() + " frames to " + pcap);
    }
}
