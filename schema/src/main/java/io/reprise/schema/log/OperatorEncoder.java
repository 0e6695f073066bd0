package io.reprise.schema.log;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Encodes operators (SBE header and body) into a buffer with reusable flyweights: what producers, tools, tests
 * and benchmarks use to write what the engine's {@code BusinessLogic.apply} reads. Each method returns the encoded length.
 * One instance per thread.
 */
public final class OperatorEncoder
{
    /** {@code ReportOutcome.handle} of a report that does not carry its dispatch's handle. */
    public static final int NO_HANDLE = -1;

    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final SaveSessionEncoder save = new SaveSessionEncoder();
    private final CancelSessionEncoder cancel = new CancelSessionEncoder();
    private final ReportOutcomeEncoder report = new ReportOutcomeEncoder();
    private final RedriveDeadEncoder redrive = new RedriveDeadEncoder();
    private final ConfigureDestinationEncoder configure = new ConfigureDestinationEncoder();
    private final BeginRepeatsEncoder beginRepeats = new BeginRepeatsEncoder();
    private final SetTimeEncoder setTime = new SetTimeEncoder();
    private final NewLeaderTermEncoder newLeaderTerm = new NewLeaderTermEncoder();

    public int saveSession(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final long sessionId,
        final int destination,
        final SessionPolicy policy,
        final DirectBuffer payload,
        final int payloadOffset,
        final int payloadLength)
    {
        save.wrapAndApplyHeader(buffer, offset, header)
            .clientId(clientId)
            .correlationId(correlationId)
            .sessionId(sessionId)
            .dueAtMs(policy.dueAtMs())
            .initialDelayMs(policy.initialDelayMs())
            .backoffInitialMs(policy.backoffInitialMs())
            .backoffMaxMs(policy.backoffMaxMs())
            .leaseMs(policy.leaseMs())
            .ttlMs(policy.ttlMs())
            .tenant(tenant)
            .destination(destination)
            .backoffMultiplierPermille(policy.backoffMultiplierPermille())
            .jitterPermille(policy.jitterPermille())
            .maxAttempts(policy.maxAttempts())
            .putPayload(payload, payloadOffset, payloadLength);
        return MessageHeaderEncoder.ENCODED_LENGTH + save.encodedLength();
    }

    public int cancelSession(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final long sessionId)
    {
        cancel.wrapAndApplyHeader(buffer, offset, header)
            .clientId(clientId)
            .correlationId(correlationId)
            .sessionId(sessionId)
            .tenant(tenant);
        return MessageHeaderEncoder.ENCODED_LENGTH + cancel.encodedLength();
    }

    /**
     * @param destination the destination the attempt's dispatch carried ({@code RepeatDispatch.destination}): the node
     *                    takes the report only from a worker that serves it, for a session of that destination.
     * @param handle      the handle the attempt's dispatch carried ({@code RepeatDispatch.handle}), or
     *                    {@link #NO_HANDLE}.
     */
    public int reportOutcome(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final long sessionId,
        final int destination,
        final int attempt,
        final int handle,
        final Outcome outcome,
        final int errorCode,
        final long retryAfterMs,
        final DirectBuffer errorText,
        final int errorTextOffset,
        final int errorTextLength)
    {
        report.wrapAndApplyHeader(buffer, offset, header)
            .clientId(clientId)
            .correlationId(correlationId)
            .sessionId(sessionId)
            .retryAfterMs(retryAfterMs)
            .tenant(tenant)
            .attempt(attempt)
            .errorCode(errorCode)
            .outcome(outcome)
            .handle(handle)
            .destination(destination)
            .putErrorText(errorText, errorTextOffset, errorTextLength);
        return MessageHeaderEncoder.ENCODED_LENGTH + report.encodedLength();
    }

    public int redriveSession(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final long sessionId)
    {
        return redrive(buffer, offset, clientId, correlationId, tenant, RedriveScope.SESSION, sessionId, 0, 0);
    }

    public int redriveDestination(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final int destination,
        final int maxCount)
    {
        return redrive(
            buffer, offset, clientId, correlationId, tenant, RedriveScope.DESTINATION, 0, destination, maxCount);
    }

    private int redrive(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final RedriveScope scope,
        final long sessionId,
        final int destination,
        final int maxCount)
    {
        redrive.wrapAndApplyHeader(buffer, offset, header)
            .clientId(clientId)
            .correlationId(correlationId)
            .sessionId(sessionId)
            .tenant(tenant)
            .destination(destination)
            .maxCount(maxCount)
            .scope(scope);
        return MessageHeaderEncoder.ENCODED_LENGTH + redrive.encodedLength();
    }

    public int configureDestination(
        final MutableDirectBuffer buffer,
        final int offset,
        final long clientId,
        final long correlationId,
        final int tenant,
        final int destination,
        final int inFlightLimit)
    {
        configure.wrapAndApplyHeader(buffer, offset, header)
            .clientId(clientId)
            .correlationId(correlationId)
            .tenant(tenant)
            .destination(destination)
            .inFlightLimit(inFlightLimit);
        return MessageHeaderEncoder.ENCODED_LENGTH + configure.encodedLength();
    }

    public int beginRepeats(final MutableDirectBuffer buffer, final int offset, final int destination, final int maxCount)
    {
        beginRepeats.wrapAndApplyHeader(buffer, offset, header).destination(destination).maxCount(maxCount);
        return MessageHeaderEncoder.ENCODED_LENGTH + beginRepeats.encodedLength();
    }

    public int setTime(final MutableDirectBuffer buffer, final int offset, final long timeMs)
    {
        setTime.wrapAndApplyHeader(buffer, offset, header).timeMs(timeMs);
        return MessageHeaderEncoder.ENCODED_LENGTH + setTime.encodedLength();
    }

    public int newLeaderTerm(final MutableDirectBuffer buffer, final int offset, final long term, final int memberId)
    {
        newLeaderTerm.wrapAndApplyHeader(buffer, offset, header).term(term).leaderMemberId(memberId);
        return MessageHeaderEncoder.ENCODED_LENGTH + newLeaderTerm.encodedLength();
    }
}
