package io.reprise.engine.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import io.reprise.schema.log.LogEntryHeaderDecoder;
import io.reprise.schema.log.MessageHeaderDecoder;

/**
 * The journal's file format (docs/logs.md). All numbers little-endian.
 * <pre>
 * Segment file "%020d.journal" (first index), preallocated to segmentLength bytes (zeros = unwritten):
 *   0  int64 magic "REPRJRNL"        24 int64 firstIndex
 *   8  int32 formatVersion           32 int64 segmentLength
 *  12  int32 schemaId (log schema)   40 int32 seedChecksum: checksum of the record before firstIndex (0 if none)
 *  16  int32 schemaVersion           44..59 zero
 *  20  int32 zero                    60 int32 headerChecksum: CRC32C of bytes 0..59
 *  64  records, each aligned to 8 bytes:
 *     0 int32 frameLength: bytes from 0 to the end of the operator (padding excluded); 0 = no more records
 *     4 int32 checksum: CRC32C over (previous record's checksum as 4 bytes, then bytes 8..frameLength)
 *     8 LogEntryHeader: SBE message header (8) + index int64, term int64, timestampMs int64 (the leader's clock
 *       when it sequenced the entry; from log schema version 2 on, system time becomes at least this before the
 *       entry is applied)
 *    40 the operator: SBE message header + body
 * </pre>
 * The checksum chain means a record is valid only after the one before it: a stale or misdirected write of an
 * old record cannot pass for the next one.
 */
public final class JournalFormat
{
    public static final long MAGIC = 0x4C4E524A52504552L; // "REPRJRNL" read as little-endian bytes
    public static final int FORMAT_VERSION = 1;
    public static final int SEGMENT_HEADER_LENGTH = 64;
    public static final int RECORD_HEADER_LENGTH = 8;
    public static final int ENTRY_HEADER_LENGTH = MessageHeaderDecoder.ENCODED_LENGTH + LogEntryHeaderDecoder.BLOCK_LENGTH;
    /** Bytes in front of the operator. */
    public static final int RECORD_OVERHEAD = RECORD_HEADER_LENGTH + ENTRY_HEADER_LENGTH;
    public static final int ALIGNMENT = 8;
    /** The log schema version from which an entry's timestamp moves system time before the entry is applied. */
    public static final int ENTRY_TIME_SINCE_VERSION = 2;
    /** Largest operator a record may hold: a maximal payload plus room for the rest of a SaveSession. */
    public static final int MAX_OPERATOR_LENGTH = 1024 * 1024 + 4096;
    public static final int MAX_FRAME_LENGTH = RECORD_OVERHEAD + MAX_OPERATOR_LENGTH;
    /** Scans of a segment's unused end (for bytes a torn write left) read chunks of this size. */
    static final int ZERO_SCAN_CHUNK_BYTES = 64 * 1024;

    static final int OFFSET_MAGIC = 0;
    static final int OFFSET_FORMAT_VERSION = 8;
    static final int OFFSET_SCHEMA_ID = 12;
    static final int OFFSET_SCHEMA_VERSION = 16;
    static final int OFFSET_FIRST_INDEX = 24;
    static final int OFFSET_SEGMENT_LENGTH = 32;
    static final int OFFSET_SEED_CHECKSUM = 40;
    static final int OFFSET_HEADER_CHECKSUM = 60;

    private JournalFormat()
    {
    }

    public static String segmentName(final long firstIndex)
    {
        return String.format("%020d.journal", firstIndex);
    }

    /** @return the first index named by a segment file name, or -1 if it is not a segment's name. */
    public static long firstIndexOf(final String fileName)
    {
        if (fileName.length() != 28 || !fileName.endsWith(".journal"))
        {
            return -1;
        }
        try
        {
            return Long.parseLong(fileName.substring(0, 20));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }

    public static int align(final int length)
    {
        return (length + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** Chained checksum of {@code bytes[position .. position+length)} after {@code previous}. */
    static int chainedChecksum(
        final CRC32C crc, final ByteBuffer seed, final int previous, final ByteBuffer bytes, final int position,
        final int length)
    {
        crc.reset();
        seed.order(ByteOrder.LITTLE_ENDIAN).clear();
        seed.putInt(0, previous);
        crc.update(seed);
        final int oldPosition = bytes.position();
        final int oldLimit = bytes.limit();
        bytes.limit(position + length).position(position);
        crc.update(bytes);
        bytes.limit(oldLimit).position(oldPosition);
        return (int)crc.getValue();
    }

    static void putSegmentHeader(
        final ByteBuffer buffer, final long firstIndex, final long segmentLength, final int seedChecksum,
        final CRC32C crc)
    {
        buffer.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < SEGMENT_HEADER_LENGTH; i++)
        {
            buffer.put(i, (byte)0);
        }
        buffer.putLong(OFFSET_MAGIC, MAGIC);
        buffer.putInt(OFFSET_FORMAT_VERSION, FORMAT_VERSION);
        buffer.putInt(OFFSET_SCHEMA_ID, MessageHeaderDecoder.SCHEMA_ID);
        buffer.putInt(OFFSET_SCHEMA_VERSION, MessageHeaderDecoder.SCHEMA_VERSION);
        buffer.putLong(OFFSET_FIRST_INDEX, firstIndex);
        buffer.putLong(OFFSET_SEGMENT_LENGTH, segmentLength);
        buffer.putInt(OFFSET_SEED_CHECKSUM, seedChecksum);
        buffer.putInt(OFFSET_HEADER_CHECKSUM, headerChecksum(buffer, crc));
    }

    static int headerChecksum(final ByteBuffer buffer, final CRC32C crc)
    {
        crc.reset();
        final int oldPosition = buffer.position();
        final int oldLimit = buffer.limit();
        buffer.limit(OFFSET_HEADER_CHECKSUM).position(0);
        crc.update(buffer);
        buffer.limit(oldLimit).position(oldPosition);
        return (int)crc.getValue();
    }

    /** Position of the first non-zero byte among the first {@code length} of {@code buffer}, or -1. */
    static int firstNonZeroByte(final ByteBuffer buffer, final int length)
    {
        int i = 0;
        while (i + Long.BYTES <= length && buffer.getLong(i) == 0)
        {
            i += Long.BYTES;
        }
        for (; i < length; i++)
        {
            if (buffer.get(i) != 0)
            {
                return i;
            }
        }
        return -1;
    }
}
