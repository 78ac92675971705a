package dev.pktkit.examples;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.capture.LinkType;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.capture.PacketCapture;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2Port;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Promise;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A switched virtual LAN in one JVM: three hosts, each an {@link L2Adapter} (its NIC) with an
 * {@link EchoResponder} and a {@link Pinger} on its own {@link PacketPipe}, joined by an {@link L2Hub}; every
 * frame is captured to a pcapng file. Host 1 pings the others (its adapter resolves them by ARP), then the
 * program prints the round trips, host 1's ARP cache, the hub's MAC table and port counters, and exits.
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
            // Each host: a NIC (L2Adapter: ARP, IPv6 NDP, framing), a ping responder and a ping client, on
            // its own cable to the hub.
            List<L2Adapter> nics = new ArrayList<>();
            List<Pinger> pingers = new ArrayList<>();
            List<EventLoop> loops = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                L2Adapter nic = L2Adapter.builder().ipv4("10.0.0." + (10 + i) + "/24").build();
                Pinger pinger = new Pinger(i);
                EventLoop loop = group.next();
                PacketPipe cable = PacketPipe.open(loop, new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(nic, new EchoResponder(nic), pinger);
                    }
                }, loop, null).get(5, TimeUnit.SECONDS);
                cable.b().pipeline().addFirst(capture.newHandler("host" + i));  // hub side of the cable
                hub.add(cable.b());
                nics.add(nic);
                pingers.add(pinger);
                loops.add(loop);
                System.out.println("attached host" + i + ": " + nic);
            }

            int from = Ip4.of(nics.get(0).ipv4Address());
            for (L2Adapter to : nics.subList(1, 3)) {
                int target = Ip4.of(to.ipv4Address());
                for (int n = 0; n < 3; n++) {
                    Promise<Long> rtt = loops.get(0).newPromise();
                    loops.get(0).execute(() -> pingers.get(0).ping(from, target, rtt));
                    if (!rtt.await(5, TimeUnit.SECONDS) || !rtt.isSuccess()) {
                        throw new IllegalStateException("no reply from " + to, rtt.cause());
                    }
                    System.out.printf("host1 -> %s: echo reply in %.1f us%n", Ip4.format(target),
                            rtt.getNow() / 1000.0);
                }
            }
            System.out.println("host1 ARP cache: " + loops.get(0).submit(() -> {
                StringBuilder sb = new StringBuilder();
                for (L2Adapter to : nics.subList(1, 3)) {
                    sb.append(to.ipv4Address().getHostAddress()).append(" at ")
                            .append(MacAddress.format(nics.get(0).arpCache().lookup(Ip4.of(to.ipv4Address()))))
                            .append("  ");
                }
                return sb.toString();
            }).get(5, TimeUnit.SECONDS));
            System.out.println("host1 counters: " + nics.get(0).counters());

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
