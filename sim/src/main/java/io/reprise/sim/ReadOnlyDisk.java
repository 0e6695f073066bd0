package io.reprise.sim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.ForwardingDiskFile;

/** The checker's view of a node's disk: it reads, and any write is a bug of the checker, refused loudly. */
final class ReadOnlyDisk extends ForwardingDisk
{
    ReadOnlyDisk(final Disk disk)
    {
        super(disk);
    }

    private static IOException refused(final String what)
    {
        return new IOException("the checker may not " + what);
    }

    public DiskFile open(final Path file, final boolean create) throws IOException
    {
        if (create && !disk.exists(file))
        {
            throw refused("create " + file);
        }
        return new ForwardingDiskFile(disk.open(file, false))
        {
            public void write(final ByteBuffer source, final long position) throws IOException
            {
                throw refused("write");
            }

            public void writeFrom(final DiskFile source, final long sourcePosition, final long count,
                final long position) throws IOException
            {
                throw refused("write");
            }

            public void setLength(final long length) throws IOException
            {
                throw refused("truncate");
            }

            public void sync()
            {
            }
        };
    }

    public void createDirectories(final Path directory) throws IOException
    {
        if (!disk.exists(directory))
        {
            throw refused("create " + directory);
        }
    }

    public void delete(final Path file) throws IOException
    {
        throw refused("delete " + file);
    }

    public void rename(final Path source, final Path target) throws IOException
    {
        throw refused("rename " + source);
    }

    public void syncDirectory(final Path directory)
    {
    }
}
