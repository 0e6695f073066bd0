package io.reprise.engine.flow;

import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;

/**
 * The ring's wait strategy when every stage polls it ({@link StageAgent}): a barrier's {@code waitFor} returns at
 * once with what is available now, possibly less than asked for, and the stage idles by its own strategy. So
 * publishing signals no one.
 */
public final class PollingWaitStrategy implements WaitStrategy
{
    public static final PollingWaitStrategy INSTANCE = new PollingWaitStrategy();

    private PollingWaitStrategy()
    {
    }

    public long waitFor(
        final long sequence, final Sequence cursor, final Sequence dependentSequence, final SequenceBarrier barrier)
    {
        return dependentSequence.get();
    }

    public void signalAllWhenBlocking()
    {
    }
}
