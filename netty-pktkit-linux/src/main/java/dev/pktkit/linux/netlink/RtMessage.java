package dev.pktkit.linux.netlink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static dev.pktkit.linux.netlink.RtNetlink.IFINFOMSG_LEN;
import static dev.pktkit.linux.netlink.RtNetlink.IFLA_ADDRESS;
import static dev.pktkit.linux.netlink.RtNetlink.IFLA_IFNAME;
import static dev.pktkit.linux.netlink.RtNetlink.IFLA_MTU;
import static dev.pktkit.linux.netlink.RtNetlink.NLMSG_DONE;
import static dev.pktkit.linux.netlink.RtNetlink.NLMSG_ERROR;
import static dev.pktkit.linux.netlink.RtNetlink.NLMSG_HDRLEN;
import static dev.pktkit.linux.netlink.RtNetlink.RTM_NEWLINK;
import static dev.pktkit.linux.netlink.RtNetlink.RTPROT_STATIC;
import static dev.pktkit.linux.netlink.RtNetlink.RTN_UNICAST;
import static dev.pktkit.linux.netlink.RtNetlink.RT_TABLE_MAIN;

/**
 * One rtnetlink request under construction (a {@code nlmsghdr}, one fixed struct, attributes, in host byte
 * order, 4-byte aligned as {@code NLMSG_ALIGN}/{@code RTA_ALIGN} want), and the parser of the kernel's answers.
 * Not thread-safe; one per request.
 */
