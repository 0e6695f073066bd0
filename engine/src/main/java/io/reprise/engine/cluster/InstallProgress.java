package io.reprise.engine.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;

/**
 * How far a follower has come with an install, durable so that a restarted follower resumes it: which install
 * (snapshot index and term, file count, files digest), the files seen so far (name, length, checksum) and how many
 * of them are whole and checked. The file after those, if named, is in progress: its bytes on disk are what was
 * synced of it. One small file in the staging directory, {@code install.progress}, replaced whole like
 * {@link ElectionState}: temporary file, sync, rename, directory sync.
 * <p>
 * Layout, little-endian: magic (int32), version (int32), snapshotIndex (int64), snapshotTerm (int64), filesDigest
 * (int64), fileCount (int32), completeFiles (int32), entryCount (int32); then per entry fileLength (int64),
 * fileChecksum (int32), nameLength (int32), name (UTF-8); then the CRC32C of every byte before it (int32).
 */
final class InstallProgress
{
    static final String FILE_NAME = "install.progress";
    private static final String TEMPORARY_NAME = "install.progress.tmp";
    private static final int MAGIC = 0x52455049; // "REPI"
    private static final int VERSION = 1;
    private static final int HEADER_BYTES = 44;
    private static final int ENTRY_HEADER_BYTES = 16;

    private final long snapshotIndex;
    private final long snapshotTerm;
    private final long filesDigest;
    private final int fileCount;
    private final byte[][] nameBytes;
    private final String[] names;
    private final long[] lengths;
    private final int[] checksums;
    private int entryCount;
    private int completeFiles;

    InstallProgress(final long snapshotIndex, final long snapshotTerm, final long filesDigest, final int fileCount)
    {
        if (fileCount < 1 || fileCount > InstallFormat.MAX_FILES)
        {
            throw new IllegalArgumentException("an install has 1 to " + InstallFormat.MAX_FILES + " files: " +
                fileCount);
        }
        this.snapshotIndex = snapshotIndex;
        this.snapshotTerm = snapshotTerm;
        this.filesDigest = filesDigest;
        this.fileCount = fileCount;
        nameBytes = new byte[fileCount][];
        names = new String[fileCount];
        lengths = new long[fileCount];
        checksums = new int[fileCount];
    }

    boolean describes(final long snapshotIndex, final long snapshotTerm, final long filesDigest, final int fileCount)
    {
        return this.snapshotIndex == snapshotIndex && this.snapshotTerm == snapshotTerm &&
            this.filesDigest == filesDigest && this.fileCount == fileCount;
    }

    long snapshotIndex()
    {
        return snapshotIndex;
    }

    long snapshotTerm()
    {
        return snapshotTerm;
    }

    int fileCount()
    {
        return fileCount;
    }

    /** Files seen so far: the complete ones and, after them, the one in progress if any. */
    int entryCount()
    {
        return entryCount;
    }

    int completeFiles()
    {
        return completeFiles;
    }

    String name(final int ordinal)
    {
        return names[ordinal];
    }

    long length(final int ordinal)
    {
        return lengths[ordinal];
    }

    int checksum(final int ordinal)
    {
        return checksums[ordinal];
    }

    /** The ordinal of the file so named, -1 for none. */
    int indexOf(final String name)
    {
        for (int i = 0; i < entryCount; i++)
        {
            if (names[i].equals(name))
            {
                return i;
            }
        }
        return -1;
    }

    /** Whether file {@code ordinal}, already seen, has this name, length and checksum. */
    boolean matches(final int ordinal, final byte[] name, final int nameLength, final long length, final int checksum)
    {
        return lengths[ordinal] == length && checksums[ordinal] == checksum &&
            Arrays.equals(nameBytes[ordinal], 0, nameBytes[ordinal].length, name, 0, nameLength);
    }

    /** Whether an earlier file has this name. */
    boolean hasName(final byte[] name, final int nameLength)
    {
        for (int i = 0; i < entryCount; i++)
        {
            if (Arrays.equals(nameBytes[i], 0, nameBytes[i].length, name, 0, nameLength))
            {
                return true;
            }
        }
        return false;
    }

    /** The next file starts: it becomes the one in progress. */
    void add(final byte[] name, final int nameLength, final long length, final int checksum)
    {
        if (entryCount != completeFiles || entryCount == fileCount)
        {
            throw new IllegalStateException("file " + entryCount + " of " + fileCount + " started while " +
                completeFiles + " are complete");
        }
        nameBytes[entryCount] = Arrays.copyOf(name, nameLength);
        names[entryCount] = new String(name, 0, nameLength, StandardCharsets.UTF_8);
        lengths[entryCount] = length;
        checksums[entryCount] = checksum;
        entryCount++;
    }

