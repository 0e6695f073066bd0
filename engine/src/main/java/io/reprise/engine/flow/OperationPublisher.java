package io.reprise.engine.flow;

import java.util.concurrent.atomic.AtomicInteger;

import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import io.reprise.engine.journal.JournalFormat;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;

/**
 * Puts operators into the ring: claims the next sequence, fills the slot, publishes. A full ring is reported,
 * never waited on and never dropped: back-pressure goes back to whoever produces. Thread safe: any number of
 * producers.
 * <p>
 * Where each entry's log position comes from depends on the node's role. A leader assigns it here, in ring order:
 * the index is the ring sequence plus a base and the term is the leader's, both set by {@link #lead} when the node
 * becomes leader (standalone: once, at start). A follower takes the index, term and timestamp the leader gave the
 * entry ({@link #tryPublishEntry}).
 */
public final class OperationPublisher
{
    private final RingBuffer<OperationSlot> ring;
    private final EpochClock clock;
    private volatile long indexBase;
    private volatile long term;
    private volatile boolean leading;
    /**
     * Producers between their look at {@link #leading} and their publish, counted only for a cluster member (whose
     * role changes): a step-down waits them out, so no entry of the old term enters the ring after it.
     */
    private final AtomicInteger publishing = new AtomicInteger();
    private boolean roleChanges;

    /** @param firstIndex the index of the first entry this ring will carry, in {@code term}. */
    public OperationPublisher(
        final RingBuffer<OperationSlot> ring, final long firstIndex, final long term, final EpochClock clock)
    {
        this.ring = ring;
        this.clock = clock;
        lead(term, firstIndex);
    }

    /**
     * From now on this node assigns log positions: the next entry put into the ring gets {@code nextIndex}, in
     * {@code term}. Called on a role change, while no producer publishes.
     */
    public void lead(final long term, final long nextIndex)
    {
        this.indexBase = nextIndex - (ring.getCursor() + 1);
        this.term = term;
        this.leading = true;
    }

    /**
     * From now on this node assigns no log positions: {@link #tryPublishIndex} refuses with {@link #NOT_LEADING} and
     * only the leader's entries come in ({@link #tryPublishEntry}). Called when the node stops leading.
     */
    public void follow()
    {
        roleChanges = true;
        this.leading = false;
        while (publishing.get() != 0)
        {
            Thread.onSpinWait();
        }
    }

    /** The ring sequence of the last entry claimed (published, or about to be). */
    public long lastSequence()
    {
        return ring.getCursor();
    }

    /** Returned by {@link #tryPublishIndex} when the ring is full. */
    public static final long RING_FULL = -1;
    /** Returned by {@link #tryPublishIndex} when this node does not lead. */
    public static final long NOT_LEADING = -2;

    /** @return false when the ring is full (try again later) or this node does not lead. */
    public boolean tryPublish(final DirectBuffer operator, final int offset, final int length)
    {
        return tryPublishIndex(operator, offset, length) >= 0;
    }

    /**
     * @return the log index the operator will have, {@link #RING_FULL} (try again later) or {@link #NOT_LEADING}.
     */
    public long tryPublishIndex(final DirectBuffer operator, final int offset, final int length)
    {
        if (length <= 0 || length > JournalFormat.MAX_OPERATOR_LENGTH)
        {
            throw new IllegalArgumentException("operator length out of range: " + length);
        }
        if (!roleChanges)
        {
            return publishLeaderEntry(operator, offset, length);
        }
        // Counted in before the look at `leading`, out after the publish; follow() clears `leading`, then waits
        // for the count to be 0: a producer either sees it cleared or is waited for (both are volatile).
        publishing.getAndIncrement();
        try
        {
            return publishLeaderEntry(operator, offset, length);
        }
        finally
        {
            publishing.getAndDecrement();
        }
    }

    private long publishLeaderEntry(final DirectBuffer operator, final int offset, final int length)
    {
        if (!leading)
        {
            return NOT_LEADING;
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

    /** The log index of the entry at ring {@code sequence}. */
    public long indexOf(final long sequence)
    {
        return indexBase + sequence;
    }

    /** The ring sequence of the entry at log {@code index}. */
    public long sequenceOf(final long index)
    {
        return index - indexBase;
    }

    /** The index of the last entry put into the ring. */
    public long publishedIndex()
    {
        return indexOf(ring.getCursor());
    }

    /**
     * A follower's entry, with the position the leader gave it: it must be the next index this ring carries. One
     * producer only (the follower's replication receiver).
     *
     * @return false when the ring is full: try again later.
     */
    public boolean tryPublishEntry(
        final long index, final long entryTerm, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length)
    {
        if (length <= 0 || length > JournalFormat.MAX_OPERATOR_LENGTH)
        {
            throw new IllegalArgumentException("operator length out of range: " + length);
        }
        final long expected = indexBase + ring.getCursor() + 1;
        if (index != expected)
        {
            throw new IllegalArgumentException("entry " + index + " where " + expected + " is next");
        }
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return false;
        }
        try
        {
            final OperationSlot slot = ring.get(sequence);
            slot.index = index;
            slot.term = entryTerm;
            slot.timestampMs = timestampMs;
            slot.put(operator, offset, length);
        }
        finally
        {
            ring.publish(sequence);
        }
        return true;
    }

    /** Free slots right now: how much a producer may put in before it meets back-pressure. */
    public long remainingCapacity()
    {
        return ring.remainingCapacity();
    }
}
