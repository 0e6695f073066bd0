package io.reprise.jmh;

import java.util.SplittableRandom;

/**
 * Dependent-load latency of this machine: a pointer chase through one random cycle over cache lines of an
 * {@code int[]} of each size. The business logic at 10^7 sessions is bound by such loads (docs/benchmarks.md).
 * Usage: {@code java -Xms3g -Xmx3g -XX:+AlwaysPreTouch [-XX:+UseTransparentHugePages]
 * -cp jmh/target/benchmarks.jar io.reprise.jmh.MemoryLatency}
 */
public final class MemoryLatency
{
    private static final int INTS_PER_LINE = 16;

    private MemoryLatency()
    {
    }

    public static void main(final String[] args)
    {
        final long steps = 20_000_000L;
        for (final int mib : new int[] {1, 4, 32, 128, 1024})
        {
            final int[] next = new int[mib * 1024 * 1024 / Integer.BYTES];
            final int lines = next.length / INTS_PER_LINE;
            final int[] order = new int[lines];
            for (int i = 0; i < lines; i++)
            {
                order[i] = i;
            }
            final SplittableRandom random = new SplittableRandom(1);
            for (int i = lines - 1; i > 0; i--)
            {
                final int j = random.nextInt(i + 1);
                final int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i = 0; i < lines; i++)
            {
                next[order[i] * INTS_PER_LINE] = order[(i + 1) % lines] * INTS_PER_LINE;
            }
            int p = 0;
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 3; round++)
            {
                final long start = System.nanoTime();
                for (long s = 0; s < steps; s++)
                {
                    p = next[p];
                }
                best = Math.min(best, (double)(System.nanoTime() - start) / steps);
            }
            System.out.printf("%5d MiB: %6.1f ns per dependent load (best of 3; %d)%n", mib, best, p & 1);
        }
    }
}
