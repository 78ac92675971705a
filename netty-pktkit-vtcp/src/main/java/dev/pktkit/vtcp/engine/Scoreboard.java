package dev.pktkit.vtcp.engine;

/**
 * The sender's record of every segment in flight: its sequence range, when it was (last) sent, and whether it
 * was SACKed, retransmitted or deemed lost. This is RFC 6675's scoreboard (§3, SACKed octets, {@code pipe},
 * {@code NextSeg()}) kept per transmitted segment, which is also what RFC 8985 RACK needs (§6.1: the
 * transmission time of each segment). Struct-of-arrays ring, grown by doubling, no allocation in steady state.
 */
final class Scoreboard {
    static final byte SACKED = 1;
    static final byte RETRANS = 2;
    static final byte LOST = 4;
    static final byte FIN = 8;
    /**
     * Retransmitted while not deemed lost (RFC 6675 NextSeg rules 3 and 4): such a record counts twice in
     * {@link #pipe} (RFC 6675 §4 SetPipe: once because IsLost is false, once because it lies at or below HighRxt)
     * until it is SACKed, acknowledged or marked lost.
     */
    static final byte PROBED = 16;
    private static final int MARKS = SACKED | LOST | PROBED;

    private int[] start = new int[64];
    private int[] end = new int[64];
    private long[] xmit = new long[64];
    private byte[] flags = new byte[64];
    private int head;
    int count;
    /** Records with SACKED, LOST or PROBED set: when 0, pipe is simply SND.NXT − SND.UNA. */
    int marked;
    /**
     * RFC 8985 §6.2 RACK.fack: the highest end of a record delivered (SACKed or cumulatively acknowledged), and
     * {@link #reorderingSeen}: a never-retransmitted record was delivered below the fack of an earlier ACK (the
     * network reordered; RACK.reordering_seen). {@link #beginAck} snapshots the fack for one ACK.
     */
    int fack;
    boolean fackValid;
    private int ackFack;
    private boolean ackFackValid;
    boolean reorderingSeen;
    /** Set by {@link #markSacked}: the latest transmission time among newly delivered records (RACK). */
    long deliveredXmit;
    int deliveredEnd;
    boolean deliveredRetrans;

    /** Sets record {@code j}'s (ring index) flags, keeping {@link #marked} in step. */
    private void set(int j, int f) {
        int old = flags[j];
        marked += ((f & MARKS) != 0 ? 1 : 0) - ((old & MARKS) != 0 ? 1 : 0);
        flags[j] = (byte) f;
    }

    private long ackTime;
    private long ackMinRtt;

    /**
     * Snapshots RACK.fack before an ACK's SACK blocks and cumulative ACK are applied, and notes the ACK's arrival
     * time and min_RTT: RFC 8985 §6.2 step 2 ignores a retransmitted record for RACK when its ACK came sooner
     * than min_RTT after the retransmission (it acknowledges the original).
     */
    void beginAck(long now, long minRtt) {
        ackFack = fack;
        ackFackValid = fackValid;
        ackTime = now;
        ackMinRtt = minRtt;
    }

    private int at(int i) {
        return (head + i) & (start.length - 1);
    }

    int start(int i) {
        return start[at(i)];
    }

    int end(int i) {
        return end[at(i)];
    }

    long xmit(int i) {
        return xmit[at(i)];
    }

    byte flags(int i) {
        return flags[at(i)];
    }

    void add(int s, int e, long now, boolean fin) {
        if (count == start.length) {
            grow();
        }
        int j = at(count);
        start[j] = s;
        end[j] = e;
        xmit[j] = now;
        flags[j] = fin ? FIN : 0;
        count++;
    }

    private void grow() {
        int n = start.length * 2;
        int[] s = new int[n];
        int[] e = new int[n];
        long[] x = new long[n];
        byte[] f = new byte[n];
        for (int i = 0; i < count; i++) {
            int j = at(i);
            s[i] = start[j];
            e[i] = end[j];
            x[i] = xmit[j];
            f[i] = flags[j];
        }
        start = s;
        end = e;
        xmit = x;
        flags = f;
        head = 0;
    }

    void retransmitted(int i, long now) {
        int j = at(i);
        set(j, (flags[j] & ~(LOST | PROBED)) | RETRANS);
        xmit[j] = now;
    }

    /** Record {@code i} was retransmitted while not deemed lost (RFC 6675 NextSeg rules 3 and 4). */
    void retransmittedUnlost(int i, long now) {
        int j = at(i);
        set(j, flags[j] | RETRANS | PROBED);
        xmit[j] = now;
    }

    void markLost(int i) {
        int j = at(i);
        if ((flags[j] & (LOST | SACKED)) == 0) {
            set(j, (flags[j] & ~PROBED) | LOST);
        }
    }

