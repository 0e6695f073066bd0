package io.reprise.tools.load;

import io.reprise.schema.log.SessionPolicy;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import org.agrona.DirectBuffer;

/**
 * What the load generator's controller saves through: one system's client. A save returns its correlation id at once,
 * or {@link RepriseClient#BACK_PRESSURED} / {@link RepriseClient#NOT_CONNECTED}; its result comes later, from
 * {@link #poll()}, to the listener the client was connected with. So the same generator, with the same
 * coordinated-omission-corrected measurement, drives a Reprise node or a baseline built around the same business
 * logic (docs/benchmarks.md). One thread.
 */
public interface SaveClient extends AutoCloseable
{
    /** Connects a client whose results go to {@code listener}. */
    @FunctionalInterface
    interface Connector
    {
        SaveClient connect(RepriseClient.Listener listener);
    }

    /** Sends one SaveSession; returns its correlation id, or a negative value when it was not sent. */
    long save(long sessionId, int destination, SessionPolicy policy, DirectBuffer payload, int offset, int length);

    /** Delivers the results that arrived; returns how much work it did. */
    int poll();

    void close();

    /** A Reprise controller client ({@link RepriseClient}) connected with {@code context}. */
    static Connector reprise(final ClientContext context)
    {
        return (listener) ->
        {
            final RepriseClient client = RepriseClient.connect(context, listener);
            return new SaveClient()
            {
                public long save(
                    final long sessionId, final int destination, final SessionPolicy policy, final DirectBuffer payload,
                    final int offset, final int length)
                {
                    return client.save(sessionId, destination, policy, payload, offset, length);
                }

                public int poll()
                {
                    return client.poll();
                }

                public void close()
                {
                    client.close();
                }
            };
        };
    }
}
