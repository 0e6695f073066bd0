package io.reprise.jmh;

import io.reprise.engine.logic.OutputSink;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;

/**
 * The output sink of the benchmarks: does no I/O and allocates nothing. It only counts what the engine reports
 * and notes each started attempt (tenant, sessionId, attempt) in a preallocated ring: that stands for the
 * dispatch to workers, and the workload needs it to report the outcome of real attempts.
 */
final class CountingSink implements OutputSink
{
    static final int RING_CAPACITY = 1 << 16;
    private static final int RING_MASK = RING_CAPACITY - 1;

    final long[] startedSessionId = new long[RING_CAPACITY];
    final int[] startedTenant = new int[RING_CAPACITY];
    final int[] startedAttempt = new int[RING_CAPACITY];
    final int[] startedHandle = new int[RING_CAPACITY];
    final int[] startedDestination = new int[RING_CAPACITY];
    long startedHead;
    long startedTail;

    long responses;
    long rejected;
    ResultCode lastRejected;
    long responseValueSum;
    long saved;
    long savedBytes;
    long started;
    long finished;
    long completed;
    long dead;
    long purged;

    public void onResponse(
        final long clientId, final long correlationId, final int templateId, final ResultCode code, final long value)
    {
        responses++;
        if (code != ResultCode.OK)
        {
            rejected++;
            lastRejected = code;
        }
        responseValueSum += value;
    }

    public void onSessionSaved(
        final int tenant, final long sessionId, final int destination, final DirectBuffer payload, final int offset,
        final int length)
    {
        saved++;
        savedBytes += length;
    }

    public void onRepeatStarted(
        final int tenant, final long sessionId, final int destination, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
        if (startedTail - startedHead == RING_CAPACITY)
        {
            throw new IllegalStateException("started ring full");
        }
        final int i = (int)(startedTail++ & RING_MASK);
        startedSessionId[i] = sessionId;
        startedTenant[i] = tenant;
        startedAttempt[i] = attempt;
        startedHandle[i] = handle;
        startedDestination[i] = destination;
        started++;
    }

    public void onSessionFinished(
        final int tenant, final long sessionId, final int destination, final SessionStatus status, final int attempt,
        final int errorCode)
    {
        finished++;
        if (status == SessionStatus.COMPLETED)
        {
            completed++;
        }
        else if (status == SessionStatus.DEAD)
        {
            dead++;
        }
    }

    public void onSessionPurged(final int tenant, final long sessionId)
    {
        purged++;
    }

    int startedPending()
    {
        return (int)(startedTail - startedHead);
    }

    int ringIndexOfOldest()
    {
        return (int)(startedHead & RING_MASK);
    }

    /** Ring index of the started attempt {@code ahead} places after the oldest; valid if fewer are pending. */
    int ringIndex(final int ahead)
    {
        return (int)((startedHead + ahead) & RING_MASK);
    }

    void popOldest()
    {
        startedHead++;
    }
}
