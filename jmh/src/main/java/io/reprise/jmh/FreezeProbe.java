package io.reprise.jmh;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.flow.SnapshotWarmUp;
import org.HdrHistogram.Histogram;

/**
 * What a snapshot costs the business-logic thread itself, apart from the scheduler: over the steady-state mix of
 * {@link BusinessLogicBenchmark} at {@code sessions}, it times {@link BusinessLogic#freeze} and
 * {@link BusinessLogic#recycle}, and the steps (batches of {@link #STEP} operators) run while a frozen view is held
 * against those run while none is. While a view is held, the first write to each page and chunk copies it, so those
 * steps are slower until most of the state has been copied once. Alternating windows without and with a view, each
 * {@code windowMs} of wall time, make the comparison fair to a noisy machine.
 * <p>
 * It runs {@link SnapshotWarmUp} first, as a node of that size does; {@code -Dreprise.probe.cold=true} leaves it out.
 * <p>
 * {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms8g -Xmx8g -XX:+AlwaysPreTouch
 * -XX:+UseTransparentHugePages -cp jmh/target/benchmarks.jar io.reprise.jmh.FreezeProbe 10000000 3000 4}
 */
public final class FreezeProbe
{
    /** Operators per timed step: a small batch, so that one step's time shows what its copies cost. */
    private static final int STEP = 16;

    private FreezeProbe()
    {
    }

    public static void main(final String[] args)
    {
        final int sessions = Integer.parseInt(args[0]);
        final long windowMs = Long.parseLong(args[1]);
        final int rounds = Integer.parseInt(args[2]);
        final CountingSink sink = new CountingSink();
        final BusinessLogic logic = new BusinessLogic(SteadyStateMix.rules(sessions), sink);
        final SteadyStateMix mix = SteadyStateMix.populated(logic, sink, sessions);
        logic.reserveSnapshotCopies();
        if (!Boolean.getBoolean("reprise.probe.cold"))
        {
            SnapshotWarmUp.run(2_000); // as a node of this size does before serving
        }
        System.gc();
        run(mix, logic, windowMs, new Histogram(3)); // warm-up
        final Histogram without = new Histogram(3);
        final Histogram with = new Histogram(3);
        final Histogram freezeUs = new Histogram(3);
        final Histogram recycleUs = new Histogram(3);
        long operatorsWithout = 0;
        long operatorsWith = 0;
        for (int round = 0; round < rounds; round++)
        {
            final long maxWithoutBefore = without.getMaxValue();
            operatorsWithout += run(mix, logic, windowMs, without);
            final long freezeAtMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
            final long freezeStartNs = System.nanoTime();
            final BusinessLogic view = logic.freeze();
            final long frozeUs = (System.nanoTime() - freezeStartNs) / 1000;
            freezeUs.recordValue(frozeUs);
            final Histogram roundWith = new Histogram(3);
            operatorsWith += run(mix, logic, windowMs, roundWith);
            with.add(roundWith);
            if (view.appliedIndex() >= logic.appliedIndex())
            {
                throw new IllegalStateException("the view moved with the state");
            }
            final long recycleStartNs = System.nanoTime();
            logic.recycle(view);
            final long recycledUs = (System.nanoTime() - recycleStartNs) / 1000;
            recycleUs.recordValue(recycledUs);
            System.out.printf("round %d: freeze %,d us (at %,d ms of uptime), recycle %,d us; longest step without a" +
                " view %,d us (all rounds so far), with one %,d us%n", round + 1, frozeUs, freezeAtMs, recycledUs,
                Math.max(maxWithoutBefore, without.getMaxValue()), roundWith.getMaxValue());
        }
        final double seconds = rounds * windowMs / 1000.0;
        System.out.printf("sessions %,d, %d rounds of %d ms without and %d ms with a view held%n",
            logic.sessions().size(), rounds, windowMs, windowMs);
        System.out.printf("freeze us: max %d, p50 %d; recycle us: max %d, p50 %d%n", freezeUs.getMaxValue(),
            freezeUs.getValueAtPercentile(50), recycleUs.getMaxValue(), recycleUs.getValueAtPercentile(50));
        print("without a view", without, operatorsWithout / seconds);
        print("with a view   ", with, operatorsWith / seconds);
        System.out.printf("throughput with / without: %.3f%n", (double)operatorsWith / operatorsWithout);
    }

    private static void print(final String what, final Histogram stepUs, final double operatorsPerSecond)
    {
        System.out.printf("%s: %.2f M ops/s; step of %d us p50 %d, p99 %d, p99.9 %d, p99.99 %d, max %,d%n", what,
            operatorsPerSecond / 1e6, STEP, stepUs.getValueAtPercentile(50), stepUs.getValueAtPercentile(99),
            stepUs.getValueAtPercentile(99.9), stepUs.getValueAtPercentile(99.99), stepUs.getMaxValue());
    }

    /** Runs the mix for {@code windowMs} of wall time in steps of {@link #STEP}; returns the operators applied. */
    private static long run(
        final SteadyStateMix mix, final BusinessLogic logic, final long windowMs, final Histogram stepUs)
    {
        final long operatorsBefore = mix.operators;
        final long endNs = System.nanoTime() + windowMs * 1_000_000;
        long nowNs = System.nanoTime();
        while (nowNs < endNs)
        {
            logic.saveAhead(); // as the node does between batches while a view is out
            mix.step(STEP);
            final long afterNs = System.nanoTime();
            stepUs.recordValue((afterNs - nowNs) / 1000);
            nowNs = afterNs;
        }
        return mix.operators - operatorsBefore;
    }
}
