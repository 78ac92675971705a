package dev.pktkit.tuntap;

import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.testkit.netns.NetnsExtension;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device setup never runs on, or blocks, the channel's event loop: with the setup side held in the test hook (as a
 * kernel holding its rtnetlink lock would hold it), the loop still runs tasks; binding completes once the setup
 * is let go; a {@code link()} call stuck on a user thread does not stop the loop, nor its own MTU refresh.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class TunSetupOffLoopTest {
    @RegisterExtension
    final NetnsExtension netns = new NetnsExtension();

    private Netns ns;
    private MultiThreadIoEventLoopGroup group;
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<Thread> held = new CopyOnWriteArrayList<>();

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        ns = netns.create();
    }

    @AfterEach
    void tearDown() {
        DeviceSetup.hook = null;
        release.countDown();
        if (group != null) {
            group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Holds every setup call named {@code operation} until {@link #release}; counts {@code entered} down. */
    private void holdSetup(String operation, CountDownLatch entered) {
        DeviceSetup.hook = op -> {
            if (op.equals(operation)) {
                held.add(Thread.currentThread());
                entered.countDown();
                assertTrue(release.await(30, TimeUnit.SECONDS), "the test never let the setup go");
            }
        };
    }

    private Bootstrap tun() {
        return new Bootstrap().group(group).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .handler(new ChannelInboundHandlerAdapter());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void theLoopRunsTasksWhileABindWaitsForTheKernel(String loop) throws Exception {
        group = TestLoops.group(loop, 1);
        EventLoop el = group.next();
        CountDownLatch entered = new CountDownLatch(1);
        holdSetup("bind", entered);
        ChannelFuture bind = tun().bind(TunTapAddress.of("pktoff"));
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the setup never started");
        // the setup is held: the loop is free and runs this task before the bind is done
        assertTrue(el.submit(() -> !bind.isDone()).get(10, TimeUnit.SECONDS), "bind finished while held");
        assertFalse(el.inEventLoop(held.get(0)), "the setup ran on the event loop");
        release.countDown();
        assertTrue(bind.await(10, TimeUnit.SECONDS));
        assertNull(bind.cause());
        TunChannel t = (TunChannel) bind.channel();
        try {
            assertTrue(t.isActive());
            assertEquals("pktoff", t.localAddress().name());
            assertTrue(t.localAddress().index() > 0);
            assertEquals(1500, t.mtu());
            t.link().up();
            assertTrue(t.link().info().isUp());
        } finally {
            t.close().sync();
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void closingWhileABindWaitsFailsTheBindAndLeavesNoDevice(String loop) throws Exception {
        group = TestLoops.group(loop, 1);
        CountDownLatch entered = new CountDownLatch(1);
        holdSetup("bind", entered);
        ChannelFuture bind = tun().bind(TunTapAddress.of("pktclosed"));
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        // closed while the setup thread still uses the descriptor: the descriptor stays open until it is done
        assertTrue(bind.channel().close().await(10, TimeUnit.SECONDS));
        assertFalse(bind.isDone());
        release.countDown();
        assertTrue(bind.await(10, TimeUnit.SECONDS));
        assertTrue(bind.cause() instanceof java.nio.channels.ClosedChannelException, String.valueOf(bind.cause()));
        assertFalse(bind.channel().isActive());
        // the device the setup created went with the descriptor, closed once the setup had finished
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ns.exec("ip", "link", "show", "pktclosed").ok()) {
            assertTrue(System.nanoTime() < deadline, "pktclosed outlived its closed channel");
            Thread.onSpinWait();
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void aLinkCallStuckOnAUserThreadStopsNeitherTheLoopNorItsMtuRefresh(String loop) throws Exception {
        group = TestLoops.group(loop, 1);
        TunChannel t = (TunChannel) tun().bind(TunTapAddress.of("pktstuck")).sync().channel();
        try {
            CountDownLatch linkEntered = new CountDownLatch(1);
            CountDownLatch refreshEntered = new CountDownLatch(1);
            DeviceSetup.hook = op -> {
                if (op.equals("link")) {
                    held.add(Thread.currentThread());
                    linkEntered.countDown();
                    assertTrue(release.await(30, TimeUnit.SECONDS));
                } else if (op.equals("mtu-refresh")) {
                    held.add(Thread.currentThread());
                    refreshEntered.countDown();
                }
            };
            AtomicReference<Throwable> userFailure = new AtomicReference<>();
            Thread user = new Thread(() -> {
                try {
                    t.link().mtu(1400);
                } catch (Throwable e) {
                    userFailure.set(e);
                }
            }, "user-thread");
            user.start();
            assertTrue(linkEntered.await(10, TimeUnit.SECONDS));
            // the user's call is stuck; the loop asks for the MTU again (as after a truncated read) and goes on
            assertTrue(t.eventLoop().submit(() -> {
                t.refreshMtu();
                return true;
            }).get(10, TimeUnit.SECONDS));
            assertTrue(refreshEntered.await(10, TimeUnit.SECONDS), "the MTU refresh never ran");
            assertTrue(t.eventLoop().submit(() -> true).get(10, TimeUnit.SECONDS));
            for (Thread h : held) {
                assertFalse(t.eventLoop().inEventLoop(h), h + " is the event loop");
            }
            release.countDown();
            user.join(TimeUnit.SECONDS.toMillis(10));
            assertNull(userFailure.get());
            assertEquals(1400, t.mtu());
            assertEquals(1400, t.link().info().mtu());
        } finally {
            t.close().sync();
        }
    }
}
