package io.reprise.engine.disk;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** One open file of a {@link Disk}: positional reads and writes, and a sync that makes written data durable. */
public interface DiskFile extends AutoCloseable
{
    /** Reads into {@code destination} from {@code position}; returns bytes read, -1 at end of file. */
    int read(ByteBuffer destination, long position) throws IOException;

    /** Writes all of {@code source} at {@code position}. */
    void write(ByteBuffer source, long position) throws IOException;

    /**
     * Writes {@code count} bytes of {@code source}, from {@code sourcePosition}, at {@code position}: a write of
     * this file like {@link #write}, whose bytes come from another file. This one copies through a heap buffer; a
     * real file copies from another real file in the kernel.
     *
     * @throws EOFException when {@code source} ends first.
     */
    default void writeFrom(final DiskFile source, final long sourcePosition, final long count, final long position)
        throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate((int)Math.min(count, 1 << 20));
        for (long done = 0; done < count; )
        {
            buffer.clear().limit((int)Math.min(buffer.capacity(), count - done));
            while (buffer.hasRemaining())
            {
                if (source.read(buffer, sourcePosition + done + buffer.position()) < 0)
                {
                    throw new EOFException("source ends at " + (sourcePosition + done + buffer.position()) +
                        ", before " + (sourcePosition + count));
                }
            }
            write(buffer.flip(), position + done);
            done += buffer.limit();
        }
    }

    /** Makes every write so far durable (data, and the length when it changed). */
    void sync() throws IOException;

    long length() throws IOException;

    /** Cuts or extends the file; extension reads as zeros. */
    void setLength(long length) throws IOException;

    void close() throws IOException;
}
