package io.reprise.engine.logic;

import static io.reprise.engine.state.SessionTable.NULL;

import java.io.IOException;
import java.nio.ByteOrder;

import io.reprise.engine.state.Destinations;
import io.reprise.engine.state.SessionTable;
import io.reprise.engine.state.StateInput;
import io.reprise.engine.state.StateOutput;
import io.reprise.engine.state.TimerWheel;
import io.reprise.engine.util.BufferChecksum;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.BeginRepeatsDecoder;
import io.reprise.schema.log.CancelSessionDecoder;
import io.reprise.schema.log.ConfigureDestinationDecoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.NewLeaderTermDecoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.RedriveDeadDecoder;
import io.reprise.schema.log.RedriveScope;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SetTimeDecoder;
import org.agrona.DirectBuffer;

/**
 * The business logic: applies committed operators, in log order, to the state (docs/state.md,
 * docs/operators.md).
 * <p>
 * {@link #apply} is the one entry point. It decodes the operator with reusable flyweights, checks every field,
 * and either changes the state and reports what happened to the {@link OutputSink}, or returns a precise error
 * code and changes nothing. It reads no clock (system time moves only by the times the log carries: each entry's
 * timestamp and {@code SetTime}), does no I/O and allocates nothing, so every replica that applies the same log
 * reaches the same state, which {@link #digest()} proves.
 * <p>
 * Single-threaded: owned by the business-logic thread.
 */
public final class BusinessLogic
{
    /** {@code lastErrorCode} of an attempt whose lease ran out before its worker reported. */
    public static final int LEASE_EXPIRED_ERROR = -1;
    /** {@code lastErrorCode} of a session whose deadline passed before it could succeed. */
    public static final int DEADLINE_EXCEEDED_ERROR = -2;
    /** {@code deadline} of a session saved without a ttl. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;

    private static final int PENDING = SessionStatus.PENDING.value();
    private static final int READY = SessionStatus.READY.value();
    private static final int IN_FLIGHT = SessionStatus.IN_FLIGHT.value();
    private static final int COMPLETED = SessionStatus.COMPLETED.value();
    private static final int CANCELLED = SessionStatus.CANCELLED.value();
    private static final int DEAD = SessionStatus.DEAD.value();

    private final BusinessRules rules;
    private final OutputSink sink;
    private final SessionTable sessions;
    private final TimerWheel timers;
    private final Destinations destinations;
    private final BufferChecksum checksum = new BufferChecksum();
    private final TimerWheel.Handler onTimer = this::onTimer;

    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final SaveSessionDecoder save = new SaveSessionDecoder();
    private final CancelSessionDecoder cancel = new CancelSessionDecoder();
    private final ReportOutcomeDecoder report = new ReportOutcomeDecoder();
    private final RedriveDeadDecoder redrive = new RedriveDeadDecoder();
    private final ConfigureDestinationDecoder configure = new ConfigureDestinationDecoder();
    private final BeginRepeatsDecoder beginRepeats = new BeginRepeatsDecoder();
    private final SetTimeDecoder setTime = new SetTimeDecoder();
    private final NewLeaderTermDecoder newLeaderTerm = new NewLeaderTermDecoder();
    private final MessageHeaderDecoder prefetchHeader = new MessageHeaderDecoder();
    private final SaveSessionDecoder prefetchSave = new SaveSessionDecoder();
    private final ReportOutcomeDecoder prefetchReport = new ReportOutcomeDecoder();
    private final CancelSessionDecoder prefetchCancel = new CancelSessionDecoder();

    private long systemTimeMs;
    /** System time before the entry being applied moved it; what a SetTime must be later than. */
    private long timeBeforeEntryMs;
    private long appliedIndex;
    private long appliedTerm;
    private long leaderTerm;
    private int leaderMemberId = -1;
    private long responseValue;
    private int varDataOffset;
    private int varDataLength;
    private final boolean frozen;

    public BusinessLogic(final BusinessRules rules, final OutputSink sink)
    {
        if (!rules.isConcluded())
        {
            throw new IllegalArgumentException("rules must be concluded");
        }
        this.rules = rules;
        this.sink = sink;
        sessions = new SessionTable(rules.maxSessions(), rules.expectedSessions());
        timers = new TimerWheel(sessions, rules.expectedSessions());
        destinations = new Destinations(sessions, rules.maxDestinations(), rules.defaultInFlightLimit());
        frozen = false;
    }

