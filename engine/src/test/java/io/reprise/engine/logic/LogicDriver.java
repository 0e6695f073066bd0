package io.reprise.engine.logic;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** Drives a {@link BusinessLogic} in tests: encodes each operator and applies it at the next index. */
final class LogicDriver
{
    static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    final RecordingSink sink = new RecordingSink();
    final BusinessLogic logic;
    final OperatorEncoder encoder = new OperatorEncoder();
    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2 * 1024 * 1024]);
    long index;
    long term = 1;
    long correlationId;
    /** The time each entry is sequenced at; 0: entries carry no time. */
    long entryTimeMs;

    LogicDriver(final BusinessRules rules)
    {
        logic = new BusinessLogic(rules, sink);
    }

    static BusinessRules smallRules()
    {
        return new BusinessRules()
            .maxSessions(1 << 16)
            .expectedSessions(1024)
            .maxDestinations(64)
            .terminalRetentionMs(10_000)
            .deadRetentionMs(50_000)
            .defaultInFlightLimit(4)
            .maxRedriveBatch(100)
            .maxBeginRepeatsBatch(16)
            .conclude();
    }

    ResultCode apply(final int length)
    {
        return logic.apply(++index, term, entryTimeMs, buffer, 0, length);
    }

    ResultCode save(final int tenant, final long sessionId, final int destination, final SessionPolicy policy,
        final byte[] payload)
    {
        final UnsafeBuffer p = new UnsafeBuffer(payload);
        return apply(encoder.saveSession(buffer, 0, tenant, ++correlationId, tenant, sessionId, destination, policy,
            p, 0, payload.length));
    }

    ResultCode cancel(final int tenant, final long sessionId)
    {
        return apply(encoder.cancelSession(buffer, 0, tenant, ++correlationId, tenant, sessionId));
    }

    /** A report as a worker of the session's destination sends it: with the destination its dispatch carried. */
    ResultCode report(final int tenant, final long sessionId, final int attempt, final Outcome outcome,
        final int errorCode, final long retryAfterMs, final DirectBuffer text, final int textLength)
    {
        return apply(encoder.reportOutcome(buffer, 0, tenant, ++correlationId, tenant, sessionId,
            destinationOf(tenant, sessionId), attempt, OperatorEncoder.NO_HANDLE, outcome, errorCode, retryAfterMs,
            text, 0, textLength));
    }

    ResultCode report(final int tenant, final long sessionId, final int attempt, final int handle, final Outcome outcome)
    {
        return apply(encoder.reportOutcome(buffer, 0, tenant, ++correlationId, tenant, sessionId,
            destinationOf(tenant, sessionId), attempt, handle, outcome, 0, 0, EMPTY, 0, 0));
    }

    /** A report that names {@code destination}, whatever the session's. */
    ResultCode reportAt(final int destination, final int tenant, final long sessionId, final int attempt,
        final Outcome outcome)
    {
        return apply(encoder.reportOutcome(buffer, 0, tenant, ++correlationId, tenant, sessionId, destination, attempt,
            OperatorEncoder.NO_HANDLE, outcome, 0, 0, EMPTY, 0, 0));
    }

    /** The destination of a session, or 0 when it is not in the state. */
    int destinationOf(final int tenant, final long sessionId)
    {
        final int record = logic.sessions().find(tenant, sessionId);
        return record < 0 ? 0 : logic.sessions().destination(record);
    }

    ResultCode report(final int tenant, final long sessionId, final int attempt, final Outcome outcome)
    {
        return report(tenant, sessionId, attempt, outcome, 0, 0, EMPTY, 0);
    }

    ResultCode redriveSession(final int tenant, final long sessionId)
    {
        return apply(encoder.redriveSession(buffer, 0, tenant, ++correlationId, tenant, sessionId));
    }

    ResultCode redriveDestination(final int tenant, final int destination, final int maxCount)
    {
        return apply(encoder.redriveDestination(buffer, 0, tenant, ++correlationId, tenant, destination, maxCount));
    }

    ResultCode configure(final int tenant, final int destination, final int inFlightLimit)
    {
        return apply(encoder.configureDestination(buffer, 0, tenant, ++correlationId, tenant, destination,
            inFlightLimit));
    }

    ResultCode begin(final int destination, final int maxCount)
    {
        return apply(encoder.beginRepeats(buffer, 0, destination, maxCount));
    }

    ResultCode time(final long timeMs)
    {
        return apply(encoder.setTime(buffer, 0, timeMs));
    }

    /** A NewLeaderTerm entry is appended in the term it announces (or the current one, if that is later). */
    ResultCode newTerm(final long term, final int memberId)
    {
        this.term = Math.max(this.term, term);
        return apply(encoder.newLeaderTerm(buffer, 0, term, memberId));
    }

    /** The status value of a session, or 0 when it is not in the state. */
    int status(final int tenant, final long sessionId)
    {
        final int record = logic.sessions().find(tenant, sessionId);
        return record < 0 ? 0 : logic.sessions().status(record);
    }
}
