package io.reprise.engine.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.schema.files.CatalogEntryDecoder;
import io.reprise.schema.files.CatalogEntryEncoder;
import io.reprise.schema.files.CatalogEntryType;
import io.reprise.schema.files.MessageHeaderDecoder;
import io.reprise.schema.files.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The snapshot catalog, "the log that holds the names of the snapshots" (seed, start-up step 1): an append-only
 * file {@code catalog.log} of checksummed entries, each synced before it counts.
 * <pre>
 *   entry: int32 frameLength | int32 CRC32C of bytes 8..frameLength | CatalogEntry (SBE header + block + name)
 *   frameLength 0 = end; entries aligned to 8 bytes
 * </pre>
 * A snapshot is live from its SNAPSHOT_ADDED entry until a SNAPSHOT_REMOVED entry for the same file. A torn
 * last entry (crash while appending) is cut off; any other entry that fails its checksum stops start-up.
 */
public final class SnapshotCatalog implements AutoCloseable
{
    public static final String FILE_NAME = "catalog.log";
    private static final int MAX_ENTRY_LENGTH = 2048;

    private final Disk disk;
    private final Path directory;
    private final DiskFile file;
    private final List<SnapshotInfo> live = new ArrayList<>();
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer entryBuffer = ByteBuffer.allocate(MAX_ENTRY_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final UnsafeBuffer entryView = new UnsafeBuffer(entryBuffer);
    private long endOffset;
    private String truncation;

    private SnapshotCatalog(final Disk disk, final Path directory, final DiskFile file)
    {
        this.disk = disk;
        this.directory = directory;
        this.file = file;
    }

    /** Opens (or creates) the catalog and reads every entry. */
    public static SnapshotCatalog open(final Disk disk, final Path directory) throws IOException
    {
        disk.createDirectories(directory);
        final boolean existed = disk.exists(directory.resolve(FILE_NAME));
        final SnapshotCatalog catalog = new SnapshotCatalog(disk, directory, disk.open(directory.resolve(FILE_NAME), true));
        if (!existed)
        {
            disk.syncDirectory(directory);
        }
        catalog.readAll();
        return catalog;
    }

    private void readAll() throws IOException
    {
        final long length = file.length();
        final ByteBuffer all = ByteBuffer.allocate((int)length).order(ByteOrder.LITTLE_ENDIAN);
        while (all.hasRemaining() && file.read(all, all.position()) > 0)
        {
            // read fully
        }
        final UnsafeBuffer view = new UnsafeBuffer(all.array(), 0, all.position());
        final MessageHeaderDecoder header = new MessageHeaderDecoder();
        final CatalogEntryDecoder entry = new CatalogEntryDecoder();
        int offset = 0;
        final int end = all.position();
        while (offset + 8 <= end)
        {
            final int frameLength = view.getInt(offset, ByteOrder.LITTLE_ENDIAN);
            if (frameLength == 0)
            {
                break;
            }
            final boolean plausible = frameLength >= 8 + MessageHeaderDecoder.ENCODED_LENGTH &&
                frameLength <= MAX_ENTRY_LENGTH;
            final boolean fits = plausible && offset + frameLength <= end;
            if (!fits || view.getInt(offset + 4, ByteOrder.LITTLE_ENDIAN) != checksum(all, offset + 8, frameLength - 8))
            {
                if (isTorn(all, offset, frameLength, end))
                {
                    truncation = "truncated torn catalog entry at offset " + offset;
                    cutAt(offset);
                    break;
                }
                throw new SnapshotCorruptException(directory.resolve(FILE_NAME), offset,
                    "catalog entry fails its checksum and is not a torn last entry");
            }
            header.wrap(view, offset + 8);
            entry.wrap(view, offset + 8 + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(), header.version());
            final SnapshotInfo info = new SnapshotInfo(entry.fileName(), entry.index(), entry.term(),
                entry.systemTimeMs(), entry.stateDigest(), entry.createdAtMs(), entry.fileLength());
            if (entry.entryType() == CatalogEntryType.SNAPSHOT_ADDED)
            {
                live.add(info);
            }
            else
            {
                live.removeIf((s) -> s.fileName().equals(info.fileName()));
            }
            offset += align(frameLength);
        }
        endOffset = offset;
    }

    /**
     * Whether a bad entry is the torn tail of an interrupted append: nothing written follows it, and it is cut
     * short by the end of the file or one of its 512-byte sectors never reached the disk.
     */
    private static boolean isTorn(final ByteBuffer all, final int offset, final int frameLength, final int end)
    {
        final int declaredEnd = frameLength >= 8 && frameLength <= MAX_ENTRY_LENGTH ?
            offset + align(frameLength) : end;
        for (int i = declaredEnd; i < end; i++)
        {
            if (all.get(i) != 0)
            {
                return false;
            }
        }
        if (declaredEnd > end)
        {
            return true;
        }
        final int sector = Disk.SECTOR_BYTES;
        for (int s = offset / sector; s * sector < declaredEnd; s++)
        {
            boolean zero = true;
            for (int i = s * sector; i < Math.min(end, (s + 1) * sector) && zero; i++)
            {
                zero = all.get(i) == 0;
            }
            if (zero)
            {
                return true;
            }
        }
        return false;
    }

    private void cutAt(final int offset) throws IOException
    {
        file.setLength(offset);
        file.sync();
    }

    private int checksum(final ByteBuffer bytes, final int offset, final int length)
    {
        crc.reset();
        crc.update(bytes.array(), offset, length);
        return (int)crc.getValue();
    }

    private static int align(final int length)
    {
        return (length + 7) & -8;
    }

    /** Live snapshots, oldest first. */
    public List<SnapshotInfo> snapshots()
    {
        return Collections.unmodifiableList(live);
    }

    public String truncation()
    {
        return truncation;
    }

    public Path directory()
    {
        return directory;
    }

    /** Records a snapshot whose file is already durable. After return the entry is durable too. */
    public void add(final SnapshotInfo info) throws IOException
    {
        append(CatalogEntryType.SNAPSHOT_ADDED, info);
        live.add(info);
    }

    /** Records that a snapshot no longer counts; delete its file only after this returns. */
    public void remove(final SnapshotInfo info) throws IOException
    {
        append(CatalogEntryType.SNAPSHOT_REMOVED, info);
        live.removeIf((s) -> s.fileName().equals(info.fileName()));
    }

    private void append(final CatalogEntryType type, final SnapshotInfo info) throws IOException
    {
        final CatalogEntryEncoder encoder = new CatalogEntryEncoder()
            .wrapAndApplyHeader(entryView, 8, new MessageHeaderEncoder())
            .index(info.index())
            .term(info.term())
            .systemTimeMs(info.systemTimeMs())
            .stateDigest(info.stateDigest())
            .createdAtMs(info.createdAtMs())
            .fileLength(info.fileLength())
            .entryType(type)
            .fileName(info.fileName());
        final int frameLength = 8 + MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();
        final int aligned = align(frameLength);
        for (int i = frameLength; i < aligned; i++)
        {
            entryBuffer.put(i, (byte)0);
        }
        entryView.putInt(0, frameLength, ByteOrder.LITTLE_ENDIAN);
        entryView.putInt(4, checksum(entryBuffer, 8, frameLength - 8), ByteOrder.LITTLE_ENDIAN);
        file.write(ByteBuffer.wrap(entryBuffer.array(), 0, aligned), endOffset);
        file.sync();
        endOffset += aligned;
    }

    public void close() throws IOException
    {
        file.close();
    }
}
