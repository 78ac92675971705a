package dev.pktkit.switching.lpm;

import dev.pktkit.codec.wire.Ip6;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HashMap;

/**
 * An IPv6 longest-prefix-match table: prefixes (address as two {@code long}s, {@code hi} = bytes 0-7 and
 * {@code lo} = bytes 8-15, big-endian; length 0..128) to values of type {@code V}.
 *
 * <h2>Design</h2>
 * A multibit trie, stride 16 at the root and 6 below, with path compression, compact (bitmap) nodes and no leaf
 * pushing:
 * <ul>
 *   <li>The root has 65,536 slots indexed by the top 16 bits. A slot holds the value of the longest prefix of
 *       length 0..16 covering it, or, when longer prefixes lie under it, the top node of its subtree, which
 *       carries that value as its {@code base}. So a lookup starts with one acquire load.</li>
 *   <li>A node at depth d (16, 22, 28, ..., 124) has 64 slots indexed by address bits [d, d+6). Slot j may hold
 *       the value of the longest prefix of length d+1..d+6 covering it (prefixes expanded over the slots they
 *       cover), and a child. Slots are stored compactly, as in Poptrie: a 64-bit bitmap of the slots with a
 *       value plus an array of just those values, the same for children; slot j's array position is
 *       {@code Long.bitCount(bitmap & ((1L << j) - 1))}, one POPCNT instruction.</li>
 *   <li>Path compression: a node also carries its key, the address bits [0, d) that every prefix under it
 *       shares, and sits directly under the slot of the nearest node above that branches, skipping the levels in
 *       between; a lookup whose address differs from the key stops there.</li>
 * </ul>
 * {@link #lookup(long, long)} walks down, remembering the last value seen. Each level is a key check (two
 * xor-and), a bit test and popcount for the value, the same for the child. A lookup visits one node per
 * branching point on its path: 1.5 to 4 on average in 10,000-prefix tables of /32../64 routes and /128 hosts.
 *
 * <p>Why: a hash table per prefix length would need up to 30+ probes, since random tables use most lengths
 * between /32 and /64; 256-slot uncompressed nodes (as the IPv4 table uses) cost about 2.4 KB per prefix here
 * and made lookups in a 10,000-prefix table cache-miss bound (about 140 ns in a rough loop); leaf pushing was
 * not used because a /33 inserted over a full /32 would have to re-push into every node under it.
 *
 * <h2>Updates and threads</h2>
 * Updates are serialised by a private lock that {@link #lookup} never takes. Nodes are immutable once published;
 * an update copies the nodes on its path (path copying, a few hundred bytes each) and publishes the new top node
 * of the root slot with a release store; lookups read the root slot with an acquire load, and each root slot
 * holds everything a lookup of its addresses needs, so a concurrent lookup sees, for its address, either the
 * table before an update or after it. {@link #clear} publishes a fresh root. Removing a prefix writes its longest
 * covering prefix of the same node back into its slots (at most 5 hash probes), drops nodes left empty and
 * re-compresses nodes left with a single child and no values.
 *
 * <h2>Cost</h2>
 * <ul>
 *   <li>lookup: O(number of branching nodes on the path), at most 19 levels, no allocation.</li>
 *   <li>put/remove: O(depth) node copies, each O(64); a prefix of length l &le; 16 rewrites 2^(16-l) root
 *       slots (a shallow node copy for each slot that has a subtree).</li>
 *   <li>memory: a fixed 576 KiB (root slots, plus writer-only root values and lengths: lookups touch only the
 *       256 KiB of slots), plus about 96 bytes per node, plus its compact arrays (5 bytes per value slot, 4 per
 *       child). Measured on 10,000-prefix tables of /32../64 routes plus 25% /128 hosts: 160 to 200 bytes per
 *       prefix (1.2 nodes per prefix). The control plane adds one {@link HashMap} entry (about 110 bytes) per
 *       prefix.</li>
 * </ul>
 *
 * <p>The control plane (exact routes, bound, lock, snapshots) is {@link RouteTable}'s, shared with
 * {@link Ipv4RouteTable}; this class holds the trie.
 *
 * <p>Bound: at most {@link #maxEntries()} prefixes (default {@value RouteTable#DEFAULT_MAX_ENTRIES}); adding beyond that
 * throws {@link IllegalStateException}. Values must not be null.
 *
 * @param <V> the value type (the hub stores its port object); values should be immutable or safely published
 *            themselves, the table only orders its own writes
 */
