package io.reprise.engine.node;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.repeat.RepeatProcess;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;

/**
 * The node's {@link OutputSink}: routes each response to the in-process client that sent the operator, and hands
 * every output to the observer, to the repeat process and to saved-session storage.
 * Outputs of the start-up replay are not passed to the observer (storage alone sees them): they were acted on in the run that first applied them, and
 * acting again would, for example, dispatch old attempts a second time. Runs on the business-logic thread.
 */
final class NodeOutput implements OutputSink
{
    private static final int MAX_CLIENTS = 4096;
    /** In-process clients get ids from here up: in a cluster, ids no other member or start of a member gives. */
    private final long clientIdBase;

    private final OutputSink observer;
    private final InProcessClient.ResponseListener[] listeners = new InProcessClient.ResponseListener[MAX_CLIENTS];
    private BusinessLogic logic;
    private SavedSessionStorage storage;
    private boolean live;
    /** Set once the flow runs; read on the business-logic thread. */
    private volatile RepeatProcess repeatProcess;

    NodeOutput(final OutputSink observer, final long clientIdBase)
    {
        this.clientIdBase = clientIdBase;
        this.observer = observer;
    }

    void logic(final BusinessLogic logic)
    {
        this.logic = logic;
    }

    /** Saved-session storage sees every output, replayed or live: it rebuilds its container from the replay. */
    void storage(final SavedSessionStorage storage)
    {
        this.storage = storage;
    }

    /** From now on outputs are of operators applied for the first time: pass them on. */
    void live()
    {
        live = true;
    }

    void repeatProcess(final RepeatProcess repeatProcess)
    {
        this.repeatProcess = repeatProcess;
    }

    synchronized long register(final InProcessClient.ResponseListener listener)
    {
        for (int i = 1; i < MAX_CLIENTS; i++)
        {
            if (null == listeners[i])
            {
                listeners[i] = listener;
                return clientIdBase + i;
            }
        }
        throw new IllegalStateException("too many in-process clients: " + MAX_CLIENTS);
    }

    public void onResponse(
        final long clientId, final long correlationId, final int templateId, final ResultCode code, final long value)
    {
        if (clientId > clientIdBase && clientId < clientIdBase + MAX_CLIENTS)
        {
            final InProcessClient.ResponseListener listener = listeners[(int)(clientId - clientIdBase)];
            if (null != listener)
            {
                // apply() sets the applied index after the operator, so the one being applied is the next.
                listener.onResponse(logic.appliedIndex() + 1, correlationId, templateId, code, value);
            }
        }
        if (live)
        {
            observer.onResponse(clientId, correlationId, templateId, code, value);
        }
    }

    public void onSessionSaved(
        final int tenant, final long sessionId, final int destination, final DirectBuffer payload, final int offset,
        final int length)
    {
        if (null != storage)
        {
            storage.onSessionSaved(logic.appliedIndex() + 1, tenant, sessionId, payload, offset, length);
        }
        if (live)
        {
            observer.onSessionSaved(tenant, sessionId, destination, payload, offset, length);
        }
    }

    public void onRepeatStarted(
        final int tenant, final long sessionId, final int destination, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
        if (live)
        {
            final RepeatProcess repeats = repeatProcess;
            if (null != repeats)
            {
                repeats.onRepeatStarted(tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle);
            }
            observer.onRepeatStarted(tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle);
        }
    }

    public void onAttemptEnded(
        final int tenant, final long sessionId, final int destination, final int attempt, final int endedBy)
    {
        if (live)
        {
            final RepeatProcess repeats = repeatProcess;
            if (null != repeats)
            {
                repeats.onAttemptEnded(tenant, sessionId, destination, attempt, endedBy);
            }
            observer.onAttemptEnded(tenant, sessionId, destination, attempt, endedBy);
        }
    }

    public void onSessionFinished(
        final int tenant, final long sessionId, final int destination, final SessionStatus status, final int attempt,
        final int errorCode)
    {
        if (null != storage)
        {
            storage.onSessionFinished(logic.appliedIndex() + 1, tenant, sessionId, status);
        }
        if (live)
        {
            observer.onSessionFinished(tenant, sessionId, destination, status, attempt, errorCode);
        }
    }

    public void onSessionState(
        final long clientId, final long correlationId, final long sessionId, final ResultCode resultCode,
        final SessionStatus status, final long dueAtMs, final int destination, final int attempt,
        final int lastErrorCode, final long systemTimeMs, final long appliedIndex)
    {
        // Queries are served only once the flow runs: always live.
        observer.onSessionState(clientId, correlationId, sessionId, resultCode, status, dueAtMs, destination, attempt,
            lastErrorCode, systemTimeMs, appliedIndex);
    }

    public void onSessionPurged(final int tenant, final long sessionId)
    {
        if (null != storage)
        {
            storage.onSessionPurged(logic.appliedIndex() + 1, tenant, sessionId);
        }
        if (live)
        {
            observer.onSessionPurged(tenant, sessionId);
        }
    }
}