    /**
     * Removes records acknowledged by a cumulative ACK.
     *
     * @return the transmission time of the newest fully acknowledged record that was never retransmitted (an RTT
     * sample valid under Karn's rule, RFC 6298 §3), or -1; {@link #deliveredXmit} is updated for RACK
     */
    long ackTo(int ack) {
        long sample = -1;
        while (count > 0) {
            int j = head;
            if (Seq.le(end[j], ack)) {
                if ((flags[j] & MARKS) != 0) {
                    marked--;
                }
                if ((flags[j] & SACKED) == 0) {
                    delivered(j);
                    if ((flags[j] & RETRANS) == 0) {
                        sample = xmit[j];
                    }
                }
                head = (head + 1) & (start.length - 1);
                count--;
            } else {
                if (Seq.gt(ack, start[j])) {
                    start[j] = ack;
                }
                break;
            }
        }
        if (count == 0) {
            head = 0;
            marked = 0;
        }
        return sample;
    }

    private void delivered(int j) {
        if ((flags[j] & RETRANS) == 0 && ackFackValid && Seq.lt(end[j], ackFack)) {
            reorderingSeen = true; // RFC 8985 §6.2 step 3: delivered below an earlier ACK's fack, never resent
        }
        if (!fackValid || Seq.gt(end[j], fack)) {
            fack = end[j];
            fackValid = true;
        }
        if ((flags[j] & RETRANS) != 0 && ackTime - xmit[j] < ackMinRtt) {
            return; // RFC 8985 §6.2 step 2: ambiguous, the original was acknowledged
        }
        if (xmit[j] > deliveredXmit || (xmit[j] == deliveredXmit && Seq.gt(end[j], deliveredEnd))) {
            deliveredXmit = xmit[j];
            deliveredEnd = end[j];
            deliveredRetrans = (flags[j] & RETRANS) != 0;
        }
    }

    /**
     * Marks records entirely inside the SACK block {@code [l, r)} (RFC 2018 §3).
     *
     * @return the bytes newly SACKed
     */
    int markSacked(int l, int r) {
        int bytes = 0;
        for (int i = 0; i < count; i++) {
            int j = at(i);
            if (Seq.ge(start[j], r)) {
                break;
            }
            if ((flags[j] & SACKED) == 0 && Seq.ge(start[j], l) && Seq.le(end[j], r)) {
                set(j, (flags[j] & ~(LOST | PROBED)) | SACKED);
                delivered(j);
                bytes += end[j] - start[j];
            }
        }
        return bytes;
    }

    /** Forgets SACK marks and marks every record lost (RTO, RFC 2018 §8 and RFC 6298 §5.5). */
    void markAllLost() {
        marked = count;
        for (int i = 0; i < count; i++) {
            int j = at(i);
            flags[j] = (byte) ((flags[j] & ~(SACKED | RETRANS | PROBED)) | LOST);
        }
    }

    /**
     * RFC 6675 §4 pipe: octets in flight: not SACKed, and either not lost or retransmitted.
     */
    int pipe() {
        int p = 0;
        for (int i = 0; i < count; i++) {
            int j = at(i);
            byte f = flags[j];
            if ((f & SACKED) == 0 && ((f & LOST) == 0 || (f & RETRANS) != 0)) {
                p += end[j] - start[j];
                if ((f & PROBED) != 0) {
                    p += end[j] - start[j];
                }
            }
        }
        return p;
    }

