package io.reprise.transport;

import java.nio.ByteBuffer;
import java.util.ArrayList;

import io.reprise.schema.client.ConnectionClosedEncoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.ResultCode;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The egress half of the ingress thread: offers each connection's {@link ClientBacklog} to its publication as the
 * publication takes it, and closes the connections whose backlog overflowed. Such a client is closed at once for
 * everything else (the ingress removes it as a disconnect does); its publication then gets what the backlog already
 * held, then {@code ConnectionClosed(CLIENT_TOO_SLOW)}, and is closed, or is closed without them when the client
 * has not taken them within the close timeout. A member that stops leading closes its clients the same way, their
 * backlogs ending with a {@code NotLeader}. Transport thread only.
 */
final class BacklogDrainer
{
    /** Messages offered per connection per duty cycle: one full backlog does not hold up the others for long. */
    private static final int DRAIN_LIMIT = 256;

    /** What the ingress does with a client too slow for its backlog: remove it as a disconnect does. */
    @FunctionalInterface
    interface SlowClientHandler
    {
        void onClientTooSlow(Connection connection);
    }

    private final ArrayList<Connection> connections = new ArrayList<>();
    private final ArrayList<Connection> closing = new ArrayList<>();
    private final NodeCounters counters;
    private final long closeTimeoutNs;
    private final SlowClientHandler slowClientHandler;
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final ConnectionClosedEncoder connectionClosed = new ConnectionClosedEncoder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));

    /**
     * @param closeTimeoutNs how long a too-slow client's publication is kept to deliver what it still held.
     */
    BacklogDrainer(final NodeCounters counters, final long closeTimeoutNs, final SlowClientHandler slowClientHandler)
    {
        this.counters = counters;
        this.closeTimeoutNs = closeTimeoutNs;
        this.slowClientHandler = slowClientHandler;
    }

    /** A new connection: drained once its backlog is open. */
    void add(final Connection connection)
    {
        connections.add(connection);
    }

    /**
     * A connection closed because this member stopped leading: its publication gets what its backlog holds (the
     * {@code NotLeader} last) and is then closed, or is closed without it after the close timeout.
     */
    void closeAfterBacklog(final Connection connection, final long nowNs)
    {
        connections.remove(connection);
        connection.notLeader = true;
        connection.closeDeadlineNs = nowNs + closeTimeoutNs;
        closing.add(connection);
    }

    /** A connection closed by a disconnect: nothing more is offered to it. */
    void remove(final Connection connection)
    {
        connections.remove(connection);
    }

    int doWork(final long nowNs)
    {
        int work = 0;
        for (int i = connections.size() - 1; i >= 0; i--)
        {
            final Connection connection = connections.get(i);
            final ClientBacklog backlog = connection.backlog;
            if (backlog.isOverflowed())
            {
                removeAt(connections, i);
                connection.closeDeadlineNs = nowNs + closeTimeoutNs;
                closing.add(connection);
                counters.get(NodeCounters.CLIENTS_TOO_SLOW).increment();
                slowClientHandler.onClientTooSlow(connection);
                work++;
            }
            else if (backlog.isOpen() && !backlog.isEmpty())
            {
                work += backlog.drain(connection.publication, DRAIN_LIMIT);
            }
        }
        for (int i = closing.size() - 1; i >= 0; i--)
        {
            final Connection connection = closing.get(i);
            if (finishClosing(connection, nowNs))
            {
                removeAt(closing, i);
                connection.publication.close();
                work++;
            }
        }
        return work;
    }

    /**
     * Drains a closing client's backlog, then says why a too-slow one is closed.
     *
     * @return true when it may be closed now.
     */
    private boolean finishClosing(final Connection connection, final long nowNs)
    {
        final ClientBacklog backlog = connection.backlog;
        if (!backlog.isOpen() || nowNs - connection.closeDeadlineNs > 0)
        {
            // Never answered its connect, or stopped reading: it finds its connection lost instead.
            return true;
        }
        backlog.drain(connection.publication, DRAIN_LIMIT);
        if (!backlog.isEmpty())
        {
            return false;
        }
        if (connection.notLeader)
        {
            return true;
        }
        connectionClosed.wrapAndApplyHeader(buffer, 0, header)
            .clientId(connection.clientId)
            .reason(ResultCode.CLIENT_TOO_SLOW)
            .detail("backlog of " + backlog.capacityBytes() + " bytes overflowed");
        return connection.publication.offer(buffer, 0,
            MessageHeaderEncoder.ENCODED_LENGTH + connectionClosed.encodedLength()) > 0;
    }

    /** The node stops: every publication still delivering a too-slow client's backlog is closed. */
    void close()
    {
        for (final Connection connection : closing)
        {
            connection.publication.close();
        }
        closing.clear();
        connections.clear();
    }

    private static void removeAt(final ArrayList<Connection> list, final int i)
    {
        final int last = list.size() - 1;
        list.set(i, list.get(last));
        list.remove(last);
    }
}
