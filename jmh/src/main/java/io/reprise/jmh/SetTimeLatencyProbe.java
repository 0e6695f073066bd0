package io.reprise.jmh;

import io.reprise.engine.logic.BusinessLogic;
import org.HdrHistogram.Histogram;

/**
 * How long one {@code SetTime} holds the business logic, over the steady-state mix of {@link BusinessLogicBenchmark}:
 * a SetTime fires every timer due by its time, and when time enters a new block of a higher wheel level it also
 * cascades that level's slot, which at 10^7 sessions is hundreds of thousands of timers in one operator. Throughput
 * benchmarks amortise that; this probe shows it. It runs the mix for {@code seconds} of simulated time after a
 * warm-up and prints the distribution of SetTime durations and the longest ones, with the simulated time of each
 * (a multiple of 4,096 ms is a level-1 boundary).
 * <p>
 * {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms8g -Xmx8g -XX:+AlwaysPreTouch
 * -XX:+UseTransparentHugePages -cp jmh/target/benchmarks.jar io.reprise.jmh.SetTimeLatencyProbe 10000000 60}
 */
public final class SetTimeLatencyProbe
{
    private static final int LONGEST = 5;

    private SetTimeLatencyProbe()
    {
    }

    public static void main(final String[] args)
    {
        final int sessions = Integer.parseInt(args[0]);
        final long seconds = Long.parseLong(args[1]);
        final CountingSink sink = new CountingSink();
        final BusinessLogic logic = new BusinessLogic(SteadyStateMix.rules(sessions), sink);
        final SteadyStateMix mix = SteadyStateMix.populated(logic, sink, sessions);
        runFor(mix, 20_000, null, null, null); // warm-up: 20 s of simulated time
        final Histogram micros = new Histogram(3);
        final long[] longestNs = new long[LONGEST];
        final long[] longestAtMs = new long[LONGEST];
        final long startNs = System.nanoTime();
        final long operatorsBefore = mix.operators;
        runFor(mix, seconds * 1000, micros, longestNs, longestAtMs);
        final double elapsedS = (System.nanoTime() - startNs) / 1e9;
        System.out.printf("sessions %,d, %d s simulated in %.1f s, %.2f M ops/s overall%n", sessions, seconds,
            elapsedS, (mix.operators - operatorsBefore) / elapsedS / 1e6);
        System.out.printf("SetTime duration: count %,d, p50 %d us, p99 %d us, p99.9 %d us, max %,d us%n",
            micros.getTotalCount(), micros.getValueAtPercentile(50), micros.getValueAtPercentile(99),
            micros.getValueAtPercentile(99.9), micros.getMaxValue());
        for (int i = 0; i < LONGEST; i++)
        {
            System.out.printf("  longest %d: %,.1f ms at simulated time %d (mod 4096 = %d)%n", i + 1,
                longestNs[i] / 1e6, longestAtMs[i], longestAtMs[i] % 4096);
        }
    }

    /** Runs the mix until simulated time has moved {@code durationMs}, timing every step that is a SetTime. */
    private static void runFor(
        final SteadyStateMix mix, final long durationMs, final Histogram micros, final long[] longestNs,
        final long[] longestAtMs)
    {
        final long endMs = mix.nowMs() + durationMs;
        while (mix.nowMs() < endMs)
        {
            final long setTimes = mix.setTimes;
            final long startNs = System.nanoTime();
            mix.step(Engine.MAX_BATCH);
            final long ns = System.nanoTime() - startNs;
            if (null != micros && mix.setTimes != setTimes)
            {
                micros.recordValue(ns / 1000);
                keepLongest(longestNs, longestAtMs, ns, mix.nowMs());
            }
        }
    }

    private static void keepLongest(final long[] longestNs, final long[] longestAtMs, final long ns, final long atMs)
    {
        for (int i = 0; i < longestNs.length; i++)
        {
            if (ns > longestNs[i])
            {
                System.arraycopy(longestNs, i, longestNs, i + 1, longestNs.length - i - 1);
                System.arraycopy(longestAtMs, i, longestAtMs, i + 1, longestAtMs.length - i - 1);
                longestNs[i] = ns;
                longestAtMs[i] = atMs;
                return;
            }
        }
    }
}
