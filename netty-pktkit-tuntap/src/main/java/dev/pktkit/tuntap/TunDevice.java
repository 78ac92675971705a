package dev.pktkit.tuntap;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.linux.NetNamespace;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The TUN/TAP driver's interface ({@code linux/if_tun.h}): opening {@code /dev/net/tun} and its ioctls, with
 * failures turned into {@link TunTapException}s that say what happened and what to do.
 */
final class TunDevice {
    /** The device node of the TUN/TAP driver. */
    static final String DEFAULT_PATH = "/dev/net/tun";

    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETPERSIST = 0x400454cbL;
    static final long TUNSETOWNER = 0x400454ccL;
    static final long TUNSETGROUP = 0x400454ceL;
    static final long TUNGETFEATURES = 0x800454cfL;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    static final long TUNSETVNETLE = 0x400454dcL;

    static final int IFF_TUN = 0x0001;
    static final int IFF_TAP = 0x0002;
    static final int IFF_MULTI_QUEUE = 0x0100;
    static final int IFF_NO_PI = 0x1000;
    static final int IFF_VNET_HDR = 0x4000;
    static final int IFF_TUN_EXCL = 0x8000;

    static final int TUN_F_CSUM = 0x01;
    static final int TUN_F_TSO4 = 0x02;
    static final int TUN_F_TSO6 = 0x04;
    static final int TUN_F_TSO_ECN = 0x08;
    /** What the channels ask for with offloads on: checksum offload and TSO for IPv4 and IPv6, with ECN. */
    static final int OFFLOADS = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

    private static final int IFREQ_SIZE = 40;
    private static final int IFNAMSIZ = 16;

    private TunDevice() {
    }

    /** Throws {@link TunTapException} ({@code NOT_LINUX}) unless the FFM bindings work here. */
    static void ensurePlatform() {
        Throwable why = LibC.unavailabilityCause();
        if (why != null) {
            throw notLinux(why);
        }
    }

    static TunTapException notLinux(Throwable why) {
        String text = String.valueOf(why.getMessage());
        String hint = text.toLowerCase(java.util.Locale.ROOT).contains("mac")
                ? " (macOS utun devices are not supported yet)" : "";
        return new TunTapException(TunTapException.Reason.NOT_LINUX, why.getMessage() + hint, why);
    }

