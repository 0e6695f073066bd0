package io.reprise.transport.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

import io.aeron.Aeron;
import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.cluster.ElectionState;
import io.reprise.engine.cluster.JournalConsensusLog;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.node.PlantedBug;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three members, each a real {@link Consensus} on its own journal on disk, over {@link AeronReplicaLink}s on loopback,
 * in real time, stepped in turn by the test's thread: they elect one leader, commit what it appends on every member,
 * and when the leader is lost elect another in a higher term that commits again. The members' randomness comes from
 * {@code -Dreprise.consensus.aeron.seed}; the network's and the disks' timing do not repeat.
 */
class ConsensusOverAeronTest
{
    private static final String SEED_PROP_NAME = "reprise.consensus.aeron.seed";
    /** The defaults but a longer election timeout: a test thread held up for 300 ms on 2 busy cores is not a loss. */
    private static final Consensus.Settings SETTINGS = new Consensus.Settings(
        500_000_000L, 50_000_000L, 64 * 1024, 8192);
    private static final int MEMBERS = 3;
    private static final int ENTRIES = 1_000;
    private static final int ENTRIES_PER_STEP = 50;
    private static final int ENTRY_BYTES = 64;
    private static final long ELECTION_WAIT_MS = 5_000;
    private static final long COMMIT_WAIT_MS = 10_000;

    @TempDir
    Path dir;

    private long seed;
    private Loopback loopback;
    private final Member[] members = new Member[MEMBERS];
    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final IdleStrategy idle = new BackoffIdleStrategy(10, 20, 1_000, 100_000);

    @BeforeEach
    void setUp() throws IOException
    {
        seed = Long.getLong(SEED_PROP_NAME, System.nanoTime());
        System.out.println("ConsensusOverAeronTest seed=" + seed + " (-D" + SEED_PROP_NAME + "=" + seed + ")");
        final Random random = new Random(seed);
        loopback = new Loopback();
        final Aeron[] clients = new Aeron[MEMBERS];
        for (int m = 0; m < MEMBERS; m++)
        {
            clients[m] = loopback.connect();
        }
        final AeronReplicaLink[] links = loopback.links(clients);
        for (int m = 0; m < MEMBERS; m++)
        {
            members[m] = new Member(m, dir.resolve("member-" + m), links[m], new Random(random.nextLong()));
        }
    }

    @AfterEach
    void tearDown()
    {
        for (final Member member : members)
        {
            if (null != member)
            {
                CloseHelper.quietCloseAll(member.log, member.journal);
            }
        }
        CloseHelper.close(loopback);
    }

    @Test
    void shouldElectOneLeaderAndCommitItsEntriesOnEveryMember() throws IOException
    {
        final Member leader = awaitLeader(0);
        final long last = appendAndAwaitCommitted(leader, ENTRIES);
        assertSameLogs(leader, last);
    }

    @Test
    void shouldElectANewLeaderWhenTheLeaderIsLost() throws IOException
    {
        final Member lost = awaitLeader(0);
        final long committed = appendAndAwaitCommitted(lost, ENTRIES);

        lost.link.close();
        lost.up = false;
        final Member leader = awaitLeader(lost.consensus.term());
        final long last = appendAndAwaitCommitted(leader, ENTRIES / 10);
        assertTrue(last > committed, "the new leader's entries follow the old one's");
        assertSameLogs(leader, last);
        for (long index = 1; index <= committed; index++)
        {
            assertEquals(lost.log.termAt(index), leader.log.termAt(index), "term of committed entry " + index);
        }
        assertEquals(checksums(lost, committed), checksums(leader, committed), "the lost leader's committed entries");
    }

    /** Steps until exactly one member that is up leads a term above {@code aboveTerm} and the others follow it. */
    private Member awaitLeader(final long aboveTerm) throws IOException
    {
        final Member[] leader = new Member[1];
        final long startNs = System.nanoTime();
        stepUntil(ELECTION_WAIT_MS, "one leader of a term above " + aboveTerm + ", followed by the others", () ->
        {
            leader[0] = null;
            int leaders = 0;
            for (final Member member : members)
            {
                if (member.up && member.consensus.role() == Consensus.Role.LEADER)
                {
                    leader[0] = member;
                    leaders++;
                }
            }
            if (leaders != 1 || leader[0].consensus.term() <= aboveTerm)
            {
                return false;
            }
            for (final Member member : members)
            {
                if (member.up && member.consensus.leaderId() != leader[0].id)
                {
                    return false;
                }
            }
            return true;
        });
        System.out.println("member " + leader[0].id + " leads term " + leader[0].consensus.term() + " after " +
            (System.nanoTime() - startNs) / 1_000_000 + " ms");
        return leader[0];
    }

