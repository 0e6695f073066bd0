package io.reprise.jmh;

import io.reprise.engine.logic.BusinessLogic;

/**
 * Runs the steady-state mix outside JMH and prints the state digest: a quick sanity check of the workload, and
 * the proof that an engine change kept behaviour identical (same digest before and after). It also times every
 * operator and prints the mean cost and share of time of each kind.
 * Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp jmh/target/benchmarks.jar
 * io.reprise.jmh.MixCheck [sessions] [operators] [naive]}; with {@code naive} it drives {@link NaiveScheduler}, whose
 * event counts must equal the engine's for the same arguments. {@code -Dreprise.bench.prefetch=d} sets the
 * prefetch distance of the mix.
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
        final int prefetchDistance = Integer.getInteger("reprise.bench.prefetch", 0);
        final SteadyStateMix mix =
            new SteadyStateMix(naive ? scheduler : Engine.of(logic), sink, sessions, prefetchDistance);
        System.out.printf("prefetch distance %d%n", prefetchDistance);
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
            for (long i = 0; i < n; i++)
            {
                final long setTimes = mix.setTimes;
                final long begins = mix.begins;
                final long reports = mix.reports;
                final long t0 = System.nanoTime();
                mix.step();
                final long dt = System.nanoTime() - t0;
                final int kind = mix.setTimes != setTimes ? 0 : mix.begins != begins ? 1 :
                    mix.reports != reports ? 2 : 3;
                count[kind]++;
                nanos[kind] += dt;
            }
            done += n;
            final long ns = System.nanoTime() - start;
            System.out.printf("%,d ops in %d ms: %.2f M ops/s | %s%s%n", n, ns / 1_000_000, n * 1e3 / ns,
                naive ? "" : "wheelBytes=" + logic.timers().footprintBytes() + " ", mix.describe());
        }
        final long totalNanos = java.util.Arrays.stream(nanos).sum();
        System.out.printf("per operator kind (each timed with System.nanoTime, ~20-30 ns of it is the timer):%n");
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
        if (mix.errors != 0)
        {
            throw new IllegalStateException("errors: " + mix.describe());
        }
    }
}
