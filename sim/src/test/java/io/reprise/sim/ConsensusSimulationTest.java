package io.reprise.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster protocol alone over many seeds of faults, and the planted protocol bugs caught. Seeds from
 * {@code -Dreprise.consensus.first.seed} (default 1), counts from {@code -Dreprise.consensus.seeds}.
 */
class ConsensusSimulationTest
{
    private static final long FIRST_SEED = Long.getLong("reprise.consensus.first.seed", 1);
    private static final int SEEDS = Integer.getInteger("reprise.consensus.seeds", 50);
    private static final long STEPS = Long.getLong("reprise.consensus.steps", 20_000);

    @Test
    void shouldKeepEveryInvariantWithThreeAndFiveMembers()
    {
        System.out.println("ConsensusSimulationTest: seeds " + FIRST_SEED + ".." + (FIRST_SEED + SEEDS - 1) + " of " +
            STEPS + " steps, 3 and 5 members");
        final List<String> failures = new ArrayList<>();
        LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS).parallel().forEach((seed) ->
        {
            for (final int members : new int[] {3, 5})
            {
                final ConsensusSimulation.Result result =
                    new ConsensusSimulation(seed, STEPS, members, true, PlantedBug.NONE).run();
                if (!result.ok())
                {
                    synchronized (failures)
                    {
                        failures.add(result.lastLine());
                    }
                }
            }
        });
        failures.forEach(System.out::println);
        assertEquals(List.of(), failures);
    }

    @Test
    void shouldCatchACommitWithoutMajority()
    {
        assertCaught(PlantedBug.COMMIT_WITHOUT_MAJORITY);
    }

    @Test
    void shouldCatchADoubleVote()
    {
        assertCaught(PlantedBug.DOUBLE_VOTE);
    }

    private static void assertCaught(final PlantedBug planted)
    {
        for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++)
        {
            final ConsensusSimulation.Result result = new ConsensusSimulation(seed, STEPS, 3, true, planted).run();
            if (!result.ok())
            {
                System.out.println(planted + " caught: " + result.lastLine());
                assertFalse(result.failure().startsWith("simulator-error"), result.lastLine());
                assertTrue(new ConsensusSimulation(seed, STEPS, 3, true, PlantedBug.NONE).run().ok(),
                    "the same seed without the bug");
                return;
            }
        }
        throw new AssertionError(planted + " not caught in seeds " + FIRST_SEED + ".." + (FIRST_SEED + SEEDS - 1));
    }
}