    /** The file in progress is whole and checked. */
    void completeCurrent()
    {
        if (entryCount != completeFiles + 1)
        {
            throw new IllegalStateException("no file in progress: " + completeFiles + " of " + entryCount +
                " complete");
        }
        completeFiles++;
    }

    /** File {@code ordinal} is in progress again, and the files after it unknown (a complete file went missing). */
    void reopen(final int ordinal)
    {
        completeFiles = ordinal;
        entryCount = ordinal + 1;
    }

    /** Makes this record the durable one; on an exception the file holds either the old record or this one. */
    void store(final Disk disk, final Path directory) throws IOException
    {
        int bytes = HEADER_BYTES + 4;
        for (int i = 0; i < entryCount; i++)
        {
            bytes += ENTRY_HEADER_BYTES + nameBytes[i].length;
        }
        final ByteBuffer buffer = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(MAGIC).putInt(VERSION).putLong(snapshotIndex).putLong(snapshotTerm).putLong(filesDigest)
            .putInt(fileCount).putInt(completeFiles).putInt(entryCount);
        for (int i = 0; i < entryCount; i++)
        {
            buffer.putLong(lengths[i]).putInt(checksums[i]).putInt(nameBytes[i].length).put(nameBytes[i]);
        }
        final CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 0, bytes - 4);
        buffer.putInt((int)crc.getValue()).flip();
        final Path temporary = directory.resolve(TEMPORARY_NAME);
        try (DiskFile out = disk.open(temporary, true))
        {
            out.setLength(0);
            out.write(buffer, 0);
            out.sync();
        }
        disk.rename(temporary, directory.resolve(FILE_NAME));
        disk.syncDirectory(directory);
    }

    /**
     * The record kept in {@code directory}; null when there is none or it does not validate. A record that does not
     * validate is no reason to stop: the staging directory only holds what the leader can send again.
     */
    static InstallProgress load(final Disk disk, final Path directory) throws IOException
    {
        final Path file = directory.resolve(FILE_NAME);
        if (!disk.exists(file))
        {
            return null;
        }
        final ByteBuffer buffer;
        try (DiskFile in = disk.open(file, false))
        {
            final long length = in.length();
            if (length < HEADER_BYTES + 4 || length > HEADER_BYTES + 4 +
                (long)InstallFormat.MAX_FILES * (ENTRY_HEADER_BYTES + InstallFormat.MAX_FILE_NAME_BYTES))
            {
                return null;
            }
            buffer = ByteBuffer.allocate((int)length).order(ByteOrder.LITTLE_ENDIAN);
            InstallFormat.readFully(in, buffer, 0);
        }
        final int bytes = buffer.capacity();
        final CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 0, bytes - 4);
        if (buffer.getInt(0) != MAGIC || buffer.getInt(4) != VERSION || buffer.getInt(bytes - 4) != (int)crc.getValue())
        {
            return null;
        }
        buffer.position(8);
        final long snapshotIndex = buffer.getLong();
        final long snapshotTerm = buffer.getLong();
        final long filesDigest = buffer.getLong();
        final int fileCount = buffer.getInt();
        final int completeFiles = buffer.getInt();
        final int entryCount = buffer.getInt();
        if (fileCount < 1 || fileCount > InstallFormat.MAX_FILES || entryCount < 0 || entryCount > fileCount ||
            completeFiles < entryCount - 1 || completeFiles > entryCount)
        {
            return null;
        }
        final InstallProgress progress = new InstallProgress(snapshotIndex, snapshotTerm, filesDigest, fileCount);
        final byte[] name = new byte[InstallFormat.MAX_FILE_NAME_BYTES];
        for (int i = 0; i < entryCount; i++)
        {
            final long length = buffer.getLong();
            final int checksum = buffer.getInt();
            final int nameLength = buffer.getInt();
            if (length < 0 || nameLength <= 0 || nameLength > InstallFormat.MAX_FILE_NAME_BYTES ||
                nameLength > buffer.remaining() - 4)
            {
                return null;
            }
            buffer.get(name, 0, nameLength);
            if (!InstallFormat.isValidFileName(name, nameLength) || progress.hasName(name, nameLength))
            {
                return null;
            }
            progress.add(name, nameLength, length, checksum);
            if (i < completeFiles)
            {
                progress.completeCurrent();
            }
        }
        return buffer.remaining() == 4 ? progress : null;
    }
}
