package dev.pktkit.afxdp;

import dev.pktkit.linux.Bpf;
import dev.pktkit.linux.LibC;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.linux.netlink.RtNetlink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The XDP program that hands frames to AF_XDP sockets, written as eBPF instructions here and loaded with
 * {@code bpf(BPF_PROG_LOAD)}; no compiler, object file or libbpf involved. Its whole text:
 *
 * <pre>
 *   r2 = *(u32 *)(r1 + 16)        ; ctx-&gt;rx_queue_index
 *   r1 = map_fd(xskmap)           ; 16-byte load of the map (BPF_PSEUDO_MAP_FD)
 *   r3 = XDP_PASS                 ; what to do when the queue has no socket
 *   call bpf_redirect_map         ; to the socket at key rx_queue_index, else XDP_PASS
 *   exit                          ; r0: XDP_REDIRECT or XDP_PASS
 * </pre>
 *
 * So every frame of a queue with a socket goes to that socket, and other queues' frames go up the kernel's
 * stack as before. {@link #attach} puts it on an interface through a {@code bpf_link}
 * ({@code BPF_LINK_CREATE}, native or generic mode): the program stays attached while the link's descriptor is
 * open, so a JVM that dies leaves no program behind, and closing the attachment detaches it.
 *
 * <p>Thread-safe.
 */
public final class XdpProgram implements AutoCloseable {
    /** {@code BPF_FUNC_redirect_map}. */
    static final int BPF_FUNC_REDIRECT_MAP = 51;
    /** {@code XDP_PASS}. */
    static final int XDP_PASS = 2;
    /** {@code offsetof(struct xdp_md, rx_queue_index)}. */
    static final int XDP_MD_RX_QUEUE_INDEX = 16;
    /** The license the program declares (its text is this project's; the kernel wants a GPL-compatible one). */
    static final String LICENSE = "Dual MIT/GPL";

    private final XskMap map;
    private final boolean ownsMap;
    private final int fd;
    private boolean closed;

    private XdpProgram(XskMap map, boolean ownsMap, int fd) {
        this.map = map;
        this.ownsMap = ownsMap;
        this.fd = fd;
    }

    /**
     * Creates an XSKMAP for {@code queues} queues and loads the redirect program over it. The program owns the
     * map: closing the program closes it.
     */
    public static XdpProgram load(int queues) {
        XskMap map = XskMap.create(queues);
        try {
            return load(map, true);
        } catch (RuntimeException e) {
            map.close();
            throw e;
        }
    }

    /** Loads the redirect program over {@code map}, which stays the caller's. */
    public static XdpProgram load(XskMap map) {
        return load(map, false);
    }

    private static XdpProgram load(XskMap map, boolean owns) {
        String why = Bpf.unavailabilityReason();
        if (why != null) {
            throw new XdpException(XdpException.Reason.UNSUPPORTED, why, 0, null);
        }
        try (Arena arena = Arena.ofConfined()) {
            byte[] code = instructions(map.fd());
            MemorySegment insns = arena.allocate(code.length, 8);
            MemorySegment.copy(code, 0, insns, ValueLayout.JAVA_BYTE, 0, code.length);
            Bpf.LoadResult r = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, insns, LICENSE, "pktkit_xsk");
            if (!r.ok()) {
                XdpException e = XdpException.of("BPF_PROG_LOAD of the XSK redirect program", r.fd());
                if (e.reason() == XdpException.Reason.SYSTEM_ERROR && !r.log().isEmpty()) {
                    throw new XdpException(XdpException.Reason.PROGRAM_REJECTED, e.getMessage() + "; verifier: "
                            + r.log(), r.fd(), e);
                }
                throw e;
            }
            return new XdpProgram(map, owns, r.fd());
        }
    }

    /**
     * The program's instructions for a map with descriptor {@code mapFd}, in the host's byte order (eBPF's
     * {@code struct bpf_insn}: opcode, dst/src register nibbles, 16-bit offset, 32-bit immediate).
     */
    static byte[] instructions(int mapFd) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(6 * 8).order(ByteOrder.nativeOrder());
        insn(b, 0x61, 2, 1, XDP_MD_RX_QUEUE_INDEX, 0);      // BPF_LDX | BPF_MEM | BPF_W: r2 = *(u32 *)(r1 + 16)
        insn(b, 0x18, 1, 1, 0, mapFd);                      // BPF_LD | BPF_DW | BPF_IMM, src BPF_PSEUDO_MAP_FD
        insn(b, 0x00, 0, 0, 0, 0);                          // second half of the 16-byte load
        insn(b, 0xb7, 3, 0, 0, XDP_PASS);                   // BPF_ALU64 | BPF_MOV | BPF_K: r3 = XDP_PASS
        insn(b, 0x85, 0, 0, 0, BPF_FUNC_REDIRECT_MAP);      // BPF_JMP | BPF_CALL
        insn(b, 0x95, 0, 0, 0, 0);                          // BPF_JMP | BPF_EXIT
        return b.array();
    }

    private static void insn(java.nio.ByteBuffer b, int code, int dst, int src, int off, int imm) {
        b.put((byte) code);
        b.put((byte) (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? (src << 4) | dst : (dst << 4) | src));
        b.putShort((short) off);
        b.putInt(imm);
    }

    /** The map the program redirects through. */
    public XskMap xskMap() {
        return map;
    }

    /** The program's descriptor. */
    public int fd() {
        return fd;
    }

    /** The kernel's id of the program ({@code ip link} shows it as {@code prog/xdp id N}). */
    public int id() {
        return Bpf.progId(fd);
    }

    /**
     * Attaches the program to interface {@code ifname} in {@code namespace} (the caller's if null) in
     * {@code mode}, through a {@code bpf_link}. Blocks the caller for the kernel's rtnl lock: not on an event
     * loop.
     *
     * @throws XdpException with {@code BUSY} if the interface has an XDP program already, {@code NO_SUCH_DEVICE}
     *                      if there is no such interface, {@code UNSUPPORTED} if the driver has no native mode
     */
    public XdpAttachment attach(NetNamespace namespace, String ifname, XdpMode mode) {
        java.util.concurrent.Callable<XdpAttachment> task = () -> {
            int ifindex;
            try (RtNetlink nl = RtNetlink.open()) {
                var link = nl.findLink(ifname);
                if (link.isEmpty()) {
                    throw new XdpException(XdpException.Reason.NO_SUCH_DEVICE, "no interface " + ifname, 0, null);
                }
                ifindex = link.get().index();
            }
            int r = Bpf.linkCreate(fd, ifindex, Bpf.BPF_XDP, mode.flags());
            if (r < 0) {
                throw XdpException.of("attaching the XDP program to " + ifname + " in " + mode + " mode", r);
            }
            return new XdpAttachment(r, ifname, ifindex, mode);
        };
        try {
            return namespace == null ? task.call() : namespace.call(task);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes the program's descriptor (attachments keep it alive) and, if it made it, its map's. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
            if (ownsMap) {
                map.close();
            }
        }
    }
}
