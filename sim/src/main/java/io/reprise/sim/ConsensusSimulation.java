package io.reprise.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32C;

import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.node.PlantedBug;
import io.reprise.engine.cluster.ElectionState;
import io.reprise.engine.cluster.JournalConsensusLog;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.util.Mix64;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The cluster protocol alone, proven on a simulated network: 3 or 5 members, each with its own simulated disk,
 * journal, election state and {@link Consensus}, driven by one seed in one thread. Each member applies what it
 * knows committed to a digest chain, and clients propose entries to whoever leads. The faults: crashes and restarts
 * of any member (unsynced data lost), failed syncs, lost, delayed, reordered and duplicated messages, asymmetric
 * partitions and isolated members, and clocks that run at different rates.
 * <p>
 * Invariants, checked after every step: at most one leader per term; members that applied index i have equal
 * digests at i (so a committed entry never changes); no member applies above the commit index it knows; every
 * entry a client was told committed is applied, the same, on every member by the end; and, once the network is
 * healed and every member up, a leader is elected and new entries commit within a bounded virtual time.
 */
public final class ConsensusSimulation
{
    /** What a run did: its last line, and on failure the invariant broken. */
    public record Result(boolean ok, String lastLine, String failure)
    {
    }

    private static final Path DATA = Path.of("/sim/member");
    private static final long QUIET_LIMIT_NS = 30_000_000_000L;
    private static final int SEGMENT_BYTES = 4 * 1024 * 1024;

    private final long seed;
    private final long steps;
    private final int memberCount;
    private final PlantedBug planted;
    private final boolean faults;
    private final Random random;
    private final VirtualClock clock = new VirtualClock();
    private final SimNetwork network;
    private final Member[] members;
    private final Consensus.Settings settings = new Consensus.Settings(
        150_000_000L, 30_000_000L, 16 * 1024, 512);

    // Checker state.
    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final TreeMap<Long, Long> digestAt = new TreeMap<>();
    /** Entries clients were told are committed: index to the checksum of the entry. */
    private final TreeMap<Long, Long> acknowledged = new TreeMap<>();
    private final List<long[]> pending = new ArrayList<>();
    private String violation;
    private long stepsRun;
    private long crashes;
    private long nextOperation = 1;
    private long elections;

    public ConsensusSimulation(
        final long seed, final long steps, final int memberCount, final boolean faults, final PlantedBug planted)
    {
        this.seed = seed;
        this.steps = steps;
        this.memberCount = memberCount;
        this.faults = faults;
        this.planted = planted;
        this.random = new Random(seed);
        this.network = new SimNetwork(memberCount, new Random(random.nextLong()), clock);
        this.members = new Member[memberCount];
        for (int m = 0; m < memberCount; m++)
        {
            members[m] = new Member(m, random.nextLong(), 1.0 + (random.nextInt(2001) - 1000) / 1e6);
        }
    }

    /** A member: its disk survives crashes; the rest is rebuilt at each start. */
    private final class Member implements NanoClock
    {
        final int id;
        final SimulatedDisk disk;
        final double clockRate;
        final Random random;
        Journal journal;
        JournalConsensusLog log;
        Consensus consensus;
        boolean up;
        long applied;
        long digest;
        /** Switches of earlier starts. */
        long switches;
        final CRC32C crc = new CRC32C();
        final UnsafeBuffer entry = new UnsafeBuffer(new byte[64]);

        Member(final int id, final long diskSeed, final double clockRate)
        {
            this.id = id;
            this.disk = new SimulatedDisk(diskSeed);
            this.clockRate = clockRate;
            this.random = new Random(diskSeed ^ 0x5DEECE66DL);
        }

        public long nanoTime()
        {
            return (long)(clock.nanoTime() * clockRate);
        }

        void start() throws IOException
        {
            journal = Journal.open(disk, DATA.resolve("journal"), SEGMENT_BYTES, 2 * 1024 * 1024, 1);
            log = new JournalConsensusLog(disk, journal, 0, 0, 64 * 1024);
            consensus = new Consensus(id, memberCount, settings, this, random, network.link(id), log,
                ElectionState.open(disk, DATA), this::onRoleChange, planted);
            applied = 0;
            digest = 0;
            up = true;
            network.up(id);
        }

