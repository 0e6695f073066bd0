package io.reprise.transport;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.state.Destinations;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.client.WorkerAnnounceEncoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Roles are bound to tokens, over a real node and Aeron IPC, with the client libraries as users run them: a token
 * lets its holder connect only as the roles it grants; a controller cannot report, a worker cannot save, cancel,
 * redrive or configure; a worker reports only on a destination it announced, and only a session of that
 * destination. Every refused operator is checked to have changed nothing, and, for those the ingress refuses, to
 * be absent from the journal.
 */
class RoleBindingTest
{
    private static final int TENANT = 1;
    private static final String CONTROLLER_TOKEN = "controller-one";
    private static final String WORKER_TOKEN = "worker-one";
    private static final String BOTH_TOKEN = "both-one";
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer("work".getBytes());
    private static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);
    /** Correlation ids of hand-made frames: far above those the libraries use. */
    private static final long RAW_CORRELATION_ID = 1L << 50;

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[1024]);
    private RepriseNode node;
    private long rawCorrelationId = RAW_CORRELATION_ID;

    @AfterEach
    void tearDown() throws Exception
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            closeables.get(i).close();
        }
        if (null != node)
        {
            node.close();
        }
    }

    @Test
    void shouldRefuseAControllersReportAndLeaveTheSessionToItsWorker() throws IOException
    {
        node = start();
        final Events events = new Events();
        final RepriseClient controller = client(CONTROLLER_TOKEN, events);
        assertEquals(ResultCode.OK, controller.saveAndAwait(7, 1, policy(), PAYLOAD, 0, PAYLOAD.capacity()));
        final Events workerEvents = new Events();
        final RepriseWorker worker = worker(WORKER_TOKEN, new int[] {1}, workerEvents);
        final Attempt attempt = awaitAttempt(worker, controller);
        assertEquals(7, attempt.sessionId);
        assertEquals(1, attempt.attempt);

        // The controller knows everything the dispatch carried, and guesses the rest: all refused at the ingress.
        final long[] correlationIds = {
            sendReport(controller, 7, 1, attempt.attempt, attempt.handle, Outcome.SUCCEEDED),
            sendReport(controller, 7, 1, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED),
            sendReport(controller, 7, 1, 1, OperatorEncoder.NO_HANDLE, Outcome.FAILED_PERMANENTLY)};
        for (final long correlationId : correlationIds)
        {
            assertEquals(ResultCode.ROLE_NOT_ALLOWED, awaitResponse(events, correlationId, controller, worker));
        }
        assertEquals(1, figures().get(1, DestinationFigures.IN_FLIGHT), "the session is still in flight");
        assertNull(events.finished.get(7L));

        // Its worker still completes it, at the attempt it holds.
        final long report = worker.report(7, attempt.destination, attempt.attempt, attempt.handle, Outcome.SUCCEEDED,
            200, 0);
        assertEquals(ResultCode.OK, awaitResponse(workerEvents, report, controller, worker));
        pollUntil(() -> events.finished.containsKey(7L), controller, worker);
        assertEquals(SessionStatus.COMPLETED, events.finished.get(7L));
        assertEquals(1, events.finishedAttempt.get(7L));

        final long controllerId = controller.clientId();
        final long workerId = worker.clientId();
        closeAll();
        assertEquals(List.of(), templatesInJournalFrom(controllerId, ReportOutcomeDecoder.TEMPLATE_ID),
            "a refused report reached the ring");
        assertEquals(List.of(ReportOutcomeDecoder.TEMPLATE_ID), templatesInJournalFrom(workerId, -1));
    }

    @Test
    void shouldRefuseAWorkersControllerOperatorsAndChangeNothing() throws IOException
    {
        node = start();
        final Events events = new Events();
        final RepriseClient controller = client(CONTROLLER_TOKEN, events);
        final SessionPolicy later = new SessionPolicy().initialDelayMs(3_600_000);
        assertEquals(ResultCode.OK, controller.saveAndAwait(8, 2, later, PAYLOAD, 0, PAYLOAD.capacity()));
        assertEquals(ResultCode.OK, controller.saveAndAwait(10, 1, policy().maxAttempts(1), PAYLOAD, 0,
            PAYLOAD.capacity()));
        final Events workerEvents = new Events();
        final RepriseWorker worker = worker(WORKER_TOKEN, new int[] {1}, workerEvents);
        final Attempt attempt = awaitAttempt(worker, controller);
        final long failed = worker.report(10, attempt.destination, attempt.attempt, attempt.handle,
            Outcome.FAILED_PERMANENTLY, 410, 0);
        assertEquals(ResultCode.OK, awaitResponse(workerEvents, failed, controller, worker));
        pollUntil(() -> events.finished.containsKey(10L), controller, worker);
        assertEquals(SessionStatus.DEAD, events.finished.get(10L));

        // Save 9, cancel 8, redrive 10 and destination 1, claim destination 3: none is a worker's to do.
        for (int which = 0; which < 5; which++)
        {
            final long correlationId = RAW_CORRELATION_ID + which;
            final int length = controllerOperator(which, correlationId, later);
            assertEquals(0, worker.sendRaw(frame, 0, length));
            assertEquals(ResultCode.ROLE_NOT_ALLOWED, awaitResponse(workerEvents, correlationId, controller, worker),
                "operator " + which);
        }

        // Nothing changed: 9 was never saved, 8 is still pending, 10 still dead, destination 3 still free.
        assertEquals(ResultCode.UNKNOWN_SESSION, controller.cancelAndAwait(9));
        assertEquals(Destinations.NO_OWNER, figures().get(3, DestinationFigures.OWNER));
        assertEquals(ResultCode.OK, controller.cancelAndAwait(8));
        assertEquals(ResultCode.OK, controller.redriveSessionAndAwait(10));
        assertEquals(1, controller.awaitedValue());

        final long workerId = worker.clientId();
        closeAll();
        assertEquals(List.of(ReportOutcomeDecoder.TEMPLATE_ID), templatesInJournalFrom(workerId, -1),
            "only the worker's own report reached the ring");
    }

    @Test
    void shouldRefuseAnAnnouncementFromAController() throws IOException
    {
        node = start();
        final Events events = new Events();
        final RepriseClient controller = client(CONTROLLER_TOKEN, events);
        final WorkerAnnounceEncoder announce = new WorkerAnnounceEncoder()
            .wrapAndApplyHeader(frame, 0, new MessageHeaderEncoder())
            .correlationId(RAW_CORRELATION_ID)
            .attemptsInHand(4);
        announce.destinationsCount(1).next().destination(1);
        assertEquals(0, controller.sendRaw(frame, 0, MessageHeaderEncoder.ENCODED_LENGTH + announce.encodedLength()));
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, awaitResponse(events, RAW_CORRELATION_ID, controller));
    }

    @Test
    void shouldConnectOnlyAsTheRolesTheTokenGrants() throws IOException
    {
        node = start();
        final ConnectException workerWithControllerToken = assertThrows(ConnectException.class,
            () -> RepriseWorker.connect(context(CONTROLLER_TOKEN), new int[] {1}, 1, null));
        assertEquals(ResultCode.AUTHENTICATION_FAILED, workerWithControllerToken.code());
        assertTrue(workerWithControllerToken.getMessage().contains("token of tenant 1 does not grant the role WORKER"),
            workerWithControllerToken.getMessage());
        assertFalse(workerWithControllerToken.getMessage().contains(CONTROLLER_TOKEN));

        final ConnectException controllerWithWorkerToken = assertThrows(ConnectException.class,
            () -> RepriseClient.connect(context(WORKER_TOKEN), new Events()));
        assertEquals(ResultCode.AUTHENTICATION_FAILED, controllerWithWorkerToken.code());
        assertTrue(controllerWithWorkerToken.getMessage().contains(
            "token of tenant 1 does not grant the role CONTROLLER"), controllerWithWorkerToken.getMessage());
        assertFalse(controllerWithWorkerToken.getMessage().contains(WORKER_TOKEN));

        // T=TOKEN grants both roles.
        final Events events = new Events();
        final RepriseClient controller = client(BOTH_TOKEN, events);
        final Events workerEvents = new Events();
        final RepriseWorker worker = worker(BOTH_TOKEN, new int[] {4}, workerEvents);
        assertEquals(ResultCode.OK, controller.saveAndAwait(30, 4, policy(), PAYLOAD, 0, PAYLOAD.capacity()));
        final Attempt attempt = awaitAttempt(worker, controller);
        final long report = worker.report(30, attempt.destination, attempt.attempt, attempt.handle, Outcome.SUCCEEDED,
            200, 0);
        assertEquals(ResultCode.OK, awaitResponse(workerEvents, report, controller, worker));
        pollUntil(() -> events.finished.containsKey(30L), controller, worker);
        assertEquals(SessionStatus.COMPLETED, events.finished.get(30L));
    }

    @Test
    void shouldTakeAReportOnlyFromAWorkerOfTheSessionsDestination() throws IOException
    {
        node = start();
        final Events events = new Events();
        final RepriseClient controller = client(CONTROLLER_TOKEN, events);
        assertEquals(ResultCode.OK, controller.saveAndAwait(20, 2, policy(), PAYLOAD, 0, PAYLOAD.capacity()));
        final Events ownerEvents = new Events();
        final RepriseWorker owner = worker(WORKER_TOKEN, new int[] {2}, ownerEvents);
        final Attempt attempt = awaitAttempt(owner, controller);
        assertEquals(20, attempt.sessionId);
        assertEquals(2, attempt.destination);

        // A worker of the same tenant serving destination 1 knows the session, its attempt and its handle.
        final Events otherEvents = new Events();
        final RepriseWorker other = worker(WORKER_TOKEN, new int[] {1}, otherEvents);
        // Naming its own destination: the ingress lets it through, the business logic refuses it.
        final long ownDestination = other.report(20, 1, attempt.attempt, attempt.handle, Outcome.SUCCEEDED, 200, 0);
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, awaitResponse(otherEvents, ownDestination, controller, other));
        assertEquals(0, otherEvents.values.get(ownDestination), "the answer tells nothing of the attempt");
        // Naming the session's destination, which it did not announce: the ingress refuses it.
        final long notAnnounced = other.report(20, 2, attempt.attempt, attempt.handle, Outcome.SUCCEEDED, 200, 0);
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, awaitResponse(otherEvents, notAnnounced, controller, other));
        // Naming no destination at all (log schema version 1): the ingress cannot check it, so it refuses it.
        final int length = asVersion1(encoder.reportOutcome(frame, 0, 0, RAW_CORRELATION_ID, TENANT, 20, 1,
            attempt.attempt, attempt.handle, Outcome.SUCCEEDED, 200, 0, EMPTY, 0, 0));
        assertEquals(0, other.sendRaw(frame, 0, length));
        assertEquals(ResultCode.UNSUPPORTED_VERSION, awaitResponse(otherEvents, RAW_CORRELATION_ID, controller, other));

        assertEquals(1, figures().get(2, DestinationFigures.IN_FLIGHT), "the session is still in flight");
        assertNull(events.finished.get(20L));
        final long report = owner.report(20, 2, attempt.attempt, attempt.handle, Outcome.SUCCEEDED, 200, 0);
        assertEquals(ResultCode.OK, awaitResponse(ownerEvents, report, controller, owner));
        pollUntil(() -> events.finished.containsKey(20L), controller, owner);
        assertEquals(SessionStatus.COMPLETED, events.finished.get(20L));
        assertEquals(1, events.finishedAttempt.get(20L));

        final long otherId = other.clientId();
        closeAll();
        assertEquals(List.of(ReportOutcomeDecoder.TEMPLATE_ID), templatesInJournalFrom(otherId, -1),
            "only the report naming a destination the worker serves reached the ring");
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static SessionPolicy policy()
    {
        // A long lease: an attempt stays in flight for the whole test.
        return new SessionPolicy().initialDelayMs(0).backoffInitialMs(20).backoffMaxMs(100).jitterPermille(0)
            .maxAttempts(3).leaseMs(60_000);
    }

    private RepriseNode start() throws IOException
    {
        return RepriseNode.start(
            new NodeContext()
                .dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 16).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(8L * 1024 * 1024)
                .ringSize(1024),
            new TransportContext()
                .aeronDirectoryName(dir.resolve("aeron").toString())
                .ingressUdpChannel(null)
                .clientLivenessTimeoutMs(2_000)
                .tokens(TENANT + ":controller=" + CONTROLLER_TOKEN + "," + TENANT + ":worker=" + WORKER_TOKEN + "," +
                    TENANT + "=" + BOTH_TOKEN + ",2=token-two"));
    }

    private DestinationFigures figures()
    {
        return node.node().destinationFigures();
    }

    private ClientContext context(final String token)
    {
        return new ClientContext().aeronDirectoryName(dir.resolve("aeron").toString()).tenant(TENANT).token(token);
    }

    private RepriseClient client(final String token, final Events events)
    {
        final RepriseClient client = RepriseClient.connect(context(token), events);
        closeables.add(client);
        return client;
    }

    private RepriseWorker worker(final String token, final int[] destinations, final Events events)
    {
        final RepriseWorker worker = RepriseWorker.connect(context(token), destinations, 1, events);
        closeables.add(worker);
        return worker;
    }

    private void closeAll() throws IOException
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            try
            {
                closeables.get(i).close();
            }
            catch (final Exception ex)
            {
                throw new IOException(ex);
            }
        }
        closeables.clear();
        node.close();
    }

    /** A ReportOutcome in the frame buffer, sent raw by a controller. */
    private long sendReport(
        final RepriseClient controller, final long sessionId, final int destination, final int attempt,
        final int handle, final Outcome outcome)
    {
        final long correlationId = ++rawCorrelationId;
        final int length = encoder.reportOutcome(frame, 0, 0, correlationId, TENANT, sessionId, destination, attempt,
            handle, outcome, 200, 0, EMPTY, 0, 0);
        assertEquals(0, controller.sendRaw(frame, 0, length));
        return correlationId;
    }

    /** A controller's operator into the frame buffer: save 9, cancel 8, redrive 10 or destination 1, configure 3. */
    private int controllerOperator(final int which, final long correlationId, final SessionPolicy later)
    {
        switch (which)
        {
            case 0:
                return encoder.saveSession(frame, 0, 0, correlationId, TENANT, 9, 1, later, PAYLOAD, 0,
                    PAYLOAD.capacity());
            case 1:
                return encoder.cancelSession(frame, 0, 0, correlationId, TENANT, 8);
            case 2:
                return encoder.redriveSession(frame, 0, 0, correlationId, TENANT, 10);
            case 3:
                return encoder.redriveDestination(frame, 0, 0, correlationId, TENANT, 1, 10);
            default:
                return encoder.configureDestination(frame, 0, 0, correlationId, TENANT, 3, 5);
        }
    }

    /** Rewrites the report in the frame buffer as log schema version 1 wrote it: no destination. */
    private int asVersion1(final int length)
    {
        final int header = MessageHeaderDecoder.ENCODED_LENGTH;
        final int oldEnd = header + ReportOutcomeEncoder.destinationEncodingOffset();
        final int newEnd = header + ReportOutcomeEncoder.BLOCK_LENGTH;
        frame.putBytes(oldEnd, frame, newEnd, length - newEnd);
        frame.putShort(0, (short)ReportOutcomeEncoder.destinationEncodingOffset(), ByteOrder.LITTLE_ENDIAN);
        frame.putShort(6, (short)1, ByteOrder.LITTLE_ENDIAN);
        return length - (newEnd - oldEnd);
    }

    private record Attempt(long sessionId, int destination, int attempt, int handle)
    {
    }

    /** Polls until the worker is handed an attempt, which it keeps without reporting. */
    private static Attempt awaitAttempt(final RepriseWorker worker, final RepriseClient controller)
    {
        final Attempt[] attempt = new Attempt[1];
        final RepriseWorker.AttemptHandler handler = (tenant, sessionId, destination, number, lease, handle, payload,
            offset, length) -> attempt[0] = new Attempt(sessionId, destination, number, handle);
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        while (null == attempt[0])
        {
            assertTrue(System.nanoTime() < deadlineNs, "no attempt dispatched");
            if (worker.poll(handler) + controller.poll() == 0)
            {
                Thread.onSpinWait();
            }
        }
        return attempt[0];
    }

    private static ResultCode awaitResponse(
        final Events events, final long correlationId, final RepriseClient controller, final RepriseWorker... workers)
    {
        pollUntil(() -> events.codes.containsKey(correlationId), controller, workers);
        return events.codes.get(correlationId);
    }

    private static void pollUntil(
        final BooleanSupplier done, final RepriseClient controller, final RepriseWorker... workers)
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        while (!done.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadlineNs, "timed out");
            int work = controller.poll();
            for (final RepriseWorker worker : workers)
            {
                work += worker.poll((t, s, d, a, l, h, p, o, n) -> { });
            }
            if (work == 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    /** The template ids of the journal's client operators that {@code clientId} sent, or only of {@code template}. */
    private List<Integer> templatesInJournalFrom(final long clientId, final int template) throws IOException
    {
        final List<Integer> templates = new ArrayList<>();
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), dir.resolve("data").resolve("journal"))
            .from(1))
        {
            JournalReader.Status status;
            while ((status = reader.next()) != JournalReader.Status.END)
            {
                assertEquals(JournalReader.Status.RECORD, status, reader.describeProblem());
                final DirectBuffer buffer = reader.buffer();
                final int offset = reader.operatorOffset();
                final int templateId = buffer.getShort(offset + 2, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
                // Client operators (10 to 14) start with the client id the ingress stamped in.
                if (templateId >= 10 && templateId <= 14 &&
                    buffer.getLong(offset + MessageHeaderDecoder.ENCODED_LENGTH, ByteOrder.LITTLE_ENDIAN) == clientId &&
                    (template < 0 || templateId == template))
                {
                    templates.add(templateId);
                }
            }
        }
        return templates;
    }

    /** A controller's responses and notices, or a worker's report results, as they arrive. */
    private static final class Events implements RepriseClient.Listener, RepriseWorker.ReportListener
    {
        final Map<Long, ResultCode> codes = new ConcurrentHashMap<>();
        final Map<Long, Long> values = new ConcurrentHashMap<>();
        final Map<Long, SessionStatus> finished = new ConcurrentHashMap<>();
        final Map<Long, Integer> finishedAttempt = new ConcurrentHashMap<>();

        public void onResponse(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            codes.put(correlationId, code);
            values.put(correlationId, value);
        }

        public void onReportResult(final long correlationId, final ResultCode code, final long value)
        {
            onResponse(correlationId, ReportOutcomeDecoder.TEMPLATE_ID, code, value);
        }

        public void onSessionFinished(
            final long sessionId, final int destination, final SessionStatus status, final int attempt,
            final int errorCode)
        {
            finished.put(sessionId, status);
            finishedAttempt.put(sessionId, attempt);
        }
    }
}
