package io.reprise.engine.flow;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.TimeoutException;
import com.lmax.disruptor.WaitStrategy;
import io.reprise.engine.logic.BusinessLogic;

/**
 * The ring's wait strategy, which also serves the snapshot agent's {@link StateHandOff} and the clients'
 * {@link SessionQueries} on the business-logic thread. The business-logic stage calls its barrier's {@code waitFor}
 * before every batch, on its own thread, so that is where both are served: between two batches. While the business
 * logic waits for entries, the configured strategy keeps checking its barrier for an alert; a hand-off or queries
 * with work read as one, the stage's processor (still running) calls {@code waitFor} again, and they are served
 * there. So a busy business logic freezes or answers within a batch, and an idle one at once, with no entry
 * needed. Every other barrier of the ring waits exactly as with the configured strategy.
 */
public final class HandOffWaitStrategy implements WaitStrategy
{
    private final WaitStrategy delegate;
    private final StateHandOff handOff;
    private final SessionQueries queries;
    private SequenceBarrier logicBarrier;
    private BusinessLogic logic;
    private final SequenceBarrier interruptible = new SequenceBarrier()
    {
        public long waitFor(final long sequence) throws AlertException, InterruptedException, TimeoutException
        {
            // Wait strategies only check alerts; were one to wait through its barrier, it would wait as the stage does.
            return logicBarrier.waitFor(sequence);
        }

        public long getCursor()
        {
            return logicBarrier.getCursor();
        }

        public boolean isAlerted()
        {
            return logicBarrier.isAlerted() || handOff.hasWork() || queries.hasWork();
        }

        public void alert()
        {
            logicBarrier.alert();
        }

        public void clearAlert()
        {
            logicBarrier.clearAlert();
        }

        public void checkAlert() throws AlertException
        {
            logicBarrier.checkAlert();
            if (handOff.hasWork() || queries.hasWork())
            {
                throw AlertException.INSTANCE;
            }
        }
    };

    public HandOffWaitStrategy(final WaitStrategy delegate, final StateHandOff handOff, final SessionQueries queries)
    {
        this.delegate = delegate;
        this.handOff = handOff;
        this.queries = queries;
    }

    /** The business-logic stage's barrier, and the state it applies to; before that stage starts. */
    public void serve(final SequenceBarrier logicBarrier, final BusinessLogic logic)
    {
        this.logicBarrier = logicBarrier;
        this.logic = logic;
    }

    public long waitFor(
        final long sequence, final Sequence cursor, final Sequence dependentSequence, final SequenceBarrier barrier)
        throws AlertException, InterruptedException, TimeoutException
    {
        if (barrier != logicBarrier)
        {
            return delegate.waitFor(sequence, cursor, dependentSequence, barrier);
        }
        handOff.serve(logic);
        queries.serve(logic);
        return delegate.waitFor(sequence, cursor, dependentSequence, interruptible);
    }

    public void signalAllWhenBlocking()
    {
        delegate.signalAllWhenBlocking();
    }
}
