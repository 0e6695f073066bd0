package io.reprise.engine.cluster;

import org.agrona.DirectBuffer;

/**
 * How one member reaches the others: the only way consensus, replication and catch-up messages leave or enter a
 * member. The simulator gives each member a link onto its simulated network; the production runtime one over Aeron.
 * Neither call waits. A message may be lost, delayed, reordered or delivered twice: the protocol above tolerates
 * all four.
 */
public interface ReplicaLink
{
    /** Takes a message a link delivers; the buffer is valid only during the call. */
    @FunctionalInterface
    interface MessageHandler
    {
        void onMessage(DirectBuffer buffer, int offset, int length);
    }

    /**
     * Sends one message to {@code member}. The bytes are copied before this returns.
     *
     * @return false when the link cannot take it now (back-pressure): the caller tries again later or drops it.
     */
    boolean send(int member, DirectBuffer buffer, int offset, int length);

    /** Hands at most {@code limit} messages that arrived for this member to {@code handler}; returns how many. */
    int poll(MessageHandler handler, int limit);
}