    /** A frozen view of {@code live}: see {@link #freeze}. */
    private BusinessLogic(final BusinessLogic live)
    {
        rules = live.rules;
        sink = OutputSink.NONE;
        sessions = live.sessions.freeze();
        timers = live.timers.freeze(sessions);
        destinations = live.destinations.freeze(sessions);
        systemTimeMs = live.systemTimeMs;
        appliedIndex = live.appliedIndex;
        appliedTerm = live.appliedTerm;
        leaderTerm = live.leaderTerm;
        leaderMemberId = live.leaderMemberId;
        frozen = true;
    }

    /**
     * The state as it is now, as a read-only view for a snapshot: {@link #writeState}, {@link #digest} and the
     * queries answer as this instance would have at this moment (but the view has no session index: it writes one
     * built from its records), from one other thread at a time (after a safe publication), while this one goes on
     * applying. It shares the session pages and timer chunks: until {@link #recycle}, this instance saves each block
     * of records and of timer entries before it first writes it (copy-on-write by block). One view at a time.
     * Business-logic thread only, like {@link #apply}.
     */
    public BusinessLogic freeze()
    {
        return new BusinessLogic(this);
    }

    /**
     * Ends {@code view}, from {@link #freeze}: nothing may read it any more. Two array copies (the page and chunk
     * tables), whatever the state's size.
     */
    public void recycle(final BusinessLogic view)
    {
        sessions.endView();
        timers.endView();
    }

    /**
     * While a view is held, between two batches: saves the next part of the state that the view still shares with
     * this instance (a session page, or as many bytes of timer chunks), after which writing it costs nothing more.
     * Without it, every write during the view would check whether its block is saved; the throughput of the
     * steady-state mix at 10^7 sessions fell to 0.67 of that without a view.
     *
     * @return whether anything may be left to save.
     */
    public boolean saveAhead()
    {
        return sessions.saveAhead() | timers.saveAhead();
    }

    /**
     * Allocates, now, the space in which a snapshot saves records before they are written, so that the node
     * allocates nothing large while serving. Costs as much memory as the tables hold now.
     */
    public void reserveSnapshotCopies()
    {
        sessions.reserveCopies();
        timers.reserveCopies();
    }

    /**
     * Applies one encoded operator that the log holds at {@code (index, term)} with no time of its own: system time
     * stays where it is. As {@link #apply(long, long, long, DirectBuffer, int, int)} with {@code entryTimeMs} 0.
     */
    public ResultCode apply(
        final long index, final long term, final DirectBuffer buffer, final int offset, final int length)
    {
        return apply(index, term, 0, buffer, offset, length);
    }

    /**
     * Applies one encoded operator (SBE header and body) that the log holds at {@code (index, term)}, sequenced by
     * the leader at {@code entryTimeMs}. First system time becomes at least {@code entryTimeMs}, firing every timer
     * due by then as {@code SetTime} would; so every delay a policy states counts from the time its operator was
     * sequenced, not from the last {@code SetTime}, and replicas and replays agree because the time is in the log.
     * An entry time at or before system time changes nothing (system time never goes back).
     *
     * @return {@link ResultCode#OK} or the reason the operator changed nothing (time may still have moved).
     * @throws IllegalStateException if {@code index} does not follow the last applied one or the term goes back:
     *                               the log itself is wrong and the node must stop.
     */
    public ResultCode apply(
        final long index, final long term, final long entryTimeMs, final DirectBuffer buffer, final int offset,
        final int length)
    {
        if (frozen)
        {
            throw new IllegalStateException("a frozen view of the state is read-only");
        }
        if (index != appliedIndex + 1 || term < appliedTerm)
        {
            throw new IllegalStateException("log order broken: entry (" + index + ", " + term +
                ") after (" + appliedIndex + ", " + appliedTerm + ")");
        }
        timeBeforeEntryMs = systemTimeMs;
        if (entryTimeMs > systemTimeMs)
        {
            advanceTime(Math.min(entryTimeMs, BusinessRules.Configuration.MAX_SYSTEM_TIME_MS));
        }
        final ResultCode result = decodeAndApply(term, buffer, offset, length);
        appliedIndex = index;
        appliedTerm = term;
        return result;
    }

