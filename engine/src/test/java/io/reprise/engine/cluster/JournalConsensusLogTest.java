package io.reprise.engine.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalFormat;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The consensus log a leader sends from: the newest entries from memory, older ones from the journal's files, and
 * nothing it no longer holds. A follower behind a log rotation must be told so (then it takes a full install), not
 * be sent an empty batch forever.
 */
class JournalConsensusLogTest
{
    private static final Path DIRECTORY = Path.of("/log");
    private static final long SEGMENT_LENGTH = JournalFormat.SEGMENT_HEADER_LENGTH + 2L * JournalFormat.MAX_FRAME_LENGTH;
    private static final int OPERATOR_BYTES = 64 * 1024;
    private static final int ENTRIES = 100;
    private static final int RECENT_BYTES = 4 * OPERATOR_BYTES;

    private final SimulatedDisk disk = new SimulatedDisk(1);

    /** Entries 1..100 of 64 KiB, term 1 to index 50 and term 2 after, each operator filled with its index. */
    private JournalConsensusLog written() throws Exception
    {
        final Journal journal = Journal.open(disk, DIRECTORY, SEGMENT_LENGTH,
            JournalFormat.MAX_FRAME_LENGTH + JournalFormat.ALIGNMENT, 1);
        final JournalConsensusLog log = new JournalConsensusLog(disk, journal, 0, 0, RECENT_BYTES);
        final UnsafeBuffer operator = new UnsafeBuffer(new byte[OPERATOR_BYTES]);
        for (int index = 1; index <= ENTRIES; index++)
        {
            operator.setMemory(0, OPERATOR_BYTES, (byte)index);
            log.append(index, index <= 50 ? 1 : 2, 1000L + index, operator, 0, OPERATOR_BYTES);
            log.sync();
        }
        assertTrue(journal.segments().size() >= 3, "the entries span several segments: " + journal.segments());
        return log;
    }

    /** Reads from {@code from} to the end as a leader sends: batch after batch; returns the indexes read. */
    private static List<Long> readFrom(final JournalConsensusLog log, final long from) throws Exception
    {
        final List<Long> indexes = new ArrayList<>();
        long next = from;
        int count;
        do
        {
            final long batchFrom = next;
            count = log.read(batchFrom, ENTRIES, 256 * 1024, (index, term, timestampMs, operator, offset, length) ->
            {
                assertEquals(batchFrom + indexes.size() - (batchFrom - from), index, "in order, none skipped");
                assertEquals(index <= 50 ? 1 : 2, term, "term of " + index);
                assertEquals(1000L + index, timestampMs);
                assertEquals(OPERATOR_BYTES, length);
                assertEquals((byte)index, operator.getByte(offset), "first byte of " + index);
                assertEquals((byte)index, operator.getByte(offset + length - 1), "last byte of " + index);
                indexes.add(index);
            });
            next += count;
        }
        while (count > 0 && next <= ENTRIES);
        return indexes;
    }

    @Test
    void sendsTheNewestEntriesFromMemoryAndOlderOnesFromTheJournal() throws Exception
    {
        try (JournalConsensusLog log = written())
        {
            assertEquals(ENTRIES, readFrom(log, 1).size(), "every entry, most of them read from the files");
            assertEquals(ENTRIES - 97 + 1, readFrom(log, 97).size(), "the newest, from memory");
            assertEquals(2, log.lastTerm());
            assertEquals(1, log.termAt(50));
            assertEquals(2, log.termAt(51));
            assertEquals(51, log.termStart(99), "a refusal's hint skips the whole term");
            assertTrue(log.holds(1));
        }
    }

