package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import static dev.pktkit.codec.wire.Dhcp4.BAD_OVERLOAD;
import static dev.pktkit.codec.wire.Dhcp4.FILE_LENGTH;
import static dev.pktkit.codec.wire.Dhcp4.FILE_OFFSET;
import static dev.pktkit.codec.wire.Dhcp4.OPTIONS_OFFSET;
import static dev.pktkit.codec.wire.Dhcp4.OVERLOAD_FILE;
import static dev.pktkit.codec.wire.Dhcp4.OVERLOAD_SNAME;
import static dev.pktkit.codec.wire.Dhcp4.SNAME_LENGTH;
import static dev.pktkit.codec.wire.Dhcp4.SNAME_OFFSET;

/**
 * The options of one DHCPv4 message, walked once: {@link #index} validates every option in every area (the
 * options field, then 'file' and 'sname' as option 52 says) in a single pass and records where each option code
 * first appears, how often, and its total length; the readers then answer from that record without walking
 * again. {@link Dhcp4Options}' static readers walk the whole message on every call (a server reading eight
 * options walks it eight times or more); this is the per-message alternative for code that reads several.
 *
 * <p>Answers are those of {@link Dhcp4Options}: absent, malformed (then every option reads as absent) and
 * wrong-length values give the same -1 / 0 / null / false, and an option split into several instances (RFC 3396)
 * reads as {@code Dhcp4Options} reads it (its readers walk again for such an option; clients rarely split one).
 *
 * <p>Mutable and reusable: one instance per handler (or loop), not thread-safe. It keeps a reference to the last
 * indexed buffer (neither retained nor released): read it only while that buffer is valid. Indexing allocates
 * nothing; the {@code bytes}/{@code string} readers allocate their result.
 */
public final class Dhcp4OptionIndex {
    private final int[] first = new int[256];
    private final int[] count = new int[256];
    private final int[] total = new int[256];
    private final int[] seen = new int[256];
    private int seenCount;
    private ByteBuf buf;
    private int off;
    private int len;
    private boolean valid;

    /** An empty index (every option absent). */
    public Dhcp4OptionIndex() {
        java.util.Arrays.fill(first, -1);
    }

    /**
     * Walks the options of the {@code len}-byte message at {@code off} once.
     *
     * @return 0, or what makes the message malformed (then every option reads as absent):
     *         {@link WireError#TRUNCATED}, {@link Dhcp4#BAD_COOKIE}, {@link WireError#BAD_OPTION} or
     *         {@link Dhcp4#BAD_OVERLOAD}; where a message has several faults, the first one met in this walk
     */
    public int index(ByteBuf buf, int off, int len) {
        clear();
        this.buf = buf;
        this.off = off;
        this.len = len;
        int r = Dhcp4Options.frame(buf, off, len);
        if (r < 0) {
            return r;
        }
        int overload = walk(buf, off + OPTIONS_OFFSET, off + len, true);
        if (overload > 0 && (overload & OVERLOAD_FILE) != 0) {
            r = walk(buf, off + FILE_OFFSET, off + FILE_OFFSET + FILE_LENGTH, false);
            overload = r < 0 ? r : overload;
        }
        if (overload > 0 && (overload & OVERLOAD_SNAME) != 0) {
            r = walk(buf, off + SNAME_OFFSET, off + SNAME_OFFSET + SNAME_LENGTH, false);
            overload = r < 0 ? r : overload;
        }
        if (overload < 0) {
            clear();
            return overload;
        }
        valid = true;
        return 0;
    }

    /** Records the options of one area; returns option 52's value in the main area (0 if none), or an error. */
    private int walk(ByteBuf buf, int p, int end, boolean main) {
        int overload = 0;
        for (p = Dhcp4Options.scan(buf, p, end); p != Dhcp4Options.AREA_DONE;
                p = Dhcp4Options.scan(buf, p + 2 + buf.getUnsignedByte(p + 1), end)) {
            if (p < 0) {
                return p;
            }
            int code = buf.getUnsignedByte(p);
            int l = buf.getUnsignedByte(p + 1);
            if (code == Dhcp4Option.OPTION_OVERLOAD) {
                int v = l == 1 ? buf.getUnsignedByte(p + 2) : 0;
                if (!main || overload != 0 || v < 1 || v > 3) {
                    return BAD_OVERLOAD;
                }
                overload = v;
            }
            if (count[code]++ == 0) {
                first[code] = p;
                total[code] = 0;
                seen[seenCount++] = code;
            }
            total[code] += l;
        }
        return overload;
    }

