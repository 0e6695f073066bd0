package io.reprise.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.ForwardingDiskFile;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.testing.TestSeeds;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class JournalTest
{
    private static final Path DIR = Path.of("/data/journal");
    private static final long SEGMENT = JournalFormat.SEGMENT_HEADER_LENGTH + 2L * JournalFormat.MAX_FRAME_LENGTH + 4096;
    private static final int WRITE_BUFFER = JournalFormat.MAX_FRAME_LENGTH + 64 * 1024;

    private final SimulatedDisk disk = new SimulatedDisk(42);
    private final UnsafeBuffer operator = new UnsafeBuffer(new byte[JournalFormat.MAX_OPERATOR_LENGTH]);

    private Journal open(final long emptyStartIndex) throws IOException
    {
        return Journal.open(disk, DIR, SEGMENT, WRITE_BUFFER, emptyStartIndex);
    }

    private void append(final Journal journal, final long index, final int length) throws IOException
    {
        for (int i = 0; i < length; i++)
        {
            operator.putByte(i, (byte)(index * 31 + i));
        }
        journal.append(index, 1 + index / 1000, 1000 + index, operator, 0, length);
    }

    /** Creates the journal and writes records 1..count, committed. */
    private void writeCommitted(final long count) throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= count; i++)
            {
                append(journal, i, lengthOf(i));
            }
            journal.commit();
        }
    }

    private static int lengthOf(final long index)
    {
        return (int)(17 + (index * 7919) % 3000);
    }

    private List<Long> readAll() throws IOException
    {
        final List<Long> indexes = new ArrayList<>();
        try (JournalReader reader = new JournalReader(disk, DIR))
        {
            JournalReader.Status status;
            while ((status = reader.next()) == JournalReader.Status.RECORD)
            {
                indexes.add(reader.index());
                assertEquals(lengthOf(reader.index()), reader.operatorLength());
                for (int i = 0; i < reader.operatorLength(); i++)
                {
                    assertEquals((byte)(reader.index() * 31 + i), reader.buffer().getByte(reader.operatorOffset() + i));
                }
            }
            assertEquals(JournalReader.Status.END, status, () -> reader.describeProblem());
        }
        return indexes;
    }

    @Test
    void shouldWriteButNotSyncEachCommitWhenFsyncIsSkipped() throws IOException
    {
        final long[] fileSyncs = new long[1];
        final ForwardingDisk countingDisk = new ForwardingDisk(disk)
        {
            public DiskFile open(final Path file, final boolean create) throws IOException
            {
                return new ForwardingDiskFile(disk.open(file, create))
                {
                    public void sync() throws IOException
                    {
                        fileSyncs[0]++;
                        super.sync();
                    }
                };
            }
        };
        countingDisk.createDirectories(DIR);
        try (Journal journal = Journal.open(countingDisk, DIR, SEGMENT, WRITE_BUFFER, 1).skipFsync(true))
        {
            append(journal, 1, lengthOf(1));
            journal.commit(); // starts the first segment, which syncs its header
            final long syncsAfterSegmentStart = fileSyncs[0];
            for (long i = 2; i <= 50; i++)
            {
                append(journal, i, lengthOf(i));
                journal.commit();
                assertEquals(i, journal.durableIndex());
            }
            assertEquals(syncsAfterSegmentStart, fileSyncs[0], "a commit synced");

            journal.skipFsync(false);
            append(journal, 51, lengthOf(51));
            journal.commit();
            assertEquals(syncsAfterSegmentStart + 1, fileSyncs[0]);
        }
        assertEquals(51, readAll().size(), "every record written");
    }

    @Test
    void shouldPeekAheadAtTheOperatorsOfTheNextRecordsInTheBufferWithoutMovingTheReader() throws IOException
    {
        writeCommitted(3000);
        long peeked = 0;
        try (JournalReader reader = new JournalReader(disk, DIR))
        {
            long expectedNext = 1;
            while (reader.next() == JournalReader.Status.RECORD)
            {
                assertEquals(expectedNext++, reader.index(), "peeking moved the reader");
                final long current = reader.index();
                final List<Long> seen = new ArrayList<>();
                final int shown = reader.peekAhead(15, (buffer, offset, length) ->
                {
                    final long index = current + 1 + seen.size();
                    assertEquals(lengthOf(index), length, "length of the operator of " + index);
                    for (int i = 0; i < length; i++)
                    {
                        assertEquals((byte)(index * 31 + i), buffer.getByte(offset + i), "byte " + i + " of " + index);
                    }
                    seen.add(index);
                });
                assertEquals(seen.size(), shown);
                assertTrue(shown <= 15);
                peeked += shown;
            }
            assertEquals(3001, expectedNext);
        }
        assertTrue(peeked > 3000, "peeked " + peeked);
    }

    @Test
    void shouldReadBackEveryCommittedRecordAcrossSegmentsAfterReopen() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 5000; i++)
            {
                append(journal, i, lengthOf(i));
                if (i % 37 == 0)
                {
                    journal.commit();
                }
            }
            journal.commit();
            assertEquals(5000, journal.durableIndex());
            assertTrue(journal.segments().size() > 2, "rolled segments: " + journal.segments());
        }
        assertEquals(5000, readAll().size());
        try (Journal journal = open(1))
        {
            assertEquals(5000, journal.lastIndex());
            assertNull(journal.openReport().truncation);
            append(journal, 5001, lengthOf(5001));
            journal.commit();
        }
        assertEquals(5001, readAll().get(5000));
    }

    @Test
    void shouldTruncateTornTailOnRestartAndKeepEverySyncedRecord() throws IOException
    {
        final long seed = TestSeeds.seed("JournalTest#shouldTruncateTornTailOnRestartAndKeepEverySyncedRecord");
        final Random random = new Random(seed);
        int truncations = 0;
        for (int round = 0; round < 30; round++)
        {
            final SimulatedDisk disk = new SimulatedDisk(random.nextLong());
            disk.createDirectories(DIR);
            long synced;
            try (Journal journal = Journal.open(disk, DIR, SEGMENT, WRITE_BUFFER, 1))
            {
                final int total = 50 + random.nextInt(500);
                for (long i = 1; i <= total; i++)
                {
                    final int length = lengthOf(i);
                    for (int b = 0; b < length; b++)
                    {
                        operator.putByte(b, (byte)(i * 31 + b));
                    }
                    journal.append(i, 1, i, operator, 0, length);
                    if (random.nextInt(20) == 0)
                    {
                        journal.commit();
                    }
                }
                synced = journal.durableIndex();
                // The rest reaches the page cache, then power fails during its sync: a random subset of its
                // sectors survives.
                for (int extra = 0; extra < 1 + random.nextInt(40); extra++)
                {
                    append(journal, journal.lastIndex() + 1, lengthOf(journal.lastIndex() + 1));
                }
                disk.interruptNextSync();
                assertThrows(IOException.class, journal::commit);
            }
            disk.crash();
            try (Journal journal = Journal.open(disk, DIR, SEGMENT, WRITE_BUFFER, 1))
            {
                assertTrue(journal.lastIndex() >= synced, "seed " + seed + " lost synced records: last " +
                    journal.lastIndex() + " < synced " + synced);
                if (null != journal.openReport().truncation)
                {
                    truncations++;
                }
                append(journal, journal.lastIndex() + 1, 5);
                journal.commit();
            }
        }
        assertTrue(truncations > 0, "seed " + seed + ": no crash produced a torn tail");
    }

    @Test
    void shouldTruncateRecordWithUnwrittenSectorAndSayWhere() throws IOException
    {
        disk.createDirectories(DIR);
        final long tornOffset;
        try (Journal journal = open(1))
        {
            append(journal, 1, 100);
            append(journal, 2, 2000);
            journal.commit();
            tornOffset = JournalFormat.SEGMENT_HEADER_LENGTH + JournalFormat.align(JournalFormat.RECORD_OVERHEAD + 100);
        }
        // The second record's last sector never reached the disk.
        final long lastByte = tornOffset + JournalFormat.RECORD_OVERHEAD + 2000 - 1;
        zero(segment(1), lastByte / 512 * 512, 512);
        try (Journal journal = open(1))
        {
            assertEquals(1, journal.lastIndex());
            assertNotNull(journal.openReport().truncation);
            assertTrue(journal.openReport().truncation.contains("offset " + tornOffset),
                journal.openReport().truncation);
            append(journal, 2, 10);
            journal.commit();
        }
        try (JournalReader reader = new JournalReader(disk, DIR))
        {
            assertEquals(JournalReader.Status.RECORD, reader.next());
            assertEquals(JournalReader.Status.RECORD, reader.next());
            assertEquals(10, reader.operatorLength());
            assertEquals(JournalReader.Status.END, reader.next());
        }
    }

    @Test
    void shouldRefuseToStartOnBitFlipInLastRecord() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            append(journal, 1, 100);
            append(journal, 2, 100);
            journal.commit();
        }
        final long second = JournalFormat.SEGMENT_HEADER_LENGTH + JournalFormat.align(JournalFormat.RECORD_OVERHEAD + 100);
        flipBit(segment(1), second + 60);
        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> open(1));
        assertTrue(ex.getMessage().contains(JournalFormat.segmentName(1)) &&
            ex.getMessage().contains("offset " + second), ex.getMessage());
    }

    @Test
    void shouldRefuseToStartOnBitFlipInOldRecord() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 100; i++)
            {
                append(journal, i, 50);
            }
            journal.commit();
        }
        flipBit(segment(1), JournalFormat.SEGMENT_HEADER_LENGTH + 45);
        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> open(1));
        assertTrue(ex.getMessage().contains("offset " + JournalFormat.SEGMENT_HEADER_LENGTH), ex.getMessage());
    }

    /**
     * Regression: a record whose payload holds an all-zero 512-byte sector was taken for a torn write when a bit
     * flipped in it, even far from the end of the journal, and open() then zeroed every committed record after
     * it. A torn record can only belong to the last, unsynced batch, and no batch is larger than the write
     * buffer; written data more than that beyond a bad record proves the record was synced: it is corruption.
     */
    @Test
    void shouldRefuseToStartOnBitFlipInOldRecordWithAZeroSector() throws IOException
    {
        disk.createDirectories(DIR);
        final UnsafeBuffer zeros = new UnsafeBuffer(new byte[2048]);
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 800; i++)
            {
                journal.append(i, 1, i, zeros, 0, zeros.capacity());
                journal.commit();
            }
            assertEquals(List.of(1L), journal.segments(), "one segment: the bad record is in the last one");
        }
        final long fifth = JournalFormat.SEGMENT_HEADER_LENGTH +
            4L * JournalFormat.align(JournalFormat.RECORD_OVERHEAD + zeros.capacity());
        assertTrue(800 * JournalFormat.align(JournalFormat.RECORD_OVERHEAD + zeros.capacity()) - fifth > WRITE_BUFFER,
            "more than one write buffer of committed records follows the flipped one");
        flipBit(segment(1), fifth + JournalFormat.RECORD_OVERHEAD + 100);
        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> open(1));
        assertTrue(ex.getMessage().contains(JournalFormat.segmentName(1)) && ex.getMessage().contains("offset " + fifth),
            ex.getMessage());
        try (JournalReader reader = new JournalReader(disk, DIR))
        {
            int records = 0;
            while (reader.next() == JournalReader.Status.RECORD)
            {
                records++;
            }
            assertEquals(4, records, "nothing after the bad record was zeroed");
        }
        flipBit(segment(1), fifth + JournalFormat.RECORD_OVERHEAD + 100);
        try (Journal journal = open(1))
        {
            assertEquals(800, journal.lastIndex(), "every committed record is still there");
        }
    }

    /**
     * Regression: records written by a process that was killed before its sync sit in the page cache. open()
     * found them valid and called them durable without syncing them, so a restarted node applied (and its
     * snapshot agent could snapshot) records that a power failure then erased.
     */
    @Test
    void shouldSyncTheRecordsItFindsBeforeCallingThemDurable() throws IOException
    {
        disk.createDirectories(DIR);
        final Journal killed = open(1);
        for (long i = 1; i <= 10; i++)
        {
            append(killed, i, lengthOf(i));
        }
        killed.commit();
        for (long i = 11; i <= 20; i++)
        {
            append(killed, i, lengthOf(i));
        }
        disk.interruptNextSync();
        assertThrows(IOException.class, killed::commit);
        // The process dies here: its writes stay in the page cache, nothing synced them.
        final long durable;
        try (Journal restarted = open(1))
        {
            assertEquals(20, restarted.lastIndex());
            durable = restarted.durableIndex();
        }
        disk.crash();
        try (Journal afterPowerLoss = open(1))
        {
            assertTrue(afterPowerLoss.lastIndex() >= durable, "durable index " + durable + " but only " +
                afterPowerLoss.lastIndex() + " survived a power failure");
        }
    }

    @Test
    void shouldRefuseToStartWhenASegmentIsMissing() throws IOException
    {
        disk.createDirectories(DIR);
        final List<Long> segments;
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 5000; i++)
            {
                append(journal, i, lengthOf(i));
            }
            journal.commit();
            segments = new ArrayList<>(journal.segments());
        }
        assertTrue(segments.size() >= 3, segments.toString());
        disk.delete(segment(segments.get(1)));
        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> open(1));
        assertTrue(ex.getMessage().contains("missing records"), ex.getMessage());
    }

    @Test
    void shouldTruncateUncommittedSuffix() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 5000; i++)
            {
                append(journal, i, lengthOf(i));
            }
            journal.commit();
            journal.truncateAfter(700);
            assertEquals(700, journal.lastIndex());
            append(journal, 701, lengthOf(701));
            journal.commit();
        }
        final List<Long> indexes = readAll();
        assertEquals(701, indexes.size());
        assertEquals(701, indexes.get(700));
    }

    @Test
    void shouldLoseNothingWhenSyncFailsAndRetrySucceeds() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            append(journal, 1, 100);
            journal.commit();
            append(journal, 2, 100);
            append(journal, 3, 100);
            disk.failSyncs(1);
            assertThrows(IOException.class, journal::commit);
            assertEquals(1, journal.durableIndex());
            journal.commit();
            assertEquals(3, journal.durableIndex());
        }
        disk.crash();
        try (Journal journal = open(1))
        {
            assertEquals(3, journal.lastIndex());
        }
    }

    @Test
    void shouldRefuseWritesWhileDiskIsFullAndRecoverAfter() throws IOException
    {
        disk.createDirectories(DIR);
        disk.capacityBytes(SEGMENT + 100);
        try (Journal journal = open(1))
        {
            long index = 1;
            IOException full = null;
            while (full == null)
            {
                try
                {
                    append(journal, index, lengthOf(index));
                    index++;
                }
                catch (final IOException ex)
                {
                    full = ex;
                }
            }
            assertTrue(full.getMessage().contains("No space"), full.getMessage());
            final long durable = journal.durableIndex();
            disk.capacityBytes(Long.MAX_VALUE);
            append(journal, index, lengthOf(index));
            journal.commit();
            assertEquals(index, journal.durableIndex());
            assertTrue(durable < index);
        }
        disk.crash();
        assertEquals(readAll().size(), readAll().get(readAll().size() - 1).intValue());
    }

    @Test
    void shouldDeleteOnlySegmentsWhollyBeforeIndex() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 5000; i++)
            {
                append(journal, i, lengthOf(i));
            }
            journal.commit();
            final List<Long> before = new ArrayList<>(journal.segments());
            final int deleted = Journal.deleteSegmentsBefore(disk, DIR, before.get(2));
            assertEquals(2, deleted);
            assertEquals(before.get(2), journal.segments().get(0));
            assertEquals(0, Journal.deleteSegmentsBefore(disk, DIR, Long.MAX_VALUE - 1) - (before.size() - 3));
        }
        try (Journal journal = Journal.open(disk, DIR, SEGMENT, WRITE_BUFFER, 4900))
        {
            assertEquals(5000, journal.lastIndex());
        }
    }

    private Path segment(final long firstIndex)
    {
        return DIR.resolve(JournalFormat.segmentName(firstIndex));
    }

    private void zero(final Path file, final long offset, final int length) throws IOException
    {
        try (DiskFile f = disk.open(file, false))
        {
            f.write(ByteBuffer.allocate(length), offset);
            f.sync();
        }
    }

    private void flipBit(final Path file, final long offset) throws IOException
    {
        try (DiskFile f = disk.open(file, false))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            f.read(one, offset);
            one.put(0, (byte)(one.get(0) ^ 0x10)).clear();
            f.write(one, offset);
            f.sync();
        }
    }

    /**
     * A commit whose write landed elsewhere in the segment (a misdirected write) leaves zeros where its records belong:
     * that reads as the journal's end, as a torn last batch does. The records it synced are found further on, chained
     * to the last record before the end, so start-up refuses instead of truncating what was answered.
     */
    @Test
    void shouldRefuseToStartWhenASyncedBatchLandedInTheWrongPlace() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            append(journal, 1, 100);
            append(journal, 2, 100);
            journal.commit();
            append(journal, 3, 100);
            append(journal, 4, 100);
            journal.commit();
        }
        final long third = JournalFormat.SEGMENT_HEADER_LENGTH + 2L * JournalFormat.align(JournalFormat.RECORD_OVERHEAD + 100);
        final int batch = 2 * JournalFormat.align(JournalFormat.RECORD_OVERHEAD + 100);
        final ByteBuffer records = ByteBuffer.allocate(batch);
        try (DiskFile f = disk.open(segment(1), false))
        {
            f.read(records, third);
            records.flip();
            f.write(records, third + 4096);
            f.write(ByteBuffer.allocate(batch), third);
            f.sync();
        }
        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> open(1));
        assertTrue(ex.getMessage().contains("record 3, which belongs here, is at offset " + (third + 4096)),
            ex.getMessage());
    }

    @Test
    void shouldStillTruncateATornLastBatchWhoseFirstRecordIsLost() throws IOException
    {
        disk.createDirectories(DIR);
        try (Journal journal = open(1))
        {
            append(journal, 1, 100);
            journal.commit();
            append(journal, 2, 1000);
            append(journal, 3, 1000);
            journal.commit();
        }
        // The last batch torn: its first record's sectors lost, the second kept whole.
        final long second = JournalFormat.SEGMENT_HEADER_LENGTH + JournalFormat.align(JournalFormat.RECORD_OVERHEAD + 100);
        zero(segment(1), second, 1000);
        try (Journal journal = open(1))
        {
            assertEquals(1, journal.lastIndex());
        }
    }

    @Test
    void shouldKeepWritingAnExistingSegmentWithItsOwnLengthWhenTheSettingChanges() throws IOException
    {
        writeCommitted(100);
        for (final long other : new long[] {SEGMENT * 2, SEGMENT - 4096})
        {
            try (Journal journal = Journal.open(disk, DIR, other, WRITE_BUFFER, 1))
            {
                final long next = journal.lastIndex() + 1;
                for (long i = next; i < next + 2000; i++)
                {
                    append(journal, i, lengthOf(i));
                }
                journal.commit();
            }
        }
        final List<Long> indexes = readAll();
        assertEquals(4100, indexes.size());
        assertEquals(4100, indexes.get(4099));
    }

    @Test
    void shouldTruncateToTheEndOfASegmentAndKeepItsLastTerm() throws IOException
    {
        disk.createDirectories(DIR);
        final long secondSegment;
        try (Journal journal = open(1))
        {
            for (long i = 1; i <= 5000; i++)
            {
                append(journal, i, lengthOf(i));
            }
            journal.commit();
            secondSegment = journal.segments().get(1);
            final long index = secondSegment - 1;
            journal.truncateAfter(index);
            assertEquals(index, journal.lastIndex());
            assertEquals(1 + index / 1000, journal.lastTerm(), "term of the last remaining record");
            append(journal, index + 1, lengthOf(index + 1));
            journal.commit();
        }
        assertEquals(secondSegment, readAll().size());
    }

    @Test
    void shouldRefuseAnEmptyJournalWhenTheStateNeedsEntriesAfterASnapshot() throws IOException
    {
        disk.createDirectories(DIR);
        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> open(101));
        assertTrue(ex.getMessage().contains("index 100"), ex.getMessage());
    }
}