    /** Opens {@code path} read/write, non-blocking, close-on-exec, in {@code ns} (the caller's if null). */
    static int open(String path, NetNamespace ns) {
        ensurePlatform();
        int fd;
        if (ns == null) {
            fd = LibC.open(path, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        } else {
            try {
                fd = ns.call(() -> LibC.open(path, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC));
            } catch (RuntimeException e) {
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TunTapException(TunTapException.Reason.SYSTEM_ERROR,
                        "interrupted while opening " + path + " in " + ns, e);
            } catch (Exception e) {
                throw new TunTapException(TunTapException.Reason.SYSTEM_ERROR, "opening " + path + " in " + ns
                        + " failed: " + e, e);
            }
        }
        if (fd >= 0) {
            return fd;
        }
        int e = -fd;
        switch (e) {
            case Errno.ENOENT -> throw new TunTapException(TunTapException.Reason.NO_TUN_DEVICE,
                    path + " does not exist: load the tun module (modprobe tun), or give the container the "
                            + "device (mknod " + path + " c 10 200)", e);
            case Errno.ENXIO, Errno.ENODEV -> throw new TunTapException(TunTapException.Reason.NO_TUN_DEVICE,
                    path + " has no driver behind it (" + Errno.name(e) + "): load the tun module "
                            + "(modprobe tun)", e);
            case Errno.EACCES, Errno.EPERM -> throw new TunTapException(TunTapException.Reason.PERMISSION_DENIED,
                    "cannot open " + path + ": " + Errno.name(e) + "; the process needs read/write access "
                            + "to it (and CAP_NET_ADMIN to create devices)", e);
            default -> throw new TunTapException(TunTapException.Reason.SYSTEM_ERROR,
                    "cannot open " + path + ": " + Errno.name(e), e);
        }
    }

    /**
     * {@code TUNSETIFF}: creates or attaches the device {@code name} (empty: the kernel picks a name) with
     * {@code flags}; returns the device's actual name. {@code exists} is asked, only on an ambiguous failure,
     * whether an interface of that name exists.
     */
    static String setIff(int fd, String name, int flags, java.util.function.Predicate<String> exists) {
        boolean tap = (flags & IFF_TAP) != 0;
        String kind = tap ? "TAP" : "TUN";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = arena.allocate(IFREQ_SIZE);
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
            ifr.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, (short) flags);
            int r = LibC.ioctl(fd, TUNSETIFF, ifr);
            if (r >= 0) {
                byte[] out = new byte[IFNAMSIZ];
                MemorySegment.copy(ifr, ValueLayout.JAVA_BYTE, 0, out, 0, IFNAMSIZ);
                int len = 0;
                while (len < IFNAMSIZ && out[len] != 0) {
                    len++;
                }
                return new String(out, 0, len, StandardCharsets.UTF_8);
            }
            int e = -r;
            String dev = name.isEmpty() ? "a new " + kind + " device" : kind + " device " + name;
            switch (e) {
                case Errno.EPERM, Errno.EACCES -> throw new TunTapException(TunTapException.Reason.PERMISSION_DENIED,
                        "creating or attaching " + dev + " needs CAP_NET_ADMIN (or, for a persistent device, "
                                + "being its owner or group): " + Errno.name(e), e);
                case Errno.EBUSY -> throw new TunTapException(TunTapException.Reason.NAME_IN_USE,
                        (flags & IFF_TUN_EXCL) != 0
                                ? "name in use: an interface named " + name + " already exists"
                                : "name in use: " + name + " is a TUN/TAP device another file descriptor is "
                                + "attached to (set MULTI_QUEUE on every channel to share one device)", e);
                case Errno.EINVAL -> {
                    if (!name.isEmpty() && exists.test(name)) {
                        throw new TunTapException(TunTapException.Reason.NAME_IN_USE,
                                "name in use: an interface named " + name + " exists but is not a " + kind
                                        + " device with multi-queue " + ((flags & IFF_MULTI_QUEUE) != 0 ? "on"
                                        : "off") + " (" + Errno.name(e) + ")", e);
                    }
                    throw new TunTapException(TunTapException.Reason.UNSUPPORTED,
                            "the kernel refused the flags 0x" + Integer.toHexString(flags) + " for " + dev + ": "
                                    + Errno.name(e), e);
                }
                case Errno.EBADFD -> throw new TunTapException(TunTapException.Reason.SYSTEM_ERROR,
                        "this file descriptor is already attached to a device: " + Errno.name(e), e);
                default -> throw new TunTapException(TunTapException.Reason.SYSTEM_ERROR,
                        "TUNSETIFF for " + dev + " failed: " + Errno.name(e), e);
            }
        }
    }

    /** The {@code IFF_*} flags this kernel's TUN/TAP driver supports ({@code TUNGETFEATURES}), or 0. */
    static int features(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            int r = LibC.ioctl(fd, TUNGETFEATURES, v);
            return r < 0 ? 0 : v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Switches on offloads with a {@value dev.pktkit.tuntap.vnet.VirtioNetHeader#LENGTH}-byte header. */
    static void enableOffloads(int fd, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(ValueLayout.JAVA_INT, dev.pktkit.tuntap.vnet.VirtioNetHeader.LENGTH);
            check(LibC.ioctl(fd, TUNSETVNETHDRSZ, v), "TUNSETVNETHDRSZ", name);
            if (ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN) {
                MemorySegment le = arena.allocateFrom(ValueLayout.JAVA_INT, 1);
                check(LibC.ioctl(fd, TUNSETVNETLE, le), "TUNSETVNETLE", name);
            }
        }
        check(LibC.ioctl(fd, TUNSETOFFLOAD, OFFLOADS), "TUNSETOFFLOAD", name);
    }

    static void setPersist(int fd, boolean persist, String name) {
        check(LibC.ioctl(fd, TUNSETPERSIST, persist ? 1 : 0), "TUNSETPERSIST", name);
    }

    static void setOwner(int fd, int uid, String name) {
        check(LibC.ioctl(fd, TUNSETOWNER, uid), "TUNSETOWNER", name);
    }

    static void setGroup(int fd, int gid, String name) {
        check(LibC.ioctl(fd, TUNSETGROUP, gid), "TUNSETGROUP", name);
    }

    private static void check(int r, String what, String name) {
        if (r >= 0) {
            return;
        }
        int e = -r;
        TunTapException.Reason reason = switch (e) {
            case Errno.EPERM, Errno.EACCES -> TunTapException.Reason.PERMISSION_DENIED;
            case Errno.EINVAL, Errno.ENOTTY, Errno.EOPNOTSUPP -> TunTapException.Reason.UNSUPPORTED;
            default -> TunTapException.Reason.SYSTEM_ERROR;
        };
        throw new TunTapException(reason, what + " on " + name + " failed: " + Errno.name(e), e);
    }
}
