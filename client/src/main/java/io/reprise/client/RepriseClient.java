package io.reprise.client;

import io.aeron.Publication;
import io.aeron.logbuffer.Header;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.QuerySessionEncoder;
import io.reprise.schema.client.ResponseDecoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionFinishedDecoder;
import io.reprise.schema.client.SessionStateDecoder;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

/**
 * A controller's client (docs/client.md): saves, cancels and redrives sessions of its tenant on a node.
 * <p>
 * Every call sends one operator and returns its correlation id at once (the asynchronous form); the result comes
 * to the {@link Listener} from {@link #poll()} once the node has applied the operator, that is once it is durable.
 * When the connection cannot take the operator the call returns a negative value instead ({@link #BACK_PRESSURED},
 * {@link #NOT_CONNECTED}): back-pressure is the caller's to see, nothing is queued silently. The {@code ...AndAwait}
 * forms wait for the result, and send again what a failover kept from being answered. The client reconnects by
 * itself when the node goes away and, given the cluster's members ({@link ClientContext#ingressEndpoints(String)}),
 * follows the leader. A client belongs to one thread.
 */
public final class RepriseClient implements AutoCloseable
{
    /** Returned instead of a correlation id: the ingress is full right now; try again. */
    public static final long BACK_PRESSURED = -1;
    /** Returned instead of a correlation id: no connection to the node right now. */
    public static final long NOT_CONNECTED = -2;

    private static final long DISCONNECTED_PAUSE_NS = 1_000_000;
    /** After a NOT_LEADER answer, the pause before sending again: a new leader may still be catching up. */
    private static final long NOT_LEADER_PAUSE_NS = 10_000_000;

    /** What the node answers, on the thread that calls {@link #poll()}. */
    public interface Listener
    {
        /** The result of one operator: {@code value} is operator-specific (e.g. how many were redriven). */
        void onResponse(long correlationId, int operatorTemplateId, ResultCode code, long value);

        /** A session of this tenant reached COMPLETED, CANCELLED or DEAD. */
        default void onSessionFinished(
            long sessionId, int destination, SessionStatus status, int attempt, int errorCode)
        {
        }

        /**
         * The answer to {@link #query}: the session as the node's applied state held it after {@code appliedIndex},
         * at the node's system time {@code systemTimeMs}. {@code code} is OK or UNKNOWN_SESSION (then {@code status}
         * is {@link SessionStatus#NULL_VAL} and the other fields 0). {@code dueAtMs}: PENDING, when it is next due;
         * IN_FLIGHT, when the lease expires; otherwise 0. A query the node refuses (BACK_PRESSURE when its queue of
         * queries is full, SHUTTING_DOWN) gets {@link #onResponse} with template 11 instead.
         */
        default void onSessionState(
            long correlationId, long sessionId, ResultCode code, SessionStatus status, long dueAtMs, int destination,
            int attempt, int lastErrorCode, long systemTimeMs, long appliedIndex)
        {
        }

        /**
         * The connection ended: the node closed it ({@code reason} CLIENT_TOO_SLOW when the client read too slowly
         * and its backlog overflowed; NOT_LEADER when the member stopped leading), or it was lost ({@code reason}
         * null). Responses to what was sent on it and
         * not yet answered do not come; the next {@link #poll()} connects again.
         */
        default void onConnectionClosed(ResultCode reason, String detail)
        {
        }
    }

    private final ClientContext context;
    private final ClientConnection connection;
    private final Listener listener;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final ResponseDecoder response = new ResponseDecoder();
    private final SessionFinishedDecoder finished = new SessionFinishedDecoder();
    private final SessionStateDecoder sessionState = new SessionStateDecoder();
    private final QuerySessionEncoder queryEncoder = new QuerySessionEncoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private long nextCorrelationId;
    private long awaitedCorrelationId;
    private ResultCode awaitedCode;
    private long awaitedValue;
    /** The connection ended while a call waited: its answer will not come. */
    private boolean awaitedConnectionClosed;
    private SessionState awaitedState;
    private int awaitedResends;

