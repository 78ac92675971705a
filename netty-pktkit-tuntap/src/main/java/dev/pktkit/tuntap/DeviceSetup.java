package dev.pktkit.tuntap;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.linux.netlink.LinkInfo;
import dev.pktkit.linux.netlink.RtNetlink;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The setup side of a TUN/TAP channel: the device's namespace and rtnetlink socket, creating or attaching the
 * device ({@code TUNSETIFF} and the offload ioctls), and re-reading its MTU.
 *
 * <p>None of it runs on the channel's event loop. The kernel serialises rtnetlink requests and
 * {@code TUNSETIFF} under one lock that another process may hold for seconds (a namespace being torn down), and
 * the channel's {@link RtNetlink} serialises its own callers: a loop waiting there would stop every channel it
 * serves. So {@link #bind} and {@link #refreshMtu} run on {@link #EXECUTOR}, a small pool of daemon threads
 * shared by all channels, and hand their results to the loop; {@link TunTapLink}'s calls run on the caller's
 * thread. The loop never takes a lock a user thread holds.
 */
final class DeviceSetup {
    /** Threads of {@link #EXECUTOR}; two, so one slow kernel answer does not hold up every other setup. */
    static final int THREADS = 2;
    /**
     * Bound on setups waiting for a thread (binds and MTU refreshes of all channels); beyond it a bind fails with
     * {@code SYSTEM_ERROR}. System property {@code dev.pktkit.tuntap.maxPendingSetups}, default 1024.
     */
    static final int MAX_PENDING = Integer.getInteger("dev.pktkit.tuntap.maxPendingSetups", 1024);

    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    /** Where device setup and MTU refreshes run: never on an event loop. */
    static final Executor EXECUTOR;

    static {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 10, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(MAX_PENDING), r -> {
            Thread t = new Thread(r, "pktkit-tuntap-setup-" + THREAD_IDS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        EXECUTOR = pool;
    }

    /**
     * Test hook: called on the thread that is about to make a setup call ({@code "bind"}, {@code "mtu-refresh"},
     * {@code "link"}), before it makes it (and, for {@code "bind"}, after). Tests block it to show that a loop
     * keeps running meanwhile, or change the thread's capabilities.
     */
    interface Hook {
        void beforeSetupCall(String operation) throws InterruptedException;

        default void afterSetupCall(String operation) {
        }
    }

    static volatile Hook hook;

    /** What {@link #bind} found: the device's actual name, index and MTU. */
    record Bound(String name, int index, int mtu) {
    }

    private volatile NetNamespace namespace;
    private volatile RtNetlink netlink;
    private final AtomicBoolean refreshPending = new AtomicBoolean();

    DeviceSetup(NetNamespace namespace, RtNetlink netlink) {
        this.namespace = namespace;
        this.netlink = netlink;
    }

    NetNamespace namespace() {
        return namespace;
    }

    String where() {
        NetNamespace ns = namespace;
        return ns == null ? "the current network namespace" : ns.toString();
    }

    /** The channel's rtnetlink socket, for a call on the calling thread (never a loop). */
    RtNetlink netlink() {
        RtNetlink nl = netlink;
        if (nl == null || nl.isClosed()) {
            throw new IllegalStateException("the channel is closed");
        }
        return nl;
    }

    /** {@link #netlink()} for a {@link TunTapLink} call: runs the test hook first. */
    RtNetlink netlinkForLinkCall() {
        runHook("link");
        return netlink();
    }

    /** After a move: the device lives in {@code target}; configure it there from now on. */
    void movedTo(NetNamespace target, RtNetlink targetNetlink) {
        RtNetlink old = netlink;
        netlink = targetNetlink;
        namespace = target;
        if (old != null) {
            old.close();
        }
    }

    /** Closes the rtnetlink socket; does not wait for a call in progress on another thread. */
    void close() {
        RtNetlink nl = netlink;
        netlink = null;
        if (nl != null) {
            nl.close();
        }
    }

    private static void runHook(String operation) {
        Hook h = hook;
        if (h != null) {
            try {
                h.beforeSetupCall(operation);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted before " + operation, e);
            }
        }
    }

    /**
     * Creates or attaches the device for {@code req} on {@code fd} with the channel's configuration, on
     * {@link #EXECUTOR}. The future fails with a {@link TunTapException} (or the netlink failure) if it cannot.
     * The caller must keep {@code fd} open until the future completes.
     */
    CompletableFuture<Bound> bind(int fd, boolean tap, TunTapAddress req, OffloadMode off, boolean multiQueue,
                                  int owner, int group, boolean persist) {
        CompletableFuture<Bound> result = new CompletableFuture<>();
        try {
            EXECUTOR.execute(() -> {
                Bound bound;
                try {
                    runHook("bind");
                    try {
                        bound = bindNow(fd, tap, req, off, multiQueue, owner, group, persist);
                    } finally {
                        Hook h = hook;
                        if (h != null) {
                            h.afterSetupCall("bind");
                        }
                    }
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                    return;
                }
                result.complete(bound);
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new TunTapException(TunTapException.Reason.SYSTEM_ERROR,
                    "more than " + MAX_PENDING + " TUN/TAP setups are waiting (dev.pktkit.tuntap.maxPendingSetups)",
                    e));
        }
        return result;
    }

    private Bound bindNow(int fd, boolean tap, TunTapAddress req, OffloadMode off, boolean multiQueue, int owner,
                          int group, boolean persist) {
        RtNetlink nl = netlink();
        if (req.mode() == TunTapAddress.OpenMode.ATTACH && nl.findLink(req.name()).isEmpty()) {
            throw new TunTapException(TunTapException.Reason.NO_SUCH_DEVICE, "no interface named " + req.name()
                    + " to attach to in " + where() + " (create it persistent first, or bind with "
                    + "TunTapAddress.of to create it)", Errno.ENODEV);
        }
        int flags = (tap ? TunDevice.IFF_TAP : TunDevice.IFF_TUN) | TunDevice.IFF_NO_PI
                | (off != OffloadMode.NONE ? TunDevice.IFF_VNET_HDR : 0)
                | (multiQueue ? TunDevice.IFF_MULTI_QUEUE : 0)
                | (req.mode() == TunTapAddress.OpenMode.CREATE ? TunDevice.IFF_TUN_EXCL : 0);
        int wanted = flags & (TunDevice.IFF_VNET_HDR | TunDevice.IFF_MULTI_QUEUE);
        int features = TunDevice.features(fd);
        if (features != 0 && (features & wanted) != wanted) {
            throw new TunTapException(TunTapException.Reason.UNSUPPORTED, "this kernel's TUN/TAP driver lacks "
                    + ((wanted & ~features & TunDevice.IFF_MULTI_QUEUE) != 0 ? "multi-queue " : "")
                    + ((wanted & ~features & TunDevice.IFF_VNET_HDR) != 0 ? "virtio-net headers " : "")
                    + "(features 0x" + Integer.toHexString(features) + ")", Errno.EINVAL);
        }
        String name = TunDevice.setIff(fd, req.name(), flags, n -> nl.findLink(n).isPresent());
        if (off != OffloadMode.NONE) {
            TunDevice.enableOffloads(fd, name);
        }
        if (owner >= 0) {
            TunDevice.setOwner(fd, owner, name);
        }
        if (group >= 0) {
            TunDevice.setGroup(fd, group, name);
        }
        if (persist) {
            TunDevice.setPersist(fd, true, name);
        }
        LinkInfo info = nl.link(name);
        return new Bound(name, info.index(), info.mtu());
    }

    /**
     * Re-reads the MTU of interface {@code index} on {@link #EXECUTOR} and hands it to {@code onMtu} through
     * {@code loop} (at most one refresh pending per channel; failures are dropped: the next truncated read asks
     * again).
     */
    void refreshMtu(int index, Executor loop, java.util.function.IntConsumer onMtu) {
        if (!refreshPending.compareAndSet(false, true)) {
            return;
        }
        try {
            EXECUTOR.execute(() -> {
                try {
                    runHook("mtu-refresh");
                    RtNetlink nl = netlink;
                    if (nl == null || nl.isClosed()) {
                        return;
                    }
                    int mtu = nl.link(index).mtu();
                    loop.execute(() -> onMtu.accept(mtu));
                } catch (RuntimeException e) {
                    // closed meanwhile, or the device is gone: the read path reports that itself
                } finally {
                    refreshPending.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            refreshPending.set(false);
        }
    }

    /** Bytes per read buffer for a device with {@code mtu}: header, link header, packet (or 64 KiB), plus one. */
    static int readLengthFor(int mtu, boolean tap, OffloadMode offload) {
        int link = tap ? TunTapReader.MAX_LINK_HEADER : 0;
        boolean vnet = offload != OffloadMode.NONE;
        int packet = vnet ? Math.max(mtu, TunTapReader.MAX_OFFLOAD_PACKET) : mtu;
        // one spare byte: a read that fills the buffer may have been cut short
        return (vnet ? VirtioNetHeader.LENGTH : 0) + link + packet + 1;
    }

    /** Closes {@code fd} (setup thread side, when the loop is gone). */
    static void closeQuietly(int fd) {
        LibC.close(fd);
    }
}
