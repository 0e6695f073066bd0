package io.reprise.sim;

import java.util.EnumSet;

import io.reprise.engine.node.PlantedBug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which way a member catches up (docs/cluster.md#catching-up): briefly cut off, by the log alone; behind every other
 * member's log, or wiped, by one full install, acknowledging nothing meanwhile. Each scenario runs a 3-member
 * cluster with its users and no faults but the scenario's, from {@code -Dreprise.sim.first.seed} (1).
 */
class CatchUpPathsTest
{
    private static final long MINUTE_NS = 60_000_000_000L;
    private static final int MAX_CUT_OFF_ROUNDS = 5;
    /** ClusterMember's wait before it sends a finished install again to a follower that still lacks the log. */
    private static final long RESEND_FINISHED_INSTALL_AFTER_NS = 10_000_000_000L;

    private static ClusterSimulation started(final long seed) throws Exception
    {
        System.out.println("CatchUpPathsTest: seed " + seed + " (-Dreprise.sim.first.seed)");
        final ClusterSimulation cluster =
            new ClusterSimulation(seed, 0, 3, EnumSet.noneOf(Simulation.Fault.class), PlantedBug.NONE);
        cluster.startAll();
        cluster.runSteps(3_000);
        assertTrue(cluster.leader() >= 0, "a leader serves");
        return cluster;
    }

    private static int aFollower(final ClusterSimulation cluster)
    {
        return (cluster.leader() + 1) % 3;
    }

    private static void assertSameStateEverywhere(final ClusterSimulation cluster) throws Exception
    {
        // The users go on meanwhile: live entries arrive while a member catches up.
        cluster.runSteps(3_000);
        assertTrue(cluster.runUntilCaughtUp(MINUTE_NS), "every member caught up: " + cluster.violation());
        assertNull(cluster.violation());
        for (int m = 1; m < 3; m++)
        {
            if (cluster.appliedIndex(m) == cluster.appliedIndex(0))
            {
                assertEquals(cluster.digest(0), cluster.digest(m), "member " + m + "'s digest");
            }
        }
    }

    @Test
    void aMemberCutOffBrieflyCatchesUpByTheLogAlone() throws Exception
    {
        final ClusterSimulation cluster = started(SimulationSeedsTest.firstSeed());
        final int member = aFollower(cluster);
        // Live entries reach it while it catches up only if the users propose some in that short while: cut off again
        // until a catch-up has held some ahead (each round asserts the log-only path all the same).
        boolean switched = false;
        for (int round = 1; round <= MAX_CUT_OFF_ROUNDS && !switched; round++)
        {
            cluster.isolate(member);
            // Long enough to miss many duty cycles' worth of catch-up (2 messages each); the leader holds it all.
            cluster.runSteps(20_000);
            final long behindAt = cluster.lastIndex(member);
            final CatchUp catchUp = CatchUp.begins(cluster, member);
            cluster.heal();
            switched = catchUp.runToTheEnd(cluster, member, round);
            assertEquals(0, cluster.installsTaken(member), "log-only path");
            assertTrue(cluster.lastIndex(member) > behindAt, "it took the entries it missed");
        }
        assertTrue(switched, "no catch-up in " + MAX_CUT_OFF_ROUNDS + " rounds held live entries ahead of its log");
        assertSameStateEverywhere(cluster);
        assertEquals(0, cluster.installsTaken(member), "log-only path");
    }

    /** A catch-up as it begins: what the member counted so far, and the leader's last index. */
    private record CatchUp(long heldAhead, long switches, long leaderLast)
    {
        static CatchUp begins(final ClusterSimulation cluster, final int member)
        {
            return new CatchUp(cluster.entriesHeldAhead(member), cluster.switches(member),
                cluster.lastIndex(cluster.leader()));
        }

        /**
         * Runs the cluster, its users going on, to the end of the member's catch-up: its first switch to the entries
         * it held ahead (which it never acknowledged before: an invariant of every run), or, if no live entry came
         * while it caught up, its log reaching where the leader's was when it began. One switch ends a catch-up: the
         * member then holds everything the leader held when it began.
         *
         * @return whether it held live entries ahead and switched to them.
         */
        boolean runToTheEnd(final ClusterSimulation cluster, final int member, final int round) throws Exception
        {
            for (int step = 0; step < 100_000 && cluster.switches(member) == switches &&
                (cluster.entriesHeldAhead(member) > heldAhead || cluster.lastIndex(member) < leaderLast); step++)
            {
                cluster.runSteps(1);
            }
            System.out.println("CatchUpPathsTest: round " + round + ": member " + member + " held " +
                (cluster.entriesHeldAhead(member) - heldAhead) + " entries ahead, switched " +
                (cluster.switches(member) - switches) + " time(s), its log at " + cluster.lastIndex(member) +
                " (the leader was at " + leaderLast + " when it began)");
            assertNull(cluster.violation());
            assertTrue(cluster.lastIndex(member) >= leaderLast, "it holds all it lacked");
            if (cluster.entriesHeldAhead(member) == heldAhead)
            {
                assertEquals(switches, cluster.switches(member), "no switch without entries held ahead");
                return false;
            }
            assertEquals(switches + 1, cluster.switches(member), "one switch, once it held all it lacked");
            return true;
        }

        /**
         * Runs the cluster, its users going on, until the member has restarted on an install and its log reaches
         * where the leader's was when the catch-up began: the log after the snapshot comes by replication.
         */
        void runThroughTheInstall(final ClusterSimulation cluster, final int member) throws Exception
        {
            for (int step = 0; step < 100_000 &&
                (cluster.installsTaken(member) == 0 || cluster.lastIndex(member) < leaderLast); step++)
            {
                cluster.runSteps(1);
            }
            System.out.println("CatchUpPathsTest: member " + member + " took " + cluster.installsTaken(member) +
                " install(s), its log at " + cluster.lastIndex(member) + " based on " + cluster.baseIndex(member) +
                " (the leader was at " + leaderLast + " when it began)");
            assertNull(cluster.violation());
            assertEquals(1, cluster.installsTaken(member), "full path: the install, then the log after it");
            assertTrue(cluster.lastIndex(member) >= leaderLast, "it holds all it lacked");
        }
    }

    @Test
    void aMemberBehindEveryOtherMembersLogTakesOneFullInstall() throws Exception
    {
        final ClusterSimulation cluster = started(SimulationSeedsTest.firstSeed() + 1);
        final int member = aFollower(cluster);
        cluster.isolate(member);
        final long lastHeld = cluster.lastIndex(member);
        // The others take snapshots past what it holds and restart: their logs start after it.
        for (int round = 0; round < 20 && !othersStartAfter(cluster, member, lastHeld); round++)
        {
            cluster.runSteps(2_000);
            for (int other = 0; other < 3; other++)
            {
                if (other != member && cluster.baseIndex(other) <= lastHeld)
                {
                    cluster.restart(other);
                    cluster.runSteps(500);
                }
            }
        }
        assertTrue(othersStartAfter(cluster, member, lastHeld), "every other member's log starts after " + lastHeld);
        final CatchUp catchUp = CatchUp.begins(cluster, member);
        cluster.heal();
        catchUp.runThroughTheInstall(cluster, member);
        assertSameStateEverywhere(cluster);
        assertEquals(1, cluster.installsTaken(member), "full path");
        assertEquals(0, cluster.acknowledgedWhileInstalling(member), "nothing acknowledged while installing");
        assertTrue(cluster.baseIndex(member) > lastHeld, "it restarted on the installed snapshot");
    }

    /**
     * A leader that rotated its log while it ran (its snapshots past what the member holds, no restart): the member
     * takes one full install, and the leader's heartbeats meanwhile do not stop it.
     */
    @Test
    void aMemberBehindARunningLeadersRotatedLogTakesOneFullInstall() throws Exception
    {
        final ClusterSimulation cluster = started(SimulationSeedsTest.firstSeed() + 3);
        final int member = aFollower(cluster);
        cluster.isolate(member);
        final long lastHeld = cluster.lastIndex(member);
        for (int round = 0; round < 2_000 && leaderHolds(cluster, lastHeld + 1); round++)
        {
            cluster.runSteps(2_000);
        }
        final int leader = cluster.leader();
        assertFalse(leaderHolds(cluster, lastHeld + 1), "the leader's log rotated past " + lastHeld + " (it is at " +
            cluster.lastIndex(leader) + ")");
        assertTrue(cluster.baseIndex(leader) <= lastHeld, "the leader's log opened before " + lastHeld +
            ": it rotated while the leader ran (base " + cluster.baseIndex(leader) + ")");
        final CatchUp catchUp = CatchUp.begins(cluster, member);
        cluster.heal();
        catchUp.runThroughTheInstall(cluster, member);
        assertSameStateEverywhere(cluster);
        assertEquals(0, cluster.acknowledgedWhileInstalling(member), "nothing acknowledged while installing");
    }

    /**
     * A member that restarted on its install and was then not heard from for longer than the leader waits before it
     * sends a finished install again (a slow restart): the log after the snapshot brings it back, with no second
     * install. Where the leader had not heard it since the install, it sends the same snapshot again (snapshots only
     * on request here, so none newer), and the member, which holds it, takes none of it (at the default seed).
     */
    @Test
    void aMemberSilentLongAfterItsInstallIsBroughtBackByTheLogWithoutAnotherInstall() throws Exception
    {
        final long seed = SimulationSeedsTest.firstSeed() + 4;
        System.out.println("CatchUpPathsTest: seed " + seed + " (-Dreprise.sim.first.seed)");
        final ClusterSimulation cluster =
            new ClusterSimulation(seed, 0, 3, EnumSet.noneOf(Simulation.Fault.class), PlantedBug.NONE);
        cluster.snapshotEvery(Long.MAX_VALUE);
        cluster.startAll();
        cluster.runSteps(3_000);
        final int member = aFollower(cluster);
        cluster.isolate(member);
        final long lastHeld = cluster.lastIndex(member);
        for (int round = 0; round < 2_000 && leaderHolds(cluster, lastHeld + 1); round++)
        {
            cluster.runSteps(2_000);
            cluster.snapshot(cluster.leader());
        }
        assertFalse(leaderHolds(cluster, lastHeld + 1), "the leader's log rotated past " + lastHeld);
        final CatchUp catchUp = CatchUp.begins(cluster, member);
        cluster.heal();
        for (int step = 0; step < 100_000 && cluster.installsTaken(member) == 0; step++)
        {
            cluster.runSteps(1);
        }
        assertEquals(1, cluster.installsTaken(member), "it restarted on the install");
        final int leader = cluster.leader();
        final long sent = cluster.installsSent(leader);
        cluster.isolate(member);
        cluster.runFor(RESEND_FINISHED_INSTALL_AFTER_NS + 2_000_000_000L);
        System.out.println("CatchUpPathsTest: the leader sent the install " + (cluster.installsSent(leader) - sent) +
            " time(s) more while the member was silent");
        cluster.heal();
        catchUp.runThroughTheInstall(cluster, member);
        assertSameStateEverywhere(cluster);
        assertEquals(1, cluster.installsTaken(member), "one install; one sent again is not taken");
    }

    @Test
    void aWipedMemberComesBackByAFullInstall() throws Exception
    {
        final ClusterSimulation cluster = started(SimulationSeedsTest.firstSeed() + 2);
        final int member = aFollower(cluster);
        // The others restart on the snapshots they have and take no more: the log after the one installed grows
        // long enough to take several messages, and live entries arrive while it is sent.
        cluster.snapshotEvery(1_000_000_000);
        for (int other = 0; other < 3; other++)
        {
            if (other != member)
            {
                cluster.runSteps(2_000);
                cluster.restart(other);
            }
        }
        cluster.runSteps(2_000);
        assertTrue(cluster.baseIndex((member + 1) % 3) > 0 && cluster.baseIndex((member + 2) % 3) > 0,
            "the others' logs start after a snapshot");
        final CatchUp catchUp = CatchUp.begins(cluster, member);
        cluster.wipe(member);
        assertEquals(0, cluster.lastIndex(member), "wiped");
        catchUp.runThroughTheInstall(cluster, member);
        assertSameStateEverywhere(cluster);
        assertEquals(1, cluster.installsTaken(member), "full path");
        assertEquals(0, cluster.acknowledgedWhileInstalling(member), "nothing acknowledged while installing");
    }

    /** Whether there is a leader and it can still send the entry at {@code index}. */
    private static boolean leaderHolds(final ClusterSimulation cluster, final long index)
    {
        return cluster.leader() < 0 || cluster.holds(cluster.leader(), index);
    }

    private static boolean othersStartAfter(final ClusterSimulation cluster, final int member, final long index)
    {
        for (int other = 0; other < 3; other++)
        {
            if (other != member && cluster.baseIndex(other) <= index)
            {
                return false;
            }
        }
        return true;
    }
}
