package io.reprise.jmh;

import io.reprise.engine.state.SessionTable;
import io.reprise.engine.state.TimerWheel;

/**
 * The timer wheel alone at a level-2 boundary (every 2^24 ms, 4.7 hours): {@code timers} timers due at random
 * in the level-2 block after the next, then time advanced a millisecond at a time from 300 s before that block
 * begins to 20 s after, each advance timed; prints the longest (after the first 10 s) and where it fell.
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms4g -Xmx4g -XX:+UseTransparentHugePages \
 *     -cp jmh/target/benchmarks.jar io.reprise.jmh.LevelTwoBoundaryProbe [timers=4000000]
 * </pre>
 */
public final class LevelTwoBoundaryProbe
{
    private LevelTwoBoundaryProbe()
    {
    }

    public static void main(final String[] args)
    {
        final int n = args.length > 0 ? Integer.parseInt(args[0]) : 4_000_000;
        final SessionTable table = new SessionTable(n + 10, n + 10);
        final TimerWheel wheel = new TimerWheel(table, n);
        final long block = 1L << 24;
        final long start = 1_700_000_000_000L & ~(block - 1);
        wheel.resetTime(start + 1);
        final java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        for (int i = 0; i < n; i++)
        {
            final int record = table.allocate(1, i);
            wheel.schedule(record, start + 2 * block + random.nextLong(block));
        }
        long maxNs = 0;
        long maxAt = 0;
        final long[] count = {0};
        for (long t = start + 2 * block - 300_000; t <= start + 2 * block + 20_000; t++)
        {
            final long s = System.nanoTime();
            wheel.advance(t, (r, at) -> count[0]++);
            final long d = System.nanoTime() - s;
            // The first 10 s warm the code up and are not counted.
            if (d > maxNs && t > start + 2 * block - 290_000)
            {
                maxNs = d;
                maxAt = t - (start + 2 * block);
            }
        }
        System.out.printf("timers=%d longest advance %.3f ms at %d ms from the level-2 boundary; fired %d%n",
            n, maxNs / 1e6, maxAt, count[0]);
    }
}
