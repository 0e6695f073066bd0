package io.reprise.engine.flow;

import java.util.concurrent.atomic.AtomicLong;

import java.util.function.BooleanSupplier;

import com.lmax.disruptor.DataProvider;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.state.SessionTable;

/**
 * Applies committed entries to the business logic in log order. Its stage follows the commit point, so every
 * entry it sees is at or below the commit index.
 * <p>
 * Look-ahead: at 10^7 sessions the index slot and the record an operator addresses are each a cache miss of
 * hundreds of ns, and one operator's misses depend on each other. So at the start of every window of
 * {@code lookAhead} entries of a batch, the handler loads the index slots of all of them back to back, then their
 * records, and only then applies them: the misses of the window overlap instead of following one another. This
 * only reads; what is applied, and in what order, does not change.
 * <p>
 * Between two batches it serves the snapshot agent's {@link StateHandOff} and the clients' {@link SessionQueries},
 * and it takes no entry while a queue it feeds has no room ({@link #holdWhile}): applying never waits.
 */
public final class BusinessLogicHandler implements StageAgent.Handler
{
    private static final BooleanSupplier NEVER = () -> false;

    /** Entries looked up together: enough misses in flight to hide most of the latency, few enough to fit the core. */
    public static final int DEFAULT_LOOK_AHEAD = 16;

    private final BusinessLogic logic;
    private final SessionTable sessions;
    private final DataProvider<OperationSlot> ring;
    private final int[] homeEntries;
    private final AtomicLong appliedIndex;
    private final AtomicLong nextTimerMs;
    private long batchLeft;
    private int windowLeft;
    private long touched;
    private StateHandOff handOff;
    private SessionQueries queries;
    private BooleanSupplier hold = NEVER;
    private int served;

    public BusinessLogicHandler(final BusinessLogic logic, final DataProvider<OperationSlot> ring)
    {
        this(logic, ring, DEFAULT_LOOK_AHEAD);
    }

    /**
     * @param ring      where the entries of a batch are, to look ahead into.
     * @param lookAhead entries looked up together; 0 or 1 for none.
     */
    public BusinessLogicHandler(final BusinessLogic logic, final DataProvider<OperationSlot> ring, final int lookAhead)
    {
        this.logic = logic;
        this.ring = ring;
        sessions = logic.sessions();
        homeEntries = new int[Math.max(1, lookAhead)];
        appliedIndex = new AtomicLong(logic.appliedIndex());
        nextTimerMs = new AtomicLong(logic.timers().nextEventLowerBoundMs());
    }

    /** Serves these between batches; before the stage runs. */
    public BusinessLogicHandler serve(final StateHandOff handOff, final SessionQueries queries)
    {
        this.handOff = handOff;
        this.queries = queries;
        return this;
    }

    /** While {@code full} says so, no entry is taken (a queue the business logic feeds is full); before the stage runs. */
    public BusinessLogicHandler holdWhile(final BooleanSupplier full)
    {
        this.hold = full;
        return this;
    }

    public long onBatchStart(final long ready)
    {
        served = 0;
        if (null != handOff && handOff.hasWork())
        {
            handOff.serve(logic);
            served++;
        }
        if (null != queries && queries.hasWork())
        {
            served += queries.serve(logic);
        }
        // Asked every duty cycle, idle or not: the check also moves held-back events on.
        final boolean held = hold.getAsBoolean();
        if (ready == 0 || held)
        {
            return 0;
        }
        batchLeft = ready;
        windowLeft = 0;
        return ready;
    }

    public int otherWork()
    {
        return served;
    }

    public boolean onEntry(final OperationSlot slot, final long sequence, final boolean endOfBatch)
    {
        if (windowLeft == 0 && batchLeft > 1 && homeEntries.length > 1)
        {
            windowLeft = lookAhead(sequence, (int)Math.min(homeEntries.length, batchLeft));
        }
        logic.apply(slot.index, slot.term, slot.timestampMs, slot.buffer, slot.offset, slot.length);
        appliedIndex.setRelease(slot.index);
        if (windowLeft > 0)
        {
            windowLeft--;
        }
        batchLeft--;
        if (endOfBatch)
        {
            nextTimerMs.setRelease(logic.timers().nextEventLowerBoundMs());
        }
        return true;
    }

    /** Loads the index slots of the next {@code count} entries, then their records: two rounds of overlapped misses. */
    private int lookAhead(final long sequence, final int count)
    {
        final int[] homeEntries = this.homeEntries;
        for (int i = 0; i < count; i++)
        {
            final OperationSlot ahead = ring.get(sequence + i);
            homeEntries[i] = logic.prefetch(ahead.buffer, ahead.offset, ahead.length);
        }
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += sessions.touchHomeEntry(homeEntries[i]);
        }
        touched += sum;
        return count;
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
