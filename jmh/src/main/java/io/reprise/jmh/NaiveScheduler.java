package io.reprise.jmh;

import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.zip.CRC32C;

import io.reprise.engine.logic.Backoff;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.BeginRepeatsDecoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SetTimeDecoder;
import org.agrona.DirectBuffer;

/**
 * The baseline: the scheduler a team would write by hand with java.util collections, for the operators of the
 * benchmark mix (SaveSession, ReportOutcome, BeginRepeats, SetTime) with the same transitions, checks and sink
 * events as the business logic. A {@code HashMap<Key, Session>} of session objects, a {@code PriorityQueue} of
 * timer objects ordered by (due time, insertion) with lazy cancellation, an {@code ArrayDeque} ready queue and a
 * {@code LinkedHashSet} dead queue per destination. It decodes the same SBE operators with the same flyweights
 * and checksums the payload with {@link CRC32C} like the engine, so the difference is the state's data structures.
 * Not a product: no cancel, redrive, configure or leader terms; heap byte[] operator buffers only.
 */
final class NaiveScheduler implements Engine
{
    private static final int PENDING = SessionStatus.PENDING.value();
    private static final int READY = SessionStatus.READY.value();
    private static final int IN_FLIGHT = SessionStatus.IN_FLIGHT.value();
    private static final int COMPLETED = SessionStatus.COMPLETED.value();
    private static final int DEAD = SessionStatus.DEAD.value();
    private static final long NO_DEADLINE = Long.MAX_VALUE;

    record Key(int tenant, long sessionId)
    {
    }

    static final class Session
    {
        final Key key;
        int destination;
        int status;
        int attempt;
        int maxAttempts;
        int jitterPermille;
        int backoffInitialMs;
        int backoffMaxMs;
        int multiplierPermille;
        int leaseMs;
        int payloadSize;
        int payloadChecksum;
        int lastErrorCode;
        long createdAtMs;
        long deadlineMs;
        Timer timer;

        Session(final Key key)
        {
            this.key = key;
        }
    }

    static final class Timer implements Comparable<Timer>
    {
        final long atMs;
        final long seq;
        final Session session;
        boolean cancelled;

        Timer(final long atMs, final long seq, final Session session)
        {
            this.atMs = atMs;
            this.seq = seq;
            this.session = session;
        }

        public int compareTo(final Timer other)
        {
            final int byTime = Long.compare(atMs, other.atMs);
            return byTime != 0 ? byTime : Long.compare(seq, other.seq);
        }
    }

    private final BusinessRules rules;
    private final OutputSink sink;
    private final Map<Key, Session> sessions;
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final ArrayDeque<Session>[] readyQueues;
    private final LinkedHashSet<Session>[] deadQueues;
    private final int[] owner;
    private final int[] inFlightLimit;
    private final int[] pending;
    private final int[] inFlight;
    private final int[] retained;
    private final CRC32C crc = new CRC32C();

    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final SaveSessionDecoder save = new SaveSessionDecoder();
    private final ReportOutcomeDecoder report = new ReportOutcomeDecoder();
    private final BeginRepeatsDecoder beginRepeats = new BeginRepeatsDecoder();
    private final SetTimeDecoder setTime = new SetTimeDecoder();

    private long systemTimeMs;
    private long appliedIndex;
    private long timerSeq;
    private int liveTimers;

    @SuppressWarnings("unchecked")
    NaiveScheduler(final BusinessRules rules, final OutputSink sink)
    {
        this.rules = rules;
        this.sink = sink;
        sessions = new HashMap<>((int)Math.min(1 << 30, rules.expectedSessions() * 4L / 3 + 16));
        final int count = rules.maxDestinations();
        readyQueues = new ArrayDeque[count];
        deadQueues = new LinkedHashSet[count];
        for (int d = 0; d < count; d++)
        {
            readyQueues[d] = new ArrayDeque<>();
            deadQueues[d] = new LinkedHashSet<>();
        }
        owner = new int[count];
        inFlightLimit = new int[count];
        java.util.Arrays.fill(inFlightLimit, rules.defaultInFlightLimit());
        pending = new int[count];
        inFlight = new int[count];
        retained = new int[count];
    }

    int size()
    {
        return sessions.size();
    }

    int scheduledTimers()
    {
        return liveTimers;
    }

    public int ready(final int destination)
    {
        return readyQueues[destination].size();
    }

    /** No ring here: each operator is applied as it is offered; rejections reach the sink as responses. */
    public void offer(final DirectBuffer buffer, final int offset, final int length)
    {
        apply(appliedIndex + 1, 1, buffer, offset, length);
    }

    public void applyBatch()
    {
    }

