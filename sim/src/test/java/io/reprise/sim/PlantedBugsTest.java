package io.reprise.sim;

import java.util.Set;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each planted bug is caught within CI's seed budget, by the invariant it breaks, and the same seed without the bug
 * passes: the checker can fail, and fails for the bug's reason.
 */
class PlantedBugsTest
{
    private static final long STEPS = 100_000;

    @ParameterizedTest
    @EnumSource(value = PlantedBug.class, names = {"ACK_BEFORE_SYNC", "APPLY_UNCOMMITTED", "SKIP_TORN_CHECK"})
    void caughtWithinTheSeedBudget(final PlantedBug bug)
    {
        final long first = SimulationSeedsTest.firstSeed();
        final int budget = Integer.getInteger("reprise.sim.seeds", 200);
        System.out.println("PlantedBugsTest " + bug.flag() + ": seeds from " + first + " (-Dreprise.sim.first.seed)");
        for (long seed = first; seed < first + budget; seed++)
        {
            final Simulation.Result planted = new Simulation(seed, STEPS, Simulation.Fault.ALL, bug).run();
            if (planted.ok())
            {
                continue;
            }
            System.out.println("  caught at seed " + seed + ": " + planted.lastLine());
            assertTrue(expectedInvariants(bug).stream().anyMatch((name) -> planted.lastLine().contains(" FAILED " + name)),
                "caught for another reason than " + bug.flag() + ": " + planted.lastLine());
            assertTrue(planted.replayCommand().endsWith("--plant " + bug.flag()), planted.replayCommand());
            final Simulation.Result clean = new Simulation(seed, STEPS, Simulation.Fault.ALL, PlantedBug.NONE).run();
            assertTrue(clean.ok(), "the same seed without the bug must pass: " + clean.lastLine());
            return;
        }
        fail(bug.flag() + " was not caught in " + budget + " seeds from " + first);
    }

    /** What each bug breaks first: acknowledged operators lost, or a log that start-up should have cut. */
    private static Set<String> expectedInvariants(final PlantedBug bug)
    {
        switch (bug)
        {
            case ACK_BEFORE_SYNC:
            case APPLY_UNCOMMITTED:
                return Set.of("answered-survives-crash");
            case SKIP_TORN_CHECK:
                return Set.of("restart-after-crash", "recovery-equals-replay", "answered-survives-crash");
            default:
                throw new IllegalArgumentException(bug.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(value = PlantedBug.class, names = {"NONE"})
    void noBugPlantedChangesNothing(final PlantedBug none)
    {
        assertFalse(new Simulation(SimulationSeedsTest.firstSeed(), 1_000, Set.of(), none).run().lastLine()
            .contains("FAILED"));
    }
}
