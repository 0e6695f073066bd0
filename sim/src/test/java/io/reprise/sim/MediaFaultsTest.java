package io.reprise.sim;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Media faults (sectors that read back corrupt, writes that land in the wrong place) on top of every fault of
 * {@code all}: one node cannot repair what it acknowledged, so each run must either keep every invariant or end on
 * damage found — the node refusing to start on a precise corruption error, or the checker's independent read
 * meeting damage — and never lose an answered operator silently. {@code reprise.sim.seeds} seeds (200 in CI) from
 * {@code reprise.sim.first.seed}.
 */
class MediaFaultsTest
{
    private static final Set<Simulation.Fault> FAULTS = EnumSet.copyOf(Simulation.Fault.ALL);

    static
    {
        FAULTS.add(Simulation.Fault.CORRUPT_READ);
        FAULTS.add(Simulation.Fault.MISDIRECTED_WRITE);
    }

    @Test
    void damageIsFoundOrSurvivedNeverAbsorbed() throws Exception
    {
        final long first = SimulationSeedsTest.firstSeed() + 1_000_000;
        final int seeds = Integer.getInteger("reprise.sim.seeds", 200);
        final long steps = Long.getLong("reprise.sim.steps", 100_000);
        System.out.println("MediaFaultsTest: seeds " + first + ".." + (first + seeds - 1) + " of " + steps +
            " steps, faults " + Simulation.Fault.format(FAULTS) + " (-Dreprise.sim.first.seed + 1000000)");
        final ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        final List<String> silent = new ArrayList<>();
        int passed = 0;
        int detected = 0;
        try
        {
            final List<Future<Simulation.Result>> runs = new ArrayList<>();
            for (long seed = first; seed < first + seeds; seed++)
            {
                final long runSeed = seed;
                runs.add(pool.submit(() -> new Simulation(runSeed, steps, FAULTS, PlantedBug.NONE).run()));
            }
            for (final Future<Simulation.Result> run : runs)
            {
                final Simulation.Result result = run.get();
                if (result.ok())
                {
                    passed++;
                }
                else if (result.endedOnDetectedDamage())
                {
                    detected++;
                }
                else
                {
                    silent.add(result.lastLine() + System.lineSeparator() + "  replay: " + result.replayCommand());
                }
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        System.out.println("MediaFaultsTest: " + passed + " passed every invariant, " + detected +
            " ended on damage found, " + silent.size() + " otherwise");
        assertTrue(silent.isEmpty(), "runs that failed otherwise than on damage found:" + System.lineSeparator() +
            String.join(System.lineSeparator(), silent));
        assertTrue(detected > 0, "the media faults found nothing to damage in " + seeds + " runs");
    }
}
