package io.reprise.jmh.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredService;
import io.aeron.logbuffer.Header;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.ResponseEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The Aeron Cluster baseline's clustered service: each session message is one of Reprise's SBE operators (the bytes
 * a Reprise client sends), applied by the same {@link BusinessLogic} at the next index, with the cluster's timestamp
 * as the entry time; each client gets the same {@code Response} a Reprise node sends, offered through its cluster
 * session. So the two systems differ only in what surrounds the logic (docs/benchmarks.md, "Side by side with Aeron
 * Cluster").
 * <p>
 * What it leaves out, each to the baseline's advantage: no frame checks or stamping before the log (the operator
 * carries the client's own cluster session id as its client id; the business logic still checks every field), no
 * saved-session storage (payloads live only in the log), no time or repeat process. Snapshots hold the business
 * state ({@link BusinessLogic#writeState}), written into the snapshot publication while the service waits, as
 * Aeron Cluster's services do.
 */
public final class SessionService implements ClusteredService, OutputSink
{
    /** As Reprise's egress: a response refused this many times is dropped; the logic never waits for a client. */
    private static final int OFFER_TRIES = 3;

    private final BusinessRules rules;
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final ResponseEncoder response = new ResponseEncoder();
    private final UnsafeBuffer responseBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
    private Cluster cluster;
    private BusinessLogic logic;
    private ClientSession currentSession;
    private long term = 1;
    private volatile long responsesDropped;
    private volatile long lastRefusal;
    private volatile long appliedIndex;
    private volatile long restoredIndex = -1;

    public SessionService(final BusinessRules rules)
    {
        this.rules = rules;
    }

    public void onStart(final Cluster cluster, final Image snapshotImage)
    {
        this.cluster = cluster;
        logic = new BusinessLogic(rules, this);
        if (null != snapshotImage)
        {
            try
            {
                logic.readState(new SnapshotStreams.ImageStateInput(snapshotImage, cluster.idleStrategy()));
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
        restoredIndex = logic.appliedIndex();
        appliedIndex = logic.appliedIndex();
    }

    public void onSessionOpen(final ClientSession session, final long timestamp)
    {
    }

    public void onSessionClose(final ClientSession session, final long timestamp, final CloseReason closeReason)
    {
    }

    public void onSessionMessage(
        final ClientSession session,
        final long timestamp,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final Header header)
    {
        currentSession = session;
        final long index = logic.appliedIndex() + 1;
        logic.apply(index, term, timestamp, buffer, offset, length);
        appliedIndex = index;
        currentSession = null;
    }

    public void onTimerEvent(final long correlationId, final long timestamp)
    {
    }

    public void onTakeSnapshot(final ExclusivePublication snapshotPublication)
    {
        final SnapshotStreams.PublicationStateOutput out =
            new SnapshotStreams.PublicationStateOutput(snapshotPublication, cluster.idleStrategy());
        try
        {
            logic.writeState(out);
            out.flush();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    public void onRoleChange(final Cluster.Role newRole)
    {
    }

    public void onTerminate(final Cluster cluster)
    {
    }

    public void onNewLeadershipTermEvent(
        final long leadershipTermId,
        final long logPosition,
        final long timestamp,
        final long termBaseLogPosition,
        final int leaderMemberId,
        final int logSessionId,
        final java.util.concurrent.TimeUnit timeUnit,
        final int appVersion)
    {
        // Reprise terms start at 1 and never go back; Aeron's leadership terms start at 0.
        term = Math.max(term, leadershipTermId + 1);
    }

    // ------------------------------------------------------------------------------------------ OutputSink

    public void onResponse(
        final long clientId, final long correlationId, final int templateId, final ResultCode code, final long value)
    {
        final ClientSession session = null != currentSession && currentSession.id() == clientId ?
            currentSession : cluster.getClientSession(clientId);
        if (null == session)
        {
            responsesDropped++;
            return;
        }
        response.wrapAndApplyHeader(responseBuffer, 0, header)
            .correlationId(correlationId)
            .value(value)
            .operatorTemplateId(templateId)
            .resultCode(code)
            .detail("");
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength();
        long result = 0;
        for (int i = 0; i < OFFER_TRIES; i++)
        {
            result = session.offer(responseBuffer, 0, length);
            if (result > 0)
            {
                return;
            }
            Thread.onSpinWait();
        }
        lastRefusal = result;
        responsesDropped++;
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
    }

    public void onSessionPurged(final int tenant, final long sessionId)
    {
    }

    // ------------------------------------------------------------------------------------------ figures

    /** The last index applied, readable from any thread. */
    public long appliedIndex()
    {
        return appliedIndex;
    }

    /** The index the snapshot restored at start ({@code 0}: none), or -1 before the service started. */
    public long restoredIndex()
    {
        return restoredIndex;
    }

    /** Responses that found no session or whose session stayed back-pressured. */
    public long responsesDropped()
    {
        return responsesDropped;
    }

    /** What the last refused offer of a response returned ({@code Publication.BACK_PRESSURED}, ...), or 0. */
    public long lastRefusal()
    {
        return lastRefusal;
    }
}
