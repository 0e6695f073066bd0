package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A {@link DiskFile} that passes every call to another: subclasses override only what they watch or refuse. */
public abstract class ForwardingDiskFile implements DiskFile
{
    protected final DiskFile file;

    protected ForwardingDiskFile(final DiskFile file)
    {
        this.file = file;
    }

    public int read(final ByteBuffer destination, final long position) throws IOException
    {
        return file.read(destination, position);
    }

    public void write(final ByteBuffer source, final long position) throws IOException
    {
        file.write(source, position);
    }

    /** Forwards with {@code source} unwrapped too, so that two real files still copy in the kernel. */
    public void writeFrom(final DiskFile source, final long sourcePosition, final long count, final long position)
        throws IOException
    {
        DiskFile from = source;
        while (from instanceof ForwardingDiskFile)
        {
            from = ((ForwardingDiskFile)from).file;
        }
        file.writeFrom(from, sourcePosition, count, position);
    }

    public void sync() throws IOException
    {
        file.sync();
    }

    public long length() throws IOException
    {
        return file.length();
    }

    public void setLength(final long length) throws IOException
    {
        file.setLength(length);
    }

    public void close() throws IOException
    {
        file.close();
    }
}
