package dev.pktkit.afxdp;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Chunk numbers released on threads other than the channel's loop, waiting for the loop to put them back on the
 * fill ring: a bounded multi-producer, single-consumer queue of ints (sequence numbers per slot, as in Vyukov's
 * bounded queue). Its capacity is at least the number of chunks a channel can lend, so an offer never finds it
 * full. Lock-free; allocates nothing.
 */
final class ChunkReturnQueue {
    private final int mask;
    private final AtomicLongArray sequence;
    private final AtomicIntegerArray values;
    private final AtomicLong tail = new AtomicLong();
    private long head;

    ChunkReturnQueue(int minCapacity) {
        int cap = Integer.highestOneBit(Math.max(2, minCapacity - 1)) << 1;
        mask = cap - 1;
        sequence = new AtomicLongArray(cap);
        values = new AtomicIntegerArray(cap);
        for (int i = 0; i < cap; i++) {
            sequence.set(i, i);
        }
    }

    /** Any thread: queues {@code chunk}; false only if the queue is full (more returns than chunks: a bug). */
    boolean offer(int chunk) {
        for (;;) {
            long t = tail.get();
            int i = (int) (t & mask);
            long seq = sequence.getAcquire(i);
            if (seq == t) {
                if (tail.compareAndSet(t, t + 1)) {
                    values.setPlain(i, chunk);
                    sequence.setRelease(i, t + 1);
                    return true;
                }
            } else if (seq < t) {
                return false;
            }
            Thread.onSpinWait();
        }
    }

    /** The consumer (the loop): the next chunk, or -1 if none is ready. */
    int poll() {
        int i = (int) (head & mask);
        if (sequence.getAcquire(i) != head + 1) {
            return -1;
        }
        int v = values.getPlain(i);
        sequence.setRelease(i, head + mask + 1);
        head++;
        return v;
    }
}
