package dev.pktkit.testkit.guest;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The newc cpio writer: its bytes field by field, and an archive busybox's own cpio unpacks. */
class CpioWriterTest {
    @TempDir
    Path dir;

    /** One parsed entry: the header fields, the name and the data. */
    record Entry(long[] fields, String name, byte[] data) {
        long mode() {
            return fields[1];
        }
    }

    /** A strict reader of newc archives (magic, hex fields, 4-byte alignment of name and data, trailer last). */
    static List<Entry> parse(byte[] a) {
        List<Entry> entries = new ArrayList<>();
        int at = 0;
        while (true) {
            assertEquals(0, at % 4, "entries start 4-byte aligned");
            assertEquals("070701", new String(a, at, 6, StandardCharsets.US_ASCII));
            long[] f = new long[13];
            for (int i = 0; i < 13; i++) {
                f[i] = Long.parseLong(new String(a, at + 6 + 8 * i, 8, StandardCharsets.US_ASCII), 16);
            }
            int nameSize = (int) f[11];
            String name = new String(a, at + 110, nameSize - 1, StandardCharsets.UTF_8);
            assertEquals(0, a[at + 110 + nameSize - 1], "name ends with NUL");
            int data = align(at + 110 + nameSize);
            for (int i = at + 110 + nameSize; i < data; i++) {
                assertEquals(0, a[i], "padding is zero");
            }
            int size = (int) f[6];
            entries.add(new Entry(f, name, java.util.Arrays.copyOfRange(a, data, data + size)));
            at = align(data + size);
            if (name.equals("TRAILER!!!")) {
                assertEquals(a.length, at, "nothing after the trailer");
                return entries;
            }
        }
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    private static byte[] archive(CpioBody body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CpioWriter w = new CpioWriter(out)) {
            body.write(w);
        }
        return out.toByteArray();
    }

    interface CpioBody {
        void write(CpioWriter w) throws IOException;
    }

    @Test
    void headersNamesAndDataFollowTheNewcLayout() throws IOException {
        byte[] a = archive(w -> w.directory("etc", 0755)
                .file("etc/a", 0644, "x".getBytes(StandardCharsets.US_ASCII))     // name + NUL = 6: padded
                .file("etc/ab", 0600, new byte[] {1, 2, 3, 4, 5})
                .file("e", 0755, new byte[0])
                .symlink("sh", "busybox")
                .characterDevice("console", 0600, 5, 1));
        List<Entry> e = parse(a);
        assertEquals(List.of("etc", "etc/a", "etc/ab", "e", "sh", "console", "TRAILER!!!"),
                e.stream().map(Entry::name).toList());
        assertEquals(040755, e.get(0).mode());
        assertEquals(2, e.get(0).fields()[4], "a directory has two links");
        assertEquals(0100644, e.get(1).mode());
        assertArrayEquals("x".getBytes(StandardCharsets.US_ASCII), e.get(1).data());
        assertEquals(0100600, e.get(2).mode());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, e.get(2).data());
        assertEquals(0, e.get(3).data().length);
        assertEquals(0120777, e.get(4).mode());
        assertArrayEquals("busybox".getBytes(StandardCharsets.US_ASCII), e.get(4).data());
        assertEquals(020600, e.get(5).mode());
        assertEquals(5, e.get(5).fields()[9], "rdev major");
        assertEquals(1, e.get(5).fields()[10], "rdev minor");
        for (int i = 0; i < e.size() - 1; i++) {
            assertEquals(i + 1, e.get(i).fields()[0], "distinct inodes");
            assertEquals(0, e.get(i).fields()[2], "uid root");
            assertEquals(0, e.get(i).fields()[3], "gid root");
            assertEquals(0, e.get(i).fields()[5], "mtime 0: the same input gives the same bytes");
        }
        assertArrayEquals(a, archive(w -> w.directory("etc", 0755)
                .file("etc/a", 0644, "x".getBytes(StandardCharsets.US_ASCII))
                .file("etc/ab", 0600, new byte[] {1, 2, 3, 4, 5})
                .file("e", 0755, new byte[0])
                .symlink("sh", "busybox")
                .characterDevice("console", 0600, 5, 1)));
    }

    @Test
    void badNamesAreRefused() throws IOException {
        try (CpioWriter w = new CpioWriter(OutputStream.nullOutputStream())) {
            assertThrows(IllegalArgumentException.class, () -> w.file("/init", 0755, new byte[0]));
            assertThrows(IllegalArgumentException.class, () -> w.file("", 0755, new byte[0]));
            assertThrows(IllegalArgumentException.class, () -> w.file("TRAILER!!!", 0644, new byte[0]));
            w.file("init", 0755, new byte[0]);
            assertThrows(IllegalArgumentException.class, () -> w.file("init", 0755, new byte[0]));
        }
    }

    @Test
    void busyboxCpioUnpacksWhatItWrote() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(GuestImage.busybox()), "busybox-static is not installed");
        byte[] big = new byte[100_003];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        byte[] a = archive(w -> w.directory("bin", 0755).directory("etc", 0750)
                .file("bin/tool", 0755, big)
                .file("etc/conf", 0640, "key=value\n".getBytes(StandardCharsets.US_ASCII))
                .symlink("bin/sh", "tool"));
        Path in = dir.resolve("a.cpio");
        Files.write(in, a);
        Path out = Files.createDirectory(dir.resolve("out"));
        Process p = new ProcessBuilder(GuestImage.busybox().toString(), "cpio", "-i", "-d", "-m")
                .directory(out.toFile()).redirectInput(in.toFile()).redirectErrorStream(true).start();
        String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), msg);
        assertArrayEquals(big, Files.readAllBytes(out.resolve("bin/tool")));
        assertEquals(PosixFilePermissions.fromString("rwxr-xr-x"),
                Files.getPosixFilePermissions(out.resolve("bin/tool")));
        assertEquals("key=value\n", Files.readString(out.resolve("etc/conf")));
        assertEquals(PosixFilePermissions.fromString("rw-r-----"),
                Files.getPosixFilePermissions(out.resolve("etc/conf")));
        assertEquals(PosixFilePermissions.fromString("rwxr-x---"), Files.getPosixFilePermissions(out.resolve("etc")));
        assertTrue(Files.isSymbolicLink(out.resolve("bin/sh")));
        assertEquals(Path.of("tool"), Files.readSymbolicLink(out.resolve("bin/sh")));
    }
}