        void crash() throws IOException
        {
            switches += consensus.switches();
            up = false;
            network.down(id);
            log.close();
            journal.close();
            disk.crash();
            disk.failSyncs(0);
        }

        private void onRoleChange(final Consensus.Role role, final long term, final int leader)
        {
            if (role == Consensus.Role.CANDIDATE)
            {
                elections++;
            }
            if (role == Consensus.Role.LEADER)
            {
                final Integer other = leaderOfTerm.putIfAbsent(term, id);
                if (null != other && other != id)
                {
                    fail("one-leader-per-term: members " + other + " and " + id + " both lead term " + term);
                }
                // The first entry of a term: the leader commits only through an entry of its own.
                append(0);
            }
        }

        /** The leader puts an entry in its log; {@code operation} 0 is its term's first entry. */
        long append(final long operation)
        {
            final long index = log.lastIndex() + 1;
            entry.putLong(0, operation);
            entry.putLong(8, consensus.term());
            entry.putInt(16, id);
            try
            {
                log.append(index, consensus.term(), clock.time(), entry, 0, 24);
            }
            catch (final IOException ex)
            {
                throw new Consensus.ConsensusIoException(ex);
            }
            return index;
        }

        /** Applies what is committed and durable here, in order, to the digest chain. */
        int apply() throws IOException
        {
            final long through = Math.min(consensus.commitIndex(), log.durableIndex());
            if (applied >= through)
            {
                return 0;
            }
            return log.read(applied + 1, through, 64 * 1024, this::applyEntry);
        }

        private void applyEntry(
            final long index, final long term, final long timestampMs, final DirectBuffer buffer, final int offset,
            final int length)
        {
            if (index != applied + 1)
            {
                fail("apply-in-order: member " + id + " was given " + index + " after " + applied);
                return;
            }
            if (index > consensus.commitIndex())
            {
                fail("apply-only-committed: member " + id + " applies " + index + " above commit " +
                    consensus.commitIndex());
                return;
            }
            digest = Mix64.mix(digest ^ Mix64.mix(term * 31 + checksum(buffer, offset, length)));
            applied = index;
            final Long known = digestAt.putIfAbsent(index, digest);
            if (null != known && known != digest)
            {
                fail("equal-digests: member " + id + " has digest " + Long.toHexString(digest) + " at " + index +
                    ", another member " + Long.toHexString(known) + " (a committed entry changed)");
            }
        }

        long checksum(final DirectBuffer buffer, final int offset, final int length)
        {
            crc.reset();
            final byte[] bytes = new byte[length];
            buffer.getBytes(offset, bytes);
            crc.update(bytes);
            return crc.getValue();
        }
    }

    public Result run()
    {
        String failure;
        try
        {
            for (final Member member : members)
            {
                member.start();
            }
            failure = runPhases();
        }
        catch (final Exception | AssertionError ex)
        {
            failure = "simulator-error: " + ex;
        }
        long commit = 0;
        for (final Member member : members)
        {
            if (null != member.consensus)
            {
                commit = Math.max(commit, member.consensus.commitIndex());
            }
        }
        final String head = "consensus-sim: seed=" + seed + " nodes=" + memberCount + " steps=" + stepsRun +
            " acked=" + acknowledged.size() + " committed=" + commit + " crashes=" + crashes + " elections=" +
            elections + " switches=" + switchesOfAll() + " net=[" + network + "]";
        return new Result(null == failure, head + (null == failure ? " ok" : " FAILED " + failure), failure);
    }

    /** Times a member's log reached the entries it held ahead while catching up, and took them (all members). */
    private long switchesOfAll()
    {
        long all = 0;
        for (final Member member : members)
        {
            all += member.switches + (null == member.consensus ? 0 : member.consensus.switches());
        }
        return all;
    }

