package io.reprise.engine.flow;

import java.util.concurrent.atomic.AtomicReference;

import io.reprise.engine.logic.BusinessLogic;

/**
 * Passes frozen views of the state ({@link BusinessLogic#freeze}) from the business-logic thread to the snapshot
 * agent and back. The agent asks; the business logic, between two batches or while it waits for one (see
 * {@link BusinessLogicHandler#onBatchStart}), recycles the view given back last time, if any, then freezes; the
 * agent writes the view and gives it back. While the view is out, the business logic also saves ahead a page of the state the
 * view shares at each of these points ({@link BusinessLogic#saveAhead}), and, when idle, until all is saved. The
 * business logic never waits for the agent, and an idle one serves the agent without any entry being journaled
 * for it.
 */
public final class StateHandOff
{
    private volatile boolean freezeRequested;
    private final AtomicReference<BusinessLogic> frozen = new AtomicReference<>();
    private final AtomicReference<BusinessLogic> givenBack = new AtomicReference<>();
    /** Business-logic thread only: a view is out, and the state it shares is not all saved yet. */
    private boolean savingAhead;

    /** Snapshot agent: asks for a view at the next batch boundary. */
    public void requestFreeze()
    {
        freezeRequested = true;
    }

    /** Snapshot agent: the view asked for, once the business logic has frozen it, else null. */
    public BusinessLogic takeFrozen()
    {
        return frozen.getAndSet(null);
    }

    /** Snapshot agent: done with {@code view}; it must not read it again. */
    public void giveBack(final BusinessLogic view)
    {
        givenBack.set(view);
    }

    /** Whether the business logic has something to do here. Business-logic thread. */
    boolean hasWork()
    {
        return freezeRequested || savingAhead || null != givenBack.get();
    }

    /** Business-logic thread, between two batches. */
    void serve(final BusinessLogic logic)
    {
        if (null != givenBack.get())
        {
            logic.recycle(givenBack.getAndSet(null));
            savingAhead = false;
        }
        if (savingAhead)
        {
            savingAhead = logic.saveAhead();
        }
        if (freezeRequested)
        {
            freezeRequested = false;
            frozen.set(logic.freeze());
            savingAhead = true;
        }
    }
}
