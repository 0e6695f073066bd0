package io.reprise.engine.flow;

import java.util.concurrent.atomic.AtomicLong;

import com.lmax.disruptor.EventHandler;
import io.reprise.engine.logic.BusinessLogic;

/**
 * Applies committed entries to the business logic in log order. It runs behind the journal and replication
 * stages, so every entry it sees is at or below the commit index.
 */
public final class BusinessLogicHandler implements EventHandler<OperationSlot>
{
    private final BusinessLogic logic;
    private final AtomicLong appliedIndex;
    private final AtomicLong nextTimerMs;

    public BusinessLogicHandler(final BusinessLogic logic)
    {
        this.logic = logic;
        appliedIndex = new AtomicLong(logic.appliedIndex());
        nextTimerMs = new AtomicLong(logic.timers().nextEventLowerBoundMs());
    }

    public void onEvent(final OperationSlot slot, final long sequence, final boolean endOfBatch)
    {
        logic.apply(slot.index, slot.term, slot.buffer, 0, slot.length);
        appliedIndex.setRelease(slot.index);
        if (endOfBatch)
        {
            nextTimerMs.setRelease(logic.timers().nextEventLowerBoundMs());
        }
    }

    /** No timer fires before this time, as of the last batch applied: the time process reads it. */
    public long nextTimerMs()
    {
        return nextTimerMs.getAcquire();
    }

    /** Last applied index, readable from any thread. */
    public long appliedIndex()
    {
        return appliedIndex.getAcquire();
    }
}
