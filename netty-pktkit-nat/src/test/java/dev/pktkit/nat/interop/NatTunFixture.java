package dev.pktkit.nat.interop;

import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * The setup the NAT's ALG and port-control interop tests share: namespace "inside" with one host address on TUN
 * {@code <tag>in0} (default route onto it), namespace "outside" with the remote's address on TUN
 * {@code <tag>out0}, a {@link Nat} (by default address-and-port-dependent filtering, MTU 1500 both sides) between
 * the two TUNs, all on one epoll loop, and a scratch directory readable by the daemons the tests start (which drop
 * privileges). Optionally a {@link PacketRecorder} first in either TUN's pipeline.
 *
 * <pre>{@code
 * f = NatTunFixture.builder("f").host("10.71.0.2").natInside("10.71.0.1").remote("198.51.100.10").start();
 * f.out().start(f.dir().resolve("vsftpd.log"), "vsftpd", conf);      // a real peer outside
 * f.in().exec("curl", ...);                                           // a real client behind the NAT
 * f.close();                                                          // in @AfterAll: everything goes
 * }</pre>
 *
 * {@link Builder#start()} skips (JUnit assumptions) without root, TUN or the epoll natives; a test checks its own
 * tools before it. {@link #close()} closes what {@link #closeFirst} registered (last first), the NAT, the TUNs, the
 * loop, the namespaces (killing every process in them) and deletes the directory.
 */
public final class NatTunFixture implements AutoCloseable {
    /** The NAT's outside address in every ALG / port-control interop test. */
    public static final String NAT_OUT = "198.51.100.1";

    private final Deque<AutoCloseable> first = new ArrayDeque<>();
    private Path dir;
    private Ns in;
    private Ns out;
    private MultiThreadIoEventLoopGroup group;
    private Nat nat;
    private TunChannel tunIn;
    private TunChannel tunOut;
    private PacketRecorder insideRecorder;
    private PacketRecorder outsideRecorder;

    private NatTunFixture() {
    }

    /** A fixture whose TUNs are named {@code <tag>in0} / {@code <tag>out0} (and whose directory starts so). */
    public static Builder builder(String tag) {
        return new Builder(tag);
    }

    /** The inside namespace. */
    public Ns in() {
        return in;
    }

    /** The outside namespace. */
    public Ns out() {
        return out;
    }

    /** The NAT. */
    public Nat nat() {
        return nat;
    }

    /** The scratch directory (mode 755), deleted at {@link #close()}. */
    public Path dir() {
        return dir;
    }

    public TunChannel tunIn() {
        return tunIn;
    }

    public TunChannel tunOut() {
        return tunOut;
    }

    /** The inside TUN's recorder (null unless {@link Builder#recordInside()}). */
    public PacketRecorder insideRecorder() {
        return insideRecorder;
    }

    /** The outside TUN's recorder (null unless {@link Builder#recordOutside()}). */
    public PacketRecorder outsideRecorder() {
        return outsideRecorder;
    }

    /** Registers {@code c} to be closed before the NAT (e.g. a {@code PortControl}); returns it. */
    public <T extends AutoCloseable> T closeFirst(T c) {
        first.push(Objects.requireNonNull(c));
        return c;
    }

    /** Copies a test resource next to the class {@code anchor} into the directory; returns its path. */
    public Path resource(Class<?> anchor, String name) throws IOException {
        Path p = dir.resolve(name);
        try (var script = anchor.getResourceAsStream(name)) {
            Files.write(p, Objects.requireNonNull(script, name).readAllBytes());
        }
        return p;
    }

    /** A file in the directory whose text contains {@code marker}, waited for up to {@code seconds}. */
    public String awaitLog(Path log, String marker, Process p, int seconds) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            if (text.contains(marker)) {
                return text;
            }
            if ((p != null && !p.isAlive() && !(Files.exists(log) && Files.readString(log).contains(marker)))
                    || System.nanoTime() > deadline) {
                throw new AssertionError("no '" + marker + "' in " + log.getFileName()
                        + (p != null && !p.isAlive() ? " (exited " + p.exitValue() + ")" : "") + ":\n" + text);
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        while (!first.isEmpty()) {
            try {
                first.pop().close();
            } catch (Exception e) {
                failure = add(failure, e);
            }
        }
        if (nat != null) {
            nat.close();
        }
        for (TunChannel t : new TunChannel[]{tunIn, tunOut}) {
            if (t != null) {
                t.close().sync();
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
        for (Ns ns : new Ns[]{in, out}) {
            if (ns != null) {
                try {
                    ns.close();
                } catch (Exception e) {
                    failure = add(failure, e);
                }
            }
        }
        if (dir != null) {
            deleteTree(dir);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static Exception add(Exception failure, Exception e) {
        if (failure == null) {
            return e;
        }
        failure.addSuppressed(e);
        return failure;
    }

    /** Deletes {@code root} and everything under it. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The SHA-256 of {@code b} in hex. */
    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** What to build; {@link #start()} builds it. */
    public static final class Builder {
        private final String tag;
        private String host;
        private String natInside;
        private String remote;
        private String natOutside = NAT_OUT;
        private Consumer<NatConfig.Builder> config = b -> { };
        private BiFunction<Nat, TunChannel, Future<?>> attachInside = (nat, tun) -> {
            nat.attach(tun, "inside");
            return null;
        };
        private boolean recordInside;
        private boolean recordOutside;

        private Builder(String tag) {
            this.tag = tag;
        }

        /** The inside host's address (a /24 on the inside TUN). */
        public Builder host(String address) {
            host = address;
            return this;
        }

        /** The NAT's inside address (the inside host's gateway). */
        public Builder natInside(String address) {
            natInside = address;
            return this;
        }

        /** The remote's address (a /24 on the outside TUN, which also holds the NAT's outside address's net). */
        public Builder remote(String address) {
            remote = address;
            return this;
        }

        /** More NAT configuration, applied after the fixture's (addresses, APDF filtering, MTU 1500). */
        public Builder config(Consumer<NatConfig.Builder> c) {
            config = c;
            return this;
        }

        /**
         * How the inside TUN is attached (default {@code nat.attach(tun, "inside")}); a returned future is waited
         * for.
         */
        public Builder attachInside(BiFunction<Nat, TunChannel, Future<?>> a) {
            attachInside = a;
            return this;
        }

        /** Puts a {@link PacketRecorder} first in the inside TUN's pipeline. */
        public Builder recordInside() {
            recordInside = true;
            return this;
        }

        /** Puts a {@link PacketRecorder} first in the outside TUN's pipeline. */
        public Builder recordOutside() {
            recordOutside = true;
            return this;
        }

        /** Builds it; skips without root, TUN or epoll; on failure closes what it had built. */
        public NatTunFixture start() throws Exception {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(natInside, "natInside");
            Objects.requireNonNull(remote, "remote");
            dev.pktkit.testkit.netns.Netns.assumeTunUsable();
            Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
            NatTunFixture f = new NatTunFixture();
            try {
                f.dir = Files.createTempDirectory(tag + "-nat-interop");
                Files.setPosixFilePermissions(f.dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                f.in = Ns.create();
                f.out = Ns.create();
                f.group = TestLoops.group(TestLoops.EPOLL, 1);
                NatConfig.Builder b = NatConfig.builder().outsideAddresses(natOutside).insideAddress(natInside)
                        .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).outsideMtu(1500).insideMtu(1500);
                config.accept(b);
                f.nat = Nat.create(f.group.next(), b.build());
                f.insideRecorder = recordInside ? new PacketRecorder() : null;
                f.outsideRecorder = recordOutside ? new PacketRecorder() : null;
                f.tunIn = f.bind(f.in, tag + "in0", f.insideRecorder);
                f.tunOut = f.bind(f.out, tag + "out0", f.outsideRecorder);
                f.tunIn.link().mtu(1500).addAddress(host + "/24").up();
                f.in.exec("ip", "route", "add", "default", "dev", tag + "in0").check();
                f.tunOut.link().mtu(1500).addAddress(remote + "/24").up();
                Future<?> attached = attachInside.apply(f.nat, f.tunIn);
                if (attached != null) {
                    attached.sync();
                }
                f.nat.attachOutside(f.tunOut);
                return f;
            } catch (Throwable e) {
                try {
                    f.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    private TunChannel bind(Ns ns, String name, ChannelHandler recorder) throws InterruptedException {
        ChannelHandler h = recorder != null ? recorder : new ChannelInboundHandlerAdapter();
        return (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(ns.handle))
                .handler(h).bind(TunTapAddress.of(name)).sync().channel();
    }
}
