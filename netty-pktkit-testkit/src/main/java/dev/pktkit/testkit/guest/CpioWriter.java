package dev.pktkit.testkit.guest;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a cpio archive in the "newc" format ({@code 070701}, the one the Linux kernel unpacks as an initramfs:
 * {@code Documentation/driver-api/early-userspace/buffer-format.rst}), so that no {@code cpio} process is needed.
 *
 * <p>Each entry is a 110-byte ASCII header (the magic and thirteen 8-digit hex fields: inode, mode, uid, gid,
 * nlink, mtime, file size, device major/minor, rdev major/minor, name size including its NUL, checksum 0), the
 * name and its NUL padded to a multiple of 4, then the data padded to a multiple of 4. The archive ends with the
 * entry {@code TRAILER!!!}. Every entry is owned by root (uid and gid 0) with mtime 0, so the same input gives the
 * same bytes. Names are relative ({@code bin/busybox}, no leading slash); parents must be written before their
 * children, as the kernel creates files in archive order.
 *
 * <p>Not thread-safe. {@link #close()} writes the trailer and closes the stream.
 */
final class CpioWriter implements Closeable {
    static final String MAGIC = "070701";
    static final String TRAILER = "TRAILER!!!";
    static final int S_IFIFO = 0010000;
    static final int S_IFCHR = 0020000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;

    private final OutputStream out;
    private final Set<String> names = new HashSet<>();
    private long written;
    private int nextInode = 1;
    private boolean closed;

    CpioWriter(OutputStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /** A directory with permission bits {@code mode} (e.g. {@code 0755}). */
    CpioWriter directory(String name, int mode) throws IOException {
        return entry(name, S_IFDIR | (mode & 07777), 2, 0, 0, new byte[0]);
    }

    /** A regular file with permission bits {@code mode} (e.g. {@code 0755} for a program). */
    CpioWriter file(String name, int mode, byte[] data) throws IOException {
        return entry(name, S_IFREG | (mode & 07777), 1, 0, 0, data);
    }

    /** A symbolic link to {@code target}. */
    CpioWriter symlink(String name, String target) throws IOException {
        return entry(name, S_IFLNK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    /** A character device node (the kernel creates it while unpacking; no privilege needed here). */
    CpioWriter characterDevice(String name, int mode, int major, int minor) throws IOException {
        return entry(name, S_IFCHR | (mode & 07777), 1, major, minor, new byte[0]);
    }

    private CpioWriter entry(String name, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data)
            throws IOException {
        if (closed) {
            throw new IllegalStateException("archive closed");
        }
        if (name.isEmpty() || name.startsWith("/") || name.equals(TRAILER) || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a relative entry name: " + name);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate entry " + name);
        }
        header(nextInode++, mode, nlink, data.length, rdevMajor, rdevMinor, name);
        out.write(data);
        written += data.length;
        pad();
        return this;
    }

    private void header(int inode, int mode, int nlink, int size, int rdevMajor, int rdevMinor, String name)
            throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(110).append(MAGIC);
        for (long field : new long[] {inode, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor,
                nameBytes.length + 1, 0}) {
            String hex = Long.toHexString(field);
            h.append("0".repeat(8 - hex.length())).append(hex);
        }
        byte[] bytes = h.toString().getBytes(StandardCharsets.US_ASCII);
        out.write(bytes);
        out.write(nameBytes);
        out.write(0);
        written += bytes.length + nameBytes.length + 1;
        pad();
    }

    private void pad() throws IOException {
        while ((written & 3) != 0) {
            out.write(0);
            written++;
        }
    }

    /** Bytes written so far. */
    long size() {
        return written;
    }

    /** Writes the trailer entry and closes the stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            header(0, 0, 1, 0, 0, 0, TRAILER);
        }
    }
}
