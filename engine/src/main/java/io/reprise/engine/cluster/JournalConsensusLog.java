package io.reprise.engine.cluster;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalCorruptException;
import io.reprise.engine.journal.JournalReader;
import org.agrona.DirectBuffer;

/**
 * A member's log for consensus: its {@link Journal}, the terms of its entries, and the newest entries kept in memory
 * for sending.
 * <p>
 * Terms are kept as runs (the first index of each term), which is all log matching asks for: a term lasts many
 * entries. Entries the leader sends are nearly always recent: they come from an in-memory window of the newest
 * entries appended; only a follower far behind is read from the journal's files.
 */
public final class JournalConsensusLog implements ConsensusLog, AutoCloseable
{
    private static final int JOURNAL_CURSORS = 4;

    private final Disk disk;
    private final Journal journal;
    private final long baseIndex;
    private final long baseTerm;
    /** The last entry known: a follower's appended, or the last the leader's ring carried (it may not be written yet). */
    private long lastIndex;
    private LongSupplier inRingThrough = () -> Long.MIN_VALUE;
    private BooleanSupplier writable = () -> true;

    // Term runs: runTerm[i] starts at runStart[i] and lasts until the next run.
    private long[] runStart = new long[16];
    private long[] runTerm = new long[16];
    private int runs;

    // The newest entries, for sending: entry recentFirst + i is entry i of `recent`.
    private final int recentCapacityBytes;
    private final EntryBuffer recent;
    private long recentFirst;

    /**
     * Readers of the journal's files for followers far behind, kept between calls so that each follower's catch-up
     * reads on where the last batch ended; more than one, so that two followers behind at once do not take turns
     * with one reader (each turn a new start, which reads its segment from the beginning).
     */
    private final JournalCursor[] cursors = new JournalCursor[JOURNAL_CURSORS];
    private long cursorUses;
    private long journalReopens;
    /** The first index of the journal's oldest segment as last listed; -1: list it again. */
    private long oldestSegment = -1;

    /**
     * @param baseIndex           the index of the snapshot the log follows (0 for none).
     * @param baseTerm            that snapshot's term.
     * @param recentCapacityBytes operators kept in memory for sending.
     */
    public JournalConsensusLog(
        final Disk disk,
        final Journal journal,
        final long baseIndex,
        final long baseTerm,
        final int recentCapacityBytes) throws IOException
    {
        this.disk = disk;
        this.journal = journal;
        this.baseIndex = baseIndex;
        this.baseTerm = baseTerm;
        this.recentCapacityBytes = recentCapacityBytes;
        this.recent = new EntryBuffer(Math.max(1024, recentCapacityBytes));
        for (int i = 0; i < cursors.length; i++)
        {
            cursors[i] = new JournalCursor();
        }
        loadTermRuns();
        lastIndex = Math.max(journal.lastIndex(), baseIndex);
        recentFirst = lastIndex + 1;
    }

    /**
     * Entries up to this index are in the node's ring already; overriding one of them would mean unpublishing it,
     * which the ring cannot do, so such a truncation fails the node (which then restarts from its disk).
     */
    public JournalConsensusLog inRingThrough(final LongSupplier inRingThrough)
    {
        this.inRingThrough = inRingThrough;
        return this;
    }

    /** The journal is this log's to write only while {@code writable} says so (see {@link ConsensusLog#writable}). */
    public JournalConsensusLog writableWhen(final BooleanSupplier writable)
    {
        this.writable = writable;
        return this;
    }

    public boolean writable()
    {
        return writable.getAsBoolean();
    }

    private void loadTermRuns() throws IOException
    {
        if (journal.lastIndex() <= baseIndex)
        {
            return;
        }
        try (JournalReader reader = new JournalReader(disk, journal.directory()))
        {
            reader.from(baseIndex + 1);
            JournalReader.Status status;
            while ((status = reader.next()) == JournalReader.Status.RECORD)
            {
                if (reader.index() > baseIndex)
                {
                    noteTerm(reader.index(), reader.term());
                }
            }
            if (status == JournalReader.Status.CORRUPT)
            {
                throw new JournalCorruptException(reader.describeProblem());
            }
        }
    }

    private void noteTerm(final long index, final long term)
    {
        if (runs > 0 && runTerm[runs - 1] == term)
        {
            return;
        }
        if (runs == runStart.length)
        {
            runStart = Arrays.copyOf(runStart, runs * 2);
            runTerm = Arrays.copyOf(runTerm, runs * 2);
        }
        runStart[runs] = index;
        runTerm[runs] = term;
        runs++;
    }

