package io.reprise.tools.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.FileChannelDisk;

/**
 * The real file system, read only: what every diagnostic tool reads a data directory through, so that looking
 * at a damaged directory can never change it (the node's own repair, such as cutting a torn tail, is reported,
 * not done). Any write, sync, create, rename or delete fails with an {@link IOException} that says so.
 */
public final class ReadOnlyDisk implements Disk
{
    private final FileChannelDisk lister = new FileChannelDisk();

    public DiskFile open(final Path file, final boolean create) throws IOException
    {
        if (create && !Files.exists(file))
        {
            throw refused("create", file);
        }
        return new ReadOnlyFile(file, FileChannel.open(file, StandardOpenOption.READ));
    }

    public boolean exists(final Path path)
    {
        return Files.exists(path);
    }

    public List<String> list(final Path directory) throws IOException
    {
        return lister.list(directory);
    }

    public void createDirectories(final Path directory) throws IOException
    {
        if (!Files.isDirectory(directory))
        {
            throw new NoSuchFileException(directory.toString(), null, "read-only tools do not create it");
        }
    }

    public void delete(final Path file) throws IOException
    {
        throw refused("delete", file);
    }

    public void rename(final Path source, final Path target) throws IOException
    {
        throw refused("rename", source);
    }

    public void syncDirectory(final Path directory) throws IOException
    {
        throw refused("sync", directory);
    }

    static IOException refused(final String what, final Path path)
    {
        return new IOException("read-only: the tools do not " + what + " " + path);
    }

    private static final class ReadOnlyFile implements DiskFile
    {
        private final Path path;
        private final FileChannel channel;

        ReadOnlyFile(final Path path, final FileChannel channel)
        {
            this.path = path;
            this.channel = channel;
        }

        public int read(final ByteBuffer destination, final long position) throws IOException
        {
            return channel.read(destination, position);
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            throw refused("write", path);
        }

        public void sync() throws IOException
        {
            throw refused("sync", path);
        }

        public long length() throws IOException
        {
            return channel.size();
        }

        public void setLength(final long length) throws IOException
        {
            throw refused("resize", path);
        }

        public void close() throws IOException
        {
            channel.close();
        }
    }
}
