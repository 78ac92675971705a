package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.codec.wire.Dhcp4.*;

/**
 * The options of a DHCPv4 message (RFC 2132): the walk over the options field and the overloaded 'file' and
 * 'sname' fields (option 52, RFC 3396 order and concatenation of split options), typed readers, and builders that
 * append options. {@link Dhcp4} holds the fixed BOOTP part and delegates its option methods here. Message offsets,
 * lengths, answers for absent or malformed options and allocation are as {@link Dhcp4}'s class documentation says.
 * No method retains or releases a buffer it is given.
 */
public final class Dhcp4Options {
    private Dhcp4Options() {
    }

    static final int AREA_DONE = Integer.MIN_VALUE;
    private static final int MAIN = 0;
    private static final int FILE = 1;
    private static final int SNAME = 2;

    /** 0, or TRUNCATED / BAD_COOKIE: the fixed part and cookie of a {@code len}-byte message are present. */
    static int frame(ByteBuf buf, int off, int len) {
        if (len < OPTIONS_OFFSET || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        return buf.getInt(off + COOKIE_OFFSET) == MAGIC_COOKIE ? 0 : BAD_COOKIE;
    }

    // ---- options: walk ----

    /** In {@code [p, end)}: the position of the next option (not PAD), AREA_DONE at END or the end, or BAD_OPTION. */
    static int scan(ByteBuf buf, int p, int end) {
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
     * The option overload value of the {@code len}-byte message at {@code off}: 0 (none), {@link Dhcp4#OVERLOAD_FILE},
     * {@link Dhcp4#OVERLOAD_SNAME} or both (3); or a negative code: {@link WireError#TRUNCATED}, {@link Dhcp4#BAD_COOKIE},
     * {@link WireError#BAD_OPTION} (in the options field) or {@link Dhcp4#BAD_OVERLOAD}.
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
     * 52 says), skipping PAD. Pass {@link Dhcp4#DONE} to get the first option.
     *
     * @param pos {@link Dhcp4#DONE}, or a position this method returned for the same message
     * @return the absolute position of the next option's code octet (always greater than 0; the option's value,
     *         {@link #lengthAt} bytes, follows at {@code pos + 2} and lies inside the message), or {@link Dhcp4#DONE}
     *         when there are no more, or a negative code: {@link WireError#TRUNCATED}, {@link Dhcp4#BAD_COOKIE},
     *         {@link WireError#BAD_OPTION} (an option runs past its area, or {@code pos} is not inside an options
     *         area) or {@link Dhcp4#BAD_OVERLOAD}
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
    static long readValue(ByteBuf buf, int off, int len, int code, int index, int n, int exactLength) {
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

    /** Option 53, DHCP message type ({@link Dhcp4#DISCOVER} ... {@link Dhcp4#INFORM} or another value); -1 if absent or not one octet. */
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
        return text(optionBytes(buf, off, len, code));
    }

    /** An option value as text: ISO-8859-1, trailing NUL octets removed; null for null. */
    static String text(byte[] b) {
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
     * until the message is at least {@link Dhcp4#MIN_BOOTP_LENGTH} bytes long.
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