public final class Ipv6RouteTable<V> extends RouteTable<V> {
    private static final int ROOT_BITS = 16;
    private static final int ROOT_SIZE = 1 << ROOT_BITS;
    /** Bits per node below the root; 64 slots, so one long is a node's bitmap. */
    private static final int STRIDE = 6;
    private static final int NODE_SIZE = 1 << STRIDE;
    private static final byte NO_ROUTE = -1;
    private static final int INSERT = 0;
    private static final int REMOVE = 1;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    /**
     * A node of depth d: 64 slots indexed by address bits [d, d+6) (the node at depth 124 has 16 real slots:
     * its index also takes bits 122-123, which its key fixes). Slot contents are stored compactly: a bitmap of
     * the slots that hold a value and an array of those values in slot order, the same for children; slot j's
     * position in the array is the number of set bits below j. Immutable once published.
     */
    static final class Node {
        final int depth;
        /** min(depth + 6, 128): prefixes of length depth+1..end end in this node. */
        final int end;
        final long keyHi;
        final long keyLo;
        final long maskHi;
        final long maskLo;
        final int shift;
        final boolean inLo;
        final long valBits;
        final long kidBits;
        /** Values of the slots set in valBits, in slot order; null when valBits is 0. */
        final Object[] vals;
        /** Writer-only: lengths (unsigned) of the prefixes whose values {@link #vals} holds. */
        final byte[] lens;
        /** Children of the slots set in kidBits, in slot order; null when kidBits is 0. */
        final Node[] kids;
        /**
         * For a node in a root slot: the value of the longest prefix of length 0..16 covering that slot (the
         * lookup's starting answer), or null. Ignored in deeper nodes.
         */
        final Object base;

        private Node(int depth, long hi, long lo, long valBits, Object[] vals, byte[] lens, long kidBits,
                     Node[] kids, Object base) {
            this.depth = depth;
            this.end = Math.min(depth + STRIDE, 128);
            this.maskHi = Ip6.maskHi(depth);
            this.maskLo = Ip6.maskLo(depth);
            this.keyHi = hi & maskHi;
            this.keyLo = lo & maskLo;
            this.inLo = depth >= 64;
            this.shift = (inLo ? 128 : 64) - end;
            this.valBits = valBits;
            this.vals = vals;
            this.lens = lens;
            this.kidBits = kidBits;
            this.kids = kids;
            this.base = base;
        }

        /** This node with another root-level value. */
        Node withBase(Object b) {
            return b == base ? this : new Node(depth, keyHi, keyLo, valBits, vals, lens, kidBits, kids, b);
        }

        /** A node from full 64-slot arrays (nulls for empty slots), compacting them. */
        static Node of(int depth, long hi, long lo, Object[] fullVals, byte[] fullLens, Node[] fullKids) {
            long vb = 0;
            long kb = 0;
            int nv = 0;
            int nk = 0;
            for (int j = 0; j < NODE_SIZE; j++) {
                if (fullVals[j] != null) {
                    vb |= 1L << j;
                    nv++;
                }
                if (fullKids[j] != null) {
                    kb |= 1L << j;
                    nk++;
                }
            }
            Object[] vals = nv == 0 ? null : new Object[nv];
            byte[] lens = nv == 0 ? null : new byte[nv];
            Node[] kids = nk == 0 ? null : new Node[nk];
            int iv = 0;
            int ik = 0;
            for (int j = 0; j < NODE_SIZE; j++) {
                if (fullVals[j] != null) {
                    vals[iv] = fullVals[j];
                    lens[iv++] = fullLens[j];
                }
                if (fullKids[j] != null) {
                    kids[ik++] = fullKids[j];
                }
            }
            return new Node(depth, hi, lo, vb, vals, lens, kb, kids, null);
        }

        boolean covers(long hi, long lo) {
            return (((hi ^ keyHi) & maskHi) | ((lo ^ keyLo) & maskLo)) == 0;
        }

        int index(long hi, long lo) {
            return (int) ((inLo ? lo : hi) >>> shift) & (NODE_SIZE - 1);
        }

        Node kid(int j) {
            return (kidBits >>> j & 1) == 0 ? null : kids[Long.bitCount(kidBits & ((1L << j) - 1))];
        }

