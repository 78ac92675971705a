package dev.pktkit.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The AF_XDP socket ABI ({@code include/uapi/linux/if_xdp.h}): constants, the socket options that register a
 * UMEM and size its rings, the ring offsets for {@code mmap}, {@code bind} to a device queue, statistics, and the
 * two wake-up calls a data path makes ({@link Waker}).
 *
 * <p>Setup calls follow {@link LibC}'s convention (a result or {@code -errno}, never a throw for a failed call)
 * and allocate a confined arena each; {@link Waker} allocates nothing per call and is for an event loop.
 */
@SuppressWarnings("restricted")
public final class Xsk {
    /** {@code AF_XDP}. */
    public static final int AF_XDP = 44;
    /** {@code SOL_XDP}. */
    public static final int SOL_XDP = 283;

    /** {@code XDP_MMAP_OFFSETS}. */
    public static final int XDP_MMAP_OFFSETS = 1;
    /** {@code XDP_RX_RING}. */
    public static final int XDP_RX_RING = 2;
    /** {@code XDP_TX_RING}. */
    public static final int XDP_TX_RING = 3;
    /** {@code XDP_UMEM_REG}. */
    public static final int XDP_UMEM_REG = 4;
    /** {@code XDP_UMEM_FILL_RING}. */
    public static final int XDP_UMEM_FILL_RING = 5;
    /** {@code XDP_UMEM_COMPLETION_RING}. */
    public static final int XDP_UMEM_COMPLETION_RING = 6;
    /** {@code XDP_STATISTICS}. */
    public static final int XDP_STATISTICS = 7;
    /** {@code XDP_OPTIONS}. */
    public static final int XDP_OPTIONS = 8;
    /** {@code XDP_OPTIONS_ZEROCOPY}: set in {@link #options} when the bind is zero-copy. */
    public static final int XDP_OPTIONS_ZEROCOPY = 1;

    /** Bind flag {@code XDP_SHARED_UMEM}: use the UMEM of the socket in {@code sxdp_shared_umem_fd}. */
    public static final int XDP_SHARED_UMEM = 1;
    /** Bind flag {@code XDP_COPY}: force copy mode. */
    public static final int XDP_COPY = 2;
    /** Bind flag {@code XDP_ZEROCOPY}: require zero-copy (fails if the driver cannot). */
    public static final int XDP_ZEROCOPY = 4;
    /** Bind flag {@code XDP_USE_NEED_WAKEUP}: the kernel says through the rings' flags when it needs a syscall. */
    public static final int XDP_USE_NEED_WAKEUP = 8;

    /** {@code XDP_RING_NEED_WAKEUP} in a ring's flags word. */
    public static final int XDP_RING_NEED_WAKEUP = 1;

    /** {@code mmap} offset of the RX ring. */
    public static final long XDP_PGOFF_RX_RING = 0;
    /** {@code mmap} offset of the TX ring. */
    public static final long XDP_PGOFF_TX_RING = 0x80000000L;
    /** {@code mmap} offset of the fill ring. */
    public static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    /** {@code mmap} offset of the completion ring. */
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** {@code XDP_PACKET_HEADROOM}: what the kernel keeps in front of a received frame in copy mode. */
    public static final int XDP_PACKET_HEADROOM = 256;
    /** Size of a {@code struct xdp_desc} (addr, len, options). */
    public static final int DESC_SIZE = 16;

    /** {@code MSG_DONTWAIT}. */
    public static final int MSG_DONTWAIT = 0x40;

    private static final MethodHandle SENDTO;
    private static final MethodHandle RECVFROM;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;

