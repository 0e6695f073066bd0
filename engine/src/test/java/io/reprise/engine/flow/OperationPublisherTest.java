package io.reprise.engine.flow;

import com.lmax.disruptor.RingBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Log positions: a leader assigns them in ring order from where {@code lead} says; a follower takes the leader's. */
class OperationPublisherTest
{
    private final RingBuffer<OperationSlot> ring =
        RingBuffer.createMultiProducer(OperationSlot.factory(8), 8, PollingWaitStrategy.INSTANCE);
    private final UnsafeBuffer operator = new UnsafeBuffer(new byte[] {1, 2, 3});

    @Test
    void aLeaderNumbersEntriesFromItsFirstIndexInItsTerm()
    {
        final OperationPublisher publisher = new OperationPublisher(ring, 41, 3, () -> 1_000L);
        assertEquals(41, publisher.tryPublishIndex(operator, 0, 3));
        assertEquals(42, publisher.tryPublishIndex(operator, 0, 3));
        assertEquals(42, publisher.publishedIndex());
        final OperationSlot slot = ring.get(1);
        assertEquals(42, slot.index);
        assertEquals(3, slot.term);
        assertEquals(1_000L, slot.timestampMs);
    }

    @Test
    void aNewTermContinuesFromTheIndexItIsGiven()
    {
        final OperationPublisher publisher = new OperationPublisher(ring, 1, 1, () -> 0L);
        publisher.tryPublishIndex(operator, 0, 3);
        publisher.tryPublishIndex(operator, 0, 3);
        // A new leader whose log ends at 5 (say after a truncation elsewhere): its next entry is 6, in term 2.
        publisher.lead(2, 6);
        assertEquals(6, publisher.tryPublishIndex(operator, 0, 3));
        assertEquals(2, ring.get(2).term);
        assertEquals(6, publisher.indexOf(2));
    }

    @Test
    void aFollowerTakesTheLeadersPositionsInOrderOnly()
    {
        final OperationPublisher publisher = new OperationPublisher(ring, 10, 1, () -> 0L);
        assertTrue(publisher.tryPublishEntry(10, 4, 777L, operator, 0, 3));
        final OperationSlot slot = ring.get(0);
        assertEquals(10, slot.index);
        assertEquals(4, slot.term);
        assertEquals(777L, slot.timestampMs);
        assertThrows(IllegalArgumentException.class, () -> publisher.tryPublishEntry(12, 4, 0L, operator, 0, 3));
        assertTrue(publisher.tryPublishEntry(11, 4, 0L, operator, 0, 3));
        assertEquals(11, publisher.publishedIndex());
    }

    @Test
    void aFullRingIsReportedNotWaitedOn()
    {
        final OperationPublisher publisher = new OperationPublisher(ring, 1, 1, () -> 0L);
        ring.addGatingSequences(new com.lmax.disruptor.Sequence(-1));
        for (int i = 0; i < 8; i++)
        {
            assertTrue(publisher.tryPublish(operator, 0, 3));
        }
        assertFalse(publisher.tryPublish(operator, 0, 3));
        assertFalse(publisher.tryPublishEntry(9, 1, 0L, operator, 0, 3));
    }
}