    public ResultCode apply(
        final long index, final long term, final DirectBuffer buffer, final int offset, final int length)
    {
        if (index != appliedIndex + 1)
        {
            throw new IllegalStateException("log order broken at " + index);
        }
        appliedIndex = index;
        header.wrap(buffer, offset);
        if (header.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            return ResultCode.UNSUPPORTED_SCHEMA;
        }
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = header.blockLength();
        final int version = header.version();
        switch (header.templateId())
        {
            case SaveSessionDecoder.TEMPLATE_ID:
            {
                save.wrap(buffer, body, blockLength, version);
                final int limit = save.limit();
                final int payloadLength = buffer.getInt(limit, ByteOrder.LITTLE_ENDIAN);
                final ResultCode result = onSave(buffer, limit + Integer.BYTES, payloadLength);
                sink.onResponse(save.clientId(), save.correlationId(), SaveSessionDecoder.TEMPLATE_ID, result, 0);
                return result;
            }
            case ReportOutcomeDecoder.TEMPLATE_ID:
            {
                report.wrap(buffer, body, blockLength, version);
                final ResultCode result = onReport();
                sink.onResponse(
                    report.clientId(), report.correlationId(), ReportOutcomeDecoder.TEMPLATE_ID, result, 0);
                return result;
            }
            case BeginRepeatsDecoder.TEMPLATE_ID:
                beginRepeats.wrap(buffer, body, blockLength, version);
                return onBegin();
            case SetTimeDecoder.TEMPLATE_ID:
                setTime.wrap(buffer, body, blockLength, version);
                return onSetTime(setTime.timeMs());
            default:
                return ResultCode.UNKNOWN_TEMPLATE;
        }
    }

    private ResultCode onSave(final DirectBuffer buffer, final int payloadOffset, final int payloadLength)
    {
        final int tenant = save.tenant();
        final int destination = save.destination();
        if (tenant <= 0 || destination < 0 || destination >= owner.length)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (payloadLength > rules.maxPayloadBytes())
        {
            return ResultCode.PAYLOAD_TOO_LARGE;
        }
        final long dueAtMs = save.dueAtMs();
        final long initialDelayMs = save.initialDelayMs();
        final long ttlMs = save.ttlMs();
        final int maxAttempts = save.maxAttempts();
        final long leaseMs = save.leaseMs();
        if (maxAttempts < 1 || leaseMs < 1 || leaseMs > rules.maxLeaseMs() || initialDelayMs < 0 || dueAtMs < 0 ||
            ttlMs < 0 || save.backoffMaxMs() < save.backoffInitialMs() || (dueAtMs != 0 && initialDelayMs != 0))
        {
            return ResultCode.INVALID_POLICY;
        }
        final long dueMs = dueAtMs != 0 ? dueAtMs : systemTimeMs + initialDelayMs;
        final long deadlineMs = ttlMs == 0 ? NO_DEADLINE : systemTimeMs + ttlMs;
        if (dueMs >= deadlineMs)
        {
            return ResultCode.INVALID_POLICY;
        }
        final Key key = new Key(tenant, save.sessionId());
        if (sessions.containsKey(key))
        {
            return ResultCode.DUPLICATE_SESSION;
        }
        if (owner[destination] != 0 && owner[destination] != tenant)
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        if (sessions.size() >= rules.maxSessions())
        {
            return ResultCode.CAPACITY_EXHAUSTED;
        }
        owner[destination] = tenant;

        final Session session = new Session(key);
        session.destination = destination;
        session.maxAttempts = maxAttempts;
        session.jitterPermille = save.jitterPermille();
        session.backoffInitialMs = (int)save.backoffInitialMs();
        session.backoffMaxMs = (int)save.backoffMaxMs();
        session.multiplierPermille = save.backoffMultiplierPermille();
        session.leaseMs = (int)leaseMs;
        session.payloadSize = payloadLength;
        final byte[] array = buffer.byteArray();
        crc.reset();
        crc.update(array, buffer.wrapAdjustment() + payloadOffset, payloadLength);
        session.payloadChecksum = (int)crc.getValue();
        session.createdAtMs = systemTimeMs;
        session.deadlineMs = deadlineMs;
        sessions.put(key, session);
        if (dueMs > systemTimeMs)
        {
            makePending(session, dueMs);
        }
        else
        {
            makeReady(session);
        }
        sink.onSessionSaved(tenant, key.sessionId(), destination, buffer, payloadOffset, payloadLength);
        return ResultCode.OK;
    }

    private ResultCode onReport()
    {
        final int tenant = report.tenant();
        final int attempt = report.attempt();
        final Outcome outcome = report.outcome();
        final long retryAfterMs = report.retryAfterMs();
        final int errorCode = report.errorCode();
        if (tenant <= 0 || attempt < 1 || outcome == Outcome.NULL_VAL || errorCode < 0 || retryAfterMs < 0 ||
            (retryAfterMs != 0 && outcome != Outcome.RETRY))
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final Session session = sessions.get(new Key(tenant, report.sessionId()));
        if (session == null)
        {
            return ResultCode.UNKNOWN_SESSION;
        }
        if (session.status != IN_FLIGHT || session.attempt != attempt)
        {
            return ResultCode.STALE_ATTEMPT;
        }
        cancelTimer(session);
        inFlight[session.destination]--;
        switch (outcome)
        {
            case SUCCEEDED:
                finish(session, COMPLETED, errorCode);
                break;
            case FAILED_PERMANENTLY:
                finish(session, DEAD, errorCode);
                break;
            default:
                failAttempt(session, errorCode, retryAfterMs);
                break;
        }
        return ResultCode.OK;
    }

