package io.reprise.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ConnectEncoder;
import io.reprise.schema.client.ConnectResponseDecoder;
import io.reprise.schema.client.DisconnectEncoder;
import io.reprise.schema.client.QuerySessionEncoder;
import io.reprise.schema.client.ResponseDecoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStateDecoder;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.client.WorkerAnnounceEncoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.RedriveDeadEncoder;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SaveSessionEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #5, bad input: a fuzzing client sends at least 10^5 random and mutated frames to a node's ingress while a
 * correct client of another tenant keeps saving and cancelling.
 * <p>
 * Every fuzz frame is invalid by construction, and for each the test knows the error it must get: the ingress's
 * answer for what fails its frame checks or what the sender's role may not send (a controller's report, a worker's
 * save, a report naming a destination its worker did not announce, a connect as a role the token does not grant),
 * the business logic's for what is well formed but refused (negative destination, invalid policy, unknown session,
 * stale attempt, a report naming another destination than the session's, out-of-range enum values...), for a
 * well-formed QuerySession the session state UNKNOWN_SESSION (the fuzz tenant asks only for sessions it does not
 * have), and for a Connect the node cannot parse, a drop counted in the node's "ingress frames dropped" counter. The
 * accounting is exact: responses that carry a frame's correlation id are matched to it one by one and their code
 * checked; the others (frames too short to hold a correlation id, random bytes) are compared as a histogram of
 * codes; and {@code refused + dropped + fuzz entries in the journal + session states == frames sent}, from the
 * node's own counters and journal.
 * No fuzz frame may get OK.
 * <p>
 * After the run the node's journal is replayed offline twice: whole (every fuzz entry in it must be refused by the
 * business logic) and without the fuzzing clients' entries (known by the client id the ingress stamps in). Both
 * digests must equal the live node's: the fuzz changed nothing.
 * <p>
 * Reproduce a run with {@code -Dreprise.fuzz.seed=N}; {@code -Dreprise.fuzz.frames=N} changes the number of frames.
 */
class IngressFuzzTest
{
    private static final String SEED_PROP_NAME = "reprise.fuzz.seed";
    private static final String FRAMES_PROP_NAME = "reprise.fuzz.frames";

    private static final int CORRECT_TENANT = 1;
    private static final String CORRECT_TOKEN = "correct-token";
    private static final int FUZZ_TENANT = 2;
    private static final String FUZZ_TOKEN = "fuzz-token";
    /** Tokens of the fuzz tenant bound to one role: the fuzzers connect with these. */
    private static final String FUZZ_CONTROLLER_TOKEN = "fuzz-controller-token";
    private static final String FUZZ_WORKER_TOKEN = "fuzz-worker-token";

    private static final int MAX_DESTINATIONS = 64;
    private static final int MAX_PAYLOAD = 256;
    private static final int MAX_ERROR_TEXT = 64;
    private static final int MAX_IN_FLIGHT_LIMIT = 1 << 20;
    private static final int CLIENT_SCHEMA_VERSION = io.reprise.schema.client.MessageHeaderDecoder.SCHEMA_VERSION;
    private static final int MAX_REDRIVE_BATCH = 10_000;
    private static final long MAX_LEASE_MS = 24L * 60 * 60 * 1000;
    /** Owned by the correct tenant before the fuzz starts. */
    private static final int CORRECT_DESTINATION = 1;
    /** Owned by the fuzz tenant before the fuzz starts. */
    private static final int FUZZ_DESTINATION = 5;
    /** Owned by the fuzz tenant, without sessions; the reporting fuzzer serves it too. */
    private static final int FUZZ_DESTINATION_2 = 6;
    /** What the reporting fuzzer announces: its reports must name one of these to reach the business logic. */
    private static final int[] REPORTER_DESTINATIONS = {FUZZ_DESTINATION, FUZZ_DESTINATION_2};
    /** Sessions of the fuzz tenant, saved by a setup client (not a fuzzer): one pending, one cancelled. */
    private static final long PENDING_SESSION = 1;
    private static final long CANCELLED_SESSION = 2;
    /** Session ids the fuzz tenant never has. */
    private static final long UNKNOWN_SESSIONS_FROM = 1_000_000;

    private static final String CONNECT_RESPONSE_CHANNEL = "aeron:ipc?term-length=64k";
    private static final int CONNECT_RESPONSE_STREAM = 4242;
    private static final long CORRELATION_BASE = 0x5EED_0000_0000_0000L;
    /** Most frames sent and not yet answered; keeps the fuzzer's response stream clear of back-pressure. */
    private static final int WINDOW = 2048;
    private static final int CORRELATION_OFFSET = 16;
    private static final int CLIENT_CORRELATION_OFFSET = 8;

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private RepriseNode node;
    private Aeron aeron;

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

    enum Kind
    {
        RANDOM_BYTES(250),
        TRUNCATED(70),
        TRAILING_BYTES(50),
        WRONG_SCHEMA(40),
        WRONG_VERSION(40),
        UNKNOWN_TEMPLATE(40),
        SYSTEM_TEMPLATE(30),
        BLOCK_LENGTH_TOO_SMALL(40),
        BLOCK_LENGTH_TOO_LARGE(40),
        VAR_LENGTH_WRONG(50),
        OVER_LIMIT(30),
        ENUM_OUT_OF_RANGE(40),
        REFUSED_BY_LOGIC(160),
        CONNECT_REFUSED(3),
        CONNECT_MALFORMED(12),
        CONNECT_BAD_CHANNEL(2),
        CONNECT_WRONG_VERSION(5),
        ANNOUNCE_INVALID(30),
        DISCONNECT_INVALID(20),
        QUERY(30),
        CLIENT_UNKNOWN_TEMPLATE(10),
        ROLE_REFUSED(80);

        final int weight;

        Kind(final int weight)
        {
            this.weight = weight;
        }
    }

