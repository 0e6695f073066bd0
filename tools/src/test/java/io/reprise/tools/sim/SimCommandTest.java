package io.reprise.tools.sim;

import io.reprise.tools.NodeFixture;
import org.junit.jupiter.api.Test;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code reprise sim} as a user runs it: its last line, its seed, its failures and its replay line. */
class SimCommandTest
{
    private static final String OK_LINE = "sim: seed=%d nodes=1 steps=%d ops=\\d+ acked=\\d+ crashes=\\d+ faults=\\d+ " +
        "digest=0x[0-9a-f]{16} ok";

    @Test
    void aSeedGivesItsRunAndTheSameLastLineTwice()
    {
        final NodeFixture.Run first = reprise("sim", "--seed", "9", "--steps", "20000");
        final NodeFixture.Run second = reprise("sim", "--seed", "9", "--steps", "20000");
        assertEquals(0, first.exit(), first.toString());
        assertTrue(first.lastLine().matches(String.format(OK_LINE, 9, 20000)), first.lastLine());
        assertEquals(first.lastLine(), second.lastLine());
    }

    @Test
    void withoutASeedItPicksOneAndPrintsItFirst()
    {
        final NodeFixture.Run run = reprise("sim", "--steps", "2000", "--faults", "none");
        assertEquals(0, run.exit(), run.toString());
        final String first = run.out().lines().findFirst().orElseThrow();
        assertTrue(first.matches("sim: seed=\\d+"), first);
        final long seed = Long.parseLong(first.substring("sim: seed=".length()));
        assertTrue(run.lastLine().matches(String.format(OK_LINE, seed, 2000)), run.lastLine());
    }

    @Test
    void aPlantedBugFailsWithTheCommandThatReplaysIt()
    {
        // ack-before-sync loses answered operators at the first crash; seeds 1 and 2 both meet one early.
        final NodeFixture.Run run = reprise("sim", "--seed", "1", "--seeds", "5", "--plant", "ack-before-sync");
        assertEquals(1, run.exit(), run.toString());
        final String[] lines = run.out().strip().split("\\R");
        assertTrue(lines[lines.length - 1].contains(" FAILED answered-survives-crash: "), run.toString());
        assertTrue(lines[lines.length - 2].matches("replay: \\./reprise sim --seed \\d+ --steps 100000 --faults all " +
            "--plant ack-before-sync"), run.toString());
    }

    @Test
    void anUnknownFaultOrBugIsAUsageError()
    {
        final NodeFixture.Run fault = reprise("sim", "--faults", "crash,meteor");
        assertEquals(2, fault.exit(), fault.toString());
        assertTrue(fault.err().contains("unknown fault: meteor"), fault.err());
        final NodeFixture.Run bug = reprise("sim", "--plant", "typo");
        assertEquals(2, bug.exit(), bug.toString());
        assertTrue(bug.err().contains("unknown planted bug: typo"), bug.err());
    }

    @Test
    void aClusterOfThreeRunsFromItsSeedAndReplaysTheSame()
    {
        final NodeFixture.Run first = reprise("sim", "--nodes", "3", "--seed", "5", "--steps", "3000");
        final NodeFixture.Run second = reprise("sim", "--nodes", "3", "--seed", "5", "--steps", "3000");
        assertEquals(0, first.exit(), first.toString());
        assertTrue(first.lastLine().matches("sim: seed=5 nodes=3 steps=3000 ops=\\d+ acked=\\d+ crashes=\\d+ " +
            "faults=\\d+ elections=[1-9]\\d* installs=\\d+ digest=0x[0-9a-f]{16} ok"), first.lastLine());
        assertEquals(first.lastLine(), second.lastLine());
    }

    @Test
    void aClusterOfTwoIsAUsageError()
    {
        final NodeFixture.Run run = reprise("sim", "--nodes", "2");
        assertEquals(2, run.exit(), run.toString());
        assertTrue(run.err().contains("--nodes must be 1, 3 or 5: 2"), run.err());
    }
}