        Object[] fullVals() {
            Object[] full = new Object[NODE_SIZE];
            for (int j = 0, i = 0; j < NODE_SIZE; j++) {
                if ((valBits >>> j & 1) != 0) {
                    full[j] = vals[i++];
                }
            }
            return full;
        }

        byte[] fullLens() {
            byte[] full = new byte[NODE_SIZE];
            for (int j = 0, i = 0; j < NODE_SIZE; j++) {
                if ((valBits >>> j & 1) != 0) {
                    full[j] = lens[i++];
                }
            }
            return full;
        }

        Node[] fullKids() {
            Node[] full = new Node[NODE_SIZE];
            for (int j = 0, i = 0; j < NODE_SIZE; j++) {
                if ((kidBits >>> j & 1) != 0) {
                    full[j] = kids[i++];
                }
            }
            return full;
        }

        /** This node with prefix hi/lo/len (depth < len &le; end) applied to its slots; this if unchanged. */
        Node withRange(long hi, long lo, int len, int mode, Object v, int vlen) {
            int from = index(hi, lo);
            int to = from + (1 << (end - len)) - 1;
            Object[] fv = fullVals();
            byte[] fl = fullLens();
            boolean changed = false;
            for (int j = from; j <= to; j++) {
                int slotLen = fl[j] & 0xFF;
                if (applies(mode, slotLen, len) && (fv[j] != v || slotLen != vlen)) {
                    fv[j] = v;
                    fl[j] = v == null ? 0 : (byte) vlen;
                    changed = true;
                }
            }
            return changed ? of(depth, keyHi, keyLo, fv, fl, fullKids()) : this;
        }

        /** This node with child j replaced (null removes it); this if unchanged. */
        Node withKid(int j, Node k) {
            if (kid(j) == k) {
                return this;
            }
            Node[] fk = fullKids();
            fk[j] = k;
            return of(depth, keyHi, keyLo, fullVals(), fullLens(), fk);
        }
    }

    /**
     * Root slots, indexed by the top 16 address bits: null, a value (the longest prefix of length 0..16 covering
     * the slot, when no longer prefix is under it), or the top Node of the slot's subtree, whose {@code base} is
     * that value. Written with release stores under the lock, read with acquire loads; replaced by clear().
     */
    private volatile Object[] root = new Object[ROOT_SIZE];
    /** Writer-only: the root-level value of each slot (also held in the slot or its node's base). */
    private Object[] rootVals = new Object[ROOT_SIZE];
    /** Writer-only: recorded length (0..16) of the prefix whose value each root slot holds; -1 = none. */
    private byte[] rootLens = newRootLens();

    /** A table bounded to {@value RouteTable#DEFAULT_MAX_ENTRIES} prefixes. */
    public Ipv6RouteTable() {
        this(DEFAULT_MAX_ENTRIES);
    }

    /**
     * A table bounded to {@code maxEntries} prefixes.
     *
     * @throws IllegalArgumentException if {@code maxEntries} is not positive
     */
    public Ipv6RouteTable(int maxEntries) {
        super(true, maxEntries);
    }

    /**
     * The value of the longest prefix containing the address, or null if none does. Lock-free, allocation-free,
     * safe to call from any number of threads while the table changes.
     *
     * @param hi address bytes 0-7, big-endian
     * @param lo address bytes 8-15, big-endian
     */
    @SuppressWarnings("unchecked")
    public V lookup(long hi, long lo) {
        Object o = (Object) SLOT.getAcquire(root, (int) (hi >>> 48));
        if (!(o instanceof Node top)) {
            return (V) o;
        }
        Object best = top.base;
        Node n = top;
        while ((((hi ^ n.keyHi) & n.maskHi) | ((lo ^ n.keyLo) & n.maskLo)) == 0) {
            int j = (int) ((n.inLo ? lo : hi) >>> n.shift) & (NODE_SIZE - 1);
            long below = (1L << j) - 1;
            long vb = n.valBits;
            if ((vb >>> j & 1) != 0) {
                best = n.vals[Long.bitCount(vb & below)];
            }
            long kb = n.kidBits;
            if ((kb >>> j & 1) == 0) {
                break;
            }
            n = n.kids[Long.bitCount(kb & below)];
        }
        return (V) best;
    }

