package dev.pktkit.benchmarks;

import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * JMH worker threads that are Netty {@code FastThreadLocalThread}s, like event-loop threads. Netty 4.2 pools
 * recycled objects (outbound-buffer entries, derived buffers) only on such threads; on JMH's plain threads those
 * would be allocated per message and the benchmark would measure something no event loop does.
 * Selected with {@code -Djmh.executor=CUSTOM -Djmh.executor.class=...} (see {@link Jmh}).
 */
public final class NettyThreadExecutor extends ThreadPoolExecutor {
    public NettyThreadExecutor(int maxThreads, String prefix) {
        super(maxThreads, maxThreads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(prefix, true));
    }
}
