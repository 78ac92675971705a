package dev.pktkit.slirp;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;

/**
 * {@link IcmpEchoSockets} over {@code dev.pktkit.linux.IcmpSocket}, found by name and called through method
 * handles so that this package compiles at Java 21 while the FFM code lives in {@code netty-pktkit-linux} (Java
 * 22). Each socket has one daemon reader thread (ICMP sockets are control traffic: a thread blocked in
 * {@code recvfrom} keeps every event loop free).
 */
final class LinuxIcmpSockets implements IcmpEchoSockets {
    private static final String CLASS = "dev.pktkit.linux.IcmpSocket";
    private final MethodHandle open;
    private final MethodHandle send;
    private final MethodHandle receive;
    private final MethodHandle close;
    private final MethodHandle isRaw;
    private final String namespacePath;
    private final boolean allowRaw;

    private LinuxIcmpSockets(Class<?> c, String namespacePath, boolean allowRaw) throws ReflectiveOperationException {
        MethodHandles.Lookup l = MethodHandles.publicLookup();
        this.open = l.findStatic(c, "open", MethodType.methodType(c, boolean.class, String.class, boolean.class));
        this.isRaw = l.findVirtual(c, "isRaw", MethodType.methodType(boolean.class));
        this.allowRaw = allowRaw;
        this.send = l.findVirtual(c, "send", MethodType.methodType(long.class, byte[].class, int.class, byte[].class));
        this.receive = l.findVirtual(c, "receive", MethodType.methodType(long.class, byte[].class, byte[].class));
        this.close = l.findVirtual(c, "close", MethodType.methodType(void.class));
        this.namespacePath = namespacePath;
    }

    /**
     * The Linux ICMP datagram sockets (raw ones as the fallback when {@code allowRaw}), opened in the namespace
     * at {@code namespacePath} (null: this process's), or {@link IcmpEchoSockets#none()} when
     * {@code netty-pktkit-linux} is not on the class path or not usable.
     */
    static IcmpEchoSockets lookup(String namespacePath, boolean allowRaw) {
        try {
            Class<?> c = Class.forName(CLASS, true, LinuxIcmpSockets.class.getClassLoader());
            return new LinuxIcmpSockets(c, namespacePath, allowRaw);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return IcmpEchoSockets.unavailable("netty-pktkit-linux is not usable (" + CLASS + "): " + e);
        }
    }

    @Override
    public Socket open(boolean ipv6, Receiver receiver) throws IOException {
        Object s;
        try {
            s = open.invoke(ipv6, namespacePath, allowRaw);
        } catch (Throwable t) {
            throw new IOException("no ICMP" + (ipv6 ? "v6" : "") + " socket" + (namespacePath == null ? ""
                    : " in " + namespacePath) + ": " + describe(t), t);
        }
        Object sock = s;
        boolean raw;
        try {
            raw = (boolean) isRaw.invoke(sock);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        Thread reader = new Thread(() -> read(sock, ipv6, receiver), "slirp-icmp" + (ipv6 ? "6" : "4"));
        reader.setDaemon(true);
        reader.start();
        return new Socket() {
            @Override
            public void send(byte[] message, int length, InetAddress to) throws IOException {
                long r;
                try {
                    r = (long) send.invoke(sock, message, length, to.getAddress());
                } catch (Throwable t) {
                    throw new IOException(t);
                }
                if (r < 0) {
                    throw new IOException("ICMP sendto failed: errno " + -r);
                }
            }

            @Override
            public boolean rewritesIdentifier() {
                return !raw;
            }

            @Override
            public void close() {
                try {
                    close.invoke(sock);
                } catch (Throwable ignored) {
                    // already closed
                }
            }
        };
    }

    /** The failure and everything it carries (the datagram socket's refusal is suppressed in the raw one's). */
    static String describe(Throwable t) {
        StringBuilder b = new StringBuilder(String.valueOf(t));
        for (Throwable s : t.getSuppressed()) {
            b.append("; before that: ").append(s);
        }
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            b.append("; caused by ").append(c);
        }
        return b.toString();
    }

    private void read(Object sock, boolean ipv6, Receiver receiver) {
        byte[] buf = new byte[65536];
        byte[] from = new byte[ipv6 ? 16 : 4];
        while (true) {
            long r;
            try {
                r = (long) receive.invoke(sock, buf, from);
            } catch (Throwable t) {
                return;
            }
            if (r == -9) { // EBADF: closed
                return;
            }
            if (r < 0 && r != -11 && r != -4) { // not EAGAIN (timeout) or EINTR: do not spin on an error
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            if (r > 0) {
                try {
                    receiver.onMessage(buf, (int) r, InetAddress.getByAddress(from));
                } catch (Exception ignored) {
                    // a receiver failing must not end the reader
                }
            }
        }
    }
}