    private String runPhases() throws IOException
    {
        configureNetwork(true);
        for (long step = 0; step < steps && null == violation; step++)
        {
            stepsRun++;
            clock.advanceNanos(random.nextInt(10) == 0 ? random.nextInt(20_000_000) : random.nextInt(1_000_000));
            final int pick = random.nextInt(100);
            if (pick < 70)
            {
                stepMember(members[random.nextInt(memberCount)]);
            }
            else if (pick < 95)
            {
                propose();
            }
            else if (faults)
            {
                injectFault();
            }
            checkLeaders();
        }
        if (null != violation)
        {
            return violation;
        }
        return quietTime();
    }

    private void configureNetwork(final boolean withFaults)
    {
        if (withFaults && faults)
        {
            network.loss(random.nextInt(20_000));
            network.duplication(random.nextInt(10_000));
            network.delay(100_000, 200_000 + random.nextInt(5_000_000));
        }
        else
        {
            network.loss(0);
            network.duplication(0);
            network.delay(100_000, 500_000);
            network.heal();
        }
    }

    private void stepMember(final Member member) throws IOException
    {
        if (!member.up)
        {
            return;
        }
        try
        {
            switch (random.nextInt(3))
            {
                case 0, 1 -> member.consensus.doWork();
                default ->
                {
                    member.log.sync();
                    member.apply();
                }
            }
        }
        catch (final IOException | Consensus.ConsensusIoException ex)
        {
            // A failed sync or write: the member stops, as a real one does, and restarts from its disk.
            crashAndRestart(member);
        }
    }

    /** A client proposes an entry to the leader of the highest term, and learns later whether it committed. */
    private void propose()
    {
        Member leader = null;
        for (final Member member : members)
        {
            if (member.up && member.consensus.role() == Consensus.Role.LEADER &&
                (null == leader || member.consensus.term() > leader.consensus.term()))
            {
                leader = member;
            }
        }
        if (null != leader && !leader.consensus.transferring())
        {
            final long operation = nextOperation++;
            try
            {
                final long index = leader.append(operation);
                pending.add(new long[] {leader.id, index, leader.consensus.term(), operation});
            }
            catch (final Consensus.ConsensusIoException ex)
            {
                crashAndRestartQuietly(leader);
            }
        }
        learnCommitted();
    }

    /** A proposal is acknowledged once its leader, still up, knows it committed in the term it was given. */
    private void learnCommitted()
    {
        for (int i = pending.size() - 1; i >= 0; i--)
        {
            final long[] proposal = pending.get(i);
            final Member member = members[(int)proposal[0]];
            if (!member.up)
            {
                pending.remove(i);
                continue;
            }
            final long index = proposal[1];
            if (member.consensus.commitIndex() >= index && member.log.durableIndex() >= index)
            {
                if (member.log.termAt(index) == proposal[2])
                {
                    final long[] checksum = new long[1];
                    try
                    {
                        member.log.read(index, index, Integer.MAX_VALUE,
                            (x, t, ts, buffer, offset, length) -> checksum[0] = member.checksum(buffer, offset, length));
                    }
                    catch (final IOException ex)
                    {
                        continue;
                    }
                    acknowledged.put(index, checksum[0]);
                }
                pending.remove(i);
            }
        }
    }

    private void injectFault() throws IOException
    {
        final int pick = random.nextInt(100);
        final Member member = members[random.nextInt(memberCount)];
        if (pick < 2)
        {
            crashAndRestart(member);
        }
        else if (pick < 3)
        {
            member.disk.failSyncs(1 + random.nextInt(2));
        }
        else if (pick < 30)
        {
            network.partition(member.id, (member.id + 1 + random.nextInt(memberCount - 1)) % memberCount, true);
        }
        else if (pick < 38)
        {
            network.isolate(member.id);
        }
        else if (pick < 60)
        {
            network.heal();
        }
        else if (pick < 65 && member.up && member.consensus.role() == Consensus.Role.LEADER)
        {
            member.consensus.transferLeadership((member.id + 1 + random.nextInt(memberCount - 1)) % memberCount);
        }
        else if (pick < 70)
        {
            configureNetwork(true);
        }
    }

