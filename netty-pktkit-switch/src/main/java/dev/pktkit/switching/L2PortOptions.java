package dev.pktkit.switching;

import java.util.BitSet;

/**
 * How an {@link L2Hub} port treats VLANs, and its limits. Immutable.
 *
 * <ul>
 *   <li>{@link #access(int)}: the port belongs to one VLAN. It receives untagged (or priority-tagged, VID 0)
 *       frames into that VLAN and sends frames untagged; frames tagged with another VLAN are dropped. The default
 *       port is {@code access(1)}, like a factory-fresh managed switch.</li>
 *   <li>{@link #trunk(int, int...)}: the port carries several VLANs tagged (802.1Q, TPID 0x8100) and an optional
 *       native VLAN untagged.</li>
 *   <li>{@link #mirror()}: the port receives a copy of every frame entering the hub (as it entered, tags and
 *       all) and is not switched: frames it sends are dropped.</li>
 * </ul>
 */
public final class L2PortOptions {
    /** No per-port cap on learned addresses (the hub-wide cap still applies). */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    private static final L2PortOptions DEFAULT = access(1);

    enum Mode { ACCESS, TRUNK, MIRROR }

    final Mode mode;
    /** Access VLAN, or the trunk's native VLAN (0 = none). */
    final int untaggedVid;
    /** Trunk: VLANs carried tagged. */
    private final long[] allowed;
    final int maxMacEntries;

    private L2PortOptions(Mode mode, int untaggedVid, long[] allowed, int maxMacEntries) {
        this.mode = mode;
        this.untaggedVid = untaggedVid;
        this.allowed = allowed;
        this.maxMacEntries = maxMacEntries;
    }

    /** The default: access port in VLAN 1, no per-port address cap. */
    public static L2PortOptions defaults() {
        return DEFAULT;
    }

    /** An access port in VLAN {@code vid} (1..4094). */
    public static L2PortOptions access(int vid) {
        return new L2PortOptions(Mode.ACCESS, checkVid(vid), new long[64], UNLIMITED);
    }

    /**
     * A trunk port carrying {@code taggedVids} tagged and {@code nativeVid} untagged ({@code 0} for no native VLAN:
     * untagged frames are then dropped).
     */
    public static L2PortOptions trunk(int nativeVid, int... taggedVids) {
        if (nativeVid != 0) {
            checkVid(nativeVid);
        }
        BitSet bits = new BitSet(4096);
        for (int v : taggedVids) {
            bits.set(checkVid(v));
        }
        long[] words = java.util.Arrays.copyOf(bits.toLongArray(), 64);
        return new L2PortOptions(Mode.TRUNK, nativeVid, words, UNLIMITED);
    }

    /** A trunk port carrying every VLAN 1..4094 tagged, with {@code nativeVid} untagged (0 for none). */
    public static L2PortOptions trunkAll(int nativeVid) {
        if (nativeVid != 0) {
            checkVid(nativeVid);
        }
        long[] words = new long[64];
        java.util.Arrays.fill(words, -1L);
        words[0] &= ~1L; // VID 0 is not a VLAN
        words[63] &= ~(1L << 63); // nor is 4095
        return new L2PortOptions(Mode.TRUNK, nativeVid, words, UNLIMITED);
    }

    /** A mirror (monitor) port: receives a copy of every frame entering the hub; sends nothing into it. */
    public static L2PortOptions mirror() {
        return new L2PortOptions(Mode.MIRROR, 0, new long[64], UNLIMITED);
    }

    /** A copy of these options with a cap on the addresses this port may have in the table. */
    public L2PortOptions maxMacEntries(int max) {
        if (max <= 0) {
            throw new IllegalArgumentException("maxMacEntries must be positive: " + max);
        }
        return new L2PortOptions(mode, untaggedVid, allowed, max);
    }

    private static int checkVid(int vid) {
        if (vid < 1 || vid > 4094) {
            throw new IllegalArgumentException("VLAN id must be 1..4094: " + vid);
        }
        return vid;
    }

    boolean carriesTagged(int vid) {
        return (allowed[vid >>> 6] & (1L << vid)) != 0;
    }

    /** Whether frames of VLAN {@code vid} leave through this port. */
    boolean member(int vid) {
        return switch (mode) {
            case ACCESS -> vid == untaggedVid;
            case TRUNK -> vid == untaggedVid || carriesTagged(vid);
            case MIRROR -> false;
        };
    }

    /** Whether frames of VLAN {@code vid} leave this port tagged. */
    boolean egressTagged(int vid) {
        return mode == Mode.TRUNK && vid != untaggedVid;
    }

    /**
     * The VLAN a frame entering this port belongs to, or -1 to drop it.
     *
     * @param tagVid the VID of the frame's 802.1Q tag, or -1 if untagged
     */
    int ingressVid(int tagVid) {
        switch (mode) {
            case ACCESS:
                return tagVid <= 0 || tagVid == untaggedVid ? untaggedVid : -1;
            case TRUNK:
                if (tagVid <= 0) {
                    return untaggedVid != 0 ? untaggedVid : -1;
                }
                return carriesTagged(tagVid) ? tagVid : -1;
            default:
                return -1;
        }
    }

    public boolean isMirror() {
        return mode == Mode.MIRROR;
    }

    @Override
    public String toString() {
        return switch (mode) {
            case ACCESS -> "access(" + untaggedVid + ")";
            case TRUNK -> "trunk(native=" + untaggedVid + ", tagged=" + BitSet.valueOf(allowed) + ")";
            case MIRROR -> "mirror";
        } + (maxMacEntries == UNLIMITED ? "" : ", maxMacEntries=" + maxMacEntries);
    }
}
