/**
 * {@link dev.pktkit.codec.dhcp.DhcpServer}: a DHCPv4 server (RFC 2131) as a frame-level device on an L2 port, with
 * static leases, classless static routes, subnets served through relay agents
 * ({@link dev.pktkit.codec.dhcp.DhcpSubnet}, RFC 3046 option 82 echoed), lease events
 * ({@link dev.pktkit.codec.dhcp.DhcpLeaseEvent}), per-client and global rate limits and bounded tables and reply
 * queue. The per-subnet lease table ({@code DhcpLeaseTable}) is plain logic apart from the handler. The DHCP client
 * lives in {@code L2Adapter}.
 */
package dev.pktkit.codec.dhcp;