    /**
     * The snapshot agent rotates segments away while a leader reads the journal for a follower far behind: the
     * reader stops where its files end, and the next read finds nothing held there (multi-process: a leader failed
     * with NoSuchFileException opening its next segment).
     */
    @Test
    void aRotationWhileTheJournalIsReadEndsTheReadInsteadOfFailing() throws Exception
    {
        try (JournalConsensusLog log = written())
        {
            final List<Long> read = new ArrayList<>();
            final int first = log.read(1, ENTRIES, OPERATOR_BYTES, (index, term, timestampMs, operator, offset,
                length) -> read.add(index));
            assertEquals(1, first, "one entry per read at this size: the reader stays open in the first segment");
            final int deleted = Journal.deleteSegmentsBefore(disk, DIRECTORY, 80);
            assertTrue(deleted > 1, "the segments after the reader's went too: " + deleted);

            int more;
            long next = 2;
            while ((more = log.read(next, ENTRIES, OPERATOR_BYTES, (index, term, timestampMs, operator, offset,
                length) -> read.add(index))) > 0)
            {
                next += more;
            }
            for (int i = 0; i < read.size(); i++)
            {
                assertEquals(i + 1, read.get(i), "in order, none skipped, until the read stops");
            }
            assertFalse(log.holds(next), "entry " + next + " rotated away: the follower needs an install");
        }
    }

    /**
     * Two followers far behind at once, sent batch after batch in turns: each reads on with its own reader, so the
     * journal's files are read once each, not from a segment's start at every turn (multi-process: a leader that
     * started a reader for every batch of two catch-ups fell so far behind its heartbeats that it lost leadership
     * again and again, and the follower never caught up).
     */
    @Test
    void twoFollowersBehindAtOnceEachReadOnWhereTheirLastBatchEnded() throws Exception
    {
        try (JournalConsensusLog log = written())
        {
            final long[] next = {1, 20};
            final List<List<Long>> read = List.of(new ArrayList<>(), new ArrayList<>());
            boolean more = true;
            while (more)
            {
                more = false;
                for (int f = 0; f < 2; f++)
                {
                    final List<Long> into = read.get(f);
                    final int count = log.read(next[f], 90, 2 * OPERATOR_BYTES,
                        (index, term, timestampMs, operator, offset, length) -> into.add(index));
                    next[f] += count;
                    more |= count > 0;
                }
            }
            assertEquals(90, read.get(0).size(), "follower 0: 1..90");
            assertEquals(71, read.get(1).size(), "follower 1: 20..90");
            assertEquals(2, log.journalReopens(), "one reader started for each follower");
        }
    }

    /** A rotation after the log said it held an entry: the read finds it gone, sends nothing, and the log says so. */
    @Test
    void anEntryRotatedAwaySinceTheLastListingIsNotSentAndThenNotHeld() throws Exception
    {
        try (JournalConsensusLog log = written())
        {
            assertTrue(log.holds(2), "listed: held");
            Journal.deleteSegmentsBefore(disk, DIRECTORY, 80);
            assertEquals(0, log.read(2, ENTRIES, 256 * 1024, (index, term, timestampMs, operator, offset, length) ->
            {
                throw new AssertionError("entry " + index + " read where entry 2 was asked for");
            }), "nothing sent from a deleted segment");
            assertFalse(log.holds(2), "listed again after the read found it gone");
        }
    }

    @Test
    void entriesARotationDeletedAreNotHeldAndNotSent() throws Exception
    {
        try (JournalConsensusLog log = written())
        {
            final List<Long> segments = Journal.listSegments(disk, DIRECTORY);
            final int deleted = Journal.deleteSegmentsBefore(disk, DIRECTORY, 80);
            assertTrue(deleted > 0, "a snapshot at 79 let segments go");
            final long firstHeld = Journal.listSegments(disk, DIRECTORY).get(0);
            assertTrue(firstHeld > 1 && firstHeld <= 80, "first held " + firstHeld + " of " + segments);

            assertFalse(log.holds(1), "rotated away");
            assertFalse(log.holds(firstHeld - 1), "rotated away");
            assertTrue(log.holds(firstHeld));
            assertEquals(0, log.read(1, ENTRIES, 256 * 1024, (index, term, timestampMs, operator, offset, length) ->
            {
                throw new AssertionError("entry " + index + " read where entry 1 was asked for");
            }), "nothing to send from a deleted segment");
            assertEquals(firstHeld - 1 <= 50 ? 1 : 2, log.termAt(firstHeld - 1),
                "the term before the first held entry is still known");
            assertEquals(ENTRIES - firstHeld + 1, readFrom(log, firstHeld).size(), "the rest is sent as before");
        }
    }
}
