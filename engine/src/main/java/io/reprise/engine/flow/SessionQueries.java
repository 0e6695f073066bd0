package io.reprise.engine.flow;

import java.nio.ByteBuffer;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * Read-only questions about one session ({@code QuerySession}, docs/client.md), answered from the applied state
 * on the business-logic thread, which owns it. Any thread asks with {@link #offer}; the question waits in a bounded
 * queue until the business logic serves it, between two batches or while it waits for one (see
 * {@link BusinessLogicHandler#onBatchStart}), and the answer goes to the output sink's {@link OutputSink#onSessionState}. A query
 * is never journaled and changes nothing. Asking and answering allocate nothing, and the business logic never waits
 * for either side.
 */
public final class SessionQueries
{
    /** Room for queries waiting to be served: 40 bytes each in the queue, so 1,638 of them. */
    public static final int QUEUE_BYTES = 64 * 1024;
    /** Queries served at one point: a flood of them delays the next batch by at most this many look-ups. */
    public static final int SERVE_LIMIT = 64;

    private static final int MESSAGE_TYPE_ID = 1;
    private static final int CLIENT_ID_OFFSET = 0;
    private static final int CORRELATION_ID_OFFSET = 8;
    private static final int SESSION_ID_OFFSET = 16;
    private static final int TENANT_OFFSET = 24;
    private static final int QUERY_LENGTH = 28;
    private static final int PENDING = SessionStatus.PENDING.value();
    private static final int IN_FLIGHT = SessionStatus.IN_FLIGHT.value();

    private final ManyToOneRingBuffer queue = new ManyToOneRingBuffer(new UnsafeBuffer(
        ByteBuffer.allocateDirect(QUEUE_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
    private final OutputSink answers;
    private final MessageHandler onQuery = this::onQuery;
    /** Business-logic thread only: the state being served. */
    private BusinessLogic logic;

    /**
     * @param answers where the answers go, on the business-logic thread.
     */
    public SessionQueries(final OutputSink answers)
    {
        this.answers = answers;
    }

    /**
     * Asks for the state of {@code (tenant, sessionId)} on behalf of {@code clientId}. Any thread; never blocks.
     *
     * @return false when the queue is full: nothing was asked, try again later.
     */
    public boolean offer(final long clientId, final long correlationId, final int tenant, final long sessionId)
    {
        final int index = queue.tryClaim(MESSAGE_TYPE_ID, QUERY_LENGTH);
        if (index < 0)
        {
            return false;
        }
        final UnsafeBuffer buffer = (UnsafeBuffer)queue.buffer();
        buffer.putLong(index + CLIENT_ID_OFFSET, clientId);
        buffer.putLong(index + CORRELATION_ID_OFFSET, correlationId);
        buffer.putLong(index + SESSION_ID_OFFSET, sessionId);
        buffer.putInt(index + TENANT_OFFSET, tenant);
        queue.commit(index);
        return true;
    }

    /** Whether queries wait to be served. Business-logic thread. */
    boolean hasWork()
    {
        return queue.producerPosition() != queue.consumerPosition();
    }

    /** Answers up to {@link #SERVE_LIMIT} waiting queries from {@code logic}. Business-logic thread. */
    int serve(final BusinessLogic logic)
    {
        this.logic = logic;
        return queue.read(onQuery, SERVE_LIMIT);
    }

    private void onQuery(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final long clientId = buffer.getLong(index + CLIENT_ID_OFFSET);
        final long correlationId = buffer.getLong(index + CORRELATION_ID_OFFSET);
        final long sessionId = buffer.getLong(index + SESSION_ID_OFFSET);
        final int tenant = buffer.getInt(index + TENANT_OFFSET);
        final BusinessLogic logic = this.logic;
        final SessionTable sessions = logic.sessions();
        // A session of another tenant is not found: a client sees only its own tenant.
        final int record = tenant > 0 ? sessions.find(tenant, sessionId) : SessionTable.NULL;
        if (record == SessionTable.NULL)
        {
            answers.onSessionState(clientId, correlationId, sessionId, ResultCode.UNKNOWN_SESSION,
                SessionStatus.NULL_VAL, 0, 0, 0, 0, logic.systemTimeMs(), logic.appliedIndex());
            return;
        }
        final int status = sessions.status(record);
        // The timer means the due time while pending and the lease expiry while in flight; in any other status it
        // means something the client did not ask (a deadline, the end of retention).
        final long dueAtMs = status == PENDING || status == IN_FLIGHT ? sessions.timerAt(record) : 0;
        answers.onSessionState(clientId, correlationId, sessionId, ResultCode.OK, SessionStatus.get((short)status),
            dueAtMs, sessions.destination(record), sessions.attempt(record), sessions.lastErrorCode(record),
            logic.systemTimeMs(), logic.appliedIndex());
    }
}
