package io.reprise.transport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clients and workers against a real node over Aeron, once over IPC and once over UDP loopback. */
class EndToEndTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "token-one";
    private static final int OTHER_TENANT = 2;
    private static final String OTHER_TOKEN = "token-two";
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer("hello, worker".getBytes());

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestNode node;

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

    @ParameterizedTest
    @ValueSource(strings = {"ipc", "udp"})
    void shouldRunEveryOutcomeCancelAndRedriveEndToEnd(final String media) throws Exception
    {
        node = TestNode.start(dir, media);
        final Notices notices = new Notices();
        final RepriseClient client = client(media, TENANT, TOKEN, notices);
        final SessionPolicy policy = policy(3);
        for (long id = 1; id <= 4; id++)
        {
            assertEquals(ResultCode.OK, client.saveAndAwait(id, 1, policy, PAYLOAD, 0, PAYLOAD.capacity()));
        }
        assertEquals(ResultCode.DUPLICATE_SESSION, client.saveAndAwait(1, 1, policy, PAYLOAD, 0, PAYLOAD.capacity()));
        // Far in the future, so it is still pending when cancelled.
        assertEquals(ResultCode.OK, client.saveAndAwait(5, 1, new SessionPolicy().initialDelayMs(3_600_000),
            PAYLOAD, 0, PAYLOAD.capacity()));
        assertEquals(ResultCode.OK, client.cancelAndAwait(5));

        // Session 1 succeeds, 2 fails permanently, 3 asks for a retry and then succeeds, 4 fails until dead.
        final Map<Long, List<Integer>> attempts = new ConcurrentHashMap<>();
        final RepriseWorker worker = worker(media, TENANT, TOKEN, new int[] {1}, 8);
        final RepriseWorker.AttemptHandler handler = (tenant, sessionId, destination, attempt, lease, handle, payload, off,
            len) ->
        {
            assertEquals("hello, worker", payload.getStringWithoutLengthAscii(off, len));
            attempts.computeIfAbsent(sessionId, (k) -> new ArrayList<>()).add(attempt);
            final Outcome outcome = sessionId == 1 ? Outcome.SUCCEEDED : sessionId == 2 ? Outcome.FAILED_PERMANENTLY :
                sessionId == 3 ? (attempt == 1 ? Outcome.RETRY : Outcome.SUCCEEDED) : Outcome.RETRY;
            assertTrue(worker.report(sessionId, destination, attempt, handle, outcome, 500, 0) > 0);
        };
        pollUntil(() -> notices.finished.size() >= 5, client, worker, handler);

        assertEquals(SessionStatus.COMPLETED, notices.finished.get(1L));
        assertEquals(SessionStatus.DEAD, notices.finished.get(2L));
        assertEquals(SessionStatus.COMPLETED, notices.finished.get(3L));
        assertEquals(SessionStatus.DEAD, notices.finished.get(4L));
        assertEquals(SessionStatus.CANCELLED, notices.finished.get(5L));
        assertEquals(List.of(1, 2), attempts.get(3L));
        assertEquals(List.of(1, 2, 3), attempts.get(4L));
        assertNull(attempts.get(5L), "a cancelled session is never dispatched");

        // A dead session redriven gets a fresh life; this time it succeeds.
        notices.finished.clear();
        assertEquals(ResultCode.OK, client.redriveSessionAndAwait(4));
        assertEquals(1, client.awaitedValue());
        final RepriseWorker.AttemptHandler succeed = (tenant, sessionId, destination, attempt, lease, handle, payload, off,
            len) -> worker.report(sessionId, destination, attempt, handle, Outcome.SUCCEEDED, 200, 0);
        pollUntil(() -> notices.finished.containsKey(4L), client, worker, succeed);
        assertEquals(SessionStatus.COMPLETED, notices.finished.get(4L));
        assertEquals(ResultCode.NOT_DEAD, client.redriveSessionAndAwait(1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ipc", "udp"})
    void shouldReturnTheAttemptOfAWorkerThatDiesToAnotherAfterItsLease(final String media) throws Exception
    {
        node = TestNode.start(dir, media);
        final Notices notices = new Notices();
        final RepriseClient client = client(media, TENANT, TOKEN, notices);
        assertEquals(ResultCode.OK, client.saveAndAwait(7, 1, policy(5), PAYLOAD, 0, PAYLOAD.capacity()));

        final RepriseWorker doomed = RepriseWorker.connect(clientContext(media, TENANT, TOKEN), new int[] {1}, 1, null);
        final long[] firstAttempt = new long[1];
        pollUntil(() -> firstAttempt[0] != 0, client, doomed,
            (tenant, sessionId, destination, attempt, lease, handle, payload, off, len) -> firstAttempt[0] = attempt);
        doomed.close(); // dies holding attempt 1

        final List<Integer> seen = new ArrayList<>();
        final Set<Long> staleResults = new HashSet<>();
        final RepriseWorker[] survivor = new RepriseWorker[1];
        survivor[0] = worker(media, TENANT, TOKEN, new int[] {1}, 1, (correlationId, code, value) ->
        {
            if (code == ResultCode.STALE_ATTEMPT)
            {
                staleResults.add(correlationId);
            }
        });
        pollUntil(() -> notices.finished.containsKey(7L), client, survivor[0],
            (tenant, sessionId, destination, attempt, lease, handle, payload, off, len) ->
            {
                seen.add(attempt);
                survivor[0].report(sessionId, destination, attempt, handle, Outcome.SUCCEEDED, 200, 0);
            });
        assertEquals(1, firstAttempt[0]);
        assertEquals(List.of(2), seen, "after the lease ran out the attempt came back as attempt 2");
        assertEquals(SessionStatus.COMPLETED, notices.finished.get(7L));

        // The dead worker's attempt, reported late by anyone, is stale.
        final long late = survivor[0].report(7, 1, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 200, 0);
        pollUntil(() -> staleResults.contains(late), client, survivor[0], null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ipc", "udp"})
    void shouldShareADestinationBetweenTwoWorkersWithOneAttemptInFlightPerSession(final String media)
        throws Exception
    {
        node = TestNode.start(dir, media);
        final Notices notices = new Notices();
        final RepriseClient client = client(media, TENANT, TOKEN, notices);
        final int sessions = 200;
        for (long id = 1; id <= sessions; id++)
        {
            // A long lease: the test's one thread connects the second worker while the first holds attempts.
            assertEquals(ResultCode.OK, client.saveAndAwait(id, 3, policy(3).leaseMs(30_000), PAYLOAD, 0,
                PAYLOAD.capacity()));
        }
        final RepriseWorker a = worker(media, TENANT, TOKEN, new int[] {3}, 4);
        final RepriseWorker b = worker(media, TENANT, TOKEN, new int[] {3}, 4);
        final Map<Long, Integer> handledBy = new HashMap<>();
        final int[] perWorker = new int[2];
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (notices.finished.size() < sessions && System.nanoTime() < deadline)
        {
            client.poll();
            final RepriseWorker[] workers = {a, b};
            for (int w = 0; w < 2; w++)
            {
                final int index = w;
                final RepriseWorker worker = workers[w];
                worker.poll((tenant, sessionId, destination, attempt, lease, handle, payload, off, len) ->
                {
                    assertNull(handledBy.put(sessionId, index), "session " + sessionId + " attempt " + attempt +
                        " dispatched twice, now to " + index);
                    perWorker[index]++;
                    assertTrue(worker.inHand() <= 4, "more than 4 attempts in hand");
                    assertTrue(worker.report(sessionId, destination, attempt, handle, Outcome.SUCCEEDED, 200, 0) > 0);
                });
            }
        }
        assertEquals(sessions, notices.finished.size());
        assertEquals(sessions, handledBy.size());
        final io.reprise.engine.repeat.RepeatProcess repeats = node.node.node().repeatProcess();
        assertTrue(perWorker[0] > 0 && perWorker[1] > 0, "both workers took part: " + perWorker[0] + "/" +
            perWorker[1] + " (dispatched " + repeats.dispatched() + ", deferred " + repeats.deferred() +
            ", undeliverable " + repeats.undeliverable() + ", proposals " + repeats.proposals() + ")");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ipc", "udp"})
    void shouldRefuseAForeignTenantAndAWrongToken(final String media) throws Exception
    {
        node = TestNode.start(dir, media);
        final RepriseClient owner = client(media, TENANT, TOKEN, new Notices());
        assertEquals(ResultCode.OK, owner.saveAndAwait(9, 2, new SessionPolicy().initialDelayMs(3_600_000),
            PAYLOAD, 0, PAYLOAD.capacity()));

        final RepriseClient intruder = client(media, OTHER_TENANT, OTHER_TOKEN, new Notices());
        assertEquals(ResultCode.UNKNOWN_SESSION, intruder.cancelAndAwait(9), "another tenant's session is not seen");
        final ConnectException foreignWorker = assertThrows(ConnectException.class,
            () -> RepriseWorker.connect(clientContext(media, OTHER_TENANT, OTHER_TOKEN), new int[] {2}, 1, null));
        assertEquals(ResultCode.FOREIGN_DESTINATION, foreignWorker.code());

        final ConnectException wrongToken = assertThrows(ConnectException.class,
            () -> RepriseClient.connect(clientContext(media, TENANT, OTHER_TOKEN), new Notices()));
        assertEquals(ResultCode.AUTHENTICATION_FAILED, wrongToken.code());

        assertEquals(ResultCode.OK, owner.cancelAndAwait(9), "the owner's own cancel still works");
    }

    // ------------------------------------------------------------------------------------------ helpers

    static SessionPolicy policy(final int maxAttempts)
    {
        return new SessionPolicy().initialDelayMs(0).backoffInitialMs(20).backoffMaxMs(100).jitterPermille(0)
            .maxAttempts(maxAttempts).leaseMs(400);
    }

    private ClientContext clientContext(final String media, final int tenant, final String token)
    {
        return node.clientContext(media).tenant(tenant).token(token);
    }

    private RepriseClient client(final String media, final int tenant, final String token, final Notices notices)
    {
        final RepriseClient client = RepriseClient.connect(clientContext(media, tenant, token), notices);
        closeables.add(client);
        return client;
    }

    private RepriseWorker worker(
        final String media, final int tenant, final String token, final int[] destinations, final int hands)
    {
        return worker(media, tenant, token, destinations, hands, null);
    }

    private RepriseWorker worker(
        final String media, final int tenant, final String token, final int[] destinations, final int hands,
        final RepriseWorker.ReportListener listener)
    {
        final RepriseWorker worker = RepriseWorker.connect(clientContext(media, tenant, token), destinations, hands,
            listener);
        closeables.add(worker);
        return worker;
    }

    private static void pollUntil(
        final BooleanSupplier done, final RepriseClient client, final RepriseWorker worker,
        final RepriseWorker.AttemptHandler handler)
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!done.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "timed out");
            int work = client.poll();
            if (null != worker)
            {
                work += worker.poll(handler);
            }
            if (work == 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    static final class Notices implements RepriseClient.Listener
    {
        final Map<Long, SessionStatus> finished = new ConcurrentHashMap<>();

        public void onResponse(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
        }

        public void onSessionFinished(
            final long sessionId, final int destination, final SessionStatus status, final int attempt,
            final int errorCode)
        {
            finished.put(sessionId, status);
        }
    }

    /** A node with its transport on a private Aeron directory and UDP port. */
    static final class TestNode implements AutoCloseable
    {
        final RepriseNode node;
        final String aeronDir;
        final String udpChannel;

        private TestNode(final RepriseNode node, final String aeronDir, final String udpChannel)
        {
            this.node = node;
            this.aeronDir = aeronDir;
            this.udpChannel = udpChannel;
        }

        static TestNode start(final Path dir, final String media) throws java.io.IOException
        {
            final String aeronDir = dir.resolve("aeron").toString();
            final int port = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(20_000);
            final String udp = "aeron:udp?endpoint=localhost:" + port + "|term-length=4m";
            final RepriseNode node = RepriseNode.start(
                new io.reprise.engine.node.NodeContext()
                    .dataDirectory(dir.resolve("data"))
                    .rules(new io.reprise.engine.logic.BusinessRules().maxSessions(1 << 20).expectedSessions(1 << 12)
                        .maxDestinations(64))
                    .journalSegmentLength(8L * 1024 * 1024)
                    .ringSize(4096),
                new TransportContext()
                    .aeronDirectoryName(aeronDir)
                    .ingressUdpChannel("udp".equals(media) ? udp : null)
                    .clientLivenessTimeoutMs(2_000)
                    .tokens(TENANT + "=" + TOKEN + "," + OTHER_TENANT + "=" + OTHER_TOKEN));
            return new TestNode(node, aeronDir, udp);
        }

        ClientContext clientContext(final String media)
        {
            final ClientContext context = new ClientContext().aeronDirectoryName(aeronDir);
            if ("udp".equals(media))
            {
                context.ingressChannel(udpChannel).responseChannel(ClientContext.UDP_RESPONSE_CHANNEL);
            }
            return context;
        }

        public void close()
        {
            node.close();
        }
    }
}
