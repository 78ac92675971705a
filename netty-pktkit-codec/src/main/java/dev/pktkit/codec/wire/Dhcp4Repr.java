package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed DHCPv4 message with all its options, for control paths and tests.
 *
 * <p>{@code options} maps each option code to its whole value, in the order the codes first appear; an option
 * split over several instances (RFC 3396), in the options field or in overloaded 'file'/'sname' fields, is one
 * entry holding the concatenation. Option overload (52) is a wire matter and never an entry: {@link #parse}
 * removes it and reports the overloaded fields as all zero, and {@link #emit} writes every option into the options
 * field (splitting values over 255 bytes), then END, then zero padding to 300 bytes.
 *
 * @param op      {@link Dhcp4#OP_REQUEST} or {@link Dhcp4#OP_REPLY} (any octet is kept)
 * @param htype   hardware type
 * @param hlen    hardware address length 0..16
 * @param hops    relay hops
 * @param xid     transaction id 0..2^32-1
 * @param secs    seconds 0..65535
 * @param flags   flags field 0..65535 ({@link Dhcp4#FLAG_BROADCAST})
 * @param ciaddr  client address
 * @param yiaddr  your address
 * @param siaddr  next server address
 * @param giaddr  relay agent address
 * @param chaddr  client hardware address field, exactly 16 bytes (null: zeros)
 * @param sname   server host name field, exactly 64 bytes (null: zeros)
 * @param file    boot file name field, exactly 128 bytes (null: zeros)
 * @param options option code (1..254, not 52) to value, in order; null for none
 */
public record Dhcp4Repr(int op, int htype, int hlen, int hops, long xid, int secs, int flags, int ciaddr,
                        int yiaddr, int siaddr, int giaddr, byte[] chaddr, byte[] sname, byte[] file,
                        Map<Integer, byte[]> options) {

    /** Checks ranges and copies every array and the map. */
    public Dhcp4Repr {
        chaddr = field(chaddr, Dhcp4.CHADDR_LENGTH, "chaddr");
        sname = field(sname, Dhcp4.SNAME_LENGTH, "sname");
        file = field(file, Dhcp4.FILE_LENGTH, "file");
        if (((op | htype | hops) & ~0xFF) != 0 || hlen < 0 || hlen > Dhcp4.CHADDR_LENGTH
                || (xid & ~0xFFFF_FFFFL) != 0 || ((secs | flags) & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("op " + op + " htype " + htype + " hlen " + hlen + " hops " + hops
                    + " xid " + xid + " secs " + secs + " flags " + flags);
        }
        LinkedHashMap<Integer, byte[]> copy = new LinkedHashMap<>();
        if (options != null) {
            for (Map.Entry<Integer, byte[]> e : options.entrySet()) {
                int code = e.getKey();
                if (code <= Dhcp4Option.PAD || code >= Dhcp4Option.END || code == Dhcp4Option.OPTION_OVERLOAD
                        || e.getValue() == null) {
                    throw new IllegalArgumentException("option " + code);
                }
                copy.put(code, e.getValue().clone());
            }
        }
        options = Collections.unmodifiableMap(copy);
    }

    private static byte[] field(byte[] b, int length, String name) {
        if (b == null) {
            return new byte[length];
        }
        if (b.length != length) {
            throw new IllegalArgumentException(name + " must be " + length + " bytes, not " + b.length);
        }
        return b.clone();
    }

    /**
     * A message for an Ethernet client: htype 1, hlen 6, hops 0, secs 0, sname and file empty.
     *
     * @param mac     client MAC ({@link MacAddress} form)
     * @param options option code to value, in order
     */
    public static Dhcp4Repr of(int op, long xid, int flags, int ciaddr, int yiaddr, int siaddr, int giaddr,
                               long mac, Map<Integer, byte[]> options) {
        byte[] ch = new byte[Dhcp4.CHADDR_LENGTH];
        for (int i = 0; i < 6; i++) {
            ch[i] = (byte) (mac >>> (40 - 8 * i));
        }
        return new Dhcp4Repr(op, Dhcp4.HTYPE_ETHERNET, 6, 0, xid, 0, flags, ciaddr, yiaddr, siaddr, giaddr, ch,
                null, null, options);
    }

    /** The {@code len}-byte message at {@code off}; null when {@link Dhcp4#check} fails. */
    public static Dhcp4Repr parse(ByteBuf buf, int off, int len) {
        if (Dhcp4.check(buf, off, len) < 0) {
            return null;
        }
        LinkedHashMap<Integer, byte[]> opts = new LinkedHashMap<>();
        for (int p = Dhcp4.nextOption(buf, off, len, Dhcp4.DONE); p != Dhcp4.DONE;
                p = Dhcp4.nextOption(buf, off, len, p)) {
            int code = buf.getUnsignedByte(p);
            if (code == Dhcp4Option.OPTION_OVERLOAD) {
                continue;
            }
            byte[] v = new byte[buf.getUnsignedByte(p + 1)];
            buf.getBytes(p + 2, v);
            byte[] old = opts.get(code);
            if (old == null) {
                opts.put(code, v);
            } else {
                byte[] both = Arrays.copyOf(old, old.length + v.length);
                System.arraycopy(v, 0, both, old.length, v.length);
                opts.put(code, both);
            }
        }
        int overload = Dhcp4.optionOverload(buf, off, len);
        byte[] ch = new byte[Dhcp4.CHADDR_LENGTH];
        byte[] sn = new byte[Dhcp4.SNAME_LENGTH];
        byte[] fi = new byte[Dhcp4.FILE_LENGTH];
        buf.getBytes(off + Dhcp4.CHADDR_OFFSET, ch);
        if ((overload & Dhcp4.OVERLOAD_SNAME) == 0) {
            buf.getBytes(off + Dhcp4.SNAME_OFFSET, sn);
        }
        if ((overload & Dhcp4.OVERLOAD_FILE) == 0) {
            buf.getBytes(off + Dhcp4.FILE_OFFSET, fi);
        }
        return new Dhcp4Repr(Dhcp4.op(buf, off), Dhcp4.htype(buf, off), Dhcp4.hlen(buf, off),
                Dhcp4.hops(buf, off), Dhcp4.xid(buf, off), Dhcp4.secs(buf, off), Dhcp4.flags(buf, off),
                Dhcp4.ciaddr(buf, off), Dhcp4.yiaddr(buf, off), Dhcp4.siaddr(buf, off), Dhcp4.giaddr(buf, off),
                ch, sn, fi, opts);
    }

    /** The value of option {@code code} (a copy), or null if absent. */
    public byte[] option(int code) {
        byte[] v = options.get(code);
        return v == null ? null : v.clone();
    }

    /** Option 53, the message type, or -1 if absent or not one octet. */
    public int messageType() {
        byte[] v = options.get(Dhcp4Option.MESSAGE_TYPE);
        return v == null || v.length != 1 ? -1 : v[0] & 0xFF;
    }

    /** The first six octets of chaddr as a MAC ({@link MacAddress} form). */
    public long mac() {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | (chaddr[i] & 0xFF);
        }
        return m;
    }

    /** Message length as {@link #emit} writes it: 240, the options, END, padding to at least 300. */
    public int emittedLength() {
        int n = Dhcp4.OPTIONS_OFFSET + 1;
        for (byte[] v : options.values()) {
            n += v.length == 0 ? 2 : v.length + 2 * ((v.length + 254) / 255);
        }
        return Math.max(n, Dhcp4.MIN_BOOTP_LENGTH);
    }

    /** Appends the whole message at {@code out.writerIndex()}; returns its length. */
    public int emit(ByteBuf out) {
        int start = out.writerIndex();
        Dhcp4.writeFixed(out, op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr,
                sname, file);
        for (Map.Entry<Integer, byte[]> e : options.entrySet()) {
            Dhcp4.writeOption(out, e.getKey(), e.getValue());
        }
        Dhcp4.writeEnd(out, start);
        return out.writerIndex() - start;
    }

    @Override
    public byte[] chaddr() {
        return chaddr.clone();
    }

    @Override
    public byte[] sname() {
        return sname.clone();
    }

    @Override
    public byte[] file() {
        return file.clone();
    }

    /** The options, in order; an unmodifiable map whose arrays are copies. */
    @Override
    public Map<Integer, byte[]> options() {
        LinkedHashMap<Integer, byte[]> copy = new LinkedHashMap<>();
        options.forEach((k, v) -> copy.put(k, v.clone()));
        return Collections.unmodifiableMap(copy);
    }

    /** Option codes in order. */
    public List<Integer> optionCodes() {
        return new ArrayList<>(options.keySet());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Dhcp4Repr r) || op != r.op || htype != r.htype || hlen != r.hlen || hops != r.hops
                || xid != r.xid || secs != r.secs || flags != r.flags || ciaddr != r.ciaddr || yiaddr != r.yiaddr
                || siaddr != r.siaddr || giaddr != r.giaddr || !Arrays.equals(chaddr, r.chaddr)
                || !Arrays.equals(sname, r.sname) || !Arrays.equals(file, r.file)
                || options.size() != r.options.size()) {
            return false;
        }
        // order matters: the entries must match pairwise
        Iterator<Map.Entry<Integer, byte[]>> a = options.entrySet().iterator();
        Iterator<Map.Entry<Integer, byte[]>> b = r.options.entrySet().iterator();
        while (a.hasNext()) {
            Map.Entry<Integer, byte[]> x = a.next();
            Map.Entry<Integer, byte[]> y = b.next();
            if (!x.getKey().equals(y.getKey()) || !Arrays.equals(x.getValue(), y.getValue())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(xid) * 31 + op;
        for (Map.Entry<Integer, byte[]> e : options.entrySet()) {
            h = h * 31 + e.getKey() * 17 + Arrays.hashCode(e.getValue());
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DHCP op ").append(op).append(" xid 0x")
                .append(Long.toHexString(xid)).append(" chaddr ")
                .append(HexFormat.of().formatHex(chaddr, 0, Math.min(hlen, Dhcp4.CHADDR_LENGTH)));
        if (ciaddr != 0) {
            sb.append(" ciaddr ").append(Ip4.format(ciaddr));
        }
        if (yiaddr != 0) {
            sb.append(" yiaddr ").append(Ip4.format(yiaddr));
        }
        if (siaddr != 0) {
            sb.append(" siaddr ").append(Ip4.format(siaddr));
        }
        if (giaddr != 0) {
            sb.append(" giaddr ").append(Ip4.format(giaddr));
        }
        if (secs != 0 || flags != 0 || hops != 0) {
            sb.append(" secs ").append(secs).append(" flags 0x").append(Integer.toHexString(flags))
                    .append(" hops ").append(hops);
        }
        options.forEach((k, v) -> sb.append(' ').append(Dhcp4Option.name(k)).append('=')
                .append(HexFormat.of().formatHex(v)));
        return sb.toString();
    }
}
