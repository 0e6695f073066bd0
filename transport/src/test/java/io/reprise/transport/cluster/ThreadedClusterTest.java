package io.reprise.transport.cluster;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.aeron.Aeron;
import io.reprise.engine.cluster.ClusterMember;
import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three cluster members on the production runtime: each a {@link StandaloneNode} with its stages and agents on
 * threads of their own, on a real disk, over {@link AeronReplicaLink}s on loopback, in one JVM. One member comes to
 * lead and takes an in-process client's saves; every member applies them to the same state; the leader is closed,
 * another leads a higher term and takes more; the two left apply them to the same state. The members' randomness
 * comes from {@code -Dreprise.cluster.threaded.seed}; the threads', the network's and the disks' timing do not repeat.
 * <p>
 * Every wait has a deadline and fails with each member's roles and indexes, after printing a thread dump.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ThreadedClusterTest
{
    private static final String SEED_PROP_NAME = "reprise.cluster.threaded.seed";
    /**
     * The defaults but a longer election timeout: the members' 27 threads and a media driver share 2 cores with other
     * work, and a follower's consensus thread answers nothing while it syncs; at 500 ms a busy machine made a leader
     * miss its quorum now and then.
     */
    private static final Consensus.Settings SETTINGS = new Consensus.Settings(
        1_000_000_000L, 50_000_000L, 64 * 1024, 8192);
    private static final int MEMBERS = 3;
    private static final int SAVES = 2_000;
    private static final int SAVES_AFTER_FAILOVER = 500;
    private static final int TENANT = 1;
    private static final int DESTINATION = 1;
    private static final int PAYLOAD_BYTES = 100;
    /** No session comes due while the test runs: no repeats, no timers. */
    private static final SessionPolicy POLICY = new SessionPolicy().initialDelayMs(3_600_000);
    /** One SetTime when a member first leads, then none: the state stays still once the saves stop. */
    private static final long TIME_TICK_MS = 3_600_000;
    private static final long ELECTION_WAIT_MS = 10_000;
    private static final long FAILOVER_WAIT_MS = 5_000;
    private static final long SAVE_WAIT_MS = 20_000;
    private static final long CONVERGE_WAIT_MS = 10_000;
    private static final long CLOSE_WAIT_MS = 5_000;
    /** How long the applied indexes must stay where they are before the states are compared. */
    private static final long STILL_MS = 300;

    @TempDir
    Path dir;

    private long seed;
    private Random random;
    private Loopback loopback;
    private AeronReplicaLink[] links;
    private final StandaloneNode[] nodes = new StandaloneNode[MEMBERS];
    private final boolean[] up = new boolean[MEMBERS];
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);

    @BeforeEach
    void setUp() throws IOException
    {
        seed = Long.getLong(SEED_PROP_NAME, System.nanoTime());
        System.out.println("ThreadedClusterTest seed=" + seed + " (-D" + SEED_PROP_NAME + "=" + seed + ")");
        random = new Random(seed);
        loopback = new Loopback();
        final Aeron[] clients = new Aeron[MEMBERS];
        for (int m = 0; m < MEMBERS; m++)
        {
            clients[m] = loopback.connect();
        }
        links = loopback.links(clients);
        for (int m = 0; m < MEMBERS; m++)
        {
            nodes[m] = StandaloneNode.start(context(m, new Random(random.nextLong())));
            up[m] = true;
        }
    }

    @AfterEach
    void tearDown()
    {
        // Every member closes even when one does not: the first that does not is the failure.
        AssertionError notClosed = null;
        for (int m = 0; m < MEMBERS; m++)
        {
            try
            {
                if (up[m])
                {
                    close(m);
                }
            }
            catch (final AssertionError ex)
            {
                notClosed = null == notClosed ? ex : notClosed;
            }
        }
        CloseHelper.close(loopback);
        if (null != notClosed)
        {
            throw notClosed;
        }
    }

    @Test
    void shouldReplicateSavesToEveryMemberAndFailOverWhenTheLeaderCloses()
    {
        final int first = awaitLeader(0);
        final long firstTerm = member(first).consensus().term();
        final long saved = save(first, 1, SAVES);
        final long applied = awaitSameState(saved);

        close(first);
        final int second = awaitLeader(firstTerm);
        assertTrue(member(second).consensus().term() > firstTerm, "the new leader's term is above " + firstTerm);
        final long savedAfter = save(second, SAVES + 1, SAVES_AFTER_FAILOVER);
        assertTrue(savedAfter > applied, "the new leader's saves follow the old one's: " + savedAfter + " after " +
            applied);
        awaitSameState(savedAfter);
    }

    /** A small node: it starts fast, and its data directory is its own on the test's temporary directory. */
    private NodeContext context(final int member, final Random random)
    {
        return new NodeContext()
            .dataDirectory(dir.resolve("member-" + member))
            .rules(new BusinessRules().maxSessions(8192).expectedSessions(1024).maxDestinations(8)
                .maxPayloadBytes(256))
            .ringSize(1024)
            .maxBatchSize(64)
            .journalSegmentLength(8L * 1024 * 1024)
            .journalWriteBufferBytes(2 * 1024 * 1024)
            .timeTickMs(TIME_TICK_MS)
            // Snapshots while the members apply and replicate, as a running node takes them.
            .snapshotEveryOperators(1_000)
            .storagePageBytes(16 * 1024)
            .storageContainerMaxBytes(512 * 1024)
            .storageFlushBytes(32 * 1024)
            .storageFlushAgeMs(500)
            .repeatEventBytes(16 * 1024)
            // A response goes to the client whose id its operator carries, on whichever member applies it.
            .clientIdBase((member + 1L) << 20)
            .membership(new NodeContext.Membership(member, MEMBERS, links[member], SETTINGS, random))
            .replicationWindowBytes(256 * 1024);
    }

    private ClusterMember member(final int m)
    {
        return nodes[m].clusterMember();
    }

    /**
     * Waits until exactly one member that is up leads a term above {@code aboveTerm} and takes clients, and the
     * others follow it in that term (a second leader follows no one, so the wait goes on while there is one).
     */
    private int awaitLeader(final long aboveTerm)
    {
        final int[] leader = new int[1];
        final long startNs = System.nanoTime();
        await(aboveTerm == 0 ? ELECTION_WAIT_MS : FAILOVER_WAIT_MS,
            "one member leading a term above " + aboveTerm + ", taking clients, followed by the others", () ->
            {
                leader[0] = -1;
                for (int m = 0; m < MEMBERS; m++)
                {
                    if (up[m] && member(m).consensus().role() == Consensus.Role.LEADER &&
                        member(m).consensus().term() > aboveTerm)
                    {
                        leader[0] = m;
                    }
                }
                if (leader[0] < 0 || !member(leader[0]).acceptsClients())
                {
                    return false;
                }
                final long term = member(leader[0]).consensus().term();
                for (int m = 0; m < MEMBERS; m++)
                {
                    final Consensus consensus = member(m).consensus();
                    if (up[m] && (consensus.leaderId() != leader[0] || consensus.term() != term))
                    {
                        return false;
                    }
                }
                return true;
            });
        System.out.println("member " + leader[0] + " leads term " + member(leader[0]).consensus().term() +
            " and takes clients after " + (System.nanoTime() - startNs) / 1_000_000 + " ms");
        return leader[0];
    }

    /**
     * Saves sessions {@code firstSession} onwards through an in-process client of member {@code leader}, and waits
     * for every answer.
     *
     * @return the index of the last save answered.
     */
    private long save(final int leader, final long firstSession, final int count)
    {
        final Answers answers = new Answers();
        final InProcessClient client = nodes[leader].newClient(TENANT, answers);
        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + SAVE_WAIT_MS * 1_000_000L;
        for (long session = firstSession; session < firstSession + count; session++)
        {
            for (int i = 0; i < PAYLOAD_BYTES; i += 8)
            {
                payload.putLong(Math.min(i, PAYLOAD_BYTES - 8), random.nextLong());
            }
            ResultCode code;
            while ((code = client.save(session, DESTINATION, POLICY, payload, 0, PAYLOAD_BYTES)) ==
                ResultCode.BACK_PRESSURE)
            {
                checkNoneFailed();
                if (System.nanoTime() - deadlineNs > 0)
                {
                    failWith("member " + leader + " took no save of session " + session + " within " + SAVE_WAIT_MS +
                        " ms (back-pressure)");
                }
                LockSupport.parkNanos(50_000);
            }
            if (code != ResultCode.OK)
            {
                failWith("member " + leader + " refused the save of session " + session + ": " + code);
            }
        }
        await(SAVE_WAIT_MS, "the " + count + " saves through member " + leader + " answered (" +
            answers.count + " so far)", () -> answers.count.get() == count);
        assertEquals(List.of(), new ArrayList<>(answers.refused), "saves through member " + leader + " not OK");
        System.out.println(count + " saves through member " + leader + " answered in " +
            (System.nanoTime() - startNs) / 1_000_000 + " ms, the last at index " + answers.lastIndex);
        return answers.lastIndex.get();
    }

    /**
     * Waits until every member that is up has applied the same entries, through {@code atLeast} or beyond, and has
     * nothing more in its ring, for {@link #STILL_MS}; then their states must be equal, and their journals' files
     * must hold what they applied.
     *
     * @return the applied index they share.
     */
    private long awaitSameState(final long atLeast)
    {
        final long[] still = {-1, 0};
        final long[] digests = new long[MEMBERS];
        await(CONVERGE_WAIT_MS, "every member up at the same applied index, at least " + atLeast + ", still for " +
            STILL_MS + " ms", () ->
            {
                final long applied = sharedAppliedIndex();
                if (applied < atLeast)
                {
                    still[0] = -1;
                    return false;
                }
                if (applied != still[0])
                {
                    still[0] = applied;
                    still[1] = System.nanoTime();
                    return false;
                }
                if (System.nanoTime() - still[1] < STILL_MS * 1_000_000L)
                {
                    return false;
                }
                // The state belongs to the business-logic thread: it is read here only while nothing is applied.
                for (int m = 0; m < MEMBERS; m++)
                {
                    digests[m] = up[m] ? nodes[m].logic().digest() : 0;
                }
                return sharedAppliedIndex() == applied;
            });
        final int reference = firstUp();
        for (int m = 0; m < MEMBERS; m++)
        {
            if (up[m])
            {
                assertEquals(digests[reference], digests[m], "(seed " + seed + ") the state digest of member " + m +
                    " and of member " + reference + " at applied index " + still[0]);
            }
        }
        // What a member applied it had acknowledged as durable: its journal's files must hold it.
        for (int m = 0; m < MEMBERS; m++)
        {
            final JournalOnDisk journal = journalOnDisk(m);
            if (up[m] && journal.last() < still[0])
            {
                failWith("member " + m + " applied through index " + still[0] + " but its journal on disk holds " +
                    journal.text());
            }
        }
        System.out.println("members " + upMembers() + " at applied index " + still[0] + " with state digest " +
            Long.toHexString(digests[reference]) + ", their journals on disk through it");
        return still[0];
    }

    /** The index every member up has applied, with nothing more in its ring; -1 when they differ. */
    private long sharedAppliedIndex()
    {
        final long applied = nodes[firstUp()].appliedIndex();
        for (int m = 0; m < MEMBERS; m++)
        {
            if (up[m] && (nodes[m].appliedIndex() != applied || nodes[m].publishedIndex() != applied))
            {
                return -1;
            }
        }
        return applied;
    }

    /** Closes member {@code m} as its host would, and its link: it is lost to the others. */
    private void close(final int m)
    {
        up[m] = false;
        final Thread closing = new Thread(nodes[m]::close, "close-member-" + m);
        closing.setDaemon(true);
        final long startNs = System.nanoTime();
        closing.start();
        try
        {
            closing.join(CLOSE_WAIT_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (closing.isAlive())
        {
            failWith("member " + m + "'s close() did not return within " + CLOSE_WAIT_MS + " ms");
        }
        CloseHelper.close(links[m]);
        System.out.println("member " + m + " closed in " + (System.nanoTime() - startNs) / 1_000_000 + " ms" +
            (null == nodes[m].fatalError() ? "" : ", failed: " + nodes[m].fatalError()));
    }

    /** Waits for {@code condition}, polled every millisecond, failing with {@code what} after {@code timeoutMs}. */
    private void await(final long timeoutMs, final String what, final BooleanSupplier condition)
    {
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!condition.getAsBoolean())
        {
            checkNoneFailed();
            if (System.nanoTime() - deadlineNs > 0)
            {
                failWith("not within " + timeoutMs + " ms: " + what);
            }
            Loopback.sleepMs(1);
        }
    }

    /** A member whose node failed stops the test at once, with its failure. */
    private void checkNoneFailed()
    {
        for (int m = 0; m < MEMBERS; m++)
        {
            if (up[m] && null != nodes[m].fatalError())
            {
                System.out.println(threadDump());
                System.out.println(journals());
                fail("(seed " + seed + ") member " + m + " failed; " + describe(), nodes[m].fatalError());
            }
        }
    }

    private void failWith(final String what)
    {
        System.out.println(threadDump());
        System.out.println(journals());
        fail("(seed " + seed + ") " + what + "; " + describe());
    }

    /** Each member's consensus and its node's indexes; read from the test's thread, so a moment's view. */
    private String describe()
    {
        final StringBuilder states = new StringBuilder();
        for (int m = 0; m < MEMBERS; m++)
        {
            final StandaloneNode node = nodes[m];
            states.append(up[m] ? "" : "(closed) ").append(member(m).consensus().describe())
                .append(member(m).acceptsClients() ? " takes clients" : "")
                .append(" published=").append(node.publishedIndex())
                .append(" journal-synced=").append(node.durableIndex())
                .append(" journal-released=").append(node.committedIndex())
                .append(" applied=").append(node.appliedIndex())
                .append(null == node.fatalError() ? "" : " failed: " + node.fatalError())
                .append(null == node.storageFailure() ? "" : " storage: " + node.storageFailure())
                .append("; ");
        }
        return states.toString();
    }

    private int firstUp()
    {
        for (int m = 0; m < MEMBERS; m++)
        {
            if (up[m])
            {
                return m;
            }
        }
        throw new IllegalStateException("no member up");
    }

    private List<Integer> upMembers()
    {
        final List<Integer> members = new ArrayList<>();
        for (int m = 0; m < MEMBERS; m++)
        {
            if (up[m])
            {
                members.add(m);
            }
        }
        return members;
    }

    /** Each member's journal as read from disk, for a failure's report. */
    private String journals()
    {
        final StringBuilder journals = new StringBuilder("ThreadedClusterTest journals on disk:\n");
        for (int m = 0; m < MEMBERS; m++)
        {
            journals.append("member ").append(m).append(": ").append(journalOnDisk(m).text()).append('\n');
        }
        return journals.toString();
    }

    /**
     * What member {@code m}'s journal files hold, read as start-up reads them: the records that validate, then why
     * the reading stops (the end, a torn tail being written, or damage).
     */
    private JournalOnDisk journalOnDisk(final int m)
    {
        final Path journal = dir.resolve("member-" + m).resolve("journal");
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), journal))
        {
            long first = -1;
            long last = -1;
            JournalReader.Status status;
            while ((status = reader.next()) == JournalReader.Status.RECORD)
            {
                first = first < 0 ? reader.index() : first;
                last = reader.index();
            }
            return new JournalOnDisk(last, "records " + first + " to " + last + ", then " + status +
                (status == JournalReader.Status.END ? "" : ": " + reader.describeProblem()));
        }
        catch (final IOException | RuntimeException ex)
        {
            return new JournalOnDisk(-1, "not readable: " + ex);
        }
    }

    /** @param last the last record that validates, -1 for none. */
    private record JournalOnDisk(long last, String text)
    {
    }

    /** Every thread's full stack, with the lock it waits for: the threads of member m end in "-m". */
    private static String threadDump()
    {
        final StringBuilder dump = new StringBuilder("ThreadedClusterTest thread dump:\n");
        for (final ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true))
        {
            dump.append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState());
            if (null != info.getLockName())
            {
                dump.append(" on ").append(info.getLockName());
            }
            if (null != info.getLockOwnerName())
            {
                dump.append(" held by \"").append(info.getLockOwnerName()).append('"');
            }
            dump.append('\n');
            for (final StackTraceElement frame : info.getStackTrace())
            {
                dump.append("    at ").append(frame).append('\n');
            }
        }
        return dump.toString();
    }

    /** The answers to one client's saves, on the leader's business-logic thread. */
    private static final class Answers implements InProcessClient.ResponseListener
    {
        final AtomicInteger count = new AtomicInteger();
        final AtomicLong lastIndex = new AtomicLong();
        final Queue<String> refused = new ConcurrentLinkedQueue<>();

        public void onResponse(
            final long index, final long correlationId, final int operatorTemplateId, final ResultCode resultCode,
            final long value)
        {
            if (resultCode == ResultCode.OK)
            {
                lastIndex.accumulateAndGet(index, Math::max);
            }
            else
            {
                refused.add("correlation " + correlationId + " at index " + index + ": " + resultCode);
            }
            count.incrementAndGet();
        }
    }
}
