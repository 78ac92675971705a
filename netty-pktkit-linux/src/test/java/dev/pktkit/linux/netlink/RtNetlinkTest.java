package dev.pktkit.linux.netlink;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LinuxException;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.testkit.netns.NetnsExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rtnetlink against the kernel, in namespaces the test creates, checked against what {@code ip} reports. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class RtNetlinkTest {
    @RegisterExtension
    final NetnsExtension netns = new NetnsExtension();

    private Netns ns;
    private NetNamespace handle;

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeUsable();
        ns = netns.create();
        handle = ns.closeWith(NetNamespace.open(ns.path()));
    }

    @Test
    void configuresAVethAsIpSeesIt() throws Exception {
        Netns peer = netns.create();
        ns.veth("pkl0", peer, "pkl1");
        try (RtNetlink nl = RtNetlink.open(handle)) {
            LinkInfo veth = nl.link("pkl0");
            assertEquals(veth, nl.link(veth.index()));
            assertFalse(veth.isUp());
            assertEquals(1500, veth.mtu());
            nl.setMtu(veth.index(), 1400);
            nl.setMacAddress(veth.index(), 0x02_00_00_aa_bb_ccL);
            nl.setName(veth.index(), "pkl0x");
            nl.setUp(veth.index(), true);
            nl.addAddress(veth.index(), InetAddress.getByName("10.203.0.1"), 24);
            nl.addAddress(veth.index(), InetAddress.getByName("fd03::1"), 64);
            nl.addRoute(InetAddress.getByName("10.204.0.0"), 16, veth.index(), null);
            nl.addRoute(InetAddress.getByName("198.18.0.0"), 15, veth.index(), InetAddress.getByName("10.203.0.9"));
            LinkInfo now = nl.link("pkl0x");
            assertEquals(1400, now.mtu());
            assertEquals(0x02_00_00_aa_bb_ccL, now.macAddress());
            assertTrue(now.isUp());
            assertTrue(nl.findLink("pkl0").isEmpty());

            String link = ns.exec("ip", "addr", "show", "dev", "pkl0x").check().output();
            assertTrue(link.contains("mtu 1400") && link.contains("link/ether 02:00:00:aa:bb:cc"), link);
            assertTrue(link.contains("inet 10.203.0.1/24") && link.contains("inet6 fd03::1/64"), link);
            String routes = ns.exec("ip", "route", "show").check().output();
            assertTrue(routes.contains("10.204.0.0/16 dev pkl0x"), routes);
            assertTrue(routes.contains("198.18.0.0/15 via 10.203.0.9 dev pkl0x"), routes);

            nl.deleteRoute(InetAddress.getByName("10.204.0.0"), 16, now.index(), null);
            nl.deleteAddress(now.index(), InetAddress.getByName("10.203.0.1"), 24);
            assertFalse(ns.exec("ip", "route", "show").check().output().contains("10.204.0.0/16"));
            assertFalse(ns.exec("ip", "addr", "show").check().output().contains("10.203.0.1/24"));
            nl.deleteLink(now.index());
            assertTrue(nl.findLink("pkl0x").isEmpty());
            assertFalse(peer.exec("ip", "link", "show", "pkl1").ok(), "the peer went with it");
        }
    }

    @Test
    void movesALinkToAnotherNamespace() throws Exception {
        Netns other = netns.create();
        NetNamespace otherHandle = other.closeWith(NetNamespace.open(other.path()));
        ns.veth("pkm0", other, "pkm1");
        try (RtNetlink here = RtNetlink.open(handle); RtNetlink there = RtNetlink.open(otherHandle)) {
            here.moveToNamespace(here.link("pkm0").index(), otherHandle);
            assertTrue(here.findLink("pkm0").isEmpty());
            assertTrue(there.findLink("pkm0").isPresent());
            assertTrue(other.exec("ip", "link", "show", "pkm0").ok());
        }
    }

    @Test
    void kernelErrorsAreExceptionsWithErrnoAndReason() throws Exception {
        ns.veth("pke0", null, "pke1host"); // the other end in the JVM's namespace: it goes with ns
        try (RtNetlink nl = RtNetlink.open(handle)) {
            int index = nl.link("pke0").index();
            NetlinkException mtu = assertThrows(NetlinkException.class, () -> nl.setMtu(index, 70_000));
            assertEquals(Errno.EINVAL, mtu.errno());
            assertEquals(LinuxException.Reason.INVALID_ARGUMENT, mtu.reason());
            assertTrue(mtu.getMessage().contains("setting the MTU of interface #" + index), mtu.getMessage());
            assertTrue(mtu.getMessage().contains(handle.path().toString()), mtu.getMessage());
            NetlinkException missing = assertThrows(NetlinkException.class, () -> nl.link("pknone"));
            assertEquals(Errno.ENODEV, missing.errno());
            assertEquals(LinuxException.Reason.NOT_FOUND, missing.reason());
            NetlinkException gone = assertThrows(NetlinkException.class, () -> nl.setUp(9999, true));
            assertEquals(Errno.ENODEV, gone.errno());
            assertThrows(IllegalArgumentException.class, () -> nl.findLink("way-too-long-a-name"));
            assertThrows(IllegalArgumentException.class,
                    () -> nl.addAddress(index, InetAddress.getByName("10.0.0.1"), 33));
        }
        assertTrue(Netns.runOnHost(Netns.DEFAULT_TIMEOUT, "ip", "link", "show", "pke1host").ok());
    }

    @Test
    void requestsFromManyThreadsAreSerialisedAndCloseDoesNotWait() throws Exception {
        RtNetlink nl = RtNetlink.open(handle);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Integer>> lookups = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                lookups.add(() -> nl.link("lo").index());
            }
            for (Future<Integer> f : pool.invokeAll(lookups, 30, TimeUnit.SECONDS)) {
                assertEquals(1, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        nl.close();
        assertTrue(nl.isClosed());
        assertThrows(IllegalStateException.class, () -> nl.link("lo"));
        nl.close(); // idempotent
    }

    @Test
    void namespacesAreEnteredOnAHelperThread() throws Exception {
        ns.veth("pkn0", null, "pkn0host");
        String inside = handle.call(() -> {
            try (RtNetlink nl = RtNetlink.open()) {
                return nl.link("pkn0").name();
            }
        });
        assertEquals("pkn0", inside);
        try (RtNetlink mine = RtNetlink.open()) {
            assertTrue(mine.findLink("pkn0").isEmpty(), "the calling thread did not move");
        }
        try (NetNamespace self = NetNamespace.ofSelf()) {
            assertTrue(self.call(() -> {
                try (RtNetlink nl = RtNetlink.open()) {
                    return nl.findLink("pkn0host").isPresent();
                }
            }), "the JVM's own namespace holds the host end");
        }
        LinuxException missing = assertThrows(LinuxException.class, () -> NetNamespace.named("pktt-nosuch"));
        assertEquals(LinuxException.Reason.NOT_FOUND, missing.reason());
        assertThrows(IllegalArgumentException.class, () -> NetNamespace.named("../etc"));
        IllegalStateException task = assertThrows(IllegalStateException.class, () -> handle.run(() -> {
            throw new IllegalStateException("from the task");
        }));
        assertEquals("from the task", task.getMessage());
        NetNamespace closed = NetNamespace.named(ns.name());
        closed.close();
        assertThrows(IllegalStateException.class, closed::fd);
    }
}
