package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * View, validator and builder for DHCPv4 messages (RFC 2131) and their options (RFC 2132), including option
 * overload (option 52: options continue in the 'file' and/or 'sname' fields) and long options split over several
 * instances (RFC 3396). This class holds the fixed BOOTP part (accessors, {@link #check}, {@link #writeFixed});
 * the option walk, typed option readers and option builders live in {@link Dhcp4Options}, and the option methods
 * here delegate to it.
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


    /**
     * Validates the {@code len}-byte message at {@code off}: fixed part, cookie, every option in every area.
     *
     * @return {@code len}, or {@link WireError#TRUNCATED} ({@code len} below 240 or past {@code writerIndex()}),
     *         {@link WireError#BAD_TYPE} (op not 1 or 2), {@link WireError#BAD_ADDRESS} (hlen above 16),
     *         {@link #BAD_COOKIE}, {@link WireError#BAD_OPTION} (an option runs past its area) or
     *         {@link #BAD_OVERLOAD}
     */
    public static int check(ByteBuf buf, int off, int len) {
        int r = checkFixed(buf, off, len);
        if (r < 0) {
            return r;
        }
        for (int p = Dhcp4Options.nextOption(buf, off, len, DONE); p != DONE;
                p = Dhcp4Options.nextOption(buf, off, len, p)) {
            if (p < 0) {
                return p;
            }
        }
        return len;
    }

    /**
     * {@link #check} without the option walk: the fixed part and the cookie only, for code that walks the options
     * itself in the same pass as it reads them ({@link Dhcp4OptionIndex#index}).
     *
     * @return {@code len}, or {@link WireError#TRUNCATED}, {@link WireError#BAD_TYPE}, {@link WireError#BAD_ADDRESS}
     *         or {@link #BAD_COOKIE} as {@link #check} says
     */
    public static int checkFixed(ByteBuf buf, int off, int len) {
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
        return len;
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

    // ---- options: delegates to Dhcp4Options (kept so existing callers compile) ----

    /** Same as {@link Dhcp4Options#optionOverload(ByteBuf,int,int)}. */
    public static int optionOverload(ByteBuf buf, int off, int len) {
        return Dhcp4Options.optionOverload(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#nextOption(ByteBuf,int,int,int)}. */
    public static int nextOption(ByteBuf buf, int off, int len, int pos) {
        return Dhcp4Options.nextOption(buf, off, len, pos);
    }

    /** Same as {@link Dhcp4Options#codeAt(ByteBuf,int)}. */
    public static int codeAt(ByteBuf buf, int pos) {
        return Dhcp4Options.codeAt(buf, pos);
    }

    /** Same as {@link Dhcp4Options#lengthAt(ByteBuf,int)}. */
    public static int lengthAt(ByteBuf buf, int pos) {
        return Dhcp4Options.lengthAt(buf, pos);
    }

    /** Same as {@link Dhcp4Options#findOption(ByteBuf,int,int,int)}. */
    public static int findOption(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.findOption(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#optionValueOffset(ByteBuf,int,int,int)}. */
    public static int optionValueOffset(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.optionValueOffset(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#optionLength(ByteBuf,int,int,int)}. */
    public static int optionLength(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.optionLength(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#hasOption(ByteBuf,int,int,int)}. */
    public static boolean hasOption(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.hasOption(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#copyOption(ByteBuf,int,int,int,ByteBuf)}. */
    public static int copyOption(ByteBuf buf, int off, int len, int code, ByteBuf dst) {
        return Dhcp4Options.copyOption(buf, off, len, code, dst);
    }

    /** Same as {@link Dhcp4Options#messageType(ByteBuf,int,int)}. */
    public static int messageType(ByteBuf buf, int off, int len) {
        return Dhcp4Options.messageType(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#serverId(ByteBuf,int,int)}. */
    public static int serverId(ByteBuf buf, int off, int len) {
        return Dhcp4Options.serverId(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#requestedIp(ByteBuf,int,int)}. */
    public static int requestedIp(ByteBuf buf, int off, int len) {
        return Dhcp4Options.requestedIp(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#subnetMask(ByteBuf,int,int)}. */
    public static int subnetMask(ByteBuf buf, int off, int len) {
        return Dhcp4Options.subnetMask(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#leaseTime(ByteBuf,int,int)}. */
    public static long leaseTime(ByteBuf buf, int off, int len) {
        return Dhcp4Options.leaseTime(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#renewalTime(ByteBuf,int,int)}. */
    public static long renewalTime(ByteBuf buf, int off, int len) {
        return Dhcp4Options.renewalTime(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#rebindingTime(ByteBuf,int,int)}. */
    public static long rebindingTime(ByteBuf buf, int off, int len) {
        return Dhcp4Options.rebindingTime(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#maxMessageSize(ByteBuf,int,int)}. */
    public static int maxMessageSize(ByteBuf buf, int off, int len) {
        return Dhcp4Options.maxMessageSize(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#addressCount(ByteBuf,int,int,int)}. */
    public static int addressCount(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.addressCount(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#address(ByteBuf,int,int,int,int)}. */
    public static int address(ByteBuf buf, int off, int len, int code, int i) {
        return Dhcp4Options.address(buf, off, len, code, i);
    }

    /** Same as {@link Dhcp4Options#router(ByteBuf,int,int)}. */
    public static int router(ByteBuf buf, int off, int len) {
        return Dhcp4Options.router(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#dnsServerCount(ByteBuf,int,int)}. */
    public static int dnsServerCount(ByteBuf buf, int off, int len) {
        return Dhcp4Options.dnsServerCount(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#dnsServer(ByteBuf,int,int,int)}. */
    public static int dnsServer(ByteBuf buf, int off, int len, int i) {
        return Dhcp4Options.dnsServer(buf, off, len, i);
    }

    /** Same as {@link Dhcp4Options#requestsOption(ByteBuf,int,int,int)}. */
    public static boolean requestsOption(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.requestsOption(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#optionBytes(ByteBuf,int,int,int)}. */
    public static byte[] optionBytes(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.optionBytes(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#optionString(ByteBuf,int,int,int)}. */
    public static String optionString(ByteBuf buf, int off, int len, int code) {
        return Dhcp4Options.optionString(buf, off, len, code);
    }

    /** Same as {@link Dhcp4Options#hostName(ByteBuf,int,int)}. */
    public static String hostName(ByteBuf buf, int off, int len) {
        return Dhcp4Options.hostName(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#domainName(ByteBuf,int,int)}. */
    public static String domainName(ByteBuf buf, int off, int len) {
        return Dhcp4Options.domainName(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#vendorClass(ByteBuf,int,int)}. */
    public static String vendorClass(ByteBuf buf, int off, int len) {
        return Dhcp4Options.vendorClass(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#clientId(ByteBuf,int,int)}. */
    public static byte[] clientId(ByteBuf buf, int off, int len) {
        return Dhcp4Options.clientId(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#parameterRequestList(ByteBuf,int,int)}. */
    public static byte[] parameterRequestList(ByteBuf buf, int off, int len) {
        return Dhcp4Options.parameterRequestList(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#classlessStaticRoutes(ByteBuf,int,int)}. */
    public static List<Route> classlessStaticRoutes(ByteBuf buf, int off, int len) {
        return Dhcp4Options.classlessStaticRoutes(buf, off, len);
    }

    /** Same as {@link Dhcp4Options#writeOption(ByteBuf,int,ByteBuf,int,int)}. */
    public static int writeOption(ByteBuf out, int code, ByteBuf value, int valueOff, int valueLength) {
        return Dhcp4Options.writeOption(out, code, value, valueOff, valueLength);
    }

    /** Same as {@link Dhcp4Options#writeOption(ByteBuf,int,byte[])}. */
    public static int writeOption(ByteBuf out, int code, byte[] value) {
        return Dhcp4Options.writeOption(out, code, value);
    }

    /** Same as {@link Dhcp4Options#writeByteOption(ByteBuf,int,int)}. */
    public static int writeByteOption(ByteBuf out, int code, int value) {
        return Dhcp4Options.writeByteOption(out, code, value);
    }

    /** Same as {@link Dhcp4Options#writeShortOption(ByteBuf,int,int)}. */
    public static int writeShortOption(ByteBuf out, int code, int value) {
        return Dhcp4Options.writeShortOption(out, code, value);
    }

    /** Same as {@link Dhcp4Options#writeIntOption(ByteBuf,int,int)}. */
    public static int writeIntOption(ByteBuf out, int code, int value) {
        return Dhcp4Options.writeIntOption(out, code, value);
    }

    /** Same as {@link Dhcp4Options#writeAddressListOption(ByteBuf,int,int[])}. */
    public static int writeAddressListOption(ByteBuf out, int code, int... addresses) {
        return Dhcp4Options.writeAddressListOption(out, code, addresses);
    }

    /** Same as {@link Dhcp4Options#writeStringOption(ByteBuf,int,String)}. */
    public static int writeStringOption(ByteBuf out, int code, String text) {
        return Dhcp4Options.writeStringOption(out, code, text);
    }

    /** Same as {@link Dhcp4Options#writeParameterRequestList(ByteBuf,int[])}. */
    public static int writeParameterRequestList(ByteBuf out, int... codes) {
        return Dhcp4Options.writeParameterRequestList(out, codes);
    }

    /** Same as {@link Dhcp4Options#encodeClasslessStaticRoutes(List<Route>)}. */
    public static byte[] encodeClasslessStaticRoutes(List<Route> routes) {
        return Dhcp4Options.encodeClasslessStaticRoutes(routes);
    }

    /** Same as {@link Dhcp4Options#writeClasslessStaticRoutes(ByteBuf,List<Route>)}. */
    public static int writeClasslessStaticRoutes(ByteBuf out, List<Route> routes) {
        return Dhcp4Options.writeClasslessStaticRoutes(out, routes);
    }

    /** Same as {@link Dhcp4Options#writeEnd(ByteBuf,int)}. */
    public static int writeEnd(ByteBuf out, int messageStart) {
        return Dhcp4Options.writeEnd(out, messageStart);
    }
}
