package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.ByteBuffer;

/** One open file of a {@link Disk}: positional reads and writes, and a sync that makes written data durable. */
public interface DiskFile extends AutoCloseable
{
    /** Reads into {@code destination} from {@code position}; returns bytes read, -1 at end of file. */
    int read(ByteBuffer destination, long position) throws IOException;

    /** Writes all of {@code source} at {@code position}. */
    void write(ByteBuffer source, long position) throws IOException;

    /** Makes every write so far durable (data, and the length when it changed). */
    void sync() throws IOException;

    long length() throws IOException;

    /** Cuts or extends the file; extension reads as zeros. */
    void setLength(long length) throws IOException;

    void close() throws IOException;
}
