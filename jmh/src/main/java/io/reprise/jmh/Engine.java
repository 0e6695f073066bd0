package io.reprise.jmh;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.engine.logic.BusinessLogic;
import org.agrona.DirectBuffer;

/**
 * What the workload drives: the real business logic, or the hand-written baseline. Operators are offered into a
 * batch, then the batch is applied, as a consumer of committed entries gets them. Results reach the workload only
 * through the output sink, as in the node.
 */
interface Engine
{
    /** Largest batch {@link #applyBatch} takes. */
    int MAX_BATCH = 1024;

    /** Adds an operator to the batch being built, at the next log index. */
    void offer(DirectBuffer buffer, int offset, int length);

    /** Applies the operators offered since the last call, in order. */
    void applyBatch();

    /** Sessions READY at a destination: what the leader's repeat process looks at before a BeginRepeats. */
    int ready(int destination);

    static Engine of(final BusinessLogic logic)
    {
        return of(logic, BusinessLogicHandler.DEFAULT_LOOK_AHEAD);
    }

    /**
     * The business logic behind the node's own business-logic stage: operators go through an
     * {@link OperationPublisher} into a ring of {@link OperationSlot}s, and each batch is handed to a
     * {@link BusinessLogicHandler} as the stage's {@code StageAgent} would (batch start, then every entry),
     * on this thread, without the journal stage in front.
     */
    static Engine of(final BusinessLogic logic, final int lookAhead)
    {
        // No thread waits on this ring, so publishing need not signal (the default strategy takes a lock).
        final RingBuffer<OperationSlot> ring =
            RingBuffer.createSingleProducer(
                OperationSlot.factory(4 * MAX_BATCH), 4 * MAX_BATCH, new BusySpinWaitStrategy());
        final OperationPublisher publisher = new OperationPublisher(ring, logic.appliedIndex() + 1, 1, () -> 0L);
        final BusinessLogicHandler handler = new BusinessLogicHandler(logic, ring, lookAhead);
        return new Engine()
        {
            private long applied = ring.getCursor();

            public void offer(final DirectBuffer buffer, final int offset, final int length)
            {
                if (ring.getCursor() - applied == MAX_BATCH || !publisher.tryPublish(buffer, offset, length))
                {
                    throw new IllegalStateException("batch full");
                }
            }

            public void applyBatch()
            {
                final long end = ring.getCursor();
                if (end == applied)
                {
                    return;
                }
                handler.onBatchStart(end - applied);
                for (long sequence = applied + 1; sequence <= end; sequence++)
                {
                    handler.onEntry(ring.get(sequence), sequence, sequence == end);
                }
                applied = end;
            }

            public int ready(final int destination)
            {
                return logic.destinations().ready(destination);
            }
        };
    }
}
