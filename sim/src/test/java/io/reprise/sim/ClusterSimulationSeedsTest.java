package io.reprise.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster simulator's campaign: {@code reprise.cluster.seeds3} runs of 3 members and {@code reprise.cluster.seeds5}
 * of 5, {@code reprise.cluster.steps} steps each, every fault of {@code all} (network included), from seed
 * {@code reprise.sim.first.seed} on, on every core. Every run must keep every invariant; a failure names its seed
 * and the command that replays it.
 */
class ClusterSimulationSeedsTest
{
    static final long STEPS = Long.getLong("reprise.cluster.steps", 100_000);

    @Test
    void everySeedKeepsEveryInvariant() throws Exception
    {
        final long first = SimulationSeedsTest.firstSeed();
        final int seeds3 = Integer.getInteger("reprise.cluster.seeds3", 200);
        final int seeds5 = Integer.getInteger("reprise.cluster.seeds5", 50);
        System.out.println("ClusterSimulationSeedsTest: seeds " + first + ".." + (first + seeds3 - 1) +
            " of 3 members and " + first + ".." + (first + seeds5 - 1) + " of 5, " + STEPS + " steps, faults all " +
            "(-Dreprise.sim.first.seed, -Dreprise.cluster.seeds3, -Dreprise.cluster.seeds5, -Dreprise.cluster.steps)");
        final long startNs = System.nanoTime();
        final ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        final List<String> failures = new ArrayList<>();
        long steps = 0;
        try
        {
            final List<Future<Simulation.Result>> runs = new ArrayList<>();
            for (final int nodes : new int[] {3, 5})
            {
                for (long seed = first; seed < first + (nodes == 3 ? seeds3 : seeds5); seed++)
                {
                    final long runSeed = seed;
                    runs.add(pool.submit(() ->
                        new ClusterSimulation(runSeed, STEPS, nodes, Simulation.Fault.ALL, PlantedBug.NONE).run()));
                }
            }
            for (final Future<Simulation.Result> run : runs)
            {
                final Simulation.Result result = run.get();
                steps += result.steps();
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
        System.out.printf("ClusterSimulationSeedsTest: %d runs, %d steps in %.1f s%n", seeds3 + seeds5, steps,
            (System.nanoTime() - startNs) / 1e9);
        assertTrue(failures.isEmpty(), failures.size() + " of " + (seeds3 + seeds5) + " runs failed:" +
            System.lineSeparator() + String.join(System.lineSeparator(), failures));
    }
}
