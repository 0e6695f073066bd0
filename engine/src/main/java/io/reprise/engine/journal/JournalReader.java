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
import io.reprise.schema.log.LogEntryHeaderDecoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reads the journal record by record across segments, checking everything: segment headers, continuity of
 * segments and indexes, the checksum chain, and terms that never go back. At the first record that does not
 * validate it stops and says precisely what and where, and whether it is a torn write (a crash while writing an
 * unsynced tail: some sector of the record is still all zeros) or corruption of written data.
 * <p>
 * Used by start-up (scan and replay), by the snapshot agent and by the {@code reprise log} tools.
 */
public final class JournalReader implements AutoCloseable
{
    /** What {@link #next()} found. */
    public enum Status
    {
        /** A valid record: see {@link #index()} and the other accessors. */
        RECORD,
        /** The clean end of the journal. */
        END,
        /** The tail was being written when the node stopped: everything from {@link #problemOffset()} is lost. */
        TORN,
        /** Written data does not validate: {@link #problem()} says what. */
        CORRUPT
    }

    /**
     * Reads start at this size, so that a reader opened for a few records (start-up, a lagging follower) costs
     * little; the buffer doubles when a record does not fit, up to {@link #MAX_READ_BUFFER_BYTES}.
     */
    private static final int INITIAL_READ_BUFFER_BYTES = 256 * 1024;
    private static final int MAX_READ_BUFFER_BYTES = 4 * 1024 * 1024 + MAX_FRAME_LENGTH;

