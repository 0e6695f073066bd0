package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The read path of saved-session storage (for the repeat process): finds the newest record of (tenant, session
 * id) in the container, else across the live sources, verifies its checksum and copies the payload out. Never
 * involves the business-logic thread; safe against concurrent flushes and merges (it holds a reference to the
 * manifest it reads). One instance per thread; no allocation per read.
 */
public final class StorageReader
{
    /** The session has no payload: never saved, or completed, cancelled or purged. */
    public static final int NOT_FOUND = -1;

    private final SavedSessionStorage storage;
    private final ByteBuffer scratch;
    private final UnsafeBuffer record;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final CRC32C crc = new CRC32C();
    private final byte[] bytes = new byte[4096];

    StorageReader(final SavedSessionStorage storage, final int maxPayloadBytes)
    {
        this.storage = storage;
        this.scratch = ByteBuffer.allocateDirect(StorageRecord.HEADER_LENGTH + maxPayloadBytes)
            .order(ByteOrder.LITTLE_ENDIAN);
        this.record = new UnsafeBuffer(scratch);
    }

    /**
     * Copies the session's payload into {@code destination} at {@code offset}.
     *
     * @return the payload length, or {@link #NOT_FOUND}.
     * @throws StorageCorruptException naming the file and offset when the record fails its checks; nothing is
     *                                 copied then.
     */
    public int read(final int tenant, final long sessionId, final MutableDirectBuffer destination, final int offset)
        throws IOException
    {
        final Container container = storage.container();
        if (container.lookup(tenant, sessionId, record) != Container.NOT_FOUND)
        {
            if (!StorageRecord.verify(record, 0, crc, bytes))
            {
                throw new StorageCorruptException(storage.directory().resolve("container"), 0,
                    "in-memory record of tenant " + tenant + " session " + sessionId + " fails its checksum");
            }
            return copyOut(destination, offset, record);
        }
        final Manifest manifest = storage.acquireManifest();
        try
        {
            SourceFile best = null;
            int bestEntry = -1;
            long bestIndex = Long.MIN_VALUE;
            for (final SourceFile source : manifest.sources)
            {
                final int entry = source.find(tenant, sessionId);
                if (entry >= 0 && source.entryIndex(entry) > bestIndex)
                {
                    best = source;
                    bestEntry = entry;
                    bestIndex = source.entryIndex(entry);
                }
            }
            if (null == best || best.entryPayloadLength(bestEntry) < 0)
            {
                return NOT_FOUND;
            }
            best.readRecord(bestEntry, scratch, view, crc, bytes);
            return copyOut(destination, offset, view);
        }
        finally
        {
            manifest.release();
        }
    }

    private static int copyOut(final MutableDirectBuffer destination, final int offset, final UnsafeBuffer from)
    {
        if (from.getShort(StorageRecord.TYPE_OFFSET) == StorageRecord.TOMBSTONE)
        {
            return NOT_FOUND;
        }
        final int length = from.getInt(StorageRecord.LENGTH_OFFSET);
        destination.putBytes(offset, from, StorageRecord.HEADER_LENGTH, length);
        return length;
    }
}
