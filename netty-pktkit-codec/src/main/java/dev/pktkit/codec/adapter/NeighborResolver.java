package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.NoRouteToHostException;
import java.util.concurrent.TimeUnit;

/**
 * Neighbour resolution for one address family over one {@link NeighborCache}: the RFC 4861 §7.3 state machine
 * (INCOMPLETE → REACHABLE → STALE → PROBE), which ARP (RFC 826) follows too, as Linux does. It looks up next
 * hops, queues packets behind unresolved ones (bounded by the cache), retries solicitations, ages entries, and
 * on failure fails the queued promises and hands an ICMP error back up. What is family-specific — how to solicit,
 * what error to send back, which EtherType — comes from its {@link Family}. One per family, on the adapter's
 * event loop.
 */
final class NeighborResolver {
    /** {@link #resolve}: the packet waits for resolution. */
    static final long QUEUED = -2;
    /** {@link #resolve} and the next-hop choices: the packet was dropped. */
    static final long DROPPED = -3;

    /** What resolution needs from its address family (ARP for IPv4, NDP for IPv6). */
    interface Family {
        /** The EtherType of this family's packets. */
        int etherType();

        /** Sends an ARP request or neighbour solicitation for {@code (hi, lo)}, broadcast/multicast or unicast. */
        void solicit(long hi, long lo, long dstMac);

        /**
         * The ICMP destination-unreachable packet to pass up for {@code pkt}, whose next hop did not answer, or
         * null when none may be sent (RFC 1122 §3.2.2 / RFC 4443 §2.4 rules, no source address yet).
         */
        ByteBuf unreachable(ByteBuf pkt);
    }

    private final AdapterLink link;
    private final AdapterConfig config;
    private final NeighborCache cache;
    private final Family family;
    private ScheduledFuture<?> retryTask;
    private boolean running;

    NeighborResolver(AdapterLink link, AdapterConfig config, NeighborCache cache, Family family) {
        this.link = link;
        this.config = config;
        this.cache = cache;
        this.family = family;
    }

    NeighborCache cache() {
        return cache;
    }

    void start() {
        running = true;
    }

    /** Cancels the retries and fails every queued packet. */
    void stop() {
        running = false;
        if (retryTask != null) {
            retryTask.cancel(false);
            retryTask = null;
        }
        for (int s = 0; s < cache.capacity(); s++) {
            if (cache.state(s) == NeighborCache.INCOMPLETE) {
                for (NeighborCache.Pending p; (p = cache.pollPending(s)) != null; ) {
                    drop(p, AdapterDropReason.FLUSHED, "adapter stopped");
                }
            }
        }
    }

    /**
     * The MAC of next hop {@code (hi, lo)}; or {@link #QUEUED} (the packet waits, resolution started) or
     * {@link #DROPPED} (counted, released, promise failed). In the last two cases the packet is no longer the
     * caller's.
     */
    long resolve(long hi, long lo, ByteBuf pkt, ChannelPromise promise) {
        NeighborCache cache = this.cache;
        int s = cache.find(hi, lo);
        if (s >= 0) {
            byte st = cache.state(s);
            if (st == NeighborCache.REACHABLE) {
                if (link.now() - cache.expires(s) < 0) {
                    return cache.mac(s);
                }
                cache.expire(s);
                st = NeighborCache.STALE;
            }
            if (st == NeighborCache.STALE) {
                // RFC 4861 §7.3.3: keep using the old MAC and confirm it with unicast probes.
                long m = cache.mac(s);
                long t = link.freshNow();
                cache.startProbe(s, t + config.retransmitInterval.toNanos());
                scheduleRetry();
                family.solicit(hi, lo, m);
                return m;
            }
            if (st == NeighborCache.PROBE) {
                return cache.mac(s);
            }
            if (!cache.enqueue(s, pkt, promise)) {
                link.dropOut(pkt, promise, AdapterDropReason.PENDING_FULL);
                return DROPPED;
            }
            return QUEUED;
        }
        long t = link.freshNow();
        s = cache.insertIncomplete(hi, lo, t, t + config.retransmitInterval.toNanos());
        if (s < 0) {
            link.dropOut(pkt, promise, AdapterDropReason.CACHE_FULL);
            return DROPPED;
        }
        if (!cache.enqueue(s, pkt, promise)) {
            link.dropOut(pkt, promise, AdapterDropReason.PENDING_FULL);
            cache.remove(s);
            return DROPPED;
        }
        scheduleRetry();
        // Last: on a loop shared with the neighbour the answer can arrive (and drain the queue) inside this call,
        // and slot numbers may change under it.
        family.solicit(hi, lo, MacAddress.BROADCAST);
        return QUEUED;
    }

