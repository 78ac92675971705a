package dev.pktkit.slirp;

import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.SnmpCounters;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ICMP echo really forwarded: the kernel of a guest namespace pings the gateway through a TUN device on slirp,
 * whose ICMP sockets live in a second namespace the test made (the "host": its loopback is what the gateway maps
 * to). The host's kernel counts the echo requests it received and the replies it sent ({@code /proc/net/snmp},
 * {@code snmp6}), so a reply forged by slirp would fail the test. Three host setups: {@code ping_group_range}
 * widened (datagram sockets), left at this machine's {@code 1 0} (raw sockets, the test runs as root with
 * {@code CAP_NET_RAW}), and left at {@code 1 0} with raw sockets disallowed, as for a process without
 * {@code CAP_NET_RAW} (administratively prohibited, counted).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SlirpIcmpTest {
    private Netns guestNs;
    private Netns hostNs;
    private MultiThreadIoEventLoopGroup group;
    private Slirp slirp;
    private TunChannel tun;

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("ping", "iputils-ping");
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
        guestNs = Netns.create();
        hostNs = Netns.create();
        group = TestLoops.group(TestLoops.EPOLL, 1);
    }

    private void start(IcmpEchoSockets icmp) throws Exception {
        slirp = Slirp.builder().hostLoopback(true).icmp(icmp).hostTransport(group, TransportKind.EPOLL).build();
        NetNamespace handle = guestNs.closeWith(NetNamespace.open(guestNs.path()));
        tun = (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(handle))
                .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of("sg0")).sync().channel();
        slirp.attach(tun).sync();
        guestNs.exec("ip", "link", "set", "sg0", "mtu", "1500", "up").check();
        guestNs.exec("ip", "addr", "add", "10.0.2.15/24", "dev", "sg0").check();
        guestNs.exec("ip", "route", "add", "default", "dev", "sg0").check();
        guestNs.exec("ip", "-6", "addr", "add", "fec0::15/64", "dev", "sg0", "nodad").check();
        guestNs.exec("ip", "-6", "route", "add", "default", "dev", "sg0").check();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (tun != null) {
            tun.close().sync();
        }
        if (slirp != null) {
            slirp.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
        if (guestNs != null) {
            guestNs.close();
        }
        if (hostNs != null) {
            hostNs.close();
        }
    }

    /** A counter of the host namespace's kernel, from {@code /proc/net/snmp} (v4) or {@code snmp6} (v6). */
    private long hostCounter(boolean v6, String name) throws Exception {
        return v6 ? SnmpCounters.snmp6(hostNs.exec("cat", "/proc/net/snmp6").check().output(), name)
                : SnmpCounters.snmp(hostNs.exec("cat", "/proc/net/snmp").check().output(), "Icmp", name);
    }

    /** Pings the gateway 3 times over IPv4 and IPv6; the host's kernel must have answered each. */
    private void pingsReachTheHost() throws Exception {
        long in4 = hostCounter(false, "InEchos");
        long in6 = hostCounter(true, "Icmp6InEchos");
        CommandResult r4 = guestNs.exec("ping", "-c", "3", "-i", "0.2", "-W", "3", "10.0.2.2");
        assertEquals(0, r4.exit(), () -> r4.output() + "\n" + slirp.counters());
        assertTrue(r4.output().contains("3 received"), () -> r4.output() + "\n" + slirp.counters());
        CommandResult r6 = guestNs.exec("ping", "-6", "-c", "3", "-i", "0.2", "-W", "3", "fec0::2");
        assertEquals(0, r6.exit(), () -> r6.output() + "\n" + slirp.counters());
        assertTrue(r6.output().contains("3 received"), () -> r6.output() + "\n" + slirp.counters());
        assertTrue(hostCounter(false, "InEchos") - in4 >= 3, "the host's kernel received the IPv4 requests");
        assertTrue(hostCounter(false, "OutEchoReps") >= 3, "and answered them");
        assertTrue(hostCounter(true, "Icmp6InEchos") - in6 >= 3, "the host's kernel received the IPv6 requests");
        assertEquals(6, slirp.counters().icmpEchoReplies(), () -> slirp.counters().toString());
        assertEquals(0, slirp.counters().icmpProhibited(), () -> slirp.counters().toString());
        assertEquals(0, slirp.counters().icmpOpenFailures(), () -> slirp.counters().toString());
    }

    @Test
    void datagramSocketsWherePingGroupRangeAllows() throws Exception {
        hostNs.sysctl("net.ipv4.ping_group_range", "0 2147483647");
        start(IcmpEchoSockets.linux(hostNs.path().toString(), false));
        pingsReachTheHost();
        assertEquals(2, slirp.counters().icmpDatagramSockets());
        assertEquals(0, slirp.counters().icmpRawSockets());
    }

    @Test
    void rawSocketsWhereDatagramSocketsAreRefused() throws Exception {
        assertEquals("1\t0", hostNs.exec("sysctl", "-n", "net.ipv4.ping_group_range").check().output().trim(),
                "a new namespace starts with datagram ICMP off");
        start(IcmpEchoSockets.linux(hostNs.path().toString(), true));
        pingsReachTheHost();
        assertEquals(0, slirp.counters().icmpDatagramSockets());
        assertEquals(2, slirp.counters().icmpRawSockets());
    }

    @Test
    void administrativelyProhibitedWithoutEither() throws Exception {
        start(IcmpEchoSockets.linux(hostNs.path().toString(), false));
        long in4 = hostCounter(false, "InEchos");
        CommandResult r4 = guestNs.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.2.2");
        assertNotEquals(0, r4.exit(), r4.output());
        assertTrue(r4.output().contains("From 10.0.2.2") && r4.output().contains("Packet filtered"), r4.output());
        CommandResult r6 = guestNs.exec("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "fec0::2");
        assertNotEquals(0, r6.exit(), r6.output());
        assertTrue(r6.output().contains("From fec0::2"), r6.output());
        assertEquals(4, slirp.counters().icmpProhibited(), () -> slirp.counters().toString());
        assertEquals(0, slirp.counters().icmpEchoForwarded());
        assertTrue(slirp.counters().icmpOpenFailures() >= 2, "at least one per family (a retry after 1 s may add one)");
        String why = slirp.counters().icmpOpenFailure();
        assertTrue(why != null && why.contains("EACCES"), "the datagram socket's refusal is told: " + why);
        assertEquals(in4, hostCounter(false, "InEchos"), "nothing reached the host");
    }
}
