package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * A parsed Ethernet/IPv4 ARP packet, for control paths and tests.
 *
 * @param operation {@link Arp#OP_REQUEST} or {@link Arp#OP_REPLY}
 * @param senderMac sender hardware address, low 48 bits
 * @param senderIp  sender IPv4 address
 * @param targetMac target hardware address (zero in requests)
 * @param targetIp  target IPv4 address
 */
public record ArpRepr(int operation, long senderMac, int senderIp, long targetMac, int targetIp) {

    /** The packet at {@code off}, or null when {@link Arp#check} fails. */
    public static ArpRepr parse(ByteBuf buf, int off) {
        if (Arp.check(buf, off) < 0) {
            return null;
        }
        return new ArpRepr(Arp.operation(buf, off), Arp.senderMac(buf, off), Arp.senderIp(buf, off),
                Arp.targetMac(buf, off), Arp.targetIp(buf, off));
    }

    /** {@link Arp#LENGTH}. */
    public int emittedLength() {
        return Arp.LENGTH;
    }

    /** Appends the packet at {@code out.writerIndex()}. */
    public void emit(ByteBuf out) {
        Arp.write(out, operation, senderMac, senderIp, targetMac, targetIp);
    }

    @Override
    public String toString() {
        if (operation == Arp.OP_REQUEST) {
            return "ARP request who-has " + Ip4.format(targetIp) + " tell " + Ip4.format(senderIp) + " ("
                    + MacAddress.format(senderMac) + ")";
        }
        return "ARP op " + operation + " " + Ip4.format(senderIp) + " is-at " + MacAddress.format(senderMac)
                + " to " + Ip4.format(targetIp) + " (" + MacAddress.format(targetMac) + ")";
    }
}