    /** The first record marked lost and not retransmitted since ({@code NextSeg()} rule 1), or -1. */
    int firstLost() {
        if (marked == 0) {
            return -1;
        }
        for (int i = 0; i < count; i++) {
            if ((flags[at(i)] & LOST) != 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * RFC 6675 §4 NextSeg() rule 3: the first record that is neither SACKed, lost nor retransmitted (above HighRxt,
     * kept here per record) and lies below the highest SACKed one, or -1.
     */
    int firstUnsackedBelowSacked() {
        if (marked == 0) {
            return -1;
        }
        int high = -1;
        for (int i = count - 1; i >= 0; i--) {
            if ((flags[at(i)] & SACKED) != 0) {
                high = i;
                break;
            }
        }
        for (int i = 0; i < high; i++) {
            if ((flags[at(i)] & (SACKED | LOST | RETRANS)) == 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * RFC 6675 §4 NextSeg() rule 4: the record holding the highest outstanding unSACKed octet, or -1 if there is
     * none or it was retransmitted already (it lies at or below HighRxt: sending it again rescues nothing).
     */
    int lastUnsacked() {
        for (int i = count - 1; i >= 0; i--) {
            byte f = flags[at(i)];
            if ((f & SACKED) == 0) {
                return (f & RETRANS) == 0 ? i : -1;
            }
        }
        return -1;
    }

    /** Records SACKed (RACK.segs_sacked of RFC 8985 §6.2 step 4). */
    int sackedCount() {
        if (marked == 0) {
            return 0;
        }
        int n = 0;
        for (int i = 0; i < count; i++) {
            if ((flags[at(i)] & SACKED) != 0) {
                n++;
            }
        }
        return n;
    }

    /**
     * RFC 6675 §4 IsLost(): a record is lost when at least {@code dupThresh} records above it were SACKed.
     * Marks such records and returns how many were newly marked.
     */
    int markLostByDupThresh(int dupThresh) {
        int sackedAbove = 0;
        int n = 0;
        for (int i = count - 1; i >= 0; i--) {
            int j = at(i);
            byte f = flags[j];
            if ((f & SACKED) != 0) {
                sackedAbove++;
            } else if (sackedAbove >= dupThresh && (f & (LOST | RETRANS)) == 0) {
                set(j, f | LOST);
                n++;
            }
        }
        return n;
    }

    /**
     * RFC 8985 §6.2 step 5: marks records sent before the most recently delivered one, and older than RACK.rtt +
     * reoWnd, lost.
     *
     * @return the earliest time a candidate record will be considered lost (the reordering timer), or 0
     */
    long rackDetect(long now, long rackXmit, int rackEnd, long rackRtt, long reoWnd, int[] newlyLost) {
        long timer = 0;
        newlyLost[0] = 0;
        for (int i = 0; i < count; i++) {
            int j = at(i);
            byte f = flags[j];
            if ((f & (SACKED | LOST)) != 0) {
                continue;
            }
            boolean sentBefore = xmit[j] < rackXmit || (xmit[j] == rackXmit && Seq.lt(end[j], rackEnd));
            if (!sentBefore) {
                continue;
            }
            long remaining = xmit[j] + rackRtt + reoWnd - now;
            if (remaining <= 0) {
                set(j, (f & ~(RETRANS | PROBED)) | LOST);
                newlyLost[0]++;
            } else if (timer == 0 || now + remaining < timer) {
                timer = now + remaining;
            }
        }
        return timer;
    }

    /**
     * Splits records longer than {@code maxLen} (after a PMTU decrease, RFC 1191 §6.5) so that each can be
     * retransmitted in one segment.
     */
    void split(int maxLen) {
        boolean needed = false;
        for (int i = 0; i < count; i++) {
            int j = at(i);
            int dataLen = end[j] - start[j] - ((flags[j] & FIN) != 0 ? 1 : 0);
            if (dataLen > maxLen) {
                needed = true;
                break;
            }
        }
        if (!needed) {
            return;
        }
        int n = count;
        int[] s = new int[n];
        int[] e = new int[n];
        long[] x = new long[n];
        byte[] f = new byte[n];
        for (int i = 0; i < n; i++) {
            int j = at(i);
            s[i] = start[j];
            e[i] = end[j];
            x[i] = xmit[j];
            f[i] = flags[j];
        }
        head = 0;
        count = 0;
        marked = 0;
        for (int i = 0; i < n; i++) {
            boolean fin = (f[i] & FIN) != 0;
            int dataEnd = fin ? e[i] - 1 : e[i];
            if (dataEnd == s[i]) {
                add(s[i], e[i], x[i], fin);
                flags[at(count - 1)] = f[i];
                if ((f[i] & MARKS) != 0) {
                    marked++;
                }
                continue;
            }
            for (int a = s[i]; Seq.lt(a, dataEnd); ) {
                int b = Seq.min(a + maxLen, dataEnd);
                boolean last = b == dataEnd;
                add(a, last && fin ? b + 1 : b, x[i], false);
                flags[at(count - 1)] = (byte) ((f[i] & ~FIN) | (last && fin ? FIN : 0));
                if ((f[i] & MARKS) != 0) {
                    marked++;
                }
                a = b;
            }
        }
    }

    /**
     * Splits record {@code i} at sequence number {@code seq} (strictly inside its data) into two records with the
     * same marks and send time; the FIN, if any, stays on the second. Used when a record must be retransmitted
     * in a segment smaller than the one it was sent in (options grew, RFC 9293 §3.7.1), as Linux's
     * {@code tcp_fragment} does.
     */
    void splitAt(int i, int seq) {
        if (count == start.length) {
            grow();
        }
        for (int k = count; k > i + 1; k--) {
            int d = at(k);
            int src = at(k - 1);
            start[d] = start[src];
            end[d] = end[src];
            xmit[d] = xmit[src];
            flags[d] = flags[src];
        }
        int j = at(i);
        int n = at(i + 1);
        start[n] = seq;
        end[n] = end[j];
        xmit[n] = xmit[j];
        flags[n] = flags[j];
        end[j] = seq;
        flags[j] &= ~FIN;
        if ((flags[j] & MARKS) != 0) {
            marked++;
        }
        count++;
    }

    void clear() {
        head = 0;
        count = 0;
        marked = 0;
    }

}
