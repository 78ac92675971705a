package dev.pktkit.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts Netty leak reports so a test run can fail on them instead of only logging them.
 *
 * <p>{@link #install()} must run before the first {@code ByteBuf} class is initialised (Netty creates its
 * detectors in static initialisers); {@link LeakGuardSessionListener} does that at launcher start.
 */
public final class LeakGuard {
    private static final AtomicInteger LEAKS = new AtomicInteger();
    private static final List<String> REPORTS = new ArrayList<>();
    private static volatile boolean installed;

    private LeakGuard() {
    }

    /** Installs the counting detector factory; idempotent. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                       long maxActive) {
                return new CountingDetector<>(resource, samplingInterval);
            }
        });
    }

    public static boolean isInstalled() {
        return installed;
    }

    /** Leak reports seen so far in this JVM. */
    public static int leaks() {
        return LEAKS.get();
    }

    public static synchronized List<String> reports() {
        return new ArrayList<>(REPORTS);
    }

    /**
     * Collects garbage and allocates from every allocator so that pending leak reports are delivered, then
     * returns the total count. Netty reports a leak only on a later allocation tracked by the same detector.
     */
    public static int collect() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            System.runFinalization();
            touch(PooledByteBufAllocator.DEFAULT);
            touch(UnpooledByteBufAllocator.DEFAULT);
            touch(ByteBufAllocator.DEFAULT);
        }
        return leaks();
    }

    private static void touch(ByteBufAllocator alloc) {
        ByteBuf heap = alloc.heapBuffer(8);
        heap.release();
        ByteBuf direct = alloc.directBuffer(8);
        direct.release();
        ByteBuf composite = alloc.compositeBuffer();
        composite.release();
    }

    private static final class CountingDetector<T> extends ResourceLeakDetector<T> {
        @SuppressWarnings("deprecation")
        CountingDetector(Class<?> resource, int samplingInterval) {
            super(resource, samplingInterval, Long.MAX_VALUE);
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            record(resourceType + records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            record(resourceType + " (untraced)");
            super.reportUntracedLeak(resourceType);
        }

        private static void record(String report) {
            LEAKS.incrementAndGet();
            synchronized (LeakGuard.class) {
                if (REPORTS.size() < 16) {
                    REPORTS.add(report);
                }
            }
        }
    }
}
