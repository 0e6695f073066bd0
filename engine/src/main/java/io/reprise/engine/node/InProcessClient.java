package io.reprise.engine.node;

import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.Outcome;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

/**
 * The in-process API of a node: a controller or worker living in the node's JVM. Each call encodes one operator
 * and offers it to the ring; the return value says whether it went in ({@link ResultCode#OK}) or why not
 * ({@code BACK_PRESSURE}, {@code STORAGE_UNAVAILABLE}, {@code SHUTTING_DOWN}). The operator's own result comes
 * later, once it is committed and applied, to the {@link ResponseListener} on the business-logic thread.
 * One instance per thread.
 */
public final class InProcessClient
{
    /** Results of this client's operators, on the business-logic thread; must not block. */
    @FunctionalInterface
    public interface ResponseListener
    {
        void onResponse(long index, long correlationId, int operatorTemplateId, ResultCode resultCode, long value);
    }

    private final Engine node;
    private final long clientId;
    private final int tenant;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(1024);
    private long correlationId;

    InProcessClient(final Engine node, final long clientId, final int tenant)
    {
        this.node = node;
        this.clientId = clientId;
        this.tenant = tenant;
    }

    public long clientId()
    {
        return clientId;
    }

    public int tenant()
    {
        return tenant;
    }

    /** The correlation id the next operator will carry (it moves on only when an operator is taken). */
    public long nextCorrelationId()
    {
        return correlationId + 1;
    }

    public ResultCode save(
        final long sessionId,
        final int destination,
        final SessionPolicy policy,
        final DirectBuffer payload,
        final int payloadOffset,
        final int payloadLength)
    {
        buffer.checkLimit(payloadLength + 256);
        return offer(encoder.saveSession(buffer, 0, clientId, correlationId + 1, tenant, sessionId, destination, policy,
            payload, payloadOffset, payloadLength));
    }

    public ResultCode cancel(final long sessionId)
    {
        return offer(encoder.cancelSession(buffer, 0, clientId, correlationId + 1, tenant, sessionId));
    }

    /** @param destination the destination of the attempt ({@code onRepeatStarted}): it must be the session's. */
    public ResultCode reportOutcome(
        final long sessionId, final int destination, final int attempt, final Outcome outcome, final int errorCode,
        final long retryAfterMs)
    {
        return offer(encoder.reportOutcome(buffer, 0, clientId, correlationId + 1, tenant, sessionId, destination,
            attempt, OperatorEncoder.NO_HANDLE, outcome, errorCode, retryAfterMs, buffer, 0, 0));
    }

    public ResultCode redriveSession(final long sessionId)
    {
        return offer(encoder.redriveSession(buffer, 0, clientId, correlationId + 1, tenant, sessionId));
    }

    public ResultCode redriveDestination(final int destination, final int maxCount)
    {
        return offer(encoder.redriveDestination(buffer, 0, clientId, correlationId + 1, tenant, destination, maxCount));
    }

    public ResultCode configureDestination(final int destination, final int inFlightLimit)
    {
        return offer(encoder.configureDestination(buffer, 0, clientId, correlationId + 1, tenant, destination,
            inFlightLimit));
    }

    /**
     * Offers an operator the caller encoded itself: for system producers with no process of their own yet (a
     * test driver starting repeats) and for tools.
     */
    public ResultCode offer(final DirectBuffer operator, final int offset, final int length)
    {
        return node.offer(operator, offset, length);
    }

    /** A correlation id is used up only by an operator the ring took; a refused one may be offered again as is. */
    private ResultCode offer(final int length)
    {
        final ResultCode code = node.offer(buffer, 0, length);
        if (code == ResultCode.OK)
        {
            correlationId++;
        }
        return code;
    }
}
