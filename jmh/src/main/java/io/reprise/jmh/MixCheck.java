package io.reprise.jmh;

import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.logic.BusinessLogic;

/**
 * Runs the steady-state mix outside JMH and prints the state digest: a quick sanity check of the workload, and
 * the proof that an engine change kept behaviour identical (same digest before and after). It also times every
 * operator and prints the mean cost and share of time of each kind.
 * Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp jmh/target/benchmarks.jar
 * io.reprise.jmh.MixCheck [sessions] [operators] [naive]}; with {@code naive} it drives {@link NaiveScheduler}, whose
 * event counts must equal the engine's for the same arguments. {@code -Dreprise.bench.lookAhead=d} sets the
 * look-ahead of the business-logic stage (0: none).
 */
public final class MixCheck
{
    private MixCheck()
    {
    }

    public static void main(final String[] args)
    {
        final int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        final long operators = args.length > 1 ? Long.parseLong(args[1]) : 20_000_000L;
        final CountingSink sink = new CountingSink();
        final boolean naive = args.length > 2 && "naive".equals(args[2]);
        final BusinessLogic logic = naive ? null : new BusinessLogic(SteadyStateMix.rules(sessions), sink);
        final NaiveScheduler scheduler = naive ? new NaiveScheduler(SteadyStateMix.rules(sessions), sink) : null;
        final int lookAhead = Integer.getInteger("reprise.bench.lookAhead", BusinessLogicHandler.DEFAULT_LOOK_AHEAD);
        final SteadyStateMix mix = new SteadyStateMix(naive ? scheduler : Engine.of(logic, lookAhead), sink, sessions);
        System.out.printf("look-ahead %d%n", lookAhead);
        long start = System.nanoTime();
        mix.populate(sessions);
        System.out.printf("populated %d in %d ms%n", sessions, (System.nanoTime() - start) / 1_000_000);
        final long chunk = Math.max(1, operators / 10);
        final String[] kinds = {"SetTime", "BeginRepeats", "ReportOutcome", "SaveSession"};
        final long[] count = new long[kinds.length];
        final long[] nanos = new long[kinds.length];
        for (long done = 0; done < operators; )
        {
            start = System.nanoTime();
            final long n = Math.min(chunk, operators - done);
            for (long left = n; left > 0; )
            {
                final long setTimes = mix.setTimes;
                final long begins = mix.begins;
                final long reports = mix.reports;
                final long t0 = System.nanoTime();
                final int applied = mix.step((int)Math.min(Engine.MAX_BATCH, left));
                final long dt = System.nanoTime() - t0;
                // A step is one batch of one kind of operator.
                final int kind = mix.setTimes != setTimes ? 0 : mix.begins != begins ? 1 :
                    mix.reports != reports ? 2 : 3;
                count[kind] += applied;
                nanos[kind] += dt;
                left -= applied;
            }
            done += n;
            final long ns = System.nanoTime() - start;
            System.out.printf("%,d ops in %d ms: %.2f M ops/s | %s%s%n", n, ns / 1_000_000, n * 1e3 / ns,
                naive ? "" : "wheelBytes=" + logic.timers().footprintBytes() + " ", mix.describe());
        }
        final long totalNanos = java.util.Arrays.stream(nanos).sum();
        System.out.printf("per operator kind (each batch timed with System.nanoTime):%n");
        for (int k = 0; k < kinds.length; k++)
        {
            System.out.printf("  %-14s %5.1f%% of operators  %8.0f ns mean  %5.1f%% of time%n", kinds[k],
                100.0 * count[k] / operators, (double)nanos[k] / Math.max(1, count[k]), 100.0 * nanos[k] / totalNanos);
        }
        if (naive)
        {
            System.out.printf("table=%d timers=%d%n", scheduler.size(), scheduler.scheduledTimers());
        }
        else
        {
            System.out.printf("table=%d timers=%d digest=%016x%n", logic.sessions().size(), logic.timers().size(),
                logic.digest());
        }
        if (mix.errors() != 0)
        {
            throw new IllegalStateException("errors: " + mix.describe());
        }
    }
}