    private final Disk disk;
    private final Path directory;
    private final List<Long> segments = new ArrayList<>();
    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_READ_BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final UnsafeBuffer view = new UnsafeBuffer(buffer);
    private final ByteBuffer seed = ByteBuffer.allocateDirect(4);
    private final ByteBuffer header = ByteBuffer.allocateDirect(SEGMENT_HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private final MessageHeaderDecoder messageHeader = new MessageHeaderDecoder();
    private final LogEntryHeaderDecoder entryHeader = new LogEntryHeaderDecoder();

    private int segmentOrdinal = -1;
    private DiskFile file;
    private long segmentLength;
    private long bufferFileOffset;
    private int bufferLimit;
    private long position;
    private long expectedIndex = -1;
    private long lastTerm;
    private int previousChecksum;
    private boolean chainKnown;
    private long skipBelowIndex;
    private int lastBatchBytes = -1;

    private long index;
    private long term;
    private long timestampMs;
    private int entryVersion;
    private int checksum;
    private boolean acceptTornRecords;
    private int operatorOffset;
    private int operatorLength;
    private long recordOffset;

    private String problem;
    private Path problemFile;
    private long problemOffset;

    public JournalReader(final Disk disk, final Path directory) throws IOException
    {
        this.disk = disk;
        this.directory = directory;
        listSegments();
    }

    private void listSegments() throws IOException
    {
        segments.clear();
        for (final String name : disk.list(directory))
        {
            final long firstIndex = firstIndexOf(name);
            if (firstIndex >= 0)
            {
                segments.add(firstIndex);
            }
        }
    }

    /**
     * Starts again at {@code fromIndex} as a new reader on the journal's files now would, keeping this one's buffers:
     * for a reader kept to read a journal from changing places (a leader sending the log to followers far behind),
     * which should not allocate each time.
     */
    public JournalReader reopen(final long fromIndex) throws IOException
    {
        closeSegment();
        listSegments();
        segmentOrdinal = -1;
        segmentLength = 0;
        bufferFileOffset = 0;
        bufferLimit = 0;
        position = 0;
        expectedIndex = -1;
        lastTerm = 0;
        previousChecksum = 0;
        chainKnown = false;
        problem = null;
        problemFile = null;
        problemOffset = 0;
        return from(fromIndex);
    }

    /**
     * For a journal no writer appends to (start-up, the tools): where the valid records of the last segment end, at
     * a frame length of 0 or at a torn record, only the batch being written when the writer stopped can follow.
     * Everything before that batch was synced, and a batch is never larger than the writer's buffer, so nothing can
     * be written more than {@code batchBytes} past the end. If something is, the end is damage to synced records (a
     * bit flip in a record whose payload holds an all-zero sector, or the first sector of a record lost), and
     * {@link #next()} reports it as {@link Status#CORRUPT}: truncating there would drop the committed records after
     * it. A reader that follows a live writer must not ask for this, as the writer may be far ahead of it.
     */
    public JournalReader endOnlyWithinTheLastBatch(final int batchBytes)
    {
        lastBatchBytes = batchBytes;
        return this;
    }

    /**
     * A planted bug for the simulator ({@code PlantedBug.SKIP_TORN_CHECK}): a torn record reads as a record. Never set
     * otherwise.
     */
    public JournalReader acceptTornRecords(final boolean accept)
    {
        acceptTornRecords = accept;
        return this;
    }

    /** First indexes of the segment files, in order. */
    public List<Long> segments()
    {
        return segments;
    }

    /**
     * Starts reading at the segment that holds {@code fromIndex}; records before it are checked but skipped.
     * Call before the first {@link #next()}.
     */
    public JournalReader from(final long fromIndex)
    {
        if (segmentOrdinal != -1)
        {
            throw new IllegalStateException("already reading");
        }
        skipBelowIndex = fromIndex;
        int start = 0;
        for (int i = 0; i < segments.size(); i++)
        {
            if (segments.get(i) <= fromIndex)
            {
                start = i;
            }
        }
        segmentOrdinal = start - 1;
        return this;
    }

    public Status next() throws IOException
    {
        while (true)
        {
            if (null == file)
            {
                final Status opened = openNextSegment();
                if (opened != Status.RECORD)
                {
                    return opened;
                }
            }

            if (position + RECORD_HEADER_LENGTH > segmentLength)
            {
                closeSegment();
                continue;
            }
            ensure(position, RECORD_HEADER_LENGTH);
            final int frameLength = view.getInt(offsetOf(position), ByteOrder.LITTLE_ENDIAN);
            if (frameLength == 0)
            {
                if (segmentOrdinal + 1 < segments.size())
                {
                    closeSegment();
                    continue;
                }
                return endOfTheLastSegment(Status.END, "the journal ends (a frame length of 0)");
            }
            if (frameLength < RECORD_OVERHEAD || frameLength > MAX_FRAME_LENGTH ||
                position + frameLength > segmentLength)
            {
                return fail(Status.CORRUPT, position, "implausible frame length " + frameLength);
            }

            ensure(position, frameLength);
            final int at = offsetOf(position);
            final int stored = view.getInt(at + 4, ByteOrder.LITTLE_ENDIAN);
            final int computed = chainedChecksum(
                crc, seed, previousChecksum, buffer, at + RECORD_HEADER_LENGTH, frameLength - RECORD_HEADER_LENGTH);
            if (stored != computed)
            {
                if (isLastSegment() && hasZeroSector(position, frameLength) && !acceptTornRecords)
                {
                    return endOfTheLastSegment(
                        Status.TORN, "torn write: checksum mismatch and a sector of the record is unwritten");
                }
                return fail(Status.CORRUPT, position, "checksum mismatch in a fully written record (stored " +
                    Integer.toHexString(stored) + ", computed " + Integer.toHexString(computed) + ")");
            }

            messageHeader.wrap(view, at + RECORD_HEADER_LENGTH);
            if (messageHeader.templateId() != LogEntryHeaderDecoder.TEMPLATE_ID ||
                messageHeader.schemaId() != LogEntryHeaderDecoder.SCHEMA_ID ||
                messageHeader.blockLength() != LogEntryHeaderDecoder.BLOCK_LENGTH)
            {
                return fail(Status.CORRUPT, position, "record does not start with a LogEntryHeader");
            }
            entryHeader.wrap(view, at + RECORD_HEADER_LENGTH + MessageHeaderDecoder.ENCODED_LENGTH,
                LogEntryHeaderDecoder.BLOCK_LENGTH, messageHeader.version());
            final long recordIndex = entryHeader.index();
            final long recordTerm = entryHeader.term();
            if (chainKnown && expectedIndex >= 0 && recordIndex != expectedIndex)
            {
                return fail(Status.CORRUPT, position, "index " + recordIndex + " where " + expectedIndex + " belongs");
            }
            if (recordTerm < lastTerm)
            {
                return fail(Status.CORRUPT, position, "term goes back from " + lastTerm + " to " + recordTerm);
            }

            index = recordIndex;
            term = recordTerm;
            timestampMs = entryHeader.timestampMs();
            entryVersion = messageHeader.version();
            checksum = stored;
            operatorOffset = at + RECORD_OVERHEAD;
            operatorLength = frameLength - RECORD_OVERHEAD;
            recordOffset = position;
            previousChecksum = stored;
            chainKnown = true;
            expectedIndex = recordIndex + 1;
            lastTerm = recordTerm;
            position += align(frameLength);
            if (recordIndex >= skipBelowIndex)
            {
                return Status.RECORD;
            }
        }
    }

    /** Receives operators of records ahead of the current one ({@link #peekAhead}). */
    @FunctionalInterface
    public interface OperatorVisitor
    {
        void onOperator(DirectBuffer buffer, int offset, int length);
    }

    /**
     * Shows the operators of up to {@code max} records after the current one that lie whole in the read buffer,
     * without reading the file and without checking them: for look-ahead, which only loads what they name.
     *
     * @return how many were shown.
     */
    public int peekAhead(final int max, final OperatorVisitor visitor)
    {
        if (null == file)
        {
            return 0;
        }
        final long bufferEnd = bufferFileOffset + bufferLimit;
        long at = position;
        int shown = 0;
        while (shown < max && at >= bufferFileOffset && at + RECORD_HEADER_LENGTH <= bufferEnd)
        {
            final int frameLength = view.getInt(offsetOf(at), ByteOrder.LITTLE_ENDIAN);
            if (frameLength < RECORD_OVERHEAD || frameLength > MAX_FRAME_LENGTH || at + frameLength > bufferEnd)
            {
                break;
            }
            visitor.onOperator(view, offsetOf(at) + RECORD_OVERHEAD, frameLength - RECORD_OVERHEAD);
            at += align(frameLength);
            shown++;
        }
        return shown;
    }

    private Status openNextSegment() throws IOException
    {
        if (segmentOrdinal + 1 >= segments.size())
        {
            return Status.END;
        }
        segmentOrdinal++;
        final long firstIndex = segments.get(segmentOrdinal);
        file = disk.open(segmentPath(), false);
        bufferLimit = 0;
        position = 0;
        final Status status = checkSegmentHeader(firstIndex);
        if (status != Status.RECORD)
        {
            // Leave the reader where it was, so that a later refresh() and next() try this segment again.
            closeSegment();
            segmentOrdinal--;
        }
        return status;
    }

    private Status checkSegmentHeader(final long firstIndex) throws IOException
    {

        header.clear();
        readFully(file, header, 0);
        header.flip();
        final boolean blank = header.limit() < SEGMENT_HEADER_LENGTH || isZero(header, 0, header.limit());
        if (blank && isLastSegment())
        {
            return fail(Status.TORN, 0, "segment created but its header was never written");
        }
        if (header.limit() < SEGMENT_HEADER_LENGTH ||
            header.getLong(OFFSET_MAGIC) != MAGIC ||
            header.getInt(OFFSET_HEADER_CHECKSUM) != headerChecksum(header, crc))
        {
            return fail(Status.CORRUPT, 0, "bad segment header");
        }
        if (header.getInt(OFFSET_FORMAT_VERSION) != FORMAT_VERSION ||
            header.getInt(OFFSET_SCHEMA_ID) != MessageHeaderDecoder.SCHEMA_ID ||
            header.getInt(OFFSET_SCHEMA_VERSION) > MessageHeaderDecoder.SCHEMA_VERSION)
        {
            return fail(Status.CORRUPT, 0, "unsupported segment format " + header.getInt(OFFSET_FORMAT_VERSION) +
                " / schema " + header.getInt(OFFSET_SCHEMA_ID) + " v" + header.getInt(OFFSET_SCHEMA_VERSION));
        }
        if (header.getLong(OFFSET_FIRST_INDEX) != firstIndex)
        {
            return fail(Status.CORRUPT, 0, "header says first index " + header.getLong(OFFSET_FIRST_INDEX));
        }
        final int seedChecksum = header.getInt(OFFSET_SEED_CHECKSUM);
        if (chainKnown)
        {
            if (firstIndex != expectedIndex)
            {
                return fail(Status.CORRUPT, 0, "missing records: expected index " + expectedIndex +
                    " but the next segment starts at " + firstIndex);
            }
            if (seedChecksum != previousChecksum)
            {
                return fail(Status.CORRUPT, 0, "checksum chain broken between segments");
            }
        }
        previousChecksum = seedChecksum;
        chainKnown = true;
        expectedIndex = firstIndex;
        segmentLength = header.getLong(OFFSET_SEGMENT_LENGTH);
        position = SEGMENT_HEADER_LENGTH;
        return Status.RECORD;
    }

    /**
     * Forgets cached bytes and looks for segments created since: for a reader that follows a journal being
     * written (the snapshot agent), called when it knows more durable records exist than it has read.
     */
    public void refresh() throws IOException
    {
        bufferLimit = 0;
        final long last = segments.isEmpty() ? -1 : segments.get(segments.size() - 1);
        for (final String name : disk.list(directory))
        {
            final long firstIndex = firstIndexOf(name);
            if (firstIndex > last)
            {
                segments.add(firstIndex);
            }
        }
    }

    private Status fail(final Status status, final long offset, final String description)
    {
        problem = description;
        problemFile = segmentPath();
        problemOffset = offset;
        return status;
    }

    /** The scan of the last segment ends at {@code position}: {@code status}, or corruption if data follows. */
    private Status endOfTheLastSegment(final Status status, final String description) throws IOException
    {
        if (lastBatchBytes >= 0)
        {
            final long written = firstWrittenByteFrom(position + lastBatchBytes);
            if (written >= 0)
            {
                return fail(Status.CORRUPT, position, description + "; but written data follows at offset " + written +
                    ", more than one write batch (" + lastBatchBytes + " bytes) after it, so the records there were " +
                    "synced: corruption of committed data, not a torn write (if the journal write buffer was made " +
                    "smaller since the node stopped, start it with the old size)");
            }
            final long misplaced = recordThatBelongsHereFrom(position + ALIGNMENT, position + lastBatchBytes);
            if (misplaced >= 0)
            {
                return fail(Status.CORRUPT, position, description + "; but record " + expectedIndex + ", which " +
                    "belongs here, is at offset " + misplaced + ": a write of synced records landed in the wrong " +
                    "place (a misdirected write), not a torn one");
            }
        }
        return status == Status.END ? Status.END : fail(status, position, description);
    }

    /**
     * Where, in {@code [from, to)}, a valid record lies that belongs at the end: the next index, chained from the last
     * valid record. A torn write leaves that record at the end or nowhere, since it is the first of its batch; found
     * further on, the batch was written in the wrong place, and the records in it were synced and answered.
     *
     * @return its offset, or -1.
     */
    private long recordThatBelongsHereFrom(final long from, final long to) throws IOException
    {
        if (!chainKnown || expectedIndex < 0)
        {
            return -1;
        }
        final long end = Math.min(to, segmentLength - RECORD_OVERHEAD);
        for (long at = from; at < end; at += ALIGNMENT)
        {
            ensure(at, RECORD_HEADER_LENGTH);
            final int frameLength = view.getInt(offsetOf(at), ByteOrder.LITTLE_ENDIAN);
            if (frameLength < RECORD_OVERHEAD || frameLength > MAX_FRAME_LENGTH || at + frameLength > segmentLength)
            {
                continue;
            }
            ensure(at, frameLength);
            final int record = offsetOf(at);
            messageHeader.wrap(view, record + RECORD_HEADER_LENGTH);
            if (messageHeader.templateId() != LogEntryHeaderDecoder.TEMPLATE_ID ||
                messageHeader.schemaId() != LogEntryHeaderDecoder.SCHEMA_ID ||
                messageHeader.blockLength() != LogEntryHeaderDecoder.BLOCK_LENGTH)
            {
                continue;
            }
            entryHeader.wrap(view, record + RECORD_HEADER_LENGTH + MessageHeaderDecoder.ENCODED_LENGTH,
                LogEntryHeaderDecoder.BLOCK_LENGTH, messageHeader.version());
            if (entryHeader.index() == expectedIndex && view.getInt(record + 4, ByteOrder.LITTLE_ENDIAN) ==
                chainedChecksum(crc, seed, previousChecksum, buffer, record + RECORD_HEADER_LENGTH,
                    frameLength - RECORD_HEADER_LENGTH))
            {
                return at;
            }
        }
        return -1;
    }

    /** Offset of the first non-zero byte of the current segment at or after {@code from}, or -1. */
    private long firstWrittenByteFrom(final long from) throws IOException
    {
        final ByteBuffer chunk = ByteBuffer.allocateDirect(ZERO_SCAN_CHUNK_BYTES);
        final long length = file.length();
        int read;
        for (long at = from; at < length; at += read)
        {
            chunk.clear().limit((int)Math.min(chunk.capacity(), length - at));
            read = file.read(chunk, at);
            if (read <= 0)
            {
                break;
            }
            final int written = firstNonZeroByte(chunk, read);
            if (written >= 0)
            {
                return at + written;
            }
        }
        return -1;
    }

    private boolean isLastSegment()
    {
        return segmentOrdinal == segments.size() - 1;
    }

    private Path segmentPath()
    {
        if (segments.isEmpty())
        {
            return directory;
        }
        return directory.resolve(segmentName(segments.get(Math.max(0, Math.min(segmentOrdinal, segments.size() - 1)))));
    }

    private void closeSegment() throws IOException
    {
        if (null != file)
        {
            file.close();
            file = null;
        }
    }

    /** Makes {@code [fileOffset, fileOffset + length)} of the segment present in the buffer; unwritten reads as 0. */
    private void ensure(final long fileOffset, final int length) throws IOException
    {
        if (fileOffset >= bufferFileOffset && fileOffset + length <= bufferFileOffset + bufferLimit)
        {
            return;
        }
        if (length > buffer.capacity())
        {
            int capacity = buffer.capacity();
            while (capacity < length)
            {
                capacity = Math.min(MAX_READ_BUFFER_BYTES, capacity * 2);
            }
            buffer = ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN);
            view.wrap(buffer);
        }
        // Callers keep fileOffset + length inside the segment, and length <= capacity, so wanted >= length.
        final int wanted = (int)Math.min(buffer.capacity(), segmentLength - fileOffset);
        buffer.clear().limit(wanted);
        readFully(file, buffer, fileOffset);
        view.setMemory(buffer.position(), wanted - buffer.position(), (byte)0);
        buffer.clear();
        bufferFileOffset = fileOffset;
        bufferLimit = wanted;
    }

