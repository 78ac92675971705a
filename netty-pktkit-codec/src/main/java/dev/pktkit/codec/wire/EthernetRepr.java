package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed Ethernet header, for control paths and tests: addresses, VLAN tags outermost first, and the inner
 * EtherType. Not for the data path (it allocates).
 *
 * @param dst       destination address, low 48 bits
 * @param src       source address, low 48 bits
 * @param tags      VLAN tags, outermost first; empty when untagged
 * @param etherType the type after the tags
 */
public record EthernetRepr(long dst, long src, List<Vlan.Tag> tags, int etherType) {
    /** Copies {@code tags}. */
    public EthernetRepr {
        tags = List.copyOf(tags);
    }

    /** An untagged header. */
    public EthernetRepr(long dst, long src, int etherType) {
        this(dst, src, List.of(), etherType);
    }

    /** The header of the frame at {@code off}, or null when {@link Ethernet#payloadOffset} is -1. */
    public static EthernetRepr parse(ByteBuf buf, int off) {
        int n = Ethernet.vlanCount(buf, off);
        if (n < 0) {
            return null;
        }
        List<Vlan.Tag> tags = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int at = off + Ethernet.TYPE_OFFSET + i * Vlan.TAG_LENGTH;
            tags.add(new Vlan.Tag(buf.getUnsignedShort(at), buf.getUnsignedShort(at + 2)));
        }
        return new EthernetRepr(Ethernet.dst(buf, off), Ethernet.src(buf, off), tags,
                Ethernet.innerEtherType(buf, off));
    }

    /** Header length in octets: 14 plus 4 per tag. */
    public int emittedLength() {
        return Ethernet.HEADER_LENGTH + Vlan.TAG_LENGTH * tags.size();
    }

    /** Appends the header at {@code out.writerIndex()}. */
    public void emit(ByteBuf out) {
        MacAddress.write(out, dst);
        MacAddress.write(out, src);
        for (Vlan.Tag t : tags) {
            out.writeShort(t.tpid());
            out.writeShort(t.tci());
        }
        out.writeShort(etherType);
    }
}
