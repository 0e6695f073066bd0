package io.reprise.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.cluster.ElectionState;
import io.reprise.engine.cluster.JournalConsensusLog;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.node.PlantedBug;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three members on virtual time: the leader dies just after one follower took an entry the other did not. The
 * follower behind cannot win; the one ahead, asked by it for a pre-vote once its own leader is an election timeout
 * silent, refuses and stands at once. So the new leader is elected within one re-ask interval (a heartbeat) and a few
 * network delays of the first member standing, or of the election timeout, whichever is later; not at the ahead
 * member's own timeout, drawn up to 1.5 times the election timeout. Seeds from {@code -Dreprise.election.first.seed} (default 1), count from
 * {@code -Dreprise.election.seeds} (default 20); each seed draws the members' timeouts and the network's delays.
 */
class ElectionAfterLeaderDeathTest
{
    private static final long FIRST_SEED = Long.getLong("reprise.election.first.seed", 1);
    private static final int SEEDS = Integer.getInteger("reprise.election.seeds", 20);
    private static final long ELECTION_TIMEOUT_NS = 150_000_000L;
    private static final long HEARTBEAT_NS = 30_000_000L;
    private static final long STEP_NS = 100_000L;
    /** Delays of 0.1 ms and more, 0.5 ms on average: a pre-vote and a vote round trip take a few ms at most. */
    private static final long ROUND_TRIPS_NS = 5_000_000L;

    @Test
    void shouldElectTheMemberAheadWithoutWaitingForItsOwnTimeout() throws IOException
    {
        eachSeed("", ElectionAfterLeaderDeathTest::runSeed);
    }

    private interface SeedRun
    {
        void run(long seed) throws IOException;
    }