    private static void readFully(final DiskFile file, final ByteBuffer destination, final long fileOffset)
        throws IOException
    {
        long at = fileOffset;
        while (destination.hasRemaining())
        {
            final int read = file.read(destination, at);
            if (read <= 0)
            {
                break;
            }
            at += read;
        }
    }

    private int offsetOf(final long fileOffset)
    {
        return (int)(fileOffset - bufferFileOffset);
    }

    private boolean hasZeroSector(final long recordOffset, final int frameLength) throws IOException
    {
        final int sector = Disk.SECTOR_BYTES;
        final long first = recordOffset / sector;
        final long last = (recordOffset + frameLength - 1) / sector;
        final ByteBuffer bytes = ByteBuffer.allocate(sector);
        for (long s = first; s <= last; s++)
        {
            bytes.clear();
            readFully(file, bytes, s * sector);
            if (isZero(bytes, 0, bytes.position()))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean isZero(final ByteBuffer bytes, final int from, final int to)
    {
        for (int i = from; i < to; i++)
        {
            if (bytes.get(i) != 0)
            {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------ record

    public long index()
    {
        return index;
    }

    public long term()
    {
        return term;
    }

    /** The leader's clock when it sequenced the entry, as stored. */
    public long timestampMs()
    {
        return timestampMs;
    }

    /**
     * The time the business logic applies the current entry at or after ({@link
     * io.reprise.engine.logic.BusinessLogic#apply(long, long, long, DirectBuffer, int, int)}): its timestamp when
     * the entry was written at log schema version {@link JournalFormat#ENTRY_TIME_SINCE_VERSION} or later, and 0
     * (no effect) for an older entry, whose timestamp was informational, so that an old log replays as it was
     * first applied.
     */
    public long entryTimeMs()
    {
        return entryVersion >= JournalFormat.ENTRY_TIME_SINCE_VERSION ? timestampMs : 0;
    }

    /** Chained checksum of the current record. */
    public int checksum()
    {
        return checksum;
    }

    /** The buffer holding the current record's operator, valid until the next call to {@link #next()}. */
    public DirectBuffer buffer()
    {
        return view;
    }

    public int operatorOffset()
    {
        return operatorOffset;
    }

    public int operatorLength()
    {
        return operatorLength;
    }

    /** The segment of the current record (or of the problem). */
    public Path file()
    {
        return segmentPath();
    }

    /** Offset in its segment of the current record. */
    public long recordOffset()
    {
        return recordOffset;
    }

    /** Offset in the current segment just after the last valid record: where the next one goes. */
    public long endOffset()
    {
        return position;
    }

    /** First index of the current segment. */
    public long segmentFirstIndex()
    {
        return segments.get(Math.min(Math.max(segmentOrdinal, 0), segments.size() - 1));
    }

    public String problem()
    {
        return problem;
    }

    public Path problemFile()
    {
        return problemFile;
    }

    public long problemOffset()
    {
        return problemOffset;
    }

    public String describeProblem()
    {
        return problemFile + " at offset " + problemOffset + ": " + problem;
    }

    public void close() throws IOException
    {
        closeSegment();
    }
}
