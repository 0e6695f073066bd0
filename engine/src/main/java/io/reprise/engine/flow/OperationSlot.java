package io.reprise.engine.flow;

import com.lmax.disruptor.EventFactory;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One pre-allocated slot of the ring: a log entry on its way through journal, replication and business logic.
 * <p>
 * The slots of a ring share one slab, a cell of {@code cellBytes} each, and an operator that fits its cell is
 * copied there; a larger one goes to the slot's own buffer, which grows to the largest operator the slot has
 * carried and is then reused. Sharing the slab means the stages' flyweights see the same buffer object entry after
 * entry and store only an offset: a flyweight wrapped over another buffer object stores a reference into a
 * long-lived object, and with G1 each such store runs a write barrier that can wait for every store still in
 * flight.
 */
public final class OperationSlot
{
    /** Bytes of an operator kept in the shared slab: a SaveSession with a payload of up to about 280 bytes. */
    public static final int DEFAULT_CELL_BYTES = 512;

    long index;
    long term;
    long timestampMs;
    int length;
    MutableDirectBuffer buffer;
    int offset;
    private final UnsafeBuffer slab;
    private final int cellOffset;
    private final int cellBytes;
    private ExpandableArrayBuffer own;

    private OperationSlot(final UnsafeBuffer slab, final int cellOffset, final int cellBytes)
    {
        this.slab = slab;
        this.cellOffset = cellOffset;
        this.cellBytes = cellBytes;
        buffer = slab;
        offset = cellOffset;
    }

    /** Slots for a ring of {@code ringSize}, each with a cell of {@link #DEFAULT_CELL_BYTES} in one slab. */
    public static EventFactory<OperationSlot> factory(final int ringSize)
    {
        return factory(ringSize, DEFAULT_CELL_BYTES);
    }

    /** Slots for a ring of {@code ringSize}, each with a cell of {@code cellBytes} in one slab. */
    public static EventFactory<OperationSlot> factory(final int ringSize, final int cellBytes)
    {
        if (ringSize < 1 || cellBytes < 1 || (long)ringSize * cellBytes > Integer.MAX_VALUE - 8)
        {
            throw new IllegalArgumentException("slab of " + ringSize + " cells of " + cellBytes + " bytes");
        }
        final UnsafeBuffer slab = new UnsafeBuffer(new byte[ringSize * cellBytes]);
        final int[] next = new int[1];
        return () ->
        {
            if (next[0] == ringSize)
            {
                throw new IllegalStateException("more slots than the slab has cells: " + ringSize);
            }
            return new OperationSlot(slab, cellBytes * next[0]++, cellBytes);
        };
    }

    /** Copies the operator in: into the slot's cell of the slab when it fits, else into the slot's own buffer. */
    void put(final DirectBuffer operator, final int operatorOffset, final int operatorLength)
    {
        final MutableDirectBuffer target;
        if (operatorLength <= cellBytes)
        {
            target = slab;
            offset = cellOffset;
        }
        else
        {
            if (null == own)
            {
                own = new ExpandableArrayBuffer(operatorLength);
            }
            target = own;
            offset = 0;
        }
        if (buffer != target)
        {
            buffer = target;
        }
        target.putBytes(offset, operator, operatorOffset, operatorLength);
        length = operatorLength;
    }

    public long index()
    {
        return index;
    }

    public long term()
    {
        return term;
    }

    public long timestampMs()
    {
        return timestampMs;
    }

    public int length()
    {
        return length;
    }

    /** Holds the operator at {@link #offset()}, {@link #length()} bytes. */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }
}
