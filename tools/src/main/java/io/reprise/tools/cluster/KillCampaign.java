package io.reprise.tools.cluster;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;

/**
 * SIGKILLs random members of a running local cluster under load, one at a time, restarting each and waiting for it
 * to catch up before the next kill; then stops the load and the cluster and checks what users are promised:
 * nothing acknowledged is lost, every member ends with the same digest at the same index, and no attempt of a
 * session was dispatched twice. It times each failover: from the leader's SIGKILL to the first save acknowledged
 * after it, as the load's controller sees it.
 */
public final class KillCampaign
{
    private static final long LEADER_WAIT_MS = 30_000;
    private static final long FAILOVER_WAIT_MS = 30_000;
    private static final long CATCH_UP_WAIT_MS = 60_000;
    private static final long SETTLE_WAIT_MS = 60_000;
    private static final long POLL_NS = 20_000_000L;

    /** Which member each kill hits. */
    public enum Targets
    {
        /** The leader, then a follower, in turn. */
        ALTERNATE,
        /** The leader or a follower at random, the leader in half the kills. */
        RANDOM
    }

    /**
     * What a campaign found.
     *
     * @param failoverMs each failover after a leader's kill, in ms.
     * @param lost acknowledged sessions that some member's final state does not hold.
     * @param problems what did not hold, one line each; empty when everything did.
     */
    public record Result(int kills, int leaderKills, List<Long> failoverMs, long lost, long duplicateAttempts,
        List<String> problems, String load)
    {
        public boolean passed()
        {
            return problems.isEmpty();
        }

        /** The failover times as p50, p99 and max in ms, from an HdrHistogram of them. */
        public String failoverText()
        {
            if (failoverMs.isEmpty())
            {
                return "no leader killed";
            }
            final Histogram histogram = new Histogram(3);
            failoverMs.forEach(histogram::recordValue);
            return "failover over " + failoverMs.size() + " leader kills: p50 " +
                histogram.getValueAtPercentile(50) + " ms, p99 " + histogram.getValueAtPercentile(99) + " ms, max " +
                histogram.getMaxValue() + " ms";
        }
    }

    private KillCampaign()
    {
    }

    /**
     * Runs {@code kills} kills on {@code cluster}, started here and stopped at the end, under a load of
     * {@code rate} saves/s.
     *
     * @param targets whether the leader and a follower are hit in turn, or at random; a follower hit is chosen at
     *                random.
     */
    public static Result run(
        final LocalCluster cluster, final int kills, final Targets targets, final int rate, final long seed,
        final PrintStream out) throws IOException, ClusterException
    {
        final Random random = new Random(seed);
        final ClusterLayout layout = cluster.layout();
        final List<String> problems = new ArrayList<>();
        final List<Long> failovers = new ArrayList<>();
        int leaderKills = 0;
        cluster.startAll();
        cluster.awaitLeader(LEADER_WAIT_MS);
        // Room for about 30 s of load per kill: a restart replays more of the journal each time.
        final int maxSessions = Math.max(10_000, rate * (kills + 10) * 30);
        final ClusterLoad load = new ClusterLoad(endpoints(layout), "reprise-dev-token", rate, maxSessions,
            (random.nextLong() & ((1L << 40) - 1)) << 22, 64).start();
        try
        {
            awaitAcked(load, Math.min(rate, 100), FAILOVER_WAIT_MS);
            for (int k = 0; k < kills && problems.isEmpty(); k++)
            {
                final int leader = cluster.awaitLeader(LEADER_WAIT_MS);
                final boolean atLeader = targets == Targets.ALTERNATE ? k % 2 == 0 : random.nextBoolean();
                final int victim = atLeader ? leader : follower(layout.members(), leader, random);
                final long killNs = System.nanoTime();
                final Instant killedAt = Instant.now();
                cluster.kill(victim);
                // Only a save sent once the member is dead, which only a new leader can commit, times a failover.
                load.watchFailover();
                String failover = "";
                if (victim == leader)
                {
                    leaderKills++;
                    final long[] electedNs = {0};
                    final long ackNs = awaitAckAfter(load, killNs, () ->
                    {
                        if (0 == electedNs[0])
                        {
                            final int newLeader = LocalCluster.leader(cluster.statuses());
                            electedNs[0] = newLeader >= 0 && newLeader != victim ? System.nanoTime() : 0;
                        }
                    });
                    if (ackNs < 0)
                    {
                        problems.add("kill " + (k + 1) + " of leader " + victim + ": no save acknowledged within " +
                            FAILOVER_WAIT_MS + " ms after it; " + load.describe());
                        break;
                    }
                    failovers.add((ackNs - killNs) / 1_000_000);
                    failover = ", first save acknowledged after " + (ackNs - killNs) / 1_000_000 + " ms (the " +
                        "client lost its member after " + sinceMs(load.connectionLostAfterWatch(), killNs) +
                        " ms; a new leader seen after " + sinceMs(electedNs[0], killNs) + " ms; the client " +
                        "connected again after " + sinceMs(load.reconnectedAfterWatch(), killNs) + " ms)";
                }
                // Down a while: the others go on without it, and its log falls behind theirs.
                LockSupport.parkNanos((200 + random.nextInt(800)) * 1_000_000L);
                cluster.start(victim);
                final long caughtUpMs = awaitCaughtUp(cluster, victim);
                if (caughtUpMs < 0)
                {
                    problems.add("kill " + (k + 1) + ": member " + victim + " did not catch up within " +
                        CATCH_UP_WAIT_MS + " ms of its restart:\n" + lines(cluster));
                    break;
                }
                out.println("campaign: kill " + (k + 1) + "/" + kills + ": member " + victim +
                    (victim == leader ? " (the leader)" : "") + " at " + killedAt + failover + "; restarted, caught up in " +
                    caughtUpMs +
                    " ms; " + load.describe());
            }
            load.stopSaving();
            if (!awaitAllAcknowledged(load))
            {
                problems.add("saves still unanswered " + SETTLE_WAIT_MS + " ms after the load stopped: " +
                    load.describe());
            }
        }
        finally
        {
            load.close();
        }
        if (load.refused() > 0)
        {
            problems.add(load.refused() + " saves refused, the last: " + load.lastRefusal());
        }
        if (load.duplicateAttempts() > 0)
        {
            problems.add(load.duplicateAttempts() + " attempts dispatched twice");
        }
        final long lost = settleAndCheck(cluster, load.acknowledgedSessions(), problems, out);
        return new Result(kills, leaderKills, failovers, lost, load.duplicateAttempts(), problems, load.describe());
    }

