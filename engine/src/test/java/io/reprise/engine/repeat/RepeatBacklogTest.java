package io.reprise.engine.repeat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.state.Destinations;
import io.reprise.engine.state.SessionTable;
import io.reprise.engine.util.SystemProperties;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5, done when: "a backlog test: 10^6 sessions due during a simulated outage drain in due order without
 * exceeding any destination's in-flight limit".
 * <p>
 * Time is a manually advanced clock. A node saves {@code N} sessions (default 10^6, property
 * {@code reprise.backlog.sessions}) over four destinations with in-flight limits 16, 64, 256 and 1000, each with a
 * distinct absolute due time in a window after "now"; the due times are a permutation of the session ids, so
 * neither save order nor id order is due order. No worker is connected. The node is closed (the outage), the
 * clock jumps past every due time, and the node restarts on the same directory (snapshot restore and journal
 * replay). Only then do workers join, with more hands per destination than its limit (so the limit, not the
 * hands, binds) but far fewer in total than the backlog. A reporter thread reports SUCCEEDED for each dispatched
 * attempt as soon as it sees it, so the backlog drains at the pace the node hands it out.
 * <p>
 * The worker link checks, on the repeat-process thread, at every dispatch: the session is dispatched for the
 * first time, as attempt 1, to its own destination, with its own payload, in non-decreasing due order within the
 * destination, and the destination's attempts in hand (dispatched minus reports whose OK response the business
 * logic has given) stay within its limit. A response comes on the business-logic thread while the report is
 * applied, which happens before the business logic applies any later {@code BeginRepeats} and so before the
 * dispatches that follow from it: the count is exact, and any over-dispatch by the business logic or the repeat
 * process would show.
 * <p>
 * A drain is latency-bound: a destination has at most its limit in flight, and every round costs two group
 * commits (the {@code BeginRepeats}, then the reports) plus the wake-ups between the threads, so the rate is
 * about (sum of limits) / (round time). Sessions are spread in proportion to the limits, so every destination
 * needs the same number of rounds, N / 1336, about 750 for 10^6; with limits summing to 212, as first planned, the
 * same drain takes over 4,700 rounds (measured 3,000 to 12,000 sessions/s on a loaded 2-core machine: minutes).
 */
class RepeatBacklogTest
{
    private static final int TENANT = 7;
    /** Serves every destination; the others serve one each and have ids {@code 10 * destination + 1 or 2}. */
    private static final long ALL_DESTINATIONS_WORKER = 1000;
    private static final int[] LIMITS = {16, 64, 256, 1000};
    private static final int LIMITS_TOTAL = java.util.Arrays.stream(LIMITS).sum();
    private static final long START_MS = 1_700_000_000_000L;
    /** The first session is due this long after the saves; the last one about N ms later. */
    private static final long FIRST_DUE_AFTER_MS = 60_000;
    private static final long OUTAGE_AFTER_LAST_DUE_MS = 60 * 60 * 1000;
    private static final long LEASE_MS = 12L * 60 * 60 * 1000;
    private static final int PAYLOAD_BYTES = 16;

    private final int sessions = SystemProperties.intValue("reprise.backlog.sessions", 1_000_000);
    private final AtomicLong time = new AtomicLong(START_MS);
    private final EpochClock clock = time::get;
    private final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
    private final List<String> steps = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> violation = new AtomicReference<>();

    /** Due time of session id {@code i + 1}. */
    private final long[] dueAtMs = new long[sessions];

    // Written by the repeat-process thread only (the worker link).
    private final byte[] dispatchedTimes = new byte[sessions];
    private final long[] lastDueDispatched = new long[LIMITS.length];
    private final int[] maxInHand = new int[LIMITS.length];
    private final long[] dispatchLog = new long[sessions];
    /** By dispatch order: when the attempt was dispatched, its report offered, and its OK response given. */
    private final long[] dispatchNs = new long[sessions];
    private final long[] offerNs = new long[sessions];
    private final long[] responseNs = new long[sessions];
    private final AtomicInteger dispatchCount = new AtomicInteger();

    /** Attempts in hand per destination: +1 at dispatch, -1 when the report's OK response is given. */
    private final AtomicIntegerArray inHand = new AtomicIntegerArray(LIMITS.length);
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong reportsRefused = new AtomicLong();

    /**
     * Sessions go to destinations in proportion to their limits, so every destination needs about as many rounds
     * and none idles while the smallest one (16 at a time) drains its share.
     */
    private static int destinationOf(final long sessionId)
    {
        int slot = (int)(sessionId % LIMITS_TOTAL);
        for (int d = 0; d < LIMITS.length; d++)
        {
            if (slot < LIMITS[d])
            {
                return d;
            }
            slot -= LIMITS[d];
        }
        throw new IllegalStateException();
    }

