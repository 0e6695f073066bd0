package io.reprise.sim;

import java.util.Set;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each cluster bug planted is caught within the seed budget ({@code reprise.cluster.seeds3} runs of 3 members), by
 * the invariant it breaks, and the same seed without it passes.
 */
class ClusterPlantedBugsTest
{
    @ParameterizedTest
    @EnumSource(value = PlantedBug.class, names = {
        "COMMIT_WITHOUT_MAJORITY", "DOUBLE_VOTE", "FOLLOWER_APPLIES_BEYOND_COMMIT", "DISPATCH_AFTER_STEPDOWN",
        "INSTALL_WITHOUT_SOURCES", "REDISPATCH_PREVIOUS_TERMS"})
    void caughtWithinTheSeedBudget(final PlantedBug bug)
    {
        final long first = SimulationSeedsTest.firstSeed();
        final int budget = Integer.getInteger("reprise.cluster.seeds3", 200);
        System.out.println("ClusterPlantedBugsTest " + bug.flag() + ": seeds from " + first +
            " (-Dreprise.sim.first.seed)");
        for (long seed = first; seed < first + budget; seed++)
        {
            final Simulation.Result planted =
                new ClusterSimulation(seed, ClusterSimulationSeedsTest.STEPS, 3, Simulation.Fault.ALL, bug).run();
            if (planted.ok())
            {
                continue;
            }
            System.out.println("  caught at seed " + seed + ": " + planted.lastLine());
            assertTrue(expectedInvariants(bug).stream()
                    .anyMatch((name) -> planted.lastLine().contains(" FAILED " + name + ":")),
                "caught for another reason than " + bug.flag() + ": " + planted.lastLine());
            assertTrue(planted.replayCommand().contains("--plant " + bug.flag()), planted.replayCommand());
            final Simulation.Result clean = new ClusterSimulation(seed, ClusterSimulationSeedsTest.STEPS, 3,
                Simulation.Fault.ALL, PlantedBug.NONE).run();
            assertTrue(clean.ok(), "the same seed without the bug must pass: " + clean.lastLine());
            return;
        }
        fail(bug.flag() + " was not caught in " + budget + " seeds from " + first);
    }

    /**
     * What each bug breaks. Entries committed without a majority, or applied before they are committed, differ
     * between members or are overridden, which the sessions' invariants see first as often as the digests do.
     */
    private static Set<String> expectedInvariants(final PlantedBug bug)
    {
        final Set<String> divergence = Set.of("equal-digests", "every-member-applies", "attempt-ended-twice",
            "attempt-repeated", "no-attempt-after-finish", "finished-twice", "one-attempt-in-flight",
            "acknowledged-session-kept", "answered-survives", "stale-report-accepted", "in-lease-report-refused",
            "not-before-due", "redrive-of-live-session");
        switch (bug)
        {
            case COMMIT_WITHOUT_MAJORITY:
            case FOLLOWER_APPLIES_BEYOND_COMMIT:
                return divergence;
            case DOUBLE_VOTE:
                return Set.of("one-leader-per-term");
            case DISPATCH_AFTER_STEPDOWN:
                return Set.of("dispatch-only-by-leader");
            case REDISPATCH_PREVIOUS_TERMS:
                return Set.of("attempt-dispatched-twice");
            case INSTALL_WITHOUT_SOURCES:
                // The member that took the install cannot start on it: its snapshot's sources are missing.
                return Set.of("restart-after-crash");
            default:
                throw new IllegalArgumentException(bug.toString());
        }
    }
}
