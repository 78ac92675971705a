/**
 * Longest-prefix-match route tables for the L3 hub: {@link dev.pktkit.switching.lpm.Ipv4RouteTable} (multibit
 * trie, strides 16-8-8, leaf-pushed: at most three loads per lookup) and
 * {@link dev.pktkit.switching.lpm.Ipv6RouteTable} (stride 16 then 6, path-compressed, compact bitmap nodes), mapping prefixes to a
 * value such as a port, plus {@link dev.pktkit.switching.lpm.Prefix} (parsing and formatting
 * {@code "10.0.0.0/8"}, {@code "2001:db8::/32"}) and {@link dev.pktkit.switching.lpm.Route} (an entry of a
 * table snapshot). Both tables extend {@link dev.pktkit.switching.lpm.RouteTable}, which holds their common
 * control plane (exact routes, bound, lock, snapshots, covering-route search); each keeps only its trie and its
 * lookup.
 *
 * <p>Threads: {@code lookup} is the data path: no lock, no allocation, callable from any number of event loops
 * while another thread updates the table; for its address it sees the table either before or after each update.
 * Updates ({@code put}, {@code remove}, {@code putAll}, {@code clear}) are control-plane operations serialised by
 * each table's own lock. Both tables bound their number of prefixes ({@code maxEntries}, default 1,000,000) and
 * throw {@link java.lang.IllegalStateException} beyond it.
 *
 * <pre>{@code
 * Ipv4RouteTable<Port> v4 = new Ipv4RouteTable<>();
 * v4.put(Prefix.parse("0.0.0.0/0"), uplink);
 * v4.put(Prefix.parse("10.1.0.0/16"), lan);
 * Port out = v4.lookup(dstAddress);          // int from the IPv4 header
 *
 * Ipv6RouteTable<Port> v6 = new Ipv6RouteTable<>();
 * v6.put(Prefix.parse("2001:db8:1::/48"), lan);
 * Port out6 = v6.lookup(dstHi, dstLo);       // the two longs of the IPv6 destination
 * }</pre>
 */
package dev.pktkit.switching.lpm;
