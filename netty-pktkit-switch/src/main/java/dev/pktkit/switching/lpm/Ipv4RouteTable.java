package dev.pktkit.switching.lpm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.HashMap;

/**
 * An IPv4 longest-prefix-match table: prefixes (address {@code int}, length 0..32) to values of type {@code V}.
 *
 * <h2>Design</h2>
 * A multibit trie with fixed strides 16-8-8 and leaf pushing (controlled prefix expansion):
 * <ul>
 *   <li>The root is one array of 65,536 slots indexed by the top 16 address bits. Each slot holds either the
 *       value of the longest prefix of length 0..16 covering that /16, or null, or a child node.</li>
 *   <li>A child node has 256 slots indexed by the next 8 bits (bits 16-23, then 24-31) and the same meaning: a
 *       value (the longest prefix covering that slot, the parent's covering prefix pushed down into it), null,
 *       or (at the middle level) a grandchild node.</li>
 * </ul>
 * So {@link #lookup(int)} is at most three dependent array loads and two type checks, no loop, no comparison
 * of prefixes, no allocation and no lock: the answer is whatever value sits in the last slot reached. A hash
 * table per prefix length probed from /32 down would need up to 33 probes (each a hash, a load and a compare)
 * when many lengths are present, which is why it was not chosen; a binary trie would need up to 32 loads.
 *
 * <h2>Updates and threads</h2>
 * Updates (put, remove, clear, putAll) are serialised by a private lock; {@link #lookup} never takes it. Child
 * nodes are immutable once published: an update copies the (at most two) nodes on its path, or the nodes under a
 * short prefix it re-pushes, and publishes each changed root slot with a release store; lookups read the root slot
 * with an acquire load. The root array itself is updated slot by slot in place (copying 256 KiB per insert would
 * make 10,000 inserts cost gigabytes of copying); every slot write installs a final, correct value for the
 * addresses under that slot, so a concurrent lookup sees, for its address, either the table before the update or
 * after it, never a mix. {@link #clear} publishes a fresh root. A multi-prefix operation ({@link #putAll}) is a
 * sequence of single updates: readers may see a prefix of that sequence.
 *
 * <p>To keep leaf pushing exact, each slot also records (in a writer-only byte array beside it) the length of the
 * prefix whose value it holds. Insert of P/l overwrites the slots in P's range whose recorded length is &le; l
 * (shorter covering prefixes, or P itself); remove of P/l rewrites the slots whose recorded length is exactly l
 * with P's longest covering prefix (one value for the whole range, found with at most l hash probes). A node
 * whose 256 slots end up identical is collapsed back into its parent slot.
 *
 * <h2>Cost</h2>
 * <ul>
 *   <li>lookup: O(1), at most 3 dependent loads.</li>
 *   <li>put/remove of a prefix longer than /16: O(1), copies at most two nodes (about 1.3 KB each).
 *       Of length l &le; 16: writes 2^(16-l) root slots and copies every node under the prefix (a default route
 *       over a full table copies all nodes once).</li>
 *   <li>memory: a fixed 320 KiB (root slots plus their recorded lengths), plus about 1.33 KB per node (24-byte
 *       object, 1,040-byte slot array, 272-byte length array, compressed oops). A node exists for every /16 that
 *       holds a prefix longer than /16 and every /24 that holds one longer than /24, so the cost per prefix
 *       depends on how they cluster: for 10,000 random prefixes of lengths 8..32, 0.97 nodes per prefix (measured),
 *       i.e. roughly 1.3 KB per prefix (13 MB); for a table of /24s within a few /16s, a few bytes per prefix.
 *       The control plane keeps one {@link HashMap} entry (about 100 bytes) per prefix on top.</li>
 * </ul>
 *
 * <p>The control plane (exact routes, bound, lock, snapshots) is {@link RouteTable}'s, shared with
 * {@link Ipv6RouteTable}; this class holds the trie.
 *
 * <p>Bound: at most {@link #maxEntries()} prefixes (default {@value RouteTable#DEFAULT_MAX_ENTRIES}); adding beyond that
 * throws {@link IllegalStateException}. Values must not be null.
 *
 * @param <V> the value type (the hub stores its port object); values should be immutable or safely published
 *            themselves, the table only orders its own writes
 */
