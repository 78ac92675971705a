package dev.pktkit.slirp;

import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import dev.pktkit.vtcp.host.Refusal;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A userspace NAT from a virtual network to the host's own sockets: an L3 device that terminates the guests'
 * TCP in a vtcp virtual host and continues each connection as an ordinary Netty connection from the host, and
 * relays UDP flows and ICMP echo through host sockets. No root, TAP or iptables is needed on the host side.
 *
 * <pre>{@code
 * Slirp slirp = Slirp.builder().hostLoopback(true).build();    // 10.0.2.2 reaches the host's 127.0.0.1
 * SlirpNamespace ns = slirp.attach(l3Port).sync().getNow();      // a TunChannel, an L3Hub port, a PacketPipe end
 * ...
 * ns.close(); slirp.close();
 * }</pre>
 *
 * <h2>What it does</h2>
 * <ul>
 * <li><b>TCP</b>: a guest's SYN to any address and port is held unanswered (vtcp's deferred accept) while the
 * host connects, non-blocking, to the destination with its own transport (io_uring, epoll or NIO, see
 * {@link Builder#hostTransport}); the guest gets its SYN-ACK only once that connect succeeded, and the
 * configured {@link Refusal} (RST by default) when it was refused, unreachable or timed out. Bytes pass both
 * ways with {@code AUTO_READ} off on both sides, each side reading only while the other is writable, so a slow
 * guest pauses the host socket's reads and a slow host peer closes the guest's window. A FIN on one side becomes
 * {@code shutdownOutput()} on the other after the bytes before it (half-close kept); a reset on one side closes
 * the other with {@code SO_LINGER} 0, a reset.</li>
 * <li><b>UDP</b>: each (guest address and port, destination) gets its own connected host datagram channel;
 * replies come back from the address and port the guest talked to. Flows close after
 * {@link Builder#udpIdleTimeout} and are bounded by {@link Builder#maxUdpFlows}.</li>
 * <li><b>ICMP echo</b>: see {@link IcmpEchoSockets}.</li>
 * <li><b>Addresses</b>: as libslirp: the gateway {@code 10.0.2.2} / {@code fec0::2} is the host's loopback when
 * {@link Builder#hostLoopback} is on (off by default: then it refuses everything but DNS), the DNS address
 * {@code 10.0.2.3} / {@code fec0::3} port 53 (UDP and TCP) goes to the host's resolver (the first
 * {@code nameserver} of {@code /etc/resolv.conf} unless {@link Builder#dnsUpstream} says otherwise). Any other
 * destination goes where it says, if {@link Builder#egress} allows it; the host's loopback itself is never
 * reachable by its own address.</li>
 * </ul>
 *
 * <h2>Namespaces</h2>
 * Each {@link #attach(Channel)} makes a {@link SlirpNamespace}: its own virtual host, flow tables and bounds, so
 * guests on different ports may use the same addresses and never see each other's flows. The counters are the
 * slirp's, summed over its namespaces.
 *
 * <h2>Threads</h2>
 * A namespace runs on its device channel's event loop (the virtual host, the guest-side channels, the UDP flow
 * table); host channels run on the host transport's group ({@link Builder#hostSocketsOnDeviceLoop}: on the
 * device's own loop when it is one of that group's). Nothing blocks an event loop: connects are
 * Netty's non-blocking connects, ICMP sockets are read by their own thread.
 *
 * <h2>Bounds and timeouts</h2>
 * Per namespace: {@link Builder#maxConnections} TCP connections (pending included), {@link
 * Builder#maxPendingConnects} host connects in progress, {@link Builder#maxUdpFlows} UDP flows,
 * {@link Builder#maxPendingDatagrams} per flow while its socket binds, {@link Builder#echoLimits} echoes,
 * {@link Builder#maxDnsQueries}, {@link Builder#maxPortForwards}; over all namespaces:
 * {@link Builder#maxTotalConnections}, {@link Builder#maxTotalUdpFlows}; per connection {@link Builder#bufferBytes}
 * each way. Idle timeouts: TCP {@link Builder#tcpIdleTimeout} (2 h 4 min), UDP {@link Builder#udpIdleTimeout}
 * (60 s), ICMP echo {@link Builder#echoLimits} (10 s), DNS {@link Builder#dnsTimeout} (2 s per upstream); host
 * connects {@link Builder#connectTimeoutMillis} (10 s). Every bound hit is counted in {@link SlirpCounters}.
 *
 * <p>Guests on an L2 segment reach a namespace through a gateway {@code L2Adapter}; {@link SlirpGateway} builds
 * one (segment, DHCP, router advertisements with RDNSS, slirp namespace) per guest or per key.
 *
 * <h2>Not done (yet)</h2>
 * ICMP errors that host sockets receive are not passed to guests (a UDP port unreachable on the host is not
 * reported to the guest, a host connect refused is answered with the configured {@link Refusal}); no ICMP other
 * than echo is forwarded; IPv4 options and IPv6 extension headers other than what vtcp parses are not relayed;
 * no DHCPv6 (guests configure IPv6 by SLAAC only).
 */
public final class Slirp implements AutoCloseable {
    /** Default IPv4 gateway (host) address: 10.0.2.2, as QEMU's user networking. */
    public static final String DEFAULT_GATEWAY_IPV4 = "10.0.2.2";
    /** Default IPv4 DNS address: 10.0.2.3. */
    public static final String DEFAULT_DNS_IPV4 = "10.0.2.3";
    /** Default IPv6 gateway address: fec0::2, as libslirp. */
    public static final String DEFAULT_GATEWAY_IPV6 = "fec0::2";
    /** Default IPv6 DNS address: fec0::3. */
    public static final String DEFAULT_DNS_IPV6 = "fec0::3";
    /** Default bound on TCP connections per namespace (pending ones included): 4096. */
    public static final int DEFAULT_MAX_CONNECTIONS = 4096;
    /** Default bound on TCP connections over all namespaces of one slirp: 65536. */
    public static final int DEFAULT_MAX_TOTAL_CONNECTIONS = 65_536;
    /** Default idle time after which a relayed TCP connection is reset both ways: 2 h 4 min (as RFC 5382 REQ-5). */
    public static final long DEFAULT_TCP_IDLE_MILLIS = 7_440_000;
    /** Default bound on UDP flows over all namespaces of one slirp: 16384. */
    public static final int DEFAULT_MAX_TOTAL_UDP_FLOWS = 16_384;
    /** Default bound on host connects in progress per namespace: 256. */
    public static final int DEFAULT_MAX_PENDING_CONNECTS = 256;
    /** Default host connect timeout: 10 s. */
    public static final int DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000;
    /** Default bytes buffered per direction of a connection before the other side stops reading: 256 KiB. */
    public static final int DEFAULT_BUFFER_BYTES = 256 << 10;
    /** Default bound on UDP flows per namespace: 1024. */
    public static final int DEFAULT_MAX_UDP_FLOWS = 1024;
    /** Default UDP flow idle timeout: 60 s. */
    public static final long DEFAULT_UDP_IDLE_MILLIS = 60_000;
    /** Default datagrams queued per UDP flow while its host socket binds: 16. */
    public static final int DEFAULT_MAX_PENDING_DATAGRAMS = 16;
    /** Default bound on ICMP echo requests awaiting a reply, per namespace: 1024. */
    public static final int DEFAULT_MAX_PENDING_ECHOES = 1024;
    /** Default time an echo request waits for its reply before its table entry goes: 10 s. */
    public static final long DEFAULT_ECHO_TIMEOUT_MILLIS = 10_000;

    /** Default bound on port forwards per namespace: 256. */
    public static final int DEFAULT_MAX_PORT_FORWARDS = 256;
    /** Default time a DNS query waits for an upstream before the next is asked: 2 s. */
    public static final long DEFAULT_DNS_TIMEOUT_MILLIS = 2_000;
    /** Default bound on DNS queries awaiting answers per namespace: 512. */
    public static final int DEFAULT_MAX_DNS_QUERIES = 512;

    final InetAddress gatewayV4;
    final InetAddress dnsV4;
    final InetAddress gatewayV6;
    final InetAddress dnsV6;
    final boolean hostLoopback;
    final InetSocketAddress dnsUpstream;
    final List<InetSocketAddress> dnsUpstreams;
    final long dnsTimeoutMillis;
    final int maxDnsQueries;
    final Predicate<InetSocketAddress> egress;
    final Refusal refusal;
    final int connectTimeoutMillis;
    final int maxConnections;
    final int maxTotalConnections;
    final long tcpIdleMillis;
    final int maxTotalUdpFlows;
    /** TCP connections and UDP flows over all namespaces, for the total bounds. */
    final java.util.concurrent.atomic.AtomicInteger totalConnections = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger totalUdpFlows = new java.util.concurrent.atomic.AtomicInteger();
    final int maxPendingConnects;
    final int bufferBytes;
    final int maxUdpFlows;
    final long udpIdleMillis;
    final int maxPendingDatagrams;
    final int maxPendingEchoes;
    final long echoTimeoutMillis;
    final int mtu;
    final TcpEngineConfig tcp;
    final EventLoopGroup hostGroup;
    final boolean hostSocketsOnDeviceLoop;
    final boolean ownsHostGroup;
    final Class<? extends SocketChannel> socketClass;
    final Class<? extends io.netty.channel.socket.ServerSocketChannel> serverSocketClass;
    final int maxPortForwards;
    final Class<? extends DatagramChannel> datagramClass;
    final IcmpEchoSockets icmp;
    final SlirpCounters counters = new SlirpCounters();

    private Slirp(Builder b) {
        this.gatewayV4 = b.gatewayV4;
        this.dnsV4 = b.dnsV4;
        this.gatewayV6 = b.gatewayV6;
        this.dnsV6 = b.dnsV6;
        this.hostLoopback = b.hostLoopback;
        this.dnsUpstreams = b.dnsUpstreams != null ? b.dnsUpstreams : systemResolvers();
        this.dnsUpstream = dnsUpstreams.isEmpty() ? new InetSocketAddress(InetAddress.getLoopbackAddress(), 53)
                : dnsUpstreams.get(0);
        this.dnsTimeoutMillis = b.dnsTimeoutMillis;
        this.maxDnsQueries = b.maxDnsQueries;
        this.egress = b.egress;
        this.refusal = b.refusal;
        this.connectTimeoutMillis = b.connectTimeoutMillis;
        this.maxConnections = b.maxConnections;
        this.maxTotalConnections = b.maxTotalConnections;
        this.tcpIdleMillis = b.tcpIdleMillis;
        this.maxTotalUdpFlows = b.maxTotalUdpFlows;
        this.maxPendingConnects = b.maxPendingConnects;
        this.bufferBytes = b.bufferBytes;
        this.maxUdpFlows = b.maxUdpFlows;
        this.udpIdleMillis = b.udpIdleMillis;
        this.maxPendingDatagrams = b.maxPendingDatagrams;
        this.maxPendingEchoes = b.maxPendingEchoes;
        this.echoTimeoutMillis = b.echoTimeoutMillis;
        this.mtu = b.mtu;
        this.tcp = b.tcp;
        TransportKind kind = b.hostKind != null ? b.hostKind : Transports.chosen();
        if (b.hostGroup != null) {
            this.hostGroup = b.hostGroup;
            this.ownsHostGroup = false;
        } else {
            this.hostGroup = Transports.newEventLoopGroup(1, kind);
            this.ownsHostGroup = true;
        }
        this.hostSocketsOnDeviceLoop = b.hostSocketsOnDeviceLoop;
        this.socketClass = Transports.socketChannelClass(kind);
        this.serverSocketClass = Transports.serverSocketChannelClass(kind);
        this.maxPortForwards = b.maxPortForwards;
        this.datagramClass = Transports.datagramChannelClass(kind);
        this.icmp = b.icmp != null ? b.icmp : IcmpEchoSockets.system();
    }

    /** A builder with libslirp's addresses and this class's default bounds. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Attaches slirp to {@code device}, a registered channel whose messages are IP packets: adds the namespace's
     * handlers to its pipeline and starts its listeners on its event loop. The future completes once guests'
     * traffic is handled; closing the namespace (or the device) removes it.
     */
    public Future<SlirpNamespace> attach(Channel device) {
        Objects.requireNonNull(device, "device");
        Promise<SlirpNamespace> p = device.eventLoop().newPromise();
        device.eventLoop().execute(() -> {
            try {
                SlirpNamespace ns = new SlirpNamespace(this, device);
                ns.start(p);
            } catch (Throwable t) {
                p.tryFailure(t);
            }
        });
        return p;
    }

    /** The slirp's counters, summed over its namespaces. */
    public SlirpCounters counters() {
        return counters;
    }

    /** The first upstream DNS server: UDP queries start there, TCP queries go there. */
    public InetSocketAddress dnsUpstream() {
        return dnsUpstream;
    }

    /** The upstream DNS servers, in the order UDP queries try them. */
    public List<InetSocketAddress> dnsUpstreams() {
        return dnsUpstreams;
    }

    /** Shuts down the host transport's group if slirp made it (namespaces close with their devices). */
    @Override
    public void close() {
        icmp.close();
        if (ownsHostGroup) {
            hostGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** The {@code nameserver} lines of {@code /etc/resolv.conf}, or the local resolver without any (as glibc). */
    static List<InetSocketAddress> systemResolvers() {
        List<InetSocketAddress> out = new java.util.ArrayList<>();
        try {
            for (String l : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String[] f = l.trim().split("\\s+");
                if (f.length >= 2 && f[0].equals("nameserver") && !f[1].contains("%")) {
                    // a literal address: no name lookup happens here
                    out.add(new InetSocketAddress(InetAddress.getByName(f[1]), 53));
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // no resolv.conf: the local resolver, as glibc does
        }
        if (out.isEmpty()) {
            out.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53));
        }
        return List.copyOf(out);
    }

    /** Takes one of the total TCP connections; false (nothing taken) at {@code maxTotalConnections}. */
    boolean reserveConnection() {
        return reserve(totalConnections, maxTotalConnections);
    }

    /** Takes one of the total UDP flows; false (nothing taken) at {@code maxTotalUdpFlows}. */
    boolean reserveUdpFlow() {
        return reserve(totalUdpFlows, maxTotalUdpFlows);
    }

    private static boolean reserve(java.util.concurrent.atomic.AtomicInteger n, int max) {
        for (int v; (v = n.get()) < max; ) {
            if (n.compareAndSet(v, v + 1)) {
                return true;
            }
        }
        return false;
    }

    /** TCP connections over all namespaces now (pending ones included). */
    public int totalConnections() {
        return totalConnections.get();
    }

    /** UDP flows over all namespaces now (guests' flows and port forwards' flows). */
    public int totalUdpFlows() {
        return totalUdpFlows.get();
    }

    /** True when {@code loop} is one of {@code group}'s loops (so a channel of the group's transport may use it). */
    static boolean contains(EventLoopGroup group, io.netty.util.concurrent.EventExecutor loop) {
        for (io.netty.util.concurrent.EventExecutor e : group) {
            if (e == loop) {
                return true;
            }
        }
        return false;
    }

    static boolean isLoopbackOrAny(InetAddress a) {
        return a.isLoopbackAddress() || a.isAnyLocalAddress();
    }

    /** Builds a {@link Slirp}. */
    public static final class Builder {
        private InetAddress gatewayV4 = addr(DEFAULT_GATEWAY_IPV4);
        private InetAddress dnsV4 = addr(DEFAULT_DNS_IPV4);
        private InetAddress gatewayV6 = addr(DEFAULT_GATEWAY_IPV6);
        private InetAddress dnsV6 = addr(DEFAULT_DNS_IPV6);
        private boolean hostLoopback;
        private List<InetSocketAddress> dnsUpstreams;
        private long dnsTimeoutMillis = DEFAULT_DNS_TIMEOUT_MILLIS;
        private int maxDnsQueries = DEFAULT_MAX_DNS_QUERIES;
        private Predicate<InetSocketAddress> egress = a -> true;
        private Refusal refusal = Refusal.RESET;
        private int connectTimeoutMillis = DEFAULT_CONNECT_TIMEOUT_MILLIS;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int maxTotalConnections = DEFAULT_MAX_TOTAL_CONNECTIONS;
        private long tcpIdleMillis = DEFAULT_TCP_IDLE_MILLIS;
        private int maxTotalUdpFlows = DEFAULT_MAX_TOTAL_UDP_FLOWS;
        private int maxPendingConnects = DEFAULT_MAX_PENDING_CONNECTS;
        private int bufferBytes = DEFAULT_BUFFER_BYTES;
        private int maxUdpFlows = DEFAULT_MAX_UDP_FLOWS;
        private long udpIdleMillis = DEFAULT_UDP_IDLE_MILLIS;
        private int maxPendingDatagrams = DEFAULT_MAX_PENDING_DATAGRAMS;
        private int maxPendingEchoes = DEFAULT_MAX_PENDING_ECHOES;
        private long echoTimeoutMillis = DEFAULT_ECHO_TIMEOUT_MILLIS;
        private int mtu = 1500;
        private TcpEngineConfig tcp = new TcpEngineConfig();
        private EventLoopGroup hostGroup;
        private boolean hostSocketsOnDeviceLoop;
        private TransportKind hostKind;
        private IcmpEchoSockets icmp;
        private int maxPortForwards = DEFAULT_MAX_PORT_FORWARDS;

        private Builder() {
        }

        private static InetAddress addr(String literal) {
            try {
                return InetAddress.getByName(literal);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(literal, e);
            }
        }

        /** The gateway's IPv4 and IPv6 addresses (default 10.0.2.2, fec0::2). */
        public Builder gateway(String ipv4, String ipv6) {
            this.gatewayV4 = addr(ipv4);
            this.gatewayV6 = addr(ipv6);
            return this;
        }

        /** The DNS forwarder's IPv4 and IPv6 addresses (default 10.0.2.3, fec0::3). */
        public Builder dns(String ipv4, String ipv6) {
            this.dnsV4 = addr(ipv4);
            this.dnsV6 = addr(ipv6);
            return this;
        }

        /** Maps the gateway addresses to the host's loopback (127.0.0.1 / ::1), as QEMU's 10.0.2.2. Off by default. */
        public Builder hostLoopback(boolean on) {
            this.hostLoopback = on;
            return this;
        }

        /** Where queries to the DNS address go (default: the nameservers of /etc/resolv.conf). */
        public Builder dnsUpstream(InetSocketAddress upstream) {
            return dnsUpstreams(List.of(upstream));
        }

        /**
         * The upstream DNS servers, tried in order: a UDP query unanswered for the DNS timeout goes to the next
         * (default: the nameservers of /etc/resolv.conf). TCP queries go to the first.
         */
        public Builder dnsUpstreams(List<InetSocketAddress> upstreams) {
            if (upstreams.isEmpty()) {
                throw new IllegalArgumentException("at least one DNS upstream");
            }
            this.dnsUpstreams = List.copyOf(upstreams);
            return this;
        }

        /** How long a UDP query waits for an upstream's answer before the next upstream is asked (default 2 s). */
        public Builder dnsTimeout(long time, TimeUnit unit) {
            this.dnsTimeoutMillis = Math.max(1, unit.toMillis(time));
            return this;
        }

        /** UDP queries awaiting answers per namespace (default {@value #DEFAULT_MAX_DNS_QUERIES}). */
        public Builder maxDnsQueries(int n) {
            this.maxDnsQueries = positive(n, "maxDnsQueries");
            return this;
        }

        /** Which real destinations guests may reach (default: all; the host's loopback never by its address). */
        public Builder egress(Predicate<InetSocketAddress> allowed) {
            this.egress = Objects.requireNonNull(allowed);
            return this;
        }

        /** How a refused, unreachable or timed-out host connect is answered (default {@link Refusal#RESET}). */
        public Builder refusal(Refusal how) {
            this.refusal = Objects.requireNonNull(how);
            return this;
        }

        /** Host connect timeout (default {@value #DEFAULT_CONNECT_TIMEOUT_MILLIS} ms). */
        public Builder connectTimeoutMillis(int ms) {
            this.connectTimeoutMillis = positive(ms, "connectTimeoutMillis");
            return this;
        }

        /** TCP connections per namespace, pending ones included (default {@value #DEFAULT_MAX_CONNECTIONS}). */
        public Builder maxConnections(int n) {
            this.maxConnections = positive(n, "maxConnections");
            return this;
        }

        /** TCP connections over all namespaces (default {@value #DEFAULT_MAX_TOTAL_CONNECTIONS}). */
        public Builder maxTotalConnections(int n) {
            this.maxTotalConnections = positive(n, "maxTotalConnections");
            return this;
        }

        /** UDP flows over all namespaces, port forwards' included (default {@value #DEFAULT_MAX_TOTAL_UDP_FLOWS}). */
        public Builder maxTotalUdpFlows(int n) {
            this.maxTotalUdpFlows = positive(n, "maxTotalUdpFlows");
            return this;
        }

        /**
         * Idle time after which a relayed TCP connection (a guest's, or one through a port forward) that moved no
         * byte either way is reset on both sides and counted ({@link SlirpCounters#tcpIdleClosed()}); default
         * 2 h 4 min. Checked every quarter of it, so a connection goes between 1 and 1.25 times the timeout.
         */
        public Builder tcpIdleTimeout(long time, TimeUnit unit) {
            this.tcpIdleMillis = Math.max(1, unit.toMillis(time));
            return this;
        }

        /** Host connects in progress per namespace (default {@value #DEFAULT_MAX_PENDING_CONNECTS}). */
        public Builder maxPendingConnects(int n) {
            this.maxPendingConnects = positive(n, "maxPendingConnects");
            return this;
        }

        /** Bytes queued per direction before the sending side stops reading (default 256 KiB). */
        public Builder bufferBytes(int n) {
            this.bufferBytes = positive(n, "bufferBytes");
            return this;
        }

        /** UDP flows per namespace (default {@value #DEFAULT_MAX_UDP_FLOWS}). */
        public Builder maxUdpFlows(int n) {
            this.maxUdpFlows = positive(n, "maxUdpFlows");
            return this;
        }

        /** Idle time after which a UDP flow's host socket closes (default 60 s). */
        public Builder udpIdleTimeout(long time, TimeUnit unit) {
            this.udpIdleMillis = Math.max(1, unit.toMillis(time));
            return this;
        }

        /** Datagrams queued per UDP flow while its host socket binds (default 16). */
        public Builder maxPendingDatagrams(int n) {
            this.maxPendingDatagrams = positive(n, "maxPendingDatagrams");
            return this;
        }

        /** Echo requests awaiting replies per namespace (default 1024), and how long each waits (default 10 s). */
        public Builder echoLimits(int maxPending, long timeout, TimeUnit unit) {
            this.maxPendingEchoes = positive(maxPending, "maxPendingEchoes");
            this.echoTimeoutMillis = Math.max(1, unit.toMillis(timeout));
            return this;
        }

        /** The IP MTU towards guests (default 1500). */
        public Builder mtu(int mtu) {
            if (mtu < 1280 || mtu > 65535) {
                throw new IllegalArgumentException("mtu must be in 1280..65535: " + mtu);
            }
            this.mtu = mtu;
            return this;
        }

        /** The guest-side TCP engine's configuration (window scaling, SACK, buffers). */
        public Builder tcp(TcpEngineConfig config) {
            this.tcp = Objects.requireNonNull(config).copy();
            return this;
        }

        /**
         * The group and transport kind host connections use (default: a one-thread group of
         * {@link Transports#chosen()}, made and shut down by slirp). The kind must match the group's I/O handler.
         */
        public Builder hostTransport(EventLoopGroup group, TransportKind kind) {
            this.hostGroup = Objects.requireNonNull(group);
            this.hostKind = Objects.requireNonNull(kind);
            return this;
        }

        /**
         * Puts a namespace's host sockets on its device's own loop when that loop is one of the host transport's
         * group (a flow then runs on one thread, no hand-over per batch); off by default: host sockets take the
         * host group's next loop, which pipelines a flow over two threads. Measured side by side in the module
         * README (two cores: the pipelined layout was faster at MTU 1500, the one-thread layout for uploads at
         * 65520).
         */
        public Builder hostSocketsOnDeviceLoop(boolean on) {
            this.hostSocketsOnDeviceLoop = on;
            return this;
        }

        /** Port forwards per namespace (default {@value #DEFAULT_MAX_PORT_FORWARDS}). */
        public Builder maxPortForwards(int n) {
            this.maxPortForwards = positive(n, "maxPortForwards");
            return this;
        }

        /** Where ICMP echo goes (default {@link IcmpEchoSockets#system()}). */
        public Builder icmp(IcmpEchoSockets sockets) {
            this.icmp = Objects.requireNonNull(sockets);
            return this;
        }

        private static int positive(int n, String what) {
            if (n <= 0) {
                throw new IllegalArgumentException(what + " must be positive: " + n);
            }
            return n;
        }

        public Slirp build() {
            return new Slirp(this);
        }
    }

}