    /** Every member's client ingress, as clients are given them. */
    public static String endpoints(final ClusterLayout layout)
    {
        final StringBuilder endpoints = new StringBuilder();
        for (int m = 0; m < layout.members(); m++)
        {
            endpoints.append(m == 0 ? "" : ",").append(layout.ingressEndpoint(m));
        }
        return endpoints.toString();
    }

    /**
     * Stops the cluster and rebuilds each member's state ({@link #stopAndRebuild}): no acknowledged session may be
     * missing from it.
     *
     * @return acknowledged sessions missing from that state.
     */
    public static long settleAndCheck(
        final LocalCluster cluster, final long[] acknowledged, final List<String> problems, final PrintStream out)
        throws IOException
    {
        final MemberState state = stopAndRebuild(cluster, problems, out);
        final long lost = state.missing(ClusterLoad.TENANT, acknowledged);
        out.println("campaign: " + (acknowledged.length - lost) + " of " + acknowledged.length +
            " acknowledged sessions in the state at index " + state.index());
        if (lost > 0)
        {
            problems.add(lost + " of " + acknowledged.length + " acknowledged sessions are not in the state at index " +
                state.index());
        }
        return lost;
    }

    /**
     * Waits until every member has applied what the leader had committed, stops the cluster cleanly, and rebuilds
     * every member's state from its data directory (as {@code reprise log replay} does) at the index all of them
     * reach: their digests must be equal there, and every journal must read to its end. Whatever does not hold is
     * added to {@code problems}.
     *
     * @return member 0's state at that index.
     */
    public static MemberState stopAndRebuild(
        final LocalCluster cluster, final List<String> problems, final PrintStream out) throws IOException
    {
        if (!awaitAllApplied(cluster))
        {
            problems.add("members did not all apply what the leader had committed within " + SETTLE_WAIT_MS +
                " ms:\n" + lines(cluster));
        }
        for (final LocalCluster.MemberStop stop : cluster.stopAll(LocalCluster.STOP_TIMEOUT_MS_DEFAULT))
        {
            if (!stop.clean())
            {
                problems.add("member " + stop.member() + " did not stop cleanly: " + stop.detail());
            }
        }
        final ClusterLayout layout = cluster.layout();
        long common = Long.MAX_VALUE;
        for (int m = 0; m < layout.members(); m++)
        {
            final MemberState end = MemberState.of(layout.dataDir(m), Long.MAX_VALUE);
            out.println("  member " + m + " ends at " + end.describe());
            if (!end.readWhole())
            {
                problems.add("member " + m + "'s journal does not read to its end: " + end.describe());
            }
            common = Math.min(common, end.index());
        }
        MemberState first = null;
        for (int m = 0; m < layout.members(); m++)
        {
            final MemberState state = MemberState.of(layout.dataDir(m), common);
            if (null == first)
            {
                first = state;
            }
            else if (state.index() != first.index() || state.digest() != first.digest())
            {
                problems.add("at index " + common + " member " + m + " has " + state.describe() + ", member 0 " +
                    first.describe());
            }
        }
        out.println("  members stopped; each rebuilt from its data directory to index " + common + ", the index all " +
            "of them reach: " + (problems.isEmpty() ? "equal state digests " + Long.toHexString(first.digest()) :
            "PROBLEMS: " + problems));
        return first;
    }

