package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.schema.client.SessionStatus;
import io.reprise.engine.testing.TestSeeds;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StorageTest
{
    private static final Path DIR = Path.of("/data/sources");
    private static final int MAX_PAYLOAD = 4096;

    private final SimulatedDisk disk = new SimulatedDisk(7);
    private final AtomicLong applied = new AtomicLong();
    private final List<String> events = new ArrayList<>();
    private long index;

    private SavedSessionStorage open(final long[] retained, final long restoredIndex) throws IOException
    {
        return open(disk, DIR, retained, restoredIndex);
    }

    private SavedSessionStorage open(final Disk on, final Path directory, final long[] retained,
        final long restoredIndex) throws IOException
    {
        return SavedSessionStorage.open(on, directory, new Container(64 * 1024, 64L * 64 * 1024), retained,
            restoredIndex, applied::get, events::add);
    }

    private static byte[] payload(final int tenant, final long sessionId, final int version, final int length)
    {
        final byte[] bytes = new byte[length];
        final Random random = new Random(tenant * 31L + sessionId * 1_000_003L + version);
        random.nextBytes(bytes);
        return bytes;
    }

    private void save(final SavedSessionStorage storage, final int tenant, final long id, final byte[] payload)
    {
        storage.onSessionSaved(++index, tenant, id, new UnsafeBuffer(payload), 0, payload.length);
        applied.set(index);
    }

    private void complete(final SavedSessionStorage storage, final int tenant, final long id)
    {
        storage.onSessionFinished(++index, tenant, id, SessionStatus.COMPLETED);
        applied.set(index);
    }

    private static byte[] read(final StorageReader reader, final int tenant, final long id) throws IOException
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[MAX_PAYLOAD]);
        final int length = reader.read(tenant, id, out, 0);
        return length == StorageReader.NOT_FOUND ? null : Arrays.copyOf(out.byteArray(), length);
    }

    @Test
    void shouldReadPayloadsFromTheContainerAtOnceAndFromSourcesAfterFlush() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        for (int i = 1; i <= 200; i++)
        {
            save(storage, 1 + i % 3, i, payload(1 + i % 3, i, 0, i * 7 % 1500));
        }
        for (int i = 1; i <= 200; i++)
        {
            assertArrayEquals(payload(1 + i % 3, i, 0, i * 7 % 1500), read(reader, 1 + i % 3, i));
        }
        assertEquals(200, storage.flush());
        assertEquals(0, storage.container().unflushedBytes());
        assertEquals(1, storage.liveSources().size());
        for (int i = 1; i <= 200; i++)
        {
            assertArrayEquals(payload(1 + i % 3, i, 0, i * 7 % 1500), read(reader, 1 + i % 3, i));
        }
        assertEquals(null, read(reader, 9, 1));
        assertTrue(storage.coversThrough(index));
    }

    /** Released pages are reused: the container allocates what was unreleased at once, not a page per ring slot. */
    @Test
    void shouldReuseReleasedPagesInsteadOfAllocatingOnePerSlot() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        final int ringSlots = 64;
        long id = 0;
        for (int round = 0; round < 3 * ringSlots; round++)
        {
            // About two pages of 64 KiB per flush: the ring of 64 slots goes round three times.
            for (int i = 0; i < 40; i++)
            {
                id++;
                save(storage, 1, id, payload(1, id, 0, 3000));
            }
            storage.flush();
            assertArrayEquals(payload(1, id - 39, 0, 3000), read(reader, 1, id - 39));
        }
        assertTrue(storage.container().pagesAllocated() <= 4, "allocated " + storage.container().pagesAllocated());
        for (long k = 1; k <= id; k += 97)
        {
            assertArrayEquals(payload(1, k, 0, 3000), read(reader, 1, k), "session " + k);
        }
    }

    @Test
    void shouldRoundTripASourceFileWithItsIndex() throws IOException
    {
        disk.createDirectories(DIR);
        final UnsafeBuffer record = new UnsafeBuffer(new byte[MAX_PAYLOAD + 64]);
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        final byte[] scratch = new byte[4096];
        final Map<Long, byte[]> written = new HashMap<>();
        try (SourceFile.Writer writer = new SourceFile.Writer(disk, DIR, 5))
        {
            for (int i = 0; i < 500; i++)
            {
                final long id = (i * 7919L) % 1000;
                final byte[] bytes = payload(2, id, 0, i % 300);
                final int length = StorageRecord.write(record, 0, 2, id, i + 1, StorageRecord.PAYLOAD,
                    new UnsafeBuffer(bytes), 0, bytes.length, crc, scratch);
                writer.onRecord(record, 0, length);
                written.put(id, bytes);
            }
            final SourceFile finished = writer.finish();
            final SourceFile reopened = SourceFile.open(disk, DIR.resolve(SourceFile.nameFor(5)));
            assertEquals(reopened.fileLength(), finished.fileLength());
            assertEquals(reopened.recordsLength(), finished.recordsLength());
            for (int e = 0; e < 500; e++)
            {
                assertEquals(reopened.entrySessionId(e), finished.entrySessionId(e), "entry " + e);
                assertEquals(reopened.entryIndex(e), finished.entryIndex(e), "entry " + e);
                assertEquals(reopened.entryOffset(e), finished.entryOffset(e), "entry " + e);
                assertEquals(reopened.entryPayloadLength(e), finished.entryPayloadLength(e), "entry " + e);
            }
            finished.close();
            reopened.close();
        }
        final SourceFile source = SourceFile.open(disk, DIR.resolve(SourceFile.nameFor(5)));
        assertEquals(500, source.entries());
        assertEquals(1, source.firstIndex());
        assertEquals(500, source.lastIndex());
        final ByteBuffer buffer = ByteBuffer.allocateDirect(MAX_PAYLOAD + 64);
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        for (final Map.Entry<Long, byte[]> e : written.entrySet())
        {
            final int entry = source.find(2, e.getKey());
            assertTrue(entry >= 0);
            source.readRecord(entry, buffer, view, crc, scratch);
            final byte[] back = new byte[view.getInt(StorageRecord.LENGTH_OFFSET)];
            view.getBytes(StorageRecord.HEADER_LENGTH, back);
            assertArrayEquals(e.getValue(), back);
        }
        assertEquals(-1, source.find(3, 1));
        final int[] scanned = {0};
        source.scan((b, o, l) -> scanned[0]++);
        assertEquals(500, scanned[0]);
        source.close();
    }

    @Test
    void shouldDropPayloadsOfCompletedSessionsOnMergeButKeepDeadOnes() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        for (int i = 1; i <= 100; i++)
        {
            save(storage, 1, i, payload(1, i, 0, 1024));
        }
        storage.flush();
        for (int i = 1; i <= 100; i += 2)
        {
            complete(storage, 1, i);
        }
        storage.onSessionFinished(++index, 1, 2, SessionStatus.DEAD);
        applied.set(index);
        storage.flush();
        assertEquals(2, storage.liveSources().size());
        assertEquals(null, read(reader, 1, 1));
        // Half of the first source is dead: the garbage rule picks it.
        final SourceFile[] plan = storage.plan(false, 4, 1 << 20);
        assertNotNull(plan);
        storage.merge(plan);
        storage.merge(storage.plan(true, 4, 1 << 20));
        assertEquals(1, storage.liveSources().size());
        for (int i = 1; i <= 100; i++)
        {
            if (i % 2 == 1)
            {
                assertEquals(null, read(reader, 1, i));
            }
            else
            {
                assertArrayEquals(payload(1, i, 0, 1024), read(reader, 1, i));
            }
        }
        final int[] records = {0};
        SourceFile.open(disk, storage.liveSources().get(0)).scan((b, o, l) ->
        {
            assertEquals(StorageRecord.PAYLOAD, b.getShort(o + StorageRecord.TYPE_OFFSET));
            assertEquals(0, b.getLong(o + StorageRecord.SESSION_ID_OFFSET) % 2);
            records[0]++;
        });
        assertEquals(50, records[0]);
        assertEquals(3, storage.deleteRetired(), "the first source, the second, and the first merge's output");
        assertEquals(1, sourceFilesOnDisk());
    }

    /**
     * A real directory, so that sources are copied whole file to file in the kernel: three sources without a dead
     * record go whole, the one with a tombstone record by record; every payload reads back from the output, which
     * opens with every check (index checksum, offsets) and scans with every record's checksum matching.
     */
    @Test
    void shouldMergeSourcesWithoutDeadRecordsByCopyingThemWhole(@TempDir final Path temporary) throws IOException
    {
        final Disk real = new FileChannelDisk();
        final Path directory = temporary.resolve("sources");
        final SavedSessionStorage storage = open(real, directory, new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        final Map<Long, byte[]> live = new HashMap<>();
        for (int source = 0; source < 3; source++)
        {
            for (int i = 0; i < 300; i++)
            {
                // Keys interleave across sources, so the merged index is not the sources' indexes end to end.
                final long id = i * 4L + source;
                final byte[] bytes = payload(1 + i % 2, id, 0, (i * 37) % 900);
                save(storage, 1 + i % 2, id, bytes);
                live.put(id, bytes);
            }
            storage.flush();
        }
        for (long id = 0; id < 30; id += 4)
        {
            complete(storage, 1 + (int)(id / 4) % 2, id);
            live.remove(id);
        }
        final byte[] saved = payload(2, 3_000, 0, 777);
        save(storage, 2, 3_000, saved);
        storage.flush();
        assertEquals(4, storage.liveSources().size());

        events.clear();
        final int written = storage.merge(storage.plan(true, 4, 1 << 20));
        assertTrue(events.contains("storage-merged inputs=4 whole=2 records=" + written), events.toString());
        assertEquals(live.size() + 1, written, "the first source's payloads of completed sessions dropped");
        assertEquals(1, storage.liveSources().size());
        for (final Map.Entry<Long, byte[]> e : live.entrySet())
        {
            final int tenant = 1 + (int)(e.getKey() / 4) % 2;
            assertArrayEquals(e.getValue(), read(reader, tenant, e.getKey()), "session " + e.getKey());
        }
        assertArrayEquals(saved, read(reader, 2, 3_000));
        for (long id = 0; id < 30; id += 4)
        {
            assertNull(read(reader, 1 + (int)(id / 4) % 2, id));
        }

        final SourceFile output = SourceFile.open(real, storage.liveSources().get(0));
        assertEquals(written, output.entries());
        final int[] scanned = {0};
        output.scan((b, o, l) -> scanned[0]++);
        assertEquals(written, scanned[0]);
        for (int e = 1; e < output.entries(); e++)
        {
            assertTrue(SourceFile.compareKey(output.entryTenant(e - 1), output.entrySessionId(e - 1),
                output.entryTenant(e), output.entrySessionId(e)) < 0, "entry " + e + " in key order");
        }
        output.close();
        storage.deleteRetired();
    }

    /** A record copied whole is not read by the merge: corrupt in its input, it is caught when it is read. */
    @Test
    void shouldStillReportACorruptRecordAfterItsSourceWasCopiedWhole() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        for (int source = 0; source < 2; source++)
        {
            for (int i = 1; i <= 10; i++)
            {
                save(storage, 1, source * 100 + i, payload(1, source * 100 + i, 0, 512));
            }
            storage.flush();
        }
        final SourceFile first = SourceFile.open(disk, storage.liveSources().get(0));
        final long offsetBefore = first.entryOffset(first.find(1, 4));
        first.close();
        flipByte(storage.liveSources().get(0), offsetBefore + StorageRecord.HEADER_LENGTH + 100);

        events.clear();
        storage.merge(storage.plan(true, 4, 1 << 20));
        assertTrue(events.contains("storage-merged inputs=2 whole=2 records=20"), events.toString());
        final Path merged = storage.liveSources().get(0);
        final SourceFile output = SourceFile.open(disk, merged);
        final long offsetAfter = output.entryOffset(output.find(1, 4));
        output.close();

        final UnsafeBuffer out = new UnsafeBuffer(new byte[MAX_PAYLOAD]);
        final StorageCorruptException ex = assertThrows(StorageCorruptException.class, () -> reader.read(1, 4, out, 0));
        assertEquals(merged, ex.file());
        assertEquals(offsetAfter, ex.offset());
        assertArrayEquals(payload(1, 5, 0, 512), read(reader, 1, 5));
        assertArrayEquals(payload(1, 104, 0, 512), read(reader, 1, 104));
    }

    @Test
    void shouldDropPayloadAndTombstoneTogetherWhenBothAreInOneFlush() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        for (int i = 1; i <= 50; i++)
        {
            save(storage, 1, i, payload(1, i, 0, 1024));
            complete(storage, 1, i);
        }
        assertEquals(0, storage.flush());
        assertEquals(0, storage.liveSources().size());
        assertEquals(0, sourceFilesOnDisk());
        assertTrue(storage.coversThrough(index));
    }

    @Test
    void shouldReportACorruptRecordWithFileAndOffsetAndHandOutNothing() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        for (int i = 1; i <= 10; i++)
        {
            save(storage, 1, i, payload(1, i, 0, 512));
        }
        storage.flush();
        final Path source = storage.liveSources().get(0);
        final SourceFile opened = SourceFile.open(disk, source);
        final int entry = opened.find(1, 4);
        final long offset = opened.entryOffset(entry);
        opened.close();
        flipByte(source, offset + StorageRecord.HEADER_LENGTH + 100);

        final UnsafeBuffer out = new UnsafeBuffer(new byte[MAX_PAYLOAD]);
        final StorageCorruptException ex = assertThrows(StorageCorruptException.class, () -> reader.read(1, 4, out, 0));
        assertEquals(source, ex.file());
        assertEquals(offset, ex.offset());
        assertTrue(ex.getMessage().contains(source.toString()) && ex.getMessage().contains("offset " + offset),
            ex.getMessage());
        assertArrayEquals(new byte[MAX_PAYLOAD], out.byteArray());
        assertArrayEquals(payload(1, 5, 0, 512), read(reader, 1, 5));
    }

    private void flipByte(final Path file, final long position) throws IOException
    {
        try (DiskFile f = disk.open(file, false))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            f.read(one, position);
            one.flip();
            final byte flipped = (byte)(one.get(0) ^ 0x10);
            f.write(ByteBuffer.wrap(new byte[] {flipped}), position);
            f.sync();
        }
    }

    private int sourceFilesOnDisk() throws IOException
    {
        int count = 0;
        for (final String name : disk.list(DIR))
        {
            if (SourceFile.idOf(name) >= 0)
            {
                count++;
            }
        }
        return count;
    }

    @Test
    void shouldRestoreTheSnapshotManifestAndDeleteOrphans() throws IOException
    {
        SavedSessionStorage storage = open(new long[0], 0);
        for (int i = 1; i <= 20; i++)
        {
            save(storage, 1, i, payload(1, i, 0, 100));
        }
        storage.flush();
        final long snapshotIndex = index;
        assertTrue(storage.coversThrough(snapshotIndex));
        storage.writeManifest(snapshotIndex);
        storage.retainSnapshots(new long[] {snapshotIndex});
        for (int i = 21; i <= 40; i++)
        {
            save(storage, 1, i, payload(1, i, 0, 100));
        }
        storage.flush(); // after the snapshot: an orphan on restart
        storage.merge(storage.plan(true, 4, 1 << 20)); // a merge after the snapshot: its output is an orphan too
        storage.deleteRetired(); // the inputs the snapshot lists are pinned: they stay
        try (DiskFile half = disk.open(DIR.resolve(SourceFile.nameFor(99) + SourceFile.TEMPORARY_SUFFIX), true))
        {
            half.write(ByteBuffer.wrap(new byte[100]), 0);
        }
        storage.close();

        events.clear();
        storage = open(new long[] {snapshotIndex}, snapshotIndex);
        assertEquals(snapshotIndex, storage.replayAfter());
        assertEquals(1, storage.liveSources().size());
        // The flush after the snapshot was merged away; the merge's output and the torn temporary file remain.
        assertEquals(List.of("storage-orphan-deleted " + SourceFile.nameFor(3),
            "storage-orphan-deleted " + SourceFile.nameFor(99) + SourceFile.TEMPORARY_SUFFIX),
            events.subList(0, 2), events::toString);
        assertEquals(1, sourceFilesOnDisk());
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        for (int i = 1; i <= 20; i++)
        {
            assertArrayEquals(payload(1, i, 0, 100), read(reader, 1, i));
        }
        assertEquals(null, read(reader, 1, 21));
        // Replayed records up to the manifest's coverage are not appended again.
        storage.onSessionSaved(snapshotIndex, 1, 20, new UnsafeBuffer(new byte[3]), 0, 3);
        assertEquals(0, storage.container().unflushedBytes());
    }

    @Test
    void shouldRefuseToStartWithoutTheRestoredSnapshotsManifest() throws IOException
    {
        final StorageCorruptException ex = assertThrows(StorageCorruptException.class, () -> open(new long[] {5}, 5));
        assertTrue(ex.getMessage().contains("manifest-00000000000000000005.mf"), ex.getMessage());
    }

    @Test
    void shouldMatchAModelUnderRandomSavesFinishesFlushesAndMerges() throws IOException
    {
        final long seed = TestSeeds.seed("StorageTest#shouldMatchAModelUnderRandomSavesFinishesFlushesAndMerges");
        final Random random = new Random(seed);
        final SavedSessionStorage storage = open(new long[0], 0);
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        final Map<Long, byte[]> live = new HashMap<>();
        final Map<Long, Integer> versions = new HashMap<>();
        for (int step = 0; step < 5000; step++)
        {
            final long id = random.nextInt(300);
            final int action = random.nextInt(100);
            if (action < 50 && !live.containsKey(id))
            {
                final int version = versions.merge(id, 1, Integer::sum);
                final byte[] bytes = payload(1, id, version, random.nextInt(2000));
                save(storage, 1, id, bytes);
                live.put(id, bytes);
            }
            else if (action < 80 && live.containsKey(id))
            {
                if (random.nextBoolean())
                {
                    complete(storage, 1, id);
                }
                else
                {
                    storage.onSessionPurged(++index, 1, id);
                    applied.set(index);
                }
                live.remove(id);
            }
            else if (action < 90)
            {
                storage.flush();
            }
            else if (action < 97)
            {
                final SourceFile[] plan = storage.plan(false, 3, 16 * 1024);
                if (null != plan)
                {
                    storage.merge(plan);
                }
                storage.deleteRetired();
            }
            else
            {
                storage.merge(storage.plan(true, 3, 16 * 1024) == null ? new SourceFile[0] :
                    storage.plan(true, 3, 16 * 1024));
                storage.deleteRetired();
            }
            if (step % 50 == 0)
            {
                for (long k = 0; k < 300; k++)
                {
                    assertArrayEquals(live.get(k), read(reader, 1, k), "seed=" + seed + " step=" + step + " key=" + k);
                }
            }
        }
        // Everything flushed and fully merged: no record of a finished session survives.
        storage.flush();
        storage.merge(storage.plan(true, 3, 16 * 1024));
        storage.deleteRetired();
        final AtomicReference<String> survivor = new AtomicReference<>();
        for (final Path path : storage.liveSources())
        {
            SourceFile.open(disk, path).scan((b, o, l) ->
            {
                final long id = b.getLong(o + StorageRecord.SESSION_ID_OFFSET);
                if (!live.containsKey(id))
                {
                    survivor.set("record of finished session " + id);
                }
            });
        }
        assertEquals(null, survivor.get(), "seed=" + seed);
        assertEquals(storage.liveSources().size(), sourceFilesOnDisk());
    }

    @Test
    void shouldServeReadsOnAnotherThreadWhileFlushesAndMergesSwapSources() throws Exception
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final int keys = 2000;
        final AtomicLong saved = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread readerThread = new Thread(() ->
        {
            final StorageReader reader = storage.newReader(MAX_PAYLOAD);
            final Random random = new Random(1);
            try
            {
                while (saved.get() < keys)
                {
                    final long upTo = saved.get();
                    if (upTo == 0)
                    {
                        continue;
                    }
                    final long id = 1 + (random.nextLong() & Long.MAX_VALUE) % upTo;
                    final byte[] expected = payload(1, id, 0, (int)(id % 700));
                    final byte[] got = read(reader, 1, id);
                    if (!Arrays.equals(expected, got))
                    {
                        throw new AssertionError("key " + id + " read " + (null == got ? "nothing" : got.length));
                    }
                }
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        });
        readerThread.start();
        for (int i = 1; i <= keys; i++)
        {
            save(storage, 1, i, payload(1, i, 0, i % 700));
            saved.set(i);
            if (i % 97 == 0)
            {
                storage.flush();
            }
            if (i % 301 == 0)
            {
                final SourceFile[] plan = storage.plan(i % 602 == 0, 3, 8 * 1024);
                if (null != plan)
                {
                    storage.merge(plan);
                }
                storage.deleteRetired();
            }
        }
        readerThread.join();
        if (null != failure.get())
        {
            throw new AssertionError(failure.get());
        }
        assertFalse(readerThread.isAlive());
    }

    @Test
    void shouldFlushAFullContainerInlineDuringRecovery() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final int keys = 3000; // 3000 x 2 KiB: more than the 4 MiB container
        for (int i = 1; i <= keys; i++)
        {
            save(storage, 1, i, payload(1, i, 0, 2048));
        }
        assertTrue(storage.flushes() > 0, "the replaying thread flushed");
        assertEveryPayloadOf2KiBReads(storage, keys);
    }

    @Test
    void shouldMakeAnAppendToAFullContainerWaitForTheFlushAgent() throws Exception
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final int keys = 3000;
        final Thread appender = startAppenderUntilTheContainerIsFull(storage, keys, new AtomicReference<>());
        assertEquals(0, storage.flushes());
        while (appender.isAlive())
        {
            storage.flush();
        }
        assertEveryPayloadOf2KiBReads(storage, keys);
    }

    private static void assertEveryPayloadOf2KiBReads(final SavedSessionStorage storage, final int keys)
        throws IOException
    {
        final StorageReader reader = storage.newReader(MAX_PAYLOAD);
        for (int i = 1; i <= keys; i++)
        {
            assertArrayEquals(payload(1, i, 0, 2048), read(reader, 1, i), "key " + i);
        }
    }

    @Test
    void shouldLetAWaitingAppendFlushTheContainerItselfOnceTheFlushIsHandedBack() throws Exception
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final int keys = 3000;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread appender = startAppenderUntilTheContainerIsFull(storage, keys, failure);
        assertEquals(0, storage.flushes(), "the agent that was handed the flush never ran");
        storage.flushOnAppendingThread();
        appender.join(30_000);
        assertFalse(appender.isAlive(), "the waiting append went on");
        assertNull(failure.get());
        assertTrue(storage.flushes() > 0, "the appending thread flushed");
        assertEveryPayloadOf2KiBReads(storage, keys);
    }

    /**
     * With the flush handed to an agent that does not run, saves 2 KiB payloads for keys 1..keys on a new thread,
     * recording what it throws, and returns once that thread waits for a free container page.
     */
    private Thread startAppenderUntilTheContainerIsFull(final SavedSessionStorage storage, final int keys,
        final AtomicReference<Throwable> failure) throws InterruptedException
    {
        storage.handOverFlushToAgent();
        final Thread appender = new Thread(() ->
        {
            try
            {
                for (int i = 1; i <= keys; i++)
                {
                    storage.onSessionSaved(i, 1, i, new UnsafeBuffer(payload(1, i, 0, 2048)), 0, 2048);
                    applied.set(i);
                }
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        }, "appender");
        appender.start();
        awaitContainerWait(storage, appender);
        return appender;
    }

    private static void awaitContainerWait(final SavedSessionStorage storage, final Thread appender)
        throws InterruptedException
    {
        while (storage.container().fullWaits() == 0)
        {
            assertTrue(appender.isAlive(), "the appender ended without filling the container");
            Thread.sleep(1);
        }
        Thread.sleep(50);
        assertTrue(appender.isAlive(), "still waiting for the flush");
    }

    @Test
    void shouldKeepDiskUseWithinTwiceTheLivePayloadsPlusOneContainerUnderChurn() throws IOException
    {
        final SavedSessionStorage storage = open(new long[0], 0);
        final int sessions = 40_000;
        final int window = 1000;
        final long containerBytes = 256 * 1024;
        final byte[] bytes = new byte[1024];
        long worst = 0;
        long worstLive = 0;
        for (int id = 1; id <= sessions; id++)
        {
            save(storage, 1, id, bytes);
            if (id > window)
            {
                complete(storage, 1, id - window);
            }
            if (storage.container().unflushedBytes() >= containerBytes)
            {
                storage.flush();
                SourceFile[] plan;
                while ((plan = storage.plan(false, 4, containerBytes)) != null)
                {
                    storage.merge(plan);
                }
                storage.deleteRetired();
                long used = 0;
                for (final String name : disk.list(DIR))
                {
                    try (DiskFile f = disk.open(DIR.resolve(name), false))
                    {
                        used += f.length();
                    }
                }
                final long live = (long)Math.min(id, window) * StorageRecord.recordLength(1024);
                if (used > worst)
                {
                    worst = used;
                    worstLive = live;
                }
                assertTrue(used <= 2 * live + containerBytes, "after " + id + " sessions: disk " + used +
                    " > 2 x live " + live + " + container " + containerBytes);
            }
        }
        System.out.println("StorageTest churn: " + sessions + " sessions of 1 KiB, " + window + " live; largest disk use " +
            worst + " bytes with live " + worstLive + " (bound " + (2 * worstLive + containerBytes) + ")");
        assertTrue(worst > 0, "payloads reached disk");
    }
}
