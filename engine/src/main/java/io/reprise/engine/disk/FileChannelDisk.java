package io.reprise.engine.disk;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The real {@link Disk}: {@link FileChannel}s, {@code fdatasync}-style syncs and directory syncs. */
public final class FileChannelDisk implements Disk
{
    private final BackgroundSync.Settings backgroundWrites;

    /** Background writes synced in the default steps, not paced: for tools and tests. */
    public FileChannelDisk()
    {
        this(BackgroundSync.Settings.UNPACED);
    }

    public FileChannelDisk(final BackgroundSync.Settings backgroundWrites)
    {
        this.backgroundWrites = backgroundWrites;
    }

    public BackgroundSync.Settings backgroundWrites()
    {
        return backgroundWrites;
    }

    public DiskFile open(final Path file, final boolean create) throws IOException
    {
        final FileChannel channel = create ?
            FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE) :
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new ChannelFile(channel);
    }

    public boolean exists(final Path path)
    {
        return Files.exists(path);
    }

    public List<String> list(final Path directory) throws IOException
    {
        final List<String> names = new ArrayList<>();
        if (!Files.isDirectory(directory))
        {
            return names;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory))
        {
            for (final Path path : stream)
            {
                if (Files.isRegularFile(path))
                {
                    names.add(path.getFileName().toString());
                }
            }
        }
        Collections.sort(names);
        return names;
    }

    public void createDirectories(final Path directory) throws IOException
    {
        Files.createDirectories(directory);
    }

    public void delete(final Path file) throws IOException
    {
        Files.deleteIfExists(file);
    }

    public void rename(final Path source, final Path target) throws IOException
    {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public void syncDirectory(final Path directory) throws IOException
    {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ))
        {
            channel.force(true);
        }
    }

    private static final class ChannelFile implements DiskFile
    {
        private final FileChannel channel;
        private boolean lengthChanged;

        ChannelFile(final FileChannel channel)
        {
            this.channel = channel;
        }

        public int read(final ByteBuffer destination, final long position) throws IOException
        {
            return channel.read(destination, position);
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            long at = position;
            while (source.hasRemaining())
            {
                at += channel.write(source, at);
            }
        }

        public void writeFrom(
            final DiskFile source, final long sourcePosition, final long count, final long position)
            throws IOException
        {
            if (!(source instanceof ChannelFile))
            {
                DiskFile.super.writeFrom(source, sourcePosition, count, position);
                return;
            }
            // FileChannel.transferTo writes at the target's own position (sendfile on Linux): set it first. Every
            // other write of this file is positional, so nothing else depends on that position.
            final FileChannel from = ((ChannelFile)source).channel;
            channel.position(position);
            for (long done = 0; done < count; )
            {
                final long copied = from.transferTo(sourcePosition + done, count - done, channel);
                if (copied <= 0)
                {
                    throw new EOFException("source ends at " + (sourcePosition + done) + ", before " +
                        (sourcePosition + count));
                }
                done += copied;
            }
        }

        public void sync() throws IOException
        {
            // The length is metadata: force it too when it changed, or a crash could cut synced data off.
            channel.force(lengthChanged);
            lengthChanged = false;
        }

        public long length() throws IOException
        {
            return channel.size();
        }

        public void setLength(final long length) throws IOException
        {
            final long size = channel.size();
            lengthChanged |= length != size;
            if (length < size)
            {
                channel.truncate(length);
            }
            else if (length > size)
            {
                // A one-byte write at the end extends the file sparsely: the gap reads as zeros.
                channel.write(ByteBuffer.wrap(new byte[1]), length - 1);
            }
        }

        public void close() throws IOException
        {
            channel.close();
        }
    }
}