    /**
     * Adds or replaces the route for {@code (hi, lo)/length}; host bits are ignored.
     *
     * @return the value previously stored for exactly this prefix, or null
     * @throws IllegalArgumentException if {@code length} is not in 0..128
     * @throws IllegalStateException    if the prefix is new and the table already holds {@link #maxEntries()}
     * @throws NullPointerException     if {@code value} is null
     */
    public V put(long hi, long lo, int length, V value) {
        return put(Prefix.ipv6(hi, lo, length), value);
    }

    /**
     * Removes the route for exactly {@code (hi, lo)/length} (host bits ignored); addresses under it fall back to
     * the next longest covering prefix.
     *
     * @return whether the prefix was present
     * @throws IllegalArgumentException if {@code length} is not in 0..128
     */
    public boolean remove(long hi, long lo, int length) {
        return remove(Prefix.ipv6(hi, lo, length));
    }

    /**
     * The value stored for exactly {@code (hi, lo)/length} (not a longest match), or null.
     *
     * @throws IllegalArgumentException if {@code length} is not in 0..128
     */
    public V get(long hi, long lo, int length) {
        return get(Prefix.ipv6(hi, lo, length));
    }

    /** The number of nodes below the root (for tests and memory estimates). */
    int nodeCount() {
        synchronized (lock) {
            int count = 0;
            for (Object o : root) {
                if (o instanceof Node n) {
                    count += count(n);
                }
            }
            return count;
        }
    }

    private static int count(Node n) {
        if (n == null) {
            return 0;
        }
        int c = 1;
        if (n.kids != null) {
            for (Node k : n.kids) {
                c += count(k);
            }
        }
        return c;
    }

    @Override
    void insertLocked(Prefix prefix, V value) {
        int len = prefix.length();
        long hi = prefix.hi();
        long lo = prefix.lo();
        if (len <= ROOT_BITS) {
            changeRootValues(hi, len, INSERT, value, len);
        } else {
            int i = (int) (hi >>> 48);
            Object[] r = root;
            Node top = r[i] instanceof Node n ? n : null;
            setSubtree(r, i, top, insert(top, hi, lo, len, value));
        }
    }

    @Override
    void removeLocked(Prefix prefix) {
        int len = prefix.length();
        long hi = prefix.hi();
        long lo = prefix.lo();
        if (len <= ROOT_BITS) {
            int coverLen = longestCoveringLength(prefix, len - 1, 0);
            changeRootValues(hi, len, REMOVE, routeOfLength(prefix, coverLen), coverLen);
        } else {
            int i = (int) (hi >>> 48);
            Object[] r = root;
            Node top = r[i] instanceof Node n ? n : null;
            setSubtree(r, i, top, remove(top, prefix));
        }
    }

    @Override
    void resetLocked() {
        rootLens = newRootLens();
        rootVals = new Object[ROOT_SIZE];
        root = new Object[ROOT_SIZE];
    }

    private static byte[] newRootLens() {
        byte[] l = new byte[ROOT_SIZE];
        Arrays.fill(l, NO_ROUTE);
        return l;
    }

    private static boolean applies(int mode, int slotLen, int len) {
        return mode == INSERT ? slotLen <= len : slotLen == len;
    }

    /** The depth of the node where a prefix of length len (17..128) ends: 16 + 6k, below len. */
    private static int depthOf(int len) {
        return depthAtOrAbove(len - 1);
    }

    /** The largest node depth (16 + 6k) not above bit position x (x &ge; 16). */
    private static int depthAtOrAbove(int x) {
        return ROOT_BITS + (x - ROOT_BITS) / STRIDE * STRIDE;
    }

    /** The slot index of (hi, lo) in a node of depth d: bits [d, d+6), or bits 122-127 for d = 124. */
    private static int index(long hi, long lo, int d) {
        int end = Math.min(d + STRIDE, 128);
        return d < 64 ? (int) (hi >>> (64 - end)) & (NODE_SIZE - 1) : (int) (lo >>> (128 - end)) & (NODE_SIZE - 1);
    }

    /** The number of leading bits two addresses share, 0..128. */
    private static int commonBits(long h1, long l1, long h2, long l2) {
        long x = h1 ^ h2;
        if (x != 0) {
            return Long.numberOfLeadingZeros(x);
        }
        return 64 + Long.numberOfLeadingZeros(l1 ^ l2); // 128 when equal
    }

