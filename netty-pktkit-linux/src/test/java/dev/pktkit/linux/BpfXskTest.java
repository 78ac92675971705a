package dev.pktkit.linux;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Bpf} and {@link Xsk} against the running kernel (root: CAP_BPF, CAP_NET_RAW). */
class BpfXskTest {
    @BeforeEach
    void root() {
        Assumptions.assumeTrue(LibC.isAvailable() && Bpf.unavailabilityReason() == null, "bpf(2) not callable");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
    }

    private static MemorySegment program(Arena arena, long... insns) {
        MemorySegment s = arena.allocate(insns.length * 8L, 8);
        for (int i = 0; i < insns.length; i++) {
            s.set(ValueLayout.JAVA_LONG, i * 8L, insns[i]);
        }
        return s;
    }

    @Test
    void xskMapIsCreatedAndFoundAgainByItsId() {
        int fd = Bpf.mapCreate(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, 8, "t_xsks");
        assertTrue(fd >= 0, Errno.name(-fd));
        try {
            Bpf.MapInfo info = Bpf.mapInfo(fd);
            assertEquals(Bpf.BPF_MAP_TYPE_XSKMAP, info.type());
            assertEquals(8, info.maxEntries());
            assertEquals("t_xsks", info.name());
            int again = Bpf.mapGetFdById(info.id());
            assertTrue(again >= 0);
            assertEquals(info.id(), Bpf.mapInfo(again).id());
            LibC.close(again);
            // an XSKMAP only takes AF_XDP sockets: a UDP socket is refused
            int udp = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM, 0);
            assertTrue(Bpf.mapUpdate(fd, 0, udp, Bpf.BPF_ANY) < 0);
            LibC.close(udp);
            assertEquals(0, Bpf.mapDelete(fd, 1), "an XSKMAP slot without a socket deletes fine (array map)");
        } finally {
            LibC.close(fd);
        }
        assertTrue(Bpf.mapGetFdById(Integer.MAX_VALUE) < 0);
    }

    @Test
    void programsLoadAndTheVerifierExplainsARejection() {
        try (Arena arena = Arena.ofConfined()) {
            // r0 = 2 (XDP_PASS); exit   — little-endian bpf_insn words
            Bpf.LoadResult ok = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP,
                    program(arena, 0x00000002_000000b7L, 0x95L), "GPL", "t_pass");
            assertTrue(ok.ok(), ok.log());
            assertTrue(Bpf.progId(ok.fd()) > 0);
            LibC.close(ok.fd());
            // exit with r0 never written
            Bpf.LoadResult bad = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, program(arena, 0x95L), "GPL",
                    "t_bad");
            assertFalse(bad.ok());
            assertEquals(-Errno.EACCES, bad.fd());
            assertTrue(bad.log().contains("R0"), bad.log());
        }
    }

    @Test
    void anAfXdpSocketTakesAUmemAndRings() {
        int fd = Xsk.socket();
        assertTrue(fd >= 0, Errno.name(-fd));
        long len = 64 * 2048;
        long umem = LibC.mmap(len, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
        assertTrue(umem > 0);
        try {
            assertEquals(0, Xsk.registerUmem(fd, umem, len, 2048, 0));
            assertEquals(0, Xsk.setRingSize(fd, Xsk.XDP_UMEM_FILL_RING, 32));
            assertEquals(0, Xsk.setRingSize(fd, Xsk.XDP_UMEM_COMPLETION_RING, 32));
            assertEquals(0, Xsk.setRingSize(fd, Xsk.XDP_RX_RING, 32));
            assertEquals(-Errno.EINVAL, Xsk.setRingSize(fd, Xsk.XDP_TX_RING, 33), "a ring size must be a power of 2");
            Xsk.MmapOffsets off = Xsk.mmapOffsets(fd);
            assertTrue(off.rx().desc() > off.rx().consumer() && off.fill().desc() > 0);
            assertTrue(Xsk.bind(fd, Integer.MAX_VALUE, 0, 0, 0) < 0, "no such interface");
        } finally {
            LibC.close(fd);
            LibC.munmap(umem, len);
        }
    }
}
