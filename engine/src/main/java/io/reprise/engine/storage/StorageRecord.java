package io.reprise.engine.storage;

import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The layout of one storage record, the same in the container and in a source file (docs/saved_sessions_storage.md):
 * <pre>
 *   0               4               8                              16
 *   +---------------+---------------+------------------------------+
 *   | tenant (i32)  | length (i32)  | sessionId (i64)              |
 *   +---------------+-------+-------+------------------------------+
 *   | index (i64)                   | type  | rsvd  | crc32c (i32) |
 *   +-------------------------------+-------+-------+--------------+
 *   | payload (length bytes), zero padded to a multiple of 8       |
 *   +--------------------------------------------------------------+
 * </pre>
 * {@code index} is the journal index of the operator that produced the record; {@code type} is {@link #PAYLOAD}
 * (the payload of an applied save) or {@link #TOMBSTONE} (the session's payload is no longer needed: it completed,
 * was cancelled or was purged; a tombstone has length 0). The CRC32C covers bytes 0..27 and the payload. Little
 * endian. Records are 8-byte aligned so that the 64-bit fields never straddle.
 */
public final class StorageRecord
{
    public static final int TENANT_OFFSET = 0;
    public static final int LENGTH_OFFSET = 4;
    public static final int SESSION_ID_OFFSET = 8;
    public static final int INDEX_OFFSET = 16;
    public static final int TYPE_OFFSET = 24;
    public static final int CRC_OFFSET = 28;
    public static final int HEADER_LENGTH = 32;

    public static final short PAYLOAD = 1;
    public static final short TOMBSTONE = 2;

    private StorageRecord()
    {
    }

    public static int align(final int length)
    {
        return (length + 7) & ~7;
    }

    /** Bytes a record with a payload of {@code payloadLength} takes, padding included. */
    public static int recordLength(final int payloadLength)
    {
        return align(HEADER_LENGTH + payloadLength);
    }

    /** Writes a whole record at {@code at} (header, payload, padding, checksum); returns its length. */
    public static int write(
        final MutableDirectBuffer to, final int at, final int tenant, final long sessionId, final long index,
        final short type, final DirectBuffer payload, final int offset, final int length, final CRC32C crc,
        final byte[] scratch)
    {
        to.putInt(at + TENANT_OFFSET, tenant);
        to.putInt(at + LENGTH_OFFSET, length);
        to.putLong(at + SESSION_ID_OFFSET, sessionId);
        to.putLong(at + INDEX_OFFSET, index);
        to.putShort(at + TYPE_OFFSET, type);
        to.putShort(at + TYPE_OFFSET + 2, (short)0);
        if (length > 0)
        {
            to.putBytes(at + HEADER_LENGTH, payload, offset, length);
        }
        final int total = recordLength(length);
        to.setMemory(at + HEADER_LENGTH + length, total - HEADER_LENGTH - length, (byte)0);
        to.putInt(at + CRC_OFFSET, checksum(to, at, length, crc, scratch));
        return total;
    }

    /** The CRC32C a record at {@code at} with a payload of {@code length} should carry. */
    public static int checksum(
        final DirectBuffer buffer, final int at, final int length, final CRC32C crc, final byte[] scratch)
    {
        crc.reset();
        final int total = CRC_OFFSET + length;
        int done = 0;
        while (done < total)
        {
            // Bytes 28..31 hold the checksum itself: skip them.
            final int from = done < CRC_OFFSET ? done : done + 4;
            final int chunk = Math.min(scratch.length, done < CRC_OFFSET ? CRC_OFFSET - done : total - done);
            buffer.getBytes(at + from, scratch, 0, chunk);
            crc.update(scratch, 0, chunk);
            done += chunk;
        }
        return (int)crc.getValue();
    }

    /** True when the record at {@code at} (whose {@code length} is within bounds) carries a matching checksum. */
    public static boolean verify(final DirectBuffer buffer, final int at, final CRC32C crc, final byte[] scratch)
    {
        final int length = buffer.getInt(at + LENGTH_OFFSET);
        return buffer.getInt(at + CRC_OFFSET) == checksum(buffer, at, length, crc, scratch);
    }
}