    /** Insert (value v, length l) or remove (cover v of length vlen, -1 if none) of a /0../16 in the live root. */
    private void changeRootValues(long hi, int len, int mode, Object v, int vlen) {
        Object[] r = root;
        byte[] rl = rootLens;
        Object[] rv = rootVals;
        int from = (int) (hi >>> 48);
        int to = from + (1 << (ROOT_BITS - len)) - 1;
        for (int i = from; i <= to; i++) {
            if (applies(mode, rl[i], len) && (rv[i] != v || rl[i] != vlen)) {
                rl[i] = (byte) vlen;
                rv[i] = v;
                Object o = r[i];
                SLOT.setRelease(r, i, o instanceof Node n ? (Object) n.withBase(v) : v);
            }
        }
    }

    /** Publishes the new subtree of root slot i (null: none), carrying the slot's root-level value. */
    private void setSubtree(Object[] r, int i, Node old, Node now) {
        if (now == old) {
            return;
        }
        SLOT.setRelease(r, i, now == null ? rootVals[i] : (Object) now.withBase(rootVals[i]));
    }

    /** A new node holding only prefix hi/lo/len (len &gt; 16), at the depth where that length ends. */
    private static Node single(long hi, long lo, int len, Object v) {
        int d = depthOf(len);
        Object[] vals = new Object[NODE_SIZE];
        byte[] lens = new byte[NODE_SIZE];
        int from = index(hi, lo, d);
        int to = from + (1 << (Math.min(d + STRIDE, 128) - len)) - 1;
        for (int j = from; j <= to; j++) {
            vals[j] = v;
            lens[j] = (byte) len;
        }
        return Node.of(d, hi, lo, vals, lens, new Node[NODE_SIZE]);
    }

    /**
     * The subtree n (hanging from a slot that fixes the bits the prefix shares with it, at least its first 16)
     * with prefix hi/lo/len added. Never modifies n.
     */
    private static Node insert(Node n, long hi, long lo, int len, Object v) {
        if (n == null) {
            return single(hi, lo, len, v);
        }
        int common = Math.min(commonBits(hi, lo, n.keyHi, n.keyLo), n.depth);
        if (common == n.depth && len > n.depth) {
            if (len <= n.end) {
                return n.withRange(hi, lo, len, INSERT, v, len);
            }
            int j = n.index(hi, lo);
            return n.withKid(j, insert(n.kid(j), hi, lo, len, v));
        }
        // The prefix leaves n's key (or ends above n's depth): a new branching node above n.
        int d = depthAtOrAbove(Math.min(common, len - 1));
        Node[] kids = new Node[NODE_SIZE];
        kids[index(n.keyHi, n.keyLo, d)] = n; // n.depth >= d + 6
        Object[] vals = new Object[NODE_SIZE];
        byte[] lens = new byte[NODE_SIZE];
        if (len > Math.min(d + STRIDE, 128)) {
            kids[index(hi, lo, d)] = single(hi, lo, len, v);
            return Node.of(d, hi, lo, vals, lens, kids);
        }
        return Node.of(d, hi, lo, vals, lens, kids).withRange(hi, lo, len, INSERT, v, len);
    }

    /** The subtree n with prefix (hi, lo)/len (present in it) removed; null if it becomes empty. */
    private Node remove(Node n, Prefix prefix) {
        long hi = prefix.hi();
        long lo = prefix.lo();
        int len = prefix.length();
        if (n == null || len <= n.depth || !n.covers(hi, lo)) {
            throw new IllegalStateException("IPv6 route table inconsistent at " + prefix);
        }
        Node r;
        if (len <= n.end) {
            int coverLen = longestCoveringLength(prefix, len - 1, n.depth + 1);
            r = n.withRange(hi, lo, len, REMOVE, routeOfLength(prefix, coverLen), coverLen < 0 ? 0 : coverLen);
        } else {
            int j = n.index(hi, lo);
            r = n.withKid(j, remove(n.kid(j), prefix));
        }
        if (r.vals == null) {
            if (r.kids == null) {
                return null;
            }
            if (r.kids.length == 1) {
                return r.kids[0]; // a node with one child and no values is skipped (the child keeps its full key)
            }
        }
        return r;
    }
}
