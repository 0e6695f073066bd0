package io.reprise.engine.logic;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;

/**
 * Where the business logic puts what it decides: responses to clients and the events that the repeat process,
 * saved-session storage and controllers act on. Called on the business-logic thread, in log order, with
 * primitive arguments; an implementation must not block and must copy any buffer it keeps.
 */
public interface OutputSink
{
    /** {@link #onAttemptEnded}: its worker reported an outcome. */
    int ENDED_BY_REPORT = 1;
    /** {@link #onAttemptEnded}: its lease ran out before a report. */
    int ENDED_BY_LEASE = 2;
    /** {@link #onAttemptEnded}: its session was cancelled. */
    int ENDED_BY_CANCEL = 3;

    /** The result of a client operator (save, cancel, outcome, redrive, configure). */
    void onResponse(long clientId, long correlationId, int operatorTemplateId, ResultCode resultCode, long value);

    /** A session was saved; the payload is valid only during the call. */
    void onSessionSaved(int tenant, long sessionId, int destination, DirectBuffer payload, int offset, int length);

    /**
     * An attempt began: dispatch it to a worker of the destination once the entry is committed. {@code handle} names
     * the session's record; a worker's report that echoes it is applied without a look-up in the index.
     */
    void onRepeatStarted(int tenant, long sessionId, int destination, int attempt, long leaseExpiresAtMs, int handle);

    /**
     * An attempt left IN_FLIGHT: its worker reported, its lease ran out, or its session was cancelled
     * ({@code endedBy}: {@link #ENDED_BY_REPORT}, {@link #ENDED_BY_LEASE}, {@link #ENDED_BY_CANCEL}). The repeat
     * process frees the worker's hand, and holds back a worker whose leases run out; a report for it from now on is
     * stale.
     */
    default void onAttemptEnded(int tenant, long sessionId, int destination, int attempt, int endedBy)
    {
    }

    /** A session reached COMPLETED, CANCELLED or DEAD. */
    void onSessionFinished(int tenant, long sessionId, int destination, SessionStatus status, int attempt, int errorCode);

    /** A finished session's retention ended and it left the state; its id may be saved again. */
    void onSessionPurged(int tenant, long sessionId);

    /**
     * The answer to a read-only query of one session ({@code QuerySession}), from the applied state: nothing was
     * journaled or changed. {@code resultCode} is OK, or UNKNOWN_SESSION (then {@code status} is
     * {@link SessionStatus#NULL_VAL} and the session's fields are 0). {@code dueAtMs} is the due time while PENDING,
     * the lease expiry while IN_FLIGHT, otherwise 0. Not in log order: it comes between two applied entries.
     */
    default void onSessionState(
        long clientId, long correlationId, long sessionId, ResultCode resultCode, SessionStatus status, long dueAtMs,
        int destination, int attempt, int lastErrorCode, long systemTimeMs, long appliedIndex)
    {
    }

    /** A sink that drops everything. */
    OutputSink NONE = new OutputSink()
    {
        public void onResponse(
            final long clientId, final long correlationId, final int templateId, final ResultCode code, final long value)
        {
        }

        public void onSessionSaved(
            final int tenant, final long sessionId, final int destination, final DirectBuffer payload,
            final int offset, final int length)
        {
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt, final long leaseMs,
            final int handle)
        {
        }

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
        }
    };
}
