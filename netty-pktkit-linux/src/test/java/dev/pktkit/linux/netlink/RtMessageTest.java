package dev.pktkit.linux.netlink;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** rtnetlink requests as bytes, and answers parsed from bytes; no kernel involved. */
class RtMessageTest {
    private static ByteBuffer bytes(MemorySegment s) {
        return ByteBuffer.wrap(s.toArray(ValueLayout.JAVA_BYTE)).order(ByteOrder.nativeOrder());
    }

    @Test
    void setMtuRequestLayout() {
        try (Arena arena = Arena.ofConfined()) {
            RtMessage m = new RtMessage(RtNetlink.RTM_NEWLINK, RtNetlink.NLM_F_REQUEST | RtNetlink.NLM_F_ACK)
                    .ifinfo(7, 0, 0).attrInt(RtNetlink.IFLA_MTU, 1400);
            ByteBuffer b = bytes(m.finish(arena, 42));
            assertEquals(16 + 16 + 8, b.capacity());
            assertEquals(40, b.getInt(0));                       // nlmsg_len
            assertEquals(RtNetlink.RTM_NEWLINK, b.getShort(4));  // nlmsg_type
            assertEquals(RtNetlink.NLM_F_REQUEST | RtNetlink.NLM_F_ACK, b.getShort(6));
            assertEquals(42, b.getInt(8));                       // nlmsg_seq
            assertEquals(0, b.getInt(12));                       // nlmsg_pid: the kernel fills it
            assertEquals(7, b.getInt(16 + 4));                   // ifi_index
            assertEquals(8, b.getShort(32));                     // rta_len
            assertEquals(RtNetlink.IFLA_MTU, b.getShort(34));
            assertEquals(1400, b.getInt(36));
        }
    }

    @Test
    void stringAndByteAttributesArePaddedToFourBytes() {
        try (Arena arena = Arena.ofConfined()) {
            RtMessage m = new RtMessage(RtNetlink.RTM_GETLINK, RtNetlink.NLM_F_REQUEST).ifinfo(0, 0, 0)
                    .attrString(RtNetlink.IFLA_IFNAME, "veth0")
                    .attrBytes(RtNetlink.IFLA_ADDRESS, new byte[] {2, 0, 0, 0, 0, 1});
            ByteBuffer b = bytes(m.finish(arena, 1));
            // "veth0\0" = 6 bytes: rta_len 10, padded to 12; the MAC: rta_len 10, padded to 12
            assertEquals(16 + 16 + 12 + 12, b.getInt(0));
            assertEquals(10, b.getShort(32));
            assertEquals("veth0", new String(b.array(), 36, 5, StandardCharsets.UTF_8));
            assertEquals(0, b.get(41));
            assertEquals(10, b.getShort(44));
            assertEquals(RtNetlink.IFLA_ADDRESS, b.getShort(46));
            assertEquals(1, b.get(53));
        }
    }

    /** One datagram of netlink messages, built like the kernel sends them. */
    private static MemorySegment datagram(Arena arena, byte[]... messages) {
        int n = 0;
        for (byte[] m : messages) {
            n += RtMessage.align(m.length);
        }
        MemorySegment s = arena.allocate(n);
        int off = 0;
        for (byte[] m : messages) {
            MemorySegment.copy(m, 0, s, ValueLayout.JAVA_BYTE, off, m.length);
            off += RtMessage.align(m.length);
        }
        return s;
    }

    private static byte[] error(int seq, int err) {
        ByteBuffer b = ByteBuffer.allocate(36).order(ByteOrder.nativeOrder());
        b.putInt(36).putShort((short) RtNetlink.NLMSG_ERROR).putShort((short) 0).putInt(seq).putInt(0);
        b.putInt(err);
        return b.array();
    }

    private static byte[] newLink(int seq, int index, String name, int mtu, byte[] mac) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        int len = 16 + 16 + RtMessage.align(4 + n.length) + 8 + RtMessage.align(4 + mac.length);
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
        b.putInt(len).putShort((short) RtNetlink.RTM_NEWLINK).putShort((short) 0).putInt(seq).putInt(0);
        b.put((byte) 0).put((byte) 0).putShort((short) 1).putInt(index).putInt(0x1043).putInt(0);
        b.putShort((short) (4 + n.length)).putShort((short) RtNetlink.IFLA_IFNAME).put(n);
        b.position(RtMessage.align(b.position()));
        b.putShort((short) 8).putShort((short) RtNetlink.IFLA_MTU).putInt(mtu);
        b.putShort((short) (4 + mac.length)).putShort((short) RtNetlink.IFLA_ADDRESS).put(mac);
        return b.array();
    }

    @Test
    void answersAreMatchedBySequenceNumber() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = datagram(arena, error(3, -22), error(4, 0));
            int n = (int) d.byteSize();
            assertEquals(new RtMessage.Answer(RtMessage.Kind.ERROR, 22, null), RtMessage.answer(d, n, 3, false));
            assertEquals(RtMessage.Answer.ACK, RtMessage.answer(d, n, 4, false));
            assertEquals(RtMessage.Answer.NONE, RtMessage.answer(d, n, 5, false));
        }
    }

    @Test
    void aLinkAnswerIsParsed() {
        try (Arena arena = Arena.ofConfined()) {
            byte[] mac = {2, 0x11, 0x22, 0x33, 0x44, 0x55};
            MemorySegment d = datagram(arena, newLink(9, 12, "pk0", 1400, mac));
            RtMessage.Answer a = RtMessage.answer(d, (int) d.byteSize(), 9, true);
            assertEquals(RtMessage.Kind.DONE, a.kind());
            assertEquals(new LinkInfo(12, "pk0", 1400, 0x1043, 0x02_11_22_33_44_55L), a.link());
            assertEquals(RtMessage.Answer.NONE, RtMessage.answer(d, (int) d.byteSize(), 9, false));
        }
    }

    @Test
    void malformedAnswersAreReportedNotThrown() {
        try (Arena arena = Arena.ofConfined()) {
            byte[] bad = error(1, 0);
            ByteBuffer.wrap(bad).order(ByteOrder.nativeOrder()).putInt(0, 400); // longer than the datagram
            MemorySegment d = datagram(arena, bad);
            assertEquals(RtMessage.Answer.MALFORMED, RtMessage.answer(d, (int) d.byteSize(), 1, false));
            byte[] tiny = error(1, 0);
            ByteBuffer.wrap(tiny).order(ByteOrder.nativeOrder()).putInt(0, 8); // shorter than a header
            MemorySegment t = datagram(arena, tiny);
            assertEquals(RtMessage.Answer.MALFORMED, RtMessage.answer(t, (int) t.byteSize(), 1, false));
            // a link message cut before its ifinfomsg
            byte[] cut = new byte[20];
            ByteBuffer.wrap(cut).order(ByteOrder.nativeOrder()).putInt(20).putShort((short) RtNetlink.RTM_NEWLINK)
                    .putShort((short) 0).putInt(2);
            MemorySegment c = datagram(arena, cut);
            assertEquals(RtMessage.Answer.MALFORMED, RtMessage.answer(c, (int) c.byteSize(), 2, true));
            assertNull(RtMessage.parseLink(c, 0, 20));
        }
    }
}
