package dev.pktkit.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@code bpf(2)} system call (there is no C library wrapper: it goes through {@code syscall(2)}), with the
 * commands an XDP user needs: maps ({@code BPF_MAP_CREATE}, update, lookup, delete, by id), programs
 * ({@code BPF_PROG_LOAD} with the verifier's log on failure), links ({@code BPF_LINK_CREATE}), pinned objects
 * ({@code BPF_OBJ_GET}) and object info ({@code BPF_OBJ_GET_INFO_BY_FD}).
 *
 * <p>The {@code union bpf_attr} layouts are those of {@code include/uapi/linux/bpf.h}; each call zeroes the
 * attribute block (the kernel rejects non-zero bytes past the fields a command knows). Results follow
 * {@link LibC}'s convention: a descriptor or 0, or the negated {@code errno}; nothing throws for a failed call.
 * For setup, not for a data path (each call allocates a confined arena). Thread-safe.
 *
 * <p>Linux x86-64, arm64 and riscv64 (their system call numbers for {@code bpf}).
 */
@SuppressWarnings("restricted")
public final class Bpf {
    /** {@code BPF_MAP_CREATE}. */
    public static final int BPF_MAP_CREATE = 0;
    /** {@code BPF_MAP_LOOKUP_ELEM}. */
    public static final int BPF_MAP_LOOKUP_ELEM = 1;
    /** {@code BPF_MAP_UPDATE_ELEM}. */
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    /** {@code BPF_MAP_DELETE_ELEM}. */
    public static final int BPF_MAP_DELETE_ELEM = 3;
    /** {@code BPF_PROG_LOAD}. */
    public static final int BPF_PROG_LOAD = 5;
    /** {@code BPF_OBJ_GET}: open a pinned object. */
    public static final int BPF_OBJ_GET = 7;
    /** {@code BPF_OBJ_PIN}: pin an object at a path in a bpffs. */
    public static final int BPF_OBJ_PIN = 6;
    /**
     * {@code BPF_OBJ_PIN}: pins the object behind {@code fd} (a map, program or link) at {@code path}, which must
     * lie in a mounted bpffs and not exist yet: 0, or {@code -errno}. The pin keeps the object alive until the
     * file is unlinked.
     */
    public static int objPin(int fd, String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            MemorySegment p = arena.allocateFrom(path);
            a.set(JAVA_LONG, 0, p.address());
            a.set(JAVA_INT, 8, fd);
            return (int) bpf(BPF_OBJ_PIN, a);
        }
    }

    /** {@code BPF_MAP_GET_FD_BY_ID}. */
    public static final int BPF_MAP_GET_FD_BY_ID = 14;
    /** {@code BPF_OBJ_GET_INFO_BY_FD}. */
    public static final int BPF_OBJ_GET_INFO_BY_FD = 15;
    /** {@code BPF_LINK_CREATE}. */
    public static final int BPF_LINK_CREATE = 28;

    /** {@code BPF_MAP_TYPE_XSKMAP}: queue index → AF_XDP socket. */
    public static final int BPF_MAP_TYPE_XSKMAP = 17;
    /** {@code BPF_PROG_TYPE_XDP}. */
    public static final int BPF_PROG_TYPE_XDP = 6;
    /** {@code BPF_XDP}: the attach type of an XDP link. */
    public static final int BPF_XDP = 37;

    /** {@code XDP_FLAGS_UPDATE_IF_NOEXIST}. */
    public static final int XDP_FLAGS_UPDATE_IF_NOEXIST = 1;
    /** {@code XDP_FLAGS_SKB_MODE}: generic XDP, after the kernel built an skb (any device). */
    public static final int XDP_FLAGS_SKB_MODE = 2;
    /** {@code XDP_FLAGS_DRV_MODE}: native XDP in the driver (veth has it). */
    public static final int XDP_FLAGS_DRV_MODE = 4;
    /** {@code XDP_FLAGS_HW_MODE}: offloaded to the NIC. */
    public static final int XDP_FLAGS_HW_MODE = 8;

    /** {@code BPF_ANY} for {@link #mapUpdate}: create or replace. */
    public static final long BPF_ANY = 0;

    /** Size of the {@code union bpf_attr} block passed (the kernel accepts a shorter one than its own). */
    static final int ATTR_SIZE = 128;
    /** Bytes of verifier log kept when a load fails. */
    public static final int LOG_SIZE = 64 * 1024;

    private static final MethodHandle SYSCALL;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;
    private static final long NR_BPF;

    static {
        MethodHandle syscall = null;
        StructLayout capture = null;
        VarHandle errno = null;
        long nr = -1;
        if (LibC.isAvailable()) {
            String arch = System.getProperty("os.arch", "");
            nr = switch (arch) {
                case "amd64", "x86_64" -> 321;
                case "aarch64", "riscv64" -> 280;
                default -> -1;
            };
            Linker linker = Linker.nativeLinker();
            capture = Linker.Option.captureStateLayout();
            errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            syscall = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                    Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
        }
        SYSCALL = syscall;
        CAPTURE = capture;
        ERRNO = errno;
        NR_BPF = nr;
    }

    private Bpf() {
    }

    /** Why {@code bpf(2)} cannot be called here, or null if it can. */
    public static String unavailabilityReason() {
        if (!LibC.isAvailable()) {
            return LibC.unavailabilityCause().getMessage();
        }
        if (NR_BPF < 0) {
            return "no bpf(2) system call number known for " + System.getProperty("os.arch");
        }
        return null;
    }

    private static void ensureAvailable() {
        String why = unavailabilityReason();
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
    }

    /**
     * {@code bpf(cmd, attr, attr.byteSize())}: the kernel's result (a descriptor, 0, ...), or {@code -errno}.
     * {@code attr} must live in native memory.
     */
    public static long bpf(int cmd, MemorySegment attr) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CAPTURE);
            long r = (long) SYSCALL.invokeExact(st, NR_BPF, (long) cmd, attr.address(), attr.byteSize());
            return r < 0 ? -(int) ERRNO.get(st, 0L) : r;
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    private static MemorySegment attr(Arena arena) {
        return arena.allocate(ATTR_SIZE, 8); // zeroed
    }

    private static void name(MemorySegment attr, long offset, String name) {
        if (name == null) {
            return;
        }
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        int n = Math.min(b.length, 15); // BPF_OBJ_NAME_LEN 16, NUL-terminated
        MemorySegment.copy(b, 0, attr, JAVA_BYTE, offset, n);
    }

    /**
     * {@code BPF_MAP_CREATE}: a new map's descriptor, or {@code -errno}.
     *
     * @param name up to 15 ASCII characters (letters, digits, '_', '.'), or null
     */
    public static int mapCreate(int type, int keySize, int valueSize, int maxEntries, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            a.set(JAVA_INT, 0, type);
            a.set(JAVA_INT, 4, keySize);
            a.set(JAVA_INT, 8, valueSize);
            a.set(JAVA_INT, 12, maxEntries);
            name(a, 28, name);
            return (int) bpf(BPF_MAP_CREATE, a);
        }
    }

    /** {@code BPF_MAP_UPDATE_ELEM} with 4-byte key and value (XSKMAP, DEVMAP, ARRAY of int): 0 or {@code -errno}. */
    public static int mapUpdate(int mapFd, int key, int value, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            MemorySegment k = arena.allocateFrom(JAVA_INT, key);
            MemorySegment v = arena.allocateFrom(JAVA_INT, value);
            a.set(JAVA_INT, 0, mapFd);
            a.set(JAVA_LONG, 8, k.address());
            a.set(JAVA_LONG, 16, v.address());
            a.set(JAVA_LONG, 24, flags);
            return (int) bpf(BPF_MAP_UPDATE_ELEM, a);
        }
    }

    /** {@code BPF_MAP_DELETE_ELEM} with a 4-byte key: 0 or {@code -errno} ({@code -ENOENT} if absent). */
    public static int mapDelete(int mapFd, int key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            MemorySegment k = arena.allocateFrom(JAVA_INT, key);
            a.set(JAVA_INT, 0, mapFd);
            a.set(JAVA_LONG, 8, k.address());
            return (int) bpf(BPF_MAP_DELETE_ELEM, a);
        }
    }

    /**
     * {@code BPF_MAP_LOOKUP_ELEM} with a 4-byte key and value: the value (non-negative, as an unsigned int in a
     * long), or {@code -errno} ({@code -ENOENT} if absent; an XSKMAP does not support lookups from user space and
     * answers {@code -EOPNOTSUPP}).
     */
    public static long mapLookup(int mapFd, int key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            MemorySegment k = arena.allocateFrom(JAVA_INT, key);
            MemorySegment v = arena.allocate(JAVA_INT);
            a.set(JAVA_INT, 0, mapFd);
            a.set(JAVA_LONG, 8, k.address());
            a.set(JAVA_LONG, 16, v.address());
            long r = bpf(BPF_MAP_LOOKUP_ELEM, a);
            return r < 0 ? r : Integer.toUnsignedLong(v.get(JAVA_INT, 0));
        }
    }

    /** A program that did not load, with the verifier's log. */
    public record LoadResult(int fd, String log) {
        /** Whether the program loaded ({@link #fd()} is its descriptor). */
        public boolean ok() {
            return fd >= 0;
        }
    }

    /**
     * {@code BPF_PROG_LOAD} of {@code insns} (8 bytes per instruction, in the host's byte order): the program's
     * descriptor, or {@code -errno} with the verifier's log (on failure the load is repeated with the log on, so
     * that a successful load pays nothing for it).
     */
    public static LoadResult progLoad(int type, int expectedAttachType, MemorySegment insns, String license,
                                      String name) {
        if (insns.byteSize() % 8 != 0) {
            throw new IllegalArgumentException("eBPF instructions are 8 bytes each");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lic = arena.allocateFrom(license);
            MemorySegment code = arena.allocate(insns.byteSize(), 8);
            code.copyFrom(insns);
            MemorySegment a = progAttr(arena, type, expectedAttachType, code, lic, name);
            long fd = bpf(BPF_PROG_LOAD, a);
            if (fd >= 0) {
                return new LoadResult((int) fd, "");
            }
            MemorySegment log = arena.allocate(LOG_SIZE);
            a = progAttr(arena, type, expectedAttachType, code, lic, name);
            a.set(JAVA_INT, 24, 1); // log_level
            a.set(JAVA_INT, 28, LOG_SIZE);
            a.set(JAVA_LONG, 32, log.address());
            long again = bpf(BPF_PROG_LOAD, a);
            if (again >= 0) { // loaded the second time (should not happen): keep it
                return new LoadResult((int) again, "");
            }
            return new LoadResult((int) fd, log.getString(0, StandardCharsets.US_ASCII).strip());
        }
    }

    private static MemorySegment progAttr(Arena arena, int type, int expectedAttachType, MemorySegment code,
                                          MemorySegment license, String name) {
        MemorySegment a = attr(arena);
        a.set(JAVA_INT, 0, type);
        a.set(JAVA_INT, 4, (int) (code.byteSize() / 8));
        a.set(JAVA_LONG, 8, code.address());
        a.set(JAVA_LONG, 16, license.address());
        name(a, 48, name);
        a.set(JAVA_INT, 68, expectedAttachType);
        return a;
    }

    /**
     * {@code BPF_LINK_CREATE}: attaches {@code progFd} to the interface {@code ifindex} with {@code attachType}
     * ({@link #BPF_XDP}) and {@code flags} ({@code XDP_FLAGS_*}); the link's descriptor, or {@code -errno}. The
     * program stays attached while the link's descriptor is open (or pinned): a process that dies detaches it.
     */
    public static int linkCreate(int progFd, int ifindex, int attachType, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            a.set(JAVA_INT, 0, progFd);
            a.set(JAVA_INT, 4, ifindex);
            a.set(JAVA_INT, 8, attachType);
            a.set(JAVA_INT, 12, flags);
            return (int) bpf(BPF_LINK_CREATE, a);
        }
    }

    /** {@code BPF_OBJ_GET}: opens the object pinned at {@code path} (in a bpffs): a descriptor, or {@code -errno}. */
    public static int objGet(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            MemorySegment p = arena.allocateFrom(path);
            a.set(JAVA_LONG, 0, p.address());
            return (int) bpf(BPF_OBJ_GET, a);
        }
    }

    /** {@code BPF_MAP_GET_FD_BY_ID}: a descriptor for the map with kernel id {@code id}, or {@code -errno}. */
    public static int mapGetFdById(int id) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = attr(arena);
            a.set(JAVA_INT, 0, id);
            return (int) bpf(BPF_MAP_GET_FD_BY_ID, a);
        }
    }

    /**
     * What {@code BPF_OBJ_GET_INFO_BY_FD} says about a map ({@code struct bpf_map_info}'s first fields).
     *
     * @param type       {@code BPF_MAP_TYPE_*}
     * @param id         the kernel's id of the map
     * @param keySize    bytes per key
     * @param valueSize  bytes per value
     * @param maxEntries the map's capacity
     * @param name       the map's name (may be empty)
     */
    public record MapInfo(int type, int id, int keySize, int valueSize, int maxEntries, String name) {
    }

    /** {@code BPF_OBJ_GET_INFO_BY_FD} for a map descriptor; throws a {@link LinuxException} on failure. */
    public static MapInfo mapInfo(int mapFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(88, 8); // struct bpf_map_info up to map_extra
            MemorySegment a = attr(arena);
            a.set(JAVA_INT, 0, mapFd);
            a.set(JAVA_INT, 4, (int) info.byteSize());
            a.set(JAVA_LONG, 8, info.address());
            LinuxException.check(bpf(BPF_OBJ_GET_INFO_BY_FD, a), "BPF_OBJ_GET_INFO_BY_FD on a map");
            return new MapInfo(info.get(JAVA_INT, 0), info.get(JAVA_INT, 4), info.get(JAVA_INT, 8),
                    info.get(JAVA_INT, 12), info.get(JAVA_INT, 16),
                    info.asSlice(24, 16).getString(0, StandardCharsets.US_ASCII));
        }
    }

    /** The kernel id of the program behind {@code progFd} ({@code struct bpf_prog_info.id}). */
    public static int progId(int progFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(64, 8);
            MemorySegment a = attr(arena);
            a.set(JAVA_INT, 0, progFd);
            a.set(JAVA_INT, 4, (int) info.byteSize());
            a.set(JAVA_LONG, 8, info.address());
            LinuxException.check(bpf(BPF_OBJ_GET_INFO_BY_FD, a), "BPF_OBJ_GET_INFO_BY_FD on a program");
            return info.get(JAVA_INT, 4);
        }
    }
}