    private static int follower(final int members, final int leader, final Random random)
    {
        final int pick = random.nextInt(members - 1);
        return pick < leader ? pick : pick + 1;
    }

    private static void awaitAcked(final ClusterLoad load, final long count, final long timeoutMs)
        throws ClusterException
    {
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (load.acked() < count)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new ClusterException("the load got " + load.acked() + " saves acknowledged, not " + count +
                    ", within " + timeoutMs + " ms: " + load.describe());
            }
            LockSupport.parkNanos(POLL_NS);
        }
    }

    /** @return the first acknowledgement of a save sent after {@code killNs}, or -1 when none came in time. */
    /** Waits for the first save acknowledged after the kill, running {@code meanwhile} every few ms. */
    private static long awaitAckAfter(final ClusterLoad load, final long killNs, final Runnable meanwhile)
    {
        final long deadlineNs = killNs + FAILOVER_WAIT_MS * 1_000_000L;
        long ackNs;
        while ((ackNs = load.firstAckAfterWatch()) == 0 && System.nanoTime() - deadlineNs < 0)
        {
            meanwhile.run();
            LockSupport.parkNanos(1_000_000L);
        }
        return ackNs == 0 ? -1 : ackNs;
    }

    /** Milliseconds from {@code startNs} to {@code atNs}, or "-" when it did not happen (0). */
    private static String sinceMs(final long atNs, final long startNs)
    {
        return 0 == atNs ? "-" : Long.toString((atNs - startNs) / 1_000_000);
    }

    /**
     * Waits until {@code member} follows a leader and has applied everything the cluster had committed when the wait
     * began, with no catch-up in progress.
     *
     * @return how long it took, in ms; -1 when it did not in time.
     */
    public static long awaitCaughtUp(final LocalCluster cluster, final int member)
    {
        final long startNs = System.nanoTime();
        long target = -1;
        while (System.nanoTime() - startNs < CATCH_UP_WAIT_MS * 1_000_000L)
        {
            final List<MemberStatus> statuses = cluster.statuses();
            final int leader = LocalCluster.leader(statuses);
            if (target < 0 && leader >= 0)
            {
                target = statuses.get(leader).commitIndex();
            }
            final MemberStatus status = statuses.get(member);
            if (target >= 0 && leader != member && status.running() && status.leader() >= 0 &&
                status.leader() != member && !status.catchUp() && status.appliedIndex() >= target)
            {
                return (System.nanoTime() - startNs) / 1_000_000;
            }
            LockSupport.parkNanos(POLL_NS);
        }
        return -1;
    }

    private static boolean awaitAllAcknowledged(final ClusterLoad load)
    {
        final long deadlineNs = System.nanoTime() + SETTLE_WAIT_MS * 1_000_000L;
        while (!load.allAcknowledged())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                return false;
            }
            LockSupport.parkNanos(POLL_NS);
        }
        return true;
    }

    /** Waits until every member runs and has applied what the leader had committed when the wait began. */
    private static boolean awaitAllApplied(final LocalCluster cluster)
    {
        final long deadlineNs = System.nanoTime() + SETTLE_WAIT_MS * 1_000_000L;
        long target = -1;
        while (System.nanoTime() - deadlineNs < 0)
        {
            final List<MemberStatus> statuses = cluster.statuses();
            final int leader = LocalCluster.leader(statuses);
            if (target < 0 && leader >= 0)
            {
                target = statuses.get(leader).commitIndex();
            }
            boolean applied = target >= 0;
            for (final MemberStatus status : statuses)
            {
                applied &= status.running() && status.appliedIndex() >= target;
            }
            if (applied)
            {
                return true;
            }
            LockSupport.parkNanos(POLL_NS);
        }
        return false;
    }

    private static String lines(final LocalCluster cluster)
    {
        final StringBuilder lines = new StringBuilder();
        for (final MemberStatus status : cluster.statuses())
        {
            lines.append("  ").append(status.line()).append('\n');
        }
        return lines.toString();
    }
}
