package io.reprise.jmh;

import java.util.concurrent.TimeUnit;

import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.logic.BusinessLogic;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Throughput of the business logic over a steady-state operator mix ({@link SteadyStateMix}) with
 * {@code sessions} live sessions, applied in batches through the node's business-logic stage
 * ({@link BusinessLogicHandler}, see {@link Engine#of(BusinessLogic, int)}). The score is operators/s: one
 * SetTime counts as one operator however many timers it fires. The {@code transitions} counter reports session
 * state changes/s in the same run.
 * Compare with {@link NaiveSchedulerBenchmark}, which drives the same operators through java.util collections.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseTransparentHugePages",
    "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@State(Scope.Thread)
public class BusinessLogicBenchmark
{
    static final int OPERATORS_PER_INVOCATION = 1024;

    @Param({"1000000", "10000000"})
    public int sessions;

    /**
     * Look-ahead of the business-logic stage ({@link BusinessLogicHandler}): entries whose sessions are looked up
     * together before they are applied. The default is the node's; 0 applies them without look-ahead.
     */
    @Param({"" + BusinessLogicHandler.DEFAULT_LOOK_AHEAD})
    public int lookAhead;

    private BusinessLogic logic;
    private SteadyStateMix mix;

    /** Secondary results: what the operators did, per second of the same iterations. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Work
    {
        public long transitions;
        public long setTimeOps;
        public long reportOps;
        public long saveOps;
        public long beginOps;

        @Setup(Level.Iteration)
        public void reset()
        {
            transitions = 0;
            setTimeOps = 0;
            reportOps = 0;
            saveOps = 0;
            beginOps = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        final CountingSink sink = new CountingSink();
        logic = new BusinessLogic(SteadyStateMix.rules(sessions), sink);
        mix = new SteadyStateMix(Engine.of(logic, lookAhead), sink, sessions);
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
        System.out.println("state: " + mix.describe() + " table=" + logic.sessions().size() +
            " timers=" + logic.timers().size() + " tableBytes=" + logic.sessions().footprintBytes() +
            " wheelBytes=" + logic.timers().footprintBytes());
    }

    @Benchmark
    @OperationsPerInvocation(OPERATORS_PER_INVOCATION)
    public void steadyStateMix(final Work work)
    {
        final SteadyStateMix mix = this.mix;
        final long transitions = mix.transitions();
        final long setTimes = mix.setTimes;
        final long reports = mix.reports;
        final long saves = mix.saves;
        final long begins = mix.begins;
        mix.run(OPERATORS_PER_INVOCATION);
        work.transitions += mix.transitions() - transitions;
        work.setTimeOps += mix.setTimes - setTimes;
        work.reportOps += mix.reports - reports;
        work.saveOps += mix.saves - saves;
        work.beginOps += mix.begins - begins;
    }
}
