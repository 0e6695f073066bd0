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
import static org.junit.jupiter.api.Assertions.assertFalse;

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
}
