package io.reprise.engine.flow;

import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import io.reprise.engine.journal.JournalFormat;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;

/**
 * Puts operators into the ring: claims the next sequence, fills the slot (index = ring sequence + base, so the
 * log index is assigned in ring order), publishes. A full ring is reported, never waited on and never dropped:
 * back-pressure goes back to whoever produces. Thread safe: any number of producers.
 */
public final class OperationPublisher
{
    private final RingBuffer<OperationSlot> ring;
    private final long indexBase;
    private final long term;
    private final EpochClock clock;

    public OperationPublisher(
        final RingBuffer<OperationSlot> ring, final long firstIndex, final long term, final EpochClock clock)
    {
        this.ring = ring;
        this.indexBase = firstIndex;
        this.term = term;
        this.clock = clock;
    }

    /** Returned by {@link #tryPublishIndex} when the ring is full. */
    public static final long RING_FULL = -1;

    /** @return false when the ring is full: try again later. */
    public boolean tryPublish(final DirectBuffer operator, final int offset, final int length)
    {
        return tryPublishIndex(operator, offset, length) != RING_FULL;
    }

    /** @return the log index the operator will have, or {@link #RING_FULL}: try again later. */
    public long tryPublishIndex(final DirectBuffer operator, final int offset, final int length)
    {
        if (length <= 0 || length > JournalFormat.MAX_OPERATOR_LENGTH)
        {
            throw new IllegalArgumentException("operator length out of range: " + length);
        }
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return RING_FULL;
        }
        try
        {
            final OperationSlot slot = ring.get(sequence);
            slot.index = indexBase + sequence;
            slot.term = term;
            slot.timestampMs = clock.time();
            slot.put(operator, offset, length);
        }
        finally
        {
            ring.publish(sequence);
        }
        return indexBase + sequence;
    }

    /** Free slots right now: how much a producer may put in before it meets back-pressure. */
    public long remainingCapacity()
    {
        return ring.remainingCapacity();
    }
}
