package dev.pktkit.benchmarks;

import io.netty.util.concurrent.FastThreadLocalThread;

import java.util.Locale;

/**
 * {@link NatDefragBenchmark}'s three NATs timed in one JVM, interleaved, as paired differences: JMH runs each
 * benchmark method in forks of its own, and the forks of this path differ by several nanoseconds from each other
 * (code layout, JIT decisions), more than the 1.4 ns to be shown. Here the three NATs run the same compiled code,
 * in rounds: each round times one block of bursts through each (the order rotating from round to round), and the
 * per-round differences to the NAT without a defragmenter are averaged, with a 95 % interval (normal approximation over the
 * rounds). The second NAT with a defragmenter is the control: its difference to the first is what "identical"
 * measures here.
 *
 * <pre>
 * java -cp netty-pktkit-benchmarks/target/benchmarks.jar dev.pktkit.benchmarks.NatDefragPaired [rounds] [blockMillis]
 * </pre>
 */
public final class NatDefragPaired {
    private NatDefragPaired() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int blockMillis = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        System.setProperty("io.netty.leakDetection.level", "disabled");
        Thread t = new FastThreadLocalThread(() -> run(rounds, blockMillis)); // Netty's recyclers, as on a loop
        t.start();
        t.join();
    }

    private static void burst(NatDefragBenchmark b, int which) {
        switch (which) {
            case 0 -> b.withDefrag();
            case 1 -> b.withoutDefrag();
            default -> b.withDefragAgain();
        }
    }

    /** Nanoseconds per packet of {@code n} bursts of 16 through NAT {@code which}. */
    private static double block(NatDefragBenchmark b, int which, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            burst(b, which);
        }
        return (System.nanoTime() - t0) / (16.0 * n);
    }

    private static void run(int rounds, int blockMillis) {
        NatDefragBenchmark b = new NatDefragBenchmark();
        b.setUp();
        try {
            long end = System.nanoTime() + 5_000_000_000L; // warm-up: all three, round robin
            int k = 0;
            while (System.nanoTime() < end) {
                block(b, k++ % 3, 1000);
            }
            int n = (int) Math.max(100, blockMillis * 1e6 / (16 * block(b, 0, 10_000)));
            double[][] ns = new double[3][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < 3; j++) {
                    int which = (r + j) % 3;
                    ns[which][r] = block(b, which, n);
                }
            }
            String[] names = {"withDefrag", "withoutDefrag", "withDefragAgain"};
            for (int w = 0; w < 3; w++) {
                System.out.printf(Locale.ROOT, "%-16s %8.3f ns/packet (mean of %d blocks of %d bursts)%n", names[w],
                        mean(ns[w]), rounds, n);
            }
            diff("withDefrag - withoutDefrag", ns[0], ns[1]);
            diff("withDefragAgain - withoutDefrag", ns[2], ns[1]);
            diff("withDefrag - withDefragAgain (control)", ns[0], ns[2]);
        } finally {
            b.tearDown();
        }
    }

    private static double mean(double[] a) {
        double s = 0;
        for (double v : a) {
            s += v;
        }
        return s / a.length;
    }

    private static void diff(String name, double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        double m = mean(d);
        double v = 0;
        for (double x : d) {
            v += (x - m) * (x - m);
        }
        double se = Math.sqrt(v / (d.length - 1) / d.length);
        // 1.96 (two-sided 95 %) and 1.645 (one-sided): rounds are many, t is near the normal quantile
        System.out.printf(Locale.ROOT, "%-40s %+7.3f ns ± %.3f (95 %%), one-sided 95 %% upper bound %+7.3f ns%n", name,
                m, 1.96 * se, m + 1.645 * se);
    }
}
