/**
 * {@link dev.pktkit.codec.adapter.L2Adapter}: a host's network interface as a Netty codec between Ethernet
 * frames and IP packets — ARP and NDP with bounded {@link dev.pktkit.codec.adapter.NeighborCache}s, duplicate
 * address detection, router advertisements, gateway routing, and a DHCPv4 client.
 */
package dev.pktkit.codec.adapter;