    private void crashAndRestart(final Member member) throws IOException
    {
        crashes++;
        if (member.up)
        {
            member.crash();
        }
        member.start();
    }

    private void crashAndRestartQuietly(final Member member)
    {
        try
        {
            crashAndRestart(member);
        }
        catch (final IOException ex)
        {
            fail("restart: member " + member.id + " cannot start: " + ex);
        }
    }

    private void checkLeaders()
    {
        for (final Member member : members)
        {
            if (member.up && member.consensus.role() == Consensus.Role.LEADER)
            {
                final Integer other = leaderOfTerm.putIfAbsent(member.consensus.term(), member.id);
                if (null != other && other != member.id)
                {
                    fail("one-leader-per-term: members " + other + " and " + member.id + " both lead term " +
                        member.consensus.term());
                }
            }
            if (member.up && member.consensus.acknowledgedAhead() > 0)
            {
                fail("no-ack-while-held-ahead: member " + member.id + " acknowledged entries it held ahead of its " +
                    "log, before the entries before them arrived");
            }
        }
    }

    /**
     * The network heals, faults stop, every member is up: a leader must be elected and a new entry committed on
     * every member within the limit; then every acknowledged entry must be applied, the same, everywhere.
     */
    private String quietTime() throws IOException
    {
        configureNetwork(false);
        for (final Member member : members)
        {
            member.disk.failSyncs(0);
            if (!member.up)
            {
                member.start();
            }
        }
        final long endNs = clock.nanoTime() + QUIET_LIMIT_NS;
        long probeIndex = -1;
        Member probeLeader = null;
        while (clock.nanoTime() < endNs && null == violation)
        {
            clock.advanceNanos(random.nextInt(1_000_000));
            for (final Member member : members)
            {
                stepMember(member);
            }
            checkLeaders();
            if (null == probeLeader)
            {
                for (final Member member : members)
                {
                    if (member.consensus.role() == Consensus.Role.LEADER)
                    {
                        probeLeader = member;
                        probeIndex = member.append(nextOperation++);
                    }
                }
            }
            else if (probeLeader.consensus.role() != Consensus.Role.LEADER)
            {
                probeLeader = null;
            }
            learnCommitted();
            if (null != probeLeader && allApplied(probeIndex))
            {
                break;
            }
        }
        if (null != violation)
        {
            return violation;
        }
        if (null == probeLeader || !allApplied(probeIndex))
        {
            final StringBuilder states = new StringBuilder();
            for (final Member member : members)
            {
                states.append(System.lineSeparator()).append("  ").append(member.consensus.describe());
            }
            return "liveness: healed, with every member up, no entry committed everywhere within " +
                QUIET_LIMIT_NS / 1_000_000 + " ms of virtual time (leader " +
                (null == probeLeader ? "none" : probeLeader.id) + ")" + states;
        }
        for (final Map.Entry<Long, Long> ack : acknowledged.entrySet())
        {
            if (!digestAt.containsKey(ack.getKey()))
            {
                return "acknowledged-applied: entry " + ack.getKey() + " was acknowledged but never applied";
            }
        }
        final long[] checksum = new long[1];
        for (final Member member : members)
        {
            for (final Map.Entry<Long, Long> ack : acknowledged.entrySet())
            {
                member.log.read(ack.getKey(), ack.getKey(), Integer.MAX_VALUE,
                    (x, t, ts, buffer, offset, length) -> checksum[0] = member.checksum(buffer, offset, length));
                if (checksum[0] != ack.getValue())
                {
                    return "acknowledged-applied: member " + member.id + " holds another entry at acknowledged index " +
                        ack.getKey();
                }
            }
        }
        return null;
    }

    private boolean allApplied(final long index)
    {
        for (final Member member : members)
        {
            if (member.applied < index)
            {
                return false;
            }
        }
        return true;
    }

    private void fail(final String failure)
    {
        if (null == violation)
        {
            violation = failure;
        }
    }
}
