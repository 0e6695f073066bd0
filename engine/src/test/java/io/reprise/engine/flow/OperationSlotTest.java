package io.reprise.engine.flow;

import java.util.ArrayList;
import java.util.List;

import com.lmax.disruptor.EventFactory;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OperationSlotTest
{
    private static byte[] bytes(final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed * 31 + i);
        }
        return bytes;
    }

    private static byte[] held(final OperationSlot slot)
    {
        final byte[] bytes = new byte[slot.length()];
        slot.buffer().getBytes(slot.offset(), bytes);
        return bytes;
    }

    @Test
    void shouldKeepOperatorsThatFitTheirCellInOneSharedSlabWithoutOverlap()
    {
        final EventFactory<OperationSlot> factory = OperationSlot.factory(4, 64);
        final List<OperationSlot> slots = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            slots.add(factory.newInstance());
        }
        for (int i = 0; i < 4; i++)
        {
            slots.get(i).put(new UnsafeBuffer(bytes(64, i)), 0, 64);
        }
        for (int i = 0; i < 4; i++)
        {
            assertSame(slots.get(0).buffer(), slots.get(i).buffer(), "one slab");
            assertEquals(64 * i, slots.get(i).offset());
            assertArrayEquals(bytes(64, i), held(slots.get(i)), "slot " + i + " intact after its neighbours");
        }
        assertThrows(IllegalStateException.class, factory::newInstance);
    }

    @Test
    void shouldMoveALargerOperatorToTheSlotsOwnBufferAndBack()
    {
        final EventFactory<OperationSlot> factory = OperationSlot.factory(2, 64);
        final OperationSlot first = factory.newInstance();
        final OperationSlot second = factory.newInstance();
        second.put(new UnsafeBuffer(bytes(64, 7)), 0, 64);

        first.put(new UnsafeBuffer(bytes(200, 1)), 10, 150);
        assertNotSame(second.buffer(), first.buffer());
        assertEquals(0, first.offset());
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes(200, 1), 10, 160), held(first));
        assertArrayEquals(bytes(64, 7), held(second), "the neighbour's cell untouched");

        first.put(new UnsafeBuffer(bytes(10, 2)), 0, 10);
        assertSame(second.buffer(), first.buffer(), "back in the slab");
        assertArrayEquals(bytes(10, 2), held(first));
    }
}
