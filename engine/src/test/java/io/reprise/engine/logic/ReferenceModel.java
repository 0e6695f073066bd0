package io.reprise.engine.logic;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32C;

import io.reprise.schema.client.ResultCode;

/**
 * A deliberately simple, independent model of the business logic, written from the specification
 * (docs/state.md, docs/operators.md and ARCHITECTURE §2–§3) with plain collections: a {@link HashMap} of
 * sessions, a {@link TreeSet} of timers ordered by {@code (time, insertion sequence)}, and
 * {@link LinkedHashSet}s for the ready and dead FIFOs of each destination. It decodes the raw frame bytes
 * itself, at the offsets the SBE schema (reprise-log.xml) defines, and never touches the engine's state
 * structures. It is slow and allocates freely; it exists to be obviously right.
 * <p>
 * Its outputs are event lines in the exact text form of {@link RecordingSink}, so a test compares the two
 * lists directly.
 */
final class ReferenceModel
{
    static final int PENDING = 1;
    static final int READY = 2;
    static final int IN_FLIGHT = 3;
    static final int COMPLETED = 4;
    static final int CANCELLED = 5;
    static final int DEAD = 6;
    static final String[] STATUS_NAMES = {"?", "PENDING", "READY", "IN_FLIGHT", "COMPLETED", "CANCELLED", "DEAD"};

    static final long NO_DEADLINE = Long.MAX_VALUE;
    static final int LEASE_EXPIRED = -1;
    static final int DEADLINE_EXCEEDED = -2;

    // log schema (reprise-log.xml): id, version, template ids and fixed block lengths
    static final int SCHEMA_ID = 1;
    static final int SCHEMA_VERSION = 2;
    static final int HEADER_LENGTH = 8;
    static final int SAVE = 10;
    static final int CANCEL = 11;
    static final int REPORT = 12;
    static final int REDRIVE = 13;
    static final int CONFIGURE = 14;
    static final int BEGIN = 20;
    static final int SET_TIME = 21;
    static final int NEW_TERM = 22;
    static final int SAVE_BLOCK = 92;
    static final int CANCEL_BLOCK = 28;
    /**
     * ReportOutcome's fixed block: 45 bytes in version 0, then {@code handle} (int32, ignored here) in version 1, then
     * {@code destination} (int32) in version 2.
     */
    static final int REPORT_BLOCK_V0 = 45;
    static final int REPORT_BLOCK_V1 = 49;
    static final int REPORT_BLOCK = 53;
    static final int REDRIVE_BLOCK = 37;
    static final int CONFIGURE_BLOCK = 28;
    static final int BEGIN_BLOCK = 8;
    static final int SET_TIME_BLOCK = 8;
    static final int NEW_TERM_BLOCK = 12;

    static final int SUCCEEDED = 1;
    static final int RETRY = 2;
    static final int FAILED_PERMANENTLY = 3;
    static final int SCOPE_SESSION = 1;
    static final int SCOPE_DESTINATION = 2;

    record Key(int tenant, long sessionId)
    {
    }

    /** One session, every field the state holds for it. */
    static final class Session
    {
        final int tenant;
        final long sessionId;
        int destination;
        int status;
        int attempt;
        int lifeStartAttempt;
        int maxAttempts;
        int jitterPermille;
        long backoffInitialMs;
        long backoffMaxMs;
        int multiplierPermille;
        long leaseMs;
        int payloadSize;
        int payloadChecksum;
        int lastErrorCode;
        /** Time of the last timer scheduled for it; like the engine's field it keeps its value when cancelled. */
        long timerAt;
        long deadline;
        long createdAt;
        Timer timer;

        Session(final int tenant, final long sessionId)
        {
            this.tenant = tenant;
            this.sessionId = sessionId;
        }

        String name()
        {
            return tenant + ":" + sessionId;
        }

        public String toString()
        {
            return name() + " dest=" + destination + " " + STATUS_NAMES[status] + " attempt=" + attempt + "/" +
                maxAttempts + " timer=" + (timer != null ? timer.at : "-") + "(" + timerAt + ") deadline=" +
                (deadline == NO_DEADLINE ? "none" : deadline) + " created=" + createdAt + " error=" + lastErrorCode;
        }
    }

