package dev.pktkit.qemu;

import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.channel.Channel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static dev.pktkit.qemu.Recorder.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link QemuListener}'s Unix socket file (mode, owner and group, set before anyone can connect; no existing file
 * replaced) and its one close for the listener, its guests and the LAN.
 */
class QemuListenerTest {
    /** Two users that are not this process's: the socket's owner, and somebody else. */
    static final int OWNER_UID = 65534;
    static final int OTHER_UID = 65533;

    @TempDir
    Path dir;

    private MultiThreadIoEventLoopGroup group;
    private final List<QemuListener> listeners = new ArrayList<>();
    private final List<Channel> peers = new ArrayList<>();

    static List<String> loops() {
        return TestLoops.available();
    }

    @AfterEach
    void tearDown() {
        for (Channel p : peers) {
            p.close().awaitUninterruptibly(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        for (QemuListener l : listeners) {
            l.close().awaitUninterruptibly(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        if (group != null) {
            group.shutdownGracefully(0, WAIT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void assumeRoot() throws IOException {
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "changing a file's owner to another user needs root");
    }

    private static int attr(Path p, String name) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:" + name, LinkOption.NOFOLLOW_LINKS);
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** Connects to the socket as {@code uid} (socat under setpriv) and returns socat's exit status and output. */
    private static String connectAs(int uid, Path socket) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "socat", "-u", "OPEN:/dev/null", "UNIX-CONNECT:" + socket).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "socat did not finish");
        return p.exitValue() + " " + out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loops")
    void socketFileGetsModeOwnerAndGroupAndStaysReachableAtItsPath(String loop) throws Exception {
        assumeRoot();
        group = TestLoops.group(loop, 1);
        UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
        Path socket = dir.resolve("lan.sock");
        BlockingQueue<Channel> attached = new LinkedBlockingQueue<>();
        QemuListener l = QemuListener.stream(QemuAddress.unix(socket)).group(group)
                .connector(port -> {
                    attached.add(port);
                    return null;
                })
                .socketPermissions(PosixFilePermissions.fromString("rw-rw----"))
                .socketOwner(users.lookupPrincipalByName(Integer.toString(OWNER_UID)))
                .socketGroup(users.lookupPrincipalByGroupName(Integer.toString(OTHER_UID)))
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(l);

        BasicFileAttributes a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertTrue(a.isOther(), "a socket file");
        assertEquals(PosixFilePermissions.fromString("rw-rw----"),
                Files.getPosixFilePermissions(socket, LinkOption.NOFOLLOW_LINKS));
        assertEquals(OWNER_UID, attr(socket, "uid"));
        assertEquals(OTHER_UID, attr(socket, "gid"));
        assertEquals(List.of(socket), entries(), "the private bind directory is gone");
        assertEquals(QemuAddress.unix(socket), l.localAddress());
        assertEquals("stream,id=n0,server=off,addr.type=unix,addr.path=" + socket, l.netdevArgument("n0"));
        assertNotEquals(socket, ((QemuAddress.Unix) QemuAddress.of(l.channel().localAddress())).path(),
                "the channel itself was bound at the private name");

        Channel vm = QemuNetdev.streamClient(group, l.localAddress(), new Recorder()).connect()
                .syncUninterruptibly().channel();
        peers.add(vm);
        assertNotNull(attached.poll(WAIT_SECONDS, TimeUnit.SECONDS), "a guest connects through the path");

        assertTrue(l.close().await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket file goes with the listener");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loops")
    void onlyUsersTheModeAdmitsMayConnect(String loop) throws Exception {
        assumeRoot();
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("setpriv", "util-linux");
        group = TestLoops.group(loop, 1);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = dir.resolve("lan.sock");
        AtomicInteger guests = new AtomicInteger();
        BlockingQueue<Channel> attached = new LinkedBlockingQueue<>();
        QemuListener l = QemuListener.stream(QemuAddress.unix(socket)).group(group)
                .connector(port -> {
                    guests.incrementAndGet();
                    attached.add(port);
                    return null;
                })
                .socketPermissions(PosixFilePermissions.fromString("rw-------"))
                .socketOwner(FileSystems.getDefault().getUserPrincipalLookupService()
                        .lookupPrincipalByName(Integer.toString(OWNER_UID)))
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        listeners.add(l);

        String denied = connectAs(OTHER_UID, socket);
        assertFalse(denied.startsWith("0 "), denied);
        assertTrue(denied.contains("Permission denied"), denied);
        String owner = connectAs(OWNER_UID, socket);
        assertTrue(owner.startsWith("0 "), owner);
        assertNotNull(attached.poll(WAIT_SECONDS, TimeUnit.SECONDS), "the owner's connection became a guest");
        assertEquals(1, guests.get(), "the refused connect never reached accept");
    }

    @Test
    void bindNeverReplacesAnExistingFile() throws Exception {
        group = TestLoops.group(TestLoops.NIO, 1);
        Path socket = dir.resolve("lan.sock");
        Files.writeString(socket, "somebody else's");
        Future<QemuListener> f = QemuListener.stream(QemuAddress.unix(socket)).group(group).connector(port -> null)
                .socketPermissions(PosixFilePermissions.fromString("rw-------")).bind();
        assertTrue(f.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertInstanceOf(BindException.class, f.cause());
        assertEquals("somebody else's", Files.readString(socket));
        assertEquals(List.of(socket), entries(), "nothing left behind");
    }

    @Test
    void aPrivatePathTooLongForASocketAddressFailsClearly() throws Exception {
        group = TestLoops.group(TestLoops.NIO, 1);
        int room = 100 - dir.toString().length() - "/l.sock".length() - 1;
        Assumptions.assumeTrue(room > 0, "temporary directory path too long for this test: " + dir);
        Path deep = Files.createDirectory(dir.resolve("d".repeat(room)));
        Path socket = deep.resolve("l.sock");   // 100 bytes: fits; its private bind path does not
        Future<QemuListener> f = QemuListener.stream(QemuAddress.unix(socket)).group(group).connector(port -> null)
                .socketPermissions(PosixFilePermissions.fromString("rw-------")).bind();
        assertTrue(f.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertTrue(f.cause() instanceof IOException && f.cause().getMessage().contains("Unix socket address"),
                String.valueOf(f.cause()));
        try (Stream<Path> left = Files.list(deep)) {
            assertEquals(List.of(), left.toList(), "no private directory left");
        }
    }

    @Test
    void socketFileOptionsAreForUnixStreamListenersOnly() {
        QemuListener.Builder udp = QemuListener.datagram(QemuAddress.inet("127.0.0.1", 0));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> udp.socketPermissions(PosixFilePermissions.fromString("rw-------")));
        assertTrue(e.getMessage().contains("Unix stream listeners only"), e.getMessage());
        QemuListener.Builder unixDgram = QemuListener.datagram(QemuAddress.unix(dir.resolve("d.sock")));
        assertThrows(IllegalStateException.class,
                () -> unixDgram.socketPermissions(PosixFilePermissions.fromString("rw-------")));
        QemuListener.Builder tcp = QemuListener.stream(QemuAddress.inet("127.0.0.1", 0));
        assertThrows(IllegalStateException.class,
                () -> tcp.socketPermissions(PosixFilePermissions.fromString("rw-------")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loops")
    void oneCloseTakesTheListenerItsGuestsAndTheLan(String loop) throws Exception {
        group = TestLoops.group(loop, 2);
        L2Hub lan = L2Hub.builder().name("one-close").build();
        PacketPipe gateway = PacketPipe.open(group.next(), null, group.next(), null)
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        lan.add(gateway.b());
        AtomicInteger captureClosed = new AtomicInteger();
        Path socket = dir.resolve("lan.sock");
        BlockingQueue<Channel> attached = new LinkedBlockingQueue<>();
        QemuListener l = QemuListener.stream(QemuAddress.unix(socket)).group(group)
                .connector(port -> {
                    Attachment a = lan.attach(port);
                    attached.add(port);
                    return a;
                })
                .closeWith(lan).closeWith(captureClosed::incrementAndGet)
                .bind().get(WAIT_SECONDS, TimeUnit.SECONDS);
        Channel vm = QemuNetdev.streamClient(group, l.localAddress(), new Recorder()).connect()
                .syncUninterruptibly().channel();
        peers.add(vm);
        assertNotNull(attached.poll(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(2, lan.ports().size());

        Future<Void> closed = l.close();
        assertSame(closed, l.close(), "close is idempotent");
        assertTrue(closed.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertTrue(closed.isSuccess(), String.valueOf(closed.cause()));
        assertFalse(l.channel().isOpen());
        assertTrue(vm.closeFuture().await(WAIT_SECONDS, TimeUnit.SECONDS), "the guest was closed");
        assertFalse(gateway.b().isOpen(), "the LAN was closed with its ports");
        assertEquals(0, lan.ports().size());
        assertEquals(1, captureClosed.get());
        assertFalse(Files.exists(socket));
        gateway.close();
    }
}
