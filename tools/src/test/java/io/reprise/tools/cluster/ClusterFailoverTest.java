package io.reprise.tools.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.reprise.engine.node.NodeContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A three-member cluster as users run it: each member its own JVM ({@code reprise node}), on loopback, under the load
 * of a controller and a worker in this JVM that follow the leader ({@link ClusterLoad}). Members are SIGKILLed (the
 * leader and followers, each restarted; one back shortly after its kill, by the log alone), and the leader is cut
 * off from the others for several election timeouts. Each case ends the same way ({@link KillCampaign#settleAndCheck}):
 * nothing acknowledged is lost, every member reaches the same digest at the same index, and no attempt of a session
 * was dispatched twice. The kills, and the members chosen, come from {@code -Dreprise.cluster.process.seed}.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterFailoverTest
{
    private static final String SEED_PROP_NAME = "reprise.cluster.process.seed";
    private static final String KILLS_PROP_NAME = "reprise.cluster.kills";
    private static final long LEADER_WAIT_MS = 30_000;
    private static final long CATCH_UP_WAIT_MS = 60_000;
    private static final int RATE = 200;

    /** Kept when a test fails: the members' logs and data say what happened. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private long seed;
    private Random random;
    private LocalCluster cluster;
    private ClusterLoad load;

    @BeforeEach
    void setUp()
    {
        seed = Long.getLong(SEED_PROP_NAME, System.nanoTime());
        System.out.println("ClusterFailoverTest seed=" + seed + " (-D" + SEED_PROP_NAME + "=" + seed + "), in " + dir);
        random = new Random(seed);
    }

    @AfterEach
    void tearDown()
    {
        if (null != load)
        {
            load.close();
        }
        if (null != cluster)
        {
            cluster.close();
        }
    }

    /**
     * SIGKILLs of the leader and of followers under load, each member restarted and caught up before the next:
     * {@code -Dreprise.cluster.kills} of them (4 in CI, the leader and a follower in turn; from 10 on, random members,
     * the leader in about half: the kill campaign of {@code -Plong}).
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.MINUTES) // the campaign of -Plong: 100 kills, each restart replaying more
    void shouldLoseNothingAcknowledgedWhenLeadersAndFollowersAreKilledUnderLoad() throws Exception
    {
        final int kills = Integer.getInteger(KILLS_PROP_NAME, 4);
        cluster = new LocalCluster(ClusterLayout.of(dir, 3, freeBasePort()), LocalCluster.launcherOfThisJvm());
        final KillCampaign.Result result = KillCampaign.run(cluster, kills,
            kills < 10 ? KillCampaign.Targets.ALTERNATE : KillCampaign.Targets.RANDOM, RATE, seed, System.out);

        System.out.println("ClusterFailoverTest: " + kills + " kills, " + result.failoverText() + "; " +
            result.load());
        assertEquals(List.of(), result.problems(), "(seed " + seed + ")");
        assertTrue(result.leaderKills() > 0 && result.leaderKills() < kills, "(seed " + seed + ") leaders killed: " +
            result.leaderKills() + " of " + kills);
        assertEquals(0, result.lost());
        assertEquals(0, result.duplicateAttempts());
    }

    /**
     * A follower down for a second comes back by the log alone: no install, and it applies everything the cluster
     * had committed. Small segments and one snapshot kept, with snapshots taken meanwhile, so that the leader's log
     * rotates under it as a running cluster's does.
     */
    @Test
    void shouldBringBackAFollowerDownBrieflyByTheLogAlone() throws Exception
    {
        final int leader = startWithSmallSegmentsUnderLoad(512);
        awaitAcked(2_000);
        cluster.snapshot(LEADER_WAIT_MS);

        final int brief = follower(leader);
        final long briefLines = cluster.logLines(brief);
        cluster.kill(brief);
        LockSupport.parkNanos(1_000_000_000L);
        cluster.start(brief);
        awaitCaughtUp(brief);
        assertFalse(cluster.logSince(brief, briefLines).contains("installed the snapshot"),
            "(seed " + seed + ") member " + brief + " back by the log alone:\n" + cluster.logSince(brief, briefLines));

        finishAndCheck();
    }

    /**
     * A follower down while the leader takes two snapshots and rotates its log past the follower's last entry comes
     * back by a full install: the newest snapshot, its sources, then the log after it. Small segments and one
     * snapshot kept, so that the rotation comes soon.
     */
    @Test
    void shouldBringBackAFollowerByAFullInstallWhenTheLeaderRotatedItsLogPastIt() throws Exception
    {
        final int leader = startWithSmallSegmentsUnderLoad(2048);
        awaitAcked(500);

        final int behind = follower(leader);
        final long behindLines = cluster.logLines(behind);
        final long killedAt = cluster.status(leader).commitIndex();
        cluster.kill(behind);
        // More than two segments of log, and two snapshots: the second rotates away what the follower lacks.
        awaitAcked(load.acked() + 5_000);
        cluster.snapshot(LEADER_WAIT_MS);
        awaitAcked(load.acked() + 1_000);
        cluster.snapshot(LEADER_WAIT_MS);
        cluster.start(behind);
        awaitCaughtUp(behind);
        final String log = cluster.logSince(behind, behindLines);
        assertTrue(log.contains("installed the snapshot"), "(seed " + seed + ") member " + behind + ", down from " +
            "index " + killedAt + ", back by a full install:\n" + log);

        finishAndCheck();
    }

    /**
     * The leader cut off from the others (its link drops everything, as a partition would) for several election
     * timeouts: the two others elect a leader and go on; healed, the old leader follows it and catches up.
     */
    @Test
    void shouldGoOnWithoutAMemberCutOffAndTakeItBackWhenHealed() throws Exception
    {
        final ClusterLayout layout = ClusterLayout.of(dir, 3, freeBasePort());
        cluster = new LocalCluster(layout, LocalCluster.launcherOfThisJvm());
        cluster.startAll();
        final int cutOff = cluster.awaitLeader(LEADER_WAIT_MS);
        load = new ClusterLoad(KillCampaign.endpoints(layout), "reprise-dev-token", RATE, 100_000, idBase(), 64)
            .start();
        awaitAcked(200);

        cluster.cutOff(cutOff, true);
        final long cutNs = System.nanoTime();
        int leader;
        while ((leader = LocalCluster.leader(cluster.statuses())) < 0 || leader == cutOff)
        {
            assertTrue(System.nanoTime() - cutNs < LEADER_WAIT_MS * 1_000_000L, "(seed " + seed + ") no other " +
                "leader after member " + cutOff + " was cut off:\n" + cluster.statuses());
            LockSupport.parkNanos(20_000_000L);
        }
        final long acked = load.acked();
        awaitAcked(acked + RATE);
        // Several election timeouts cut off, then healed.
        LockSupport.parkNanos(2_000_000_000L + random.nextInt(1_000) * 1_000_000L);
        cluster.cutOff(cutOff, false);
        awaitCaughtUp(cutOff);

        finishAndCheck();
    }

    /**
     * Starts a cluster whose logs rotate soon (small segments, one snapshot kept) under 1,000 saves/s of
     * {@code payloadBytes} each; returns its leader.
     */
    private int startWithSmallSegmentsUnderLoad(final int payloadBytes) throws Exception
    {
        final ClusterLayout layout = ClusterLayout.of(dir, 3, freeBasePort()).withSettings(Map.of(
            NodeContext.SEGMENT_LENGTH_PROP_NAME, Long.toString(2_200_000),
            NodeContext.SNAPSHOTS_RETAINED_PROP_NAME, "1"));
        cluster = new LocalCluster(layout, LocalCluster.launcherOfThisJvm());
        cluster.startAll();
        final int leader = cluster.awaitLeader(LEADER_WAIT_MS);
        load = new ClusterLoad(KillCampaign.endpoints(layout), "reprise-dev-token", 1_000, 200_000, idBase(),
            payloadBytes).start();
        return leader;
    }

    private void finishAndCheck() throws Exception
    {
        load.stopSaving();
        final long deadlineNs = System.nanoTime() + CATCH_UP_WAIT_MS * 1_000_000L;
        while (!load.allAcknowledged())
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "(seed " + seed + ") saves unanswered: " + load.describe());
            LockSupport.parkNanos(20_000_000L);
        }
        load.close();
        final List<String> problems = new ArrayList<>();
        final long lost = KillCampaign.settleAndCheck(cluster, load.acknowledgedSessions(), problems, System.out);
        System.out.println("ClusterFailoverTest: " + load.describe());
        assertEquals(List.of(), problems, "(seed " + seed + ")");
        assertEquals(0, lost);
        assertEquals(0, load.refused(), load.lastRefusal());
        assertEquals(0, load.duplicateAttempts(), "(seed " + seed + ") attempts dispatched twice");
    }

    private int follower(final int leader)
    {
        final int pick = random.nextInt(2);
        return pick < leader ? pick : pick + 1;
    }

    private long idBase()
    {
        return (random.nextLong() & ((1L << 40) - 1)) << 22;
    }

    /** A base port clear of other runs of this test on the machine: a random one, checked by the layout. */
    private int freeBasePort()
    {
        return 21_000 + random.nextInt(200) * 20;
    }

    private void awaitAcked(final long count)
    {
        final long deadlineNs = System.nanoTime() + CATCH_UP_WAIT_MS * 1_000_000L;
        while (load.acked() < count)
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "(seed " + seed + ") " + count + " saves not " +
                "acknowledged in time: " + load.describe() + "\n" + cluster.statuses());
            LockSupport.parkNanos(10_000_000L);
        }
    }

    private void awaitCaughtUp(final int member)
    {
        if (KillCampaign.awaitCaughtUp(cluster, member) >= 0)
        {
            return;
        }
        // Where each member stands and what its threads are doing, for the report: a stall is rare and costly to
        // reproduce.
        final StringBuilder report = new StringBuilder();
        for (int m = 0; m < 3; m++)
        {
            report.append("\nmember ").append(m).append("'s log, last lines:\n").append(cluster.logTail(m));
            System.out.println("ClusterFailoverTest: member " + m + "'s threads:\n" + cluster.threadDump(m));
        }
        fail("(seed " + seed + ") member " + member + " did not catch up (thread dumps on stdout):\n" +
            cluster.statuses() + report);
    }
}
