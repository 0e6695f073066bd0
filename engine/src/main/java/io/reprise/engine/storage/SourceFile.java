package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.BackgroundSync;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * An immutable source file of saved-session records (docs/saved_sessions_storage.md):
 * <pre>
 *   +--------------------------------------+  0
 *   | header, 64 bytes                     |  magic "REPRSRC1", version, source id, first and last record index,
 *   |                                      |  CRC32C of the header
 *   +--------------------------------------+  64
 *   | records                              |  {@link StorageRecord}s, each with its own CRC32C
 *   +--------------------------------------+  64 + recordsLength
 *   | index, 32 bytes per record           |  sorted by (tenant, sessionId, index):
 *   |                                      |  tenant i32, payload length i32 (-1 = tombstone), sessionId i64,
 *   |                                      |  index i64, file offset of the record i64
 *   +--------------------------------------+
 *   | footer, 64 bytes                     |  magic "REPRSRCF", records and index position and size, counts,
 *   |                                      |  CRC32C of the index, CRC32C of the footer
 *   +--------------------------------------+
 * </pre>
 * Written under a temporary name, synced, renamed, directory synced: a source under its final name is whole.
 * Opening checks header, footer and index checksums and keeps the index in memory (off heap); each record is
 * checked when read. An open source counts its references: the manifests that list it and the readers using it.
 */
public final class SourceFile
{
    public static final String PREFIX = "source-";
    public static final String SUFFIX = ".src";
    public static final String TEMPORARY_SUFFIX = ".tmp";

    static final long HEADER_MAGIC = 0x3143525350455252L; // "RREPSRC1" little endian
    static final long FOOTER_MAGIC = 0x4643525350455252L;
    static final int VERSION = 1;
    static final int HEADER_LENGTH = 64;
    static final int FOOTER_LENGTH = 64;
    static final int ENTRY_LENGTH = EntryTable.ENTRY_LENGTH;

    private final Path path;
    private final long id;
    private final DiskFile file;
    private final EntryTable index;
    private final int entries;
    private final long firstIndex;
    private final long lastIndex;
    private final long fileLength;
    private final long recordsLength;
    /** The entries that are tombstones: few, where the merges and the planner look for them at every step. */
    private final int[] tombstoneEntries;
    private final AtomicInteger references = new AtomicInteger(1);

    private SourceFile(
        final Path path, final long id, final DiskFile file, final EntryTable index, final int entries,
        final long firstIndex, final long lastIndex, final long fileLength, final long recordsLength)
    {
        this.path = path;
        this.id = id;
        this.file = file;
        this.index = index;
        this.entries = entries;
        this.firstIndex = firstIndex;
        this.lastIndex = lastIndex;
        this.fileLength = fileLength;
        this.recordsLength = recordsLength;
        int tombstones = 0;
        for (int e = 0; e < entries; e++)
        {
            tombstones += index.payloadLength(e) < 0 ? 1 : 0;
        }
        tombstoneEntries = new int[tombstones];
        for (int e = 0, t = 0; t < tombstones; e++)
        {
            if (index.payloadLength(e) < 0)
            {
                tombstoneEntries[t++] = e;
            }
        }
    }

    public static String nameFor(final long id)
    {
        return PREFIX + String.format("%020d", id) + SUFFIX;
    }