final class RtMessage {
    /** Upper bound on a request: the largest (an address with flags) is under 100 bytes. */
    static final int MAX_REQUEST = 512;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final byte[] bytes = new byte[MAX_REQUEST];
    private final ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());

    RtMessage(int type, int flags) {
        b.putInt(0); // length, filled by finish
        b.putShort((short) type);
        b.putShort((short) flags);
        b.putInt(0); // seq, filled by finish
        b.putInt(0); // port id: 0 = the kernel fills ours
    }

    /** {@code struct ifinfomsg}: family unspecified, {@code index}, {@code flags} under the {@code change} mask. */
    RtMessage ifinfo(int index, int flags, int change) {
        b.put((byte) 0).put((byte) 0).putShort((short) 0);
        b.putInt(index).putInt(flags).putInt(change);
        return this;
    }

    /** {@code struct ifaddrmsg}. */
    RtMessage ifaddr(int family, int prefixLength, int flags, int index) {
        b.put((byte) family).put((byte) prefixLength).put((byte) flags).put((byte) 0).putInt(index);
        return this;
    }

    /** {@code struct rtmsg} for a static unicast route in the main table. */
    RtMessage rtmsg(int family, int dstLength, int scope) {
        b.put((byte) family).put((byte) dstLength).put((byte) 0).put((byte) 0);
        b.put((byte) RT_TABLE_MAIN).put((byte) RTPROT_STATIC).put((byte) scope).put((byte) RTN_UNICAST);
        b.putInt(0);
        return this;
    }

    RtMessage attrInt(int type, int value) {
        b.putShort((short) 8).putShort((short) type).putInt(value);
        return this;
    }

    RtMessage attrBytes(int type, byte[] value) {
        b.putShort((short) (4 + value.length)).putShort((short) type).put(value);
        pad();
        return this;
    }

    /** A zero-terminated string attribute ({@code IFLA_IFNAME}). */
    RtMessage attrString(int type, String value) {
        byte[] s = value.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) (4 + s.length + 1)).putShort((short) type).put(s).put((byte) 0);
        pad();
        return this;
    }

    private void pad() {
        while ((b.position() & 3) != 0) {
            b.put((byte) 0);
        }
    }

    /** The finished request with sequence number {@code seq}, in native memory of {@code arena}. */
    MemorySegment finish(Arena arena, int seq) {
        int len = b.position();
        b.putInt(0, len);
        b.putInt(8, seq);
        MemorySegment s = arena.allocate(len);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, len);
        return s;
    }

    // ---- answers ----

    /** What one received datagram says about request {@code seq}. */
    enum Kind {
        /** Nothing for this request in the datagram (an answer to an earlier request that timed out). */
        NONE,
        /** The request is answered: an ACK (link null) or, for a lookup, the link. */
        DONE,
        /** The kernel refused the request with {@link Answer#errno()}. */
        ERROR,
        /** A message whose length does not fit the datagram. */
        MALFORMED
    }

    /** The parsed answer. */
    record Answer(Kind kind, int errno, LinkInfo link) {
        static final Answer NONE = new Answer(Kind.NONE, 0, null);
        static final Answer ACK = new Answer(Kind.DONE, 0, null);
        static final Answer MALFORMED = new Answer(Kind.MALFORMED, 0, null);
    }

    /**
     * Reads the first {@code n} bytes of {@code buf} (one datagram from the kernel) as answers and returns what
     * they say about request {@code seq}: an {@code NLMSG_ERROR} (errno 0 is an ACK), an {@code NLMSG_DONE}, or,
     * when {@code lookup}, an {@code RTM_NEWLINK} describing the link asked for.
     */
    static Answer answer(MemorySegment buf, int n, int seq, boolean lookup) {
        int off = 0;
        while (off + NLMSG_HDRLEN <= n) {
            int len = buf.get(U32, off);
            int type = Short.toUnsignedInt(buf.get(U16, off + 4));
            int rseq = buf.get(U32, off + 8);
            if (len < NLMSG_HDRLEN || off + len > n) {
                return Answer.MALFORMED;
            }
            if (rseq == seq) {
                if (type == NLMSG_ERROR) {
                    if (len < NLMSG_HDRLEN + 4) {
                        return Answer.MALFORMED;
                    }
                    int err = buf.get(U32, off + NLMSG_HDRLEN);
                    return err == 0 ? Answer.ACK : new Answer(Kind.ERROR, -err, null);
                }
                if (type == RTM_NEWLINK && lookup) {
                    LinkInfo link = parseLink(buf, off, len);
                    return link == null ? Answer.MALFORMED : new Answer(Kind.DONE, 0, link);
                }
                if (type == NLMSG_DONE) {
                    return Answer.ACK;
                }
            }
            off += align(len);
        }
        return Answer.NONE;
    }

    /** The link an {@code RTM_NEWLINK} message at {@code off} (length {@code len}) describes; null if too short. */
    static LinkInfo parseLink(MemorySegment buf, int off, int len) {
        int body = off + NLMSG_HDRLEN;
        if (len < NLMSG_HDRLEN + IFINFOMSG_LEN) {
            return null;
        }
        int index = buf.get(U32, body + 4);
        int flags = buf.get(U32, body + 8);
        String name = null;
        int mtu = 0;
        long mac = 0;
        int a = body + IFINFOMSG_LEN;
        int end = off + len;
        while (a + 4 <= end) {
            int alen = Short.toUnsignedInt(buf.get(U16, a));
            int atype = Short.toUnsignedInt(buf.get(U16, a + 2)) & 0x3FFF; // without NLA_F_NESTED / _NET_BYTEORDER
            if (alen < 4 || a + alen > end) {
                break;
            }
            int data = a + 4;
            int dlen = alen - 4;
            switch (atype) {
                case IFLA_IFNAME -> {
                    byte[] s = new byte[dlen];
                    MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, data, s, 0, dlen);
                    int z = 0;
                    while (z < s.length && s[z] != 0) {
                        z++;
                    }
                    name = new String(s, 0, z, StandardCharsets.UTF_8);
                }
                case IFLA_MTU -> mtu = dlen >= 4 ? buf.get(U32, data) : 0;
                case IFLA_ADDRESS -> {
                    if (dlen == 6) {
                        for (int i = 0; i < 6; i++) {
                            mac = (mac << 8) | (buf.get(ValueLayout.JAVA_BYTE, data + i) & 0xFF);
                        }
                    }
                }
                default -> {
                }
            }
            a += align(alen);
        }
        return new LinkInfo(index, name, mtu, flags, mac);
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }
}
