package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * View, validator and builder for DHCPv4 messages (RFC 2131) and their options (RFC 2132), including option
 * overload (option 52: options continue in the 'file' and/or 'sname' fields) and long options split over several
 * instances (RFC 3396).
 *
 * <pre>
 *   0 op | 1 htype | 2 hlen | 3 hops
 *   4 xid (4)          8 secs (2)        10 flags (2, bit 15 = broadcast)
 *  12 ciaddr (4)      16 yiaddr (4)      20 siaddr (4)       24 giaddr (4)
 *  28 chaddr (16)     44 sname (64)     108 file (128)
 * 236 magic cookie 99.130.83.99         240 options ...
 * </pre>
 *
 * <p>{@code off} is the absolute index of the message (the UDP payload); all fields are big-endian. The fixed-part
 * accessors need the 236-byte BOOTP fixed part within {@code [0, writerIndex())} and otherwise return -1 (fields,
 * {@code xid}, MAC), 0 (addresses) or false. Option accessors also take {@code len}, the message length (the UDP
 * payload length): the options area is {@code [off + 240, off + len)}.
 *
 * <h2>Options</h2>
 * Options are read in RFC 3396 order: the options field, then 'file' if option 52 says so, then 'sname'. In each
 * area PAD (0) octets are skipped and END (255), or the end of the area, ends that area. Each option is a code, a
 * length octet and that many value octets; an option whose length runs past its area makes the whole message
 * malformed, as does a bad option 52 (length not 1, value not 1..3, present twice, or present inside 'file' or
 * 'sname', which could otherwise make a reader loop). A code that occurs several times is one option whose value
 * is the concatenation of the instances, in reading order (RFC 3396).
 *
 * <p>Option accessors validate the whole options walk and answer "absent" (-1, 0 for addresses, null, false) for
 * a malformed message; {@link #check} says why. The accessors returning primitives do not allocate; those
 * returning {@code String}, {@code byte[]} or {@code List} do, and are meant for control paths. To visit every
 * option without allocating:
 * <pre>{@code
 * for (int p = Dhcp4.nextOption(buf, off, len, Dhcp4.DONE); p != Dhcp4.DONE; p = Dhcp4.nextOption(buf, off, len, p)) {
 *     if (p < 0) { drop(); break; }
 *     int code = Dhcp4.codeAt(buf, p), n = Dhcp4.lengthAt(buf, p);   // value at p + 2
 * }
 * }</pre>
 *
 * <p>Builders append at {@code out.writerIndex()}: {@link #writeFixed} (fixed part and cookie), the
 * {@code write...Option} methods, then {@link #writeEnd} (END, and zero padding to the 300-byte BOOTP minimum).
 * No method retains or releases a buffer it is given.
 */
public final class Dhcp4 {
    private Dhcp4() {
    }

    /** op: BOOTREQUEST (client to server). */
    public static final int OP_REQUEST = 1;
    /** op: BOOTREPLY (server to client). */
    public static final int OP_REPLY = 2;
    /** htype: Ethernet (10 Mb and up). */
    public static final int HTYPE_ETHERNET = 1;
    /** UDP port of DHCP servers. */
    public static final int SERVER_PORT = 67;
    /** UDP port of DHCP clients. */
    public static final int CLIENT_PORT = 68;
    /** The magic cookie 99.130.83.99 that starts the options field. */
    public static final int MAGIC_COOKIE = 0x63825363;
    /** flags: the broadcast bit (RFC 2131 §2). */
    public static final int FLAG_BROADCAST = 0x8000;

    /** Offset of chaddr. */
    public static final int CHADDR_OFFSET = 28;
    /** Length of chaddr. */
    public static final int CHADDR_LENGTH = 16;
    /** Offset of sname. */
    public static final int SNAME_OFFSET = 44;
    /** Length of sname. */
    public static final int SNAME_LENGTH = 64;
    /** Offset of file. */
    public static final int FILE_OFFSET = 108;
    /** Length of file. */
    public static final int FILE_LENGTH = 128;
    /** Offset of the magic cookie; also the length of the BOOTP fixed part. */
    public static final int COOKIE_OFFSET = 236;
    /** Length of the BOOTP fixed part (without the cookie). */
    public static final int FIXED_LENGTH = 236;
    /** Offset of the options field; also the shortest valid DHCP message (fixed part and cookie). */
    public static final int OPTIONS_OFFSET = 240;
    /** Shortest BOOTP message (RFC 951 / RFC 1542); {@link #writeEnd} pads to it. */
    public static final int MIN_BOOTP_LENGTH = 300;
    /** The message size every client must accept (RFC 2131 §2: 576-byte IP datagram, minus IP and UDP headers). */
    public static final int MIN_MAX_MESSAGE_SIZE = 576;

    /** Message type DHCPDISCOVER. */
    public static final int DISCOVER = 1;
    /** Message type DHCPOFFER. */
    public static final int OFFER = 2;
    /** Message type DHCPREQUEST. */
    public static final int REQUEST = 3;
    /** Message type DHCPDECLINE. */
    public static final int DECLINE = 4;
    /** Message type DHCPACK. */
    public static final int ACK = 5;
    /** Message type DHCPNAK. */
    public static final int NAK = 6;
    /** Message type DHCPRELEASE. */
    public static final int RELEASE = 7;
    /** Message type DHCPINFORM. */
    public static final int INFORM = 8;

    /** Option 52 bit: options continue in 'file'. */
    public static final int OVERLOAD_FILE = 1;
    /** Option 52 bit: options continue in 'sname'. */
    public static final int OVERLOAD_SNAME = 2;

    /** {@link #check} code: the magic cookie is not 99.130.83.99 (a plain BOOTP message or garbage). */
    public static final int BAD_COOKIE = WireError.FIRST_TRANSPORT_CODE;
    /**
     * {@link #check} code: option 52 is malformed (length not 1, value not 1..3), repeated, or present inside
     * 'file' or 'sname'.
     */
    public static final int BAD_OVERLOAD = WireError.FIRST_TRANSPORT_CODE - 1;

    /** {@link #nextOption}: the position that starts a walk, and the answer when no option is left. */
    public static final int DONE = 0;

    private static final int AREA_DONE = Integer.MIN_VALUE;
    private static final int MAIN = 0;
    private static final int FILE = 1;
    private static final int SNAME = 2;

    /** The name of a code from {@link #check}: this class's codes, else {@link WireError#name}. */
    public static String errorName(int code) {
        return switch (code) {
            case BAD_COOKIE -> "BAD_COOKIE";
            case BAD_OVERLOAD -> "BAD_OVERLOAD";
            default -> WireError.name(code);
        };
    }

    // ---- fixed part ----

    private static boolean fixed(ByteBuf buf, int off) {
        return Bounds.has(buf, off, FIXED_LENGTH);
    }

    /** op ({@link #OP_REQUEST}, {@link #OP_REPLY}); -1 if short. */
    public static int op(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedByte(off) : -1;
    }

    /** Hardware address type ({@link #HTYPE_ETHERNET}); -1 if short. */
    public static int htype(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedByte(off + 1) : -1;
    }

    /** Hardware address length (6 for Ethernet); -1 if short. */
    public static int hlen(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedByte(off + 2) : -1;
    }

    /** Relay hops; -1 if short. */
    public static int hops(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedByte(off + 3) : -1;
    }

    /** Transaction id, 0..2^32-1; -1 if short. */
    public static long xid(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedInt(off + 4) : -1;
    }

    /** Seconds since the client began acquiring; -1 if short. */
    public static int secs(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + 8) : -1;
    }

    /** The flags field; -1 if short. */
    public static int flags(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + 10) : -1;
    }

    /** Whether the broadcast flag is set; false if short. */
    public static boolean broadcast(ByteBuf buf, int off) {
        return fixed(buf, off) && (buf.getUnsignedShort(off + 10) & FLAG_BROADCAST) != 0;
    }

    /** Client address (when the client is bound, renewing or rebinding); 0 if short. */
    public static int ciaddr(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getInt(off + 12) : 0;
    }

    /** "Your" (client) address offered or assigned by the server; 0 if short. */
    public static int yiaddr(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getInt(off + 16) : 0;
    }

    /** Next server address (for bootstrap); 0 if short. */
    public static int siaddr(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getInt(off + 20) : 0;
    }

    /** Relay agent address; 0 if short. */
    public static int giaddr(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getInt(off + 24) : 0;
    }

    /**
     * The first six octets of chaddr as a MAC ({@link MacAddress} form), meaningful for htype 1 / hlen 6; -1 if
     * short.
     */
    public static long chaddr(ByteBuf buf, int off) {
        return fixed(buf, off)
                ? ((long) buf.getUnsignedShort(off + CHADDR_OFFSET) << 32) | buf.getUnsignedInt(off + CHADDR_OFFSET + 2)
                : -1;
    }

    /** The magic cookie field, 0..2^32-1; -1 if the 240 bytes up to the options are not readable. */
    public static long magicCookie(ByteBuf buf, int off) {
        return Bounds.has(buf, off, OPTIONS_OFFSET) ? buf.getUnsignedInt(off + COOKIE_OFFSET) : -1;
    }

    /**
     * Length of the NUL-terminated text in the {@code fieldLength}-byte field at {@code off + fieldOffset}
     * ({@link #SNAME_OFFSET}/{@link #SNAME_LENGTH} or {@link #FILE_OFFSET}/{@link #FILE_LENGTH}): the index of the
     * first zero octet, or the field length; -1 if short. Meaningless when the field is overloaded with options.
     */
    public static int textLength(ByteBuf buf, int off, int fieldOffset, int fieldLength) {
        if (!fixed(buf, off) || fieldOffset < 0 || fieldLength < 0 || fieldOffset > FIXED_LENGTH - fieldLength) {
            return -1;
        }
        int i = buf.indexOf(off + fieldOffset, off + fieldOffset + fieldLength, (byte) 0);
        return i < 0 ? fieldLength : i - off - fieldOffset;
    }

    // ---- validation ----

    /** 0, or TRUNCATED / BAD_COOKIE: the fixed part and cookie of a {@code len}-byte message are present. */
    private static int frame(ByteBuf buf, int off, int len) {
        if (len < OPTIONS_OFFSET || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        return buf.getInt(off + COOKIE_OFFSET) == MAGIC_COOKIE ? 0 : BAD_COOKIE;
    }

    /**
     * Validates the {@code len}-byte message at {@code off}: fixed part, cookie, every option in every area.
     *
     * @return {@code len}, or {@link WireError#TRUNCATED} ({@code len} below 240 or past {@code writerIndex()}),
     *         {@link WireError#BAD_TYPE} (op not 1 or 2), {@link WireError#BAD_ADDRESS} (hlen above 16),
     *         {@link #BAD_COOKIE}, {@link WireError#BAD_OPTION} (an option runs past its area) or
     *         {@link #BAD_OVERLOAD}
     */
    public static int check(ByteBuf buf, int off, int len) {
        if (len < OPTIONS_OFFSET || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        int op = buf.getUnsignedByte(off);
        if (op != OP_REQUEST && op != OP_REPLY) {
            return WireError.BAD_TYPE;
        }
        if (buf.getUnsignedByte(off + 2) > CHADDR_LENGTH) {
            return WireError.BAD_ADDRESS;
        }
        if (buf.getInt(off + COOKIE_OFFSET) != MAGIC_COOKIE) {
            return BAD_COOKIE;
        }
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (p < 0) {
                return p;
            }
        }
        return len;
    }

    // ---- options: walk ----

    /** In {@code [p, end)}: the position of the next option (not PAD), AREA_DONE at END or the end, or BAD_OPTION. */
    private static int scan(ByteBuf buf, int p, int end) {
        while (p < end) {
            int code = buf.getUnsignedByte(p);
            if (code == Dhcp4Option.PAD) {
                p++;
                continue;
            }
            if (code == Dhcp4Option.END) {
                return AREA_DONE;
            }
            if (end - p < 2 || buf.getUnsignedByte(p + 1) > end - p - 2) {
                return WireError.BAD_OPTION;
            }
            return p;
        }
        return AREA_DONE;
    }

    /**
     * The option overload value of the {@code len}-byte message at {@code off}: 0 (none), {@link #OVERLOAD_FILE},
     * {@link #OVERLOAD_SNAME} or both (3); or a negative code: {@link WireError#TRUNCATED}, {@link #BAD_COOKIE},
     * {@link WireError#BAD_OPTION} (in the options field) or {@link #BAD_OVERLOAD}.
     */
    public static int optionOverload(ByteBuf buf, int off, int len) {
        int r = frame(buf, off, len);
        if (r < 0) {
            return r;
        }
        int end = off + len;
        int overload = 0;
        for (int p = scan(buf, off + OPTIONS_OFFSET, end); p != AREA_DONE;
                p = scan(buf, p + 2 + buf.getUnsignedByte(p + 1), end)) {
            if (p < 0) {
                return p;
            }
            if (buf.getUnsignedByte(p) == Dhcp4Option.OPTION_OVERLOAD) {
                int v = buf.getUnsignedByte(p + 1) == 1 ? buf.getUnsignedByte(p + 2) : 0;
                if (overload != 0 || v < 1 || v > 3) {
                    return BAD_OVERLOAD;
                }
                overload = v;
            }
        }
        return overload;
    }

    private static int areaOf(int off, int len, int pos) {
        if (pos >= off + OPTIONS_OFFSET && pos < off + len) {
            return MAIN;
        }
        if (pos >= off + FILE_OFFSET && pos < off + FILE_OFFSET + FILE_LENGTH) {
            return FILE;
        }
        if (pos >= off + SNAME_OFFSET && pos < off + SNAME_OFFSET + SNAME_LENGTH) {
            return SNAME;
        }
        return -1;
    }

    private static int areaEnd(int off, int len, int area) {
        return switch (area) {
            case MAIN -> off + len;
            case FILE -> off + FILE_OFFSET + FILE_LENGTH;
            default -> off + SNAME_OFFSET + SNAME_LENGTH;
        };
    }

    /**
     * The option after the one at {@code pos} in reading order (options field, then 'file', then 'sname' as option
     * 52 says), skipping PAD. Pass {@link #DONE} to get the first option.
     *
     * @param pos {@link #DONE}, or a position this method returned for the same message
     * @return the absolute position of the next option's code octet (always greater than 0; the option's value,
     *         {@link #lengthAt} bytes, follows at {@code pos + 2} and lies inside the message), or {@link #DONE}
     *         when there are no more, or a negative code: {@link WireError#TRUNCATED}, {@link #BAD_COOKIE},
     *         {@link WireError#BAD_OPTION} (an option runs past its area, or {@code pos} is not inside an options
     *         area) or {@link #BAD_OVERLOAD}
     */
    public static int nextOption(ByteBuf buf, int off, int len, int pos) {
        int r = frame(buf, off, len);
        if (r < 0) {
            return r;
        }
        int area;
        int p;
        if (pos == DONE) {
            area = MAIN;
            p = off + OPTIONS_OFFSET;
        } else {
            area = areaOf(off, len, pos);
            if (area < 0) {
                return WireError.BAD_OPTION;
            }
            int end = areaEnd(off, len, area);
            if (end - pos < 2 || buf.getUnsignedByte(pos + 1) > end - pos - 2) {
                return WireError.BAD_OPTION;
            }
            p = pos + 2 + buf.getUnsignedByte(pos + 1);
        }
        int overload = -1;
        while (true) {
            int q = scan(buf, p, areaEnd(off, len, area));
            if (q >= 0) {
                if (area != MAIN && buf.getUnsignedByte(q) == Dhcp4Option.OPTION_OVERLOAD) {
                    return BAD_OVERLOAD;
                }
                return q;
            }
            if (q != AREA_DONE) {
                return q;
            }
            if (overload < 0) {
                overload = optionOverload(buf, off, len);
                if (overload < 0) {
                    return overload;
                }
            }
            if (area == MAIN && (overload & OVERLOAD_FILE) != 0) {
                area = FILE;
                p = off + FILE_OFFSET;
            } else if (area != SNAME && (overload & OVERLOAD_SNAME) != 0) {
                area = SNAME;
                p = off + SNAME_OFFSET;
            } else {
                return DONE;
            }
        }
    }

    /** Code of the option at a position from {@link #nextOption}; -1 if {@code pos} is not readable. */
    public static int codeAt(ByteBuf buf, int pos) {
        return Bounds.has(buf, pos, 1) ? buf.getUnsignedByte(pos) : -1;
    }

    /** Value length of the option at a position from {@link #nextOption}; -1 if not readable. */
    public static int lengthAt(ByteBuf buf, int pos) {
        return Bounds.has(buf, pos, 2) ? buf.getUnsignedByte(pos + 1) : -1;
    }

    /**
     * Position of the first instance of option {@code code} (the code octet; value at {@code + 2}); -1 if absent
     * or the message is malformed. Walks and validates every option.
     */
    public static int findOption(ByteBuf buf, int off, int len, int code) {
        int first = -1;
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (p < 0) {
                return -1;
            }
            if (first < 0 && buf.getUnsignedByte(p) == code) {
                first = p;
            }
        }
        return first;
    }

    /** Absolute offset of the first instance's value; -1 if absent or the message is malformed. */
    public static int optionValueOffset(ByteBuf buf, int off, int len, int code) {
        int p = findOption(buf, off, len, code);
        return p < 0 ? -1 : p + 2;
    }

    /**
     * Length of option {@code code}'s value: the sum over its instances (RFC 3396); -1 if absent or the message is
     * malformed. 0 for an option present with an empty value.
     */
    public static int optionLength(ByteBuf buf, int off, int len, int code) {
        int total = -1;
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (p < 0) {
                return -1;
            }
            if (buf.getUnsignedByte(p) == code) {
                total = Math.max(total, 0) + buf.getUnsignedByte(p + 1);
            }
        }
        return total;
    }

    /** Whether option {@code code} is present; false if the message is malformed. */
    public static boolean hasOption(ByteBuf buf, int off, int len, int code) {
        return findOption(buf, off, len, code) >= 0;
    }

    /**
     * Appends option {@code code}'s whole value (its instances concatenated) to {@code dst} at its writerIndex;
     * returns the number of bytes appended, or -1 (nothing appended) if absent or the message is malformed.
     */
    public static int copyOption(ByteBuf buf, int off, int len, int code, ByteBuf dst) {
        int total = optionLength(buf, off, len, code);
        if (total < 0) {
            return -1;
        }
        dst.ensureWritable(total);
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (buf.getUnsignedByte(p) == code) {
                dst.writeBytes(buf, p + 2, buf.getUnsignedByte(p + 1));
            }
        }
        return total;
    }

    /**
     * Reads {@code n} (1..8) bytes big-endian at {@code index} of option {@code code}'s concatenated value.
     * If {@code exactLength} is not negative the value must be exactly that long. -1 if absent, too short, of
     * the wrong length, or the message is malformed. One walk.
     */
    private static long readValue(ByteBuf buf, int off, int len, int code, int index, int n, int exactLength) {
        if (index < 0) {
            return -1;
        }
        long v = 0;
        int got = 0;
        int base = 0;
        boolean present = false;
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (p < 0) {
                return -1;
            }
            if (buf.getUnsignedByte(p) != code) {
                continue;
            }
            present = true;
            int l = buf.getUnsignedByte(p + 1);
            while (got < n && index + got >= base && index + got < base + l) {
                v = (v << 8) | buf.getUnsignedByte(p + 2 + index + got - base);
                got++;
            }
            base += l;
        }
        if (!present || got < n || (exactLength >= 0 && base != exactLength)) {
            return -1;
        }
        return v;
    }

    // ---- options: typed readers ----

    /** Option 53, DHCP message type ({@link #DISCOVER} ... {@link #INFORM} or another value); -1 if absent or not one octet. */
    public static int messageType(ByteBuf buf, int off, int len) {
        return (int) readValue(buf, off, len, Dhcp4Option.MESSAGE_TYPE, 0, 1, 1);
    }

    /** Option 54, server identifier; 0 if absent or not 4 octets. */
    public static int serverId(ByteBuf buf, int off, int len) {
        return address(buf, off, len, Dhcp4Option.SERVER_IDENTIFIER);
    }

    /** Option 50, requested IP address; 0 if absent or not 4 octets. */
    public static int requestedIp(ByteBuf buf, int off, int len) {
        return address(buf, off, len, Dhcp4Option.REQUESTED_IP_ADDRESS);
    }

    /** Option 1, subnet mask; 0 if absent or not 4 octets. */
    public static int subnetMask(ByteBuf buf, int off, int len) {
        return address(buf, off, len, Dhcp4Option.SUBNET_MASK);
    }

    private static int address(ByteBuf buf, int off, int len, int code) {
        long v = readValue(buf, off, len, code, 0, 4, 4);
        return v < 0 ? 0 : (int) v;
    }

    /** Option 51, lease time in seconds (0xFFFFFFFF: infinite); -1 if absent or not 4 octets. */
    public static long leaseTime(ByteBuf buf, int off, int len) {
        return readValue(buf, off, len, Dhcp4Option.LEASE_TIME, 0, 4, 4);
    }

    /** Option 58, renewal (T1) time in seconds; -1 if absent or not 4 octets. */
    public static long renewalTime(ByteBuf buf, int off, int len) {
        return readValue(buf, off, len, Dhcp4Option.RENEWAL_TIME, 0, 4, 4);
    }

    /** Option 59, rebinding (T2) time in seconds; -1 if absent or not 4 octets. */
    public static long rebindingTime(ByteBuf buf, int off, int len) {
        return readValue(buf, off, len, Dhcp4Option.REBINDING_TIME, 0, 4, 4);
    }

    /** Option 57, maximum DHCP message size; -1 if absent or not 2 octets. */
    public static int maxMessageSize(ByteBuf buf, int off, int len) {
        return (int) readValue(buf, off, len, Dhcp4Option.MAX_MESSAGE_SIZE, 0, 2, 2);
    }

    /**
     * Number of addresses in the address-list option {@code code} (router 3, DNS 6, NTP 42, ...); -1 if absent,
     * empty, not a multiple of 4 octets, or the message is malformed.
     */
    public static int addressCount(ByteBuf buf, int off, int len, int code) {
        int total = optionLength(buf, off, len, code);
        return total <= 0 || (total & 3) != 0 ? -1 : total >>> 2;
    }

    /**
     * Address {@code i} (0-based) of the address-list option {@code code}; 0 if {@code i} is out of range or
     * {@link #addressCount} is -1.
     */
    public static int address(ByteBuf buf, int off, int len, int code, int i) {
        int count = addressCount(buf, off, len, code);
        if (i < 0 || i >= count) {
            return 0;
        }
        return (int) readValue(buf, off, len, code, 4 * i, 4, -1);
    }

    /** Option 3, the first (most preferred) router; 0 if absent or malformed. */
    public static int router(ByteBuf buf, int off, int len) {
        return address(buf, off, len, Dhcp4Option.ROUTER, 0);
    }

    /** Option 6, number of DNS servers; -1 as {@link #addressCount}. */
    public static int dnsServerCount(ByteBuf buf, int off, int len) {
        return addressCount(buf, off, len, Dhcp4Option.DOMAIN_NAME_SERVER);
    }

    /** Option 6, DNS server {@code i}; 0 as {@link #address}. */
    public static int dnsServer(ByteBuf buf, int off, int len, int i) {
        return address(buf, off, len, Dhcp4Option.DOMAIN_NAME_SERVER, i);
    }

    /**
     * Whether the parameter request list (option 55) asks for option {@code code}; false if absent or the message
     * is malformed. Does not allocate.
     */
    public static boolean requestsOption(ByteBuf buf, int off, int len, int code) {
        boolean found = false;
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (p < 0) {
                return false;
            }
            if (!found && buf.getUnsignedByte(p) == Dhcp4Option.PARAMETER_REQUEST_LIST) {
                int l = buf.getUnsignedByte(p + 1);
                found = l > 0 && buf.indexOf(p + 2, p + 2 + l, (byte) code) >= 0;
            }
        }
        return found;
    }

    /** Option {@code code}'s whole value (instances concatenated) as a new array; null if absent or malformed. */
    public static byte[] optionBytes(ByteBuf buf, int off, int len, int code) {
        int total = optionLength(buf, off, len, code);
        if (total < 0) {
            return null;
        }
        byte[] out = new byte[total];
        int at = 0;
        for (int p = nextOption(buf, off, len, DONE); p != DONE; p = nextOption(buf, off, len, p)) {
            if (buf.getUnsignedByte(p) == code) {
                int l = buf.getUnsignedByte(p + 1);
                buf.getBytes(p + 2, out, at, l);
                at += l;
            }
        }
        return out;
    }

    /**
     * Option {@code code}'s value as text (octets as ISO-8859-1, so NVT ASCII reads as itself and no byte is
     * lost), with trailing NUL octets removed (some clients send one); null if absent or malformed.
     */
    public static String optionString(ByteBuf buf, int off, int len, int code) {
        byte[] b = optionBytes(buf, off, len, code);
        if (b == null) {
            return null;
        }
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) {
            n--;
        }
        return new String(b, 0, n, StandardCharsets.ISO_8859_1);
    }

    /** Option 12, host name; null if absent or malformed. */
    public static String hostName(ByteBuf buf, int off, int len) {
        return optionString(buf, off, len, Dhcp4Option.HOST_NAME);
    }

    /** Option 15, domain name; null if absent or malformed. */
    public static String domainName(ByteBuf buf, int off, int len) {
        return optionString(buf, off, len, Dhcp4Option.DOMAIN_NAME);
    }

    /** Option 60, vendor class identifier as text; null if absent or malformed. */
    public static String vendorClass(ByteBuf buf, int off, int len) {
        return optionString(buf, off, len, Dhcp4Option.VENDOR_CLASS_IDENTIFIER);
    }

    /** Option 61, client identifier (type octet first); null if absent or malformed. */
    public static byte[] clientId(ByteBuf buf, int off, int len) {
        return optionBytes(buf, off, len, Dhcp4Option.CLIENT_IDENTIFIER);
    }

    /** Option 55, the requested option codes in order; null if absent or malformed. */
    public static byte[] parameterRequestList(ByteBuf buf, int off, int len) {
        return optionBytes(buf, off, len, Dhcp4Option.PARAMETER_REQUEST_LIST);
    }

    /**
     * A classless static route (RFC 3442).
     *
     * @param destination  destination network, big-endian int; only the first {@code ceil(prefixLength / 8)}
     *                     octets go on the wire, the rest are sent as zero
     * @param prefixLength 0..32
     * @param router       next hop (0.0.0.0: the destination is on-link)
     */
    public record Route(int destination, int prefixLength, int router) {
        /** Checks the prefix length. */
        public Route {
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length " + prefixLength);
            }
        }

        @Override
        public String toString() {
            return Ip4.format(destination) + "/" + prefixLength + " via " + Ip4.format(router);
        }
    }

    /**
     * Option 121, classless static routes in order; null if absent, if the message is malformed, or if the value
     * is not a sequence of RFC 3442 descriptors (prefix length above 32, or a descriptor cut short). An empty
     * value gives an empty list.
     */
    public static List<Route> classlessStaticRoutes(ByteBuf buf, int off, int len) {
        byte[] b = optionBytes(buf, off, len, Dhcp4Option.CLASSLESS_STATIC_ROUTE);
        if (b == null) {
            return null;
        }
        List<Route> routes = new ArrayList<>();
        int i = 0;
        while (i < b.length) {
            int width = b[i++] & 0xFF;
            if (width > 32) {
                return null;
            }
            int significant = (width + 7) >>> 3;
            if (b.length - i < significant + 4) {
                return null;
            }
            int dest = 0;
            for (int k = 0; k < 4; k++) {
                dest = (dest << 8) | (k < significant ? b[i + k] & 0xFF : 0);
            }
            i += significant;
            int router = ((b[i] & 0xFF) << 24) | ((b[i + 1] & 0xFF) << 16) | ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
            i += 4;
            routes.add(new Route(dest, width, router));
        }
        return routes;
    }

    // ---- builders ----

    /**
     * Appends the fixed part and the magic cookie of an Ethernet message (htype 1, hlen 6, hops 0, chaddr the MAC,
     * sname and file empty).
     *
     * @param chaddr MAC in {@link MacAddress} form (low 48 bits)
     * @return {@link #OPTIONS_OFFSET}
     */
    public static int writeFixed(ByteBuf out, int op, long xid, int secs, int flags, int ciaddr, int yiaddr,
                                 int siaddr, int giaddr, long chaddr) {
        out.ensureWritable(OPTIONS_OFFSET);
        int w = out.writerIndex();
        out.setZero(w, OPTIONS_OFFSET);
        out.setByte(w, op);
        out.setByte(w + 1, HTYPE_ETHERNET);
        out.setByte(w + 2, 6);
        setCommon(out, w, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr);
        out.setShort(w + CHADDR_OFFSET, (int) (chaddr >>> 32));
        out.setInt(w + CHADDR_OFFSET + 2, (int) chaddr);
        out.setInt(w + COOKIE_OFFSET, MAGIC_COOKIE);
        out.writerIndex(w + OPTIONS_OFFSET);
        return OPTIONS_OFFSET;
    }

    /**
     * Appends the fixed part and the magic cookie with every field chosen. {@code chaddr}, {@code sname} and
     * {@code file} may be null (all zero) or shorter than their fields (zero-filled).
     *
     * @return {@link #OPTIONS_OFFSET}
     * @throws IllegalArgumentException if an array is longer than its field (16, 64, 128)
     */
    public static int writeFixed(ByteBuf out, int op, int htype, int hlen, int hops, long xid, int secs, int flags,
                                 int ciaddr, int yiaddr, int siaddr, int giaddr, byte[] chaddr, byte[] sname,
                                 byte[] file) {
        if (chaddr != null && chaddr.length > CHADDR_LENGTH || sname != null && sname.length > SNAME_LENGTH
                || file != null && file.length > FILE_LENGTH) {
            throw new IllegalArgumentException("chaddr, sname or file too long");
        }
        out.ensureWritable(OPTIONS_OFFSET);
        int w = out.writerIndex();
        out.setZero(w, OPTIONS_OFFSET);
        out.setByte(w, op);
        out.setByte(w + 1, htype);
        out.setByte(w + 2, hlen);
        out.setByte(w + 3, hops);
        setCommon(out, w, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr);
        if (chaddr != null) {
            out.setBytes(w + CHADDR_OFFSET, chaddr);
        }
        if (sname != null) {
            out.setBytes(w + SNAME_OFFSET, sname);
        }
        if (file != null) {
            out.setBytes(w + FILE_OFFSET, file);
        }
        out.setInt(w + COOKIE_OFFSET, MAGIC_COOKIE);
        out.writerIndex(w + OPTIONS_OFFSET);
        return OPTIONS_OFFSET;
    }

    private static void setCommon(ByteBuf out, int w, long xid, int secs, int flags, int ciaddr, int yiaddr,
                                  int siaddr, int giaddr) {
        out.setInt(w + 4, (int) xid);
        out.setShort(w + 8, secs);
        out.setShort(w + 10, flags);
        out.setInt(w + 12, ciaddr);
        out.setInt(w + 16, yiaddr);
        out.setInt(w + 20, siaddr);
        out.setInt(w + 24, giaddr);
    }

    private static void checkCode(int code) {
        if (code <= Dhcp4Option.PAD || code >= Dhcp4Option.END) {
            throw new IllegalArgumentException("option code " + code);
        }
    }

    /**
     * Appends option {@code code} with {@code valueLength} bytes of {@code value} from {@code valueOff} (indices
     * not moved), split into instances of at most 255 bytes (RFC 3396); an empty value gives one instance of
     * length 0.
     *
     * @return bytes appended
     * @throws IllegalArgumentException if {@code code} is PAD or END
     */
    public static int writeOption(ByteBuf out, int code, ByteBuf value, int valueOff, int valueLength) {
        checkCode(code);
        int start = out.writerIndex();
        int done = 0;
        do {
            int n = Math.min(255, valueLength - done);
            out.ensureWritable(2 + n);
            out.writeByte(code).writeByte(n);
            if (n > 0) {
                out.writeBytes(value, valueOff + done, n);
            }
            done += n;
        } while (done < valueLength);
        return out.writerIndex() - start;
    }

    /** {@link #writeOption(ByteBuf, int, ByteBuf, int, int)} from an array. */
    public static int writeOption(ByteBuf out, int code, byte[] value) {
        checkCode(code);
        int start = out.writerIndex();
        int done = 0;
        do {
            int n = Math.min(255, value.length - done);
            out.ensureWritable(2 + n);
            out.writeByte(code).writeByte(n).writeBytes(value, done, n);
            done += n;
        } while (done < value.length);
        return out.writerIndex() - start;
    }

    /** Appends a one-octet option (message type 53, booleans, TTLs); returns 3. */
    public static int writeByteOption(ByteBuf out, int code, int value) {
        checkCode(code);
        out.ensureWritable(3);
        out.writeByte(code).writeByte(1).writeByte(value);
        return 3;
    }

    /** Appends a 16-bit option (max message size 57, interface MTU 26); returns 4. */
    public static int writeShortOption(ByteBuf out, int code, int value) {
        checkCode(code);
        out.ensureWritable(4);
        out.writeByte(code).writeByte(2).writeShort(value);
        return 4;
    }

    /** Appends a 32-bit option: an address (1, 50, 54) or a time in seconds (51, 58, 59); returns 6. */
    public static int writeIntOption(ByteBuf out, int code, int value) {
        checkCode(code);
        out.ensureWritable(6);
        out.writeByte(code).writeByte(4).writeInt(value);
        return 6;
    }

    /** Appends an address-list option (router 3, DNS 6, ...), split if over 255 bytes; returns bytes appended. */
    public static int writeAddressListOption(ByteBuf out, int code, int... addresses) {
        byte[] v = new byte[4 * addresses.length];
        for (int i = 0; i < addresses.length; i++) {
            int a = addresses[i];
            v[4 * i] = (byte) (a >>> 24);
            v[4 * i + 1] = (byte) (a >>> 16);
            v[4 * i + 2] = (byte) (a >>> 8);
            v[4 * i + 3] = (byte) a;
        }
        return writeOption(out, code, v);
    }

    /** Appends a text option (host name 12, domain name 15, message 56) as ISO-8859-1 octets; returns bytes appended. */
    public static int writeStringOption(ByteBuf out, int code, String text) {
        return writeOption(out, code, text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Appends a parameter request list (option 55) asking for {@code codes}; returns bytes appended. */
    public static int writeParameterRequestList(ByteBuf out, int... codes) {
        byte[] v = new byte[codes.length];
        for (int i = 0; i < codes.length; i++) {
            v[i] = (byte) codes[i];
        }
        return writeOption(out, Dhcp4Option.PARAMETER_REQUEST_LIST, v);
    }

    /** The RFC 3442 encoding of {@code routes}: per route the prefix length, the significant octets, the router. */
    public static byte[] encodeClasslessStaticRoutes(List<Route> routes) {
        int n = 0;
        for (Route r : routes) {
            n += 1 + ((r.prefixLength() + 7) >>> 3) + 4;
        }
        byte[] v = new byte[n];
        int i = 0;
        for (Route r : routes) {
            v[i++] = (byte) r.prefixLength();
            int significant = (r.prefixLength() + 7) >>> 3;
            for (int k = 0; k < significant; k++) {
                v[i++] = (byte) (r.destination() >>> (24 - 8 * k));
            }
            for (int k = 0; k < 4; k++) {
                v[i++] = (byte) (r.router() >>> (24 - 8 * k));
            }
        }
        return v;
    }

    /** Appends option 121 for {@code routes} (split if over 255 bytes); returns bytes appended. */
    public static int writeClasslessStaticRoutes(ByteBuf out, List<Route> routes) {
        return writeOption(out, Dhcp4Option.CLASSLESS_STATIC_ROUTE, encodeClasslessStaticRoutes(routes));
    }

    /**
     * Ends the options of the message that starts at absolute {@code messageStart}: appends END, then zero octets
     * until the message is at least {@link #MIN_BOOTP_LENGTH} bytes long.
     *
     * @return bytes appended
     */
    public static int writeEnd(ByteBuf out, int messageStart) {
        int start = out.writerIndex();
        out.writeByte(Dhcp4Option.END);
        int pad = messageStart + MIN_BOOTP_LENGTH - out.writerIndex();
        if (pad > 0) {
            out.writeZero(pad);
        }
        return out.writerIndex() - start;
    }
}
