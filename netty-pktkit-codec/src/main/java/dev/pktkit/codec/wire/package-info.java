/**
 * Zero-copy wire views, builders and reprs for Ethernet, 802.1Q/802.1ad, ARP, IPv4, IPv6, ICMPv4, ICMPv6/NDP,
 * UDP, TCP and DHCPv4, plus the Internet checksum and MAC/IPv4/IPv6 address helpers.
 *
 * <h2>Views</h2>
 * One final class per protocol ({@link dev.pktkit.codec.wire.Ethernet}, {@link dev.pktkit.codec.wire.Vlan},
 * {@code Arp}, {@code Ipv4}, {@code Ipv6}, {@code Icmpv4}, {@code Icmpv6}, {@code Ndp}, ...) holds static
 * accessors over {@code (ByteBuf buf, int off)}, where {@code off} is an <em>absolute</em> index (as for
 * {@link io.netty.buffer.ByteBuf#getInt(int)}) and the valid region ends at {@code buf.writerIndex()}. Accessors
 * never move indices, never allocate and never throw on short or malformed input; they return a documented
 * invalid answer instead:
 * <ul>
 *   <li>unsigned fields up to 16 bits, lengths, types and offsets: {@code int}, -1 when short;</li>
 *   <li>32-bit unsigned fields: {@code long}, -1 when short;</li>
 *   <li>MAC addresses: {@code long} holding the low 48 bits ({@link dev.pktkit.codec.wire.MacAddress}), -1 when
 *       short;</li>
 *   <li>IPv4 addresses: {@code int}, big-endian value ({@code 10.0.0.1 == 0x0A000001},
 *       {@link dev.pktkit.codec.wire.Ip4}), 0 when short;</li>
 *   <li>IPv6 addresses: two {@code long}s from {@code xxxHi}/{@code xxxLo} accessors (octets 0-7 and 8-15,
 *       big-endian, {@link dev.pktkit.codec.wire.Ip6}), 0 when short.</li>
 * </ul>
 * Addresses have no spare value for "short", so validate first: each view has a validating entry point
 * ({@code check}, {@code headerLength}, {@code payloadOffset}) that returns a non-negative length or offset, or a
 * negative {@link dev.pktkit.codec.wire.WireError} code (truncated, bad version, bad length field, bad checksum,
 * too many chained headers...).
 *
 * <h2>Builders and reprs</h2>
 * Static {@code write...} methods append at {@code out.writerIndex()} into a buffer the caller supplies (usually
 * from {@code ctx.alloc()}) and fill in lengths and checksums; each documents what it returns. The caller keeps
 * ownership of {@code out}. A record per message kind ({@link dev.pktkit.codec.wire.EthernetRepr}, {@code Ipv4Repr},
 * ...) parses ({@code parse(buf, off)}, null when invalid) and emits ({@code emit(out)}, {@code emittedLength()})
 * whole headers; reprs allocate and belong to control paths and tests, not to the data path.
 *
 * <h2>Checksums</h2>
 * {@link dev.pktkit.codec.wire.Checksums} computes RFC 1071 sums eight bytes at a time and updates them
 * incrementally (RFC 1624) for TTL and NAT rewrites.
 *
 * <h2>Ownership</h2>
 * No method in this package retains, releases or keeps a reference to a {@code ByteBuf} it is given. A view read
 * of a released buffer (reference count 0) throws Netty's {@link io.netty.util.IllegalReferenceCountException},
 * as the buffer's own getters do: that is a bug in the caller, not bad input. Methods that
 * modify bytes in place ({@code set...}) require the caller to hold the only view of those bytes (see
 * {@link dev.pktkit.codec.buffer.Buffers#exclusive}).
 */
package dev.pktkit.codec.wire;