    /**
     * Loads, and changes nothing, the index slot of the session that an operator further on in the log will address,
     * so that it is in cache when {@link #apply} gets to it. A consumer holding a batch of committed entries calls
     * this for several entries back to back, then {@link SessionTable#touchHomeEntry} with each result, then applies
     * them: at 10^7 sessions each of those loads is a cache miss of hundreds of ns, and issued together they overlap.
     * Ignores operators that address no session and anything malformed; never throws, never changes the state.
     *
     * @return the index entry in the session's home slot, or for a report that carries its dispatch's handle the
     * entry naming that record ({@link SessionTable#handleEntry}), or 0.
     */
    public int prefetch(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return 0;
        }
        prefetchHeader.wrap(buffer, offset);
        if (prefetchHeader.schemaId() != MessageHeaderDecoder.SCHEMA_ID ||
            prefetchHeader.version() > MessageHeaderDecoder.SCHEMA_VERSION)
        {
            return 0;
        }
        final int blockLength = prefetchHeader.blockLength();
        final int version = prefetchHeader.version();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int end = offset + length;
        int tenant = 0;
        long sessionId = 0;
        switch (prefetchHeader.templateId())
        {
            case SaveSessionDecoder.TEMPLATE_ID:
                if (fixedBlockFits(SaveSessionDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    prefetchSave.wrap(buffer, body, blockLength, version);
                    tenant = prefetchSave.tenant();
                    sessionId = prefetchSave.sessionId();
                }
                break;
            case ReportOutcomeDecoder.TEMPLATE_ID:
                if (fixedBlockFits(reportBlockLength(version), blockLength, body, end))
                {
                    prefetchReport.wrap(buffer, body, blockLength, version);
                    final int handle = prefetchReport.handle();
                    if (handle >= 0)
                    {
                        return sessions.handleEntry(handle);
                    }
                    tenant = prefetchReport.tenant();
                    sessionId = prefetchReport.sessionId();
                }
                break;
            case CancelSessionDecoder.TEMPLATE_ID:
                if (fixedBlockFits(CancelSessionDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    prefetchCancel.wrap(buffer, body, blockLength, version);
                    tenant = prefetchCancel.tenant();
                    sessionId = prefetchCancel.sessionId();
                }
                break;
            default:
                break;
        }
        return tenant > 0 ? sessions.homeEntry(tenant, sessionId) : 0;
    }

    private ResultCode decodeAndApply(
        final long entryTerm, final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return ResultCode.MALFORMED_FRAME;
        }
        header.wrap(buffer, offset);
        if (header.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            return ResultCode.UNSUPPORTED_SCHEMA;
        }
        if (header.version() > MessageHeaderDecoder.SCHEMA_VERSION)
        {
            return ResultCode.UNSUPPORTED_VERSION;
        }

        final int blockLength = header.blockLength();
        final int version = header.version();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int end = offset + length;
        responseValue = 0;

        switch (header.templateId())
        {
            case SaveSessionDecoder.TEMPLATE_ID:
            {
                if (!fixedBlockFits(SaveSessionDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                save.wrap(buffer, body, blockLength, version);
                if (!lastVarDataFits(buffer, save.limit(), end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return respond(save.clientId(), save.correlationId(), SaveSessionDecoder.TEMPLATE_ID,
                    onSaveSession(buffer, varDataOffset, varDataLength));
            }
            case CancelSessionDecoder.TEMPLATE_ID:
            {
                if (!exactFixedBlock(CancelSessionDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                cancel.wrap(buffer, body, blockLength, version);
                return respond(cancel.clientId(), cancel.correlationId(), CancelSessionDecoder.TEMPLATE_ID,
                    onCancelSession());
            }
            case ReportOutcomeDecoder.TEMPLATE_ID:
            {
                if (!fixedBlockFits(reportBlockLength(version), blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                report.wrap(buffer, body, blockLength, version);
                if (!lastVarDataFits(buffer, report.limit(), end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                return respond(report.clientId(), report.correlationId(), ReportOutcomeDecoder.TEMPLATE_ID,
                    onReportOutcome(varDataLength));
            }
            case RedriveDeadDecoder.TEMPLATE_ID:
            {
                if (!exactFixedBlock(RedriveDeadDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                redrive.wrap(buffer, body, blockLength, version);
                return respond(redrive.clientId(), redrive.correlationId(), RedriveDeadDecoder.TEMPLATE_ID,
                    onRedriveDead());
            }
            case ConfigureDestinationDecoder.TEMPLATE_ID:
            {
                if (!exactFixedBlock(ConfigureDestinationDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                configure.wrap(buffer, body, blockLength, version);
                return respond(configure.clientId(), configure.correlationId(),
                    ConfigureDestinationDecoder.TEMPLATE_ID, onConfigureDestination());
            }
            case BeginRepeatsDecoder.TEMPLATE_ID:
            {
                if (!exactFixedBlock(BeginRepeatsDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                beginRepeats.wrap(buffer, body, blockLength, version);
                return onBeginRepeats();
            }
            case SetTimeDecoder.TEMPLATE_ID:
            {
                if (!exactFixedBlock(SetTimeDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                setTime.wrap(buffer, body, blockLength, version);
                return onSetTime(setTime.timeMs());
            }
            case NewLeaderTermDecoder.TEMPLATE_ID:
            {
                if (!exactFixedBlock(NewLeaderTermDecoder.BLOCK_LENGTH, blockLength, body, end))
                {
                    return ResultCode.MALFORMED_FRAME;
                }
                newLeaderTerm.wrap(buffer, body, blockLength, version);
                return onNewLeaderTerm(newLeaderTerm.term(), entryTerm, newLeaderTerm.leaderMemberId());
            }
            default:
                return ResultCode.UNKNOWN_TEMPLATE;
        }
    }

    /**
     * The fixed block of a ReportOutcome as log schema version {@code version} wrote it: {@code handle} came in
     * version 1, {@code destination} in version 2. A shorter block is malformed; an older version's shorter block is
     * not (old logs must replay).
     */
    public static int reportBlockLength(final int version)
    {
        if (version >= ReportOutcomeDecoder.destinationSinceVersion())
        {
            return ReportOutcomeDecoder.BLOCK_LENGTH;
        }
        return version >= ReportOutcomeDecoder.handleSinceVersion() ?
            ReportOutcomeDecoder.destinationEncodingOffset() : ReportOutcomeDecoder.handleEncodingOffset();
    }

    /**
     * Whether a ReportOutcome of log schema version {@code version} names its destination, which must then be the
     * session's. Older reports do not, and replay as they were first applied.
     */
    public static boolean reportNamesDestination(final int version)
    {
        return version >= ReportOutcomeDecoder.destinationSinceVersion();
    }

    private static boolean fixedBlockFits(final int minBlockLength, final int blockLength, final int body, final int end)
    {
        return blockLength >= minBlockLength && body + blockLength <= end;
    }

    private static boolean exactFixedBlock(final int minBlockLength, final int blockLength, final int body, final int end)
    {
        return blockLength >= minBlockLength && body + blockLength == end;
    }

    /** Checks that one var-data field (uint32 length + bytes) ends the frame exactly; remembers where it is. */
    private boolean lastVarDataFits(final DirectBuffer buffer, final int limit, final int end)
    {
        if (limit + Integer.BYTES > end)
        {
            return false;
        }
        final long length = buffer.getInt(limit, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (limit + Integer.BYTES + length != end)
        {
            return false;
        }
        varDataOffset = limit + Integer.BYTES;
        varDataLength = (int)length;
        return true;
    }

    private ResultCode respond(
        final long clientId, final long correlationId, final int templateId, final ResultCode result)
    {
        sink.onResponse(clientId, correlationId, templateId, result, responseValue);
        return result;
    }

    // ------------------------------------------------------------------------------------------ operators

    private ResultCode onSaveSession(final DirectBuffer buffer, final int payloadOffset, final int payloadLength)
    {
        final int tenant = save.tenant();
        final int destination = save.destination();
        final long sessionId = save.sessionId();
        if (tenant <= 0 || !destinations.isValid(destination))
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (payloadLength > rules.maxPayloadBytes())
        {
            return ResultCode.PAYLOAD_TOO_LARGE;
        }

        final int maxAttempts = save.maxAttempts();
        final long backoffInitialMs = save.backoffInitialMs();
        final long backoffMaxMs = save.backoffMaxMs();
        final int multiplierPermille = save.backoffMultiplierPermille();
        final int jitterPermille = save.jitterPermille();
        final long leaseMs = save.leaseMs();
        final long dueAtMs = save.dueAtMs();
        final long initialDelayMs = save.initialDelayMs();
        final long ttlMs = save.ttlMs();
        if (maxAttempts < 1 || maxAttempts > BusinessRules.Configuration.MAX_ATTEMPTS ||
            backoffInitialMs < 0 || backoffMaxMs < backoffInitialMs ||
            backoffMaxMs > BusinessRules.Configuration.MAX_BACKOFF_MS ||
            multiplierPermille < BusinessRules.Configuration.MIN_MULTIPLIER_PERMILLE ||
            multiplierPermille > BusinessRules.Configuration.MAX_MULTIPLIER_PERMILLE ||
            jitterPermille < 0 || jitterPermille > BusinessRules.Configuration.MAX_JITTER_PERMILLE ||
            leaseMs < 1 || leaseMs > rules.maxLeaseMs() ||
            initialDelayMs < 0 || initialDelayMs > rules.maxInitialDelayMs() ||
            dueAtMs < 0 || dueAtMs > BusinessRules.Configuration.MAX_SYSTEM_TIME_MS ||
            (dueAtMs != 0 && initialDelayMs != 0) ||
            ttlMs < 0 || ttlMs > rules.maxTtlMs())
        {
            return ResultCode.INVALID_POLICY;
        }
        final long dueMs = dueAtMs != 0 ? dueAtMs : systemTimeMs + initialDelayMs;
        final long deadlineMs = ttlMs == 0 ? NO_DEADLINE : systemTimeMs + ttlMs;
        if (dueMs >= deadlineMs)
        {
            return ResultCode.INVALID_POLICY;
        }

        final int existing = sessions.find(tenant, sessionId);
        if (existing != NULL)
        {
            responseValue = sessions.status(existing);
            return ResultCode.DUPLICATE_SESSION;
        }
        final int owner = destinations.owner(destination);
        if (owner != Destinations.NO_OWNER && owner != tenant)
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        final int record = sessions.allocate(tenant, sessionId);
        if (record == NULL)
        {
            return ResultCode.CAPACITY_EXHAUSTED;
        }

        destinations.owner(destination, tenant);
        sessions.destination(record, destination);
        sessions.maxAttemptsAndJitter(record, maxAttempts, jitterPermille);
        sessions.backoff(record, (int)backoffInitialMs, (int)backoffMaxMs, multiplierPermille);
        sessions.leaseMs(record, (int)leaseMs);
        sessions.payload(record, payloadLength, checksum.crc32c(buffer, payloadOffset, payloadLength));
        sessions.createdAt(record, systemTimeMs);
        sessions.deadline(record, deadlineMs);
        if (dueMs > systemTimeMs)
        {
            makePending(record, destination, dueMs);
        }
        else
        {
            makeReady(record, destination);
        }
        sink.onSessionSaved(tenant, sessionId, destination, buffer, payloadOffset, payloadLength);
        return ResultCode.OK;
    }

    private ResultCode onCancelSession()
    {
        final int tenant = cancel.tenant();
        if (tenant <= 0)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final int record = sessions.find(tenant, cancel.sessionId());
        if (record == NULL)
        {
            return ResultCode.UNKNOWN_SESSION;
        }
        final int status = sessions.status(record);
        if (status != PENDING && status != READY && status != IN_FLIGHT)
        {
            responseValue = status;
            return ResultCode.SESSION_FINISHED;
        }
        leaveStatus(record, OutputSink.ENDED_BY_CANCEL);
        finish(record, CANCELLED, 0);
        return ResultCode.OK;
    }

    private ResultCode onReportOutcome(final int errorTextLength)
    {
        final int tenant = report.tenant();
        final int attempt = report.attempt();
        final Outcome outcome = outcome(report.outcomeRaw());
        final long retryAfterMs = report.retryAfterMs();
        final int errorCode = report.errorCode();
        final boolean namesDestination = reportNamesDestination(report.actingVersion());
        final int destination = report.destination();
        if (tenant <= 0 || attempt < 1 || outcome == Outcome.NULL_VAL || errorCode < 0 ||
            retryAfterMs < 0 || (retryAfterMs != 0 && outcome != Outcome.RETRY) ||
            (namesDestination && !destinations.isValid(destination)))
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (errorTextLength > rules.maxErrorTextBytes())
        {
            return ResultCode.ERROR_TEXT_TOO_LARGE;
        }
        final long sessionId = report.sessionId();
        // The dispatch's handle names the record without a look-up in the index (a cache miss at 10^7 sessions).
        final int handle = report.handle();
        final int byHandle = handle >= 0 ? sessions.findByHandle(handle, tenant, sessionId) : NULL;
        final int record = byHandle != NULL ? byHandle : sessions.find(tenant, sessionId);
        if (record == NULL)
        {
            return ResultCode.UNKNOWN_SESSION;
        }
        // Before the attempt check, so that a worker of another destination learns nothing of the attempt.
        if (namesDestination && sessions.destination(record) != destination)
        {
            return ResultCode.ROLE_NOT_ALLOWED;
        }
        if (sessions.status(record) != IN_FLIGHT || sessions.attempt(record) != attempt)
        {
            responseValue = sessions.attempt(record);
            return ResultCode.STALE_ATTEMPT;
        }

        leaveStatus(record, OutputSink.ENDED_BY_REPORT);
        switch (outcome)
        {
            case SUCCEEDED:
                finish(record, COMPLETED, errorCode);
                break;
            case FAILED_PERMANENTLY:
                finish(record, DEAD, errorCode);
                break;
            default:
                failAttempt(record, errorCode, retryAfterMs);
                break;
        }
        return ResultCode.OK;
    }

    private ResultCode onRedriveDead()
    {
        final int tenant = redrive.tenant();
        final RedriveScope scope = scope(redrive.scopeRaw());
        if (tenant <= 0 || scope == RedriveScope.NULL_VAL)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        if (scope == RedriveScope.SESSION)
        {
            final int record = sessions.find(tenant, redrive.sessionId());
            if (record == NULL)
            {
                return ResultCode.UNKNOWN_SESSION;
            }
            if (sessions.status(record) != DEAD)
            {
                responseValue = sessions.status(record);
                return ResultCode.NOT_DEAD;
            }
            redriveOne(record);
            responseValue = 1;
            return ResultCode.OK;
        }

        final int destination = redrive.destination();
        final int maxCount = redrive.maxCount();
        if (!destinations.isValid(destination) || maxCount < 1 || maxCount > rules.maxRedriveBatch())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final int owner = destinations.owner(destination);
        if (owner != Destinations.NO_OWNER && owner != tenant)
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        int redriven = 0;
        int record;
        while (redriven < maxCount && (record = destinations.deadHead(destination)) != NULL)
        {
            redriveOne(record);
            redriven++;
        }
        responseValue = redriven;
        return ResultCode.OK;
    }

    private ResultCode onConfigureDestination()
    {
        final int tenant = configure.tenant();
        final int destination = configure.destination();
        final int limit = configure.inFlightLimit();
        if (tenant <= 0 || !destinations.isValid(destination) || limit < 1 || limit > rules.maxInFlightLimit())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final int owner = destinations.owner(destination);
        if (owner != Destinations.NO_OWNER && owner != tenant)
        {
            return ResultCode.FOREIGN_DESTINATION;
        }
        destinations.owner(destination, tenant);
        destinations.inFlightLimit(destination, limit);
        return ResultCode.OK;
    }

    private ResultCode onBeginRepeats()
    {
        final int destination = beginRepeats.destination();
        final int maxCount = beginRepeats.maxCount();
        if (!destinations.isValid(destination) || maxCount < 1 || maxCount > rules.maxBeginRepeatsBatch())
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        final int room = destinations.inFlightLimit(destination) - destinations.inFlight(destination);
        final int count = Math.min(maxCount, room);
        int record;
        for (int started = 0; started < count && (record = destinations.readyHead(destination)) != NULL; started++)
        {
            leaveStatus(record);
            final int attempt = sessions.attempt(record) + 1;
            final long leaseExpiresAtMs = systemTimeMs + sessions.leaseMs(record);
            sessions.attempt(record, attempt);
            sessions.status(record, IN_FLIGHT);
            destinations.addInFlight(destination, 1);
            timers.schedule(record, leaseExpiresAtMs);
            sink.onRepeatStarted(sessions.tenant(record), sessions.sessionId(record), destination, attempt,
                leaseExpiresAtMs, record);
        }
        return ResultCode.OK;
    }

    private ResultCode onSetTime(final long timeMs)
    {
        if (timeMs > BusinessRules.Configuration.MAX_SYSTEM_TIME_MS)
        {
            return ResultCode.INVALID_ARGUMENT;
        }
        // Stale against the time before this entry: its own timestamp, taken after timeMs was read, may have moved
        // time past timeMs already, and that is this SetTime's effect, not a stale one.
        if (timeMs <= timeBeforeEntryMs)
        {
            return ResultCode.STALE_TIME;
        }
        if (timeMs > systemTimeMs)
        {
            advanceTime(timeMs);
        }
        return ResultCode.OK;
    }

    /** Fires every timer due by {@code timeMs}, in time order, and ends at that time. */
    private void advanceTime(final long timeMs)
    {
        timers.advance(timeMs, onTimer);
        systemTimeMs = timeMs;
    }

    private ResultCode onNewLeaderTerm(final long term, final long entryTerm, final int memberId)
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

    /**
     * The decoded enum, or {@code NULL_VAL} for a value the schema does not define: the generated {@code get}
     * throws on those, and bad input must be rejected with a result code, never stop the business logic.
     */
    private static Outcome outcome(final short raw)
    {
        return raw == Outcome.SUCCEEDED.value() ? Outcome.SUCCEEDED :
            raw == Outcome.RETRY.value() ? Outcome.RETRY :
            raw == Outcome.FAILED_PERMANENTLY.value() ? Outcome.FAILED_PERMANENTLY : Outcome.NULL_VAL;
    }

    private static RedriveScope scope(final short raw)
    {
        return raw == RedriveScope.SESSION.value() ? RedriveScope.SESSION :
            raw == RedriveScope.DESTINATION.value() ? RedriveScope.DESTINATION : RedriveScope.NULL_VAL;
    }

    // ------------------------------------------------------------------------------------------ transitions

    /** A timer fired: what it means depends on the status. System time follows the timers as they fire. */
    private void onTimer(final int record, final long nowMs)
    {
        systemTimeMs = nowMs;
        final int status = sessions.status(record);
        final int destination = sessions.destination(record);
        if (status == PENDING)
        {
            destinations.addPending(destination, -1);
            makeReady(record, destination);
        }
        else if (status == READY)
        {
            destinations.removeReady(destination, record);
            finish(record, DEAD, DEADLINE_EXCEEDED_ERROR);
        }
        else if (status == IN_FLIGHT)
        {
            destinations.addInFlight(destination, -1);
            attemptEnded(record, destination, OutputSink.ENDED_BY_LEASE);
            failAttempt(record, LEASE_EXPIRED_ERROR, 0);
        }
        else
        {
            purge(record);
        }
    }

    /** Takes the record out of its current status's queue, timer and counts; its status field stays. */
    private void leaveStatus(final int record)
    {
        leaveStatus(record, 0);
    }

    /**
     * As {@link #leaveStatus(int)}; an attempt in flight ends {@code attemptEndedBy} (a report or a cancel: the
     * operators that may end one).
     */
    private void leaveStatus(final int record, final int attemptEndedBy)
    {
        final int status = sessions.status(record);
        final int destination = sessions.destination(record);
        timers.cancel(record);
        if (status == PENDING)
        {
            destinations.addPending(destination, -1);
        }
        else if (status == READY)
        {
            destinations.removeReady(destination, record);
        }
        else if (status == IN_FLIGHT)
        {
            destinations.addInFlight(destination, -1);
            attemptEnded(record, destination, attemptEndedBy);
        }
        else if (status == DEAD)
        {
            destinations.removeDead(destination, record);
        }
        else
        {
            destinations.addRetained(destination, -1);
        }
    }

    private void attemptEnded(final int record, final int destination, final int endedBy)
    {
        sink.onAttemptEnded(sessions.tenant(record), sessions.sessionId(record), destination, sessions.attempt(record),
            endedBy);
    }

    private void makePending(final int record, final int destination, final long dueMs)
    {
        sessions.status(record, PENDING);
        destinations.addPending(destination, 1);
        timers.schedule(record, dueMs);
    }

    private void makeReady(final int record, final int destination)
    {
        sessions.status(record, READY);
        destinations.appendReady(destination, record);
        final long deadlineMs = sessions.deadline(record);
        if (deadlineMs != NO_DEADLINE)
        {
            timers.schedule(record, deadlineMs);
        }
    }

    /** The current attempt failed: schedule the next one, or give up when attempts or deadline run out. */
    private void failAttempt(final int record, final int errorCode, final long retryAfterMs)
    {
        sessions.lastErrorCode(record, errorCode);
        final int attempt = sessions.attempt(record);
        final int attemptsThisLife = attempt - sessions.lifeStartAttempt(record);
        if (attemptsThisLife >= sessions.maxAttempts(record))
        {
            finish(record, DEAD, errorCode);
            return;
        }
        final long delayMs = retryAfterMs > 0 ?
            Math.min(retryAfterMs, sessions.backoffMaxMs(record)) :
            Backoff.delayMs(sessions.backoffInitialMs(record), sessions.backoffMaxMs(record),
                sessions.multiplierPermille(record), sessions.jitterPermille(record),
                sessions.sessionId(record), attemptsThisLife);
        final long dueMs = systemTimeMs + delayMs;
        final int destination = sessions.destination(record);
        if (dueMs >= sessions.deadline(record))
        {
            finish(record, DEAD, DEADLINE_EXCEEDED_ERROR);
        }
        else if (dueMs > systemTimeMs)
        {
            makePending(record, destination, dueMs);
        }
        else
        {
            makeReady(record, destination);
        }
    }

    /** Enters COMPLETED, CANCELLED or DEAD, and schedules the end of its retention. */
    private void finish(final int record, final int status, final int errorCode)
    {
        final int destination = sessions.destination(record);
        sessions.status(record, status);
        sessions.lastErrorCode(record, errorCode);
        if (status == DEAD)
        {
            destinations.appendDead(destination, record);
            timers.schedule(record, systemTimeMs + rules.deadRetentionMs());
        }
        else
        {
            destinations.addRetained(destination, 1);
            timers.schedule(record, systemTimeMs + rules.terminalRetentionMs());
        }
        sink.onSessionFinished(sessions.tenant(record), sessions.sessionId(record), destination,
            SessionStatus.get((short)status), sessions.attempt(record), errorCode);
    }

    /**
     * DEAD back to READY with a fresh life: its attempts count from here (the attempt number itself goes on, so a
     * late report of an attempt from before the redrive stays stale), createdAt is now and the ttl counts again.
     */
    private void redriveOne(final int record)
    {
        leaveStatus(record);
        final long deadlineMs = sessions.deadline(record);
        if (deadlineMs != NO_DEADLINE)
        {
            sessions.deadline(record, systemTimeMs + (deadlineMs - sessions.createdAt(record)));
        }
        sessions.createdAt(record, systemTimeMs);
        sessions.lifeStartAttempt(record, sessions.attempt(record));
        sessions.lastErrorCode(record, 0);
        makeReady(record, sessions.destination(record));
    }

    private void purge(final int record)
    {
        leaveStatus(record);
        final int tenant = sessions.tenant(record);
        final long sessionId = sessions.sessionId(record);
        sessions.free(record);
        sink.onSessionPurged(tenant, sessionId);
    }

    // ------------------------------------------------------------------------------------------ snapshots

    /** Bumped whenever the image layout changes; a snapshot of another version is not loaded. */
    public static final int STATE_FORMAT_VERSION = 5;

    /** Writes the whole state, exactly, for a snapshot. */
    public void writeState(final StateOutput out) throws IOException
    {
        out.putLong(systemTimeMs);
        out.putLong(appliedIndex);
        out.putLong(appliedTerm);
        out.putLong(leaderTerm);
        out.putInt(leaderMemberId);
        sessions.writeTo(out);
        timers.writeTo(out);
        destinations.writeTo(out);
    }

    /** Restores a state written by {@link #writeState} into this freshly built instance. */
    public void readState(final StateInput in) throws IOException
    {
        if (appliedIndex != 0)
        {
            throw new IllegalStateException("restore into a business logic that has applied entries");
        }
        systemTimeMs = in.getLong();
        appliedIndex = in.getLong();
        appliedTerm = in.getLong();
        leaderTerm = in.getLong();
        leaderMemberId = in.getInt();
        sessions.readFrom(in);
        timers.readFrom(in);
        destinations.readFrom(in);
    }

    // ------------------------------------------------------------------------------------------ queries

    public long systemTimeMs()
    {
        return systemTimeMs;
    }

    public long appliedIndex()
    {
        return appliedIndex;
    }

    public long appliedTerm()
    {
        return appliedTerm;
    }

    public long leaderTerm()
    {
        return leaderTerm;
    }

    public int leaderMemberId()
    {
        return leaderMemberId;
    }

    public BusinessRules rules()
    {
        return rules;
    }

    /** Read access to the session records, for tools, snapshots and tests. */
    public SessionTable sessions()
    {
        return sessions;
    }

    public Destinations destinations()
    {
        return destinations;
    }

    public TimerWheel timers()
    {
        return timers;
    }

    /**
     * A 64-bit digest of the whole business state (not of the applied index and term, which are log positions):
     * system time, leader term, every field of every session, every destination's figures and the order of
     * every queue and timer slot, since order decides what happens next. O(sessions): for snapshots and tests.
     */
    public long digest()
    {
        return StateDigest.of(this);
    }
}