    /** A neighbour was learned or confirmed in {@code slot} (or -1): sends what waited for it. */
    void learned(int slot) {
        if (slot < 0 || cache.state(slot) == NeighborCache.INCOMPLETE) {
            return;
        }
        long m = cache.mac(slot);
        boolean any = false;
        for (NeighborCache.Pending p; (p = cache.pollPending(slot)) != null; ) {
            link.sendFrame(p.packet(), m, family.etherType(), p.promise());
            any = true;
        }
        if (any) {
            link.flush();
        }
    }

    /** Moves timed-out entries to STALE and removes entries stale for longer than the stale time. */
    void age(long t) {
        long staleNanos = config.staleTime.toNanos();
        for (int s = 0; s < cache.capacity(); s++) {
            byte st = cache.state(s);
            if (st == NeighborCache.REACHABLE && t - cache.expires(s) >= 0) {
                cache.expire(s);
            } else if (st == NeighborCache.STALE && t - cache.expires(s) - staleNanos >= 0) {
                cache.remove(s);
                s--; // backward shift may have moved another entry into this slot
            }
        }
    }

    private void scheduleRetry() {
        if (retryTask == null) {
            retryTask = link.executor().schedule(this::runRetries, config.retransmitInterval.toNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    /** Retries or gives up on every entry being resolved whose retry time has come. */
    private void runRetries() {
        retryTask = null;
        if (!running) {
            return;
        }
        long t = link.freshNow();
        long interval = config.retransmitInterval.toNanos();
        for (int s = 0; s < cache.capacity(); s++) {
            byte st = cache.state(s);
            if ((st != NeighborCache.INCOMPLETE && st != NeighborCache.PROBE) || t - cache.nextProbe(s) < 0) {
                continue;
            }
            int max = st == NeighborCache.INCOMPLETE ? config.maxMulticastSolicit : config.maxUnicastSolicit;
            long hi = cache.keyHi(s);
            long lo = cache.keyLo(s);
            if (cache.probes(s) < max) {
                cache.probed(s, t + interval);
                family.solicit(hi, lo, st == NeighborCache.INCOMPLETE ? MacAddress.BROADCAST : cache.mac(s));
                continue;
            }
            if (st == NeighborCache.INCOMPLETE) {
                for (NeighborCache.Pending p; (p = cache.pollPending(s)) != null; ) {
                    unreachable(p);
                }
            }
            cache.remove(s);
            s--; // backward shift may have moved another entry into this slot
        }
        if (cache.resolving() > 0) {
            scheduleRetry();
        }
    }

    /** Resolution failed: ICMP destination unreachable up to the sender, the promise failed, the packet freed. */
    private void unreachable(NeighborCache.Pending p) {
        ByteBuf error = null;
        try {
            error = family.unreachable(p.packet());
        } finally {
            drop(p, AdapterDropReason.UNRESOLVED, "next hop did not answer");
        }
        if (error != null) {
            link.deliverUp(error);
        }
    }

    private void drop(NeighborCache.Pending p, AdapterDropReason reason, String why) {
        link.counters().dropped(reason);
        p.packet().release();
        p.promise().tryFailure(new NoRouteToHostException(why));
    }
}