    private void fail(final String message)
    {
        violation.compareAndSet(null, message);
    }

    private NodeContext context(final Path dir)
    {
        return new NodeContext()
            .dataDirectory(dir)
            .rules(new BusinessRules()
                .maxSessions(Math.max(1 << 21, 2 * sessions))
                .expectedSessions(sessions)
                .maxDestinations(16)
                .maxPayloadBytes(1024))
            .epochClock(clock)
            .journalSegmentLength(64L * 1024 * 1024)
            // One snapshot while saving, so the restart restores a snapshot and replays the journal after it.
            .snapshotEveryOperators(Math.max(1, sessions / 2 + 1000))
            .snapshotsRetained(1)
            .workerLink(this::dispatch)
            .lifecycleListener(steps::add)
            .errorHandler((ex) ->
            {
                errors.add(ex);
                ex.printStackTrace(System.err);
            });
    }

    /** The workers' side of the link: every check happens here, on the repeat-process thread. */
    private boolean dispatch(
        final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int payloadOffset,
        final int payloadLength)
    {
        if (sessionId < 1 || sessionId > sessions || tenant != TENANT)
        {
            fail("unknown session dispatched: " + tenant + ":" + sessionId);
            return false;
        }
        final int index = (int)(sessionId - 1);
        final long due = dueAtMs[index];
        if (destination != destinationOf(sessionId) || attempt != 1 || dispatchedTimes[index] != 0)
        {
            fail("session " + sessionId + " dispatched again or wrongly: destination " + destination +
                " attempt " + attempt + " times before " + dispatchedTimes[index]);
        }
        if (workerId / 10 != destination && workerId != ALL_DESTINATIONS_WORKER)
        {
            fail("session " + sessionId + " of destination " + destination + " went to worker " + workerId);
        }
        if (payloadLength != PAYLOAD_BYTES || payload.getLong(payloadOffset) != sessionId ||
            payload.getLong(payloadOffset + 8) != due)
        {
            fail("session " + sessionId + " dispatched with a wrong payload, length " + payloadLength);
        }
        if (due < lastDueDispatched[destination])
        {
            fail("destination " + destination + ": session " + sessionId + " due at " + due +
                " dispatched after one due at " + lastDueDispatched[destination]);
        }
        lastDueDispatched[destination] = due;
        dispatchedTimes[index]++;
        final int held = inHand.incrementAndGet(destination);
        if (held > maxInHand[destination])
        {
            maxInHand[destination] = held;
        }
        if (held > LIMITS[destination])
        {
            fail("destination " + destination + " has " + held + " attempts in hand, limit " + LIMITS[destination]);
        }
        final int n = dispatchCount.get();
        if (n < dispatchLog.length)
        {
            dispatchLog[n] = sessionId;
            dispatchNs[n] = System.nanoTime();
            dispatchCount.lazySet(n + 1);
        }
        else
        {
            fail("more dispatches than sessions");
        }
        return true;
    }

