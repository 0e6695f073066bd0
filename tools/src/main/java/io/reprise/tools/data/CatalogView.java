package io.reprise.tools.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotInfo;

/**
 * The snapshot catalog as the node would read it, without touching the file: the bytes of {@code catalog.log}
 * are copied into an in-memory disk at the same path and read there by the engine's own
 * {@link SnapshotCatalog}, so the tools apply exactly the node's rules (checksums, torn last entry, added and
 * removed entries) while a torn tail is only reported, never cut.
 */
public final class CatalogView
{
    private final Path file;
    private final boolean exists;
    private final long fileLength;
    private final List<SnapshotInfo> snapshots;
    private final String truncation;

    private CatalogView(
        final Path file, final boolean exists, final long fileLength, final List<SnapshotInfo> snapshots,
        final String truncation)
    {
        this.file = file;
        this.exists = exists;
        this.fileLength = fileLength;
        this.snapshots = snapshots;
        this.truncation = truncation;
    }

    /**
     * @throws io.reprise.engine.snapshot.SnapshotCorruptException when an entry other than the last fails its
     *                                                             checksum: the node would refuse to start.
     */
    public static CatalogView read(final Path snapshotDirectory) throws IOException
    {
        final Path file = snapshotDirectory.resolve(SnapshotCatalog.FILE_NAME);
        if (!Files.isRegularFile(file))
        {
            return new CatalogView(file, false, 0, List.of(), null);
        }
        final byte[] bytes = Files.readAllBytes(file);
        final SimulatedDisk memory = new SimulatedDisk(0);
        memory.createDirectories(snapshotDirectory);
        try (DiskFile copy = memory.open(file, true))
        {
            copy.write(ByteBuffer.wrap(bytes), 0);
            copy.sync();
        }
        memory.syncDirectory(snapshotDirectory);
        try (SnapshotCatalog catalog = SnapshotCatalog.open(memory, snapshotDirectory))
        {
            return new CatalogView(file, true, bytes.length, List.copyOf(catalog.snapshots()), catalog.truncation());
        }
    }

    public Path file()
    {
        return file;
    }

    public boolean exists()
    {
        return exists;
    }

    public long fileLength()
    {
        return fileLength;
    }

    /** Live snapshots, oldest first. */
    public List<SnapshotInfo> snapshots()
    {
        return snapshots;
    }

    /** What the node would cut off (a torn last entry), or null. */
    public String truncation()
    {
        return truncation;
    }
}
