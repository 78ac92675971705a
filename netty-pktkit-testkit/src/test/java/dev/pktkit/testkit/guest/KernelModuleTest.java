package dev.pktkit.testkit.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code .modinfo} from ELF files, and the load order from {@code depends=}: synthetic modules and the real ones. */
class KernelModuleTest {
    @TempDir
    Path dir;

    /** A minimal ELF64 little-endian object: sections null, {@code .text}, {@code .modinfo}, {@code .shstrtab}. */
    static byte[] elf(String modinfo) {
        byte[] info = modinfo.getBytes(StandardCharsets.UTF_8);
        byte[] names = "\0.text\0.modinfo\0.shstrtab\0".getBytes(StandardCharsets.US_ASCII);
        int textAt = 64;
        int infoAt = textAt + 16;
        int namesAt = infoAt + info.length;
        int shoff = (namesAt + names.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(shoff + 4 * 64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(0x10, (short) 1);          // ET_REL
        b.putShort(0x12, (short) 62);         // EM_X86_64
        b.putLong(0x28, shoff);
        b.putShort(0x34, (short) 64);
        b.putShort(0x3A, (short) 64);
        b.putShort(0x3C, (short) 4);
        b.putShort(0x3E, (short) 3);
        b.put(infoAt, info);
        b.put(namesAt, names);
        section(b, shoff + 64, 1, textAt, 16);
        section(b, shoff + 128, 7, infoAt, info.length);
        section(b, shoff + 192, 16, namesAt, names.length);
        return b.array();
    }

    private static void section(ByteBuffer b, int at, int name, long offset, long size) {
        b.putInt(at, name);
        b.putInt(at + 4, 1);                  // SHT_PROGBITS (SHT_STRTAB for the names does not matter here)
        b.putLong(at + 24, offset);
        b.putLong(at + 32, size);
    }

    private Path ko(String file, String modinfo) throws IOException {
        return Files.write(dir.resolve(file), elf(modinfo));
    }

    @Test
    void modinfoGivesNameAndDependencies() throws IOException {
        KernelModule m = KernelModule.read(ko("virtio_net.ko",
                "license=GPL\0depends=net_failover,virtio-ring,virtio\0retpoline=Y\0intree=Y\0name=virtio_net\0"
                        + "alias=virtio:d00000001v*\0alias=other\0"));
        assertEquals("virtio_net", m.name());
        assertEquals(List.of("net_failover", "virtio_ring", "virtio"), m.depends(), "'-' reads as '_'");
        assertEquals(List.of("virtio:d00000001v*", "other"),
                KernelModule.modinfo(elf("alias=virtio:d00000001v*\0alias=other\0"), "x").get("alias"));
    }

    @Test
    void emptyDependsAndMissingNameFallBackSensibly() throws IOException {
        KernelModule m = KernelModule.read(ko("failover.ko", "license=GPL\0depends=\0"));
        assertEquals("failover", m.name(), "the file name without .ko");
        assertEquals(List.of(), m.depends());
    }

    @Test
    void filesThatAreNotModulesAreRefused() throws IOException {
        assertThrows(IOException.class, () -> KernelModule.read(Files.writeString(dir.resolve("a.ko"), "not elf")));
        byte[] noInfo = elf("x=y\0");
        noInfo[64 + 16 + 4 + 8] = (byte) 'X';  // ".modinfo" becomes ".Xodinfo" in the section-name table
        IOException e = assertThrows(IOException.class, () -> KernelModule.modinfo(noInfo, "b.ko"));
        assertTrue(e.getMessage().contains("no .modinfo"), e.getMessage());
        byte[] cut = elf("depends=virtio\0");
        assertThrows(IOException.class, () -> KernelModule.modinfo(java.util.Arrays.copyOf(cut, cut.length - 64),
                "c.ko"), "section headers cut off");
        byte[] bits32 = elf("x=y\0");
        bits32[4] = 1;
        assertThrows(IOException.class, () -> KernelModule.modinfo(bits32, "d.ko"));
    }

    private static KernelModule mod(String name, String... depends) {
        return new KernelModule(name, List.of(depends), Path.of(name + ".ko"));
    }

    private static List<String> names(List<KernelModule> ms) {
        return ms.stream().map(KernelModule::name).toList();
    }

    @Test
    void loadOrderPutsDependenciesFirstAndOnlyWhatIsNeeded() throws IOException {
        List<KernelModule> all = List.of(mod("virtio_net", "net_failover", "virtio_ring", "virtio"),
                mod("net_failover", "failover"), mod("failover"), mod("virtio", "virtio_ring"), mod("virtio_ring"),
                mod("virtio_pci", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_ring"),
                mod("virtio_pci_modern_dev"), mod("virtio_pci_legacy_dev"), mod("e1000"));
        List<String> order = names(KernelModule.loadOrder(all, List.of("virtio_pci", "virtio_net")));
        assertEquals(List.of("virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_ring", "virtio", "virtio_pci",
                "failover", "net_failover", "virtio_net"), order);
        List<String> reversedInput = names(KernelModule.loadOrder(all.reversed(), List.of("virtio_pci", "virtio_net")));
        assertEquals(order, reversedInput, "the order depends on the graph, not on how modules were listed");
    }

    @Test
    void missingDependencyAndCyclesAreErrors() {
        IOException missing = assertThrows(IOException.class,
                () -> KernelModule.loadOrder(List.of(mod("a", "b")), List.of("a")));
        assertTrue(missing.getMessage().contains("a -> b"), missing.getMessage());
        IOException cycle = assertThrows(IOException.class,
                () -> KernelModule.loadOrder(List.of(mod("a", "b"), mod("b", "c"), mod("c", "a")), List.of("a")));
        assertTrue(cycle.getMessage().contains("a -> b -> c -> a"), cycle.getMessage());
    }

    @Test
    void theRealNicModulesLoadAfterTheirDependencies() throws Exception {
        GuestImage image = GuestImage.get();   // skips without the tools or the kernel package
        List<KernelModule> mods = new ArrayList<>();
        for (Path p : image.modules) {
            mods.add(KernelModule.read(p));
        }
        Set<String> loaded = new java.util.HashSet<>();
        for (KernelModule m : mods) {
            assertTrue(loaded.containsAll(m.depends()), m.name() + " needs " + m.depends() + ", loaded " + loaded);
            loaded.add(m.name());
        }
        assertEquals("virtio_net", mods.get(mods.size() - 1).name());
        assertTrue(loaded.containsAll(Set.of("virtio_pci", "virtio_net", "virtio", "virtio_ring", "net_failover")),
                String.valueOf(loaded));
        assertEquals(loaded.size(), mods.size(), "no module twice");
        assertEquals(mods.stream().map(KernelModule::name).collect(Collectors.toSet()), loaded);
    }
}