    @Test
    void shouldDrainABacklogInDueOrderWithinInFlightLimits(@TempDir final Path dir) throws Exception
    {
        // The due times: a permutation of [0, N) ms after the first due time, stepping by a prime not dividing N.
        long step = 1_000_003;
        while (sessions % step == 0)
        {
            step += 2;
        }
        final long firstDueMs = START_MS + FIRST_DUE_AFTER_MS;
        final int[] perDestination = new int[LIMITS.length];
        for (int i = 0; i < sessions; i++)
        {
            dueAtMs[i] = firstDueMs + (i * step) % sessions;
            perDestination[destinationOf(i + 1)]++;
        }

        // 1. Before the outage: save the sessions; no worker is connected.
        final long saveStartNs = System.nanoTime();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            final AtomicLong savesOk = new AtomicLong();
            final AtomicReference<String> saveFailure = new AtomicReference<>();
            final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) ->
            {
                if (code == ResultCode.OK)
                {
                    savesOk.incrementAndGet();
                }
                else
                {
                    saveFailure.compareAndSet(null, "operator " + correlationId + ": " + code);
                }
            });
            for (int d = 0; d < LIMITS.length; d++)
            {
                final int destination = d;
                offer(() -> client.configureDestination(destination, LIMITS[destination]));
            }
            final SessionPolicy policy = new SessionPolicy().leaseMs(LEASE_MS).maxAttempts(3);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
            for (int i = 0; i < sessions; i++)
            {
                final long sessionId = i + 1;
                policy.dueAtMs(dueAtMs[i]);
                payload.putLong(0, sessionId);
                payload.putLong(8, dueAtMs[i]);
                offer(() -> client.save(sessionId, destinationOf(sessionId), policy, payload, 0, PAYLOAD_BYTES));
            }
            assertTrue(node.awaitApplied(120_000), "saves applied");
            assertNull(saveFailure.get());
            assertEquals(sessions + LIMITS.length, savesOk.get());
            final DestinationFigures figures = node.destinationFigures();
            assertEquals(sessions, figures.total(DestinationFigures.PENDING));
            assertEquals(0, figures.total(DestinationFigures.READY));
            assertEquals(0, node.repeatProcess().dispatched());
            waitFor(() -> steps.stream().anyMatch((s) -> s.startsWith("snapshot-taken")), 120_000, "a snapshot");
        }
        System.out.printf("backlog: saved %,d sessions in %,d ms%n", sessions,
            (System.nanoTime() - saveStartNs) / 1_000_000);

        // 2. The outage: time passes every due time while the node is down.
        time.set(firstDueMs + sessions + OUTAGE_AFTER_LAST_DUE_MS);

        // 3. Restart (snapshot and journal replay), join workers, report each attempt as it arrives.
        final long restartNs = System.nanoTime();
        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            final long startedNs = System.nanoTime();
            // The seed's start-up: the snapshot taken while saving, then the journal after it.
            assertTrue(steps.stream().anyMatch((s) -> s.startsWith("snapshot-restored")), steps.toString());
            assertTrue(steps.stream().anyMatch((s) -> s.startsWith("journal-replayed") &&
                !s.startsWith("journal-replayed records=0 ")), steps.toString());
            final DestinationFigures figures = node.destinationFigures();
            waitFor(() -> figures.total(DestinationFigures.READY) == sessions, 60_000, "backlog ready");
            final long readyNs = System.nanoTime();

            final Thread reporter = new Thread(() -> report(node), "backlog-reporter");
            reporter.setDaemon(true);
            reporter.start();

            final long drainStartNs = System.nanoTime();
            int hands = 0;
            for (int d = 0; d < LIMITS.length; d++)
            {
                // Two workers per destination, each able to take the whole limit: hands never bind, the limit does.
                node.repeatProcess().workerJoined(10L * d + 1, TENANT, new int[]{d}, LIMITS[d]);
                node.repeatProcess().workerJoined(10L * d + 2, TENANT, new int[]{d}, LIMITS[d]);
                hands += 2 * LIMITS[d];
            }
            node.repeatProcess().workerJoined(ALL_DESTINATIONS_WORKER, TENANT, new int[]{0, 1, 2, 3}, 50);
            hands += 50;
            assertTrue(sessions < 100_000 || 100 * hands < sessions, "workers must take many rounds: " + hands);

            long lastProgressNs = drainStartNs;
            final long deadlineNs = drainStartNs + 600_000_000_000L;
            while (completed.get() < sessions)
            {
                if (null != violation.get() || null != node.fatalError() || !errors.isEmpty() ||
                    System.nanoTime() > deadlineNs)
                {
                    break;
                }
                Thread.sleep(5);
                if (System.nanoTime() - lastProgressNs > 5_000_000_000L)
                {
                    lastProgressNs = System.nanoTime();
                    System.out.printf("backlog: %,d dispatched, %,d completed, %,d proposals%n",
                        dispatchCount.get(), completed.get(), node.repeatProcess().proposals());
                }
            }
            final long drainNs = System.nanoTime() - drainStartNs;
            reporter.interrupt();
            reporter.join(10_000);

            assertNull(violation.get());
            assertTrue(errors.isEmpty(), errors.toString());
            assertNull(node.fatalError());
            assertEquals(sessions, completed.get(), "completed");
            assertTrue(node.awaitApplied(30_000));
            System.out.printf("backlog: restart %,d ms, timers fired %,d ms later; drained %,d sessions in %,d ms " +
                    "(%,.0f sessions/s) through %d hands, limits %s, %,d BeginRepeats proposed, %,d reports " +
                    "refused by back-pressure%n",
                (startedNs - restartNs) / 1_000_000, (readyNs - startedNs) / 1_000_000, sessions,
                drainNs / 1_000_000, sessions / (drainNs / 1e9), hands, java.util.Arrays.toString(LIMITS),
                node.repeatProcess().proposals(), reportsRefused.get());
            System.out.println("backlog: most in hand per destination " + java.util.Arrays.toString(maxInHand));
            printLatencies(node);

            assertEquals(sessions, dispatchCount.get(), "dispatches");
            assertEquals(sessions, node.repeatProcess().dispatched());
            assertEquals(0, node.repeatProcess().undeliverable());
            for (int i = 0; i < sessions; i++)
            {
                if (dispatchedTimes[i] != 1)
                {
                    throw new AssertionError("session " + (i + 1) + " dispatched " + dispatchedTimes[i] + " times");
                }
            }
            for (int d = 0; d < LIMITS.length; d++)
            {
                assertEquals(0, inHand.get(d), "in hand at the end, destination " + d);
                assertTrue(maxInHand[d] <= LIMITS[d]);
                assertEquals(0, figures.get(d, DestinationFigures.READY));
                assertEquals(0, figures.get(d, DestinationFigures.IN_FLIGHT));
                assertEquals(0, figures.get(d, DestinationFigures.PENDING));
                assertEquals(0, figures.get(d, DestinationFigures.DEAD));
            }

            node.close();
            final BusinessLogic logic = node.logic();
            final SessionTable table = logic.sessions();
            final Destinations destinations = logic.destinations();
            for (int d = 0; d < LIMITS.length; d++)
            {
                assertEquals(perDestination[d], destinations.retained(d), "completed and retained at destination " + d);
            }
            for (long id = 1; id <= sessions; id++)
            {
                final int record = table.find(TENANT, id);
                if (record == SessionTable.NULL || table.status(record) != SessionStatus.COMPLETED.value() ||
                    table.attempt(record) != 1)
                {
                    throw new AssertionError("session " + id + " not completed at its first attempt");
                }
            }
        }
    }

    /** The workers: report SUCCEEDED for each dispatched attempt, in dispatch order, as soon as it is seen. */
    private void report(final StandaloneNode node)
    {
        // Which destination each report is about, by correlation id: set before the offer, read on the
        // business-logic thread after the ring took it.
        final byte[] destinationByCorrelation = new byte[sessions + 2];
        final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) ->
        {
            if (code == ResultCode.OK)
            {
                inHand.decrementAndGet(destinationByCorrelation[(int)correlationId]);
                // Reports are offered in dispatch order, one correlation id each.
                responseNs[(int)correlationId - 1] = System.nanoTime();
                completed.incrementAndGet();
            }
            else
            {
                fail("report " + correlationId + " answered " + code + " " + value);
            }
        });
        int reported = 0;
        while (reported < sessions && !Thread.currentThread().isInterrupted())
        {
            final int available = dispatchCount.get();
            if (reported == available)
            {
                // Park, not spin: on 2 cores a spinning reporter takes a core from the journal and the logic.
                LockSupport.parkNanos(20_000);
                continue;
            }
            for (; reported < available; reported++)
            {
                final long sessionId = dispatchLog[reported];
                ResultCode code;
                while (true)
                {
                    destinationByCorrelation[(int)client.nextCorrelationId()] = (byte)destinationOf(sessionId);
                    code = client.reportOutcome(sessionId, destinationOf(sessionId), 1, Outcome.SUCCEEDED, 0, 0);
                    if (code != ResultCode.BACK_PRESSURE)
                    {
                        break;
                    }
                    reportsRefused.incrementAndGet();
                    if (Thread.currentThread().isInterrupted())
                    {
                        return;
                    }
                    Thread.onSpinWait();
                }
                offerNs[reported] = System.nanoTime();
                if (code != ResultCode.OK)
                {
                    fail("report of " + sessionId + " refused: " + code);
                    return;
                }
            }
        }
    }

    /**
     * Where the time of a round goes: a report's way to the worker side (dispatch to report offered) and back
     * (offered to applied: journal group commit and business logic), against the journal's slowest commit.
     */
    private void printLatencies(final StandaloneNode node)
    {
        final long[] toReport = new long[sessions];
        final long[] toApplied = new long[sessions];
        for (int k = 0; k < sessions; k++)
        {
            toReport[k] = offerNs[k] - dispatchNs[k];
            toApplied[k] = responseNs[k] - offerNs[k];
        }
        java.util.Arrays.sort(toReport);
        java.util.Arrays.sort(toApplied);
        System.out.printf("backlog: dispatch to report offered p50/p90/p99 %d/%d/%d us; report offered to applied " +
                "p50/p90/p99 %d/%d/%d us; slowest journal commit %d us%n",
            toReport[sessions / 2] / 1000, toReport[(int)(sessions * 0.9)] / 1000,
            toReport[(int)(sessions * 0.99)] / 1000, toApplied[sessions / 2] / 1000,
            toApplied[(int)(sessions * 0.9)] / 1000, toApplied[(int)(sessions * 0.99)] / 1000,
            node.maxCommitNs() / 1000);
    }

    private static void offer(final java.util.function.Supplier<ResultCode> operator)
    {
        final long deadline = System.currentTimeMillis() + 60_000;
        ResultCode code;
        while ((code = operator.get()) == ResultCode.BACK_PRESSURE)
        {
            assertTrue(System.currentTimeMillis() < deadline, "back-pressure for a minute");
            Thread.onSpinWait();
        }
        assertEquals(ResultCode.OK, code);
    }

    private static void waitFor(final java.util.function.BooleanSupplier condition, final long timeoutMs,
        final String what) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out: " + what);
            Thread.sleep(5);
        }
    }
}
