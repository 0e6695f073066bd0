package io.reprise.transport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.SessionState;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ConnectEncoder;
import io.reprise.schema.client.ConnectResponseDecoder;
import io.reprise.schema.client.HeartbeatDecoder;
import io.reprise.schema.client.DisconnectEncoder;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.RepeatDispatchDecoder;
import io.reprise.schema.client.ResponseDecoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.client.WorkerAnnounceEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A controller that reads its responses late, over a real node and Aeron. Its response channel has a small term
 * (64 KiB: a window of 32 KiB, about 500 responses), so what the node produces while the client does not read goes
 * past the publication into the client's backlog: within the backlog nothing is lost; past it, the client is
 * disconnected and told why, and learns the truth about its sessions by querying them after it reconnects.
 */
class ClientBacklogTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "backlog-token";
    private static final String SMALL_RESPONSE_CHANNEL = "aeron:ipc?term-length=64k";
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer(new byte[16]);
    private static final long DUE_AT_MS = 4_102_444_800_000L; // 2100-01-01: pending all through the test

    @TempDir
    Path dir;

    private RepriseNode node;
    private Aeron aeron;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        CloseHelper.quietClose(aeron);
        CloseHelper.quietClose(node);
    }

    @Test
    void shouldDeliverEveryResponseToAClientThatReadsLateWithinItsBacklog() throws Exception
    {
        // 1,500 responses: about 500 in the publication's window, the rest (40 bytes each) in a 64 KiB backlog.
        start(64 * 1024, 5_000);
        final Responses responses = new Responses();
        final RepriseClient client = client(responses);
        final int saves = 1_500;
        final long first = saveWithoutReading(client, saves);

        assertTrue(node.node().awaitApplied(30_000), "not applied");
        pollUntil(client, () -> responses.count >= saves);

        assertEquals(saves, responses.count, "every response arrived");
        assertEquals(saves, responses.ok, "all of them OK");
        assertEquals(first + saves - 1, responses.lastCorrelationId, "in the order sent");
        assertEquals(0, responses.outOfOrder, "in the order sent");
        assertEquals(0, counter(NodeCounters.RESPONSES_DROPPED), "no response dropped");
        assertEquals(0, counter(NodeCounters.CLIENTS_TOO_SLOW));
        assertEquals(0, client.reconnects());
        assertNull(responses.closedDetail, "the connection stayed up");
    }

    @Test
    void shouldDisconnectAClientTooSlowForItsBacklogAndTellItWhy() throws Exception
    {
        // The smallest backlog (4 KiB, about 100 responses): 1,500 responses overflow it.
        start(4 * 1024, 10_000);
        final Responses responses = new Responses();
        final RepriseClient client = client(responses);
        final long clientId = client.clientId();
        final int saves = 1_500;
        final long first = saveWithoutReading(client, saves);
        awaitCounter(NodeCounters.CLIENTS_TOO_SLOW, 1);
        awaitCounter(NodeCounters.CONNECTIONS, 0);

        // The client reads again: what its backlog held, then why it was closed; then it waits no longer.
        final long startNs = System.nanoTime();
        assertNull(client.await(first + saves - 1, startNs + 20_000_000_000L),
            "the last save's response never comes: the wait ends with the connection");
        assertTrue(System.nanoTime() - startNs < 5_000_000_000L, "the wait ended with the connection, promptly");
        assertEquals(ResultCode.CLIENT_TOO_SLOW, responses.closedReason, "told why");
        assertTrue(responses.closedDetail.contains("backlog of 4096 bytes overflowed"), responses.closedDetail);
        assertTrue(responses.count > 0 && responses.count < saves, "some responses arrived: " + responses.count);
        assertEquals(responses.count, responses.ok);
        assertEquals(0, responses.outOfOrder);
        assertEquals(first + responses.count - 1, responses.lastCorrelationId,
            "what arrived is the first responses, in order, with none missing between them");

        // The next poll connects again, as a new client.
        client.poll();
        assertEquals(1, client.reconnects());
        assertTrue(client.clientId() != clientId && client.clientId() > 0);
        assertEquals(1, counter(NodeCounters.CLIENTS_TOO_SLOW));
        assertTrue(node.node().awaitApplied(30_000));

        // Every save was applied, answered or not: the queries tell the truth.
        for (long sessionId = 1; sessionId <= saves; sessionId++)
        {
            final SessionState state = client.queryAndAwait(sessionId);
            assertNotNull(state, "no answer for session " + sessionId);
            assertEquals(ResultCode.OK, state.resultCode(), "session " + sessionId);
            assertEquals(SessionStatus.PENDING, state.status(), "session " + sessionId);
            assertEquals(DUE_AT_MS, state.dueAtMs(), "session " + sessionId);
        }
        assertEquals(ResultCode.DUPLICATE_SESSION, client.saveAndAwait(saves, 1, policy(), PAYLOAD, 0,
            PAYLOAD.capacity()), "the new connection works");
    }

    @Test
    void shouldCloseATooSlowClientThatDoesNotReadWithinTheCloseTimeout() throws Exception
    {
        start(4 * 1024, 500);
        final Responses responses = new Responses();
        final RepriseClient client = client(responses);
        saveWithoutReading(client, 1_500);
        awaitCounter(NodeCounters.CLIENTS_TOO_SLOW, 1);
        // Longer than the close timeout: the node gives up on delivering the rest and closes the publication.
        LockSupport.parkNanos(2_000_000_000L);

        pollUntil(client, () -> client.reconnects() == 1);
        assertNull(responses.closedReason, "the connection was lost, not closed with a word: " +
            responses.closedReason);
        assertEquals("connection lost", responses.closedDetail);
        assertEquals(ResultCode.DUPLICATE_SESSION, client.saveAndAwait(1, 1, policy(), PAYLOAD, 0,
            PAYLOAD.capacity()), "the new connection works");
    }

    @Test
    void shouldAnswerAPipelinedAnnouncementAfterTheConnectAndBeforeAnyAttempt() throws Exception
    {
        start(64 * 1024, 5_000);
        final RepriseClient controller = client(new Responses());
        for (long sessionId = 1; sessionId <= 20; sessionId++)
        {
            assertEquals(ResultCode.OK, controller.saveAndAwait(sessionId, 3,
                new SessionPolicy().initialDelayMs(0).leaseMs(60_000), PAYLOAD, 0, PAYLOAD.capacity()));
        }

        // Connect and announce back to back, before the connect is answered: the answer waits for the connect
        // response, and the attempts for the answer.
        final int streamId = 77_777;
        final Subscription responses = aeron.addSubscription(SMALL_RESPONSE_CHANNEL, streamId);
        closeables.add(responses);
        final ExclusivePublication toNode = aeron.addExclusivePublication(
            TransportContext.INGRESS_IPC_CHANNEL_DEFAULT, TransportContext.INGRESS_STREAM_ID_DEFAULT);
        closeables.add(toNode);
        final long deadlineNs = System.nanoTime() + 10_000_000_000L;
        while (!toNode.isConnected())
        {
            assertTrue(System.nanoTime() < deadlineNs, "ingress not connected");
            LockSupport.parkNanos(100_000);
        }
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[512]);
        final MessageHeaderEncoder header = new MessageHeaderEncoder();
        final byte[] token = TOKEN.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(frame, 0, header)
            .correlationId(1).tenant(TENANT).responseStreamId(streamId).role(ClientRole.WORKER)
            .responseChannel(SMALL_RESPONSE_CHANNEL).putToken(token, 0, token.length);
        offer(toNode, frame, MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength());
        final WorkerAnnounceEncoder announce = new WorkerAnnounceEncoder().wrapAndApplyHeader(frame, 0, header)
            .correlationId(2).attemptsInHand(4);
        announce.destinationsCount(1).next().destination(3);
        offer(toNode, frame, MessageHeaderEncoder.ENCODED_LENGTH + announce.encodedLength());

        final List<String> received = new ArrayList<>();
        final MessageHeaderDecoder messageHeader = new MessageHeaderDecoder();
        final ConnectResponseDecoder connectResponse = new ConnectResponseDecoder();
        final ResponseDecoder response = new ResponseDecoder();
        final FragmentHandler handler = (buffer, offset, length, fragmentHeader) ->
        {
            messageHeader.wrap(buffer, offset);
            final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
            switch (messageHeader.templateId())
            {
                case ConnectResponseDecoder.TEMPLATE_ID:
                    connectResponse.wrap(buffer, body, messageHeader.blockLength(), messageHeader.version());
                    received.add("connected " + connectResponse.resultCode());
                    break;
                case ResponseDecoder.TEMPLATE_ID:
                    response.wrap(buffer, body, messageHeader.blockLength(), messageHeader.version());
                    received.add("answer " + response.operatorTemplateId() + " " + response.resultCode());
                    break;
                case RepeatDispatchDecoder.TEMPLATE_ID:
                    received.add("attempt");
                    break;
                case HeartbeatDecoder.TEMPLATE_ID:
                    break;
                default:
                    received.add("template " + messageHeader.templateId());
                    break;
            }
        };
        while (received.size() < 6)
        {
            assertTrue(System.nanoTime() < deadlineNs, "received only " + received);
            if (responses.poll(handler, 10) == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
        assertEquals(List.of("connected OK", "answer 7 OK", "attempt", "attempt", "attempt", "attempt"), received);
    }

    @Test
    void shouldAnswerAnAnnouncementBeforeAnyAttemptWhenTheAnswerWaitsInTheBacklog() throws Exception
    {
        start(64 * 1024, 5_000);
        final RepriseClient controller = client(new Responses());
        for (long sessionId = 1; sessionId <= 20; sessionId++)
        {
            assertEquals(ResultCode.OK, controller.saveAndAwait(sessionId, 3,
                new SessionPolicy().initialDelayMs(0).leaseMs(60_000), PAYLOAD, 0, PAYLOAD.capacity()));
        }
        final RawWorker worker = new RawWorker();

        // 800 refusals fill the worker's publication (about 500) and wait in its backlog (the rest)...
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[512]);
        final MessageHeaderEncoder header = new MessageHeaderEncoder();
        final long refusedBefore = counter(NodeCounters.INGRESS_REFUSED);
        final int refusals = 800;
        for (int i = 0; i < refusals; i++)
        {
            new DisconnectEncoder().wrapAndApplyHeader(frame, 0, header).correlationId(1_000 + i);
            offer(worker.toNode, frame, MessageHeaderEncoder.ENCODED_LENGTH + DisconnectEncoder.BLOCK_LENGTH + 1);
        }
        awaitCounter(NodeCounters.INGRESS_REFUSED, refusedBefore + refusals);
        // ...so the answer to the announcement waits behind them, and the attempts (sent directly) must wait for it.
        final WorkerAnnounceEncoder announce = new WorkerAnnounceEncoder().wrapAndApplyHeader(frame, 0, header)
            .correlationId(2).attemptsInHand(4);
        announce.destinationsCount(1).next().destination(3);
        offer(worker.toNode, frame, MessageHeaderEncoder.ENCODED_LENGTH + announce.encodedLength());
        LockSupport.parkNanos(200_000_000L);

        // It reads slowly: space in its publication frees a little at a time, as for a client that is busy.
        worker.receive(refusals + 1 + 4);
        final List<String> received = worker.received;
        assertEquals("answer 8 MALFORMED_FRAME", received.get(0));
        final int answer = received.indexOf("answer 7 OK");
        assertEquals(refusals, answer, "the refusals, then the answer: " + received.subList(refusals - 2,
            received.size()));
        assertEquals(List.of("attempt", "attempt", "attempt", "attempt"), received.subList(answer + 1, answer + 5));
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** A worker's connection made by hand: it reads only when told to. */
    private final class RawWorker
    {
        final ExclusivePublication toNode;
        final Subscription responses;
        final List<String> received = new ArrayList<>();
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();
        private final ConnectResponseDecoder connectResponse = new ConnectResponseDecoder();
        private final ResponseDecoder response = new ResponseDecoder();
        private final FragmentHandler handler = this::onFragment;

        RawWorker()
        {
            final int streamId = 77_778;
            responses = aeron.addSubscription(SMALL_RESPONSE_CHANNEL, streamId);
            closeables.add(responses);
            toNode = aeron.addExclusivePublication(TransportContext.INGRESS_IPC_CHANNEL_DEFAULT,
                TransportContext.INGRESS_STREAM_ID_DEFAULT);
            closeables.add(toNode);
            final long deadlineNs = System.nanoTime() + 10_000_000_000L;
            while (!toNode.isConnected())
            {
                assertTrue(System.nanoTime() < deadlineNs, "ingress not connected");
                LockSupport.parkNanos(100_000);
            }
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[512]);
            final byte[] token = TOKEN.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(frame, 0, new MessageHeaderEncoder())
                .correlationId(1).tenant(TENANT).responseStreamId(streamId).role(ClientRole.WORKER)
                .responseChannel(SMALL_RESPONSE_CHANNEL).putToken(token, 0, token.length);
            offer(toNode, frame, MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength());
            receive(1);
            assertEquals(List.of("connected OK"), received);
            received.clear();
        }

        void receive(final int count)
        {
            final long deadlineNs = System.nanoTime() + 10_000_000_000L;
            while (received.size() < count)
            {
                assertTrue(System.nanoTime() < deadlineNs, "received only " + received.size());
                responses.poll(handler, 4);
                LockSupport.parkNanos(100_000);
            }
        }

        private void onFragment(
            final org.agrona.DirectBuffer buffer, final int offset, final int length, final io.aeron.logbuffer.Header h)
        {
            header.wrap(buffer, offset);
            final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
            switch (header.templateId())
            {
                case ConnectResponseDecoder.TEMPLATE_ID:
                    connectResponse.wrap(buffer, body, header.blockLength(), header.version());
                    received.add("connected " + connectResponse.resultCode());
                    break;
                case ResponseDecoder.TEMPLATE_ID:
                    response.wrap(buffer, body, header.blockLength(), header.version());
                    received.add("answer " + response.operatorTemplateId() + " " + response.resultCode());
                    break;
                case RepeatDispatchDecoder.TEMPLATE_ID:
                    received.add("attempt");
                    break;
                case HeartbeatDecoder.TEMPLATE_ID:
                    break;
                default:
                    received.add("template " + header.templateId());
                    break;
            }
        }
    }

    private static void offer(final ExclusivePublication publication, final UnsafeBuffer frame, final int length)
    {
        final long deadlineNs = System.nanoTime() + 10_000_000_000L;
        while (publication.offer(frame, 0, length) < 0)
        {
            assertTrue(System.nanoTime() < deadlineNs, "not sent");
            Thread.onSpinWait();
        }
    }

    private void start(final int backlogBytes, final long closeTimeoutMs) throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        node = RepriseNode.start(
            new NodeContext()
                .dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 16).expectedSessions(1 << 12).maxDestinations(16))
                .journalSegmentLength(16L * 1024 * 1024)
                .ringSize(4096),
            new TransportContext()
                .aeronDirectoryName(aeronDir)
                .ingressUdpChannel(null)
                .clientBacklogBytes(backlogBytes)
                .connectTimeoutMs(closeTimeoutMs)
                .tokens(TENANT + "=" + TOKEN));
        aeron = ClientContext.connectAeron(aeronDir);
    }

    private RepriseClient client(final RepriseClient.Listener listener)
    {
        final RepriseClient client = RepriseClient.connect(new ClientContext().aeron(aeron)
            .responseChannel(SMALL_RESPONSE_CHANNEL).tenant(TENANT).token(TOKEN).responseTimeoutMs(10_000), listener);
        closeables.add(client);
        return client;
    }

    private static SessionPolicy policy()
    {
        return new SessionPolicy().dueAtMs(DUE_AT_MS);
    }

    /** Saves sessions 1..count and reads nothing. @return the first correlation id. */
    private static long saveWithoutReading(final RepriseClient client, final int count)
    {
        long first = 0;
        for (long sessionId = 1; sessionId <= count; sessionId++)
        {
            long correlationId;
            while ((correlationId = client.save(sessionId, 1, policy(), PAYLOAD, 0, PAYLOAD.capacity())) < 0)
            {
                assertEquals(RepriseClient.BACK_PRESSURED, correlationId);
                Thread.onSpinWait();
            }
            first = sessionId == 1 ? correlationId : first;
        }
        return first;
    }

    private void pollUntil(final RepriseClient client, final BooleanSupplier done)
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        while (!done.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadlineNs, "timed out");
            if (client.poll() == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
    }

    private void awaitCounter(final int counter, final long value)
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        while (counter(counter) != value)
        {
            assertTrue(System.nanoTime() < deadlineNs, "counter " + NodeCounters.LABELS[counter] + " is " +
                counter(counter) + ", not " + value);
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** A node counter, read as any monitoring tool reads it. */
    private long counter(final int counter)
    {
        final CountersReader reader = aeron.countersReader();
        final long[] value = {Long.MIN_VALUE};
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            if (typeId == NodeCounters.TYPE_ID_BASE + counter)
            {
                value[0] = reader.getCounterValue(counterId);
            }
        });
        assertTrue(value[0] != Long.MIN_VALUE, "no counter " + NodeCounters.LABELS[counter]);
        return value[0];
    }

    private static final class Responses implements RepriseClient.Listener
    {
        int count;
        int ok;
        int outOfOrder;
        long lastCorrelationId;
        ResultCode closedReason;
        String closedDetail;

        public void onResponse(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            if (0 != lastCorrelationId && correlationId != lastCorrelationId + 1)
            {
                outOfOrder++;
            }
            lastCorrelationId = correlationId;
            count++;
            ok += code == ResultCode.OK ? 1 : 0;
        }

        public void onConnectionClosed(final ResultCode reason, final String detail)
        {
            closedReason = reason;
            closedDetail = detail;
        }
    }
}