    /** The run holding {@code index}, which must lie after the base and at or below the last index. */
    private int runOf(final long index)
    {
        int low = 0;
        int high = runs - 1;
        while (low < high)
        {
            final int mid = (low + high + 1) >>> 1;
            if (runStart[mid] <= index)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }
        return low;
    }

    public long baseIndex()
    {
        return baseIndex;
    }

    public long lastIndex()
    {
        return lastIndex;
    }

    public long lastTerm()
    {
        return termAt(lastIndex());
    }

    public long termAt(final long index)
    {
        if (index == baseIndex)
        {
            return baseTerm;
        }
        if (index < baseIndex || index > lastIndex || runs == 0)
        {
            return -1;
        }
        return runTerm[runOf(index)];
    }

    public long termStart(final long index)
    {
        if (index <= baseIndex || index > lastIndex || runs == 0)
        {
            return baseIndex + 1;
        }
        return runStart[runOf(index)];
    }

    public boolean holds(final long index)
    {
        if (index <= baseIndex || index > lastIndex + 1)
        {
            return false;
        }
        if (index >= recentFirst && index <= recentFirst + recent.count())
        {
            return true;
        }
        // Rare: a follower far behind. The journal's oldest segment says what a rotation left. It is listed again once
        // a read finds the entries gone: until then a rotation since may make this say true once too often, and that
        // read sends nothing.
        if (oldestSegment < 0)
        {
            try
            {
                final List<Long> segments = journal.segments();
                oldestSegment = segments.isEmpty() ? -1 : segments.get(0);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
        return oldestSegment >= 0 && oldestSegment <= index;
    }

    public long durableIndex()
    {
        return Math.max(journal.durableIndex(), baseIndex);
    }

    public void append(
        final long index, final long term, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length) throws IOException
    {
        if (index <= inRingThrough.getAsLong() || journal.lastIndex() != lastIndex)
        {
            // The ring holds an entry at this index, or one the journal stage has not written yet: both were this
            // node's own as a leader, and now another leader's entry goes there.
            throw new RestartRequired("entry " + index + " of another leader where this node's ring holds entries " +
                "through " + inRingThrough.getAsLong() + " (journal at " + journal.lastIndex() + "): the node " +
                "restarts from its disk");
        }
        journal.append(index, term, timestampMs, operator, offset, length);
        noteEntry(index, term, timestampMs, operator, offset, length);
    }

    /**
     * The leader's entry as its ring carries it, which the journal stage writes beside this: known from now on, and
     * kept for sending.
     */
    public void noteEntry(
        final long index, final long term, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length)
    {
        if (index != lastIndex + 1)
        {
            throw new IllegalStateException("log order broken: entry " + index + " after " + lastIndex);
        }
        noteTerm(index, term);
        remember(index, term, timestampMs, operator, offset, length);
        lastIndex = index;
    }

    public void truncateAfter(final long index) throws IOException
    {
        if (index >= lastIndex)
        {
            return;
        }
        if (index < inRingThrough.getAsLong())
        {
            throw new RestartRequired("entries after " + index + " are overridden by the leader but already " +
                "in the ring (through " + inRingThrough.getAsLong() + "): the node restarts from its disk");
        }
        forgetCursors();
        journal.truncateAfter(index);
        lastIndex = index;
        while (runs > 0 && runStart[runs - 1] > index)
        {
            runs--;
        }
        if (index < recentFirst)
        {
            recentFirst = index + 1;
            recent.clear();
        }
        else
        {
            recent.truncate((int)Math.min(Integer.MAX_VALUE, index - recentFirst + 1));
        }
    }

    public void sync() throws IOException
    {
        journal.commit();
    }

    public int read(final long fromIndex, final long toIndex, final int maxBytes, final EntryVisitor visitor)
        throws IOException
    {
        final long last = Math.min(toIndex, lastIndex);
        if (fromIndex <= baseIndex || fromIndex > last)
        {
            return 0;
        }
        if (fromIndex >= recentFirst)
        {
            int count = 0;
            int bytes = 0;
            for (long index = fromIndex; index <= last; index++)
            {
                final int i = (int)(index - recentFirst);
                if (count > 0 && bytes + recent.length(i) > maxBytes)
                {
                    break;
                }
                visitor.onEntry(index, recent.term(i), recent.timestampMs(i), recent.operators(), recent.offset(i),
                    recent.length(i));
                bytes += recent.length(i);
                count++;
            }
            return count;
        }
        // Only what is synced is surely in the files (the journal stage may hold the rest in its buffer).
        return readJournal(fromIndex, Math.min(Math.min(last, recentFirst - 1), journal.durableIndex()), maxBytes,
            visitor);
    }

    /**
     * A follower far behind: its entries come from the journal's files (only what is written there), through the
     * cursor that stands where they start, or the one used least recently, started again there.
     */
    private int readJournal(final long fromIndex, final long last, final int maxBytes, final EntryVisitor visitor)
        throws IOException
    {
        final JournalCursor cursor = cursorAt(fromIndex);
        final JournalReader reader = cursor.reader;
        int count = 0;
        int bytes = 0;
        while (fromIndex + count <= last)
        {
            if (!cursor.hasRecord)
            {
                if (cursor.atEnd)
                {
                    // It reached what the journal stage had written: look again.
                    reader.refresh();
                    cursor.atEnd = false;
                }
                JournalReader.Status status;
                try
                {
                    status = reader.next();
                }
                catch (final NoSuchFileException ex)
                {
                    // The snapshot agent rotated the segment away between the listing and its opening.
                    cursor.forget();
                    oldestSegment = -1;
                    break;
                }
                if (status == JournalReader.Status.END || status == JournalReader.Status.TORN)
                {
                    // The end of what is written, or a record being written: the reader stays where it is.
                    cursor.atEnd = true;
                    break;
                }
                if (status != JournalReader.Status.RECORD)
                {
                    cursor.forget();
                    break;
                }
                if (reader.index() < fromIndex + count)
                {
                    continue;
                }
                if (reader.index() > fromIndex + count)
                {
                    // Not held any more (a rotation deleted it): nothing from here on can be read in order.
                    cursor.forget();
                    oldestSegment = -1;
                    break;
                }
                cursor.hasRecord = true;
            }
            if (count > 0 && bytes + reader.operatorLength() > maxBytes)
            {
                break;
            }
            visitor.onEntry(reader.index(), reader.term(), reader.timestampMs(), reader.buffer(),
                reader.operatorOffset(), reader.operatorLength());
            cursor.hasRecord = false;
            bytes += reader.operatorLength();
            count++;
        }
        if (cursor.next != JournalCursor.NOWHERE)
        {
            cursor.next = fromIndex + count;
        }
        return count;
    }

    /** The cursor that reads {@code fromIndex} next, or the least recently used one started again there. */
    private JournalCursor cursorAt(final long fromIndex) throws IOException
    {
        JournalCursor leastRecent = cursors[0];
        for (final JournalCursor cursor : cursors)
        {
            if (cursor.next == fromIndex)
            {
                cursor.usedAt = ++cursorUses;
                return cursor;
            }
            if (cursor.usedAt < leastRecent.usedAt)
            {
                leastRecent = cursor;
            }
        }
        if (null == leastRecent.reader)
        {
            leastRecent.reader = new JournalReader(disk, journal.directory()).from(fromIndex);
        }
        else
        {
            leastRecent.reader.reopen(fromIndex);
        }
        final List<Long> segments = leastRecent.reader.segments();
        oldestSegment = segments.isEmpty() ? -1 : segments.get(0);
        leastRecent.next = fromIndex;
        leastRecent.hasRecord = false;
        leastRecent.atEnd = false;
        leastRecent.usedAt = ++cursorUses;
        journalReopens++;
        return leastRecent;
    }

    /** How many times a read of the journal's files had to start a reader afresh: for tests and diagnostics. */
    public long journalReopens()
    {
        return journalReopens;
    }

    private void forgetCursors() throws IOException
    {
        for (final JournalCursor cursor : cursors)
        {
            cursor.forget();
        }
    }

    /** A reader of the journal's files, and the index it reads next (or holds, read but not yet sent). */
    private static final class JournalCursor
    {
        static final long NOWHERE = -1;

        JournalReader reader;
        long next = NOWHERE;
        boolean hasRecord;
        /** It found the end of what was written: it looks again before it reads on. */
        boolean atEnd;
        long usedAt;

        /** Nothing more is read from where it stands; its reader (and buffers) are kept for the next start. */
        void forget() throws IOException
        {
            next = NOWHERE;
            hasRecord = false;
            atEnd = false;
            if (null != reader)
            {
                reader.close();
            }
        }
    }

    /** Keeps the entry in the window of newest entries; a full window drops its older half. */
    private void remember(
        final long index, final long term, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length)
    {
        if (index != recentFirst + recent.count())
        {
            recentFirst = index;
            recent.clear();
        }
        if (recent.bytes() + length > recentCapacityBytes)
        {
            final int drop = Math.max(1, recent.count() / 2);
            recent.dropFirst(drop);
            recentFirst += drop;
            if (recent.count() == 0)
            {
                recentFirst = index;
            }
        }
        recent.add(term, timestampMs, operator, offset, length);
    }

    /** Releases the readers of the journal's files; the journal itself is its owner's to close. */
    public void close() throws IOException
    {
        forgetCursors();
    }
}
