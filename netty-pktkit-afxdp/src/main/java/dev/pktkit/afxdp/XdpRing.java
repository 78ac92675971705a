package dev.pktkit.afxdp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One AF_XDP ring: a power-of-two array of entries with a producer and a consumer index, shared with the kernel
 * through an {@code mmap}ed region. The fill and TX rings are produced here and consumed by the kernel; the RX
 * and completion rings the other way round. Entries are 8-byte UMEM addresses (fill, completion) or 16-byte
 * descriptors (RX, TX: address, length, options).
 *
 * <h2>Memory ordering</h2>
 * As in the kernel's {@code xsk_queue.h}: the producer writes its entries, then publishes the new producer index
 * with a <em>release</em> store; the consumer reads the producer index with an <em>acquire</em> load before it
 * reads the entries, and publishes its own progress with a release store after it has finished with them, which
 * the producer reads with an acquire load before reusing the slots. Each side caches the other side's index and
 * reloads it only when the cache says the ring is full (producer) or empty (consumer), so a batch costs one
 * acquire load and one release store. Indices are free-running 32-bit counters (wrap-around is harmless: only
 * differences are used).
 *
 * <h2>Bad peers</h2>
 * A consumer ring whose producer index runs more than the ring's size ahead (which a well-behaved kernel never
 * does) is clamped to the size and counted in {@link #overruns()}; a producer ring whose consumer index claims to
 * be ahead of the producer is treated as full and counted the same way.
 *
 * <p>Not thread-safe: one thread (the channel's event loop) plays this side of the ring. Nothing allocates.
 */
public final class XdpRing {
    static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment memory;
    private final long producerOffset;
    private final long consumerOffset;
    private final long flagsOffset;
    private final long descOffset;
    private final int size;
    private final int mask;
    private final int entrySize;
    /** This side's private index (producer: next slot to fill; consumer: next slot to read). */
    private int cachedOwn;
    /** The other side's index as last loaded. */
    private int cachedPeer;
    private long overruns;

    /**
     * A ring over {@code memory}.
     *
     * @param entrySize 8 (fill, completion) or 16 (RX, TX)
     */
    public XdpRing(MemorySegment memory, long producerOffset, long consumerOffset, long flagsOffset,
                   long descOffset, int size, int entrySize, boolean producerSide) {
        if (Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("ring size must be a power of two: " + size);
        }
        if (entrySize != 8 && entrySize != 16) {
            throw new IllegalArgumentException("entry size 8 or 16: " + entrySize);
        }
        if (descOffset + (long) size * entrySize > memory.byteSize()) {
            throw new IllegalArgumentException("ring does not fit its mapping");
        }
        this.memory = memory;
        this.producerOffset = producerOffset;
        this.consumerOffset = consumerOffset;
        this.flagsOffset = flagsOffset;
        this.descOffset = descOffset;
        this.size = size;
        this.mask = size - 1;
        this.entrySize = entrySize;
        int prod = (int) INT.getAcquire(memory, producerOffset);
        int cons = (int) INT.getAcquire(memory, consumerOffset);
        if (producerSide) {
            cachedOwn = prod;
            cachedPeer = cons;
        } else {
            cachedOwn = cons;
            cachedPeer = prod;
        }
    }

    /** Entries in the ring. */
    public int size() {
        return size;
    }

    /** Times the peer's index was found out of range (clamped). */
    public long overruns() {
        return overruns;
    }

    /** Whether the kernel set {@code XDP_RING_NEED_WAKEUP} in this ring's flags. */
    public boolean needsWakeup() {
        return ((int) INT.getAcquire(memory, flagsOffset) & dev.pktkit.linux.Xsk.XDP_RING_NEED_WAKEUP) != 0;
    }

    // ---- producer side (fill, TX) ----

    /**
     * How many slots are free, up to {@code wanted}; reloads the consumer index (acquire) only when the cached
     * one does not show {@code wanted} free slots.
     */
    public int free(int wanted) {
        int free = size - (cachedOwn - cachedPeer);
        if (free >= wanted) {
            return wanted;
        }
        int cons = (int) INT.getAcquire(memory, consumerOffset);
        int used = cachedOwn - cons;
        if (used < 0 || used > size) {
            overruns++;
            return 0; // the consumer claims slots we never produced: stop producing
        }
        cachedPeer = cons;
        return Math.min(wanted, size - used);
    }

    /** Writes an address entry ({@code 8}-byte ring) into the {@code i}th reserved slot. */
    public void putAddress(int i, long address) {
        memory.set(ValueLayout.JAVA_LONG, descOffset + (long) ((cachedOwn + i) & mask) * 8, address);
    }

    /** Writes a descriptor ({@code 16}-byte ring) into the {@code i}th reserved slot. */
    public void putDescriptor(int i, long address, int length) {
        long at = descOffset + (long) ((cachedOwn + i) & mask) * 16;
        memory.set(ValueLayout.JAVA_LONG, at, address);
        memory.set(ValueLayout.JAVA_INT, at + 8, length);
        memory.set(ValueLayout.JAVA_INT, at + 12, 0);
    }

    /** Publishes {@code n} written slots to the consumer (release store of the producer index). */
    public void submit(int n) {
        cachedOwn += n;
        INT.setRelease(memory, producerOffset, cachedOwn);
    }

    // ---- consumer side (RX, completion) ----

    /**
     * How many entries are ready, up to {@code max}; reloads the producer index (acquire) only when the cached
     * one shows none.
     */
    public int available(int max) {
        int avail = cachedPeer - cachedOwn;
        if (avail == 0) {
            int prod = (int) INT.getAcquire(memory, producerOffset);
            avail = prod - cachedOwn;
            if (avail < 0 || avail > size) {
                overruns++;
                // a producer beyond the ring: take one ring's worth and resynchronise on it
                avail = avail < 0 ? 0 : size;
                prod = cachedOwn + avail;
            }
            cachedPeer = prod;
        }
        return Math.min(avail, max);
    }

    /** The address in the {@code i}th ready entry (8-byte ring), or a descriptor's address (16-byte ring). */
    public long address(int i) {
        return memory.get(ValueLayout.JAVA_LONG, descOffset + (long) ((cachedOwn + i) & mask) * entrySize);
    }

    /** The length in the {@code i}th ready descriptor (16-byte ring). */
    public int length(int i) {
        return memory.get(ValueLayout.JAVA_INT, descOffset + (long) ((cachedOwn + i) & mask) * 16 + 8);
    }

    /** The options word of the {@code i}th ready descriptor (16-byte ring). */
    public int options(int i) {
        return memory.get(ValueLayout.JAVA_INT, descOffset + (long) ((cachedOwn + i) & mask) * 16 + 12);
    }

    /** Hands {@code n} read entries back to the producer (release store of the consumer index). */
    public void release(int n) {
        cachedOwn += n;
        INT.setRelease(memory, consumerOffset, cachedOwn);
    }
}
