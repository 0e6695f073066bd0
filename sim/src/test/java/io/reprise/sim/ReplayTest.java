package io.reprise.sim;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run depends on its seed and options alone: the same ones give the same last line, passing or failing. */
class ReplayTest
{
    @Test
    void oneSeedTwiceGivesTheSameLastLine()
    {
        final long seed = SimulationSeedsTest.firstSeed() + 7;
        System.out.println("ReplayTest seed " + seed + " (-Dreprise.sim.first.seed + 7)");
        final Simulation.Result first = new Simulation(seed, 100_000, Simulation.Fault.ALL, PlantedBug.NONE).run();
        final Simulation.Result second = new Simulation(seed, 100_000, Simulation.Fault.ALL, PlantedBug.NONE).run();
        assertTrue(first.ok(), first.lastLine());
        assertTrue(first.lastLine().matches("sim: seed=" + seed + " nodes=1 steps=100000 ops=\\d+ acked=\\d+ " +
            "crashes=[1-9]\\d* faults=[1-9]\\d* digest=0x[0-9a-f]{16} ok"), first.lastLine());
        assertEquals(first.lastLine(), second.lastLine());
    }

    @Test
    void aFailingSeedReplaysToTheSameFailure()
    {
        // Found by PlantedBugsTest's search; any seed the bug fails on will do.
        long seed = SimulationSeedsTest.firstSeed();
        Simulation.Result failed;
        while ((failed = new Simulation(seed, 100_000, Simulation.Fault.ALL, PlantedBug.ACK_BEFORE_SYNC).run()).ok())
        {
            seed++;
        }
        final Simulation.Result replayed =
            new Simulation(seed, 100_000, Simulation.Fault.ALL, PlantedBug.ACK_BEFORE_SYNC).run();
        assertFalse(replayed.ok());
        assertEquals(failed.lastLine(), replayed.lastLine());
        assertEquals(Simulation.command(seed, 100_000, Simulation.Fault.ALL, PlantedBug.ACK_BEFORE_SYNC),
            replayed.replayCommand());
    }
}
