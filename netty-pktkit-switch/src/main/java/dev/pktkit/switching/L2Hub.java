package dev.pktkit.switching;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import io.netty.util.internal.ObjectUtil;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A MAC-learning Ethernet switch as a Netty {@link io.netty.channel.group.ChannelGroup}.
 *
 * <p>Messages on its ports are Ethernet frames in {@code ByteBuf}s. Each frame's source address is learned
 * (per VLAN) on its ingress port; a unicast frame to a learned address goes to that port only; broadcast,
 * multicast and unknown unicast are flooded to every member of the VLAN but the ingress port. A frame is never
 * sent back where it came from. Station moves follow the latest frame; addresses age out after
 * {@link Builder#agingTime} without traffic. The table is capped ({@link Builder#maxMacEntries}, 8192 by default,
 * and optionally per port): when full, new stations are not learned and their traffic floods.
 *
 * <p>VLANs: ports are access, trunk or mirror ports ({@link L2PortOptions}); learning is per (VLAN, MAC).
 *
 * <p>Threads: forwarding runs on the ingress port's event loop, lock-free, safe with ingress on many loops at
 * once. Egress writes go through the destination's pipeline with a void promise and are flushed once per
 * ingress read batch. A destination that is not writable drops (counted as {@link DropReason#CONGESTED}).
 *
 * <p>Ownership: the hub consumes every frame it reads; floods send {@code retainedDuplicate()}s, and VLAN tag
 * changes allocate a new buffer from the egress channel's allocator (same-form forwarding copies nothing).
 *
 * <pre>{@code
 * L2Hub hub = L2Hub.builder().name("lan").build();
 * hub.add(qemuGuestChannel);                         // access port, VLAN 1
 * hub.attach(trunkChannel, L2PortOptions.trunk(0, 10, 20));
 * ...
 * hub.close();                                       // closes every port and stops aging
 * }</pre>
 */
public final class L2Hub extends AbstractHub<L2Port> {
    /** Default table cap. */
    public static final int DEFAULT_MAX_MAC_ENTRIES = 8192;
    /** Default aging time: five minutes. */
    public static final Duration DEFAULT_AGING_TIME = Duration.ofMinutes(5);
    /** Default maximum number of ports. */
    public static final int DEFAULT_MAX_PORTS = 4096;

    final MacTable table;
    final long agingNanos;
    private final Ticker ticker;
    private final ScheduledFuture<?> agingTask;
    /** Coarse clock for learning and aging, refreshed by {@link #tick()}. */
    volatile long now;
    volatile L2Port mirror;

    private L2Hub(Builder b) {
        super(b);
        this.table = new MacTable(b.maxMacEntries);
        this.agingNanos = b.agingTime.toNanos();
        this.ticker = b.ticker;
        this.now = ticker.nanoTime();
        if (b.tickInterval.isZero()) {
            agingTask = null;
        } else {
            long every = b.tickInterval.toNanos();
            agingTask = b.executor.scheduleAtFixedRate(this::tick, every, every, TimeUnit.NANOSECONDS);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Attaches {@code channel} with {@code options}. */
    public L2Port attach(Channel channel, L2PortOptions options) {
        ObjectUtil.checkNotNull(options, "options");
        if (options.isMirror()) {
            synchronized (this) {
                if (mirror != null && mirror.attached) {
                    throw new IllegalStateException(name() + " already has a mirror port: " + mirror);
                }
                L2Port port = attachPort(new L2Port(this, channel, options));
                mirror = port;
                return port;
            }
        }
        return attachPort(new L2Port(this, channel, options));
    }

    /**
     * {@link #attach(io.netty.channel.EventLoop, io.netty.channel.ChannelHandler)} with port options; a mirror
     * port this way is refused (a device that only watches is attached with {@link #attach(Channel,
     * L2PortOptions)}).
     */
    public L2Port attach(io.netty.channel.EventLoop loop, io.netty.channel.ChannelHandler device,
                         L2PortOptions options) {
        ObjectUtil.checkNotNull(options, "options");
        if (options.isMirror()) {
            throw new IllegalArgumentException("attach a mirror port's channel with attach(Channel, L2PortOptions)");
        }
        return attachDevice(loop, device, ch -> attach(ch, options));
    }

    @Override
    protected L2Port newPort(Channel channel) {
        return new L2Port(this, channel, L2PortOptions.defaults());
    }

    @Override
    protected void portRemoved(L2Port port) {
        synchronized (this) {
            if (mirror == port) {
                mirror = null;
            }
        }
        // The table scan is O(table): run it on the hub's executor, not on the loop of the channel that closed
        // (which serves other ports' traffic). Until it runs, frames to the port's stations flood, since the
        // port is no longer attached.
        try {
            hubExecutor.execute(() -> table.removePort(port));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            table.removePort(port);
        }
    }

    @Override
    protected String handlerName() {
        return "pktkit-l2hub";
    }

    /**
     * Refreshes the coarse clock and removes aged entries; returns how many were removed. Runs every
     * {@link Builder#tickInterval} on the hub's executor; tests with a mock ticker call it directly.
     */
    public int tick() {
        long t = ticker.nanoTime();
        now = t;
        return table.sweep(t, agingNanos);
    }

    /** Addresses currently in the table. */
    public int macEntries() {
        return table.size();
    }

    public int maxMacEntries() {
        return table.maxEntries();
    }

    public Duration agingTime() {
        return Duration.ofNanos(agingNanos);
    }

    /** The port that {@code mac} in VLAN {@code vid} was last seen on, if not aged out; else null. */
    public L2Port lookup(long mac, int vid) {
        return table.lookup(MacTable.key(mac, vid), now, agingNanos);
    }

    /** Forgets every learned address. */
    public void flushMacTable() {
        table.clear();
    }

    /** A snapshot of the table for display: one {@code vid mac port} line each. */
    public List<String> macTable() {
        List<String> rows = new ArrayList<>();
        for (MacTable.Entry e : table.entries()) {
            L2Port p = e.port;
            if (p == null) {
                continue; // being removed
            }
            rows.add((e.key >>> 48) + " " + dev.pktkit.codec.wire.MacAddress.format(e.key & 0xFFFF_FFFF_FFFFL)
                    + " " + p.port());
        }
        return rows;
    }

    /** Closes every member channel (as {@code ChannelGroup.close()} does) and stops the aging task. */
    @Override
    public ChannelGroupFuture close() {
        if (agingTask != null) {
            agingTask.cancel(false);
        }
        return super.close();
    }

    /** Configuration of an {@link L2Hub}. */
    public static final class Builder extends AbstractHub.Builder<Builder> {
        private int maxMacEntries = DEFAULT_MAX_MAC_ENTRIES;
        private Duration agingTime = DEFAULT_AGING_TIME;
        private Duration tickInterval = Duration.ofSeconds(1);
        private Ticker ticker = Ticker.systemTicker();

        private Builder() {
            super("l2hub", DEFAULT_MAX_PORTS);
        }

        /** Cap on learned (VLAN, MAC) entries; default 8192. */
        public Builder maxMacEntries(int maxMacEntries) {
            this.maxMacEntries = ObjectUtil.checkPositive(maxMacEntries, "maxMacEntries");
            return this;
        }

        /** How long an address stays without traffic; default 5 minutes. */
        public Builder agingTime(Duration agingTime) {
            if (agingTime.isNegative() || agingTime.isZero()) {
                throw new IllegalArgumentException("agingTime must be positive: " + agingTime);
            }
            this.agingTime = agingTime;
            return this;
        }

        /**
         * How often the coarse clock advances and aged entries are swept; default 1 s. {@link Duration#ZERO}
         * schedules nothing: the caller drives {@link L2Hub#tick()} (tests do, with a mock ticker).
         */
        public Builder tickInterval(Duration tickInterval) {
            if (tickInterval.isNegative()) {
                throw new IllegalArgumentException("tickInterval must not be negative: " + tickInterval);
            }
            this.tickInterval = tickInterval;
            return this;
        }

        /** Time source; default the system ticker. */
        public Builder ticker(Ticker ticker) {
            this.ticker = ObjectUtil.checkNotNull(ticker, "ticker");
            return this;
        }

        public L2Hub build() {
            return new L2Hub(this);
        }
    }
}