    private void clear() {
        for (int i = 0; i < seenCount; i++) {
            int code = seen[i];
            first[code] = -1;
            count[code] = 0;
        }
        seenCount = 0;
        valid = false;
    }

    /** Whether the last {@link #index} found the message well formed. */
    public boolean isValid() {
        return valid;
    }

    /** Whether option {@code code} is present. */
    public boolean has(int code) {
        return code >= 0 && code < 256 && count[code] != 0;
    }

    /** Position of the first instance of {@code code} (its code octet; the value follows at {@code + 2}); -1 if absent. */
    public int position(int code) {
        return has(code) ? first[code] : -1;
    }

    /** Length of {@code code}'s value, its instances summed (RFC 3396); -1 if absent. */
    public int length(int code) {
        return has(code) ? total[code] : -1;
    }

    /** How many instances of {@code code} the message holds (more than 1: a split option). */
    public int instances(int code) {
        return has(code) ? count[code] : 0;
    }

    /** The {@code n}-byte (1..8) value of {@code code}, big-endian; -1 if absent or not exactly {@code n} octets. */
    private long value(int code, int n) {
        if (!has(code) || total[code] != n) {
            return -1;
        }
        if (count[code] > 1) {
            return Dhcp4Options.readValue(buf, off, len, code, 0, n, n);
        }
        int v = first[code] + 2;
        return switch (n) {
            case 1 -> buf.getUnsignedByte(v);
            case 2 -> buf.getUnsignedShort(v);
            default -> buf.getUnsignedInt(v);
        };
    }

    private int address(int code) {
        long v = value(code, 4);
        return v < 0 ? 0 : (int) v;
    }

    /** Option 53 as {@link Dhcp4Options#messageType}. */
    public int messageType() {
        return (int) value(Dhcp4Option.MESSAGE_TYPE, 1);
    }

    /** Option 54 as {@link Dhcp4Options#serverId}. */
    public int serverId() {
        return address(Dhcp4Option.SERVER_IDENTIFIER);
    }

    /** Option 50 as {@link Dhcp4Options#requestedIp}. */
    public int requestedIp() {
        return address(Dhcp4Option.REQUESTED_IP_ADDRESS);
    }

    /** Option 1 as {@link Dhcp4Options#subnetMask}. */
    public int subnetMask() {
        return address(Dhcp4Option.SUBNET_MASK);
    }

    /** Option 51 as {@link Dhcp4Options#leaseTime}. */
    public long leaseTime() {
        return value(Dhcp4Option.LEASE_TIME, 4);
    }

    /** Option 57 as {@link Dhcp4Options#maxMessageSize}. */
    public int maxMessageSize() {
        return (int) value(Dhcp4Option.MAX_MESSAGE_SIZE, 2);
    }

    /** As {@link Dhcp4Options#requestsOption}: whether the parameter request list lists {@code code}. */
    public boolean requestsOption(int code) {
        int p = position(Dhcp4Option.PARAMETER_REQUEST_LIST);
        if (p < 0) {
            return false;
        }
        if (count[Dhcp4Option.PARAMETER_REQUEST_LIST] > 1) {
            return Dhcp4Options.requestsOption(buf, off, len, code);
        }
        int l = buf.getUnsignedByte(p + 1);
        return l > 0 && buf.indexOf(p + 2, p + 2 + l, (byte) code) >= 0;
    }

    /** As {@link Dhcp4Options#optionBytes}: {@code code}'s whole value as a new array; null if absent. */
    public byte[] bytes(int code) {
        if (!has(code)) {
            return null;
        }
        if (count[code] > 1) {
            return Dhcp4Options.optionBytes(buf, off, len, code);
        }
        byte[] out = new byte[total[code]];
        buf.getBytes(first[code] + 2, out);
        return out;
    }

    /** As {@link Dhcp4Options#optionString}: the value as ISO-8859-1 text, trailing NULs removed; null if absent. */
    public String string(int code) {
        return Dhcp4Options.text(bytes(code));
    }

    /** Option 12 as {@link Dhcp4Options#hostName}. */
    public String hostName() {
        return string(Dhcp4Option.HOST_NAME);
    }

    /** Option 61 as {@link Dhcp4Options#clientId}. */
    public byte[] clientId() {
        return bytes(Dhcp4Option.CLIENT_IDENTIFIER);
    }
}
