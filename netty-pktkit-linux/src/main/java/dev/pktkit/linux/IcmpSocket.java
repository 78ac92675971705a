package dev.pktkit.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An ICMP socket for echo: either a datagram socket ({@code socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)} or its
 * ICMPv6 twin), the "ping socket" unprivileged {@code ping} uses, which sends echo requests and receives only the
 * replies to them, the kernel choosing the identifier (the socket's "port") and, for ICMPv6, the checksum; the
 * process's group must be in {@code net.ipv4.ping_group_range} of the socket's namespace, else opening fails with
 * {@code EACCES}. Or a raw socket ({@code SOCK_RAW}), which needs {@code CAP_NET_RAW}, keeps the identifier as
 * sent and receives every ICMP message the namespace receives (the caller filters; an IPv4 raw socket's IP header
 * is cut off by {@link #receive}, so both kinds return the ICMP message alone). {@link #open} tries the datagram
 * socket first and falls back to a raw one (RFC 792 / RFC 4443 echo, Linux {@code icmp(7)}, {@code raw(7)}).
 *
 * <p>Sends never block ({@code MSG_DONTWAIT}: a full socket buffer fails the send with {@code EAGAIN});
 * {@link #receive} blocks up to its timeout and is meant for one reader thread, which also owns
 * {@link #close()}'s descriptor: {@code close()} marks the socket closed and the descriptor is released by the
 * reader's next return (or at once when no reader waits), so a descriptor number is never reused under a reader.
 */
public final class IcmpSocket implements AutoCloseable {
    /** {@code MSG_DONTWAIT}. */
    public static final int MSG_DONTWAIT = 0x40;
    /** Receive timeout of {@link #receive}: 200 ms, so a reader notices {@link #close()} soon. */
    public static final int RECEIVE_TIMEOUT_MILLIS = 200;

    private static final MethodHandle SENDTO;
    private static final MethodHandle RECVFROM;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;

    static {
        Linker linker = Linker.nativeLinker();
        CAPTURE = Linker.Option.captureStateLayout();
        ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        Linker.Option keep = Linker.Option.captureCallState("errno");
        SENDTO = linker.downcallHandle(linker.defaultLookup().find("sendto").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), keep);
        RECVFROM = linker.downcallHandle(linker.defaultLookup().find("recvfrom").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS), keep);
    }

    private final int fd;
    private final boolean ipv6;
    private final boolean raw;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean fdClosed = new AtomicBoolean();
    private volatile boolean receiving;

    private IcmpSocket(int fd, boolean ipv6, boolean raw) {
        this.fd = fd;
        this.ipv6 = ipv6;
        this.raw = raw;
    }

    /** Opens an ICMP (IPv4) or ICMPv6 datagram socket in this process's namespace. */
    public static IcmpSocket openDatagram(boolean ipv6) {
        return openKind(ipv6, false);
    }

    /** Opens an ICMP (IPv4) or ICMPv6 raw socket in this process's namespace (needs {@code CAP_NET_RAW}). */
    public static IcmpSocket openRaw(boolean ipv6) {
        return openKind(ipv6, true);
    }

    /**
     * Opens a datagram socket, or when that fails ({@code EACCES}: the group is outside
     * {@code ping_group_range}) and {@code allowRaw} is set, a raw socket (which fails with {@code EPERM} without
     * {@code CAP_NET_RAW}), in the namespace at {@code namespacePath} (null: this process's). Blocks briefly when
     * a namespace is given: not for an event loop. The exception of the last try says why neither worked.
     */
    public static IcmpSocket open(boolean ipv6, String namespacePath, boolean allowRaw) throws Exception {
        try {
            return openDatagram(ipv6, namespacePath);
        } catch (LinuxException datagram) {
            if (!allowRaw) {
                throw datagram;
            }
            try {
                return openRaw(ipv6, namespacePath);
            } catch (LinuxException rawFailed) {
                rawFailed.addSuppressed(datagram);
                throw rawFailed;
            }
        }
    }

    /** As {@link #openRaw(boolean)}, in the namespace at {@code namespacePath} (null: this process's). */
    public static IcmpSocket openRaw(boolean ipv6, String namespacePath) throws Exception {
        if (namespacePath == null) {
            return openRaw(ipv6);
        }
        try (NetNamespace ns = NetNamespace.open(Path.of(namespacePath))) {
            return ns.call(() -> openRaw(ipv6));
        }
    }

    private static IcmpSocket openKind(boolean ipv6, boolean raw) {
        LibC.ensureAvailable();
        int fd = LinuxException.check(LibC.socket(ipv6 ? LibC.AF_INET6 : LibC.AF_INET,
                (raw ? LibC.SOCK_RAW : LibC.SOCK_DGRAM) | LibC.SOCK_CLOEXEC,
                ipv6 ? LibC.IPPROTO_ICMPV6 : LibC.IPPROTO_ICMP), "opening an ICMP" + (ipv6 ? "v6" : "")
                + (raw ? " raw socket (CAP_NET_RAW)" : " datagram socket (net.ipv4.ping_group_range)"));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16);
            tv.set(JAVA_LONG, 0, 0);
            tv.set(JAVA_LONG, 8, RECEIVE_TIMEOUT_MILLIS * 1000L);
            int r = LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, tv);
            if (r < 0) {
                LibC.close(fd);
                LinuxException.check(r, "setting SO_RCVTIMEO on an ICMP socket");
            }
        }
        return new IcmpSocket(fd, ipv6, raw);
    }

    /**
     * Opens it in the namespace at {@code namespacePath} (e.g. {@code /run/netns/NAME}), or in this process's
     * when null. Blocks briefly (a platform thread enters the namespace): not for an event loop.
     */
    public static IcmpSocket openDatagram(boolean ipv6, String namespacePath) throws Exception {
        if (namespacePath == null) {
            return openDatagram(ipv6);
        }
        try (NetNamespace ns = NetNamespace.open(Path.of(namespacePath))) {
            return ns.call(() -> openDatagram(ipv6));
        }
    }

    /**
     * True for a raw socket: the kernel keeps the identifier as sent, computes no ICMPv4 checksum, and delivers
     * every ICMP message of the namespace (requests, errors, other processes' replies) to {@link #receive}.
     */
    public boolean isRaw() {
        return raw;
    }

    /** True for an ICMPv6 socket. */
    public boolean isIpv6() {
        return ipv6;
    }

    /**
     * Sends {@code length} bytes of {@code message} (an ICMP message: type, code, checksum, identifier, sequence,
     * data) to {@code address} (4 or 16 bytes) without blocking: the bytes sent, or {@code -errno}.
     */
    public long send(byte[] message, int length, byte[] address) {
        if (closed.get()) {
            return -Errno.EBADF;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, length));
            MemorySegment.copy(message, 0, buf, ValueLayout.JAVA_BYTE, 0, length);
            MemorySegment to = sockaddr(a, address);
            MemorySegment st = a.allocate(CAPTURE);
            long r = (long) SENDTO.invokeExact(st, fd, buf, (long) length, MSG_DONTWAIT, to, (int) to.byteSize());
            return r < 0 ? -(int) ERRNO.get(st, 0L) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("sendto failed", t);
        }
    }

    /**
     * Waits up to {@link #RECEIVE_TIMEOUT_MILLIS} for one ICMP message into {@code buffer}, its sender's address
     * into {@code from} (4 or 16 bytes, as the family): the length, {@code -EAGAIN} on timeout, {@code -EBADF}
     * once closed, or another {@code -errno}. One reader thread at a time.
     */
    public long receive(byte[] buffer, byte[] from) {
        receiving = true; // before the check, so close() either sees it or this sees closed
        if (closed.get()) {
            receiving = false;
            releaseFd();
            return -Errno.EBADF;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(buffer.length);
            MemorySegment addr = a.allocate(28);
            MemorySegment alen = a.allocateFrom(JAVA_INT, 28);
            MemorySegment st = a.allocate(CAPTURE);
            long r = (long) RECVFROM.invokeExact(st, fd, buf, (long) buffer.length, 0, addr, alen);
            if (r < 0) {
                return -(int) ERRNO.get(st, 0L);
            }
            int skip = 0;
            if (raw && !ipv6) {
                // an IPv4 raw socket returns the IP header too (raw(7)); an IPv6 one never does
                skip = r > 0 ? (buf.get(ValueLayout.JAVA_BYTE, 0) & 0x0F) * 4 : 0;
                if (skip < 20 || skip > r) {
                    return -Errno.EAGAIN;
                }
                r -= skip;
            }
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, skip, buffer, 0, (int) r);
            if (ipv6) {
                MemorySegment.copy(addr, ValueLayout.JAVA_BYTE, 8, from, 0, Math.min(16, from.length));
            } else {
                MemorySegment.copy(addr, ValueLayout.JAVA_BYTE, 4, from, 0, Math.min(4, from.length));
            }
            return r;
        } catch (Throwable t) {
            throw new IllegalStateException("recvfrom failed", t);
        } finally {
            receiving = false;
            if (closed.get()) {
                releaseFd();
            }
        }
    }

    /** Marks the socket closed; the descriptor goes now, or when the reader's {@link #receive} returns. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && !receiving) {
            releaseFd();
        }
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    private void releaseFd() {
        if (fdClosed.compareAndSet(false, true)) {
            LibC.close(fd);
        }
    }

    private MemorySegment sockaddr(Arena a, byte[] address) {
        if (ipv6) {
            if (address.length != 16) {
                throw new IllegalArgumentException("an ICMPv6 socket needs a 16-byte address");
            }
            MemorySegment s = a.allocate(28);
            s.set(ValueLayout.JAVA_SHORT, 0, (short) LibC.AF_INET6);
            MemorySegment.copy(address, 0, s, ValueLayout.JAVA_BYTE, 8, 16);
            return s;
        }
        if (address.length != 4) {
            throw new IllegalArgumentException("an ICMP socket needs a 4-byte address");
        }
        MemorySegment s = a.allocate(16);
        s.set(ValueLayout.JAVA_SHORT, 0, (short) LibC.AF_INET);
        MemorySegment.copy(address, 0, s, ValueLayout.JAVA_BYTE, 4, 4);
        return s;
    }
}
