package io.reprise.client;

import io.aeron.Publication;
import io.aeron.logbuffer.Header;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.RepeatDispatchDecoder;
import io.reprise.schema.client.ResponseDecoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.WorkerAnnounceDecoder;
import io.reprise.schema.client.WorkerAnnounceEncoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A worker's client (docs/client.md): announces the destinations it serves and how many attempts it takes at
 * once, receives attempts with their payload from {@link #poll}, and reports each outcome. The node never hands
 * it more than that many attempts at a time: a hand is freed when the node has applied the report (or the
 * attempt's lease ran out). Dispatch is at least once: deduplicate by (session, attempt). A worker belongs to one
 * thread; it reconnects and announces again by itself.
 */
public final class RepriseWorker implements AutoCloseable
{
    /**
     * One attempt handed to this worker; the payload is valid only during the call. Pass {@code handle} back with
     * the report: the node then finds the session without a look-up in its index.
     */
    public interface AttemptHandler
    {
        void onAttempt(
            int tenant, long sessionId, int destination, int attempt, long leaseExpiresAtMs, int handle,
            DirectBuffer payload, int payloadOffset, int payloadLength);
    }

    /** Results of reports (for example STALE_ATTEMPT when the lease ran out first). */
    public interface ReportListener
    {
        void onReportResult(long correlationId, ResultCode code, long value);
    }

    private final ClientContext context;
    private final ClientConnection connection;
    private final int[] destinations;
    private final int hands;
    private final ReportListener reportListener;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(2048);
    private final UnsafeBuffer errorText = new UnsafeBuffer(new byte[0]);
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final RepeatDispatchDecoder dispatch = new RepeatDispatchDecoder();
    private final ResponseDecoder response = new ResponseDecoder();
    private AttemptHandler handler;
    private long nextCorrelationId = 1;
    private long announceCorrelationId;
    private ResultCode announceCode;
    private long received;
    private long reported;

    private RepriseWorker(
        final ClientContext context, final int[] destinations, final int hands, final ReportListener reportListener)
    {
        this.context = context;
        this.destinations = destinations.clone();
        this.hands = hands;
        this.reportListener = reportListener;
        this.connection = new ClientConnection(context, ClientRole.WORKER, this::onMessage, this::announce,
            (reason, detail) -> { });
    }

    /**
     * Connects, then announces the destinations it serves.
     *
     * @param hands how many attempts it takes at once.
     * @throws ConnectException when the node refuses the connection or the announcement (e.g. a destination of
     *                          another tenant).
     */
    public static RepriseWorker connect(
        final ClientContext context, final int[] destinations, final int hands, final ReportListener reportListener)
    {
        final RepriseWorker worker = new RepriseWorker(context, destinations, hands, reportListener);
        try
        {
            worker.connection.connect();
        }
        catch (final RuntimeException ex)
        {
            worker.close();
            throw ex;
        }
        return worker;
    }

    /** Announces on each new connection, within the attempt to connect: a new connection holds nothing. */
    private void announce()
    {
        final WorkerAnnounceEncoder announce = new WorkerAnnounceEncoder()
            .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder());
        announceCorrelationId = nextCorrelationId++;
        announce.correlationId(announceCorrelationId).attemptsInHand(hands);
        final WorkerAnnounceEncoder.DestinationsEncoder group = announce.destinationsCount(destinations.length);
        for (final int destination : destinations)
        {
            group.next().destination(destination);
        }
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + announce.encodedLength();
        final long deadlineNs = System.nanoTime() + context.connectTimeoutMs() * 1_000_000L;
        announceCode = null;
        while (connection.offer(buffer, 0, length) < 0)
        {
            awaitUntil(deadlineNs);
        }
        // One fragment at a time, and not one past the answer: the node's first attempts follow it closely, and
        // taken here, before the caller polls with its handler, they would be lost until their leases ran out.
        while (null == announceCode)
        {
            if (connection.isLeaving())
            {
                throw new ConnectException(ResultCode.NOT_LEADER, "the member stopped leading during the announcement");
            }
            if (connection.receive(1) == 0)
            {
                awaitUntil(deadlineNs);
            }
        }
        if (announceCode != ResultCode.OK)
        {
            throw new ConnectException(announceCode, "announcement refused: " + announceCode);
        }
        received = reported;
    }

    private static void awaitUntil(final long deadlineNs)
    {
        if (System.nanoTime() > deadlineNs)
        {
            throw new ConnectException(null, "no answer to the worker announcement");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }

    /**
     * Hands each attempt that arrived to {@code handler}; reconnects and announces again if the node went away (what
     * was in hand stays with the old connection until its leases end).
     *
     * @return how many messages it read; 0 also while it waits before the next attempt to reconnect.
     * @throws ConnectException when an attempt to reconnect, or its announcement, failed. Attempts are at least
     *                          100 ms apart after a failure, doubling up to 2 s.
     */
    public int poll(final AttemptHandler handler)
    {
        this.handler = handler;
        return connection.poll();
    }

    /**
     * Reports the outcome of an attempt, with the destination and handle its dispatch carried. The node takes the
     * report only for a destination this worker announced that is the session's, and answers
     * {@code ROLE_NOT_ALLOWED} otherwise. The handle may be {@link OperatorEncoder#NO_HANDLE} if it is not known: the
     * node then finds the session by its id, which costs it more.
     *
     * @return the correlation id, or {@link RepriseClient#BACK_PRESSURED} / {@link RepriseClient#NOT_CONNECTED}.
     */
    public long report(
        final long sessionId, final int destination, final int attempt, final int handle, final Outcome outcome,
        final int errorCode, final long retryAfterMs)
    {
        final int length = encoder.reportOutcome(buffer, 0, 0, nextCorrelationId, context.tenant(), sessionId,
            destination, attempt, handle, outcome, errorCode, retryAfterMs, errorText, 0, 0);
        final long result = connection.offer(buffer, 0, length);
        if (result > 0)
        {
            reported++;
            return nextCorrelationId++;
        }
        return result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION ?
            RepriseClient.BACK_PRESSURED : RepriseClient.NOT_CONNECTED;
    }

    /**
     * Sends raw bytes as they are, for tools and tests of the ingress's checks. Their responses reach the
     * {@link ReportListener}.
     *
     * @return 0 when sent, or {@link RepriseClient#BACK_PRESSURED} / {@link RepriseClient#NOT_CONNECTED}.
     */
    public long sendRaw(final DirectBuffer frame, final int offset, final int length)
    {
        final long result = connection.offer(frame, offset, length);
        return result > 0 ? 0 : result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION ?
            RepriseClient.BACK_PRESSURED : RepriseClient.NOT_CONNECTED;
    }

    /** Attempts received and not yet reported. */
    public long inHand()
    {
        return received - reported;
    }

    public long clientId()
    {
        return connection.clientId();
    }

    /** How many times the worker connected and announced again after it lost its connection or was redirected. */
    public long reconnects()
    {
        return connection.reconnects();
    }

    private void onMessage(final DirectBuffer buffer, final int offset, final int length, final Header fragmentHeader)
    {
        header.wrap(buffer, offset);
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (header.templateId())
        {
            case RepeatDispatchDecoder.TEMPLATE_ID:
                dispatch.wrap(buffer, body, header.blockLength(), header.version());
                received++;
                if (null != handler)
                {
                    final int payloadLength = dispatch.payloadLength();
                    final int payloadOffset = dispatch.limit() + RepeatDispatchDecoder.payloadHeaderLength();
                    handler.onAttempt(dispatch.tenant(), dispatch.sessionId(), dispatch.destination(),
                        dispatch.attempt(), dispatch.leaseExpiresAtMs(), dispatch.handle(), buffer, payloadOffset,
                        payloadLength);
                }
                break;
            case ResponseDecoder.TEMPLATE_ID:
                response.wrap(buffer, body, header.blockLength(), header.version());
                if (response.operatorTemplateId() == WorkerAnnounceDecoder.TEMPLATE_ID &&
                    response.correlationId() == announceCorrelationId)
                {
                    announceCode = response.resultCode();
                }
                else if (null != reportListener)
                {
                    reportListener.onReportResult(response.correlationId(), response.resultCode(), response.value());
                }
                break;
            default:
                break;
        }
    }

    public void close()
    {
        connection.close();
    }
}
