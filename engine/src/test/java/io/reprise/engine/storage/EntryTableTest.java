package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.SimulatedDisk;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EntryTableTest
{
    /** Three chunks and a part: every path of the chunk arithmetic. */
    private static final int COUNT = 3 * 65536 + 1234;

    private static long[][] randomEntries(final Random random)
    {
        final long[][] entries = new long[COUNT][];
        for (int i = 0; i < COUNT; i++)
        {
            // Few tenants and ids, so keys repeat and the index breaks ties; indexes unique, as in a source.
            entries[i] = new long[] {1 + random.nextInt(3), random.nextInt(5000), i * 7L + 1, random.nextInt(300) - 1,
                64 + 100L * i};
        }
        return entries;
    }

    private static void put(final EntryTable table, final long[][] entries)
    {
        for (int i = 0; i < entries.length; i++)
        {
            final long[] e = entries[i];
            table.put(i, (int)e[0], (int)e[3], e[1], e[2], e[4]);
        }
    }

    private static void assertEntries(final long[][] expected, final EntryTable table)
    {
        for (int i = 0; i < expected.length; i++)
        {
            final long[] e = expected[i];
            assertEquals(e[0], table.tenant(i), "tenant of " + i);
            assertEquals(e[1], table.sessionId(i), "session of " + i);
            assertEquals(e[2], table.index(i), "index of " + i);
            assertEquals(e[3], table.payloadLength(i), "length of " + i);
            assertEquals(e[4], table.offset(i), "offset of " + i);
        }
    }

    @Test
    void shouldSortByTenantSessionAndIndexAcrossChunks()
    {
        final long[][] entries = randomEntries(new Random(42));
        final EntryTable table = new EntryTable();
        put(table, entries);
        table.sort(COUNT);
        final long[][] sorted = entries.clone();
        Arrays.sort(sorted, Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1])
            .thenComparingLong(e -> e[2]));
        assertEntries(sorted, table);
    }

    @Test
    void shouldWriteAndReadBackEntriesWithTheChecksumOfTheirBytes() throws IOException
    {
        final long[][] entries = randomEntries(new Random(7));
        final EntryTable table = new EntryTable();
        put(table, entries);
        final SimulatedDisk disk = new SimulatedDisk(1);
        final Path dir = Path.of("/entries");
        disk.createDirectories(dir);
        final DiskFile file = disk.open(dir.resolve("index"), true);
        final CRC32C crc = new CRC32C();
        final int written = table.writeTo(file, 100, COUNT, crc);

        final ByteBuffer bytes = ByteBuffer.allocate(COUNT * EntryTable.ENTRY_LENGTH);
        while (bytes.hasRemaining())
        {
            file.read(bytes, 100 + bytes.position());
        }
        final CRC32C whole = new CRC32C();
        whole.update(bytes.flip());
        assertEquals((int)whole.getValue(), written, "one checksum over the contiguous bytes");

        final EntryTable readBack = new EntryTable();
        assertEquals(written, readBack.readFrom(file, dir.resolve("index"), 100, COUNT, crc));
        assertEntries(entries, readBack);

        final StorageCorruptException cut = assertThrows(StorageCorruptException.class,
            () -> new EntryTable().readFrom(file, dir.resolve("index"), 100 + 32, COUNT, crc));
        assertEquals(true, cut.getMessage().contains("unexpected end of file"), cut.getMessage());
    }

    /** Three sorted runs across chunk boundaries, keys shared between runs: one order, earlier runs first on ties. */
    @Test
    void shouldMergeSortedRunsMovingEachRunsOffsets()
    {
        final Random random = new Random(11);
        final long[][] all = randomEntries(random);
        final int[] counts = {70_000, 1, COUNT - 70_001};
        final long[] shifts = {0, 1_000_000, 5_000_000_000L};
        final EntryTable[] runs = new EntryTable[3];
        final List<long[]> expected = new ArrayList<>();
        final Comparator<long[]> byKey = Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1])
            .thenComparingLong(e -> e[2]);
        int from = 0;
        for (int r = 0; r < 3; r++)
        {
            final long[][] run = Arrays.copyOfRange(all, from, from + counts[r]);
            from += counts[r];
            Arrays.sort(run, byKey);
            runs[r] = new EntryTable();
            put(runs[r], run);
            for (final long[] e : run)
            {
                expected.add(new long[] {e[0], e[1], e[2], e[3], e[4] + shifts[r]});
            }
        }
        expected.sort(byKey);
        final EntryTable merged = new EntryTable();
        merged.ensure(COUNT);
        merged.merge(runs, counts, shifts);
        assertEntries(expected.toArray(new long[0][]), merged);
    }
}
