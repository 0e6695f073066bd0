package io.reprise.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator's campaign: {@code reprise.sim.seeds} runs (200 in CI, 10,000 with -Plong) of
 * {@code reprise.sim.steps} steps (10^5) each, with every fault of {@code all}, from seed
 * {@code reprise.sim.first.seed} on (1 unless set), on as many threads as there are cores. Every run must pass every
 * invariant; a failure names its seed and the command that replays it.
 */
class SimulationSeedsTest
{
    static final long DEFAULT_FIRST_SEED = 1;

    static long firstSeed()
    {
        final String value = System.getProperty("reprise.sim.first.seed", "");
        return value.isBlank() ? DEFAULT_FIRST_SEED : Long.parseLong(value.trim());
    }

    @Test
    void everySeedKeepsEveryInvariant() throws Exception
    {
        final long first = firstSeed();
        final int seeds = Integer.getInteger("reprise.sim.seeds", 200);
        final long steps = Long.getLong("reprise.sim.steps", 100_000);
        System.out.println("SimulationSeedsTest: seeds " + first + ".." + (first + seeds - 1) + " of " + steps +
            " steps, faults all (-Dreprise.sim.first.seed, -Dreprise.sim.seeds, -Dreprise.sim.steps)");
        final AtomicLong operators = new AtomicLong();
        final AtomicLong stepsRun = new AtomicLong();
        final long startNs = System.nanoTime();
        final ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        final List<String> failures = new ArrayList<>();
        try
        {
            final List<Future<Simulation.Result>> runs = new ArrayList<>();
            for (long seed = first; seed < first + seeds; seed++)
            {
                final long runSeed = seed;
                runs.add(pool.submit(() -> new Simulation(runSeed, steps, Simulation.Fault.ALL, PlantedBug.NONE).run()));
            }
            for (final Future<Simulation.Result> run : runs)
            {
                final Simulation.Result result = run.get();
                operators.addAndGet(result.operators());
                stepsRun.addAndGet(result.steps());
                if (!result.ok())
                {
                    failures.add(result.lastLine() + System.lineSeparator() + "  replay: " + result.replayCommand());
                }
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        final double seconds = (System.nanoTime() - startNs) / 1e9;
        System.out.printf("SimulationSeedsTest: %d runs, %d steps, %d operators in %.1f s (%.0f operators/s)%n",
            seeds, stepsRun.get(), operators.get(), seconds, operators.get() / seconds);
        assertTrue(failures.isEmpty(), failures.size() + " of " + seeds + " runs failed:" + System.lineSeparator() +
            String.join(System.lineSeparator(), failures));
        assertEquals(seeds * steps, stepsRun.get(), "every run ran all its steps");
    }
}
