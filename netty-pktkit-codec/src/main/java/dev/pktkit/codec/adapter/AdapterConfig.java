package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.MacAddress;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The immutable configuration of one {@link L2Adapter}, taken from its {@link L2Adapter.Builder} at
 * {@code build()}: later changes to the builder do not reach adapters already built, and every {@code build()}
 * draws its own random MAC unless one was set.
 */
final class AdapterConfig {
    final long mac;
    final int v4Address;
    final int v4Prefix;
    final int v4Gateway;
    /** Triples: destination, prefix length, router. Never modified. */
    private final int[] v4Routes;
    final boolean dhcp;
    final String dhcpHostname;
    final boolean dhcpBroadcastFlag;
    final Duration dhcpProbeWait;
    final boolean ipv6;
    /** Each: hi, lo, prefix length. Never modified. */
    final List<long[]> ipv6Static;
    final long gw6Hi;
    final long gw6Lo;
    final boolean acceptRa;
    final int dadTransmits;
    final int maxIpv6Addresses;
    final int maxOnLinkPrefixes;
    final int maxNeighbors;
    final int maxPendingPerNeighbor;
    final int maxPendingTotal;
    final Duration reachableTime;
    final Duration staleTime;
    final Duration retransmitInterval;
    final int maxMulticastSolicit;
    final int maxUnicastSolicit;

    AdapterConfig(L2Adapter.Builder b) {
        this.mac = b.mac != 0 ? b.mac : MacAddress.randomLocallyAdministered();
        this.v4Address = b.v4Address;
        this.v4Prefix = b.v4Prefix;
        this.v4Gateway = b.v4Gateway;
        int[] r = new int[b.v4Routes.size() * 3];
        for (int i = 0; i < b.v4Routes.size(); i++) {
            System.arraycopy(b.v4Routes.get(i), 0, r, i * 3, 3);
        }
        this.v4Routes = r;
        this.dhcp = b.dhcp;
        this.dhcpHostname = b.dhcpHostname;
        this.dhcpBroadcastFlag = b.dhcpBroadcastFlag;
        this.dhcpProbeWait = b.dhcpProbeWait;
        this.ipv6 = b.ipv6;
        List<long[]> v6 = new ArrayList<>(b.ipv6Static.size());
        for (long[] s : b.ipv6Static) {
            v6.add(s.clone());
        }
        this.ipv6Static = List.copyOf(v6);
        this.gw6Hi = b.gw6Hi;
        this.gw6Lo = b.gw6Lo;
        this.acceptRa = b.acceptRa;
        this.dadTransmits = b.dadTransmits;
        this.maxIpv6Addresses = b.maxIpv6Addresses;
        this.maxOnLinkPrefixes = b.maxOnLinkPrefixes;
        this.maxNeighbors = b.maxNeighbors;
        this.maxPendingPerNeighbor = b.maxPendingPerNeighbor;
        this.maxPendingTotal = b.maxPendingTotal;
        this.reachableTime = b.reachableTime;
        this.staleTime = b.staleTime;
        this.retransmitInterval = b.retransmitInterval;
        this.maxMulticastSolicit = b.maxMulticastSolicit;
        this.maxUnicastSolicit = b.maxUnicastSolicit;
    }

    /** A fresh copy of the static routes (the adapter's route array is replaced, never modified, but DHCP's is new). */
    int[] v4RoutesArray() {
        return v4Routes.clone();
    }
}
