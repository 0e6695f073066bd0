package io.reprise.engine.flow;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.TimeoutException;
import org.agrona.concurrent.Agent;

/**
 * One stage of the ring (journal, replication, business logic) as a step: each duty cycle takes the entries that
 * are ready for it, up to a batch, hands them to its handler and then releases them to the stages behind it. It
 * never waits: what the handler cannot do now (a disk that refuses a write, a downstream queue without room) stays
 * where it is and is tried again on the next duty cycle. The threaded runtime runs it on a thread of its own, the
 * simulation runtime calls it from its one thread; the code is the same.
 * <p>
 * An entry is ready when it is published (first stage) or when the sequence this stage follows has passed it
 * (the journal's durable index, or the quorum's commit point, for the business logic).
 */
public final class StageAgent implements Agent
{
    /** What a stage does with its entries. */
    public interface Handler
    {
        /**
         * Called once per duty cycle before any entry, also when none is ready (serve requests between batches).
         *
         * @param ready entries ready now.
         * @return how many of them to take now: 0 leaves them for the next duty cycle.
         */
        long onBatchStart(long ready);

        /**
         * @param endOfBatch the last entry taken in this duty cycle.
         * @return false when the entry cannot be taken now: the batch ends before it and it is offered again.
         */
        boolean onEntry(OperationSlot slot, long sequence, boolean endOfBatch);

        /**
         * The entries taken so far are done; they are released only when this returns true (for the journal: once
         * synced). When false it is called again, before any other entry, on the next duty cycle.
         */
        default boolean onBatchEnd()
        {
            return true;
        }

        /** Work done outside entries in the last duty cycle (requests served), for the idle strategy. */
        default int otherWork()
        {
            return 0;
        }
    }

    private final String roleName;
    private final RingBuffer<OperationSlot> ring;
    private final SequenceBarrier ready;
    private final Handler handler;
    private final int maxBatch;
    /** Released: the stages behind this one may take everything up to here. */
    private final Sequence sequence = new Sequence(-1);
    /** Taken by the handler, not yet released. */
    private long taken = -1;
    private volatile boolean halted;

    /**
     * @param ring    a ring whose wait strategy is the {@link PollingWaitStrategy}, so asking what is ready never waits.
     * @param follows the sequences entries must have passed to be ready (all of them), or none for "published".
     */
    public StageAgent(
        final String roleName,
        final RingBuffer<OperationSlot> ring,
        final Handler handler,
        final int maxBatch,
        final Sequence... follows)
    {
        if (maxBatch < 1)
        {
            throw new IllegalArgumentException("maxBatch must be >= 1: " + maxBatch);
        }
        this.roleName = roleName;
        this.ring = ring;
        this.ready = ring.newBarrier(follows);
        this.handler = handler;
        this.maxBatch = maxBatch;
    }

    public int doWork()
    {
        if (halted)
        {
            return 0;
        }
        if (taken > sequence.get() && !release())
        {
            return 0;
        }
        final long next = taken + 1;
        final long available = available(next);
        final long wanted = handler.onBatchStart(Math.min(Math.max(0, available - taken), maxBatch));
        final long end = taken + Math.min(wanted, Math.min(available - taken, maxBatch));
        int work = handler.otherWork();
        for (long s = next; s <= end; s++)
        {
            if (!handler.onEntry(ring.get(s), s, s == end))
            {
                break;
            }
            taken = s;
            work++;
        }
        if (taken > sequence.get())
        {
            release();
        }
        return work;
    }

    /** The highest sequence ready now, below {@code next} when none is. */
    private long available(final long next)
    {
        try
        {
            return ready.waitFor(next);
        }
        catch (final AlertException | InterruptedException | TimeoutException ex)
        {
            // The polling wait strategy neither waits nor times out, and no one alerts these barriers.
            throw new IllegalStateException(ex);
        }
    }

    private boolean release()
    {
        if (!handler.onBatchEnd())
        {
            return false;
        }
        sequence.set(taken);
        return true;
    }

    /** The node failed: this stage takes nothing more, so nothing goes on past a failure. Any thread. */
    public void halt()
    {
        halted = true;
    }

    /** Everything up to here has passed this stage. */
    public Sequence sequence()
    {
        return sequence;
    }

    public String roleName()
    {
        return roleName;
    }
}