    private RepriseClient(final ClientContext context, final Listener listener)
    {
        this.context = context;
        this.listener = listener;
        this.connection = new ClientConnection(context, ClientRole.CONTROLLER, this::onMessage, () -> { },
            this::onConnectionClosed);
        this.nextCorrelationId = java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 1L << 40);
    }

    /** Connects to the node; throws {@link ConnectException} on a wrong token or no answer. */
    public static RepriseClient connect(final ClientContext context, final Listener listener)
    {
        final RepriseClient client = new RepriseClient(context, listener);
        try
        {
            client.connection.connect();
        }
        catch (final RuntimeException ex)
        {
            client.close();
            throw ex;
        }
        return client;
    }

    public long clientId()
    {
        return connection.clientId();
    }

    /**
     * Delivers what arrived to the listener; reconnects first when the connection was lost.
     *
     * @return how many messages it read; 0 also while it waits before the next attempt to reconnect.
     * @throws ConnectException when an attempt to reconnect failed (the node or its media driver is not there,
     *                          the node refused, or a shared Aeron client is closed). Attempts are at least
     *                          100 ms apart after a failure, doubling up to 2 s.
     */
    public int poll()
    {
        return connection.poll();
    }

    public long save(
        final long sessionId, final int destination, final SessionPolicy policy, final DirectBuffer payload,
        final int payloadOffset, final int payloadLength)
    {
        buffer.checkLimit(payloadLength + 256);
        return send(encoder.saveSession(buffer, 0, 0, nextCorrelationId, context.tenant(), sessionId, destination,
            policy, payload, payloadOffset, payloadLength));
    }

    public long cancel(final long sessionId)
    {
        return send(encoder.cancelSession(buffer, 0, 0, nextCorrelationId, context.tenant(), sessionId));
    }

    /** A dead session back to the schedule with a fresh count of attempts. */
    public long redriveSession(final long sessionId)
    {
        return send(encoder.redriveSession(buffer, 0, 0, nextCorrelationId, context.tenant(), sessionId));
    }

    /** Up to {@code maxCount} dead sessions of a destination back to the schedule, oldest first. */
    public long redriveDestination(final int destination, final int maxCount)
    {
        return send(encoder.redriveDestination(buffer, 0, 0, nextCorrelationId, context.tenant(), destination,
            maxCount));
    }

    public long configureDestination(final int destination, final int inFlightLimit)
    {
        return send(encoder.configureDestination(buffer, 0, 0, nextCorrelationId, context.tenant(), destination,
            inFlightLimit));
    }

    /**
     * Asks for the state of one session of this tenant, as the node's applied state holds it now: read-only, not
     * journaled. The answer comes to {@link Listener#onSessionState} from {@link #poll()}.
     *
     * @return the correlation id, or {@link #BACK_PRESSURED} / {@link #NOT_CONNECTED}.
     */
    public long query(final long sessionId)
    {
        queryEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(nextCorrelationId)
            .sessionId(sessionId);
        return send(MessageHeaderEncoder.ENCODED_LENGTH + queryEncoder.encodedLength());
    }

    /**
     * Queries a session and waits for the answer, asking again while the node answers BACK_PRESSURE or NOT_LEADER,
     * and once connected again when the connection was lost before the answer came.
     *
     * @return the session's state (its {@code resultCode} OK, UNKNOWN_SESSION, or the code the node refused the query
     * with), or null when no answer came within the response timeout.
     * @throws ConnectException when an attempt to reconnect failed meanwhile.
     */
    public SessionState queryAndAwait(final long sessionId)
    {
        final long deadlineNs = deadlineNs();
        awaitedResends = 0;
        while (true)
        {
            long correlationId;
            while ((correlationId = query(sessionId)) < 0)
            {
                if (!pause(deadlineNs))
                {
                    return null;
                }
                poll();
            }
            awaitedState = null;
            final ResultCode code = await(correlationId, deadlineNs);
            if (null == code && awaitedConnectionClosed)
            {
                awaitedResends++;
                continue;
            }
            if (code != ResultCode.BACK_PRESSURE && code != ResultCode.NOT_LEADER)
            {
                final SessionState state = null == code || null != awaitedState ? awaitedState :
                    new SessionState(code, sessionId, SessionStatus.NULL_VAL, 0, 0, 0, 0, 0, 0);
                awaitedState = null;
                return state;
            }
            final boolean paused = code == ResultCode.NOT_LEADER ? pauseFor(NOT_LEADER_PAUSE_NS, deadlineNs) :
                pause(deadlineNs);
            if (!paused)
            {
                return null;
            }
            awaitedResends++;
        }
    }

    /** Sends raw bytes as they are: for tools and tests of the ingress's checks. */
    public long sendRaw(final DirectBuffer frame, final int offset, final int length)
    {
        final long result = connection.offer(frame, offset, length);
        return result > 0 ? 0 : result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION ?
            BACK_PRESSURED : NOT_CONNECTED;
    }

    /**
     * Saves and waits for the result, retrying while back-pressured or not connected. When the connection ends before
     * the answer (a failover: the member died or stopped leading), it saves the same session again once connected,
     * to the new leader in a cluster; so does a NOT_LEADER answer, after a short pause. Where the first save was
     * applied, the answer to the second is DUPLICATE_SESSION with the session's status as {@link #awaitedValue()}:
     * the session is saved, once. That answer is returned as it is, because the client cannot tell its own lost save
     * from an earlier save of the same id; {@link #awaitedResends()} {@code > 0} says the call sent it again.
     *
     * @return the node's result code, or null when none came within the response timeout.
     * @throws ConnectException when an attempt to reconnect failed meanwhile.
     */
    public ResultCode saveAndAwait(
        final long sessionId, final int destination, final SessionPolicy policy, final DirectBuffer payload,
        final int payloadOffset, final int payloadLength)
    {
        return sendAndAwait(() -> save(sessionId, destination, policy, payload, payloadOffset, payloadLength), true);
    }

    /**
     * Cancels and waits for the result, sending again after a failover as {@link #saveAndAwait} does: where the first
     * cancel was applied, the answer to the second is SESSION_FINISHED with the status CANCELLED.
     */
    public ResultCode cancelAndAwait(final long sessionId)
    {
        return sendAndAwait(() -> cancel(sessionId), true);
    }

    /**
     * Redrives a dead session and waits for the result, sending again after a failover as {@link #saveAndAwait} does:
     * where the first redrive was applied, the answer to the second is NOT_DEAD with the session's status.
     */
    public ResultCode redriveSessionAndAwait(final long sessionId)
    {
        return sendAndAwait(() -> redriveSession(sessionId), true);
    }

    /**
     * Redrives dead sessions of a destination and waits for the result. It is sent again after a NOT_LEADER answer
     * only, never when the connection ended first: a second one would redrive sessions that died since. It then
     * returns null.
     */
    public ResultCode redriveDestinationAndAwait(final int destination, final int maxCount)
    {
        return sendAndAwait(() -> redriveDestination(destination, maxCount), false);
    }

    /** Configures a destination and waits for the result, sending again after a failover: it is idempotent. */
    public ResultCode configureDestinationAndAwait(final int destination, final int inFlightLimit)
    {
        return sendAndAwait(() -> configureDestination(destination, inFlightLimit), true);
    }

    private ResultCode sendAndAwait(final java.util.function.LongSupplier operator, final boolean resendWhenAnswerLost)
    {
        final long deadlineNs = deadlineNs();
        awaitedResends = 0;
        while (true)
        {
            long correlationId;
            while ((correlationId = operator.getAsLong()) < 0)
            {
                if (!pause(deadlineNs))
                {
                    return null;
                }
                poll();
            }
            final ResultCode code = await(correlationId, deadlineNs);
            if (code == ResultCode.NOT_LEADER)
            {
                // Refused, so not applied: send it again, to the leader once the connection has followed it.
                if (!pauseFor(NOT_LEADER_PAUSE_NS, deadlineNs))
                {
                    return code;
                }
            }
            else if (null != code || !awaitedConnectionClosed || !resendWhenAnswerLost)
            {
                return code;
            }
            awaitedResends++;
        }
    }

    /**
     * Polls until the response to {@code correlationId} arrives; other responses still go to the listener. It does
     * not send again: it does not know what was sent.
     *
     * @return its code, or null at the deadline or as soon as the connection closes (the answer then never comes).
     */
    public ResultCode await(final long correlationId, final long deadlineNs)
    {
        awaitedCorrelationId = correlationId;
        awaitedCode = null;
        awaitedConnectionClosed = false;
        try
        {
            while (null == awaitedCode)
            {
                final int work = poll();
                if (awaitedConnectionClosed && null == awaitedCode)
                {
                    return null;
                }
                if (work == 0 && !pause(deadlineNs))
                {
                    return null;
                }
            }
            return awaitedCode;
        }
        finally
        {
            awaitedCorrelationId = 0;
        }
    }

    /** The value of the last response {@link #await} returned. */
    public long awaitedValue()
    {
        return awaitedValue;
    }

    /**
     * How many times the last waiting call sent its operator or query again: after a failover took its answer, or
     * after a NOT_LEADER (or, for a query, BACK_PRESSURE) answer.
     */
    public int awaitedResends()
    {
        return awaitedResends;
    }

    public long deadlineNs()
    {
        return System.nanoTime() + context.responseTimeoutMs() * 1_000_000L;
    }

    public long reconnects()
    {
        return connection.reconnects();
    }

    private boolean pause(final long deadlineNs)
    {
        if (System.nanoTime() > deadlineNs)
        {
            return false;
        }
        if (connection.isConnected())
        {
            Thread.onSpinWait();
        }
        else
        {
            // Waiting out the backoff between two attempts to reconnect: nothing can arrive, no need to spin.
            java.util.concurrent.locks.LockSupport.parkNanos(DISCONNECTED_PAUSE_NS);
        }
        return true;
    }

    /** Polls for {@code pauseNs}, or until the deadline: false then. */
    private boolean pauseFor(final long pauseNs, final long deadlineNs)
    {
        final long untilNs = System.nanoTime() + pauseNs;
        while (System.nanoTime() - untilNs < 0)
        {
            if (!pause(deadlineNs))
            {
                return false;
            }
            poll();
        }
        return true;
    }

    private long send(final int length)
    {
        final long result = connection.offer(buffer, 0, length);
        if (result > 0)
        {
            return nextCorrelationId++;
        }
        return result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION ?
            BACK_PRESSURED : NOT_CONNECTED;
    }

    private void onMessage(final DirectBuffer buffer, final int offset, final int length, final Header fragmentHeader)
    {
        header.wrap(buffer, offset);
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (header.templateId())
        {
            case ResponseDecoder.TEMPLATE_ID:
            {
                response.wrap(buffer, body, header.blockLength(), header.version());
                final long correlationId = response.correlationId();
                final ResultCode code = response.resultCode();
                if (correlationId == awaitedCorrelationId)
                {
                    awaitedValue = response.value();
                    awaitedCode = code;
                }
                listener.onResponse(correlationId, response.operatorTemplateId(), code, response.value());
                break;
            }
            case SessionStateDecoder.TEMPLATE_ID:
                onSessionState(buffer, body);
                break;
            case SessionFinishedDecoder.TEMPLATE_ID:
                finished.wrap(buffer, body, header.blockLength(), header.version());
                listener.onSessionFinished(finished.sessionId(), finished.destination(), finished.status(),
                    finished.attempt(), finished.errorCode());
                break;
            default:
                break;
        }
    }

    private void onSessionState(final DirectBuffer buffer, final int body)
    {
        final SessionStateDecoder state = sessionState.wrap(buffer, body, header.blockLength(), header.version());
        final long correlationId = state.correlationId();
        final ResultCode code = state.resultCode();
        if (correlationId == awaitedCorrelationId)
        {
            awaitedState = new SessionState(code, state.sessionId(), state.status(), state.dueAtMs(),
                state.destination(), state.attempt(), state.lastErrorCode(), state.systemTimeMs(),
                state.appliedIndex());
            awaitedValue = 0;
            awaitedCode = code;
        }
        listener.onSessionState(correlationId, state.sessionId(), code, state.status(), state.dueAtMs(),
            state.destination(), state.attempt(), state.lastErrorCode(), state.systemTimeMs(), state.appliedIndex());
    }

    private void onConnectionClosed(final ResultCode reason, final String detail)
    {
        if (0 != awaitedCorrelationId)
        {
            awaitedConnectionClosed = true;
        }
        listener.onConnectionClosed(reason, detail);
    }

    public void close()
    {
        connection.close();
    }
}
