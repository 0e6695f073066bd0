package io.reprise.transport;

import java.nio.ByteBuffer;

import io.aeron.Counter;
import io.aeron.Publication;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.repeat.WorkerLink;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.RepeatDispatchEncoder;
import io.reprise.schema.client.ResponseEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionFinishedEncoder;
import io.reprise.schema.client.SessionStateEncoder;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What the node sends to clients: responses, session-finished notices and session states from the business-logic
 * thread (this is the node's output observer), attempts from the repeat process (this is its worker link). Each
 * thread encodes into its own buffer. A message for a client goes through the client's {@link ClientBacklog}: out
 * at once when the publication takes it, otherwise kept for the transport thread to offer later, so the business
 * logic never waits for a client and a slow client loses nothing; a client whose backlog overflows is disconnected
 * and told why. An attempt goes to the worker's publication directly: when it is refused, the repeat process keeps
 * it and offers it again on its next duty cycles, so it never waits here either.
 */
final class Egress implements OutputSink, WorkerLink
{
    private static final int OFFER_TRIES = 3;

    private final ClientRegistry registry;
    private final MessageHeaderEncoder logicHeader = new MessageHeaderEncoder();
    private final ResponseEncoder response = new ResponseEncoder();
    private final SessionFinishedEncoder finished = new SessionFinishedEncoder();
    private final SessionStateEncoder sessionState = new SessionStateEncoder();
    private final UnsafeBuffer logicBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
    private final MessageHeaderEncoder repeatHeader = new MessageHeaderEncoder();
    private final RepeatDispatchEncoder dispatch = new RepeatDispatchEncoder();
    private final UnsafeBuffer repeatBuffer;
    private volatile Counter responsesDropped;

    Egress(final ClientRegistry registry, final int maxPayloadBytes)
    {
        this.registry = registry;
        this.repeatBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(maxPayloadBytes + 128));
    }

    void counters(final NodeCounters counters)
    {
        responsesDropped = counters.get(NodeCounters.RESPONSES_DROPPED);
    }

    public void onResponse(
        final long clientId, final long correlationId, final int templateId, final ResultCode code, final long value)
    {
        final Connection connection = registry.get(clientId);
        if (null == connection)
        {
            if (clientId >= ClientRegistry.SLOTS)
            {
                countDropped(); // an Aeron client that left before its result
            }
            return;
        }
        response.wrapAndApplyHeader(logicBuffer, 0, logicHeader)
            .correlationId(correlationId)
            .value(value)
            .operatorTemplateId(templateId)
            .resultCode(connection.readable(code))
            .detail("");
        send(connection, logicBuffer, MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength());
    }

    public void onSessionSaved(
        final int tenant, final long sessionId, final int destination, final DirectBuffer payload, final int offset,
        final int length)
    {
    }

    public void onRepeatStarted(
        final int tenant, final long sessionId, final int destination, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
    }

    public void onSessionFinished(
        final int tenant, final long sessionId, final int destination, final SessionStatus status, final int attempt,
        final int errorCode)
    {
        final Connection[] controllers = registry.controllers(tenant);
        if (null == controllers)
        {
            return;
        }
        finished.wrapAndApplyHeader(logicBuffer, 0, logicHeader)
            .sessionId(sessionId)
            .tenant(tenant)
            .destination(destination)
            .attempt(attempt)
            .errorCode(errorCode)
            .status(status);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + finished.encodedLength();
        for (final Connection controller : controllers)
        {
            send(controller, logicBuffer, length);
        }
    }

    public void onSessionPurged(final int tenant, final long sessionId)
    {
    }

    public void onSessionState(
        final long clientId, final long correlationId, final long sessionId, final ResultCode resultCode,
        final SessionStatus status, final long dueAtMs, final int destination, final int attempt,
        final int lastErrorCode, final long systemTimeMs, final long appliedIndex)
    {
        final Connection connection = registry.get(clientId);
        if (null == connection)
        {
            countDropped(); // the client left before its answer
            return;
        }
        sessionState.wrapAndApplyHeader(logicBuffer, 0, logicHeader)
            .correlationId(correlationId)
            .sessionId(sessionId)
            .dueAtMs(dueAtMs)
            .systemTimeMs(systemTimeMs)
            .appliedIndex(appliedIndex)
            .destination(destination)
            .attempt(attempt)
            .lastErrorCode(lastErrorCode)
            .resultCode(resultCode)
            .status(status);
        send(connection, logicBuffer, MessageHeaderEncoder.ENCODED_LENGTH + sessionState.encodedLength());
    }

    public boolean dispatch(
        final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int payloadOffset,
        final int payloadLength)
    {
        final Connection worker = registry.get(workerId);
        if (null == worker)
        {
            return false;
        }
        dispatch.wrapAndApplyHeader(repeatBuffer, 0, repeatHeader)
            .sessionId(sessionId)
            .leaseExpiresAtMs(leaseExpiresAtMs)
            .tenant(tenant)
            .destination(destination)
            .attempt(attempt)
            .handle(handle)
            .putPayload(payload, payloadOffset, payloadLength);
        return offer(worker.publication, repeatBuffer, MessageHeaderEncoder.ENCODED_LENGTH + dispatch.encodedLength());
    }

    /** Out now or into the backlog; refused only when the backlog overflowed and the client is being closed. */
    private void send(final Connection connection, final DirectBuffer buffer, final int length)
    {
        if (!connection.backlog.send(connection.publication, buffer, 0, length))
        {
            countDropped();
        }
    }

    private void countDropped()
    {
        final Counter dropped = responsesDropped;
        // A closed counter's memory may be unmapped: touching it would crash the JVM.
        if (null != dropped && !dropped.isClosed())
        {
            dropped.increment();
        }
    }

    static boolean offer(final Publication publication, final DirectBuffer buffer, final int length)
    {
        for (int i = 0; i < OFFER_TRIES; i++)
        {
            final long result = publication.offer(buffer, 0, length);
            if (result > 0)
            {
                return true;
            }
            if (result != Publication.BACK_PRESSURED && result != Publication.ADMIN_ACTION)
            {
                return false;
            }
            Thread.onSpinWait();
        }
        return false;
    }
}