    static {
        MethodHandle sendto = null;
        MethodHandle recvfrom = null;
        StructLayout capture = null;
        VarHandle errno = null;
        if (LibC.isAvailable()) {
            Linker linker = Linker.nativeLinker();
            capture = Linker.Option.captureStateLayout();
            errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            Linker.Option keep = Linker.Option.captureCallState("errno");
            sendto = linker.downcallHandle(linker.defaultLookup().find("sendto").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), keep);
            recvfrom = linker.downcallHandle(linker.defaultLookup().find("recvfrom").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS), keep);
        }
        SENDTO = sendto;
        RECVFROM = recvfrom;
        CAPTURE = capture;
        ERRNO = errno;
    }

    private Xsk() {
    }

    /**
     * Where the kernel put one ring's words inside its mapping ({@code struct xdp_ring_offset}).
     *
     * @param producer offset of the producer index (u32)
     * @param consumer offset of the consumer index (u32)
     * @param desc     offset of the first entry
     * @param flags    offset of the flags word (u32)
     */
    public record RingOffsets(long producer, long consumer, long desc, long flags) {
    }

    /** The four rings' offsets ({@code struct xdp_mmap_offsets}). */
    public record MmapOffsets(RingOffsets rx, RingOffsets tx, RingOffsets fill, RingOffsets completion) {
    }

    /** {@code socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)}: a descriptor or {@code -errno}. */
    public static int socket() {
        return LibC.socket(AF_XDP, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0);
    }

    /**
     * {@code XDP_UMEM_REG}: registers {@code length} bytes at {@code address} as the socket's UMEM, in chunks of
     * {@code chunkSize} bytes (aligned mode) with {@code headroom} bytes reserved in front of each frame.
     */
    public static int registerUmem(int fd, long address, long length, int chunkSize, int headroom) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment reg = arena.allocate(32, 8); // struct xdp_umem_reg with tx_metadata_len
            reg.set(JAVA_LONG, 0, address);
            reg.set(JAVA_LONG, 8, length);
            reg.set(JAVA_INT, 16, chunkSize);
            reg.set(JAVA_INT, 20, headroom);
            return LibC.setsockopt(fd, SOL_XDP, XDP_UMEM_REG, reg);
        }
    }

    /** Sets the entry count of a ring ({@code XDP_RX_RING}, ...; a power of two): 0 or {@code -errno}. */
    public static int setRingSize(int fd, int ring, int entries) {
        try (Arena arena = Arena.ofConfined()) {
            return LibC.setsockopt(fd, SOL_XDP, ring, arena.allocateFrom(JAVA_INT, entries));
        }
    }

    /** {@code XDP_MMAP_OFFSETS}; throws a {@link LinuxException} on failure. */
    public static MmapOffsets mmapOffsets(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment off = arena.allocate(128, 8);
            int r = LibC.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, off);
            LinuxException.check(r, "getsockopt(XDP_MMAP_OFFSETS)");
            if (r < 128) {
                throw new LinuxException(LinuxException.Reason.UNSUPPORTED,
                        "this kernel's XDP_MMAP_OFFSETS has no flags words (" + r + " bytes): Linux 5.4+ needed",
                        null);
            }
            return new MmapOffsets(ring(off, 0), ring(off, 32), ring(off, 64), ring(off, 96));
        }
    }

    private static RingOffsets ring(MemorySegment s, long at) {
        return new RingOffsets(s.get(JAVA_LONG, at), s.get(JAVA_LONG, at + 8), s.get(JAVA_LONG, at + 16),
                s.get(JAVA_LONG, at + 24));
    }

    /**
     * {@code bind} to queue {@code queue} of interface {@code ifindex} with {@code flags} ({@code XDP_COPY},
     * {@code XDP_ZEROCOPY}, {@code XDP_USE_NEED_WAKEUP}, {@code XDP_SHARED_UMEM} with {@code sharedUmemFd}):
     * 0 or {@code -errno}.
     */
    public static int bind(int fd, int ifindex, int queue, int flags, int sharedUmemFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(16, 4); // struct sockaddr_xdp
            sa.set(JAVA_SHORT, 0, (short) AF_XDP);
            sa.set(JAVA_SHORT, 2, (short) flags);
            sa.set(JAVA_INT, 4, ifindex);
            sa.set(JAVA_INT, 8, queue);
            sa.set(JAVA_INT, 12, (flags & XDP_SHARED_UMEM) != 0 ? sharedUmemFd : 0);
            return LibC.bind(fd, sa);
        }
    }

    /** {@code XDP_OPTIONS}: the option bits ({@link #XDP_OPTIONS_ZEROCOPY}), or {@code -errno}. */
    public static int options(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            int r = LibC.getsockopt(fd, SOL_XDP, XDP_OPTIONS, v);
            return r < 0 ? r : v.get(JAVA_INT, 0);
        }
    }

    /**
     * The kernel's counters for one socket ({@code struct xdp_statistics}).
     *
     * @param rxDropped            frames dropped for other reasons (too big for a chunk, ...)
     * @param rxInvalidDescs       invalid descriptors on the fill ring
     * @param txInvalidDescs       invalid descriptors on the TX ring
     * @param rxRingFull           frames dropped because the RX ring was full
     * @param rxFillRingEmptyDescs times the fill ring was found empty
     * @param txRingEmptyDescs     times the TX ring was found empty when woken
     */
    public record Statistics(long rxDropped, long rxInvalidDescs, long txInvalidDescs, long rxRingFull,
                             long rxFillRingEmptyDescs, long txRingEmptyDescs) {
    }

    /** {@code XDP_STATISTICS}; throws a {@link LinuxException} on failure. */
    public static Statistics statistics(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(48, 8);
            int r = LibC.getsockopt(fd, SOL_XDP, XDP_STATISTICS, s);
            LinuxException.check(r, "getsockopt(XDP_STATISTICS)");
            return new Statistics(s.get(JAVA_LONG, 0), s.get(JAVA_LONG, 8), s.get(JAVA_LONG, 16),
                    r >= 48 ? s.get(JAVA_LONG, 24) : 0, r >= 48 ? s.get(JAVA_LONG, 32) : 0,
                    r >= 48 ? s.get(JAVA_LONG, 40) : 0);
        }
    }

    /**
     * The two system calls an AF_XDP data path makes, with the captured {@code errno} in a slot of its own so that
     * a call allocates nothing: {@link #wakeTx} ({@code sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0)}, which in
     * copy mode is what transmits the TX ring) and {@link #wakeRx} ({@code recvfrom} with no buffer, which asks a
     * zero-copy driver to refill from the fill ring). Confined to one thread (an event loop).
     */
    public static final class Waker {
        private final MemorySegment state;

        /** A waker whose errno slot lives in {@code arena}. */
        public Waker(Arena arena) {
            LibC.ensureAvailable();
            state = arena.allocate(CAPTURE);
        }

        /** Kicks transmission: 0, or {@code -errno} ({@code -EAGAIN}/{@code -EBUSY}/{@code -ENOBUFS}: try later). */
        public int wakeTx(int fd) {
            try {
                long r = (long) SENDTO.invokeExact(state, fd, MemorySegment.NULL, 0L, MSG_DONTWAIT,
                        MemorySegment.NULL, 0);
                return r < 0 ? -(int) ERRNO.get(state, 0L) : 0;
            } catch (Throwable t) {
                throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
            }
        }

        /** Asks the driver to take fill-ring entries: 0, or {@code -errno}. */
        public int wakeRx(int fd) {
            try {
                long r = (long) RECVFROM.invokeExact(state, fd, MemorySegment.NULL, 0L, MSG_DONTWAIT,
                        MemorySegment.NULL, MemorySegment.NULL);
                return r < 0 ? -(int) ERRNO.get(state, 0L) : 0;
            } catch (Throwable t) {
                throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
            }
        }
    }
}
