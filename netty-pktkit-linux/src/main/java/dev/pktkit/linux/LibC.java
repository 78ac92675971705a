package dev.pktkit.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C library calls the native transports make for setup, bound through the Foreign Function &amp; Memory API:
 * files, ioctls, sockets and their options, namespaces, memory mappings.
 *
 * <p>Every call returns what the kernel returns, with failures as the negated {@code errno} (so {@code -1} is
 * {@code -EPERM}, as inside the kernel; names in {@link Errno}), and never throws for a failed call;
 * {@link LinuxException#check(long, String)} turns a failure into an exception. The calls allocate in a confined
 * arena (the captured {@code errno} lives there) and are meant for setup and control traffic: a data path should
 * read and write through Netty's {@code FileDescriptor} (JNI, no allocation) or io_uring instead.
 *
 * <p>Linux on a 64-bit ABI only (an ioctl's integer argument travels as a {@code long}). Elsewhere
 * {@link #unavailabilityCause()} says why, and every call throws an {@link UnsupportedOperationException} with it.
 * Thread-safe: nothing is shared between calls.
 */
@SuppressWarnings("restricted") // binding C functions is this class's purpose
public final class LibC {
    /** Linux's {@code O_RDONLY}. */
    public static final int O_RDONLY = 0;
    /** Linux's {@code O_RDWR}. */
    public static final int O_RDWR = 2;
    /** Linux's {@code O_NONBLOCK} (generic value; x86, arm64, riscv). */
    public static final int O_NONBLOCK = 0x800;
    /** Linux's {@code O_CLOEXEC} (generic value). */
    public static final int O_CLOEXEC = 0x80000;

    /** {@code PROT_READ} for {@link #mmap}. */
    public static final int PROT_READ = 0x1;
    /** {@code PROT_WRITE} for {@link #mmap}. */
    public static final int PROT_WRITE = 0x2;
    /** {@code MAP_SHARED} for {@link #mmap}. */
    public static final int MAP_SHARED = 0x01;
    /** {@code MAP_PRIVATE} for {@link #mmap}. */
    public static final int MAP_PRIVATE = 0x02;
    /** {@code MAP_ANONYMOUS} for {@link #mmap} (fd -1). */
    public static final int MAP_ANONYMOUS = 0x20;
    /** {@code MAP_POPULATE} for {@link #mmap}: fault the pages in at once (AF_XDP rings and UMEM). */
    public static final int MAP_POPULATE = 0x8000;

    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int AF_NETLINK = 16;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_SNDTIMEO = 21;
    public static final int SO_RCVTIMEO = 20;
    public static final int SO_RCVBUF = 8;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int CLONE_NEWNET = 0x40000000;
    public static final int IPPROTO_ICMP = 1;
    public static final int IPPROTO_ICMPV6 = 58;


    private static final Linker LINKER;
    private static final StructLayout CAPTURE_LAYOUT;
    private static final VarHandle ERRNO;
    private static final Throwable UNAVAILABILITY;

    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle IOCTL_PTR;
    private static final MethodHandle IOCTL_LONG;
    private static final MethodHandle SOCKET;
    private static final MethodHandle BIND;
    private static final MethodHandle SENDTO;
    private static final MethodHandle RECV;
    private static final MethodHandle SETSOCKOPT;
    private static final MethodHandle GETSOCKNAME;
    private static final MethodHandle SETNS;
    private static final MethodHandle GETSOCKOPT;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;

    static {
        Linker linker = null;
        StructLayout capture = null;
        VarHandle errno = null;
        Throwable why = null;
        MethodHandle open = null;
        MethodHandle close = null;
        MethodHandle ioctlPtr = null;
        MethodHandle ioctlLong = null;
        MethodHandle socket = null;
        MethodHandle bind = null;
        MethodHandle sendto = null;
        MethodHandle recv = null;
        MethodHandle setsockopt = null;
        MethodHandle getsockname = null;
        MethodHandle setns = null;
        MethodHandle getsockopt = null;
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        try {
            String problem = platformProblem(System.getProperty("os.name", ""), ADDRESS.byteSize());
            if (problem != null) {
                throw new UnsupportedOperationException(problem);
            }
            linker = Linker.nativeLinker();
            capture = Linker.Option.captureStateLayout();
            errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option keepErrno = Linker.Option.captureCallState("errno");
            open = linker.downcallHandle(libc.find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                    keepErrno, Linker.Option.firstVariadicArg(2));
            close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT), keepErrno);
            ioctlPtr = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                    keepErrno, Linker.Option.firstVariadicArg(2));
            ioctlLong = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
                    keepErrno, Linker.Option.firstVariadicArg(2));
            socket = linker.downcallHandle(libc.find("socket").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), keepErrno);
            bind = linker.downcallHandle(libc.find("bind").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), keepErrno);
            sendto = linker.downcallHandle(libc.find("sendto").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
                    keepErrno);
            recv = linker.downcallHandle(libc.find("recv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), keepErrno);
            setsockopt = linker.downcallHandle(libc.find("setsockopt").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), keepErrno);
            getsockname = linker.downcallHandle(libc.find("getsockname").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), keepErrno);
            setns = linker.downcallHandle(libc.find("setns").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), keepErrno);
            getsockopt = linker.downcallHandle(libc.find("getsockopt").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), keepErrno);
            mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
                    keepErrno);
            munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), keepErrno);
        } catch (Throwable t) {
            why = t instanceof UnsupportedOperationException ? t
                    : new UnsupportedOperationException("the C library could not be bound through FFM: " + t, t);
        }
        LINKER = linker;
        CAPTURE_LAYOUT = capture;
        ERRNO = errno;
        UNAVAILABILITY = why;
        OPEN = open;
        CLOSE = close;
        IOCTL_PTR = ioctlPtr;
        IOCTL_LONG = ioctlLong;
        SOCKET = socket;
        BIND = bind;
        SENDTO = sendto;
        RECV = recv;
        SETSOCKOPT = setsockopt;
        GETSOCKNAME = getsockname;
        SETNS = setns;
        GETSOCKOPT = getsockopt;
        MMAP = mmap;
        MUNMAP = munmap;
    }

    private LibC() {
    }

    /**
     * Why these bindings cannot work on {@code osName} with {@code pointerSize}-byte pointers, or null if they can
     * (what {@link #unavailabilityCause()} reports for this JVM).
     */
    public static String platformProblem(String osName, long pointerSize) {
        if (!osName.toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
            return "the native transports (TUN/TAP, rtnetlink, namespaces, AF_XDP, ICMP sockets) need Linux; "
                    + "this is " + osName;
        }
        if (pointerSize != 8) {
            return "a 64-bit JVM is required (pointers are passed as longs)";
        }
        return null;
    }

    /** Why this class cannot be used here (not Linux, not 64-bit, FFM refused), or null if it can. */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY;
    }

    /** Throws the {@linkplain #unavailabilityCause() reason} this class cannot be used here, if any. */
    public static void ensureAvailable() {
        if (UNAVAILABILITY != null) {
            UnsupportedOperationException e = new UnsupportedOperationException(UNAVAILABILITY.getMessage());
            e.initCause(UNAVAILABILITY);
            throw e;
        }
    }

    /** Whether the bindings work here (Linux, 64-bit, native access granted). */
    public static boolean isAvailable() {
        return UNAVAILABILITY == null;
    }

    /** Space for the {@code errno} a call leaves behind; one per call. */
    private static final class CallState {
        final MemorySegment segment;

        CallState(Arena arena) {
            segment = arena.allocate(CAPTURE_LAYOUT);
        }

        int errno() {
            return (int) ERRNO.get(segment, 0L);
        }

        long result(long r) {
            return r < 0 ? -errno() : r;
        }

        int result(int r) {
            return r < 0 ? -errno() : r;
        }
    }

    // ---- setup calls ----

    /** {@code open(path, flags)}: a file descriptor, or {@code -errno}. */
    public static int open(String path, int flags) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) OPEN.invokeExact(st.segment, arena.allocateFrom(path), flags, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code close(fd)}: 0 or {@code -errno}. */
    public static int close(int fd) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) CLOSE.invokeExact(st.segment, fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, arg)} with a pointer argument: the result, or {@code -errno}. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) IOCTL_PTR.invokeExact(st.segment, fd, request, arg));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, value)} with an integer argument: the result, or {@code -errno}. */
    public static int ioctl(int fd, long request, long value) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) IOCTL_LONG.invokeExact(st.segment, fd, request, value));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code socket(domain, type, protocol)}: a file descriptor, or {@code -errno}. */
    public static int socket(int domain, int type, int protocol) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) SOCKET.invokeExact(st.segment, domain, type, protocol));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code bind(fd, address, address.byteSize())}: 0 or {@code -errno}. */
    public static int bind(int fd, MemorySegment address) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) BIND.invokeExact(st.segment, fd, address, (int) address.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code getsockname(fd, address, &len)}: 0 or {@code -errno}. */
    public static int getsockname(int fd, MemorySegment address) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) address.byteSize());
            return st.result((int) GETSOCKNAME.invokeExact(st.segment, fd, address, len));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code sendto(fd, buf, length, 0, to, to.byteSize())}: bytes sent, or {@code -errno}. */
    public static long sendto(int fd, MemorySegment buf, long length, MemorySegment to) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((long) SENDTO.invokeExact(st.segment, fd, buf, length, 0, to, (int) to.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code recv(fd, buf, buf.byteSize(), flags)}: bytes received, or {@code -errno}. */
    public static long recv(int fd, MemorySegment buf, int flags) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((long) RECV.invokeExact(st.segment, fd, buf, buf.byteSize(), flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code setsockopt(fd, level, name, value, value.byteSize())}: 0 or {@code -errno}. */
    public static int setsockopt(int fd, int level, int name, MemorySegment value) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) SETSOCKOPT.invokeExact(st.segment, fd, level, name, value,
                    (int) value.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code setns(fd, nstype)} for the calling thread: 0 or {@code -errno}. */
    public static int setns(int fd, int nstype) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) SETNS.invokeExact(st.segment, fd, nstype));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code getsockopt(fd, level, name, value, &len)}: the option's length in bytes as the kernel wrote it into
     * {@code value}, or {@code -errno}.
     */
    public static int getsockopt(int fd, int level, int name, MemorySegment value) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) value.byteSize());
            int r = st.result((int) GETSOCKOPT.invokeExact(st.segment, fd, level, name, value, len));
            return r < 0 ? r : len.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code mmap(NULL, length, prot, flags, fd, offset)}: the address of the mapping, or {@code -errno}
     * (the kernel never maps at addresses that look negative to Java on 64-bit Linux). Use
     * {@code MemorySegment.ofAddress(a).reinterpret(length)} to reach it; unmap it with {@link #munmap}.
     */
    public static long mmap(long length, int prot, int flags, int fd, long offset) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            long r = (long) MMAP.invokeExact(st.segment, 0L, length, prot, flags, fd, offset);
            return r == -1L ? -st.errno() : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code munmap(address, length)}: 0 or {@code -errno}. */
    public static int munmap(long address, long length) {
        ensureAvailable();
        try (Arena arena = Arena.ofConfined()) {
            CallState st = new CallState(arena);
            return st.result((int) MUNMAP.invokeExact(st.segment, address, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** The layout of a 64-bit {@code struct iovec}: base address, then length. */
    public static final MemoryLayout IOVEC = MemoryLayout.structLayout(JAVA_LONG.withName("base"),
            JAVA_LONG.withName("len"));

    /** Size of one {@code struct iovec}. */
    public static final int IOVEC_SIZE = 16;
}
