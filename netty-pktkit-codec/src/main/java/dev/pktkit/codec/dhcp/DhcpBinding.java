package dev.pktkit.codec.dhcp;

import java.net.Inet4Address;
import java.time.Duration;

/**
 * One entry of a {@link DhcpServer}'s lease table, as {@link DhcpServer#bindings()} reports it.
 *
 * @param mac          client hardware address
 * @param clientId     client identifier (option 61) as hex, or null when the client sent none
 * @param address      the address
 * @param state        offered (held for the client until the offer expires) or bound (leased)
 * @param remaining    time until the offer or lease expires
 * @param hostName     the host name the client sent (option 12), or null
 * @param staticLease  whether the address comes from a static lease
 */
public record DhcpBinding(long mac, String clientId, Inet4Address address, State state, Duration remaining,
                          String hostName, boolean staticLease) {
    /** Binding state. */
    public enum State {
        /** Offered in answer to a DISCOVER, held until the client requests it or the offer expires. */
        OFFERED,
        /** Leased (ACKed). */
        BOUND
    }
}
