/**
 * The virtual host: {@link dev.pktkit.vtcp.host.VirtualHost}, an L3 device with IPv4 and IPv6 addresses, and the
 * Netty channels it hands out ({@link dev.pktkit.vtcp.host.VirtualDatagramChannel}, ...), so that any bootstrap,
 * codec or resolver runs over the virtual network.
 */
package dev.pktkit.vtcp.host;