    @Test
    @Timeout(300)
    void shouldAnswerEveryBadFrameWithAnErrorAndKeepServingCorrectClients() throws Exception
    {
        final long seed = Long.getLong(SEED_PROP_NAME, System.nanoTime());
        final int frames = Integer.getInteger(FRAMES_PROP_NAME, 100_000);
        System.out.println("IngressFuzzTest seed=" + seed + " frames=" + frames + " (reproduce with -D" +
            SEED_PROP_NAME + "=" + seed + ")");
        final long startNs = System.nanoTime();

        final TransportContext transport = new TransportContext()
            .aeronDirectoryName(dir.resolve("aeron").toString())
            .ingressUdpChannel(null)
            .clientLivenessTimeoutMs(5_000)
            .tokens(CORRECT_TENANT + "=" + CORRECT_TOKEN + "," + FUZZ_TENANT + "=" + FUZZ_TOKEN + "," +
                FUZZ_TENANT + ":controller=" + FUZZ_CONTROLLER_TOKEN + "," + FUZZ_TENANT + ":worker=" +
                FUZZ_WORKER_TOKEN);
        node = RepriseNode.start(new NodeContext()
            .dataDirectory(dir.resolve("data"))
            .rules(rules())
            .journalSegmentLength(64L * 1024 * 1024)
            .ringSize(4096), transport);
        aeron = io.reprise.client.ClientContext.connectAeron(transport.aeronDirectoryName());
        final Counters counters = new Counters(aeron.countersReader());

        // Setup, all correct operators: the correct tenant owns its destination, the fuzz tenant has a pending and
        // a cancelled session on its own destination (so that stale attempts and finished sessions can be fuzzed).
        final CorrectClient correct = new CorrectClient(clientContext(CORRECT_TENANT, CORRECT_TOKEN));
        closeables.add(correct.client);
        correct.saveAndCancel();
        final SessionPolicy delayed = new SessionPolicy().initialDelayMs(3_600_000);
        final UnsafeBuffer setupPayload = new UnsafeBuffer("setup".getBytes(StandardCharsets.US_ASCII));
        try (RepriseClient setup = RepriseClient.connect(clientContext(FUZZ_TENANT, FUZZ_TOKEN), (c, t, r, v) -> { }))
        {
            assertEquals(ResultCode.OK, setup.saveAndAwait(PENDING_SESSION, FUZZ_DESTINATION, delayed, setupPayload,
                0, setupPayload.capacity()));
            assertEquals(ResultCode.OK, setup.saveAndAwait(CANCELLED_SESSION, FUZZ_DESTINATION, delayed,
                setupPayload, 0, setupPayload.capacity()));
            assertEquals(ResultCode.OK, setup.cancelAndAwait(CANCELLED_SESSION));
            assertEquals(ResultCode.OK, setup.configureDestinationAndAwait(FUZZ_DESTINATION_2, 8));
        }

        // The fuzzers, all of the fuzz tenant, with tokens bound to their role: a controller (the client library,
        // raw frames through sendRaw), a worker that has not announced (a raw connection, so that WorkerAnnounce
        // checks past the role check are reached), and a worker that announced its destinations (the reporter).
        final Accounting accounting = new Accounting();
        final RepriseClient fuzzController = client(FUZZ_TENANT, FUZZ_CONTROLLER_TOKEN, new RepriseClient.Listener()
        {
            public void onResponse(final long correlationId, final int templateId, final ResultCode code,
                final long value)
            {
                accounting.onResponse(correlationId, code);
            }

            public void onSessionState(
                final long correlationId, final long sessionId, final ResultCode code, final SessionStatus status,
                final long dueAtMs, final int destination, final int attempt, final int lastErrorCode,
                final long systemTimeMs, final long appliedIndex)
            {
                accounting.onSessionState(correlationId, code);
            }
        });
        final RawConnection fuzzWorker = new RawConnection(aeron, transport, FUZZ_TENANT, FUZZ_WORKER_TOKEN,
            ClientRole.WORKER, null, accounting::onRawMessage);
        closeables.add(fuzzWorker);
        final RawConnection fuzzReporter = new RawConnection(aeron, transport, FUZZ_TENANT, FUZZ_WORKER_TOKEN,
            ClientRole.WORKER, REPORTER_DESTINATIONS, accounting::onRawMessage);
        closeables.add(fuzzReporter);
        final Fuzzers fuzzers = new Fuzzers(fuzzController, fuzzWorker, fuzzReporter);
        final Subscription connectResponses = aeron.addSubscription(CONNECT_RESPONSE_CHANNEL,
            CONNECT_RESPONSE_STREAM);
        closeables.add(connectResponses);
        final FragmentAssembler connectAssembler = new FragmentAssembler(accounting::onRawMessage);
        final long fuzzControllerId = fuzzController.clientId();
        final long fuzzWorkerId = fuzzWorker.clientId;
        final long fuzzReporterId = fuzzReporter.clientId;
        assertTrue(fuzzControllerId > 0 && fuzzWorkerId > 0 && fuzzReporterId > 0 && fuzzControllerId != fuzzWorkerId &&
            fuzzReporterId != fuzzWorkerId && fuzzReporterId != fuzzControllerId);

        final long refusedBefore = counters.get(NodeCounters.INGRESS_REFUSED);
        final long droppedBefore = counters.get(NodeCounters.INGRESS_DROPPED);
        final long responsesDroppedBefore = counters.get(NodeCounters.RESPONSES_DROPPED);
        final long errorsBefore = counters.get(NodeCounters.ERRORS);

        final Thread correctThread = new Thread(correct, "correct-client");
        correctThread.start();

        // ---------------------------------------------------------------------------------- fuzz
        final FrameFactory factory = new FrameFactory(new SplittableRandom(seed));
        final Map<Kind, Integer> sentByKind = new EnumMap<>(Kind.class);
        final long[] correctOkAtQuarter = new long[5];
        final long fuzzStartNs = System.nanoTime();
        long backPressured = 0;
        long expectedDropped = 0;
        int sent = 0;
        correctOkAtQuarter[0] = correct.oks.get();
        while (sent < frames)
        {
            final Frame frame = factory.next();
            // Keep the responses within the window: the fuzzer reads them while it sends.
            final long stuckNs = System.nanoTime() + 30_000_000_000L;
            while (accounting.awaitingReply() > WINDOW)
            {
                if (fuzzers.poll(connectResponses, connectAssembler) == 0)
                {
                    LockSupport.parkNanos(20_000);
                }
                assertNull(correct.failure, correct.failure);
                assertTrue(System.nanoTime() < stuckNs, "no replies for 30 s after " + sent + " frames; missing " +
                    describe(accounting.pending) + "; dropped " + (counters.get(NodeCounters.INGRESS_DROPPED) -
                    droppedBefore) + ", expected " + expectedDropped + "; without a correlation id, expected " +
                    accounting.anonymousExpected + " received " + accounting.anonymousReceived + "; duplicates " +
                    accounting.duplicates + ", OK " + accounting.okReplies + ", other " + accounting.otherMessages +
                    ", by kind " + accounting.codes);
            }
            long result;
            while ((result = fuzzers.offer(frame)) < 0)
            {
                assertEquals(RepriseClient.BACK_PRESSURED, result, "fuzzer lost its connection");
                backPressured++;
                if (fuzzers.poll(connectResponses, connectAssembler) == 0)
                {
                    LockSupport.parkNanos(20_000);
                }
            }
            accounting.onSent(frame);
            sentByKind.merge(frame.kind, 1, Integer::sum);
            expectedDropped += frame.dropped ? 1 : 0;
            sent++;
            if (sent % (frames / 4) == 0 && sent / (frames / 4) <= 4)
            {
                correctOkAtQuarter[sent / (frames / 4)] = correct.oks.get();
            }
            fuzzers.poll(connectResponses, connectAssembler);
            if (sent % 10_000 == 0)
            {
                System.out.println("IngressFuzzTest " + sent + " frames sent, " + accounting.replies() +
                    " replies, " + (System.nanoTime() - fuzzStartNs) / 1_000_000 + " ms");
            }
        }
        final long fuzzSendNs = System.nanoTime() - fuzzStartNs;

        // Wait until every frame is accounted for.
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        long dropped;
        while ((dropped = counters.get(NodeCounters.INGRESS_DROPPED) - droppedBefore) + accounting.replies() < sent &&
            System.nanoTime() < deadlineNs)
        {
            if (fuzzers.poll(connectResponses, connectAssembler) == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
        // A little longer, to see any reply that should not come.
        final long lingerNs = System.nanoTime() + 200_000_000L;
        while (System.nanoTime() < lingerNs)
        {
            if (fuzzers.poll(connectResponses, connectAssembler) == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
        correct.stop = true;
        correctThread.join(30_000);
        final long refused = counters.get(NodeCounters.INGRESS_REFUSED) - refusedBefore;
        dropped = counters.get(NodeCounters.INGRESS_DROPPED) - droppedBefore;
        final long responsesDropped = counters.get(NodeCounters.RESPONSES_DROPPED) - responsesDroppedBefore;
        final long ingressErrors = counters.get(NodeCounters.ERRORS) - errorsBefore;

        System.out.println("IngressFuzzTest sent " + sent + " frames in " + fuzzSendNs / 1_000_000 + " ms (" +
            backPressured + " offers back-pressured and retried): " + sentByKind);
        System.out.println("IngressFuzzTest replies: matched by correlation id " + accounting.matched +
            ", without one " + accounting.anonymousReceived + "; counters: refused " + refused + ", dropped " +
            dropped + " (expected " + expectedDropped + "), responses dropped " + responsesDropped +
            ", ingress errors " + ingressErrors);
        System.out.println("IngressFuzzTest codes: " + accounting.codes);
        System.out.println("IngressFuzzTest correct client: " + correct.oks.get() + " OK responses, at the quarters " +
            java.util.Arrays.toString(correctOkAtQuarter) + ", longest wait " + correct.maxLatencyNs / 1_000_000 +
            " ms");

        // The correct client was served all along.
        assertNull(correct.failure, correct.failure);
        for (int q = 1; q <= 4; q++)
        {
            assertTrue(correctOkAtQuarter[q] > correctOkAtQuarter[q - 1], "the correct client made no progress in " +
                "quarter " + q + " of the fuzz: " + java.util.Arrays.toString(correctOkAtQuarter));
        }

        // Every fuzz frame got its error or was dropped and counted; none got OK.
        assertEquals(0, ingressErrors, "the ingress agent threw");
        assertEquals(0, responsesDropped, "responses were lost, so the accounting would not be exact");
        assertEquals(0, accounting.okReplies, "fuzz frames answered OK");
        assertEquals(List.of(), accounting.wrongCodes, "frames answered with another error than expected");
        assertEquals(0, accounting.duplicates, "frames answered twice");
        assertEquals(0, accounting.pending.size(), "frames with a correlation id never answered: " +
            describe(accounting.pending));
        assertEquals(accounting.anonymousExpected, accounting.anonymousReceived,
            "frames without a correlation id: expected codes vs. received codes");
        assertEquals(expectedDropped, dropped, "dropped (and counted) frames");
        assertEquals(sent, accounting.replies() + dropped, "every frame answered or dropped");
        assertEquals(0, fuzzController.reconnects(), "a fuzz frame closed the fuzzer's connection");
        assertEquals(fuzzControllerId, fuzzController.clientId());

        // ---------------------------------------------------------------------------------- digests
        CloseHelper.closeAll(correct.client, fuzzController, fuzzWorker, fuzzReporter);
        closeables.clear();
        node.close();
        final long liveDigest = node.node().logic().digest();

        final LongHashSet fuzzerIds = new LongHashSet();
        fuzzerIds.add(fuzzControllerId);
        fuzzerIds.add(fuzzWorkerId);
        fuzzerIds.add(fuzzReporterId);
        final Replay replay = replay(dir.resolve("data").resolve("journal"), fuzzerIds);
        System.out.println("IngressFuzzTest journal: " + replay.records + " records, " + replay.fuzzEntries +
            " from the fuzzers, all refused by the business logic: " + replay.fuzzCodes + "; digest live " +
            Long.toHexString(liveDigest) + ", replayed " + Long.toHexString(replay.allDigest) +
            ", replayed without the fuzzers " + Long.toHexString(replay.correctDigest));
        System.out.println("IngressFuzzTest took " + (System.nanoTime() - startNs) / 1_000_000 + " ms");

        assertEquals(0, replay.fuzzAccepted, "fuzz entries the business logic accepted: " + replay.fuzzCodes);
        assertEquals(sent, refused + dropped + replay.fuzzEntries + accounting.sessionStates,
            "every frame refused by the ingress, dropped, refused by the business logic, or a query answered");
        assertEquals(liveDigest, replay.allDigest, "the journal replayed does not give the live state");
        assertEquals(liveDigest, replay.correctDigest,
            "the state differs from that of the correct operators alone: a fuzz frame changed it");
    }

    // ------------------------------------------------------------------------------------------ node and clients

    private static BusinessRules rules()
    {
        return new BusinessRules().maxSessions(1 << 20).expectedSessions(1 << 12).maxDestinations(MAX_DESTINATIONS)
            .maxPayloadBytes(MAX_PAYLOAD).maxErrorTextBytes(MAX_ERROR_TEXT).maxInFlightLimit(MAX_IN_FLIGHT_LIMIT)
            .maxRedriveBatch(MAX_REDRIVE_BATCH).maxLeaseMs(MAX_LEASE_MS);
    }

    private ClientContext clientContext(final int tenant, final String token)
    {
        return new ClientContext().aeron(aeron).tenant(tenant).token(token).responseTimeoutMs(10_000);
    }

    private RepriseClient client(final int tenant, final String token, final RepriseClient.Listener listener)
    {
        final RepriseClient client = RepriseClient.connect(clientContext(tenant, token),
            null == listener ? (c, t, r, v) -> { } : listener);
        closeables.add(client);
        return client;
    }

    /** Which connection sends a frame: what its role may send decides some answers. */
    enum Target
    {
        CONTROLLER,
        /** A worker that announced nothing. */
        WORKER,
        /** A worker that announced {@link #REPORTER_DESTINATIONS}. */
        REPORTER
    }

    /** The three fuzzing connections. */
    private record Fuzzers(RepriseClient controller, RawConnection worker, RawConnection reporter)
    {
        long offer(final Frame frame)
        {
            return switch (frame.target)
            {
                case CONTROLLER -> controller.sendRaw(frame.buffer, 0, frame.length);
                case WORKER -> worker.offer(frame.buffer, frame.length);
                case REPORTER -> reporter.offer(frame.buffer, frame.length);
            };
        }

        int poll(final Subscription connectResponses, final FragmentAssembler connectAssembler)
        {
            return controller.poll() + worker.poll() + reporter.poll() + connectResponses.poll(connectAssembler, 64);
        }
    }

    private static String describe(final Long2ObjectHashMap<Expectation> pending)
    {
        final StringBuilder text = new StringBuilder().append(pending.size()).append(", e.g.");
        int shown = 0;
        for (final Expectation frame : pending.values())
        {
            if (shown++ == 5)
            {
                break;
            }
            text.append(' ').append(frame);
        }
        return text.toString();
    }

    /** Saves and cancels sessions of its tenant in a loop on its own thread; every result must be OK. */
    private static final class CorrectClient implements Runnable, RepriseClient.Listener
    {
        final RepriseClient client;
        final AtomicLong oks = new AtomicLong();
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(3_600_000);
        final UnsafeBuffer payload = new UnsafeBuffer("a correct session".getBytes(StandardCharsets.US_ASCII));
        volatile boolean stop;
        volatile String failure;
        volatile long maxLatencyNs;
        private long awaited;
        private ResultCode code;
        private long sessionId = 1;

        CorrectClient(final ClientContext context)
        {
            client = RepriseClient.connect(context, this);
        }

        public void onResponse(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            if (correlationId == awaited)
            {
                this.code = code;
            }
        }

        /** Saves a session; cancels every other one. */
        boolean saveAndCancel()
        {
            final long id = sessionId++;
            return await(() -> client.save(id, CORRECT_DESTINATION, policy, payload, 0, payload.capacity()),
                "save " + id) && (id % 2 != 0 || await(() -> client.cancel(id), "cancel " + id));
        }

        private boolean await(final LongSupplier operator, final String what)
        {
            final long startNs = System.nanoTime();
            final long deadlineNs = startNs + 10_000_000_000L;
            long correlationId;
            while ((correlationId = operator.getAsLong()) < 0)
            {
                if (correlationId == RepriseClient.NOT_CONNECTED || System.nanoTime() > deadlineNs)
                {
                    failure = "correct client: " + what + " not sent: " + correlationId;
                    return false;
                }
                client.poll();
                LockSupport.parkNanos(20_000);
            }
            awaited = correlationId;
            code = null;
            while (null == code)
            {
                if (client.poll() == 0)
                {
                    if (System.nanoTime() > deadlineNs)
                    {
                        failure = "correct client: " + what + ": no response within 10 s";
                        return false;
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
            maxLatencyNs = Math.max(maxLatencyNs, System.nanoTime() - startNs);
            if (code != ResultCode.OK)
            {
                failure = "correct client: " + what + ": " + code;
                return false;
            }
            if (client.reconnects() != 0)
            {
                failure = "correct client reconnected";
                return false;
            }
            oks.incrementAndGet();
            return true;
        }

        public void run()
        {
            try
            {
                while (!stop && saveAndCancel())
                {
                    Thread.onSpinWait();
                }
            }
            catch (final Throwable ex)
            {
                failure = "correct client: " + ex;
            }
        }
    }

    /** The node's counters, read from the media driver's counters file as any monitoring tool would. */
    private static final class Counters
    {
        private final CountersReader reader;
        private final int[] ids = new int[NodeCounters.LABELS.length];

        Counters(final CountersReader reader)
        {
            this.reader = reader;
            java.util.Arrays.fill(ids, -1);
            reader.forEach((CountersReader.MetaData)(counterId, typeId, keyBuffer, label) ->
            {
                final int index = typeId - NodeCounters.TYPE_ID_BASE;
                if (index >= 0 && index < ids.length)
                {
                    ids[index] = counterId;
                }
            });
            for (int i = 0; i < ids.length; i++)
            {
                assertTrue(ids[i] >= 0, "no counter " + NodeCounters.LABELS[i]);
            }
        }

        long get(final int counter)
        {
            return reader.getCounterValue(ids[counter]);
        }
    }

    /** What one frame must get: its error code, matched by correlation id. */
    private record Expectation(Kind kind, String variant, ResultCode code, boolean mayBeBackPressured)
    {
    }

    /** The replies of the node to the fuzzers, checked against what each frame must get. Test thread only. */
    private static final class Accounting
    {
        final Long2ObjectHashMap<Expectation> pending = new Long2ObjectHashMap<>();
        final LongHashSet answered = new LongHashSet();
        final Map<ResultCode, Long> anonymousExpected = new TreeMap<>();
        final Map<ResultCode, Long> anonymousReceived = new TreeMap<>();
        final Map<String, Long> codes = new TreeMap<>();
        final List<String> wrongCodes = new ArrayList<>();
        private final io.reprise.schema.client.MessageHeaderDecoder header =
            new io.reprise.schema.client.MessageHeaderDecoder();
        private final ResponseDecoder response = new ResponseDecoder();
        private final ConnectResponseDecoder connectResponse = new ConnectResponseDecoder();
        long sentExpectingReply;
        long matched;
        long anonymous;
        long okReplies;
        long duplicates;
        long otherMessages;
        /** Queries answered with a session state: neither refused, nor dropped, nor journaled. */
        long sessionStates;
        private final SessionStateDecoder sessionState = new SessionStateDecoder();

        void onSent(final Frame frame)
        {
            if (frame.dropped)
            {
                codes.merge(frame.kind + " dropped", 1L, Long::sum);
                return;
            }
            sentExpectingReply++;
            if (frame.matchable)
            {
                pending.put(frame.correlationId,
                    new Expectation(frame.kind, frame.variant, frame.expected, frame.mayBeBackPressured));
            }
            else
            {
                anonymousExpected.merge(frame.expected, 1L, Long::sum);
            }
        }

        long replies()
        {
            return matched + anonymous;
        }

        long awaitingReply()
        {
            return sentExpectingReply - replies();
        }

        void onResponse(final long correlationId, final ResultCode code)
        {
            if (code == ResultCode.OK)
            {
                okReplies++;
            }
            final Expectation expectation = pending.remove(correlationId);
            if (null != expectation)
            {
                matched++;
                answered.add(correlationId);
                codes.merge(expectation.kind() + " " + code, 1L, Long::sum);
                if (code != expectation.code() && !(expectation.mayBeBackPressured() && code == ResultCode.BACK_PRESSURE))
                {
                    if (wrongCodes.size() < 20)
                    {
                        wrongCodes.add(expectation + " got " + code);
                    }
                }
            }
            else if (answered.contains(correlationId))
            {
                duplicates++;
            }
            else
            {
                anonymous++;
                anonymousReceived.merge(code, 1L, Long::sum);
            }
        }

        void onSessionState(final long correlationId, final ResultCode code)
        {
            sessionStates++;
            onResponse(correlationId, code);
        }

        void onRawMessage(final DirectBuffer buffer, final int offset, final int length, final Header fragmentHeader)
        {
            header.wrap(buffer, offset);
            final int body = offset + io.reprise.schema.client.MessageHeaderDecoder.ENCODED_LENGTH;
            if (header.templateId() == ResponseDecoder.TEMPLATE_ID)
            {
                response.wrap(buffer, body, header.blockLength(), header.version());
                onResponse(response.correlationId(), response.resultCode());
            }
            else if (header.templateId() == SessionStateDecoder.TEMPLATE_ID)
            {
                sessionState.wrap(buffer, body, header.blockLength(), header.version());
                onSessionState(sessionState.correlationId(), sessionState.resultCode());
            }
            else if (header.templateId() == ConnectResponseDecoder.TEMPLATE_ID)
            {
                connectResponse.wrap(buffer, body, header.blockLength(), header.version());
                onResponse(connectResponse.correlationId(), connectResponse.resultCode());
            }
            else
            {
                otherMessages++;
            }
        }
    }

    /** One frame to send, reused. */
    private static final class Frame
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(16 * 1024));
        Kind kind;
        String variant;
        int length;
        Target target;
        boolean dropped;
        boolean matchable;
        boolean mayBeBackPressured;
        long correlationId;
        ResultCode expected;

        public String toString()
        {
            return kind + "/" + variant + " from " + target + ", length " + length + " expects " +
                (dropped ? "drop" : expected);
        }
    }

    /**
     * Makes the fuzz frames from a seeded random: each one invalid by construction, with the error it must get
     * (or that it is dropped: a Connect the node cannot read has no one to answer).
     */
    private static final class FrameFactory
    {
        private static final int SAVE = 0;
        private static final int CANCEL = 1;
        private static final int REPORT = 2;
        private static final int REDRIVE = 3;
        private static final int CONFIGURE = 4;
        private static final String[] NAMES = {"save", "cancel", "report", "redrive", "configure"};
        private static final int HEADER = MessageHeaderDecoder.ENCODED_LENGTH;

        private final SplittableRandom random;
        private final OperatorEncoder encoder = new OperatorEncoder();
        private final Frame frame = new Frame();
        private final UnsafeBuffer bytesFF = new UnsafeBuffer(new byte[MAX_PAYLOAD + 512]);
        private final SessionPolicy valid = new SessionPolicy().initialDelayMs(3_600_000);
        private final SessionPolicy policy = new SessionPolicy();
        private final io.reprise.schema.client.MessageHeaderEncoder clientHeader =
            new io.reprise.schema.client.MessageHeaderEncoder();
        private final ConnectEncoder connect = new ConnectEncoder();
        private final WorkerAnnounceEncoder announce = new WorkerAnnounceEncoder();
        private final DisconnectEncoder disconnect = new DisconnectEncoder();
        private final QuerySessionEncoder queryEncoder = new QuerySessionEncoder();
        private final int totalWeight;
        private long nextCorrelationId = CORRELATION_BASE;

        FrameFactory(final SplittableRandom random)
        {
            this.random = random;
            bytesFF.setMemory(0, bytesFF.capacity(), (byte)0xFF);
            int total = 0;
            for (final Kind kind : Kind.values())
            {
                total += kind.weight;
            }
            totalWeight = total;
        }

        Frame next()
        {
            int pick = random.nextInt(totalWeight);
            Kind kind = Kind.RANDOM_BYTES;
            for (final Kind candidate : Kind.values())
            {
                if ((pick -= candidate.weight) < 0)
                {
                    kind = candidate;
                    break;
                }
            }
            frame.kind = kind;
            frame.variant = "";
            // Frame checks come before the role check: a malformed frame gets the same answer from any role.
            final int t = random.nextInt(4);
            frame.target = t < 2 ? Target.CONTROLLER : t == 2 ? Target.WORKER : Target.REPORTER;
            frame.dropped = false;
            frame.mayBeBackPressured = false;
            frame.correlationId = nextCorrelationId++;
            final MutableDirectBuffer b = frame.buffer;
            switch (kind)
            {
                case RANDOM_BYTES:
                    randomBytes();
                    break;
                case TRUNCATED:
                    frame.length = random.nextInt(base(random.nextInt(5)));
                    frame.expected = ResultCode.MALFORMED_FRAME;
                    break;
                case TRAILING_BYTES:
                {
                    final int length = base(random.nextInt(5));
                    final int extra = 1 + random.nextInt(64);
                    fillRandom(length, extra);
                    frame.length = length + extra;
                    frame.expected = ResultCode.MALFORMED_FRAME;
                    break;
                }
                case WRONG_SCHEMA:
                {
                    final int schema = random.nextInt(5) == 0 ? 2 : 3 + random.nextInt(0xFFFF - 2);
                    // Schema 2's template 11 is QuerySession, which a CancelSession (11) would pass for.
                    final int[] others = {SAVE, REPORT, REDRIVE, CONFIGURE};
                    frame.length = base(schema == 2 ? others[random.nextInt(others.length)] : random.nextInt(5));
                    b.putShort(4, (short)schema, ByteOrder.LITTLE_ENDIAN);
                    frame.variant += " schema " + schema;
                    // Schema 2 has no operators: its templates 10, 12, 13 and 14 are unknown.
                    frame.expected = schema == 2 ? ResultCode.UNKNOWN_TEMPLATE : ResultCode.UNSUPPORTED_SCHEMA;
                    break;
                }
                case WRONG_VERSION:
                    frame.length = base(random.nextInt(5));
                    b.putShort(6, (short)newerThan(MessageHeaderDecoder.SCHEMA_VERSION), ByteOrder.LITTLE_ENDIAN);
                    frame.expected = ResultCode.UNSUPPORTED_VERSION;
                    break;
                case UNKNOWN_TEMPLATE:
                {
                    frame.length = base(random.nextInt(5));
                    int template;
                    do
                    {
                        template = random.nextBoolean() ? random.nextInt(32) : random.nextInt(0x10000);
                    }
                    while ((template >= 10 && template <= 14) || (template >= 20 && template <= 22));
                    b.putShort(2, (short)template, ByteOrder.LITTLE_ENDIAN);
                    frame.variant += " template " + template;
                    frame.expected = ResultCode.UNKNOWN_TEMPLATE;
                    break;
                }
                case SYSTEM_TEMPLATE:
                    systemTemplate();
                    break;
                case BLOCK_LENGTH_TOO_SMALL:
                {
                    frame.length = base(random.nextInt(5));
                    final int blockLength = b.getShort(0, ByteOrder.LITTLE_ENDIAN);
                    b.putShort(0, (short)random.nextInt(blockLength), ByteOrder.LITTLE_ENDIAN);
                    frame.expected = ResultCode.MALFORMED_FRAME;
                    break;
                }
                case BLOCK_LENGTH_TOO_LARGE:
                {
                    // The frame is left as it is; var data of 0xFF bytes cannot be mistaken for a length that fits.
                    frame.length = base(random.nextInt(5));
                    final int blockLength = b.getShort(0, ByteOrder.LITTLE_ENDIAN);
                    b.putShort(0, (short)(blockLength + 1 + random.nextInt(2000)), ByteOrder.LITTLE_ENDIAN);
                    frame.expected = ResultCode.MALFORMED_FRAME;
                    break;
                }
                case VAR_LENGTH_WRONG:
                {
                    final int which = random.nextBoolean() ? SAVE : REPORT;
                    frame.length = base(which);
                    final int at = HEADER + (which == SAVE ? SaveSessionEncoder.BLOCK_LENGTH :
                        ReportOutcomeEncoder.BLOCK_LENGTH);
                    final long actual = b.getInt(at, ByteOrder.LITTLE_ENDIAN);
                    final boolean beyond = random.nextBoolean();
                    final long wrong = beyond ? actual + 1 + random.nextLong(0xFFFF_FFFFL - actual) :
                        random.nextLong(actual);
                    b.putInt(at, (int)wrong, ByteOrder.LITTLE_ENDIAN);
                    frame.variant += beyond ? " beyond the frame" : " short of the frame";
                    frame.expected = ResultCode.MALFORMED_FRAME;
                    break;
                }
                case OVER_LIMIT:
                    if (random.nextBoolean())
                    {
                        frame.variant = "save";
                        frame.length = encoder.saveSession(b, 0, 0, frame.correlationId, FUZZ_TENANT, unknownSession(),
                            FUZZ_DESTINATION, valid, bytesFF, 0, MAX_PAYLOAD + 1 + random.nextInt(256));
                        frame.expected = ResultCode.PAYLOAD_TOO_LARGE;
                    }
                    else
                    {
                        frame.variant = "report";
                        frame.length = encoder.reportOutcome(b, 0, 0, frame.correlationId, FUZZ_TENANT,
                            PENDING_SESSION, FUZZ_DESTINATION, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 0, 0,
                            bytesFF, 0, MAX_ERROR_TEXT + 1 + random.nextInt(256));
                        frame.expected = ResultCode.ERROR_TEXT_TOO_LARGE;
                    }
                    break;
                case ENUM_OUT_OF_RANGE:
                    enumOutOfRange();
                    break;
                case REFUSED_BY_LOGIC:
                    refusedByLogic();
                    break;
                case CONNECT_REFUSED:
                    connectRefused();
                    break;
                case CONNECT_MALFORMED:
                    connectMalformed();
                    break;
                case CONNECT_BAD_CHANNEL:
                    frame.variant = "unusable response channel";
                    frame.length = connect(0, FUZZ_TENANT, ClientRole.CONTROLLER.value(),
                        random.nextBoolean() ? "aeron:fuzz?n=" + random.nextInt() : "not-a-channel-" + random.nextInt(),
                        "wrong-" + random.nextInt());
                    frame.dropped = true;
                    break;
                case CONNECT_WRONG_VERSION:
                    // With the current version this would be a valid connect that replaces the fuzzer's own connection.
                    frame.length = connect(newerThan(CLIENT_SCHEMA_VERSION), FUZZ_TENANT, ClientRole.CONTROLLER.value(),
                        CONNECT_RESPONSE_CHANNEL, FUZZ_TOKEN);
                    frame.expected = ResultCode.UNSUPPORTED_VERSION;
                    break;
                case ANNOUNCE_INVALID:
                    // Not the reporter: having announced, it would get INVALID_ARGUMENT for any announcement.
                    frame.target = random.nextBoolean() ? Target.WORKER : Target.CONTROLLER;
                    announceInvalid();
                    break;
                case DISCONNECT_INVALID:
                    disconnectInvalid();
                    break;
                case ROLE_REFUSED:
                    roleRefused();
                    break;
                case QUERY:
                    query();
                    break;
                case CLIENT_UNKNOWN_TEMPLATE:
                {
                    int template;
                    do
                    {
                        template = random.nextBoolean() ? random.nextInt(16) : random.nextInt(0x10000);
                    }
                    while (template == 1 || template == 7 || template == 8 || template == 9 || template == 11);
                    final int bodyLength = random.nextInt(65);
                    fillRandom(HEADER, bodyLength);
                    clientHeader.wrap(b, 0).blockLength(random.nextInt(0x10000)).templateId(template)
                        .schemaId(io.reprise.schema.client.MessageHeaderEncoder.SCHEMA_ID).version(0);
                    if (bodyLength >= 8)
                    {
                        b.putLong(HEADER, frame.correlationId, ByteOrder.LITTLE_ENDIAN);
                    }
                    frame.length = HEADER + bodyLength;
                    frame.variant = "template " + template;
                    frame.expected = ResultCode.UNKNOWN_TEMPLATE;
                    break;
                }
                default:
                    throw new IllegalStateException(kind.name());
            }
            frame.matchable = !frame.dropped && replyCorrelation(b, frame.length) == frame.correlationId;
            return frame;
        }

        /** Where the ingress finds the correlation id it answers with: none in a frame too short to hold one. */
        private static long replyCorrelation(final DirectBuffer buffer, final int length)
        {
            if (length < CORRELATION_OFFSET + 8)
            {
                return 0;
            }
            final int schema = buffer.getShort(4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            return schema == MessageHeaderDecoder.SCHEMA_ID ? buffer.getLong(CORRELATION_OFFSET, ByteOrder.LITTLE_ENDIAN) :
                schema == io.reprise.schema.client.MessageHeaderDecoder.SCHEMA_ID ?
                buffer.getLong(CLIENT_CORRELATION_OFFSET, ByteOrder.LITTLE_ENDIAN) : 0;
        }

        private long unknownSession()
        {
            return UNKNOWN_SESSIONS_FROM + random.nextInt(1 << 30);
        }

        /** The frame cut to a length in {@code [from, full)}. */
        private void truncate(final int from, final int full)
        {
            frame.variant = "truncated";
            frame.length = from + random.nextInt(full - from);
        }

        /** The full frame followed by 1 to {@code maxExtra} random bytes. */
        private void addTrailingBytes(final int full, final int maxExtra)
        {
            frame.variant = "trailing bytes";
            final int extra = 1 + random.nextInt(maxExtra);
            fillRandom(full, extra);
            frame.length = full + extra;
        }

        /** A schema version the node does not know: above {@code current}. */
        private int newerThan(final int current)
        {
            return current + 1 + random.nextInt(0xFFFF - current);
        }

        private void fillRandom(final int offset, final int length)
        {
            final MutableDirectBuffer b = frame.buffer;
            int i = 0;
            for (; i + 8 <= length; i += 8)
            {
                b.putLong(offset + i, random.nextLong());
            }
            for (; i < length; i++)
            {
                b.putByte(offset + i, (byte)random.nextInt());
            }
        }

        private void randomBytes()
        {
            final MutableDirectBuffer b = frame.buffer;
            final int r = random.nextInt(100);
            final int length = r < 25 ? random.nextInt(HEADER) : r < 70 ? HEADER + random.nextInt(56) :
                r < 95 ? 64 + random.nextInt(448) : 512 + random.nextInt(7681);
            int schema;
            int template;
            do
            {
                fillRandom(0, length);
                schema = length < HEADER ? 0 : b.getShort(4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
                template = length < HEADER ? 0 : b.getShort(2, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            }
            // Redrawn in the (about 10^-9) case that random bytes name a template the ingress reads further.
            while ((schema == 1 && ((template >= 10 && template <= 14) || (template >= 20 && template <= 22))) ||
                (schema == 2 && (template == 1 || template == 7 || template == 8 || template == 11)));
            frame.length = length;
            if (length < HEADER)
            {
                frame.expected = ResultCode.MALFORMED_FRAME;
            }
            else if (schema != 1 && schema != 2)
            {
                frame.expected = ResultCode.UNSUPPORTED_SCHEMA;
            }
            else if ((b.getShort(6, ByteOrder.LITTLE_ENDIAN) & 0xFFFF) >
                (schema == 1 ? MessageHeaderDecoder.SCHEMA_VERSION : CLIENT_SCHEMA_VERSION))
            {
                frame.expected = ResultCode.UNSUPPORTED_VERSION;
            }
            else
            {
                frame.expected = ResultCode.UNKNOWN_TEMPLATE;
            }
        }

        /** A valid client operator, as a correct client would send it; returns its length. */
        private int base(final int which)
        {
            final MutableDirectBuffer b = frame.buffer;
            final long correlationId = frame.correlationId;
            frame.variant = NAMES[which];
            switch (which)
            {
                case SAVE:
                    return encoder.saveSession(b, 0, 0, correlationId, FUZZ_TENANT, unknownSession(),
                        FUZZ_DESTINATION, valid, bytesFF, 0, 1 + random.nextInt(64));
                case CANCEL:
                    return encoder.cancelSession(b, 0, 0, correlationId, FUZZ_TENANT, PENDING_SESSION);
                case REPORT:
                    return encoder.reportOutcome(b, 0, 0, correlationId, FUZZ_TENANT, PENDING_SESSION,
                        FUZZ_DESTINATION, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 0, 0, bytesFF, 0,
                        1 + random.nextInt(32));
                case REDRIVE:
                    return encoder.redriveDestination(b, 0, 0, correlationId, FUZZ_TENANT, FUZZ_DESTINATION, 10);
                default:
                    return encoder.configureDestination(b, 0, 0, correlationId, FUZZ_TENANT, FUZZ_DESTINATION, 7);
            }
        }

        private void systemTemplate()
        {
            final MutableDirectBuffer b = frame.buffer;
            frame.expected = ResultCode.UNKNOWN_TEMPLATE;
            switch (random.nextInt(4))
            {
                case 0:
                    frame.variant = "BeginRepeats";
                    frame.length = encoder.beginRepeats(b, 0, random.nextInt(MAX_DESTINATIONS), 1 + random.nextInt(1024));
                    break;
                case 1:
                    frame.variant = "SetTime";
                    frame.length = encoder.setTime(b, 0, 1_700_000_000_000L + random.nextLong(1L << 40));
                    break;
                case 2:
                    frame.variant = "NewLeaderTerm";
                    frame.length = encoder.newLeaderTerm(b, 0, 1 + random.nextInt(1000), random.nextInt(3));
                    break;
                default:
                    frame.length = base(random.nextInt(5));
                    final int template = 20 + random.nextInt(3);
                    b.putShort(2, (short)template, ByteOrder.LITTLE_ENDIAN);
                    frame.variant += " as template " + template;
                    break;
            }
        }

        private void enumOutOfRange()
        {
            final MutableDirectBuffer b = frame.buffer;
            frame.expected = ResultCode.INVALID_ARGUMENT;
            frame.mayBeBackPressured = true;
            final int raw = random.nextInt(4) == 0 ? 0 : 4 + random.nextInt(252);
            if (random.nextBoolean())
            {
                frame.variant = "outcome " + raw;
                frame.target = Target.REPORTER;
                frame.length = encoder.reportOutcome(b, 0, 0, frame.correlationId, FUZZ_TENANT, PENDING_SESSION,
                    FUZZ_DESTINATION, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 0, 0, bytesFF, 0,
                    random.nextInt(8));
                b.putByte(HEADER + ReportOutcomeEncoder.outcomeEncodingOffset(), (byte)raw);
            }
            else
            {
                frame.variant = "redrive scope " + (raw == 0 ? 0 : raw - 1);
                frame.target = Target.CONTROLLER;
                frame.length = encoder.redriveSession(b, 0, 0, frame.correlationId, FUZZ_TENANT, PENDING_SESSION);
                b.putByte(HEADER + RedriveDeadEncoder.scopeEncodingOffset(), (byte)(raw == 0 ? 0 : raw - 1));
            }
        }

        private int invalidDestination()
        {
            switch (random.nextInt(6))
            {
                case 0:
                    return -1;
                case 1:
                    return Integer.MIN_VALUE;
                case 2:
                    return -1 - random.nextInt(1_000_000);
                case 3:
                    return MAX_DESTINATIONS;
                case 4:
                    return MAX_DESTINATIONS + random.nextInt(1_000_000);
                default:
                    return Integer.MAX_VALUE;
            }
        }

        private int notPositive()
        {
            return random.nextBoolean() ? 0 : -1 - random.nextInt(Integer.MAX_VALUE);
        }

        /** A policy the business logic refuses, one rule broken. */
        private SessionPolicy invalidPolicy()
        {
            policy.dueAtMs(0).initialDelayMs(3_600_000).backoffInitialMs(1_000).backoffMaxMs(3_600_000)
                .backoffMultiplierPermille(2_000).jitterPermille(100).maxAttempts(10).leaseMs(30_000).ttlMs(0);
            final long n = random.nextInt(1_000_000);
            switch (random.nextInt(12))
            {
                case 0:
                    frame.variant = "maxAttempts";
                    return policy.maxAttempts(random.nextBoolean() ? notPositive() :
                        BusinessRules.Configuration.MAX_ATTEMPTS + 1 + (int)n);
                case 1:
                    frame.variant = "backoffInitialMs < 0";
                    return policy.backoffInitialMs(-1 - n);
                case 2:
                    frame.variant = "backoffMaxMs < backoffInitialMs";
                    return policy.backoffMaxMs(999 - n);
                case 3:
                    frame.variant = "backoffMaxMs too large";
                    return policy.backoffMaxMs(BusinessRules.Configuration.MAX_BACKOFF_MS + 1 + n);
                case 4:
                    frame.variant = "multiplier";
                    return policy.backoffMultiplierPermille(random.nextBoolean() ?
                        BusinessRules.Configuration.MIN_MULTIPLIER_PERMILLE - 1 - (int)n :
                        BusinessRules.Configuration.MAX_MULTIPLIER_PERMILLE + 1 + (int)n);
                case 5:
                    frame.variant = "jitter";
                    return policy.jitterPermille(random.nextBoolean() ? -1 - (int)n :
                        BusinessRules.Configuration.MAX_JITTER_PERMILLE + 1 + (int)n);
                case 6:
                    frame.variant = "leaseMs";
                    return policy.leaseMs(random.nextBoolean() ? notPositive() : MAX_LEASE_MS + 1 + n);
                case 7:
                    frame.variant = "initialDelayMs";
                    return policy.initialDelayMs(random.nextBoolean() ? -1 - n :
                        BusinessRules.Configuration.MAX_DURATION_MS + 1 + n);
                case 8:
                    frame.variant = "dueAtMs out of range";
                    return policy.initialDelayMs(0).dueAtMs(random.nextBoolean() ? -1 - n :
                        BusinessRules.Configuration.MAX_SYSTEM_TIME_MS + 1 + n);
                case 9:
                    frame.variant = "dueAtMs and initialDelayMs";
                    return policy.dueAtMs(1 + n);
                case 10:
                    frame.variant = "ttlMs";
                    return policy.ttlMs(random.nextBoolean() ? -1 - n : BusinessRules.Configuration.MAX_DURATION_MS + 1 + n);
                default:
                    frame.variant = "due after the deadline";
                    return policy.ttlMs(1 + random.nextInt(3_600_000));
            }
        }

        /** Well formed, so it passes the ingress and is journaled, but the business logic refuses it. */
        private void refusedByLogic()
        {
            final MutableDirectBuffer b = frame.buffer;
            final long c = frame.correlationId;
            final int t = FUZZ_TENANT;
            frame.mayBeBackPressured = true;
            final UnsafeBuffer payload = bytesFF;
            final int small = random.nextInt(16);
            // Each from the role that may send it; reports name a destination their worker serves.
            frame.target = Target.CONTROLLER;
            final int served = REPORTER_DESTINATIONS[random.nextInt(REPORTER_DESTINATIONS.length)];
            switch (random.nextInt(16))
            {
                case 0:
                    frame.length = encoder.saveSession(b, 0, 0, c, t, unknownSession(), invalidDestination(), valid,
                        payload, 0, small);
                    set("save: destination", ResultCode.INVALID_ARGUMENT);
                    break;
                case 1:
                {
                    final SessionPolicy invalid = invalidPolicy();
                    frame.length = encoder.saveSession(b, 0, 0, c, t, unknownSession(), FUZZ_DESTINATION, invalid,
                        payload, 0, small);
                    set("save: " + frame.variant, ResultCode.INVALID_POLICY);
                    break;
                }
                case 2:
                    frame.length = encoder.saveSession(b, 0, 0, c, t, unknownSession(), CORRECT_DESTINATION, valid,
                        payload, 0, small);
                    set("save: another tenant's destination", ResultCode.FOREIGN_DESTINATION);
                    break;
                case 3:
                    frame.length = encoder.saveSession(b, 0, 0, c, t, random.nextBoolean() ? PENDING_SESSION :
                        CANCELLED_SESSION, FUZZ_DESTINATION, valid, payload, 0, small);
                    set("save: duplicate", ResultCode.DUPLICATE_SESSION);
                    break;
                case 4:
                    frame.length = encoder.cancelSession(b, 0, 0, c, t, random.nextBoolean() ? unknownSession() :
                        -1 - random.nextInt(Integer.MAX_VALUE));
                    set("cancel: unknown session", ResultCode.UNKNOWN_SESSION);
                    break;
                case 5:
                    frame.length = encoder.cancelSession(b, 0, 0, c, t, CANCELLED_SESSION);
                    set("cancel: finished session", ResultCode.SESSION_FINISHED);
                    break;
                case 6:
                    frame.target = Target.REPORTER;
                    frame.length = encoder.reportOutcome(b, 0, 0, c, t, unknownSession(), served,
                        1 + random.nextInt(10), OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 0, 0, payload, 0, small);
                    set("report: unknown session", ResultCode.UNKNOWN_SESSION);
                    break;
                case 7:
                {
                    final Outcome outcome = Outcome.values()[random.nextInt(3)];
                    frame.target = Target.REPORTER;
                    frame.length = encoder.reportOutcome(b, 0, 0, c, t, random.nextBoolean() ? PENDING_SESSION :
                        CANCELLED_SESSION, FUZZ_DESTINATION, 1 + random.nextInt(100), OperatorEncoder.NO_HANDLE,
                        outcome, random.nextInt(600), 0, payload, 0, small);
                    set("report: stale attempt", ResultCode.STALE_ATTEMPT);
                    break;
                }
                case 15:
                {
                    // Both destinations are the tenant's and the worker serves both; the sessions are on the first.
                    final Outcome outcome = Outcome.values()[random.nextInt(3)];
                    frame.target = Target.REPORTER;
                    frame.length = encoder.reportOutcome(b, 0, 0, c, t, random.nextBoolean() ? PENDING_SESSION :
                        CANCELLED_SESSION, FUZZ_DESTINATION_2, 1 + random.nextInt(3), OperatorEncoder.NO_HANDLE,
                        outcome, random.nextInt(600), 0, payload, 0, small);
                    set("report: another destination of the tenant", ResultCode.ROLE_NOT_ALLOWED);
                    break;
                }
                case 8:
                {
                    int attempt = 1;
                    int errorCode = 0;
                    long retryAfterMs = 0;
                    Outcome outcome = Outcome.RETRY;
                    switch (random.nextInt(4))
                    {
                        case 0:
                            attempt = notPositive();
                            break;
                        case 1:
                            errorCode = -1 - random.nextInt(Integer.MAX_VALUE);
                            break;
                        case 2:
                            retryAfterMs = -1 - random.nextInt(Integer.MAX_VALUE);
                            break;
                        default:
                            retryAfterMs = 1 + random.nextInt(Integer.MAX_VALUE);
                            outcome = random.nextBoolean() ? Outcome.SUCCEEDED : Outcome.FAILED_PERMANENTLY;
                            break;
                    }
                    frame.target = Target.REPORTER;
                    frame.length = encoder.reportOutcome(b, 0, 0, c, t, PENDING_SESSION, served, attempt,
                        OperatorEncoder.NO_HANDLE, outcome, errorCode, retryAfterMs, payload, 0, small);
                    set("report: invalid argument", ResultCode.INVALID_ARGUMENT);
                    break;
                }
                case 9:
                    frame.length = encoder.redriveSession(b, 0, 0, c, t, unknownSession());
                    set("redrive: unknown session", ResultCode.UNKNOWN_SESSION);
                    break;
                case 10:
                    frame.length = encoder.redriveSession(b, 0, 0, c, t, random.nextBoolean() ? PENDING_SESSION :
                        CANCELLED_SESSION);
                    set("redrive: not dead", ResultCode.NOT_DEAD);
                    break;
                case 11:
                    frame.length = random.nextBoolean() ?
                        encoder.redriveDestination(b, 0, 0, c, t, invalidDestination(), 1 + random.nextInt(100)) :
                        encoder.redriveDestination(b, 0, 0, c, t, FUZZ_DESTINATION, random.nextBoolean() ?
                        notPositive() : MAX_REDRIVE_BATCH + 1 + random.nextInt(Integer.MAX_VALUE - MAX_REDRIVE_BATCH));
                    set("redrive: destination or count", ResultCode.INVALID_ARGUMENT);
                    break;
                case 12:
                    frame.length = encoder.redriveDestination(b, 0, 0, c, t, CORRECT_DESTINATION,
                        1 + random.nextInt(MAX_REDRIVE_BATCH));
                    set("redrive: another tenant's destination", ResultCode.FOREIGN_DESTINATION);
                    break;
                case 13:
                    frame.length = random.nextBoolean() ?
                        encoder.configureDestination(b, 0, 0, c, t, invalidDestination(), 1 + random.nextInt(100)) :
                        encoder.configureDestination(b, 0, 0, c, t, FUZZ_DESTINATION, random.nextBoolean() ?
                        notPositive() : MAX_IN_FLIGHT_LIMIT + 1 + random.nextInt(Integer.MAX_VALUE - MAX_IN_FLIGHT_LIMIT));
                    set("configure: destination or limit", ResultCode.INVALID_ARGUMENT);
                    break;
                default:
                    frame.length = encoder.configureDestination(b, 0, 0, c, t, CORRECT_DESTINATION,
                        1 + random.nextInt(100));
                    set("configure: another tenant's destination", ResultCode.FOREIGN_DESTINATION);
                    break;
            }
        }

        private void set(final String variant, final ResultCode expected)
        {
            frame.variant = variant;
            frame.expected = expected;
        }

        /** A Connect frame; returns its length. The correlation id is the frame's. */
        private int connect(final int version, final int tenant, final short role, final String channel,
            final String token)
        {
            final byte[] tokenBytes = token.getBytes(StandardCharsets.UTF_8);
            connect.wrapAndApplyHeader(frame.buffer, 0, clientHeader)
                .correlationId(frame.correlationId)
                .tenant(tenant)
                .responseStreamId(CONNECT_RESPONSE_STREAM)
                .role(ClientRole.CONTROLLER)
                .responseChannel(channel)
                .putToken(tokenBytes, 0, tokenBytes.length);
            frame.buffer.putByte(HEADER + ConnectEncoder.roleEncodingOffset(), (byte)role);
            clientHeader.version(version);
            return HEADER + connect.encodedLength();
        }

        /** Well formed, so the node answers on the response channel it names: the test's own subscription. */
        private void connectRefused()
        {
            switch (random.nextInt(6))
            {
                case 0:
                    frame.variant = "wrong token";
                    frame.length = connect(0, FUZZ_TENANT, ClientRole.CONTROLLER.value(), CONNECT_RESPONSE_CHANNEL,
                        random.nextBoolean() ? "" : "wrong-" + random.nextInt());
                    frame.expected = ResultCode.AUTHENTICATION_FAILED;
                    break;
                case 1:
                    frame.variant = "token of another tenant";
                    frame.length = connect(0, FUZZ_TENANT, ClientRole.WORKER.value(), CONNECT_RESPONSE_CHANNEL,
                        CORRECT_TOKEN);
                    frame.expected = ResultCode.AUTHENTICATION_FAILED;
                    break;
                case 2:
                    frame.variant = "tenant not of the token";
                    frame.length = connect(0, random.nextBoolean() ? CORRECT_TENANT : 3 + random.nextInt(1000),
                        ClientRole.CONTROLLER.value(), CONNECT_RESPONSE_CHANNEL, FUZZ_TOKEN);
                    frame.expected = ResultCode.AUTHENTICATION_FAILED;
                    break;
                case 3:
                    frame.variant = "controller with a worker's token";
                    frame.length = connect(0, FUZZ_TENANT, ClientRole.CONTROLLER.value(), CONNECT_RESPONSE_CHANNEL,
                        FUZZ_WORKER_TOKEN);
                    frame.expected = ResultCode.AUTHENTICATION_FAILED;
                    break;
                case 4:
                    frame.variant = "worker with a controller's token";
                    frame.length = connect(0, FUZZ_TENANT, ClientRole.WORKER.value(), CONNECT_RESPONSE_CHANNEL,
                        FUZZ_CONTROLLER_TOKEN);
                    frame.expected = ResultCode.AUTHENTICATION_FAILED;
                    break;
                default:
                {
                    final int role = random.nextInt(4) == 0 ? 0 : 3 + random.nextInt(253);
                    frame.variant = "role " + role;
                    frame.length = connect(0, FUZZ_TENANT, (short)role, CONNECT_RESPONSE_CHANNEL, FUZZ_TOKEN);
                    frame.expected = ResultCode.INVALID_ARGUMENT;
                    break;
                }
            }
        }

        /** A Connect the node cannot read: no channel to answer on, so it is dropped and counted. */
        private void connectMalformed()
        {
            final MutableDirectBuffer b = frame.buffer;
            frame.dropped = true;
            final int full = connect(0, FUZZ_TENANT, ClientRole.CONTROLLER.value(), CONNECT_RESPONSE_CHANNEL,
                "wrong-" + random.nextInt());
            final int channelLengthAt = HEADER + ConnectEncoder.BLOCK_LENGTH;
            final int channelLength = b.getInt(channelLengthAt, ByteOrder.LITTLE_ENDIAN);
            final int tokenLengthAt = channelLengthAt + 4 + channelLength;
            switch (random.nextInt(8))
            {
                case 0:
                    frame.variant = "block length too small";
                    b.putShort(0, (short)random.nextInt(ConnectEncoder.BLOCK_LENGTH), ByteOrder.LITTLE_ENDIAN);
                    frame.length = full;
                    break;
                case 1:
                    frame.variant = "block length past the end";
                    b.putShort(0, (short)(full - HEADER + 1 + random.nextInt(1000)), ByteOrder.LITTLE_ENDIAN);
                    frame.length = full;
                    break;
                case 2:
                    truncate(HEADER, full);
                    break;
                case 3:
                    addTrailingBytes(full, 64);
                    break;
                case 4:
                    frame.variant = "channel length past the end";
                    b.putInt(channelLengthAt, (int)(channelLength + 1 + random.nextLong(0xFFFF_FFFFL - channelLength)),
                        ByteOrder.LITTLE_ENDIAN);
                    frame.length = full;
                    break;
                case 5:
                {
                    frame.variant = "token length past the end";
                    final int tokenLength = b.getInt(tokenLengthAt, ByteOrder.LITTLE_ENDIAN);
                    b.putInt(tokenLengthAt, (int)(tokenLength + 1 + random.nextLong(0xFFFF_FFFFL - tokenLength)),
                        ByteOrder.LITTLE_ENDIAN);
                    frame.length = full;
                    break;
                }
                case 6:
                    frame.variant = "empty channel";
                    frame.length = connect(0, FUZZ_TENANT, ClientRole.CONTROLLER.value(), "", "wrong");
                    break;
                default:
                {
                    // Written by hand: the encoder itself refuses a channel that long.
                    frame.variant = "channel over 4096 bytes";
                    connect(0, FUZZ_TENANT, ClientRole.CONTROLLER.value(), "", "");
                    final int longLength = 4097 + random.nextInt(100);
                    b.putInt(channelLengthAt, longLength, ByteOrder.LITTLE_ENDIAN);
                    b.setMemory(channelLengthAt + 4, longLength, (byte)'x');
                    b.putInt(channelLengthAt + 4 + longLength, 5, ByteOrder.LITTLE_ENDIAN);
                    b.putStringWithoutLengthAscii(channelLengthAt + 8 + longLength, "wrong");
                    frame.length = channelLengthAt + 8 + longLength + 5;
                    break;
                }
            }
        }

        /**
         * A well-formed operator its sender's role may not send: a controller's operator from a worker, a report
         * from a controller or from a worker that did not announce the destination it names, or a report of a log
         * schema version before destinations were named, whose destination cannot be checked.
         */
        private void roleRefused()
        {
            final MutableDirectBuffer b = frame.buffer;
            switch (random.nextInt(5))
            {
                case 0:
                {
                    final int[] controllerOperators = {SAVE, CANCEL, REDRIVE, CONFIGURE};
                    frame.length = base(controllerOperators[random.nextInt(controllerOperators.length)]);
                    frame.target = random.nextBoolean() ? Target.WORKER : Target.REPORTER;
                    frame.variant += " from a worker";
                    frame.expected = ResultCode.ROLE_NOT_ALLOWED;
                    break;
                }
                case 1:
                    frame.length = base(REPORT);
                    frame.target = Target.CONTROLLER;
                    frame.variant += " from a controller";
                    frame.expected = ResultCode.ROLE_NOT_ALLOWED;
                    break;
                case 2:
                    frame.length = base(REPORT);
                    frame.target = Target.WORKER;
                    frame.variant += " from a worker that announced nothing";
                    frame.expected = ResultCode.ROLE_NOT_ALLOWED;
                    break;
                case 3:
                {
                    final int[] unserved = {CORRECT_DESTINATION, 0, FUZZ_DESTINATION_2 + 1 + random.nextInt(20),
                        invalidDestination()};
                    final int destination = unserved[random.nextInt(unserved.length)];
                    frame.length = base(REPORT);
                    b.putInt(HEADER + ReportOutcomeEncoder.destinationEncodingOffset(), destination,
                        ByteOrder.LITTLE_ENDIAN);
                    frame.target = Target.REPORTER;
                    frame.variant += " of destination " + destination + ", not announced";
                    frame.expected = ResultCode.ROLE_NOT_ALLOWED;
                    break;
                }
                default:
                {
                    // As a sender of version 0 or 1 wrote it: without the destination (and the handle).
                    final int version = random.nextInt(2);
                    final int full = base(REPORT);
                    final int block = version == 0 ? ReportOutcomeEncoder.handleEncodingOffset() :
                        ReportOutcomeEncoder.destinationEncodingOffset();
                    final int newEnd = HEADER + ReportOutcomeEncoder.BLOCK_LENGTH;
                    b.putBytes(HEADER + block, b, newEnd, full - newEnd);
                    b.putShort(0, (short)block, ByteOrder.LITTLE_ENDIAN);
                    b.putShort(6, (short)version, ByteOrder.LITTLE_ENDIAN);
                    frame.length = full - (newEnd - HEADER - block);
                    frame.target = Target.values()[random.nextInt(3)];
                    frame.variant += " of log version " + version + " from " + frame.target;
                    // The role comes first; a worker's old report cannot be checked, so it is refused.
                    frame.expected = frame.target == Target.CONTROLLER ? ResultCode.ROLE_NOT_ALLOWED :
                        ResultCode.UNSUPPORTED_VERSION;
                    break;
                }
            }
        }

        private void announceInvalid()
        {
            final MutableDirectBuffer b = frame.buffer;
            final int count = 1 + random.nextInt(4);
            final int[] destinations = new int[count];
            for (int i = 0; i < count; i++)
            {
                // Its own destination or one nobody owns: a valid announcement but for the flaw put in below.
                destinations[i] = random.nextBoolean() ? FUZZ_DESTINATION : 10 + random.nextInt(MAX_DESTINATIONS - 10);
            }
            int hands = 1 + random.nextInt(64);
            int version = 0;
            ResultCode expected = ResultCode.MALFORMED_FRAME;
            final int variant = random.nextInt(11);
            switch (variant)
            {
                case 5:
                    hands = random.nextBoolean() ? notPositive() : (1 << 16) + 1 + random.nextInt(1 << 20);
                    frame.variant = "hands " + hands;
                    expected = ResultCode.INVALID_ARGUMENT;
                    break;
                case 7:
                    destinations[random.nextInt(count)] = invalidDestination();
                    frame.variant = "invalid destination";
                    expected = ResultCode.INVALID_ARGUMENT;
                    break;
                case 8:
                    destinations[random.nextInt(count)] = CORRECT_DESTINATION;
                    frame.variant = "another tenant's destination";
                    expected = ResultCode.FOREIGN_DESTINATION;
                    break;
                case 9:
                    version = newerThan(CLIENT_SCHEMA_VERSION);
                    frame.variant = "version " + version;
                    expected = ResultCode.UNSUPPORTED_VERSION;
                    break;
                default:
                    break;
            }
            announce.wrapAndApplyHeader(b, 0, clientHeader).correlationId(frame.correlationId).attemptsInHand(hands);
            final int entries = variant == 6 ? 0 : count;
            final WorkerAnnounceEncoder.DestinationsEncoder group = announce.destinationsCount(entries);
            for (int i = 0; i < entries; i++)
            {
                group.next().destination(destinations[i]);
            }
            clientHeader.version(version);
            final int full = HEADER + announce.encodedLength();
            frame.length = full;
            final int groupAt = HEADER + WorkerAnnounceEncoder.BLOCK_LENGTH;
            switch (variant)
            {
                case 0:
                    frame.variant = "block length too small";
                    b.putShort(0, (short)random.nextInt(WorkerAnnounceEncoder.BLOCK_LENGTH), ByteOrder.LITTLE_ENDIAN);
                    break;
                case 1:
                    truncate(HEADER, full);
                    break;
                case 2:
                    addTrailingBytes(full, 16);
                    break;
                case 3:
                {
                    frame.variant = "group count wrong";
                    final int wrong = random.nextBoolean() ? count + 1 + random.nextInt(100) : random.nextInt(count);
                    b.putShort(groupAt + 2, (short)wrong, ByteOrder.LITTLE_ENDIAN);
                    break;
                }
                case 4:
                {
                    frame.variant = "group block length wrong";
                    final int wrong = random.nextBoolean() ? random.nextInt(4) : 5 + random.nextInt(100);
                    b.putShort(groupAt, (short)wrong, ByteOrder.LITTLE_ENDIAN);
                    break;
                }
                case 6:
                    frame.variant = "no destinations";
                    expected = ResultCode.INVALID_ARGUMENT;
                    break;
                case 10:
                    frame.variant = "block length too large";
                    // Past the frame's end: a block ending inside the group could make the group read as a
                    // well-formed one by chance, and then the answer would be INVALID_ARGUMENT instead.
                    b.putShort(0, (short)(full - HEADER + 1 + random.nextInt(1000)), ByteOrder.LITTLE_ENDIAN);
                    break;
                default:
                    break;
            }
            // A controller may not announce at all: whatever the frame (of a known version), it is refused for the
            // role.
            frame.expected = frame.target == Target.WORKER || version != 0 ? expected : ResultCode.ROLE_NOT_ALLOWED;
        }

        /** A Disconnect the ingress must refuse: a valid one would close the fuzzer's own connection. */
        private void disconnectInvalid()
        {
            final MutableDirectBuffer b = frame.buffer;
            disconnect.wrapAndApplyHeader(b, 0, clientHeader).correlationId(frame.correlationId);
            final int full = HEADER + DisconnectEncoder.BLOCK_LENGTH;
            frame.length = full;
            frame.expected = ResultCode.MALFORMED_FRAME;
            switch (random.nextInt(5))
            {
                case 0:
                    frame.variant = "block length too small";
                    b.putShort(0, (short)random.nextInt(DisconnectEncoder.BLOCK_LENGTH), ByteOrder.LITTLE_ENDIAN);
                    break;
                case 1:
                    frame.variant = "block length too large";
                    b.putShort(0, (short)(DisconnectEncoder.BLOCK_LENGTH + 1 + random.nextInt(0xFFFF - 8)),
                        ByteOrder.LITTLE_ENDIAN);
                    break;
                case 2:
                    truncate(0, full);
                    break;
                case 3:
                    addTrailingBytes(full, 32);
                    break;
                default:
                    frame.variant = "version";
                    clientHeader.version(newerThan(CLIENT_SCHEMA_VERSION));
                    frame.expected = ResultCode.UNSUPPORTED_VERSION;
                    break;
            }
        }

        /**
         * A QuerySession: well formed, for a session the fuzz tenant does not have (unknown, or one of the correct
         * tenant's), or malformed. A well-formed one may meet a full queue of queries and get BACK_PRESSURE.
         */
        private void query()
        {
            final MutableDirectBuffer b = frame.buffer;
            final long sessionId = random.nextBoolean() ? unknownSession() : 3 + random.nextInt(1000);
            queryEncoder.wrapAndApplyHeader(b, 0, clientHeader).correlationId(frame.correlationId)
                .sessionId(sessionId);
            final int full = HEADER + QuerySessionEncoder.BLOCK_LENGTH;
            frame.length = full;
            frame.expected = ResultCode.MALFORMED_FRAME;
            switch (random.nextInt(6))
            {
                case 0:
                    frame.variant = "block length too small";
                    b.putShort(0, (short)random.nextInt(QuerySessionEncoder.BLOCK_LENGTH), ByteOrder.LITTLE_ENDIAN);
                    break;
                case 1:
                    frame.variant = "block length too large";
                    b.putShort(0, (short)(QuerySessionEncoder.BLOCK_LENGTH + 1 + random.nextInt(1000)),
                        ByteOrder.LITTLE_ENDIAN);
                    break;
                case 2:
                    truncate(HEADER, full);
                    break;
                case 3:
                    addTrailingBytes(full, 32);
                    break;
                case 4:
                    frame.variant = "version";
                    clientHeader.version(newerThan(CLIENT_SCHEMA_VERSION));
                    frame.expected = ResultCode.UNSUPPORTED_VERSION;
                    break;
                default:
                    frame.variant = "session " + (sessionId >= UNKNOWN_SESSIONS_FROM ? "unknown" : "of another tenant");
                    frame.expected = ResultCode.UNKNOWN_SESSION;
                    frame.mayBeBackPressured = true;
                    break;
            }
        }
    }

    /** A connection made by hand, so that a worker can send raw frames too. */
    private static final class RawConnection implements AutoCloseable
    {
        private static final long CONNECT_CORRELATION_ID = 42;
        private static final long ANNOUNCE_CORRELATION_ID = 43;

        final long clientId;
        private final Subscription subscription;
        private final ExclusivePublication publication;
        private final FragmentAssembler assembler;
        private final UnsafeBuffer control = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
        private final io.reprise.schema.client.MessageHeaderDecoder header =
            new io.reprise.schema.client.MessageHeaderDecoder();
        private final io.reprise.schema.client.MessageHeaderEncoder headerEncoder =
            new io.reprise.schema.client.MessageHeaderEncoder();
        private final ConnectResponseDecoder connectResponse = new ConnectResponseDecoder();
        private final ResponseDecoder response = new ResponseDecoder();
        private FragmentHandler messages;
        private ResultCode connectCode;
        private ResultCode announceCode;
        private long connectedClientId;

        /** @param destinations what a worker announces when connected, or null to announce nothing. */
        RawConnection(
            final Aeron aeron, final TransportContext transport, final int tenant, final String token,
            final ClientRole role, final int[] destinations, final FragmentHandler messages)
        {
            final int streamId = ThreadLocalRandom.current().nextInt(10_000, Integer.MAX_VALUE);
            subscription = aeron.addSubscription(ClientContext.IPC_RESPONSE_CHANNEL, streamId);
            publication = aeron.addExclusivePublication(transport.ingressIpcChannel(), transport.ingressStreamId());
            assembler = new FragmentAssembler(this::onFragment);
            final long deadlineNs = System.nanoTime() + 10_000_000_000L;
            while (!publication.isConnected())
            {
                assertTrue(System.nanoTime() < deadlineNs, "ingress not connected");
                LockSupport.parkNanos(100_000);
            }
            final byte[] tokenBytes = token.getBytes(StandardCharsets.UTF_8);
            final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(control, 0, headerEncoder)
                .correlationId(CONNECT_CORRELATION_ID)
                .tenant(tenant)
                .responseStreamId(streamId)
                .role(role)
                .responseChannel(ClientContext.IPC_RESPONSE_CHANNEL)
                .putToken(tokenBytes, 0, tokenBytes.length);
            final int length = io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength();
            while (publication.offer(control, 0, length) < 0)
            {
                assertTrue(System.nanoTime() < deadlineNs, "connect not sent");
                LockSupport.parkNanos(100_000);
            }
            while (null == connectCode)
            {
                assertTrue(System.nanoTime() < deadlineNs, "no connect response");
                if (poll() == 0)
                {
                    LockSupport.parkNanos(100_000);
                }
            }
            assertEquals(ResultCode.OK, connectCode);
            clientId = connectedClientId;
            if (null != destinations)
            {
                announce(destinations, deadlineNs);
            }
            this.messages = messages;
        }

        private void announce(final int[] destinations, final long deadlineNs)
        {
            final WorkerAnnounceEncoder announce = new WorkerAnnounceEncoder().wrapAndApplyHeader(control, 0,
                headerEncoder).correlationId(ANNOUNCE_CORRELATION_ID).attemptsInHand(1);
            final WorkerAnnounceEncoder.DestinationsEncoder group = announce.destinationsCount(destinations.length);
            for (final int destination : destinations)
            {
                group.next().destination(destination);
            }
            final int length = io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + announce.encodedLength();
            while (publication.offer(control, 0, length) < 0)
            {
                assertTrue(System.nanoTime() < deadlineNs, "announcement not sent");
                LockSupport.parkNanos(100_000);
            }
            while (null == announceCode)
            {
                assertTrue(System.nanoTime() < deadlineNs, "no answer to the announcement");
                if (poll() == 0)
                {
                    LockSupport.parkNanos(100_000);
                }
            }
            assertEquals(ResultCode.OK, announceCode);
        }

        private void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header fragment)
        {
            if (null != messages)
            {
                messages.onFragment(buffer, offset, length, fragment);
                return;
            }
            header.wrap(buffer, offset);
            if (header.templateId() == ConnectResponseDecoder.TEMPLATE_ID)
            {
                connectResponse.wrap(buffer, offset + header.encodedLength(), header.blockLength(), header.version());
                if (connectResponse.correlationId() == CONNECT_CORRELATION_ID)
                {
                    connectedClientId = connectResponse.clientId();
                    connectCode = connectResponse.resultCode();
                }
            }
            else if (header.templateId() == ResponseDecoder.TEMPLATE_ID)
            {
                response.wrap(buffer, offset + header.encodedLength(), header.blockLength(), header.version());
                if (response.correlationId() == ANNOUNCE_CORRELATION_ID)
                {
                    announceCode = response.resultCode();
                }
            }
        }

        long offer(final DirectBuffer buffer, final int length)
        {
            final long result = publication.offer(buffer, 0, length);
            return result > 0 ? 0 : result == io.aeron.Publication.BACK_PRESSURED ||
                result == io.aeron.Publication.ADMIN_ACTION ? RepriseClient.BACK_PRESSURED : RepriseClient.NOT_CONNECTED;
        }

        int poll()
        {
            return subscription.poll(assembler, 64);
        }

        public void close()
        {
            if (publication.isConnected() && !publication.isClosed())
            {
                final DisconnectEncoder disconnect = new DisconnectEncoder().wrapAndApplyHeader(control, 0,
                    headerEncoder).correlationId(0);
                publication.offer(control, 0,
                    io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + disconnect.encodedLength());
            }
            CloseHelper.closeAll(publication, subscription);
        }
    }

    // ------------------------------------------------------------------------------------------ offline replay

    private record Replay(
        long records, long fuzzEntries, long fuzzAccepted, Map<ResultCode, Long> fuzzCodes, long allDigest,
        long correctDigest)
    {
    }

    /**
     * Replays the journal into two fresh business logics: one gets every entry, the other every entry but those of
     * the fuzzing clients (numbered on without them: the digest does not cover log positions).
     */
    private static Replay replay(final Path journal, final LongHashSet fuzzers) throws java.io.IOException
    {
        final BusinessLogic all = new BusinessLogic(rules().conclude(), OutputSink.NONE);
        final BusinessLogic correctOnly = new BusinessLogic(rules().conclude(), OutputSink.NONE);
        final Map<ResultCode, Long> fuzzCodes = new TreeMap<>();
        long records = 0;
        long fuzzEntries = 0;
        long fuzzAccepted = 0;
        long kept = 0;
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), journal).from(1))
        {
            JournalReader.Status status;
            while ((status = reader.next()) != JournalReader.Status.END)
            {
                assertEquals(JournalReader.Status.RECORD, status, reader.describeProblem());
                records++;
                final DirectBuffer buffer = reader.buffer();
                final int offset = reader.operatorOffset();
                final int length = reader.operatorLength();
                final ResultCode result = all.apply(reader.index(), reader.term(), reader.entryTimeMs(), buffer,
                    offset, length);
                if (fuzzers.contains(clientIdOf(buffer, offset, length)))
                {
                    fuzzEntries++;
                    fuzzCodes.merge(result, 1L, Long::sum);
                    fuzzAccepted += result == ResultCode.OK ? 1 : 0;
                }
                else
                {
                    correctOnly.apply(++kept, reader.term(), reader.entryTimeMs(), buffer, offset, length);
                }
            }
        }
        return new Replay(records, fuzzEntries, fuzzAccepted, fuzzCodes, all.digest(), correctOnly.digest());
    }

    /** The client id the ingress stamped into a client operator, or -1 for the node's own operators. */
    private static long clientIdOf(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH + 8 ||
            (buffer.getShort(offset + 4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF) != MessageHeaderDecoder.SCHEMA_ID)
        {
            return -1;
        }
        final int template = buffer.getShort(offset + 2, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return template >= 10 && template <= 14 ?
            buffer.getLong(offset + MessageHeaderDecoder.ENCODED_LENGTH, ByteOrder.LITTLE_ENDIAN) : -1;
    }
}
