package dev.pktkit.linux.netlink;

/**
 * What rtnetlink reports about a network interface.
 *
 * @param index      interface index ({@code ifindex}) in its namespace
 * @param name       interface name
 * @param mtu        MTU in bytes
 * @param flags      {@code IFF_*} flags ({@link #isUp()} is {@code IFF_UP})
 * @param macAddress link-layer address as a long (low 48 bits), 0 if the interface has none (TUN)
 */
public record LinkInfo(int index, String name, int mtu, int flags, long macAddress) {
    /** {@code IFF_UP}. */
    public static final int IFF_UP = 0x1;
    /** {@code IFF_RUNNING}: up and with carrier (for TUN/TAP: a queue is attached). */
    public static final int IFF_RUNNING = 0x40;

    /** Whether the interface is administratively up. */
    public boolean isUp() {
        return (flags & IFF_UP) != 0;
    }
}
