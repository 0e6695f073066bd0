package io.reprise.engine.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.SimulatedDisk;
import org.junit.jupiter.api.Test;

class SnapshotCatalogTest
{
    private static final Path DIR = Path.of("/data/snapshots");
    private final SimulatedDisk disk = new SimulatedDisk(3);

    private static SnapshotInfo info(final long index)
    {
        return new SnapshotInfo(SnapshotFile.nameFor(index), index, 1, 1000 + index, index * 31, 5, 4096);
    }

    private long fileLength() throws IOException
    {
        try (DiskFile file = disk.open(DIR.resolve(SnapshotCatalog.FILE_NAME), false))
        {
            return file.length();
        }
    }

    @Test
    void shouldKeepAddedAndDropRemovedSnapshotsAcrossReopen() throws IOException
    {
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, DIR))
        {
            catalog.add(info(10));
            catalog.add(info(20));
            catalog.add(info(30));
            catalog.remove(info(10));
        }
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, DIR))
        {
            assertEquals(2, catalog.snapshots().size());
            assertEquals(info(20), catalog.snapshots().get(0));
            assertEquals(info(30), catalog.snapshots().get(1));
        }
    }

    @Test
    void shouldCutOffALastEntryThatTheEndOfTheFileCutShort() throws IOException
    {
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, DIR))
        {
            catalog.add(info(10));
            catalog.add(info(20));
        }
        final long length = fileLength();
        try (DiskFile file = disk.open(DIR.resolve(SnapshotCatalog.FILE_NAME), false))
        {
            file.setLength(length - 20);
            file.sync();
        }
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, DIR))
        {
            assertNotNull(catalog.truncation());
            assertEquals(1, catalog.snapshots().size());
            assertEquals(info(10), catalog.snapshots().get(0));
            catalog.add(info(30));
        }
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, DIR))
        {
            assertEquals(2, catalog.snapshots().size());
        }
    }

    @Test
    void shouldRefuseAFlippedBitInAnEntryThatOthersFollow() throws IOException
    {
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, DIR))
        {
            catalog.add(info(10));
            catalog.add(info(20));
        }
        try (DiskFile file = disk.open(DIR.resolve(SnapshotCatalog.FILE_NAME), false))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            file.read(one, 20);
            one.put(0, (byte)(one.get(0) ^ 4)).clear();
            file.write(one, 20);
            file.sync();
        }
        final SnapshotCorruptException ex = assertThrows(SnapshotCorruptException.class,
            () -> SnapshotCatalog.open(disk, DIR));
        assertTrue(ex.getMessage().contains("offset 0"), ex.getMessage());
    }
}
