package io.reprise.engine.cluster;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.util.Mix64;
import io.reprise.schema.cluster.InstallSnapshotEncoder;
import io.reprise.schema.cluster.MessageHeaderEncoder;

/**
 * What both sides of a full install agree on: its limits, which names a file may have, the checksum of a whole file
 * and the digest that names an install.
 * <p>
 * An install is an ordered list of files (the snapshot, its saved-session manifest, the sources it lists). The
 * leader sends each file as {@code InstallSnapshot} chunks, in order; the follower answers {@code InstallAck} with
 * the position it holds durably. Both are messages of {@code reprise-cluster.xml} (schema 4), after the 8-byte
 * message header, little-endian:
 * <pre>
 *   InstallSnapshot (7), fixed block 76 bytes         InstallAck (8), fixed block 33 bytes
 *    0  term            int64                          0  term          int64  the chunk's, echoed
 *    8  transferId      int64                          8  transferId    int64  the chunk's, echoed
 *   16  snapshotIndex   int64                         16  fileOffset    int64  bytes of fileOrdinal held durably
 *   24  snapshotTerm    int64                         24  followerId    int32
 *   32  fileLength      int64                         28  fileOrdinal   int32
 *   40  fileOffset      int64  where the chunk goes   32  complete      uint8  every file held and checked
 *   48  leaderId        int32
 *   52  fileOrdinal     int32  0 is the snapshot
 *   56  fileCount       int32
 *   60  fileChecksum    int32  CRC32C of the whole file
 *   64  chunkChecksum   int32  CRC32C of this chunk
 *   68  filesDigest     int64  since version 2: {@link #filesDigest}
 *   76  fileName        uint32 length + UTF-8 bytes
 *   ..  chunk           uint32 length + bytes
 * </pre>
 * A position is (fileOrdinal, fileOffset): the follower acknowledges (k, n) when it holds files 0 .. k-1 whole and
 * checked and the first n bytes of file k durably, and sets {@code complete} once it holds them all.
 */
final class InstallFormat
{
    /** A file name is one path element of at most this many UTF-8 bytes. */
    static final int MAX_FILE_NAME_BYTES = 255;
    /** The schema's limit on var data. */
    static final int MAX_CHUNK_BYTES = 1 << 20;
    /** Files in one install: a snapshot, a manifest and the sources it lists. */
    static final int MAX_FILES = 4096;
    /** The longest {@code InstallSnapshot} message without its chunk bytes. */
    static final int MAX_CHUNK_OVERHEAD_BYTES = chunkMessageBytes(MAX_FILE_NAME_BYTES, 0);

    private InstallFormat()
    {
    }

    /** The length of the {@code InstallSnapshot} message that carries {@code chunkBytes} of a file so named. */
    static int chunkMessageBytes(final int nameBytes, final int chunkBytes)
    {
        return MessageHeaderEncoder.ENCODED_LENGTH + InstallSnapshotEncoder.BLOCK_LENGTH +
            InstallSnapshotEncoder.fileNameHeaderLength() + nameBytes + InstallSnapshotEncoder.chunkHeaderLength() +
            chunkBytes;
    }

    /**
     * Whether a follower may create a file of this name in its staging directory: one path element, no separator,
     * not "." or "..", not the receiver's own progress record.
     */
    static boolean isValidFileName(final byte[] name, final int length)
    {
        if (length <= 0 || length > MAX_FILE_NAME_BYTES)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            final byte b = name[i];
            if (b == '/' || b == '\\' || b == 0)
            {
                return false;
            }
        }
        final boolean dots = name[0] == '.' && (length == 1 || (length == 2 && name[1] == '.'));
        return !dots && !startsWith(name, length, InstallProgress.FILE_NAME);
    }

    private static boolean startsWith(final byte[] name, final int length, final String prefix)
    {
        if (length < prefix.length())
        {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++)
        {
            if (name[i] != prefix.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    /** CRC32C of the first {@code length} bytes of {@code file}, read through {@code scratch}. */
    static int checksum(final DiskFile file, final long length, final ByteBuffer scratch, final CRC32C crc)
        throws IOException
    {
        crc.reset();
        for (long position = 0; position < length; )
        {
            scratch.clear().limit((int)Math.min(scratch.capacity(), length - position));
            readFully(file, scratch, position);
            scratch.flip();
            crc.update(scratch);
            position += scratch.limit();
        }
        return (int)crc.getValue();
    }

    /** Fills {@code buffer} from {@code position}; a file that ends first is an error (it changed under us). */
    static void readFully(final DiskFile file, final ByteBuffer buffer, final long position) throws IOException
    {
        final int start = buffer.position();
        while (buffer.hasRemaining())
        {
            if (file.read(buffer, position + buffer.position() - start) < 0)
            {
                throw new EOFException("file ends at " + (position + buffer.position() - start) + ", before " +
                    (position + buffer.limit() - start));
            }
        }
    }

    /**
     * Names an install: every file's name, length and checksum, in order, through the one mixer replicas share. Two
     * leaders may each hold a snapshot of the same index with different saved-session sources; a follower resumes
     * only an install with the same digest, so it never mixes files of both.
     */
    static long filesDigest(
        final byte[][] names, final long[] lengths, final int[] checksums, final int count, final CRC32C crc)
    {
        long digest = Mix64.mix(count);
        for (int i = 0; i < count; i++)
        {
            crc.reset();
            crc.update(names[i], 0, names[i].length);
            digest = Mix64.mix(digest ^ (crc.getValue() << 32 | names[i].length));
            digest = Mix64.mix(digest ^ lengths[i]);
            digest = Mix64.mix(digest ^ (checksums[i] & 0xFFFF_FFFFL));
        }
        return digest;
    }
}