    private ResultCode onBegin()
    {
        final int destination = beginRepeats.destination();
        final int maxCount = beginRepeats.maxCount();
        if (destination < 0 || destination >= owner.length || maxCount < 1 || maxCount > rules.maxBeginRepeatsBatch())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final int count = Math.min(maxCount, inFlightLimit[destination] - inFlight[destination]);
        final ArrayDeque<Session> queue = readyQueues[destination];
        for (int started = 0; started < count && !queue.isEmpty(); started++)
        {
            final Session session = queue.poll();
            cancelTimer(session);
            session.attempt++;
            session.status = IN_FLIGHT;
            inFlight[destination]++;
            final long leaseExpiresAtMs = systemTimeMs + session.leaseMs;
            schedule(session, leaseExpiresAtMs);
            sink.onRepeatStarted(session.key.tenant(), session.key.sessionId(), destination, session.attempt,
                leaseExpiresAtMs, OperatorEncoder.NO_HANDLE);
        }
        return ResultCode.OK;
    }

    private ResultCode onSetTime(final long timeMs)
    {
        if (timeMs <= systemTimeMs)
        {
            return ResultCode.STALE_TIME;
        }
        Timer timer;
        while ((timer = timers.peek()) != null && timer.atMs <= timeMs)
        {
            timers.poll();
            if (timer.cancelled)
            {
                continue;
            }
            liveTimers--;
            final Session session = timer.session;
            session.timer = null;
            systemTimeMs = timer.atMs;
            onTimer(session);
        }
        systemTimeMs = timeMs;
        return ResultCode.OK;
    }

    private void onTimer(final Session session)
    {
        final int destination = session.destination;
        if (session.status == PENDING)
        {
            pending[destination]--;
            makeReady(session);
        }
        else if (session.status == READY)
        {
            readyQueues[destination].remove(session);
            finish(session, DEAD, -2);
        }
        else if (session.status == IN_FLIGHT)
        {
            inFlight[destination]--;
            failAttempt(session, -1, 0);
        }
        else
        {
            if (session.status == DEAD)
            {
                deadQueues[destination].remove(session);
            }
            else
            {
                retained[destination]--;
            }
            sessions.remove(session.key);
            sink.onSessionPurged(session.key.tenant(), session.key.sessionId());
        }
    }

    private void schedule(final Session session, final long atMs)
    {
        final Timer timer = new Timer(atMs, timerSeq++, session);
        session.timer = timer;
        timers.add(timer);
        liveTimers++;
    }

    private void cancelTimer(final Session session)
    {
        if (session.timer != null)
        {
            session.timer.cancelled = true;
            session.timer = null;
            liveTimers--;
        }
    }

    private void makePending(final Session session, final long dueMs)
    {
        session.status = PENDING;
        pending[session.destination]++;
        schedule(session, dueMs);
    }

    private void makeReady(final Session session)
    {
        session.status = READY;
        readyQueues[session.destination].add(session);
        if (session.deadlineMs != NO_DEADLINE)
        {
            schedule(session, session.deadlineMs);
        }
    }

    private void failAttempt(final Session session, final int errorCode, final long retryAfterMs)
    {
        session.lastErrorCode = errorCode;
        if (session.attempt >= session.maxAttempts)
        {
            finish(session, DEAD, errorCode);
            return;
        }
        final long delayMs = retryAfterMs > 0 ?
            Math.min(retryAfterMs, session.backoffMaxMs) :
            Backoff.delayMs(session.backoffInitialMs, session.backoffMaxMs, session.multiplierPermille,
                session.jitterPermille, session.key.sessionId(), session.attempt);
        final long dueMs = systemTimeMs + delayMs;
        if (dueMs >= session.deadlineMs)
        {
            finish(session, DEAD, -2);
        }
        else if (dueMs > systemTimeMs)
        {
            makePending(session, dueMs);
        }
        else
        {
            makeReady(session);
        }
    }

    private void finish(final Session session, final int status, final int errorCode)
    {
        session.status = status;
        session.lastErrorCode = errorCode;
        if (status == DEAD)
        {
            deadQueues[session.destination].add(session);
            schedule(session, systemTimeMs + rules.deadRetentionMs());
        }
        else
        {
            retained[session.destination]++;
            schedule(session, systemTimeMs + rules.terminalRetentionMs());
        }
        sink.onSessionFinished(session.key.tenant(), session.key.sessionId(), session.destination,
            SessionStatus.get((short)status), session.attempt, errorCode);
    }
}