    record Timer(long at, long seq, Session session)
    {
    }

    static final class Destination
    {
        int owner;
        int inFlightLimit;
        final LinkedHashSet<Session> ready = new LinkedHashSet<>();
        final LinkedHashSet<Session> dead = new LinkedHashSet<>();
    }

    private final BusinessRules rules;
    private final Map<Key, Session> sessions = new HashMap<>();
    private final TreeSet<Timer> timers = new TreeSet<>(
        (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private final Destination[] destinations;
    private final CRC32C crc = new CRC32C();
    /** Events of the operator being applied, in the text form of {@link RecordingSink}. */
    final List<String> events = new ArrayList<>();
    /** How often each interesting branch of the lifecycle was taken: shows a run covered every path. */
    final Map<String, Long> paths = new TreeMap<>();

    private long timerSeq;
    private long now;
    private long leaderTerm;
    private long entryTerm = 1;
    private int leaderMemberId = -1;
    private long responseValue;

    ReferenceModel(final BusinessRules rules)
    {
        this.rules = rules;
        destinations = new Destination[rules.maxDestinations()];
        for (int d = 0; d < destinations.length; d++)
        {
            destinations[d] = new Destination();
            destinations[d].inFlightLimit = rules.defaultInFlightLimit();
        }
    }

    // ------------------------------------------------------------------------------------------ queries

    long now()
    {
        return now;
    }

    long leaderTerm()
    {
        return leaderTerm;
    }

    int leaderMemberId()
    {
        return leaderMemberId;
    }

    Session session(final int tenant, final long sessionId)
    {
        return sessions.get(new Key(tenant, sessionId));
    }

    Collection<Session> sessions()
    {
        return sessions.values();
    }

    int destinationCount()
    {
        return destinations.length;
    }

    Destination destination(final int d)
    {
        return destinations[d];
    }

    int timerCount()
    {
        return timers.size();
    }

    int count(final int destination, final int status)
    {
        int n = 0;
        for (final Session s : sessions.values())
        {
            if (s.destination == destination && s.status == status)
            {
                n++;
            }
        }
        return n;
    }

    private void path(final String name)
    {
        paths.merge(name, 1L, Long::sum);
    }

    // ------------------------------------------------------------------------------------------ decoding

    /** Applies one frame; the events it causes are appended to {@link #events}. */
    /**
     * The term a log would carry this frame at: a NewLeaderTerm for a later term starts that term (a new leader
     * appends it in its own term); anything else stays in the current term.
     */
    static long entryTerm(final byte[] frame, final long currentTerm)
    {
        final ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        if (frame.length >= HEADER_LENGTH + 12 && u16(b, 2) == 22 && u16(b, 4) == SCHEMA_ID)
        {
            return Math.max(currentTerm, b.getLong(HEADER_LENGTH));
        }
        return currentTerm;
    }

    ResultCode apply(final byte[] frame, final int length, final long entryTerm)
    {
        this.entryTerm = entryTerm;
        return apply(frame, length);
    }

    private ResultCode apply(final byte[] frame, final int length)
    {
        final ByteBuffer b = ByteBuffer.wrap(frame, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        if (length < HEADER_LENGTH)
        {
            return ResultCode.MALFORMED_FRAME;
        }
        final int blockLength = u16(b, 0);
        final int template = u16(b, 2);
        if (u16(b, 4) != SCHEMA_ID)
        {
            return ResultCode.UNSUPPORTED_SCHEMA;
        }
        if (u16(b, 6) > SCHEMA_VERSION)
        {
            return ResultCode.UNSUPPORTED_VERSION;
        }
        final int o = HEADER_LENGTH;
        responseValue = 0;
        switch (template)
        {
            case SAVE:
            {
                final int payloadLength = varData(blockLength, SAVE_BLOCK, length, b);
                if (payloadLength < 0)
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                final byte[] payload = Arrays.copyOfRange(frame, o + blockLength + 4, length);
                return respond(b.getLong(o), b.getLong(o + 8), SAVE, save(
                    b.getInt(o + 72), b.getLong(o + 16), b.getInt(o + 76),
                    b.getLong(o + 24), b.getLong(o + 32), b.getLong(o + 40), b.getLong(o + 48),
                    b.getLong(o + 56), b.getLong(o + 64), b.getInt(o + 80), b.getInt(o + 84), b.getInt(o + 88),
                    payload));
            }
            case CANCEL:
                if (!exactBlock(blockLength, CANCEL_BLOCK, length))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return respond(b.getLong(o), b.getLong(o + 8), CANCEL, cancel(b.getInt(o + 24), b.getLong(o + 16)));
            case REPORT:
            {
                final int version = u16(b, 6);
                final int textLength = varData(blockLength,
                    version >= 2 ? REPORT_BLOCK : version == 1 ? REPORT_BLOCK_V1 : REPORT_BLOCK_V0, length, b);
                if (textLength < 0)
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return respond(b.getLong(o), b.getLong(o + 8), REPORT, report(b.getInt(o + 32), b.getLong(o + 16),
                    b.getInt(o + 36), b.get(o + 44) & 0xFF, b.getInt(o + 40), b.getLong(o + 24), textLength,
                    version >= 2, version >= 2 ? b.getInt(o + 49) : 0));
            }
            case REDRIVE:
                if (!exactBlock(blockLength, REDRIVE_BLOCK, length))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return respond(b.getLong(o), b.getLong(o + 8), REDRIVE, redrive(b.getInt(o + 24),
                    b.get(o + 36) & 0xFF, b.getLong(o + 16), b.getInt(o + 28), b.getInt(o + 32)));
            case CONFIGURE:
                if (!exactBlock(blockLength, CONFIGURE_BLOCK, length))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return respond(b.getLong(o), b.getLong(o + 8), CONFIGURE,
                    configure(b.getInt(o + 16), b.getInt(o + 20), b.getInt(o + 24)));
            case BEGIN:
                if (!exactBlock(blockLength, BEGIN_BLOCK, length))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return begin(b.getInt(o), b.getInt(o + 4));
            case SET_TIME:
                if (!exactBlock(blockLength, SET_TIME_BLOCK, length))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return setTime(b.getLong(o));
            case NEW_TERM:
                if (!exactBlock(blockLength, NEW_TERM_BLOCK, length))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return newTerm(b.getLong(o), b.getInt(o + 8));
            default:
                return ResultCode.UNKNOWN_TEMPLATE;
        }
    }

    private static int u16(final ByteBuffer b, final int at)
    {
        return b.getShort(at) & 0xFFFF;
    }

    /** A fixed block of at least the schema's length (a newer sender may add fields) that ends the frame. */
    private static boolean exactBlock(final int blockLength, final int schemaBlock, final int length)
    {
        return blockLength >= schemaBlock && HEADER_LENGTH + blockLength == length;
    }

    /** @return the length of the one var-data field that must end the frame exactly, or -1. */
    private static int varData(final int blockLength, final int schemaBlock, final int length, final ByteBuffer b)
    {
        final int lengthAt = HEADER_LENGTH + blockLength;
        if (blockLength < schemaBlock || lengthAt + 4 > length)
        {
            return -1;
        }
        final long dataLength = b.getInt(lengthAt) & 0xFFFF_FFFFL;
        return lengthAt + 4 + dataLength == length ? (int)dataLength : -1;
    }

    private ResultCode respond(final long clientId, final long correlationId, final int template,
        final ResultCode result)
    {
        events.add("response client=" + clientId + " corr=" + correlationId + " template=" + template +
            " " + result + " value=" + responseValue);
        return result;
    }

    // ------------------------------------------------------------------------------------------ operators

    private boolean validDestination(final int d)
    {
        return d >= 0 && d < destinations.length;
    }

    private boolean foreign(final int d, final int tenant)
    {
        return destinations[d].owner != 0 && destinations[d].owner != tenant;
    }

    private ResultCode save(
        final int tenant, final long sessionId, final int destination, final long dueAtMs, final long initialDelayMs,
        final long backoffInitialMs, final long backoffMaxMs, final long leaseMs, final long ttlMs,
        final int multiplierPermille, final int jitterPermille, final int maxAttempts, final byte[] payload)
    {
        if (tenant <= 0 || !validDestination(destination))
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (payload.length > rules.maxPayloadBytes())
        {
            return ResultCode.PAYLOAD_TOO_LARGE;
        }
        final boolean policyValid =
            maxAttempts >= 1 && maxAttempts <= 0xFFFF &&
            backoffInitialMs >= 0 && backoffInitialMs <= backoffMaxMs && backoffMaxMs <= Integer.MAX_VALUE &&
            multiplierPermille >= 1000 && multiplierPermille <= 0xFFFF &&
            jitterPermille >= 0 && jitterPermille <= 1000 &&
            leaseMs >= 1 && leaseMs <= rules.maxLeaseMs() &&
            initialDelayMs >= 0 && initialDelayMs <= rules.maxInitialDelayMs() &&
            dueAtMs >= 0 && dueAtMs <= BusinessRules.Configuration.MAX_SYSTEM_TIME_MS &&
            !(dueAtMs != 0 && initialDelayMs != 0) &&
            ttlMs >= 0 && ttlMs <= rules.maxTtlMs();
        if (!policyValid)
        {
            return ResultCode.INVALID_POLICY;
        }
        final long due = dueAtMs != 0 ? dueAtMs : now + initialDelayMs;
        final long deadline = ttlMs == 0 ? NO_DEADLINE : now + ttlMs;
        if (due >= deadline)
        {
            path("save.dueAfterDeadline");
            return ResultCode.INVALID_POLICY;
        }
        final Session existing = session(tenant, sessionId);
        if (existing != null)
        {
            responseValue = existing.status;
            path("save.duplicate." + STATUS_NAMES[existing.status]);
            return ResultCode.DUPLICATE_SESSION;
        }
        if (foreign(destination, tenant))
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        if (sessions.size() >= rules.maxSessions())
        {
            return ResultCode.CAPACITY_EXHAUSTED;
        }

        final Session s = new Session(tenant, sessionId);
        sessions.put(new Key(tenant, sessionId), s);
        destinations[destination].owner = tenant;
        s.destination = destination;
        s.maxAttempts = maxAttempts;
        s.jitterPermille = jitterPermille;
        s.backoffInitialMs = backoffInitialMs;
        s.backoffMaxMs = backoffMaxMs;
        s.multiplierPermille = multiplierPermille;
        s.leaseMs = leaseMs;
        s.payloadSize = payload.length;
        crc.reset();
        crc.update(payload, 0, payload.length);
        s.payloadChecksum = (int)crc.getValue();
        s.createdAt = now;
        s.deadline = deadline;
        if (due > now)
        {
            path("save.pending");
            toPending(s, due);
        }
        else
        {
            path(dueAtMs != 0 ? "save.readyDueInPast" : "save.readyNow");
            toReady(s);
        }
        events.add("saved " + s.name() + " dest=" + destination + " payload=" + Arrays.hashCode(payload) + "/" +
            payload.length);
        return ResultCode.OK;
    }

    private ResultCode cancel(final int tenant, final long sessionId)
    {
        if (tenant <= 0)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final Session s = session(tenant, sessionId);
        if (s == null)
        {
            return ResultCode.UNKNOWN_SESSION;
        }
        if (s.status != PENDING && s.status != READY && s.status != IN_FLIGHT)
        {
            responseValue = s.status;
            return ResultCode.SESSION_FINISHED;
        }
        path("cancel." + STATUS_NAMES[s.status]);
        leave(s);
        end(s, CANCELLED, 0);
        return ResultCode.OK;
    }

    /**
     * @param namesDestination whether the report names its destination (log version 2 on): only the session's
     *                         destination's worker may then report it. Older reports are taken from anyone.
     */
    private ResultCode report(final int tenant, final long sessionId, final int attempt, final int outcome,
        final int errorCode, final long retryAfterMs, final int textLength, final boolean namesDestination,
        final int destination)
    {
        final boolean knownOutcome = outcome == SUCCEEDED || outcome == RETRY || outcome == FAILED_PERMANENTLY;
        if (tenant <= 0 || attempt < 1 || !knownOutcome || errorCode < 0 || retryAfterMs < 0 ||
            (retryAfterMs != 0 && outcome != RETRY) || (namesDestination && !validDestination(destination)))
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (textLength > rules.maxErrorTextBytes())
        {
            return ResultCode.ERROR_TEXT_TOO_LARGE;
        }
        final Session s = session(tenant, sessionId);
        if (s == null)
        {
            return ResultCode.UNKNOWN_SESSION;
        }
        if (namesDestination && s.destination != destination)
        {
            path("report.otherDestination." + STATUS_NAMES[s.status]);
            return ResultCode.ROLE_NOT_ALLOWED;
        }
        if (!namesDestination && s.status == IN_FLIGHT && s.attempt == attempt)
        {
            path("report.oldVersion");
        }
        if (s.status != IN_FLIGHT || s.attempt != attempt)
        {
            responseValue = s.attempt;
            path("report.stale." + STATUS_NAMES[s.status]);
            return ResultCode.STALE_ATTEMPT;
        }
        leave(s);
        if (outcome == SUCCEEDED)
        {
            path("report.succeeded");
            end(s, COMPLETED, errorCode);
        }
        else if (outcome == FAILED_PERMANENTLY)
        {
            path("report.failedPermanently");
            end(s, DEAD, errorCode);
        }
        else
        {
            path(retryAfterMs > 0 ? "report.retryAfter" : "report.retry");
            attemptFailed(s, errorCode, retryAfterMs);
        }
        return ResultCode.OK;
    }

    private ResultCode redrive(final int tenant, final int scope, final long sessionId, final int destination,
        final int maxCount)
    {
        if (tenant <= 0 || (scope != SCOPE_SESSION && scope != SCOPE_DESTINATION))
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (scope == SCOPE_SESSION)
        {
            final Session s = session(tenant, sessionId);
            if (s == null)
            {
                return ResultCode.UNKNOWN_SESSION;
            }
            if (s.status != DEAD)
            {
                responseValue = s.status;
                return ResultCode.NOT_DEAD;
            }
            path("redrive.session");
            revive(s);
            responseValue = 1;
            return ResultCode.OK;
        }
        if (!validDestination(destination) || maxCount < 1 || maxCount > rules.maxRedriveBatch())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (foreign(destination, tenant))
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        final Destination dest = destinations[destination];
        int n = 0;
        while (n < maxCount && !dest.dead.isEmpty())
        {
            revive(dest.dead.iterator().next());
            n++;
        }
        path(n == 0 ? "redrive.destination.none" : n == maxCount ? "redrive.destination.full" :
            "redrive.destination.partial");
        responseValue = n;
        return ResultCode.OK;
    }

    private ResultCode configure(final int tenant, final int destination, final int limit)
    {
        if (tenant <= 0 || !validDestination(destination) || limit < 1 || limit > rules.maxInFlightLimit())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (foreign(destination, tenant))
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        final Destination d = destinations[destination];
        if (d.owner == 0)
        {
            path("configure.claims");
        }
        if (limit < count(destination, IN_FLIGHT))
        {
            path("configure.belowInFlight");
        }
        d.owner = tenant;
        d.inFlightLimit = limit;
        return ResultCode.OK;
    }

    private ResultCode begin(final int destination, final int maxCount)
    {
        if (!validDestination(destination) || maxCount < 1 || maxCount > rules.maxBeginRepeatsBatch())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final Destination d = destinations[destination];
        final int room = d.inFlightLimit - count(destination, IN_FLIGHT);
        int started = 0;
        while (started < Math.min(maxCount, room) && !d.ready.isEmpty())
        {
            final Session s = d.ready.iterator().next();
            leave(s);
            s.attempt++;
            s.status = IN_FLIGHT;
            final long lease = now + s.leaseMs;
            schedule(s, lease);
            events.add("started " + s.name() + " dest=" + destination + " attempt=" + s.attempt + " lease=" + lease);
            started++;
        }
        path(started == 0 ? (room <= 0 ? "begin.noRoom" : "begin.nothingReady") :
            started == maxCount ? "begin.full" : "begin.limited");
        return ResultCode.OK;
    }

    private ResultCode setTime(final long t)
    {
        if (t > BusinessRules.Configuration.MAX_SYSTEM_TIME_MS)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (t <= now)
        {
            return ResultCode.STALE_TIME;
        }
        while (!timers.isEmpty() && timers.first().at <= t)
        {
            final Timer timer = timers.pollFirst();
            timer.session.timer = null;
            now = timer.at;
            fire(timer.session);
        }
        now = t;
        return ResultCode.OK;
    }

    private ResultCode newTerm(final long term, final int memberId)
    {
        if (memberId < 0 || term != entryTerm)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (term <= leaderTerm)
        {
            return ResultCode.STALE_TERM;
        }
        leaderTerm = term;
        leaderMemberId = memberId;
        return ResultCode.OK;
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    private void fire(final Session s)
    {
        switch (s.status)
        {
            case PENDING:
                path("timer.due");
                toReady(s);
                break;
            case READY:
                path("timer.deadlineWhileReady");
                destinations[s.destination].ready.remove(s);
                end(s, DEAD, DEADLINE_EXCEEDED);
                break;
            case IN_FLIGHT:
                path("timer.leaseExpired");
                events.add(ended(s));
                attemptFailed(s, LEASE_EXPIRED, 0);
                break;
            default:
                path("timer.purge." + STATUS_NAMES[s.status]);
                leave(s);
                sessions.remove(new Key(s.tenant, s.sessionId));
                events.add("purged " + s.name());
                break;
        }
    }

    /** Leaves the current status: its timer and its place in a queue go. */
    private void leave(final Session s)
    {
        if (s.status == IN_FLIGHT)
        {
            events.add(ended(s));
        }
        cancelTimer(s);
        destinations[s.destination].ready.remove(s);
        destinations[s.destination].dead.remove(s);
    }

    private static String ended(final Session s)
    {
        return "ended " + s.name() + " dest=" + s.destination + " attempt=" + s.attempt;
    }

    private void toPending(final Session s, final long due)
    {
        s.status = PENDING;
        schedule(s, due);
    }

    private void toReady(final Session s)
    {
        s.status = READY;
        destinations[s.destination].ready.add(s);
        if (s.deadline != NO_DEADLINE)
        {
            schedule(s, s.deadline);
        }
    }

    private void attemptFailed(final Session s, final int errorCode, final long retryAfterMs)
    {
        s.lastErrorCode = errorCode;
        final int attemptsThisLife = s.attempt - s.lifeStartAttempt;
        if (attemptsThisLife >= s.maxAttempts)
        {
            path("fail.attemptsExhausted");
            end(s, DEAD, errorCode);
            return;
        }
        final long delay = retryAfterMs > 0 ? Math.min(retryAfterMs, s.backoffMaxMs) :
            backoffMs(s.backoffInitialMs, s.backoffMaxMs, s.multiplierPermille, s.jitterPermille, s.sessionId,
                attemptsThisLife);
        final long due = now + delay;
        if (due >= s.deadline)
        {
            path("fail.deadlineBeforeNextAttempt");
            end(s, DEAD, DEADLINE_EXCEEDED);
        }
        else if (delay > 0)
        {
            path("fail.backoff");
            toPending(s, due);
        }
        else
        {
            path("fail.readyAtOnce");
            toReady(s);
        }
    }

    private void end(final Session s, final int status, final int errorCode)
    {
        s.status = status;
        s.lastErrorCode = errorCode;
        if (status == DEAD)
        {
            destinations[s.destination].dead.add(s);
            schedule(s, now + rules.deadRetentionMs());
        }
        else
        {
            schedule(s, now + rules.terminalRetentionMs());
        }
        events.add("finished " + s.name() + " dest=" + s.destination + " " + STATUS_NAMES[status] + " attempt=" +
            s.attempt + " error=" + errorCode);
    }

    /** DEAD to READY with a fresh life: attempts counted anew (numbers go on), error cleared, ttl from now. */
    private void revive(final Session s)
    {
        leave(s);
        if (s.deadline != NO_DEADLINE)
        {
            s.deadline = now + (s.deadline - s.createdAt);
        }
        s.createdAt = now;
        s.lifeStartAttempt = s.attempt;
        s.lastErrorCode = 0;
        toReady(s);
    }

    private void schedule(final Session s, final long at)
    {
        if (s.timer != null || at <= now)
        {
            throw new IllegalStateException("model: bad timer for " + s + " at " + at + " now " + now);
        }
        s.timer = new Timer(at, timerSeq++, s);
        s.timerAt = at;
        timers.add(s.timer);
    }

    private void cancelTimer(final Session s)
    {
        if (s.timer != null)
        {
            timers.remove(s.timer);
            s.timer = null;
        }
    }

    /**
     * The retry delay, written from the specification: {@code min(max, initial * multiplier^(n-1))} with the power
     * computed by {@link StrictMath#pow} (the spec's choice, bit-identical everywhere), truncated to whole ms, then
     * moved by a jitter in {@code [-span, +span]}, {@code span = base * jitter / 1000}, chosen by the Murmur3
     * finaliser of {@code sessionId ^ attempt * golden ratio}.
     */
    static long backoffMs(final long initialMs, final long maxMs, final int multiplierPermille,
        final int jitterPermille, final long sessionId, final int attempt)
    {
        final double exact = initialMs * StrictMath.pow(multiplierPermille / 1000.0, attempt - 1);
        final long base = exact >= maxMs ? maxMs : (long)exact;
        final long span = base * jitterPermille / 1000;
        if (span == 0)
        {
            return base;
        }
        long h = sessionId ^ (attempt * 0x9E3779B97F4A7C15L);
        h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL;
        h = (h ^ (h >>> 33)) * 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return base - span + Math.floorMod(h, 2 * span + 1);
    }

    // ------------------------------------------------------------------------------------------ description

    /** A readable line for one frame, for failure reports. */
    static String describe(final byte[] frame, final int length)
    {
        if (length < HEADER_LENGTH)
        {
            return "frame[" + length + "] (shorter than a header)";
        }
        final ByteBuffer b = ByteBuffer.wrap(frame, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        final int block = u16(b, 0);
        final int template = u16(b, 2);
        final String head = "frame[" + length + "] block=" + block + " template=" + template + " schema=" +
            u16(b, 4) + " version=" + u16(b, 6);
        final int o = HEADER_LENGTH;
        try
        {
            switch (template)
            {
                case SAVE:
                    return head + " SaveSession " + b.getInt(o + 72) + ":" + b.getLong(o + 16) + " dest=" +
                        b.getInt(o + 76) + " dueAt=" + b.getLong(o + 24) + " delay=" + b.getLong(o + 32) +
                        " backoff=" + b.getLong(o + 40) + ".." + b.getLong(o + 48) + " x" + b.getInt(o + 80) +
                        " jitter=" + b.getInt(o + 84) + " attempts=" + b.getInt(o + 88) + " lease=" +
                        b.getLong(o + 56) + " ttl=" + b.getLong(o + 64) + " payload=" +
                        (b.getInt(o + block) & 0xFFFF_FFFFL);
                case CANCEL:
                    return head + " CancelSession " + b.getInt(o + 24) + ":" + b.getLong(o + 16);
                case REPORT:
                    return head + " ReportOutcome " + b.getInt(o + 32) + ":" + b.getLong(o + 16) +
                        (u16(b, 6) >= 2 ? " dest=" + b.getInt(o + 49) : "") + " attempt=" +
                        b.getInt(o + 36) + " outcome=" + (b.get(o + 44) & 0xFF) + " error=" + b.getInt(o + 40) +
                        " retryAfter=" + b.getLong(o + 24) + " text=" + (b.getInt(o + block) & 0xFFFF_FFFFL);
                case REDRIVE:
                    return head + " RedriveDead tenant=" + b.getInt(o + 24) + " scope=" + (b.get(o + 36) & 0xFF) +
                        " session=" + b.getLong(o + 16) + " dest=" + b.getInt(o + 28) + " max=" + b.getInt(o + 32);
                case CONFIGURE:
                    return head + " ConfigureDestination tenant=" + b.getInt(o + 16) + " dest=" + b.getInt(o + 20) +
                        " limit=" + b.getInt(o + 24);
                case BEGIN:
                    return head + " BeginRepeats dest=" + b.getInt(o) + " max=" + b.getInt(o + 4);
                case SET_TIME:
                    return head + " SetTime " + b.getLong(o);
                case NEW_TERM:
                    return head + " NewLeaderTerm " + b.getLong(o) + " member=" + b.getInt(o + 8);
                default:
                    return head;
            }
        }
        catch (final IndexOutOfBoundsException ex)
        {
            return head + " (truncated)";
        }
    }
}
