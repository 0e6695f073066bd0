package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A crash of a {@link SimulatedDisk} is a function of its seed and its history: the same sectors tear every run. */
class SimulatedDiskCrashTest
{
    private static final int FILES = 64;
    private static final int SECTORS = 16;

    @Test
    void shouldTearTheSameSectorsForTheSameSeedAndHistory() throws IOException
    {
        final long seed = Long.getLong("reprise.disk.seed", System.nanoTime());
        System.out.println("SimulatedDiskCrashTest seed " + seed + " (rerun with -Dreprise.disk.seed=" + seed + ")");
        final List<byte[]> first = crashAndRead(seed);
        final List<byte[]> second = crashAndRead(seed);
        for (int i = 0; i < FILES; i++)
        {
            assertArrayEquals(first.get(i), second.get(i), "file " + i + " differs after the same crash, seed " + seed);
        }
        assertFalse(Arrays.deepEquals(first.toArray(), crashAndRead(seed + 1).toArray()),
            "another seed tears other sectors");
    }

    /** Writes FILES files, syncs half of each, writes more over them, crashes, and reads what was kept. */
    private static List<byte[]> crashAndRead(final long seed) throws IOException
    {
        final SimulatedDisk disk = new SimulatedDisk(seed);
        final Path dir = Path.of("/sim");
        disk.createDirectories(dir);
        disk.syncDirectory(dir);
        final Random content = new Random(42);
        final int length = SECTORS * 512;
        for (int i = 0; i < FILES; i++)
        {
            try (DiskFile file = disk.open(dir.resolve("f" + i), true))
            {
                final byte[] bytes = new byte[length];
                content.nextBytes(bytes);
                file.write(ByteBuffer.wrap(bytes), 0);
                file.sync();
                content.nextBytes(bytes);
                file.write(ByteBuffer.wrap(bytes), 0);
            }
        }
        disk.syncDirectory(dir);
        disk.crash();
        final List<byte[]> kept = new ArrayList<>();
        for (int i = 0; i < FILES; i++)
        {
            try (DiskFile file = disk.open(dir.resolve("f" + i), false))
            {
                final ByteBuffer buffer = ByteBuffer.allocate(length);
                file.read(buffer, 0);
                kept.add(buffer.array());
            }
        }
        return kept;
    }

    private static SimulatedDisk disk(final Path dir) throws IOException
    {
        final SimulatedDisk disk = new SimulatedDisk(3);
        disk.createDirectories(dir);
        disk.syncDirectory(dir);
        return disk;
    }

    private static byte[] read(final DiskFile file, final long position, final int length) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(length);
        file.read(buffer, position);
        return buffer.array();
    }

    /** Regression: a file deleted (or replaced) but not yet durably gone came back with all its unsynced writes. */
    @Test
    void shouldTearTheUnsyncedWritesOfADeletedFileThatTheCrashBringsBack() throws IOException
    {
        final Path dir = Path.of("/sim");
        final SimulatedDisk disk = disk(dir);
        final byte[] ones = new byte[SECTORS * 512];
        Arrays.fill(ones, (byte)1);
        try (DiskFile file = disk.open(dir.resolve("f"), true))
        {
            file.write(ByteBuffer.wrap(new byte[SECTORS * 512]), 0);
            file.sync();
            disk.syncDirectory(dir);
            file.write(ByteBuffer.wrap(ones), 0);
        }
        disk.delete(dir.resolve("f"));
        disk.crash();
        final byte[] kept = read(disk.open(dir.resolve("f"), false), 0, SECTORS * 512);
        int lost = 0;
        for (int s = 0; s < SECTORS; s++)
        {
            final byte[] sector = Arrays.copyOfRange(kept, s * 512, (s + 1) * 512);
            assertTrue(Arrays.equals(new byte[512], sector) ||
                Arrays.equals(Arrays.copyOf(ones, 512), sector), "sector " + s + " is old or new");
            lost += Arrays.equals(new byte[512], sector) ? 1 : 0;
        }
        assertTrue(lost > 0, "some unsynced sector is lost");
    }

    /** Regression: bytes written past the durable length and lost in a crash came back when the file grew. */
    @Test
    void shouldReadZerosWhereAFileGrowsAfterACrashLostItsEnd() throws IOException
    {
        final Path dir = Path.of("/sim");
        final SimulatedDisk disk = disk(dir);
        final byte[] ones = new byte[SECTORS * 512];
        Arrays.fill(ones, (byte)1);
        try (DiskFile file = disk.open(dir.resolve("f"), true))
        {
            file.sync();
            disk.syncDirectory(dir);
            file.write(ByteBuffer.wrap(ones), 0);
        }
        disk.crash();
        try (DiskFile file = disk.open(dir.resolve("f"), false))
        {
            assertEquals(0, file.length());
            file.setLength(SECTORS * 512);
            assertArrayEquals(new byte[SECTORS * 512], read(file, 0, SECTORS * 512));
        }
    }

    /** Regression: a file cut short and grown again, then synced, got its old bytes back in a crash. */
    @Test
    void shouldKeepZerosWhereAFileWasCutAndGrownBeforeItsSync() throws IOException
    {
        final Path dir = Path.of("/sim");
        final SimulatedDisk disk = disk(dir);
        final byte[] ones = new byte[SECTORS * 512];
        Arrays.fill(ones, (byte)1);
        try (DiskFile file = disk.open(dir.resolve("f"), true))
        {
            file.write(ByteBuffer.wrap(ones), 0);
            file.sync();
            disk.syncDirectory(dir);
            file.setLength(100);
            file.setLength(SECTORS * 512);
            file.sync();
        }
        disk.crash();
        final byte[] kept = read(disk.open(dir.resolve("f"), false), 0, SECTORS * 512);
        assertArrayEquals(Arrays.copyOf(ones, 100), Arrays.copyOf(kept, 100));
        assertArrayEquals(new byte[SECTORS * 512 - 100], Arrays.copyOfRange(kept, 100, SECTORS * 512));
    }
}
