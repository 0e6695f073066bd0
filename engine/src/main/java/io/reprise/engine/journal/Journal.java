package io.reprise.engine.journal;

import static io.reprise.engine.journal.JournalFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.schema.log.LogEntryHeaderEncoder;
import io.reprise.schema.log.MessageHeaderEncoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The operation log (docs/logs.md): appends records to preallocated segment files and makes them durable with
 * one sync per batch (group commit).
 * <p>
 * {@link #append} only copies the record into the write buffer; {@link #commit()} writes what is buffered and
 * syncs it. Everything since the last successful sync stays in the buffer, so a failed write or sync (full disk,
 * EIO) loses nothing: the next {@link #commit()} writes the same bytes again, which is also the only safe answer
 * to a failed fsync (the kernel may have dropped the dirty pages). {@link #durableIndex()} is the last index
 * known to be on disk.
 * <p>
 * {@link #open} scans the whole journal: a torn tail is truncated back to the last valid record; corruption of
 * written data stops start-up with a {@link JournalCorruptException} that names the file and offset.
 * <p>
 * Single-threaded: owned by the journal handler.
 */
public final class Journal implements AutoCloseable
{
    /** What {@link #open} found and did. */
    public static final class OpenReport
    {
        public final long records;
        public final String truncation;

        OpenReport(final long records, final String truncation)
        {
            this.records = records;
            this.truncation = truncation;
        }
    }

    private final Disk disk;
    private final Path directory;
    /** Length of segments this journal creates. */
    private final long segmentLength;
    /** Length of the segment being written, from its header: an older segment keeps the length it was made with. */
    private long currentSegmentLength;
    private final ByteBuffer writeBuffer;
    private final UnsafeBuffer writeView;
    private final ByteBuffer seed = ByteBuffer.allocateDirect(4);
    private final ByteBuffer headerBuffer =
        ByteBuffer.allocateDirect(SEGMENT_HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private final MessageHeaderEncoder messageHeader = new MessageHeaderEncoder();
    private final LogEntryHeaderEncoder entryHeader = new LogEntryHeaderEncoder();
    private OpenReport openReport;

    private DiskFile segment;
    private long segmentFirstIndex;
    /** File offset where the write buffer's first byte goes: everything before it is synced. */
    private long syncedOffset;
    private int buffered;
    private long lastIndex;
    private long lastTerm;
    private int lastChecksum;
    /** Volatile: a leader's consensus reads what the journal stage made durable (one write per commit). */
    private volatile long durableIndex;
    private boolean segmentPending;
    private boolean skipFsync;

    private boolean acceptTornRecords;

    private Journal(final Disk disk, final Path directory, final long segmentLength, final int writeBufferBytes)
    {
        if (segmentLength < SEGMENT_HEADER_LENGTH + 2L * MAX_FRAME_LENGTH || segmentLength > (1L << 40))
        {
            throw new IllegalArgumentException("segmentLength out of range: " + segmentLength);
        }
        if (writeBufferBytes < MAX_FRAME_LENGTH + ALIGNMENT)
        {
            throw new IllegalArgumentException("writeBufferBytes below one maximal record: " + writeBufferBytes);
        }
        this.disk = disk;
        this.directory = directory;
        this.segmentLength = segmentLength;
        writeBuffer = ByteBuffer.allocateDirect(writeBufferBytes).order(ByteOrder.LITTLE_ENDIAN);
        writeView = new UnsafeBuffer(writeBuffer);
    }

    /**
     * Opens (or creates) the journal in {@code directory}: validates every record, truncates a torn tail, and
     * positions for appending after the last valid record.
     *
     * @param emptyStartIndex index the first record must have when the journal holds none (snapshot index + 1).
     * @throws JournalCorruptException when written data does not validate.
     */
    public static Journal open(
        final Disk disk,
        final Path directory,
        final long segmentLength,
        final int writeBufferBytes,
        final long emptyStartIndex) throws IOException
    {
        return open(disk, directory, segmentLength, writeBufferBytes, emptyStartIndex, false);
    }

    /** @param acceptTornRecords a planted bug for the simulator only ({@code PlantedBug.SKIP_TORN_CHECK}). */
    public static Journal open(
        final Disk disk,
        final Path directory,
        final long segmentLength,
        final int writeBufferBytes,
        final long emptyStartIndex,
        final boolean acceptTornRecords) throws IOException
    {
        disk.createDirectories(directory);
        final Journal journal = new Journal(disk, directory, segmentLength, writeBufferBytes);
        journal.acceptTornRecords = acceptTornRecords;
        journal.recover(emptyStartIndex);
        return journal;
    }

    private void recover(final long emptyStartIndex) throws IOException
    {
        String truncation = null;
        long records = 0;
        long tailSegment = -1;
        long tailOffset = SEGMENT_HEADER_LENGTH;
        try (JournalReader reader =
            new JournalReader(disk, directory).endOnlyWithinTheLastBatch(writeBuffer.capacity())
                .acceptTornRecords(acceptTornRecords))
        {
            final List<Long> segments = reader.segments();
            if (!segments.isEmpty() && segments.get(0) > emptyStartIndex)
            {
                throw new JournalCorruptException("missing segment: entries from " + emptyStartIndex +
                    " are needed but the first segment starts at " + segments.get(0));
            }
            while (true)
            {
                final JournalReader.Status status = reader.next();
                if (status == JournalReader.Status.RECORD)
                {
                    records++;
                    lastIndex = reader.index();
                    lastTerm = reader.term();
                    lastChecksum = reader.checksum();
                    continue;
                }
                if (status == JournalReader.Status.CORRUPT)
                {
                    throw new JournalCorruptException(reader.describeProblem());
                }
                if (status == JournalReader.Status.TORN && reader.problemOffset() == 0)
                {
                    // A segment that never got its header: the crash came while creating it. Drop it, start over.
                    disk.delete(reader.problemFile());
                    disk.syncDirectory(directory);
                    recover(emptyStartIndex);
                    openReport = new OpenReport(openReport.records, "deleted blank last segment " +
                        reader.problemFile());
                    return;
                }
                tailSegment = segments.isEmpty() ? -1 : reader.segmentFirstIndex();
                if (status == JournalReader.Status.TORN)
                {
                    truncation = "truncated torn tail: " + reader.describeProblem();
                    tailOffset = reader.problemOffset();
                }
                else
                {
                    tailOffset = reader.endOffset();
                }
                break;
            }
        }

        if (tailSegment >= 0 && records == 0)
        {
            lastIndex = tailSegment - 1;
            lastChecksum = readHeader(tailSegment).getInt(OFFSET_SEED_CHECKSUM);
        }
        if (tailSegment < 0)
        {
            if (emptyStartIndex > 1)
            {
                // Rotation never deletes the last segment: a snapshot with no journal means the journal was lost.
                throw new JournalCorruptException("no journal segment in " + directory + " but the state was restored" +
                    " to index " + (emptyStartIndex - 1) + ": the segments after it are missing");
            }
            lastIndex = emptyStartIndex - 1;
            lastChecksum = 0;
        }
        else if (lastIndex < emptyStartIndex - 1)
        {
            throw new JournalCorruptException("journal ends at index " + lastIndex +
                " but entries up to " + (emptyStartIndex - 1) + " were applied before");
        }
        openReport = new OpenReport(records, truncation);
        durableIndex = lastIndex;

        if (tailSegment >= 0)
        {
            openTail(tailSegment, tailOffset);
        }
        else
        {
            segmentPending = true;
        }
    }

    /** Continues writing the existing segment {@code firstIndex} at {@code offset}, with its own length. */
    private void openTail(final long firstIndex, final long offset) throws IOException
    {
        currentSegmentLength = readHeader(firstIndex).getLong(OFFSET_SEGMENT_LENGTH);
        segmentFirstIndex = firstIndex;
        segment = disk.open(directory.resolve(segmentName(firstIndex)), false);
        if (segment.length() != currentSegmentLength)
        {
            segment.setLength(currentSegmentLength);
        }
        zeroFrom(offset);
        // Records a killed process wrote but never synced are still in the page cache and read as valid:
        // make them durable before calling them so (earlier segments were synced before this one began).
        segment.sync();
        syncedOffset = offset;
    }

    /** Reads the (already validated) header of a segment into the header buffer. */
    private ByteBuffer readHeader(final long firstIndex) throws IOException
    {
        try (DiskFile file = disk.open(directory.resolve(segmentName(firstIndex)), false))
        {
            headerBuffer.clear();
            file.read(headerBuffer, 0);
            return headerBuffer;
        }
    }

    /** Zeroes the segment from {@code offset} where anything was written, so no stale record follows the tail. */
    private void zeroFrom(final long offset) throws IOException
    {
        final ByteBuffer chunk = ByteBuffer.allocateDirect(ZERO_SCAN_CHUNK_BYTES);
        boolean changed = false;
        for (long at = offset; at < currentSegmentLength; at += chunk.capacity())
        {
            chunk.clear().limit((int)Math.min(chunk.capacity(), currentSegmentLength - at));
            final int read = segment.read(chunk, at);
            if (read > 0 && firstNonZeroByte(chunk, read) >= 0)
            {
                new UnsafeBuffer(chunk).setMemory(0, read, (byte)0);
                chunk.clear().limit(read);
                segment.write(chunk, at);
                changed = true;
            }
        }
        if (changed)
        {
            segment.sync();
        }
    }

    public OpenReport openReport()
    {
        return openReport;
    }

    /**
     * For benchmarks only: {@link #commit()} writes but does not sync, so the records it reports durable are only in
     * the page cache and a crash of the machine loses them. New segments and truncations still sync.
     */
    public Journal skipFsync(final boolean skipFsync)
    {
        this.skipFsync = skipFsync;
        return this;
    }

    public boolean skipFsync()
    {
        return skipFsync;
    }

    /**
     * Buffers one record. Commits first when the buffer or the segment has no room for it.
     *
     * @throws IllegalStateException if {@code index} does not follow the last one or the term goes back.
     * @throws IOException           from the implied commit; the record is then not appended.
     */
    public void append(
        final long index,
        final long term,
        final long timestampMs,
        final DirectBuffer operator,
        final int offset,
        final int length) throws IOException
    {
        if (index != lastIndex + 1 || term < lastTerm)
        {
            throw new IllegalStateException("journal order broken: (" + index + ", " + term + ") after (" +
                lastIndex + ", " + lastTerm + ")");
        }
        if (length < 0 || length > MAX_OPERATOR_LENGTH)
        {
            throw new IllegalArgumentException("operator length out of range: " + length);
        }
        final int frameLength = RECORD_OVERHEAD + length;
        final int alignedLength = align(frameLength);
        if (segmentPending || syncedOffset + buffered + alignedLength > currentSegmentLength)
        {
            commit();
            startSegment(index);
        }
        else if (buffered + alignedLength > writeBuffer.capacity())
        {
            commit();
        }

        final int at = buffered;
        writeView.putInt(at, frameLength, ByteOrder.LITTLE_ENDIAN);
        entryHeader.wrapAndApplyHeader(writeView, at + RECORD_HEADER_LENGTH, messageHeader)
            .index(index)
            .term(term)
            .timestampMs(timestampMs);
        writeView.putBytes(at + RECORD_OVERHEAD, operator, offset, length);
        for (int i = at + frameLength; i < at + alignedLength; i++)
        {
            writeView.putByte(i, (byte)0);
        }
        final int checksum = chainedChecksum(
            crc, seed, lastChecksum, writeBuffer, at + RECORD_HEADER_LENGTH, frameLength - RECORD_HEADER_LENGTH);
        writeView.putInt(at + 4, checksum, ByteOrder.LITTLE_ENDIAN);

        buffered += alignedLength;
        lastIndex = index;
        lastTerm = term;
        lastChecksum = checksum;
    }

    /**
     * Writes everything buffered and syncs it: after a normal return every appended record is durable (unless
     * {@link #skipFsync(boolean)}). After an exception nothing is lost from the buffer; call again to retry.
     */
    public void commit() throws IOException
    {
        if (buffered == 0)
        {
            durableIndex = lastIndex;
            return;
        }
        writeBuffer.clear().limit(buffered);
        segment.write(writeBuffer, syncedOffset);
        if (!skipFsync)
        {
            segment.sync();
        }
        syncedOffset += buffered;
        buffered = 0;
        durableIndex = lastIndex;
    }

    private void startSegment(final long firstIndex) throws IOException
    {
        final Path path = directory.resolve(segmentName(firstIndex));
        final DiskFile file = disk.open(path, true);
        try
        {
            file.setLength(segmentLength);
            putSegmentHeader(headerBuffer, firstIndex, segmentLength, lastChecksum, crc);
            headerBuffer.clear();
            file.write(headerBuffer, 0);
            file.sync();
            disk.syncDirectory(directory);
        }
        catch (final IOException ex)
        {
            file.close();
            throw ex;
        }
        if (null != segment)
        {
            segment.close();
        }
        segment = file;
        segmentFirstIndex = firstIndex;
        currentSegmentLength = segmentLength;
        syncedOffset = SEGMENT_HEADER_LENGTH;
        segmentPending = false;
    }

    /**
     * Starts an empty journal at {@code firstIndex} in an empty {@code directory}: one segment that holds only its
     * header. For a node that took a snapshot from elsewhere (a cluster's full install) and holds no log before it:
     * without a segment, start-up would take the missing journal for a lost one.
     */
    public static void startEmpty(final Disk disk, final Path directory, final long segmentLength,
        final long firstIndex) throws IOException
    {
        disk.createDirectories(directory);
        final ByteBuffer header = ByteBuffer.allocateDirect(SEGMENT_HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        putSegmentHeader(header, firstIndex, segmentLength, 0, new CRC32C());
        header.clear();
        try (DiskFile file = disk.open(directory.resolve(segmentName(firstIndex)), true))
        {
            file.setLength(segmentLength);
            file.write(header, 0);
            file.sync();
        }
        disk.syncDirectory(directory);
    }

    /**
     * Removes every record after {@code index} (a conflicting uncommitted suffix in the cluster). Buffered
     * records are dropped; written ones are zeroed and later segments deleted, durably.
     */
    public void truncateAfter(final long index) throws IOException
    {
        if (index >= lastIndex)
        {
            return;
        }
        commit();
        if (null != segment)
        {
            segment.close();
            segment = null;
        }
        // Segments that would hold nothing but removed records go whole, so the tail holds record `index`.
        final List<Long> segments = listSegments(disk, directory);
        for (int i = segments.size() - 1; i >= 0 && segments.get(i) > index; i--)
        {
            disk.delete(directory.resolve(segmentName(segments.remove(i))));
        }
        disk.syncDirectory(directory);

        if (segments.isEmpty())
        {
            lastIndex = index;
            lastTerm = 0;
            lastChecksum = 0;
            segmentPending = true;
        }
        else
        {
            final long tailSegment = segments.get(segments.size() - 1);
            long tailOffset = SEGMENT_HEADER_LENGTH;
            lastIndex = tailSegment - 1;
            lastChecksum = readHeader(tailSegment).getInt(OFFSET_SEED_CHECKSUM);
            try (JournalReader reader = new JournalReader(disk, directory))
            {
                reader.from(tailSegment);
                JournalReader.Status status;
                while ((status = reader.next()) == JournalReader.Status.RECORD && reader.index() <= index)
                {
                    lastIndex = reader.index();
                    lastTerm = reader.term();
                    lastChecksum = reader.checksum();
                    tailOffset = reader.endOffset();
                }
                if (status == JournalReader.Status.CORRUPT)
                {
                    throw new JournalCorruptException(reader.describeProblem());
                }
            }
            openTail(tailSegment, tailOffset);
        }
        durableIndex = Math.min(durableIndex, lastIndex);
    }

    /**
     * Deletes the segments whose records all come before {@code index} (they are covered by a snapshot); the
     * last segment, the one being written, is never deleted. Safe to call from another thread than the writer's:
     * it only touches files the writer is done with.
     *
     * @return how many segment files were deleted.
     */
    public static int deleteSegmentsBefore(final Disk disk, final Path directory, final long index) throws IOException
    {
        final List<Long> segments = listSegments(disk, directory);
        int deleted = 0;
        for (int i = 0; i + 1 < segments.size() && segments.get(i + 1) <= index; i++)
        {
            disk.delete(directory.resolve(segmentName(segments.get(i))));
            deleted++;
        }
        if (deleted > 0)
        {
            disk.syncDirectory(directory);
        }
        return deleted;
    }

    /** First indexes of the segment files in {@code directory}, in order. */
    public static List<Long> listSegments(final Disk disk, final Path directory) throws IOException
    {
        final List<Long> segments = new ArrayList<>();
        for (final String name : disk.list(directory))
        {
            final long firstIndex = firstIndexOf(name);
            if (firstIndex >= 0)
            {
                segments.add(firstIndex);
            }
        }
        return segments;
    }

    public long lastIndex()
    {
        return lastIndex;
    }

    public long lastTerm()
    {
        return lastTerm;
    }

    public long durableIndex()
    {
        return durableIndex;
    }

    public List<Long> segments() throws IOException
    {
        return listSegments(disk, directory);
    }

    public Path directory()
    {
        return directory;
    }

    public void close() throws IOException
    {
        if (null != segment)
        {
            segment.close();
            segment = null;
        }
    }
}