    /**
     * The leader appends {@code count} entries, a few each step as its host would; steps until every member that is
     * up knows them committed and holds them durably.
     *
     * @return the index of the last of them.
     */
    private long appendAndAwaitCommitted(final Member leader, final int count) throws IOException
    {
        final long term = leader.consensus.term();
        final long last = leader.log.lastIndex() + count;
        leader.toAppend = count;
        final long startNs = System.nanoTime();
        stepUntil(COMMIT_WAIT_MS, count + " entries of member " + leader.id + " committed on every member", () ->
        {
            if (leader.consensus.role() != Consensus.Role.LEADER || leader.consensus.term() != term)
            {
                fail("member " + leader.id + " lost its leadership of term " + term + " while its entries " +
                    "were replicated (a step held up longer than an election timeout?): " + describe());
            }
            for (final Member member : members)
            {
                if (member.up && (member.consensus.commitIndex() < last || member.log.durableIndex() < last))
                {
                    return false;
                }
            }
            return true;
        });
        System.out.println(
            count + " entries committed on every member in " + (System.nanoTime() - startNs) / 1_000_000 + " ms");
        assertEquals(last, leader.log.lastIndex(), "entries the leader appended");
        return last;
    }

    /** Every member that is up holds the leader's entries 1 to {@code last}: the same terms and the same bytes. */
    private void assertSameLogs(final Member leader, final long last) throws IOException
    {
        final List<Long> expected = checksums(leader, last);
        for (final Member member : members)
        {
            if (member.up && member != leader)
            {
                for (long index = 1; index <= last; index++)
                {
                    assertEquals(leader.log.termAt(index), member.log.termAt(index),
                        "term of entry " + index + " on member " + member.id);
                }
                assertEquals(expected, checksums(member, last), "entries 1 to " + last + " on member " + member.id);
            }
        }
    }

    private static List<Long> checksums(final Member member, final long last) throws IOException
    {
        final List<Long> checksums = new ArrayList<>();
        final CRC32C crc = new CRC32C();
        while (checksums.size() < last)
        {
            final int read = member.log.read(checksums.size() + 1, last, Integer.MAX_VALUE,
                (index, term, timestampMs, buffer, offset, length) ->
                {
                    final byte[] bytes = new byte[length];
                    buffer.getBytes(offset, bytes);
                    crc.reset();
                    crc.update(bytes);
                    checksums.add(crc.getValue());
                });
            assertTrue(read > 0, "member " + member.id + " reads no entry at " + (checksums.size() + 1));
        }
        return checksums;
    }

    /** Steps every member that is up until {@code condition} holds, failing with the members' state at the deadline. */
    private void stepUntil(final long timeoutMs, final String what, final BooleanSupplier condition)
        throws IOException
    {
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("not within " + timeoutMs + " ms (seed " + seed + "): " + what + "; " + describe());
            }
            int work = 0;
            for (final Member member : members)
            {
                if (member.up)
                {
                    work += member.step();
                }
            }
            idle.idle(work);
        }
    }

    private String describe()
    {
        final StringBuilder states = new StringBuilder();
        for (final Member member : members)
        {
            states.append(member.up ? "" : "(lost) ").append(member.consensus.describe()).append("; ");
        }
        return states.toString();
    }

    /** One member and its host's part: the leader puts entries into its log and syncs them. */
    private final class Member
    {
        final int id;
        final AeronReplicaLink link;
        final Journal journal;
        final JournalConsensusLog log;
        final Consensus consensus;
        final UnsafeBuffer entry = new UnsafeBuffer(new byte[ENTRY_BYTES]);
        boolean up = true;
        int toAppend;
        long operation;

        Member(final int id, final Path home, final AeronReplicaLink link, final Random random) throws IOException
        {
            this.id = id;
            this.link = link;
            final FileChannelDisk disk = new FileChannelDisk();
            journal = Journal.open(disk, home.resolve("journal"), 8 * 1024 * 1024, 2 * 1024 * 1024, 1);
            log = new JournalConsensusLog(disk, journal, 0, 0, 64 * 1024);
            consensus = new Consensus(id, MEMBERS, SETTINGS, SystemNanoClock.INSTANCE, random, link, log,
                ElectionState.open(disk, home), this::onRoleChange, PlantedBug.NONE);
        }

        int step() throws IOException
        {
            int work = consensus.doWork();
            if (consensus.role() == Consensus.Role.LEADER && toAppend > 0)
            {
                final int batch = Math.min(toAppend, ENTRIES_PER_STEP);
                for (int i = 0; i < batch; i++)
                {
                    append(++operation);
                }
                toAppend -= batch;
                work += batch;
            }
            if (log.durableIndex() < log.lastIndex() && consensus.role() == Consensus.Role.LEADER)
            {
                log.sync();
                work++;
            }
            return work;
        }

        private void onRoleChange(final Consensus.Role role, final long term, final int leader)
        {
            if (role == Consensus.Role.LEADER)
            {
                final Integer other = leaderOfTerm.putIfAbsent(term, id);
                if (null != other && other != id)
                {
                    fail("members " + other + " and " + id + " both lead term " + term + " (seed " + seed + ")");
                }
                // The leader commits only through an entry of its own term.
                append(0);
            }
        }

        /** As the host's journal stage: the next entry of the log, {@code operation} 0 a term's first. */
        private void append(final long operation)
        {
            entry.putLong(0, operation);
            entry.putLong(8, consensus.term());
            entry.putInt(16, id);
            for (int i = 20; i < ENTRY_BYTES; i++)
            {
                entry.putByte(i, (byte)(operation * 31 + i));
            }
            try
            {
                log.append(log.lastIndex() + 1, consensus.term(), System.currentTimeMillis(), entry, 0, ENTRY_BYTES);
            }
            catch (final IOException ex)
            {
                throw new Consensus.ConsensusIoException(ex);
            }
        }
    }
}
