package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A {@link Disk} that passes every call to another: subclasses override only what they watch or refuse. */
public abstract class ForwardingDisk implements Disk
{
    protected final Disk disk;

    protected ForwardingDisk(final Disk disk)
    {
        this.disk = disk;
    }

    public DiskFile open(final Path file, final boolean create) throws IOException
    {
        return disk.open(file, create);
    }

    public boolean exists(final Path path)
    {
        return disk.exists(path);
    }

    public List<String> list(final Path directory) throws IOException
    {
        return disk.list(directory);
    }

    public void createDirectories(final Path directory) throws IOException
    {
        disk.createDirectories(directory);
    }

    public void delete(final Path file) throws IOException
    {
        disk.delete(file);
    }

    public void rename(final Path source, final Path target) throws IOException
    {
        disk.rename(source, target);
    }

    public void syncDirectory(final Path directory) throws IOException
    {
        disk.syncDirectory(directory);
    }

    public BackgroundSync.Settings backgroundWrites()
    {
        return disk.backgroundWrites();
    }
}