public final class Ipv4RouteTable<V> extends RouteTable<V> {
    private static final int ROOT_SIZE = 1 << 16;
    private static final int NODE_SIZE = 256;
    /** The address bit (exclusive) up to which each level decides: root 16, middle 24, bottom 32. */
    private static final int[] LEVEL_END = {16, 24, 32};
    /** Recorded length of a slot that holds no route (or holds a node). */
    private static final byte NO_ROUTE = -1;
    private static final int INSERT = 0;
    private static final int REMOVE = 1;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    /** A child node: 256 slots plus the writer-only recorded lengths. Not mutated once published. */
    static final class Node {
        final Object[] slots;
        final byte[] lens;

        Node(Object[] slots, byte[] lens) {
            this.slots = slots;
            this.lens = lens;
        }

        static Node filled(Object value, byte len) {
            Object[] s = new Object[NODE_SIZE];
            byte[] l = new byte[NODE_SIZE];
            java.util.Arrays.fill(s, value);
            java.util.Arrays.fill(l, len);
            return new Node(s, l);
        }

        Node copy() {
            return new Node(slots.clone(), lens.clone());
        }

        /** Whether all slots hold the same value with the same recorded length (so the node can be a leaf). */
        boolean uniform() {
            Object first = slots[0];
            if (first instanceof Node) {
                return false;
            }
            byte len = lens[0];
            for (int i = 1; i < NODE_SIZE; i++) {
                if (slots[i] != first || lens[i] != len) {
                    return false;
                }
            }
            return true;
        }

        /** Stores child (or its single value, if uniform) in slot j of this unpublished node. */
        void store(int j, Node child) {
            if (child.uniform()) {
                slots[j] = child.slots[0];
                lens[j] = child.lens[0];
            } else {
                slots[j] = child;
                lens[j] = NO_ROUTE;
            }
        }
    }

    /** Root slots: value, null or Node. Written with release stores under the lock, read with acquire loads. */
    private volatile Object[] root = new Object[ROOT_SIZE];
    /** Writer-only, guarded by the lock: the recorded length of each root slot's value. */
    private byte[] rootLens = newRootLens();

    /** A table bounded to {@value RouteTable#DEFAULT_MAX_ENTRIES} prefixes. */
    public Ipv4RouteTable() {
        this(DEFAULT_MAX_ENTRIES);
    }

    /**
     * A table bounded to {@code maxEntries} prefixes.
     *
     * @throws IllegalArgumentException if {@code maxEntries} is not positive
     */
    public Ipv4RouteTable(int maxEntries) {
        super(false, maxEntries);
    }

    /**
     * The value of the longest prefix containing {@code address}, or null if none does. Lock-free, allocation-free,
     * safe to call from any number of threads while the table changes.
     *
     * @param address an IPv4 address, e.g. {@code 0x0A000001} for 10.0.0.1
     */
    @SuppressWarnings("unchecked")
    public V lookup(int address) {
        Object o = (Object) SLOT.getAcquire(root, address >>> 16);
        if (o instanceof Node n) {
            o = n.slots[(address >>> 8) & 0xFF];
            if (o instanceof Node m) {
                o = m.slots[address & 0xFF];
            }
        }
        return (V) o;
    }

    /**
     * Adds or replaces the route for {@code prefix/length}; host bits of {@code prefix} are ignored.
     *
     * @return the value previously stored for exactly this prefix, or null
     * @throws IllegalArgumentException if {@code length} is not in 0..32
     * @throws IllegalStateException    if the prefix is new and the table already holds {@link #maxEntries()}
     * @throws NullPointerException     if {@code value} is null
     */
    public V put(int prefix, int length, V value) {
        return put(Prefix.ipv4(prefix, length), value);
    }

    /**
     * Removes the route for exactly {@code prefix/length} (host bits ignored); addresses under it fall back to
     * the next longest covering prefix.
     *
     * @return whether the prefix was present
     * @throws IllegalArgumentException if {@code length} is not in 0..32
     */
    public boolean remove(int prefix, int length) {
        return remove(Prefix.ipv4(prefix, length));
    }

    /**
     * The value stored for exactly {@code prefix/length} (not a longest match), or null.
     *
     * @throws IllegalArgumentException if {@code length} is not in 0..32
     */
    public V get(int prefix, int length) {
        return get(Prefix.ipv4(prefix, length));
    }

