package io.reprise.engine.flow;

import com.lmax.disruptor.EventHandler;

/**
 * The replication stage, in parallel with the journal. A standalone node has no followers, so it has nothing to
 * send and the commit index is the journal's durable index; the cluster replaces it with the stage that sends
 * AppendEntries. It stays in the wiring so the flow is the same in both modes.
 */
public final class ReplicationHandler implements EventHandler<OperationSlot>
{
    private long lastIndex;

    public void onEvent(final OperationSlot slot, final long sequence, final boolean endOfBatch)
    {
        lastIndex = slot.index;
    }

    public long lastIndex()
    {
        return lastIndex;
    }
}