    private static void eachSeed(final String what, final SeedRun run) throws IOException
    {
        System.out.println("ElectionAfterLeaderDeathTest: " + what + "seeds " + FIRST_SEED + ".." +
            (FIRST_SEED + SEEDS - 1) + " (-Dreprise.election.first.seed, -Dreprise.election.seeds)");
        for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++)
        {
            run.run(seed);
        }
    }

    /** Three members, each drawing its timeouts from its own generator, seeded from {@code random}. */
    private static Member[] members(final Random random, final VirtualClock clock, final SimNetwork network)
        throws IOException
    {
        final Consensus.Settings settings = new Consensus.Settings(ELECTION_TIMEOUT_NS, HEARTBEAT_NS, 16 * 1024, 512);
        final Member[] members = new Member[3];
        for (int m = 0; m < 3; m++)
        {
            members[m] = new Member(m, settings, clock, network, new TiedRandom(random.nextLong()));
        }
        return members;
    }

    private static void runSeed(final long seed) throws IOException
    {
        final Random random = new Random(seed);
        final VirtualClock clock = new VirtualClock();
        final SimNetwork network = new SimNetwork(3, new Random(random.nextLong()), clock).delay(100_000, 500_000);
        final Member[] members = members(random, clock, network);
        final long electedNs = stepUntilLeader(clock, members, 10_000_000_000L, seed, "the first leader");
        final Member leader = leaderOf(members);
        final Member ahead = members[(leader.id + 1) % 3];
        final Member behind = members[(leader.id + 2) % 3];
        // Settled: both followers have the leader's first entry.
        stepFor(clock, members, 2 * HEARTBEAT_NS);
        assertEquals(ahead.log.lastIndex(), behind.log.lastIndex(), "seed " + seed + ": settled at " + electedNs);

        network.partition(leader.id, behind.id, true);
        leader.append();
        final long deadlineNs = clock.nanoTime() + ELECTION_TIMEOUT_NS / 2;
        while (ahead.log.lastIndex() <= behind.log.lastIndex())
        {
            assertTrue(clock.nanoTime() < deadlineNs, "seed " + seed + ": the entry did not reach member " + ahead.id);
            step(clock, members);
        }
        leader.up = false;
        network.down(leader.id);
        network.heal();
        final long deathNs = clock.nanoTime();

        long firstStandNs = -1;
        while (null == leaderOf(members))
        {
            assertTrue(clock.nanoTime() - deathNs < 4 * ELECTION_TIMEOUT_NS, "seed " + seed + ": no new leader");
            if (firstStandNs < 0 && (ahead.consensus.role() != Consensus.Role.FOLLOWER ||
                behind.consensus.role() != Consensus.Role.FOLLOWER))
            {
                firstStandNs = clock.nanoTime() - deathNs;
            }
            step(clock, members);
        }
        final Member elected = leaderOf(members);
        final long tookNs = clock.nanoTime() - deathNs;
        System.out.println("ElectionAfterLeaderDeathTest: seed " + seed + ": member " + elected.id + " elected " +
            tookNs / 1_000 + " us after member " + leader.id + " died; the first member stood after " +
            firstStandNs / 1_000 + " us (member " + ahead.id + " ahead, " + behind.id + " behind)");
        assertEquals(ahead.id, elected.id, "seed " + seed + ": the member behind cannot win");
        final long boundNs = Math.max(firstStandNs, ELECTION_TIMEOUT_NS) + HEARTBEAT_NS + ROUND_TRIPS_NS;
        assertTrue(tookNs <= boundNs, "seed " + seed + ": elected " + tookNs / 1_000 + " us after the death, not " +
            "within a heartbeat and a few round trips of the first member standing or the election timeout (" +
            boundNs / 1_000 + " us)");
    }

    /**
     * The two followers heard the dead leader at the same moment and drew the same timeout: they stand at once, grant
     * each other's pre-vote and split the vote of the next term. Each stands again within half an election timeout
     * of its candidacy, not after a whole one; the next candidacy wins, within a heartbeat and a few round trips.
     */
    @Test
    void shouldStandAgainWithinHalfAnElectionTimeoutAfterASplitVote() throws IOException
    {
        eachSeed("split votes, ", ElectionAfterLeaderDeathTest::runSplitVote);
    }

    private static void runSplitVote(final long seed) throws IOException
    {
        final Random random = new Random(seed);
        final VirtualClock clock = new VirtualClock();
        // Every message takes the same time: the leader's heartbeats reach both followers at once.
        final SimNetwork network = new SimNetwork(3, new Random(random.nextLong()), clock).delay(300_000, 300_000);
        final Member[] members = members(random, clock, network);
        stepUntilLeader(clock, members, 10_000_000_000L, seed, "the first leader");
        final Member leader = leaderOf(members);
        final Member first = members[(leader.id + 1) % 3];
        final Member second = members[(leader.id + 2) % 3];
        first.draws.tied = true;
        second.draws.tied = true;
        // Each follower draws its deadline again at each heartbeat: now the same one, T after the same message.
        stepFor(clock, members, 2 * HEARTBEAT_NS);
        leader.up = false;
        network.down(leader.id);
        final long deathNs = clock.nanoTime();

        final long[] candidacyNs = new long[64];
        final long firstTerm = first.consensus.term() + 1;
        int splits = 0;
        while (null == leaderOf(members))
        {
            assertTrue(clock.nanoTime() - deathNs < 4 * ELECTION_TIMEOUT_NS, "seed " + seed + ": no new leader");
            step(clock, members);
            if (first.consensus.role() != Consensus.Role.FOLLOWER && second.consensus.role() != Consensus.Role.FOLLOWER)
            {
                // Both stood at once; from here on they draw apart.
                first.draws.tied = false;
                second.draws.tied = false;
            }
            for (final Member member : new Member[] {first, second})
            {
                final int slot = (int)(member.consensus.term() - firstTerm);
                if (member.consensus.role() == Consensus.Role.CANDIDATE && slot >= 0 && slot < candidacyNs.length &&
                    candidacyNs[slot] == 0)
                {
                    candidacyNs[slot] = clock.nanoTime();
                }
            }
            if (first.consensus.role() == Consensus.Role.CANDIDATE &&
                second.consensus.role() == Consensus.Role.CANDIDATE &&
                first.consensus.term() == second.consensus.term())
            {
                splits = Math.max(splits, (int)(first.consensus.term() - firstTerm) + 1);
            }
        }
        final Member elected = leaderOf(members);
        final int lastSlot = (int)(elected.consensus.term() - firstTerm);
        final long tookNs = clock.nanoTime() - deathNs;
        System.out.println("ElectionAfterLeaderDeathTest: seed " + seed + ": member " + elected.id + " elected in " +
            "term " + elected.consensus.term() + ", " + tookNs / 1_000 + " us after member " + leader.id +
            " died; " + splits + " split vote(s)");
        assertTrue(splits >= 1, "seed " + seed + ": members standing at once split the vote");
        for (int slot = 1; slot <= lastSlot; slot++)
        {
            final long gapNs = candidacyNs[slot] - candidacyNs[slot - 1];
            assertTrue(candidacyNs[slot] > 0 && gapNs <= ELECTION_TIMEOUT_NS / 2 + ROUND_TRIPS_NS,
                "seed " + seed + ": the candidacy of term " + (firstTerm + slot) + " began " + gapNs / 1_000 +
                " us after the one before, not within half an election timeout and a round trip");
        }
        final long wonNs = clock.nanoTime() - candidacyNs[lastSlot];
        assertTrue(wonNs <= HEARTBEAT_NS + ROUND_TRIPS_NS, "seed " + seed + ": the last candidacy won after " +
            wonNs / 1_000 + " us");
    }

    /** Draws 0 from {@link #nextDouble} while tied (the shortest timeout), at random otherwise. */
    private static final class TiedRandom extends Random
    {
        boolean tied;

        TiedRandom(final long seed)
        {
            super(seed);
        }

        public double nextDouble()
        {
            return tied ? 0 : super.nextDouble();
        }
    }

    private static long stepUntilLeader(
        final VirtualClock clock, final Member[] members, final long limitNs, final long seed, final String what)
        throws IOException
    {
        final long deadlineNs = clock.nanoTime() + limitNs;
        while (null == leaderOf(members))
        {
            assertTrue(clock.nanoTime() < deadlineNs, "seed " + seed + ": no leader: " + what);
            step(clock, members);
        }
        return clock.nanoTime();
    }

    private static void stepFor(final VirtualClock clock, final Member[] members, final long durationNs)
        throws IOException
    {
        final long endNs = clock.nanoTime() + durationNs;
        while (clock.nanoTime() < endNs)
        {
            step(clock, members);
        }
    }

    private static void step(final VirtualClock clock, final Member[] members) throws IOException
    {
        for (final Member member : members)
        {
            if (member.up)
            {
                member.consensus.doWork();
                member.log.sync();
            }
        }
        clock.advanceNanos(STEP_NS);
    }

    private static Member leaderOf(final Member[] members)
    {
        for (final Member member : members)
        {
            if (member.up && member.consensus.role() == Consensus.Role.LEADER)
            {
                return member;
            }
        }
        return null;
    }

    /** A member on a simulated disk of its own; the leader appends an entry of its term when elected. */
    private static final class Member
    {
        final int id;
        final VirtualClock clock;
        final JournalConsensusLog log;
        final Consensus consensus;
        final TiedRandom draws;
        final UnsafeBuffer entry = new UnsafeBuffer(new byte[16]);
        boolean up = true;

        Member(final int id, final Consensus.Settings settings, final VirtualClock clock, final SimNetwork network,
            final TiedRandom random) throws IOException
        {
            this.id = id;
            this.draws = random;
            this.clock = clock;
            final SimulatedDisk disk = new SimulatedDisk(random.nextLong());
            final Path data = Path.of("/sim/member");
            final Journal journal = Journal.open(disk, data.resolve("journal"), 4 * 1024 * 1024, 2 * 1024 * 1024, 1);
            log = new JournalConsensusLog(disk, journal, 0, 0, 64 * 1024);
            consensus = new Consensus(id, 3, settings, clock, random, network.link(id), log,
                ElectionState.open(disk, data), this::onRoleChange, PlantedBug.NONE);
            network.up(id);
        }

        private void onRoleChange(final Consensus.Role role, final long term, final int leader)
        {
            if (role == Consensus.Role.LEADER)
            {
                append();
            }
        }

        void append()
        {
            entry.putLong(0, consensus.term());
            entry.putInt(8, id);
            try
            {
                log.append(log.lastIndex() + 1, consensus.term(), clock.time(), entry, 0, 12);
            }
            catch (final IOException ex)
            {
                throw new Consensus.ConsensusIoException(ex);
            }
        }
    }
}
