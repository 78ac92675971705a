package dev.pktkit.benchmarks;

/** Settings shared by the benchmarks. */
final class Jmh {
    private Jmh() {
    }

    /** Forked JVMs run benchmark threads as Netty threads ({@link NettyThreadExecutor}). */
    static final String EXECUTOR = "-Djmh.executor=CUSTOM";
    static final String EXECUTOR_CLASS = "-Djmh.executor.class=dev.pktkit.benchmarks.NettyThreadExecutor";
    /** As Netty's own microbenchmarks: leak detection samples buffers and records stack traces. */
    static final String NO_LEAK_DETECTION = "-Dio.netty.leakDetection.level=disabled";
}
