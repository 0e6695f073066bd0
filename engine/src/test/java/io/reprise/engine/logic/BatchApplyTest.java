package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.testing.TestSeeds;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The business-logic stage applies ring batches with look-ahead ({@link BusinessLogicHandler}): the result must be
 * exactly that of applying the same log one entry at a time, whatever the batch sizes.
 */
class BatchApplyTest
{
    @Test
    void shouldApplyBatchesWithLookAheadAsOneByOne()
    {
        final long seed = TestSeeds.seed("BatchApplyTest#shouldApplyBatchesWithLookAheadAsOneByOne");
        final SplittableRandom random = new SplittableRandom(seed);
        // The ring carries only what a client can submit: frames of 1 to MAX_OPERATOR_LENGTH bytes.
        final List<byte[]> log = DeterminismTest.randomLog(seed, 50_000).stream()
            .filter((frame) -> frame.length > 0 && frame.length <= JournalFormat.MAX_OPERATOR_LENGTH).toList();

        final RecordingSink sinkA = new RecordingSink();
        final RecordingSink sinkB = new RecordingSink();
        final BusinessLogic a = new BusinessLogic(ReferenceModelTest.modelRules(), sinkA);
        final BusinessLogic b = new BusinessLogic(ReferenceModelTest.modelRules(), sinkB);
        final RingBuffer<OperationSlot> ring =
            RingBuffer.createSingleProducer(OperationSlot.factory(256), 256, new BusySpinWaitStrategy());
        final BusinessLogicHandler handler = new BusinessLogicHandler(b, ring, 1 + random.nextInt(32));
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);

        long term = 1;
        final OperationPublisher publisher = new OperationPublisher(ring, 1, term, () -> 0L);
        long applied = ring.getCursor();
        int batches = 0;
        for (int i = 0; i < log.size(); )
        {
            final int end = Math.min(log.size(), i + 1 + random.nextInt(random.nextBoolean() ? 4 : 200));
            for (; i < end; i++)
            {
                final byte[] frame = log.get(i);
                final long entryTerm = ReferenceModel.entryTerm(frame, term);
                if (entryTerm != term)
                {
                    // A new term, as a new leader: the indexes carry on.
                    term = entryTerm;
                    publisher.lead(term, i + 1);
                }
                buffer.putBytes(0, frame);
                a.apply(i + 1, term, buffer, 0, frame.length);
                assertTrue(publisher.tryPublish(buffer, 0, frame.length));
            }
            final long cursor = ring.getCursor();
            handler.onBatchStart(cursor - applied);
            for (long sequence = applied + 1; sequence <= cursor; sequence++)
            {
                handler.onEntry(ring.get(sequence), sequence, sequence == cursor);
            }
            applied = cursor;
            assertEquals(sinkA.events, sinkB.events, "seed " + seed + " operator " + i);
            sinkA.events.clear();
            sinkB.events.clear();
            if (++batches % 50 == 0 || i == log.size())
            {
                assertEquals(a.digest(), b.digest(), "seed " + seed + " operator " + i);
                assertEquals(a.appliedIndex(), handler.appliedIndex());
            }
        }
    }
}
