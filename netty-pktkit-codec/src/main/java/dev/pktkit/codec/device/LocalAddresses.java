package dev.pktkit.codec.device;

/**
 * The unicast addresses a host owns, as the devices of that host see them. {@code L2Adapter} implements it
 * (its addresses change with DHCP, SLAAC and DAD); {@link #of} gives a fixed set.
 *
 * <p>Implementations answer from any thread without locking or allocating.
 */
public interface LocalAddresses {
    /** Whether IPv4 {@code address} is one of the host's usable addresses. */
    boolean isLocalIpv4(int address);

    /** Whether IPv6 {@code (hi, lo)} is one of the host's usable (not tentative) addresses. */
    boolean isLocalIpv6(long hi, long lo);

    /** A fixed set of addresses. */
    static LocalAddresses of(java.net.InetAddress... addresses) {
        return FixedLocalAddresses.of(addresses);
    }
}
