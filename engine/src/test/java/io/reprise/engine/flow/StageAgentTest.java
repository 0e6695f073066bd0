package io.reprise.engine.flow;

import java.util.ArrayList;
import java.util.List;

import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A ring stage as a step: what it takes, when it releases, and that it never waits. */
class StageAgentTest
{
    private final RingBuffer<OperationSlot> ring =
        RingBuffer.createMultiProducer(OperationSlot.factory(16), 16, PollingWaitStrategy.INSTANCE);
    private final OperationPublisher publisher = new OperationPublisher(ring, 1, 1, () -> 0L);
    private final UnsafeBuffer operator = new UnsafeBuffer(new byte[] {7});
    private final Recorder recorder = new Recorder();

    /** Takes what it is told, refuses an entry or a batch end when told to, and records what it saw. */
    private static final class Recorder implements StageAgent.Handler
    {
        final List<Long> entries = new ArrayList<>();
        final List<Long> readyAtStart = new ArrayList<>();
        long take = Long.MAX_VALUE;
        long refuseIndex = -1;
        boolean refuseBatchEnd;
        int batchEnds;

        public long onBatchStart(final long ready)
        {
            readyAtStart.add(ready);
            return Math.min(ready, take);
        }

        public boolean onEntry(final OperationSlot slot, final long sequence, final boolean endOfBatch)
        {
            if (slot.index == refuseIndex)
            {
                return false;
            }
            entries.add(slot.index);
            return true;
        }

        public boolean onBatchEnd()
        {
            batchEnds++;
            return !refuseBatchEnd;
        }
    }

    private void publish(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            publisher.tryPublish(operator, 0, 1);
        }
    }

    @Test
    void takesAtMostABatchAndReleasesItOnlyOnceItsEndSucceeds()
    {
        final StageAgent stage = new StageAgent("test", ring, recorder, 4);
        assertEquals(0, stage.doWork(), "nothing published: no work, and no waiting");
        publish(6);
        recorder.refuseBatchEnd = true;
        assertEquals(4, stage.doWork());
        assertEquals(List.of(1L, 2L, 3L, 4L), recorder.entries);
        assertEquals(-1, stage.sequence().get(), "not released while the batch end fails");
        stage.doWork();
        assertEquals(List.of(1L, 2L, 3L, 4L), recorder.entries, "the batch end is retried before any new entry");
        recorder.refuseBatchEnd = false;
        final int batchEndsBefore = recorder.batchEnds;
        stage.doWork();
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), recorder.entries, "released, then the next batch at once");
        assertEquals(5, stage.sequence().get());
        assertEquals(batchEndsBefore + 2, recorder.batchEnds);
        stage.doWork();
        assertEquals(batchEndsBefore + 2, recorder.batchEnds, "no batch end (no sync) without an entry taken");
    }

    @Test
    void aBatchEndRetriedWithNothingNewEndsOnce()
    {
        final StageAgent stage = new StageAgent("test", ring, recorder, 16);
        publish(2);
        recorder.refuseBatchEnd = true;
        stage.doWork();
        assertEquals(1, recorder.batchEnds);
        recorder.refuseBatchEnd = false;
        stage.doWork();
        assertEquals(2, recorder.batchEnds, "one more batch end (one sync) for the retried batch, none after it");
        assertEquals(1, stage.sequence().get());
    }

    @Test
    void anEntryItCannotTakeEndsTheBatchBeforeItAndIsOfferedAgain()
    {
        final StageAgent stage = new StageAgent("test", ring, recorder, 16);
        publish(5);
        recorder.refuseIndex = 3;
        stage.doWork();
        assertEquals(List.of(1L, 2L), recorder.entries);
        assertEquals(1, stage.sequence().get(), "what was taken is released");
        recorder.refuseIndex = -1;
        stage.doWork();
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), recorder.entries);
    }

    @Test
    void aStageThatFollowsAnotherTakesOnlyWhatThatOneReleased()
    {
        final Sequence committed = new Sequence(-1);
        final StageAgent stage = new StageAgent("test", ring, recorder, 16, committed);
        publish(5);
        stage.doWork();
        assertEquals(List.of(), recorder.entries);
        committed.set(2);
        stage.doWork();
        assertEquals(List.of(1L, 2L, 3L), recorder.entries);
        assertEquals(List.of(0L, 3L), recorder.readyAtStart);
    }

    @Test
    void aHandlerMayTakeNoneAndAHaltedStageTakesNothing()
    {
        final StageAgent stage = new StageAgent("test", ring, recorder, 16);
        publish(3);
        recorder.take = 0;
        assertEquals(0, stage.doWork());
        assertEquals(List.of(), recorder.entries);
        recorder.take = Long.MAX_VALUE;
        stage.halt();
        assertEquals(0, stage.doWork());
        assertEquals(List.of(), recorder.entries);
    }
}
