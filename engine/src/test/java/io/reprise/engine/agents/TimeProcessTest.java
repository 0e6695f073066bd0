package io.reprise.engine.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;

import com.lmax.disruptor.RingBuffer;
import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.SetTimeDecoder;
import org.junit.jupiter.api.Test;

class TimeProcessTest
{
    private final AtomicLong clock = new AtomicLong(10_000);
    private final AtomicLong nextTimer = new AtomicLong(Long.MAX_VALUE);
    private final RingBuffer<OperationSlot> ring = RingBuffer.createSingleProducer(OperationSlot.factory(1024), 1024);
    private final OperationPublisher publisher = new OperationPublisher(ring, 1, 1, clock::get);
    private final TimeProcess process = new TimeProcess(publisher, clock::get, 1, 1000, nextTimer::get, 10_000);

    private long lastProposedTime()
    {
        final OperationSlot slot = ring.get(ring.getCursor());
        final MessageHeaderDecoder header = new MessageHeaderDecoder().wrap(slot.buffer(), slot.offset());
        assertEquals(SetTimeDecoder.TEMPLATE_ID, header.templateId());
        return new SetTimeDecoder().wrap(slot.buffer(), slot.offset() + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(),
            header.version()).timeMs();
    }

    @Test
    void shouldProposeOnlyPerHeartbeatWhileNoTimerIsDue()
    {
        for (int ms = 1; ms < 1000; ms++)
        {
            clock.incrementAndGet();
            assertEquals(0, process.doWork(), "idle at +" + ms + " ms");
        }
        clock.incrementAndGet();
        assertEquals(1, process.doWork());
        assertEquals(11_000, lastProposedTime());
        assertEquals(1, process.proposals());
    }

    @Test
    void shouldProposeAsSoonAsATimerCanFire()
    {
        nextTimer.set(10_005);
        clock.addAndGet(4);
        assertEquals(0, process.doWork());
        clock.incrementAndGet();
        assertEquals(1, process.doWork());
        assertEquals(10_005, lastProposedTime());
        // Within a tick of the last proposal nothing more, whatever is due.
        assertEquals(0, process.doWork());
    }

    @Test
    void shouldIgnoreAWallClockThatStepsBack()
    {
        nextTimer.set(0);
        clock.set(9_000);
        assertEquals(0, process.doWork());
        assertEquals(0, process.proposals());
    }
}
