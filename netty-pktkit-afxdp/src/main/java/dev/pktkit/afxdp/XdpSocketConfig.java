package dev.pktkit.afxdp;

import dev.pktkit.linux.NetNamespace;

import java.util.Objects;

/**
 * What {@link XdpChannel#open} sets up: the interface and queue, the UMEM (shared or the channel's own), ring
 * sizes, the lending bound, the bind mode, and where the XDP program comes from. Immutable; made with
 * {@link #builder(String)}.
 *
 * @param ifname      the interface
 * @param queue       its receive queue
 * @param namespace   the network namespace the interface lives in (null: the JVM's)
 * @param umem        a UMEM to share with other channels (null: the channel maps its own and frees it on close)
 * @param ringSize    entries in each of the four rings (a power of two)
 * @param maxLent     frames the pipeline may hold at once; past it received frames are copied out
 * @param bindMode    copy, zero-copy or whichever the driver offers
 * @param needWakeup  bind with {@code XDP_USE_NEED_WAKEUP} (system calls only when the kernel asks for them)
 * @param attachMode  load and attach the redirect program in this mode, owned by the channel (null: do not)
 * @param xskMap      put the socket into this existing XSKMAP (null: do not); exclusive with {@code attachMode}
 * @param deviceCheckMillis how often the loop asks the socket whether its device went away (0: never; then a
 *                    receive-only channel whose device is deleted stays open and silent)
 */
public record XdpSocketConfig(String ifname, int queue, NetNamespace namespace, Umem umem, int ringSize,
                              int maxLent, XdpBindMode bindMode, boolean needWakeup, XdpMode attachMode,
                              XskMap xskMap, long deviceCheckMillis) {
    /** Default ring size. */
    public static final int DEFAULT_RING_SIZE = 2048;
    /** Default interval of the device check, in milliseconds. */
    public static final long DEFAULT_DEVICE_CHECK_MILLIS = 1000;

    /** Validates. */
    public XdpSocketConfig {
        Objects.requireNonNull(ifname, "ifname");
        Objects.requireNonNull(bindMode, "bindMode");
        if (queue < 0) {
            throw new IllegalArgumentException("queue " + queue);
        }
        if (Integer.bitCount(ringSize) != 1 || ringSize < 8) {
            throw new IllegalArgumentException("ring size must be a power of two, at least 8: " + ringSize);
        }
        if (maxLent < 0) {
            throw new IllegalArgumentException("maxLent " + maxLent);
        }
        if (deviceCheckMillis < 0) {
            throw new IllegalArgumentException("deviceCheckMillis " + deviceCheckMillis);
        }
        if (attachMode != null && xskMap != null) {
            throw new IllegalArgumentException("either load a program (attachMode) or join an XSKMAP, not both");
        }
    }

    /** Chunks a channel with this configuration reserves: fill-ring and lent frames, then TX frames. */
    public int chunksNeeded() {
        return ringSize + maxLent + ringSize;
    }

    /** A builder for queue 0 of {@code ifname}. */
    public static Builder builder(String ifname) {
        return new Builder(ifname);
    }

    /** Builds an {@link XdpSocketConfig}. */
    public static final class Builder {
        private final String ifname;
        private int queue;
        private NetNamespace namespace;
        private Umem umem;
        private int ringSize = DEFAULT_RING_SIZE;
        private int maxLent = -1;
        private XdpBindMode bindMode = XdpBindMode.AUTO;
        private boolean needWakeup = true;
        private XdpMode attachMode;
        private XskMap xskMap;
        private long deviceCheckMillis = DEFAULT_DEVICE_CHECK_MILLIS;

        Builder(String ifname) {
            this.ifname = ifname;
        }

        /** The receive queue (default 0). */
        public Builder queue(int queue) {
            this.queue = queue;
            return this;
        }

        /** The namespace of the interface (default: the JVM's). */
        public Builder namespace(NetNamespace namespace) {
            this.namespace = namespace;
            return this;
        }

        /** Share {@code umem} (default: the channel's own). */
        public Builder umem(Umem umem) {
            this.umem = umem;
            return this;
        }

        /** Entries per ring (default 2048). */
        public Builder ringSize(int ringSize) {
            this.ringSize = ringSize;
            return this;
        }

        /** Frames the pipeline may hold (default: half the ring size). */
        public Builder maxLent(int maxLent) {
            this.maxLent = maxLent;
            return this;
        }

        /** Copy or zero-copy (default {@link XdpBindMode#AUTO}). */
        public Builder bindMode(XdpBindMode bindMode) {
            this.bindMode = bindMode;
            return this;
        }

        /** Whether to bind with {@code XDP_USE_NEED_WAKEUP} (default true). */
        public Builder needWakeup(boolean needWakeup) {
            this.needWakeup = needWakeup;
            return this;
        }

        /** Load and attach the redirect program in {@code mode}; the channel owns it. */
        public Builder attach(XdpMode mode) {
            this.attachMode = mode;
            return this;
        }

        /** Join an existing XSKMAP (another program's, or one {@link XdpProgram} shares between channels). */
        public Builder xskMap(XskMap map) {
            this.xskMap = map;
            return this;
        }

        /**
         * How often the loop checks whether the device went away ({@code getsockopt(SO_ERROR)}, one system call;
         * default 1000 ms; 0 turns it off).
         */
        public Builder deviceCheckMillis(long millis) {
            this.deviceCheckMillis = millis;
            return this;
        }

        /** The configuration. */
        public XdpSocketConfig build() {
            return new XdpSocketConfig(ifname, queue, namespace, umem, ringSize,
                    maxLent < 0 ? ringSize / 2 : maxLent, bindMode, needWakeup, attachMode, xskMap,
                    deviceCheckMillis);
        }
    }
}
