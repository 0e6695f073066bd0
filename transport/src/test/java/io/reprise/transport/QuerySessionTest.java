package io.reprise.transport;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.client.SessionState;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.QuerySessionEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code QuerySession} over a real node and Aeron: a session's applied state in each status, for its own tenant. */
class QuerySessionTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "query-token";
    private static final int OTHER_TENANT = 2;
    private static final String OTHER_TOKEN = "other-token";
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer(new byte[8]);
    private static final long DUE_AT_MS = 4_102_444_800_000L; // 2100-01-01
    private static final long PENDING = 1;
    private static final long SUCCEEDS = 2;
    private static final long DIES = 3;
    private static final long READY = 4;
    private static final int WORKED_DESTINATION = 1;
    private static final int IDLE_DESTINATION = 2;

    @TempDir
    Path dir;

    private RepriseNode node;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        CloseHelper.quietClose(node);
    }

    @Test
    void shouldAnswerTheAppliedStateOfASessionInEachStatus() throws Exception
    {
        start();
        final States states = new States();
        final RepriseClient client = client(TENANT, TOKEN, states);
        final SessionPolicy now = new SessionPolicy().initialDelayMs(0).maxAttempts(3).leaseMs(60_000);
        assertEquals(ResultCode.OK, client.saveAndAwait(PENDING, WORKED_DESTINATION,
            new SessionPolicy().dueAtMs(DUE_AT_MS), PAYLOAD, 0, PAYLOAD.capacity()));
        assertEquals(ResultCode.OK, client.saveAndAwait(READY, IDLE_DESTINATION, now, PAYLOAD, 0, PAYLOAD.capacity()));

        final SessionState pending = client.queryAndAwait(PENDING);
        assertState(pending, ResultCode.OK, SessionStatus.PENDING, DUE_AT_MS, WORKED_DESTINATION, 0, 0);
        final long wallMs = System.currentTimeMillis();
        assertTrue(Math.abs(pending.systemTimeMs() - wallMs) < 10_000, "system time " + pending.systemTimeMs() +
            " vs wall clock " + wallMs);
        assertTrue(pending.appliedIndex() >= 2 && pending.appliedIndex() <= node.node().appliedIndex(),
            "applied index " + pending.appliedIndex());
        assertState(client.queryAndAwait(READY), ResultCode.OK, SessionStatus.READY, 0, IDLE_DESTINATION, 0, 0);

        // In flight: the due time answered is the lease expiry the worker got with its attempt.
        final Map<Long, long[]> attempts = new HashMap<>();
        final RepriseWorker worker = RepriseWorker.connect(clientContext(TENANT, TOKEN),
            new int[] {WORKED_DESTINATION}, 4, null);
        closeables.add(worker);
        final RepriseWorker.AttemptHandler handler =
            (tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle, payload, offset, length) ->
                attempts.put(sessionId, new long[] {attempt, leaseExpiresAtMs, handle});
        assertEquals(ResultCode.OK, client.saveAndAwait(SUCCEEDS, WORKED_DESTINATION, now, PAYLOAD, 0,
            PAYLOAD.capacity()));
        assertEquals(ResultCode.OK, client.saveAndAwait(DIES, WORKED_DESTINATION, now, PAYLOAD, 0,
            PAYLOAD.capacity()));
        pollUntil(() -> attempts.size() == 2, client, worker, handler);
        final long[] succeeds = attempts.get(SUCCEEDS);
        assertState(client.queryAndAwait(SUCCEEDS), ResultCode.OK, SessionStatus.IN_FLIGHT, succeeds[1],
            WORKED_DESTINATION, 1, 0);

        // Finished: completed and dead, with the last error.
        assertTrue(worker.report(SUCCEEDS, WORKED_DESTINATION, 1, (int)succeeds[2], Outcome.SUCCEEDED, 200, 0) > 0);
        assertTrue(worker.report(DIES, WORKED_DESTINATION, 1, (int)attempts.get(DIES)[2], Outcome.FAILED_PERMANENTLY, 410, 0) > 0);
        pollUntil(() -> states.finished >= 2, client, worker, handler);
        assertState(client.queryAndAwait(SUCCEEDS), ResultCode.OK, SessionStatus.COMPLETED, 0, WORKED_DESTINATION, 1,
            200);
        assertState(client.queryAndAwait(DIES), ResultCode.OK, SessionStatus.DEAD, 0, WORKED_DESTINATION, 1, 410);

        // Unknown, and another tenant's: both UNKNOWN_SESSION.
        final SessionState unknown = client.queryAndAwait(999);
        assertState(unknown, ResultCode.UNKNOWN_SESSION, SessionStatus.NULL_VAL, 0, 0, 0, 0);
        assertEquals(999, unknown.sessionId());
        final RepriseClient other = client(OTHER_TENANT, OTHER_TOKEN, new States());
        assertState(other.queryAndAwait(PENDING), ResultCode.UNKNOWN_SESSION, SessionStatus.NULL_VAL, 0, 0, 0, 0);

        // The asynchronous form: the answer comes to the listener, with the query's correlation id.
        final long correlationId = client.query(DIES);
        assertTrue(correlationId > 0);
        pollUntil(() -> states.byCorrelationId.containsKey(correlationId), client, worker, handler);
        final Object[] answer = states.byCorrelationId.get(correlationId);
        assertEquals(DIES, answer[0]);
        assertEquals(ResultCode.OK, answer[1]);
        assertEquals(SessionStatus.DEAD, answer[2]);
        assertEquals(410, answer[3]);
    }

    @Test
    void shouldRefuseAMalformedQueryWithAPreciseError() throws Exception
    {
        start();
        final States states = new States();
        final RepriseClient client = client(TENANT, TOKEN, states);
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);
        final int full = MessageHeaderEncoder.ENCODED_LENGTH + QuerySessionEncoder.BLOCK_LENGTH;

        // A block shorter than the template's.
        query(frame, 101, 7);
        frame.putShort(0, (short)(QuerySessionEncoder.BLOCK_LENGTH - 1), ByteOrder.LITTLE_ENDIAN);
        assertRefused(client, states, frame, full - 1, 101, ResultCode.MALFORMED_FRAME);
        // Bytes after the block.
        query(frame, 102, 7);
        assertRefused(client, states, frame, full + 3, 102, ResultCode.MALFORMED_FRAME);
        // A block that says it is longer than the frame.
        query(frame, 103, 7);
        frame.putShort(0, (short)(QuerySessionEncoder.BLOCK_LENGTH + 8), ByteOrder.LITTLE_ENDIAN);
        assertRefused(client, states, frame, full, 103, ResultCode.MALFORMED_FRAME);
        // A version newer than the node's.
        query(frame, 104, 7);
        frame.putShort(6, (short)(QuerySessionEncoder.SCHEMA_VERSION + 1), ByteOrder.LITTLE_ENDIAN);
        assertRefused(client, states, frame, full, 104, ResultCode.UNSUPPORTED_VERSION);

        assertTrue(states.byCorrelationId.isEmpty(), "no session state answered a malformed query");
        // A well-formed one by hand is answered.
        query(frame, 105, 7);
        assertTrue(client.sendRaw(frame, 0, full) >= 0);
        pollUntil(() -> states.byCorrelationId.containsKey(105L), client, null, null);
        assertEquals(ResultCode.UNKNOWN_SESSION, states.byCorrelationId.get(105L)[1]);
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static void assertState(
        final SessionState state, final ResultCode code, final SessionStatus status, final long dueAtMs,
        final int destination, final int attempt, final int lastErrorCode)
    {
        assertNotNull(state, "no answer");
        final String text = state.toString();
        assertEquals(code, state.resultCode(), text);
        assertEquals(status, state.status(), text);
        assertEquals(dueAtMs, state.dueAtMs(), text);
        assertEquals(destination, state.destination(), text);
        assertEquals(attempt, state.attempt(), text);
        assertEquals(lastErrorCode, state.lastErrorCode(), text);
        assertTrue(state.appliedIndex() > 0 && state.systemTimeMs() > 0, text);
    }

    private static void query(final UnsafeBuffer frame, final long correlationId, final long sessionId)
    {
        frame.setMemory(0, frame.capacity(), (byte)0);
        new QuerySessionEncoder().wrapAndApplyHeader(frame, 0, new MessageHeaderEncoder())
            .correlationId(correlationId)
            .sessionId(sessionId);
    }

    private void assertRefused(
        final RepriseClient client, final States states, final UnsafeBuffer frame, final int length,
        final long correlationId, final ResultCode code)
    {
        assertTrue(client.sendRaw(frame, 0, length) >= 0);
        pollUntil(() -> states.refusals.containsKey(correlationId), client, null, null);
        assertEquals(code, states.refusals.get(correlationId)[0], "query " + correlationId);
        assertEquals(QuerySessionEncoder.TEMPLATE_ID, ((Integer)states.refusals.get(correlationId)[1]).intValue());
    }

    private void start() throws Exception
    {
        node = RepriseNode.start(
            new NodeContext()
                .dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 16).expectedSessions(1 << 12).maxDestinations(16))
                .journalSegmentLength(16L * 1024 * 1024)
                .ringSize(1024),
            new TransportContext()
                .aeronDirectoryName(dir.resolve("aeron").toString())
                .ingressUdpChannel(null)
                .tokens(TENANT + "=" + TOKEN + "," + OTHER_TENANT + "=" + OTHER_TOKEN));
    }

    private ClientContext clientContext(final int tenant, final String token)
    {
        return new ClientContext().aeronDirectoryName(node.aeronDirectoryName()).tenant(tenant).token(token);
    }

    private RepriseClient client(final int tenant, final String token, final RepriseClient.Listener listener)
    {
        final RepriseClient client = RepriseClient.connect(clientContext(tenant, token), listener);
        closeables.add(client);
        return client;
    }

    private static void pollUntil(
        final BooleanSupplier done, final RepriseClient client, final RepriseWorker worker,
        final RepriseWorker.AttemptHandler handler)
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        while (!done.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadlineNs, "timed out");
            int work = client.poll();
            if (null != worker)
            {
                work += worker.poll(handler);
            }
            if (work == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
    }

    private static final class States implements RepriseClient.Listener
    {
        final Map<Long, Object[]> byCorrelationId = new HashMap<>();
        final Map<Long, Object[]> refusals = new HashMap<>();
        int finished;

        public void onResponse(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            if (templateId == QuerySessionEncoder.TEMPLATE_ID)
            {
                refusals.put(correlationId, new Object[] {code, templateId});
            }
        }

        public void onSessionFinished(
            final long sessionId, final int destination, final SessionStatus status, final int attempt,
            final int errorCode)
        {
            finished++;
        }

        public void onSessionState(
            final long correlationId, final long sessionId, final ResultCode code, final SessionStatus status,
            final long dueAtMs, final int destination, final int attempt, final int lastErrorCode,
            final long systemTimeMs, final long appliedIndex)
        {
            byCorrelationId.put(correlationId, new Object[] {sessionId, code, status, lastErrorCode});
        }
    }
}
