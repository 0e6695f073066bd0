package io.reprise.engine.flow;

import org.agrona.ExpandableArrayBuffer;

/**
 * One pre-allocated slot of the ring: a log entry on its way through journal, replication and business logic.
 * The buffer grows to the largest operator the slot has carried and is then reused.
 */
public final class OperationSlot
{
    long index;
    long term;
    long timestampMs;
    int length;
    final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);

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

    public ExpandableArrayBuffer buffer()
    {
        return buffer;
    }
}
