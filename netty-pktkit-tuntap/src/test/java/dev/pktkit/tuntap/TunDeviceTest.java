package dev.pktkit.tuntap;

import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.linux.netlink.RtNetlink;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opening, creating, attaching and losing devices, and the errors for each way it can fail, on epoll and io_uring,
 * in a namespace the test creates.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TunDeviceTest {
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;
    private MultiThreadIoEventLoopGroup group;

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        ns = cleanup.add(Netns.create());
    }

    private Bootstrap tun(String loop) {
        if (group == null) {
            group = cleanup.add(TestLoops.group(loop, 2));
        }
        return new Bootstrap().group(group).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .handler(new ChannelInboundHandlerAdapter());
    }

    private Bootstrap tap(String loop) {
        if (group == null) {
            group = cleanup.add(TestLoops.group(loop, 2));
        }
        return new Bootstrap().group(group).channelFactory(() -> new TapChannel(Namespaces.handle(ns)))
                .handler(new ChannelInboundHandlerAdapter());
    }

    private <C extends Channel> C bound(ChannelFuture f) throws InterruptedException {
        f.await(10, TimeUnit.SECONDS);
        cleanup.add(f.channel());
        if (!f.isSuccess()) {
            throw new AssertionError("bind failed", f.cause());
        }
        @SuppressWarnings("unchecked")
        C c = (C) f.channel();
        return c;
    }

    private static TunTapException bindFailure(ChannelFuture f) throws InterruptedException {
        assertTrue(f.await(10, TimeUnit.SECONDS));
        assertFalse(f.isSuccess(), "bind should have failed");
        assertTrue(f.channel().closeFuture().await(10, TimeUnit.SECONDS), "a failed bind closes the channel");
        return assertInstanceOf(TunTapException.class, f.cause());
    }

    private boolean linkExists(String name) {
        try (RtNetlink nl = RtNetlink.open(Namespaces.handle(ns))) {
            return nl.findLink(name).isPresent();
        }
    }

    /** Polls {@code condition} for up to 10 s (closing on io_uring finishes when the loop's cancel completes). */
    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void nioLoopIsNotCompatible() throws Exception {
        MultiThreadIoEventLoopGroup nio = TestLoops.group(TestLoops.NIO, 1);
        try {
            ChannelFuture f = new Bootstrap().group(nio).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                    .handler(new ChannelInboundHandlerAdapter()).register();
            assertTrue(f.await(10, TimeUnit.SECONDS));
            assertFalse(f.isSuccess());
            assertTrue(f.cause().getMessage().contains("incompatible event loop type"), f.cause().toString());
            assertFalse(f.channel().isOpen());
        } finally {
            nio.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** {@code TapChannel.open} / {@code TunChannel.open}: bound channels without a cast or a placeholder handler. */
    @ParameterizedTest
    @MethodSource("loops")
    void openBindsWithoutACastOrAPlaceholderHandler(String loop) throws Exception {
        group = cleanup.add(TestLoops.group(loop, 2));
        io.netty.util.concurrent.Future<TapChannel> tapFuture = TapChannel.open(group, Namespaces.handle(ns), "pktopen0");
        assertTrue(tapFuture.await(10, TimeUnit.SECONDS));
        TapChannel tap = tapFuture.getNow();
        assertTrue(tapFuture.isSuccess(), String.valueOf(tapFuture.cause()));
        cleanup.add(tap);
        assertTrue(tap.isActive());
        assertTrue(linkExists("pktopen0"));
        org.junit.jupiter.api.Assertions.assertNull(tap.pipeline().first(), "no handler: none was asked for");

        ChannelInboundHandlerAdapter device = new ChannelInboundHandlerAdapter();
        io.netty.util.concurrent.Future<TunChannel> tunFuture =
                TunChannel.open(group, Namespaces.handle(ns), "pktopen1", device);
        assertTrue(tunFuture.await(10, TimeUnit.SECONDS));
        assertTrue(tunFuture.isSuccess(), String.valueOf(tunFuture.cause()));
        TunChannel tun = tunFuture.getNow();
        cleanup.add(tun);
        assertTrue(tun.isActive());
        org.junit.jupiter.api.Assertions.assertSame(device, tun.pipeline().first(), "the given handler is there");

        io.netty.util.concurrent.Future<TapChannel> busy = TapChannel.open(group, Namespaces.handle(ns), "pktopen0");
        assertTrue(busy.await(10, TimeUnit.SECONDS));
        assertFalse(busy.isSuccess(), "a name in use fails the future");
        assertInstanceOf(TunTapException.class, busy.cause());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void nameHeldByAnotherDescriptorIsInUse(String loop) throws Exception {
        TunChannel first = bound(tun(loop).bind(TunTapAddress.of("pktbusy")));
        assertTrue(first.isActive());
        TunTapException e = bindFailure(tun(loop).bind(TunTapAddress.of("pktbusy")));
        assertEquals(TunTapException.Reason.NAME_IN_USE, e.reason());
        assertTrue(e.getMessage().contains("pktbusy"), e.getMessage());
        assertTrue(e.getMessage().contains("MULTI_QUEUE"), e.getMessage());
        // create-only on an existing name
        TunTapException excl = bindFailure(tun(loop).bind(TunTapAddress.create("pktbusy")));
        assertEquals(TunTapException.Reason.NAME_IN_USE, excl.reason());
        // the same name as a TAP device: a device of the other kind
        TunTapException kind = bindFailure(tap(loop).bind(TunTapAddress.of("pktbusy")));
        assertEquals(TunTapException.Reason.NAME_IN_USE, kind.reason());
        assertTrue(kind.getMessage().contains("is not a TAP device"), kind.getMessage());
        assertTrue(first.isActive(), "the first channel is unharmed");
    }

    @ParameterizedTest
    @MethodSource("loops")
    void nameOfAnotherKindOfInterfaceIsInUse(String loop) throws Exception {
        assertEquals(0, ns.exec("ip", "link", "add", "pktveth0", "type", "veth", "peer", "name", "pktveth1")
                .exit());
        TunTapException e = bindFailure(tun(loop).bind(TunTapAddress.of("pktveth0")));
        assertEquals(TunTapException.Reason.NAME_IN_USE, e.reason());
        assertTrue(e.getMessage().contains("exists but is not a TUN device"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void attachingToAMissingDeviceFails(String loop) throws Exception {
        TunTapException e = bindFailure(tun(loop).bind(TunTapAddress.attach("pktnone")));
        assertEquals(TunTapException.Reason.NO_SUCH_DEVICE, e.reason());
        assertTrue(e.getMessage().contains("pktnone"), e.getMessage());
        assertFalse(linkExists("pktnone"), "attach must not create");
    }

    @ParameterizedTest
    @MethodSource("loops")
    void withoutCapNetAdminCreatingIsRefused(String loop) throws Exception {
        Assumptions.assumeTrue(Capabilities.supported(), "capability system calls are set up for x86_64 only");
        // the device is created on a setup thread (never on the loop): drop the capability there, for that call
        DeviceSetup.hook = new DeviceSetup.Hook() {
            @Override
            public void beforeSetupCall(String operation) {
                Capabilities.setEffective(Capabilities.CAP_NET_ADMIN, false);
            }

            @Override
            public void afterSetupCall(String operation) {
                Capabilities.setEffective(Capabilities.CAP_NET_ADMIN, true);
            }
        };
        try {
            TunTapException e = bindFailure(tun(loop).bind(TunTapAddress.of("pktnocap")));
            assertEquals(TunTapException.Reason.PERMISSION_DENIED, e.reason());
            assertTrue(e.getMessage().contains("CAP_NET_ADMIN"), e.getMessage());
        } finally {
            DeviceSetup.hook = null;
        }
        assertFalse(linkExists("pktnocap"));
    }

    @ParameterizedTest
    @MethodSource("loops")
    void theKernelPicksANameForAnyAddress(String loop) throws Exception {
        TunChannel t = bound(tun(loop).bind(TunTapAddress.any()));
        assertTrue(t.localAddress().name().matches("tun\\d+"), t.localAddress().name());
        TapChannel p = bound(tap(loop).bind(TunTapAddress.any()));
        assertTrue(p.localAddress().name().matches("tap\\d+"), p.localAddress().name());
        assertTrue(t.localAddress().index() > 0);
        assertNotEquals(t.localAddress().index(), p.localAddress().index());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void deviceGoesWithItsChannelUnlessPersistent(String loop) throws Exception {
        TunChannel plain = bound(tun(loop).bind(TunTapAddress.of("pktgone")));
        assertTrue(linkExists("pktgone"));
        plain.close().sync();
        await(() -> !linkExists("pktgone"), "pktgone disappears");

        TunChannel persistent = bound(tun(loop).option(TunTapChannelOption.PERSIST, true)
                .bind(TunTapAddress.create("pktkeep")));
        persistent.close().sync();
        await(() -> !persistent.isOpen(), "closed");
        assertTrue(linkExists("pktkeep"), "a persistent device outlives its channel");

        // attach to it again, and see traffic through it
        Tools.assumeCommand("ping", "iputils-ping");
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.76.0.2")));
        TunChannel again = bound(tun(loop).handler(responder).bind(TunTapAddress.attach("pktkeep")));
        assertEquals(TunTapAddress.OpenMode.ATTACH, again.localAddress().mode());
        again.link().addAddress("10.76.0.1/24").up();
        CommandResult ping = ns.exec("ping", "-c", "2", "-i", "0.2", "-w", "10", "10.76.0.2");
        assertEquals(0, ping.exit(), ping.output());
        again.config().setPersist(false);
        again.close().sync();
        await(() -> !linkExists("pktkeep"), "pktkeep disappears once it is no longer persistent");
    }

    static List<Object[]> loopsAndAutoRead() {
        List<Object[]> args = new ArrayList<>();
        for (String loop : loops()) {
            args.add(new Object[] {loop, true});
            args.add(new Object[] {loop, false});
        }
        return args;
    }

    @ParameterizedTest
    @MethodSource("loopsAndAutoRead")
    void deletingTheDeviceClosesTheChannelWithAReason(String loop, boolean autoRead) throws Exception {
        java.util.concurrent.BlockingQueue<Throwable> errors = new java.util.concurrent.LinkedBlockingQueue<>();
        TunChannel t = bound(tun(loop).option(io.netty.channel.ChannelOption.AUTO_READ, autoRead)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                        errors.add(cause);
                    }
                }).bind(TunTapAddress.of("pktdel")));
        t.link().up();
        assertEquals(0, ns.exec("ip", "link", "del", "pktdel").exit());
        if (!autoRead) {
            t.read(); // without auto-read the loss shows at the next read the pipeline asks for
        }
        assertTrue(t.closeFuture().await(10, TimeUnit.SECONDS), "the channel closes when its device goes");
        Throwable e = errors.poll(10, TimeUnit.SECONDS);
        assertInstanceOf(java.io.IOException.class, e);
        assertTrue(e.getMessage().contains("pktdel"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void multiQueueDeviceSpreadsQueuesOverLoops(String loop) throws Exception {
        Tools.assumeCommand("ping", "iputils-ping");
        group = cleanup.add(TestLoops.group(loop, 2));
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.75.0.2")));
        List<Channel> queues = MultiQueue.bind(new Bootstrap().group(group)
                .channelFactory(() -> new TunChannel(Namespaces.handle(ns))).handler(responder),
                TunTapAddress.of("pktmq"), 2).sync().getNow();
        queues.forEach(cleanup::add);
        assertEquals(2, queues.size());
        assertNotEquals(queues.get(0).eventLoop(), queues.get(1).eventLoop(), "one queue per loop");
        for (Channel q : queues) {
            assertEquals("pktmq", ((TunChannel) q).localAddress().name());
            assertTrue(q.config().getOption(TunTapChannelOption.MULTI_QUEUE));
        }
        CommandResult sys = ns.exec("ls", "/sys/class/net/pktmq/queues");
        assertTrue(sys.output().contains("rx-0") && sys.output().contains("rx-1"), sys.output());
        ((TunChannel) queues.get(0)).link().addAddress("10.75.0.1/24").up();
        CommandResult ping = ns.exec("ping", "-c", "3", "-i", "0.2", "-w", "10", "10.75.0.2");
        assertEquals(0, ping.exit(), ping.output());
        // a channel without MULTI_QUEUE cannot join
        TunTapException e = bindFailure(tun(loop).bind(TunTapAddress.of("pktmq")));
        assertEquals(TunTapException.Reason.NAME_IN_USE, e.reason());
    }
}
