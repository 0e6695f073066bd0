package io.reprise.engine.repeat;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How attempts are shared among the workers of a destination (docs/repeat_process.md): spread over the live
 * workers, and a worker whose leases run out without a report is held back, so that a worker that takes attempts and
 * never reports does not burn sessions while a healthy one has free hands.
 */
class RepeatFairnessTest
{
    private static final int TENANT = 3;
    private static final int DESTINATION = 0;
    private static final long STUCK = 11;
    private static final long HEALTHY = 12;

    private final Map<Long, AtomicInteger> attemptsByWorker = new ConcurrentHashMap<>();
    /** Attempts the healthy workers took and have not reported yet: "sessionId/attempt". */
    private final ConcurrentLinkedQueue<long[]> toReport = new ConcurrentLinkedQueue<>();

    private boolean link(
        final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int offset, final int length)
    {
        attemptsByWorker.computeIfAbsent(workerId, (id) -> new AtomicInteger()).incrementAndGet();
        if (workerId != STUCK)
        {
            toReport.add(new long[] {sessionId, attempt});
        }
        return true;
    }

    private StandaloneNode start(final Path dir) throws Exception
    {
        return StandaloneNode.start(new NodeContext()
            .dataDirectory(dir)
            .rules(new BusinessRules().maxSessions(4096).expectedSessions(1024).maxDestinations(4))
            .ringSize(1024)
            .timeTickMs(1)
            .workerLink(this::link));
    }

    @Test
    void shouldNotBurnSessionsOnAStuckWorkerWhileAHealthyWorkerHasFreeHands(@TempDir final Path dir) throws Exception
    {
        final int sessions = 20;
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).leaseMs(2_000).maxAttempts(10)
            .backoffInitialMs(100).backoffMaxMs(1_000);
        try (StandaloneNode node = start(dir))
        {
            final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) -> { });
            // The stuck worker joins first and takes every attempt; it never reports.
            node.repeatProcess().workerJoined(STUCK, TENANT, new int[] {DESTINATION}, 20);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {1, 2, 3});
            for (long id = 1; id <= sessions; id++)
            {
                assertEquals(ResultCode.OK, client.save(id, DESTINATION, policy, payload, 0, 3));
            }
            waitFor(() -> attempts(STUCK) == sessions, 10_000, "the stuck worker took the first attempts");
            node.repeatProcess().workerJoined(HEALTHY, TENANT, new int[] {DESTINATION}, 32);

            final long deadlineMs = System.currentTimeMillis() + 20_000;
            while (completed(node, sessions) < sessions && System.currentTimeMillis() < deadlineMs)
            {
                reportSuccesses(client);
                Thread.sleep(1);
            }
            assertEquals(sessions, completed(node, sessions), "sessions completed; attempts by worker " +
                attemptsByWorker + ", dead " + count(node, sessions, SessionStatus.DEAD));
            assertEquals(sessions, attempts(STUCK), "the stuck worker got nothing after its leases ran out: " +
                attemptsByWorker);
            assertEquals(sessions, attempts(HEALTHY));
            assertEquals(0, node.repeatProcess().probes(), "no probe while the healthy worker had free hands");
        }
    }

    @Test
    void shouldSpreadAttemptsOverTheLiveWorkersOfADestination(@TempDir final Path dir) throws Exception
    {
        final int sessions = 300;
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).leaseMs(60_000);
        try (StandaloneNode node = start(dir))
        {
            final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) -> { });
            node.repeatProcess().workerJoined(21, TENANT, new int[] {DESTINATION}, 64);
            node.repeatProcess().workerJoined(22, TENANT, new int[] {DESTINATION}, 64);
            node.repeatProcess().workerJoined(23, TENANT, new int[] {DESTINATION}, 32);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {4});
            final long deadlineMs = System.currentTimeMillis() + 20_000;
            long saved = 0;
            while (completed(node, sessions) < sessions && System.currentTimeMillis() < deadlineMs)
            {
                if (saved < sessions && client.save(saved + 1, DESTINATION, policy, payload, 0, 1) == ResultCode.OK)
                {
                    saved++;
                }
                reportSuccesses(client);
            }
            assertEquals(sessions, completed(node, sessions));
            // Each worker's share follows its hands: 2/5, 2/5 and 1/5 of the attempts, give or take the rounding.
            assertTrue(attempts(21) >= sessions / 4 && attempts(22) >= sessions / 4 && attempts(23) >= sessions / 10,
                "attempts by worker: " + attemptsByWorker);
        }
    }

    private void reportSuccesses(final InProcessClient client)
    {
        long[] attempt;
        while (null != (attempt = toReport.peek()))
        {
            if (client.reportOutcome(attempt[0], DESTINATION, (int)attempt[1], Outcome.SUCCEEDED, 0, 0) == ResultCode.BACK_PRESSURE)
            {
                return;
            }
            toReport.poll();
        }
    }

    private int attempts(final long workerId)
    {
        final AtomicInteger count = attemptsByWorker.get(workerId);
        return null == count ? 0 : count.get();
    }

    private static int completed(final StandaloneNode node, final int sessions) throws InterruptedException
    {
        return count(node, sessions, SessionStatus.COMPLETED);
    }

    /** Reads the state once the business logic has applied everything published so far. */
    private static int count(final StandaloneNode node, final int sessions, final SessionStatus status)
        throws InterruptedException
    {
        assertTrue(node.awaitApplied(10_000));
        final SessionTable table = node.logic().sessions();
        int count = 0;
        for (long id = 1; id <= sessions; id++)
        {
            final int record = table.find(TENANT, id);
            count += record != SessionTable.NULL && table.status(record) == status.value() ? 1 : 0;
        }
        return count;
    }

    private static void waitFor(final BooleanSupplier condition, final long timeoutMs, final String what)
        throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out: " + what);
            Thread.sleep(2);
        }
    }
}
