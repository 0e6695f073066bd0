package io.reprise.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The baseline of {@link BusinessLogicBenchmark}: the same operators, in the same order, through
 * {@link NaiveScheduler} (java.util collections) instead of the business logic. Its heap holds ~10^7 session,
 * key and timer objects, hence the larger heap.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseTransparentHugePages",
    "-Xms8g", "-Xmx8g", "-XX:+AlwaysPreTouch"})
@State(Scope.Thread)
public class NaiveSchedulerBenchmark
{
    @Param({"1000000", "10000000"})
    public int sessions;

    private NaiveScheduler scheduler;
    private SteadyStateMix mix;

    @Setup(Level.Trial)
    public void setUp()
    {
        final CountingSink sink = new CountingSink();
        scheduler = new NaiveScheduler(SteadyStateMix.rules(sessions), sink);
        mix = new SteadyStateMix(scheduler, sink, sessions);
        mix.populate(sessions);
    }

    @TearDown(Level.Iteration)
    public void check()
    {
        if (mix.errors() != 0)
        {
            throw new IllegalStateException("operators failed: " + mix.describe());
        }
    }

    @TearDown(Level.Trial)
    public void report()
    {
        System.out.println();
        System.out.println("state: " + mix.describe() + " table=" + scheduler.size() +
            " timers=" + scheduler.scheduledTimers());
    }

    @Benchmark
    @OperationsPerInvocation(BusinessLogicBenchmark.OPERATORS_PER_INVOCATION)
    public void steadyStateMix(final BusinessLogicBenchmark.Work work)
    {
        final SteadyStateMix mix = this.mix;
        final long transitions = mix.transitions();
        final long setTimes = mix.setTimes;
        final long reports = mix.reports;
        final long saves = mix.saves;
        final long begins = mix.begins;
        mix.run(BusinessLogicBenchmark.OPERATORS_PER_INVOCATION);
        work.transitions += mix.transitions() - transitions;
        work.setTimeOps += mix.setTimes - setTimes;
        work.reportOps += mix.reports - reports;
        work.saveOps += mix.saves - saves;
        work.beginOps += mix.begins - begins;
    }
}