    /** The number of child nodes (for tests and memory estimates). */
    int nodeCount() {
        synchronized (lock) {
            int count = 0;
            for (Object o : root) {
                if (o instanceof Node n) {
                    count++;
                    for (Object p : n.slots) {
                        if (p instanceof Node) {
                            count++;
                        }
                    }
                }
            }
            return count;
        }
    }

    @Override
    void insertLocked(Prefix prefix, V value) {
        int len = prefix.length();
        change(prefix.ipv4Address(), len, INSERT, value, (byte) len);
    }

    @Override
    void removeLocked(Prefix prefix) {
        int len = prefix.length();
        int coverLen = longestCoveringLength(prefix, len - 1, 0);
        change(prefix.ipv4Address(), len, REMOVE, routeOfLength(prefix, coverLen), (byte) coverLen);
    }

    @Override
    void resetLocked() {
        rootLens = newRootLens();
        root = new Object[ROOT_SIZE];
    }

    private static byte[] newRootLens() {
        byte[] l = new byte[ROOT_SIZE];
        java.util.Arrays.fill(l, NO_ROUTE);
        return l;
    }

    private static boolean applies(int mode, int slotLen, int len) {
        // insert: shorter covering prefixes (or the same prefix) give way; remove: only the removed prefix's slots
        return mode == INSERT ? slotLen <= len : slotLen == len;
    }

    /**
     * Applies an insert (value v of length l over slots recorded &le; l) or a remove (cover value v of length vlen
     * over slots recorded == l) of prefix a/l to the live root, slot by slot.
     */
    private void change(int a, int len, int mode, Object v, byte vlen) {
        Object[] r = root;
        byte[] rl = rootLens;
        int from = a >>> 16;
        int to = len <= 16 ? from + (1 << (16 - len)) - 1 : from;
        for (int i = from; i <= to; i++) {
            Object o = r[i];
            if (o instanceof Node c) {
                Node changed = change(c, 1, a, len, mode, v, vlen);
                if (changed != c) {
                    publish(r, rl, i, changed);
                }
            } else if (len > 16) {
                Node leaf = Node.filled(o, rl[i]);
                Node changed = change(leaf, 1, a, len, mode, v, vlen);
                if (changed != leaf) {
                    publish(r, rl, i, changed);
                }
            } else if (applies(mode, rl[i], len) && (o != v || rl[i] != vlen)) {
                rl[i] = vlen;
                SLOT.setRelease(r, i, v);
            }
        }
    }

    private static void publish(Object[] r, byte[] rl, int i, Node n) {
        if (n.uniform()) {
            rl[i] = n.lens[0];
            SLOT.setRelease(r, i, n.slots[0]);
        } else {
            rl[i] = NO_ROUTE;
            SLOT.setRelease(r, i, (Object) n);
        }
    }

    /**
     * Applies a change to the subtree of node n at level 1 or 2. Returns n itself when nothing changed, otherwise a
     * new node (n and its descendants are never modified: readers may be in them).
     */
    private static Node change(Node n, int level, int a, int len, int mode, Object v, byte vlen) {
        int end = LEVEL_END[level];
        int shift = 32 - end;
        int from;
        int to;
        if (len <= LEVEL_END[level - 1]) {
            from = 0;
            to = NODE_SIZE - 1;
        } else if (len <= end) {
            from = (a >>> shift) & 0xFF;
            to = from + (1 << (end - len)) - 1;
        } else {
            int j = (a >>> shift) & 0xFF;
            Object o = n.slots[j];
            Node child = o instanceof Node c ? c : Node.filled(o, n.lens[j]);
            Node changed = change(child, level + 1, a, len, mode, v, vlen);
            if (changed == child) {
                return n;
            }
            Node copy = n.copy();
            copy.store(j, changed);
            return copy;
        }
        Node copy = null;
        for (int j = from; j <= to; j++) {
            Object o = n.slots[j];
            if (o instanceof Node c) {
                Node changed = change(c, level + 1, a, len, mode, v, vlen);
                if (changed != c) {
                    if (copy == null) {
                        copy = n.copy();
                    }
                    copy.store(j, changed);
                }
            } else if (applies(mode, n.lens[j], len) && (o != v || n.lens[j] != vlen)) {
                if (copy == null) {
                    copy = n.copy();
                }
                copy.slots[j] = v;
                copy.lens[j] = vlen;
            }
        }
        return copy == null ? n : copy;
    }
}
