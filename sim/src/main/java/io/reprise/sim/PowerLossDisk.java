package io.reprise.sim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.ForwardingDiskFile;

/**
 * A disk whose power can fail in the middle of a step: after a chosen number of further writes, syncs, renames,
 * deletes and directory syncs, that call and every call after it fails, as on a machine that lost power while the
 * node was writing. The simulator then crashes the node and the disk underneath, which keeps only what was synced
 * (tearing what was not), so a crash can fall between a write and its sync, or inside a snapshot or a merge.
 */
final class PowerLossDisk extends ForwardingDisk
{
    private long callsLeft = Long.MAX_VALUE;

    PowerLossDisk(final Disk disk)
    {
        super(disk);
    }

    /** Power fails at the {@code calls}-th mutating call from now (1: the next one). */
    void failAfter(final long calls)
    {
        callsLeft = calls;
    }

    boolean powerLost()
    {
        return callsLeft <= 0;
    }

    /** The machine is back: calls succeed again. */
    void restore()
    {
        callsLeft = Long.MAX_VALUE;
    }

    private void spend() throws IOException
    {
        if (callsLeft <= 0 || --callsLeft <= 0)
        {
            callsLeft = 0;
            throw new IOException("power lost (simulated)");
        }
    }

    private void check() throws IOException
    {
        if (callsLeft <= 0)
        {
            throw new IOException("power lost (simulated)");
        }
    }

    public DiskFile open(final Path file, final boolean create) throws IOException
    {
        check();
        return new File(disk.open(file, create));
    }

    public void createDirectories(final Path directory) throws IOException
    {
        spend();
        disk.createDirectories(directory);
    }

    public void delete(final Path file) throws IOException
    {
        spend();
        disk.delete(file);
    }

    public void rename(final Path source, final Path target) throws IOException
    {
        spend();
        disk.rename(source, target);
    }

    public void syncDirectory(final Path directory) throws IOException
    {
        spend();
        disk.syncDirectory(directory);
    }

    private final class File extends ForwardingDiskFile
    {
        File(final DiskFile file)
        {
            super(file);
        }

        public int read(final ByteBuffer destination, final long position) throws IOException
        {
            check();
            return file.read(destination, position);
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            spend();
            file.write(source, position);
        }

        public void writeFrom(final DiskFile source, final long sourcePosition, final long count, final long position)
            throws IOException
        {
            spend();
            super.writeFrom(source, sourcePosition, count, position);
        }

        public void sync() throws IOException
        {
            spend();
            file.sync();
        }

        public void setLength(final long length) throws IOException
        {
            spend();
            file.setLength(length);
        }
    }
}
