package io.reprise.engine.disk;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link DiskFile#writeFrom}: in the kernel between real files, through a buffer otherwise, and through wrappers. */
class DiskFileTest
{
    private static final int LENGTH = 3 * 1024 * 1024 + 4321;

    private static byte[] bytes(final int length, final long seed)
    {
        final byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void write(final DiskFile file, final byte[] bytes, final long position) throws IOException
    {
        file.write(ByteBuffer.wrap(bytes), position);
    }

    private static byte[] read(final DiskFile file, final long position, final int length) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining())
        {
            if (file.read(buffer, position + buffer.position()) < 0)
            {
                break;
            }
        }
        return buffer.array();
    }

    /** Copies the middle of a source after a prefix already written, then writes after the copy positionally. */
    private static void assertCopies(final DiskFile source, final DiskFile target) throws IOException
    {
        final byte[] content = bytes(LENGTH, 1);
        write(source, content, 0);
        write(target, bytes(100, 2), 0);
        target.writeFrom(source, 64, LENGTH - 128, 100);
        write(target, bytes(10, 3), 100 + LENGTH - 128);

        assertEquals(100 + LENGTH - 128 + 10, target.length());
        assertArrayEquals(bytes(100, 2), read(target, 0, 100));
        final byte[] copied = read(target, 100, LENGTH - 128);
        final byte[] expected = new byte[LENGTH - 128];
        System.arraycopy(content, 64, expected, 0, expected.length);
        assertArrayEquals(expected, copied);
        assertArrayEquals(bytes(10, 3), read(target, 100 + LENGTH - 128, 10));

        final EOFException ex = assertThrows(EOFException.class, () -> target.writeFrom(source, LENGTH - 10, 20, 0));
        assertEquals(true, ex.getMessage().contains("before " + (LENGTH + 10)), ex.getMessage());
    }

    @Test
    void shouldCopyBetweenRealFiles(@TempDir final Path directory) throws IOException
    {
        final Disk disk = new FileChannelDisk();
        try (DiskFile source = disk.open(directory.resolve("a"), true);
            DiskFile target = disk.open(directory.resolve("b"), true))
        {
            assertCopies(source, target);
        }
    }

    @Test
    void shouldCopyBetweenSimulatedFilesAndKeepTheCopyVolatileUntilSynced() throws IOException
    {
        final SimulatedDisk disk = new SimulatedDisk(5);
        final Path directory = Path.of("/d");
        disk.createDirectories(directory);
        final DiskFile source = disk.open(directory.resolve("a"), true);
        final DiskFile target = disk.open(directory.resolve("b"), true);
        assertCopies(source, target);
        source.sync();
        disk.syncDirectory(directory);
        disk.crash();
        assertEquals(0, disk.open(directory.resolve("b"), false).length(), "the target was never synced");
    }

    /** Wrappers on both sides, as the crash drivers use: still a correct copy, and the target's wrapper sees it. */
    @Test
    void shouldCopyThroughForwardingFiles(@TempDir final Path directory) throws IOException
    {
        final Disk disk = new FileChannelDisk();
        final int[] copies = {0};
        try (DiskFile source = new ForwardingDiskFile(disk.open(directory.resolve("a"), true)) { };
            DiskFile target = new ForwardingDiskFile(disk.open(directory.resolve("b"), true))
            {
                public void writeFrom(final DiskFile from, final long sourcePosition, final long count,
                    final long position) throws IOException
                {
                    copies[0]++;
                    super.writeFrom(from, sourcePosition, count, position);
                }
            })
        {
            assertCopies(source, target);
        }
        assertEquals(2, copies[0]);
    }
}