    /** The id in a source file name, or -1 when it is not one. */
    public static long idOf(final String name)
    {
        if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX) ||
            name.length() != PREFIX.length() + 20 + SUFFIX.length())
        {
            return -1;
        }
        try
        {
            return Long.parseLong(name.substring(PREFIX.length(), PREFIX.length() + 20));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }

    public Path path()
    {
        return path;
    }

    public long id()
    {
        return id;
    }

    public int entries()
    {
        return entries;
    }

    public long firstIndex()
    {
        return firstIndex;
    }

    public long lastIndex()
    {
        return lastIndex;
    }

    public long fileLength()
    {
        return fileLength;
    }

    public long recordsLength()
    {
        return recordsLength;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reference counting.

    /** Takes a reference unless the count already reached zero (the source is retired and may be deleted). */
    boolean tryAcquire()
    {
        int refs;
        do
        {
            refs = references.get();
            if (refs <= 0)
            {
                return false;
            }
        }
        while (!references.compareAndSet(refs, refs + 1));
        return true;
    }

    void release()
    {
        if (references.decrementAndGet() < 0)
        {
            throw new IllegalStateException("source " + id + " released more than acquired");
        }
    }

    int references()
    {
        return references.get();
    }

    void close() throws IOException
    {
        file.close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Index.

    int entryTenant(final int entry)
    {
        return index.tenant(entry);
    }

    int entryPayloadLength(final int entry)
    {
        return index.payloadLength(entry);
    }

    long entrySessionId(final int entry)
    {
        return index.sessionId(entry);
    }

    long entryIndex(final int entry)
    {
        return index.index(entry);
    }

    long entryOffset(final int entry)
    {
        return index.offset(entry);
    }

    /** The entries that are tombstones, in index order; not to be changed. */
    int[] tombstoneEntries()
    {
        return tombstoneEntries;
    }

    /** The entry of the key's newest record, or -1. */
    public int find(final int tenant, final long sessionId)
    {
        int low = 0;
        int high = entries;
        while (low < high)
        {
            final int mid = (low + high) >>> 1;
            if (compareKey(entryTenant(mid), entrySessionId(mid), tenant, sessionId) < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        int found = -1;
        while (low < entries && entryTenant(low) == tenant && entrySessionId(low) == sessionId)
        {
            found = low++;
        }
        return found;
    }

    /** True when the source holds a payload record of the key older than {@code beforeIndex}. */
    boolean hasPayloadBefore(final int tenant, final long sessionId, final long beforeIndex)
    {
        int entry = find(tenant, sessionId);
        while (entry >= 0 && entryTenant(entry) == tenant && entrySessionId(entry) == sessionId)
        {
            if (entryIndex(entry) < beforeIndex && entryPayloadLength(entry) >= 0)
            {
                return true;
            }
            entry--;
        }
        return false;
    }

    static int compareKey(final int tenantA, final long idA, final int tenantB, final long idB)
    {
        final int byTenant = Integer.compare(tenantA, tenantB);
        return byTenant != 0 ? byTenant : Long.compare(idA, idB);
    }

    /**
     * Reads the record of {@code entry} into {@code scratch} (header at 0, then payload) and checks it against the
     * index and its checksum.
     *
     * @throws StorageCorruptException naming the file and the record's offset on any mismatch.
     */
    void readRecord(final int entry, final ByteBuffer scratch, final UnsafeBuffer view, final CRC32C crc,
        final byte[] bytes) throws IOException
    {
        final long offset = entryOffset(entry);
        final int payloadLength = Math.max(0, entryPayloadLength(entry));
        final int length = StorageRecord.HEADER_LENGTH + payloadLength;
        if (scratch.capacity() < length)
        {
            throw new IllegalArgumentException("read buffer of " + scratch.capacity() + " bytes, record " + length);
        }
        scratch.clear().limit(length);
        while (scratch.hasRemaining())
        {
            if (file.read(scratch, offset + scratch.position()) < 0)
            {
                throw new StorageCorruptException(path, offset, "record cut short by the end of the file");
            }
        }
        view.wrap(scratch, 0, length);
        if (view.getInt(StorageRecord.TENANT_OFFSET) != entryTenant(entry) ||
            view.getLong(StorageRecord.SESSION_ID_OFFSET) != entrySessionId(entry) ||
            view.getLong(StorageRecord.INDEX_OFFSET) != entryIndex(entry) ||
            view.getInt(StorageRecord.LENGTH_OFFSET) != payloadLength)
        {
            throw new StorageCorruptException(path, offset, "record header does not match the index entry");
        }
        if (!StorageRecord.verify(view, 0, crc, bytes))
        {
            throw new StorageCorruptException(path, offset, "record checksum mismatch");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Opening.

    /**
     * Opens a source, checking header, footer and index.
     *
     * @throws StorageCorruptException when any check fails.
     */
    public static SourceFile open(final Disk disk, final Path path) throws IOException
    {
        final long id = idOf(path.getFileName().toString());
        final DiskFile file = disk.open(path, false);
        try
        {
            final long length = file.length();
            if (length < HEADER_LENGTH + FOOTER_LENGTH)
            {
                throw new StorageCorruptException(path, length, "file too short");
            }
            final CRC32C crc = new CRC32C();
            final UnsafeBuffer header = readFully(file, path, 0, HEADER_LENGTH);
            if (header.getLong(0) != HEADER_MAGIC || header.getInt(8) != VERSION ||
                header.getInt(12) != HEADER_LENGTH || header.getLong(16) != id ||
                header.getInt(60) != crcOf(header, 0, 60, crc))
            {
                throw new StorageCorruptException(path, 0, "bad header");
            }
            final UnsafeBuffer footer = readFully(file, path, length - FOOTER_LENGTH, FOOTER_LENGTH);
            if (footer.getLong(0) != FOOTER_MAGIC || footer.getInt(60) != crcOf(footer, 0, 60, crc))
            {
                throw new StorageCorruptException(path, length - FOOTER_LENGTH, "bad footer");
            }
            final long recordsLength = footer.getLong(16);
            final long indexOffset = footer.getLong(24);
            final long count = footer.getLong(32);
            if (footer.getLong(8) != HEADER_LENGTH || indexOffset != HEADER_LENGTH + recordsLength ||
                count < 0 || count > Integer.MAX_VALUE / ENTRY_LENGTH ||
                indexOffset + count * ENTRY_LENGTH + FOOTER_LENGTH != length)
            {
                throw new StorageCorruptException(path, length - FOOTER_LENGTH, "footer does not fit the file");
            }
            final EntryTable index = new EntryTable();
            if (footer.getInt(40) != index.readFrom(file, path, indexOffset, (int)count, crc))
            {
                throw new StorageCorruptException(path, indexOffset, "index checksum mismatch");
            }
            for (int i = 0; i < count; i++)
            {
                final long offset = index.offset(i);
                if (offset < HEADER_LENGTH || offset + StorageRecord.HEADER_LENGTH > indexOffset)
                {
                    throw new StorageCorruptException(path, indexOffset + (long)i * ENTRY_LENGTH,
                        "index entry points outside the records");
                }
            }
            return new SourceFile(path, id, file, index, (int)count, header.getLong(24), header.getLong(32), length,
                recordsLength);
        }
        catch (final IOException | RuntimeException ex)
        {
            file.close();
            throw ex;
        }
    }

    private static UnsafeBuffer readFully(final DiskFile file, final Path path, final long position, final int length)
        throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(length, 1)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.limit(length);
        while (bytes.hasRemaining())
        {
            if (file.read(bytes, position + bytes.position()) < 0)
            {
                throw new StorageCorruptException(path, position + bytes.position(), "unexpected end of file");
            }
        }
        return new UnsafeBuffer(bytes, 0, length);
    }

    static int crcOf(final DirectBuffer buffer, final int offset, final int length, final CRC32C crc)
    {
        crc.reset();
        final byte[] chunk = new byte[Math.min(Math.max(length, 1), 65536)];
        int done = 0;
        while (done < length)
        {
            final int n = Math.min(chunk.length, length - done);
            buffer.getBytes(offset + done, chunk, 0, n);
            crc.update(chunk, 0, n);
            done += n;
        }
        return (int)crc.getValue();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Scanning (merge).

    /** Visits every record of the source in file order, each checked against its checksum. */
    void scan(final Container.RecordVisitor visitor) throws IOException
    {
        final int chunk = 1 << 20;
        final ByteBuffer bytes = ByteBuffer.allocateDirect(chunk).order(ByteOrder.LITTLE_ENDIAN);
        final UnsafeBuffer view = new UnsafeBuffer(bytes);
        final CRC32C crc = new CRC32C();
        final byte[] scratch = new byte[4096];
        final long end = HEADER_LENGTH + recordsLength;
        long position = HEADER_LENGTH;
        ByteBuffer big = null;
        while (position < end)
        {
            bytes.clear().limit((int)Math.min(chunk, end - position));
            while (bytes.hasRemaining())
            {
                if (file.read(bytes, position + bytes.position()) < 0)
                {
                    throw new StorageCorruptException(path, position + bytes.position(), "unexpected end of file");
                }
            }
            final int available = bytes.limit();
            int at = 0;
            while (at + StorageRecord.HEADER_LENGTH <= available)
            {
                final int payloadLength = view.getInt(at + StorageRecord.LENGTH_OFFSET);
                if (payloadLength < 0 || position + at + StorageRecord.recordLength(payloadLength) > end)
                {
                    throw new StorageCorruptException(path, position + at, "record length " + payloadLength);
                }
                final int recordLength = StorageRecord.recordLength(payloadLength);
                if (at + recordLength > available)
                {
                    if (at == 0)
                    {
                        // A record larger than the chunk: read it alone.
                        big = ByteBuffer.allocateDirect(recordLength).order(ByteOrder.LITTLE_ENDIAN);
                        while (big.hasRemaining())
                        {
                            file.read(big, position + big.position());
                        }
                        final UnsafeBuffer bigView = new UnsafeBuffer(big);
                        check(bigView, 0, position, crc, scratch);
                        visitor.onRecord(bigView, 0, recordLength);
                        at = recordLength;
                    }
                    break;
                }
                check(view, at, position + at, crc, scratch);
                visitor.onRecord(view, at, recordLength);
                at += recordLength;
            }
            position += at;
        }
    }

    private void check(final UnsafeBuffer view, final int at, final long fileOffset, final CRC32C crc,
        final byte[] scratch) throws StorageCorruptException
    {
        if (!StorageRecord.verify(view, at, crc, scratch))
        {
            throw new StorageCorruptException(path, fileOffset, "record checksum mismatch");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing.

    /** Writes one source: records in any order, then {@link #finish}; not thread-safe. */
    public static final class Writer implements Container.RecordVisitor, AutoCloseable
    {
        private final Disk disk;
        private final Path directory;
        private final long id;
        private final Path temporary;
        private final DiskFile file;
        private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private final UnsafeBuffer writeView = new UnsafeBuffer(writeBuffer);
        private final BackgroundSync background;
        private final long stepBytes;
        /** Index entries of the records appended one by one ({@link #onRecord}). */
        private final EntryTable entries = new EntryTable();
        private int recordsAppended;
        /** Sources appended whole ({@link #appendWhole}), and where their records moved: new offset - old. */
        private final List<SourceFile> wholeSources = new ArrayList<>();
        private final List<Long> wholeShifts = new ArrayList<>();
        private int count;
        private long position = HEADER_LENGTH;
        private long firstIndex = Long.MAX_VALUE;
        private long lastIndex = 0;
        private boolean finished;

        public Writer(final Disk disk, final Path directory, final long id) throws IOException
        {
            this.disk = disk;
            this.directory = directory;
            this.id = id;
            this.temporary = directory.resolve(nameFor(id) + TEMPORARY_SUFFIX);
            this.file = disk.open(temporary, true);
            file.setLength(0);
            this.background = BackgroundSync.unpaced(file, disk.backgroundWrites());
            this.stepBytes = disk.backgroundWrites().stepBytes();
        }

        public int count()
        {
            return count;
        }

        /** Bytes of the file once finished. */
        public long bytesWritten()
        {
            return position + (long)count * ENTRY_LENGTH + FOOTER_LENGTH;
        }

        /**
         * Appends whole records laid end to end ({@code length} bytes from {@code offset}) of a buffer over a
         * {@link ByteBuffer} (a container page): written as they are, without a copy into the writer's own buffer.
         */
        public void onRecords(final DirectBuffer buffer, final int offset, final int length) throws IOException
        {
            final ByteBuffer bytes = buffer.byteBuffer();
            if (null == bytes)
            {
                throw new IllegalArgumentException("records written as they are come from a buffer over a ByteBuffer");
            }
            drain();
            final int start = buffer.wrapAdjustment() + offset;
            file.write(bytes.duplicate().limit(start + length).position(start), position);
            background.written(length);
            for (int at = offset; at < offset + length; )
            {
                final int recordLength =
                    StorageRecord.recordLength(buffer.getInt(at + StorageRecord.LENGTH_OFFSET));
                index(buffer, at, recordLength);
                at += recordLength;
            }
        }

        /** Appends a whole record (header and payload as laid out by {@link StorageRecord}). */
        public void onRecord(final DirectBuffer buffer, final int offset, final int length) throws IOException
        {
            if (writeBuffer.position() + length > writeBuffer.capacity())
            {
                drain();
            }
            if (length > writeBuffer.capacity())
            {
                final ByteBuffer one = ByteBuffer.allocateDirect(length);
                new UnsafeBuffer(one).putBytes(0, buffer, offset, length);
                file.write(one, position);
                background.written(length);
            }
            else
            {
                writeView.putBytes(writeBuffer.position(), buffer, offset, length);
                writeBuffer.position(writeBuffer.position() + length);
            }
            index(buffer, offset, length);
        }

        /** Adds the index entry of the record at {@code offset}, written at the current position, and moves past it. */
        private void index(final DirectBuffer buffer, final int offset, final int length)
        {
            final short type = buffer.getShort(offset + StorageRecord.TYPE_OFFSET);
            final long index = buffer.getLong(offset + StorageRecord.INDEX_OFFSET);
            entries.put(recordsAppended++, buffer.getInt(offset + StorageRecord.TENANT_OFFSET),
                type == StorageRecord.TOMBSTONE ? -1 : buffer.getInt(offset + StorageRecord.LENGTH_OFFSET),
                buffer.getLong(offset + StorageRecord.SESSION_ID_OFFSET), index, position);
            firstIndex = Math.min(firstIndex, index);
            lastIndex = Math.max(lastIndex, index);
            position += length;
            count++;
        }

        /**
         * Appends every record of {@code source}: its records section is copied file to file (in the kernel, on a
         * real disk) and its index, already sorted, is merged into this one's at {@link #finish}. The records are
         * not read, so not checked here: each keeps its own checksum, which every read of it checks. The caller
         * holds a reference on {@code source} until this writer finishes.
         */
        public void appendWhole(final SourceFile source) throws IOException
        {
            drain();
            final long length = source.recordsLength;
            for (long done = 0; done < length; )
            {
                // In sync steps, as record by record: the journal's fsync never waits behind much of the copy.
                final long step = Math.min(stepBytes, length - done);
                file.writeFrom(source.file, HEADER_LENGTH + done, step, position + done);
                background.written(step);
                done += step;
            }
            wholeSources.add(source);
            wholeShifts.add(position - HEADER_LENGTH);
            if (source.entries > 0)
            {
                firstIndex = Math.min(firstIndex, source.firstIndex);
                lastIndex = Math.max(lastIndex, source.lastIndex);
            }
            position += length;
            count += source.entries;
        }

        private void drain() throws IOException
        {
            final long start = position - writeBuffer.position();
            writeBuffer.flip();
            final int length = writeBuffer.remaining();
            file.write(writeBuffer, start);
            writeBuffer.clear();
            background.written(length);
        }

        /**
         * Sorts and writes the index, footer and header, syncs, renames into place, syncs the directory, and opens the
         * source with the index it holds in memory (not read back: the file's checks are made when a node starts).
         */
        public SourceFile finish() throws IOException
        {
            drain();
            final CRC32C crc = new CRC32C();
            final long recordsLength = position - HEADER_LENGTH;
            entries.sort(recordsAppended);
            final EntryTable index = wholeSources.isEmpty() ? entries : mergedIndex();
            final int indexLength = count * ENTRY_LENGTH;
            final int indexCrc = index.writeTo(file, position, count, crc);

            final ByteBuffer footer = ByteBuffer.allocateDirect(FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            final UnsafeBuffer footerView = new UnsafeBuffer(footer);
            footerView.putLong(0, FOOTER_MAGIC);
            footerView.putLong(8, HEADER_LENGTH);
            footerView.putLong(16, recordsLength);
            footerView.putLong(24, position);
            footerView.putLong(32, count);
            footerView.putInt(40, indexCrc);
            footerView.putInt(60, crcOf(footerView, 0, 60, crc));
            file.write(footer, position + indexLength);

            final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            final UnsafeBuffer headerView = new UnsafeBuffer(header);
            headerView.putLong(0, HEADER_MAGIC);
            headerView.putInt(8, VERSION);
            headerView.putInt(12, HEADER_LENGTH);
            headerView.putLong(16, id);
            headerView.putLong(24, count == 0 ? 0 : firstIndex);
            headerView.putLong(32, lastIndex);
            headerView.putInt(60, crcOf(headerView, 0, 60, crc));
            file.write(header, 0);
            file.sync();
            file.close();
            finished = true;
            final Path target = directory.resolve(nameFor(id));
            disk.rename(temporary, target);
            disk.syncDirectory(directory);
            final long fileLength = position + indexLength + FOOTER_LENGTH;
            return new SourceFile(target, id, disk.open(target, false), index, count, count == 0 ? 0 : firstIndex,
                lastIndex, fileLength, recordsLength);
        }

        /** One sorted index of the records appended one by one (sorted) and of every source appended whole. */
        private EntryTable mergedIndex()
        {
            final int runs = 1 + wholeSources.size();
            final EntryTable[] tables = new EntryTable[runs];
            final int[] counts = new int[runs];
            final long[] shifts = new long[runs];
            tables[0] = entries;
            counts[0] = recordsAppended;
            for (int r = 1; r < runs; r++)
            {
                tables[r] = wholeSources.get(r - 1).index;
                counts[r] = wholeSources.get(r - 1).entries;
                shifts[r] = wholeShifts.get(r - 1);
            }
            final EntryTable merged = new EntryTable();
            merged.ensure(count);
            merged.merge(tables, counts, shifts);
            return merged;
        }

        /** Abandons an unfinished source: closes and deletes the temporary file. */
        public void close() throws IOException
        {
            if (!finished)
            {
                finished = true;
                file.close();
                if (disk.exists(temporary))
                {
                    disk.delete(temporary);
                }
            }
        }
    }
}
