package dev.pktkit.linux;

import dev.pktkit.linux.netlink.RtNetlink;

import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A Linux network namespace, held open by a file descriptor (of {@code /run/netns/NAME}, as {@code ip netns add}
 * makes them, or of {@code /proc/PID/ns/net}).
 *
 * <p>Network namespaces belong to threads: a socket, and a TUN/TAP device, lives in the namespace of the thread
 * that created it, and stays there when the thread moves on. {@link #call} runs a task on a short-lived platform
 * thread that has entered this namespace, which is how {@link RtNetlink#open(NetNamespace)} and the TUN/TAP
 * channels' namespace constructors create their file descriptors inside it; the calling thread and the JVM's
 * other threads are not moved. Entering a namespace needs {@code CAP_SYS_ADMIN}.
 *
 * <p>Closing this object closes its descriptor; the namespace itself lives on while anything else holds it
 * (a mount under {@code /run/netns}, a process, a socket, a device).
 *
 * <p>Opening fails with a {@link LinuxException} ({@code NOT_FOUND} for a missing file). Thread-safe.
 */
public final class NetNamespace implements AutoCloseable {
    /** Where {@code ip netns} keeps named namespaces. */
    public static final Path NAMED_NAMESPACES = Path.of("/run/netns");

    private final Path path;
    private final int fd;
    private volatile boolean closed;

    private NetNamespace(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** The namespace {@code ip netns add NAME} made ({@code /run/netns/NAME}). */
    public static NetNamespace named(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not a namespace name: '" + name + "'");
        }
        return open(NAMED_NAMESPACES.resolve(name));
    }

    /** The namespace of this process's main thread ({@code /proc/self/ns/net}): the JVM's own. */
    public static NetNamespace ofSelf() {
        return open(Path.of("/proc/self/ns/net"));
    }

    /** The namespace of process {@code pid} ({@code /proc/PID/ns/net}). */
    public static NetNamespace ofProcess(long pid) {
        return open(Path.of("/proc", Long.toString(pid), "ns", "net"));
    }

    /** The namespace whose handle is the file at {@code path}. */
    public static NetNamespace open(Path path) {
        Objects.requireNonNull(path, "path");
        int fd = LibC.open(path.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw new LinuxException("opening network namespace " + path, -fd);
        }
        return new NetNamespace(path, fd);
    }

    /** The file this namespace was opened from. */
    public Path path() {
        return path;
    }

    /** The open file descriptor of the namespace (for {@code IFLA_NET_NS_FD}); valid until {@link #close()}. */
    public int fd() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        return fd;
    }

    /**
     * Runs {@code task} on a new platform thread that entered this namespace, waits for it, and returns its
     * result. Sockets and devices the task creates live in this namespace. Blocks the caller for the thread's
     * lifetime: do not call it on an event loop.
     *
     * @throws LinuxException if the thread cannot enter the namespace
     * @throws Exception whatever {@code task} throws
     */
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        int nsFd = fd();
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("netns-" + path.getFileName()).daemon(true).unstarted(() -> {
            int r = LibC.setns(nsFd, LibC.CLONE_NEWNET);
            if (r < 0) {
                failure.set(new LinuxException("entering network namespace " + path, -r));
                return;
            }
            try {
                result.set(task.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        Throwable f = failure.get();
        if (f instanceof Exception e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
        return result.get();
    }

    /** {@link #call} for a task without a result or checked exceptions; wraps checked ones. */
    public void run(Runnable task) {
        Objects.requireNonNull(task, "task");
        try {
            call(() -> {
                task.run();
                return null;
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the namespace thread", e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
        }
    }

    @Override
    public String toString() {
        return "NetNamespace(" + path + ")";
    }
}
