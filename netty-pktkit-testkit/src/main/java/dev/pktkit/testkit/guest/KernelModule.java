package dev.pktkit.testkit.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A loadable kernel module ({@code .ko}) and what its {@code .modinfo} section says: its name and the modules it
 * {@code depends=} on. Read from the ELF file in Java (no {@code modinfo} process), so that the guest's
 * {@code insmod} order comes from the modules themselves rather than from a list kept by hand.
 *
 * <p>A {@code .ko} is an ELF64 relocatable object; {@code .modinfo} holds NUL-terminated {@code key=value}
 * strings ({@code license=}, {@code depends=virtio,virtio_ring}, {@code name=virtio_net}, {@code alias=}...).
 * Module names treat {@code -} and {@code _} alike (the kernel does), so names here are normalised to {@code _}.
 *
 * @param name    the module's name ({@code name=} in {@code .modinfo}, else the file name without {@code .ko})
 * @param depends the modules it needs loaded first, as {@code depends=} lists them (maybe empty)
 * @param file    the {@code .ko} file
 */
record KernelModule(String name, List<String> depends, Path file) {
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int SECTION_HEADER_SIZE = 64;

    KernelModule {
        name = normalise(name);
        depends = depends.stream().map(KernelModule::normalise).toList();
    }

    /** The kernel's spelling-insensitive module name: {@code -} read as {@code _}. */
    static String normalise(String name) {
        return name.replace('-', '_');
    }

    /** Reads {@code ko}'s {@code .modinfo}. */
    static KernelModule read(Path ko) throws IOException {
        String fileName = ko.getFileName().toString();
        String fallback = fileName.endsWith(".ko") ? fileName.substring(0, fileName.length() - 3) : fileName;
        Map<String, List<String>> info = modinfo(Files.readAllBytes(ko), ko.toString());
        List<String> names = info.getOrDefault("name", List.of());
        List<String> depends = new ArrayList<>();
        for (String d : info.getOrDefault("depends", List.of())) {
            for (String m : d.split(",")) {
                if (!m.isBlank()) {
                    depends.add(m.trim());
                }
            }
        }
        return new KernelModule(names.isEmpty() ? fallback : names.get(0), depends, ko);
    }

    /**
     * The {@code key=value} strings of the {@code .modinfo} section of an ELF64 little-endian object, in order,
     * grouped by key (a key such as {@code alias} or {@code parm} can repeat).
     *
     * @throws IOException if the bytes are not such an object or have no {@code .modinfo} section
     */
    static Map<String, List<String>> modinfo(byte[] elf, String what) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.length < 64 || elf[0] != 0x7F || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') {
            throw new IOException(what + " is not an ELF file");
        }
        if (elf[4] != ELFCLASS64 || elf[5] != ELFDATA2LSB) {
            throw new IOException(what + " is not a 64-bit little-endian ELF file");
        }
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
        int shnum = Short.toUnsignedInt(b.getShort(0x3C));
        int shstrndx = Short.toUnsignedInt(b.getShort(0x3E));
        if (shentsize != SECTION_HEADER_SIZE || shnum == 0 || shstrndx >= shnum
                || shoff < 0 || shoff + (long) shnum * shentsize > elf.length) {
            throw new IOException(what + ": bad section header table");
        }
        int strtab = (int) shoff + shstrndx * shentsize;
        long namesAt = b.getLong(strtab + 24);
        long namesSize = b.getLong(strtab + 32);
        checkRange(namesAt, namesSize, elf.length, what);
        for (int i = 0; i < shnum; i++) {
            int sh = (int) shoff + i * shentsize;
            long nameOffset = Integer.toUnsignedLong(b.getInt(sh));
            if (nameOffset >= namesSize || !".modinfo".equals(cString(elf, (int) (namesAt + nameOffset)))) {
                continue;
            }
            long at = b.getLong(sh + 24);
            long size = b.getLong(sh + 32);
            checkRange(at, size, elf.length, what);
            Map<String, List<String>> info = new LinkedHashMap<>();
            int end = (int) (at + size);
            for (int p = (int) at; p < end; ) {
                int z = p;
                while (z < end && elf[z] != 0) {
                    z++;
                }
                String entry = new String(elf, p, z - p, StandardCharsets.UTF_8);
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    info.computeIfAbsent(entry.substring(0, eq), k -> new ArrayList<>()).add(entry.substring(eq + 1));
                }
                p = z + 1;
            }
            return info;
        }
        throw new IOException(what + " has no .modinfo section");
    }

    private static void checkRange(long at, long size, int length, String what) throws IOException {
        if (at < 0 || size < 0 || at + size > length) {
            throw new IOException(what + ": section outside the file");
        }
    }

    private static String cString(byte[] b, int at) {
        int z = at;
        while (z < b.length && b[z] != 0) {
            z++;
        }
        return new String(b, at, z - at, StandardCharsets.UTF_8);
    }

    /**
     * The modules {@code roots} need, dependencies first: a depth-first topological sort over {@code depends=},
     * visiting roots and each module's dependencies in the order given, so the result is stable.
     *
     * @throws IOException if a needed module is not in {@code available}, or the dependencies form a cycle
     */
    static List<KernelModule> loadOrder(Collection<KernelModule> available, List<String> roots) throws IOException {
        Map<String, KernelModule> byName = new HashMap<>();
        for (KernelModule m : available) {
            byName.put(m.name(), m);
        }
        List<KernelModule> order = new ArrayList<>();
        Map<String, Boolean> state = new HashMap<>();   // false: on the current path; true: done
        for (String root : roots) {
            visit(normalise(root), byName, state, order, new ArrayList<>());
        }
        return order;
    }

    private static void visit(String name, Map<String, KernelModule> byName, Map<String, Boolean> state,
                              List<KernelModule> order, List<String> path) throws IOException {
        Boolean s = state.get(name);
        if (Boolean.TRUE.equals(s)) {
            return;
        }
        path.add(name);
        if (Boolean.FALSE.equals(s)) {
            throw new IOException("module dependency cycle: " + String.join(" -> ", path));
        }
        KernelModule m = byName.get(name);
        if (m == null) {
            throw new IOException("module " + name + " is needed (" + String.join(" -> ", path)
                    + ") but not available");
        }
        state.put(name, false);
        for (String d : m.depends()) {
            visit(d, byName, state, order, path);
        }
        state.put(name, true);
        order.add(m);
        path.remove(path.size() - 1);
    }
}
