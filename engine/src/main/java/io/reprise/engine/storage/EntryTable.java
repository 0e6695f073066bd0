package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.DiskFile;
import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

/**
 * The index entries of a source, 32 bytes each (layout in {@link SourceFile}), off heap in chunks of 2 MiB (the
 * first one smaller while the table is).
 * <p>
 * Chunks rather than one buffer: a source of 10^7 records has a 320 MB index, and one direct buffer that large is
 * zeroed when allocated, and copied when grown, by single calls into the JVM during which no safepoint can begin.
 * Every other thread then waits for the merger at the next safepoint: that was 100-500 ms stalls of the business
 * logic. A chunk is allocated, filled, copied and checksummed by calls of at most 2 MiB, and a table grows by adding
 * chunks, never by copying.
 */
final class EntryTable
{
    static final int ENTRY_LENGTH = 32;
    private static final int CHUNK_SHIFT = 16;
    private static final int ENTRIES_PER_CHUNK = 1 << CHUNK_SHIFT;
    private static final int CHUNK_MASK = ENTRIES_PER_CHUNK - 1;
    private static final int CHUNK_BYTES = ENTRIES_PER_CHUNK * ENTRY_LENGTH;

    private static final int TENANT = 0;
    private static final int PAYLOAD_LENGTH = 4;
    private static final int SESSION_ID = 8;
    private static final int INDEX = 16;
    private static final int OFFSET = 24;

