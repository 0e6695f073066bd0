package io.reprise.engine.cluster;

import java.util.Arrays;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

/**
 * Log entries held in memory, in order: each one's term and timestamp, and its operator, back to back in one
 * buffer. What a leader stages for one AppendEntries, and the window of newest entries it sends from. Grows to the
 * most it held and is then reused.
 */
final class EntryBuffer
{
    private final ExpandableArrayBuffer operators;
    private long[] term = new long[256];
    private long[] timestampMs = new long[256];
    private int[] offset = new int[256];
    private int[] length = new int[256];
    private int count;
    private int bytes;

    EntryBuffer(final int initialBytes)
    {
        operators = new ExpandableArrayBuffer(initialBytes);
    }

    void clear()
    {
        count = 0;
        bytes = 0;
    }

    void add(final long entryTerm, final long entryTimestampMs, final DirectBuffer operator, final int operatorOffset,
        final int operatorLength)
    {
        if (count == term.length)
        {
            final int grown = count * 2;
            term = Arrays.copyOf(term, grown);
            timestampMs = Arrays.copyOf(timestampMs, grown);
            offset = Arrays.copyOf(offset, grown);
            length = Arrays.copyOf(length, grown);
        }
        operators.putBytes(bytes, operator, operatorOffset, operatorLength);
        term[count] = entryTerm;
        timestampMs[count] = entryTimestampMs;
        offset[count] = bytes;
        length[count] = operatorLength;
        bytes += operatorLength;
        count++;
    }

    /** Keeps the first {@code keep} entries. */
    void truncate(final int keep)
    {
        if (keep < count)
        {
            count = keep;
            bytes = keep == 0 ? 0 : offset[keep - 1] + length[keep - 1];
        }
    }

    /** Drops the first {@code drop} entries, moving the rest to the front. */
    void dropFirst(final int drop)
    {
        if (drop >= count)
        {
            clear();
            return;
        }
        final int shift = offset[drop];
        final int kept = count - drop;
        operators.putBytes(0, operators, shift, bytes - shift);
        for (int i = 0; i < kept; i++)
        {
            term[i] = term[drop + i];
            timestampMs[i] = timestampMs[drop + i];
            offset[i] = offset[drop + i] - shift;
            length[i] = length[drop + i];
        }
        count = kept;
        bytes -= shift;
    }

    int count()
    {
        return count;
    }

    /** Bytes of operators held. */
    int bytes()
    {
        return bytes;
    }

    long term(final int i)
    {
        return term[i];
    }

    long timestampMs(final int i)
    {
        return timestampMs[i];
    }

    /** The buffer all operators are in; entry {@code i}'s at {@link #offset(int)}, {@link #length(int)} bytes. */
    DirectBuffer operators()
    {
        return operators;
    }

    int offset(final int i)
    {
        return offset[i];
    }

    int length(final int i)
    {
        return length[i];
    }
}
