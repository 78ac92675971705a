package dev.pktkit.afxdp;

import dev.pktkit.linux.Bpf;
import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;

/**
 * An XSKMAP: the BPF map from receive-queue index to AF_XDP socket that an XDP program's
 * {@code bpf_redirect_map} reads. Made by {@link #create} (for {@link XdpProgram}), or opened from an existing
 * program's map ({@link #pinned}, {@link #byId}) so that a channel joins a program someone else loaded (with
 * {@code xdp-loader}, libxdp, a Cilium-style agent) instead of loading its own.
 *
 * <p>Each {@link XdpChannel} opened with this map puts its socket at its queue's key and removes it on close.
 * Thread-safe (each call is one system call).
 */
public final class XskMap implements AutoCloseable {
    private final int fd;
    private final int maxEntries;
    private boolean closed;

    private XskMap(int fd, int maxEntries) {
        this.fd = fd;
        this.maxEntries = maxEntries;
    }

    /** A new XSKMAP for queues {@code 0 .. entries-1}. */
    public static XskMap create(int entries) {
        int fd = Bpf.mapCreate(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, entries, "pktkit_xsks");
        if (fd < 0) {
            throw XdpException.of("BPF_MAP_CREATE(XSKMAP, " + entries + ")", fd);
        }
        return new XskMap(fd, entries);
    }

    /** Opens the XSKMAP pinned at {@code path} (in a mounted bpffs, e.g. {@code /sys/fs/bpf/...}). */
    public static XskMap pinned(String path) {
        int fd = Bpf.objGet(path);
        if (fd < 0) {
            throw XdpException.of("BPF_OBJ_GET(" + path + ")", fd);
        }
        return checked(fd, path);
    }

    /** Opens the map with kernel id {@code id} ({@code bpftool map show} lists them); must be an XSKMAP. */
    public static XskMap byId(int id) {
        int fd = Bpf.mapGetFdById(id);
        if (fd < 0) {
            throw XdpException.of("BPF_MAP_GET_FD_BY_ID(" + id + ")", fd);
        }
        return checked(fd, "map id " + id);
    }

    private static XskMap checked(int fd, String what) {
        Bpf.MapInfo info;
        try {
            info = Bpf.mapInfo(fd);
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
        if (info.type() != Bpf.BPF_MAP_TYPE_XSKMAP) {
            LibC.close(fd);
            throw new XdpException(XdpException.Reason.SYSTEM_ERROR, what + " is a map of type " + info.type()
                    + ", not an XSKMAP (" + Bpf.BPF_MAP_TYPE_XSKMAP + ")", 0, null);
        }
        return new XskMap(fd, info.maxEntries());
    }

    /**
     * Pins this map at {@code path} (in a mounted bpffs; the file must not exist yet) so that another process, or
     * a later channel, can join it with {@link #pinned}. The pin keeps the map alive until the file is removed.
     */
    public void pin(String path) {
        int r = Bpf.objPin(fd, path);
        if (r < 0) {
            throw XdpException.of("BPF_OBJ_PIN(" + path + ")", r);
        }
    }

    /** The map's descriptor. */
    public int fd() {
        return fd;
    }

    /** Queues the map has room for. */
    public int maxEntries() {
        return maxEntries;
    }

    /** The kernel's id of the map (for {@link #byId}). */
    public int id() {
        return Bpf.mapInfo(fd).id();
    }

    /** Points queue {@code queue} at socket {@code xskFd}. */
    void put(int queue, int xskFd) {
        if (queue >= maxEntries) {
            throw new XdpException(XdpException.Reason.SYSTEM_ERROR, "queue " + queue + " is past the XSKMAP's "
                    + maxEntries + " entries", 0, null);
        }
        int r = Bpf.mapUpdate(fd, queue, xskFd, Bpf.BPF_ANY);
        if (r < 0) {
            throw XdpException.of("putting the socket into the XSKMAP at queue " + queue, r);
        }
    }

    /** Removes the socket of queue {@code queue} (absent is fine). */
    void remove(int queue) {
        int r = Bpf.mapDelete(fd, queue);
        if (r < 0 && r != -Errno.ENOENT) {
            throw XdpException.of("removing queue " + queue + " from the XSKMAP", r);
        }
    }

    /** Closes this descriptor of the map (the map lives while a program or another descriptor holds it). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
        }
    }
}