    static
    {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new ExceptionInInitializerError("the index entries are little-endian in memory and on disk");
        }
    }

    /** A table's first chunk starts this small and doubles, by copy, to a whole chunk: a small source stays small. */
    private static final int FIRST_CHUNK_LEAST_ENTRIES = 256;

    /** The chunks, kept so that their memory lives as long as the table. */
    private ByteBuffer[] buffers = new ByteBuffer[0];
    /** Address of each chunk's memory. */
    private long[] addresses = new long[0];
    /** Entries the chunks have room for. */
    private long capacity;

    /** Makes room for entries {@code 0 .. count - 1}. */
    void ensure(final int count)
    {
        if (count <= capacity)
        {
            return;
        }
        if (capacity < ENTRIES_PER_CHUNK)
        {
            growFirstChunk(count);
        }
        final int needed = (int)(((long)count + ENTRIES_PER_CHUNK - 1) >>> CHUNK_SHIFT);
        if (needed > buffers.length)
        {
            final int old = buffers.length;
            buffers = Arrays.copyOf(buffers, Math.max(needed, old * 2));
            addresses = Arrays.copyOf(addresses, buffers.length);
            for (int c = old; c < buffers.length; c++)
            {
                buffers[c] = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                addresses[c] = BufferUtil.address(buffers[c]);
            }
            capacity = (long)buffers.length << CHUNK_SHIFT;
        }
    }

    /** Doubles the first chunk until it holds {@code count} entries or is whole, keeping what it held. */
    private void growFirstChunk(final int count)
    {
        int entries = (int)Math.max(FIRST_CHUNK_LEAST_ENTRIES, capacity);
        while (entries < Math.min(count, ENTRIES_PER_CHUNK))
        {
            entries *= 2;
        }
        final ByteBuffer first = ByteBuffer.allocateDirect(entries * ENTRY_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        if (0 == buffers.length)
        {
            buffers = new ByteBuffer[1];
            addresses = new long[1];
        }
        else
        {
            UnsafeApi.copyMemory(addresses[0], BufferUtil.address(first), capacity * ENTRY_LENGTH);
        }
        buffers[0] = first;
        addresses[0] = BufferUtil.address(first);
        capacity = entries;
    }

    // Entries are read and written through Unsafe at the chunk's address: the chunk comes from a checked array
    // access, and (entry & CHUNK_MASK) with a field offset below ENTRY_LENGTH keeps every access inside it. The
    // sort does tens of millions of accesses per merge, which bounds-checked buffers made a fifth of a flush.

    /** Address of a field of an entry. */
    private long at(final int entry, final int field)
    {
        return addresses[entry >>> CHUNK_SHIFT] + (long)(entry & CHUNK_MASK) * ENTRY_LENGTH + field;
    }

    void put(final int entry, final int tenant, final int payloadLength, final long sessionId, final long index,
        final long offset)
    {
        if (entry >= capacity)
        {
            ensure(entry + 1);
        }
        final long address = at(entry, 0);
        UnsafeApi.putInt(address + TENANT, tenant);
        UnsafeApi.putInt(address + PAYLOAD_LENGTH, payloadLength);
        UnsafeApi.putLong(address + SESSION_ID, sessionId);
        UnsafeApi.putLong(address + INDEX, index);
        UnsafeApi.putLong(address + OFFSET, offset);
    }

    int tenant(final int entry)
    {
        return UnsafeApi.getInt(at(entry, TENANT));
    }

    /** The payload's length, or -1 for a tombstone. */
    int payloadLength(final int entry)
    {
        return UnsafeApi.getInt(at(entry, PAYLOAD_LENGTH));
    }

    long sessionId(final int entry)
    {
        return UnsafeApi.getLong(at(entry, SESSION_ID));
    }

    long index(final int entry)
    {
        return UnsafeApi.getLong(at(entry, INDEX));
    }

    long offset(final int entry)
    {
        return UnsafeApi.getLong(at(entry, OFFSET));
    }

    /** Orders entries by (tenant, sessionId, index). */
    int compare(final int a, final int b)
    {
        final int byKey = SourceFile.compareKey(tenant(a), sessionId(a), tenant(b), sessionId(b));
        return byKey != 0 ? byKey : Long.compare(index(a), index(b));
    }

    void swap(final int a, final int b)
    {
        final long atA = at(a, 0);
        final long atB = at(b, 0);
        for (int word = 0; word < ENTRY_LENGTH; word += Long.BYTES)
        {
            final long x = UnsafeApi.getLong(atA + word);
            UnsafeApi.putLong(atA + word, UnsafeApi.getLong(atB + word));
            UnsafeApi.putLong(atB + word, x);
        }
    }

    /** Sorts entries {@code 0 .. count - 1} by {@link #compare}, in place (quicksort, insertion sort below 17). */
    void sort(final int count)
    {
        sort(0, count - 1);
    }

    private void sort(int low, int high)
    {
        while (high - low > 16)
        {
            final int mid = (low + high) >>> 1;
            final int pivotTenant = tenant(mid);
            final long pivotSessionId = sessionId(mid);
            final long pivotIndex = index(mid);
            int i = low;
            int j = high;
            while (i <= j)
            {
                while (compareTo(i, pivotTenant, pivotSessionId, pivotIndex) < 0)
                {
                    i++;
                }
                while (compareTo(j, pivotTenant, pivotSessionId, pivotIndex) > 0)
                {
                    j--;
                }
                if (i <= j)
                {
                    swap(i++, j--);
                }
            }
            // Recurse into the smaller part, loop on the larger: bounded stack.
            if (j - low < high - i)
            {
                sort(low, j);
                low = i;
            }
            else
            {
                sort(i, high);
                high = j;
            }
        }
        for (int i = low + 1; i <= high; i++)
        {
            for (int j = i; j > low && compare(j - 1, j) > 0; j--)
            {
                swap(j - 1, j);
            }
        }
    }

    /**
     * Fills this table with the entries of sorted runs, in order: run {@code r} is entries {@code 0 .. counts[r] - 1}
     * of {@code runs[r]}, and its offsets are moved by {@code shifts[r]}. Ties keep the earlier run first.
     */
    void merge(final EntryTable[] runs, final int[] counts, final long[] shifts)
    {
        final int[] next = new int[runs.length];
        for (int out = 0; ; out++)
        {
            int least = -1;
            for (int r = 0; r < runs.length; r++)
            {
                if (next[r] < counts[r] && (least < 0 || compare(runs[r], next[r], runs[least], next[least]) < 0))
                {
                    least = r;
                }
            }
            if (least < 0)
            {
                return;
            }
            final EntryTable run = runs[least];
            final int entry = next[least]++;
            put(out, run.tenant(entry), run.payloadLength(entry), run.sessionId(entry), run.index(entry),
                run.offset(entry) + shifts[least]);
        }
    }

    private static int compare(final EntryTable a, final int entryA, final EntryTable b, final int entryB)
    {
        final int byKey = SourceFile.compareKey(a.tenant(entryA), a.sessionId(entryA), b.tenant(entryB),
            b.sessionId(entryB));
        return byKey != 0 ? byKey : Long.compare(a.index(entryA), b.index(entryB));
    }

    private int compareTo(final int entry, final int tenant, final long sessionId, final long index)
    {
        final int byKey = SourceFile.compareKey(tenant(entry), sessionId(entry), tenant, sessionId);
        return byKey != 0 ? byKey : Long.compare(index(entry), index);
    }

    /** Writes entries {@code 0 .. count - 1} at {@code position}, a chunk per write; returns their CRC32C. */
    int writeTo(final DiskFile file, final long position, final int count, final CRC32C crc) throws IOException
    {
        crc.reset();
        long at = position;
        for (int c = 0; (long)c * ENTRIES_PER_CHUNK < count; c++)
        {
            final int bytes = Math.min(ENTRIES_PER_CHUNK, count - c * ENTRIES_PER_CHUNK) * ENTRY_LENGTH;
            final ByteBuffer chunk = buffers[c].duplicate().position(0).limit(bytes);
            crc.update(chunk.duplicate());
            file.write(chunk, at);
            at += bytes;
        }
        return (int)crc.getValue();
    }

    /**
     * Reads {@code count} entries from {@code position}, a chunk per read; returns their CRC32C.
     *
     * @throws StorageCorruptException when the file ends first.
     */
    int readFrom(final DiskFile file, final Path path, final long position, final int count, final CRC32C crc)
        throws IOException
    {
        ensure(count);
        crc.reset();
        long at = position;
        for (int c = 0; (long)c * ENTRIES_PER_CHUNK < count; c++)
        {
            final int bytes = Math.min(ENTRIES_PER_CHUNK, count - c * ENTRIES_PER_CHUNK) * ENTRY_LENGTH;
            final ByteBuffer chunk = buffers[c].duplicate().position(0).limit(bytes);
            while (chunk.hasRemaining())
            {
                if (file.read(chunk, at + chunk.position()) < 0)
                {
                    throw new StorageCorruptException(path, at + chunk.position(), "unexpected end of file");
                }
            }
            crc.update(chunk.flip());
            at += bytes;
        }
        return (int)crc.getValue();
    }
}
