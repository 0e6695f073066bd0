package io.reprise.engine.logic;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;

/** Records every output of the business logic as a line of text, in order, for comparison in tests. */
final class RecordingSink implements OutputSink
{
    final List<String> events = new ArrayList<>();
    /** How each attempt in {@link #events} ended, in order ({@code OutputSink.ENDED_BY_*}). */
    final List<Integer> endedBy = new ArrayList<>();
    /** The handle of each started attempt, by session id: not in {@link #events}, which the model must match. */
    final Map<Long, Integer> handles = new HashMap<>();

    public void onResponse(
        final long clientId, final long correlationId, final int templateId, final ResultCode code, final long value)
    {
        events.add("response client=" + clientId + " corr=" + correlationId + " template=" + templateId +
            " " + code + " value=" + value);
    }

    public void onSessionSaved(
        final int tenant, final long sessionId, final int destination, final DirectBuffer payload,
        final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        payload.getBytes(offset, bytes);
        events.add("saved " + tenant + ":" + sessionId + " dest=" + destination + " payload=" +
            java.util.Arrays.hashCode(bytes) + "/" + length);
    }

    public void onRepeatStarted(
        final int tenant, final long sessionId, final int destination, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
        events.add("started " + tenant + ":" + sessionId + " dest=" + destination + " attempt=" + attempt +
            " lease=" + leaseExpiresAtMs);
        handles.put(sessionId, handle);
    }

    public void onAttemptEnded(
        final int tenant, final long sessionId, final int destination, final int attempt, final int endedBy)
    {
        events.add("ended " + tenant + ":" + sessionId + " dest=" + destination + " attempt=" + attempt);
        this.endedBy.add(endedBy);
    }

    public void onSessionFinished(
        final int tenant, final long sessionId, final int destination, final SessionStatus status,
        final int attempt, final int errorCode)
    {
        events.add("finished " + tenant + ":" + sessionId + " dest=" + destination + " " + status +
            " attempt=" + attempt + " error=" + errorCode);
    }

    public void onSessionPurged(final int tenant, final long sessionId)
    {
        events.add("purged " + tenant + ":" + sessionId);
    }

    String last()
    {
        return events.isEmpty() ? null : events.get(events.size() - 1);
    }
}
