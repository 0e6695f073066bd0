package io.reprise.engine.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.BackgroundSync;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.state.StateOutput;

/** Streams a state image into a file through a direct buffer, keeping a CRC32C of everything written. */
final class FileStateOutput implements StateOutput
{
    private final DiskFile file;
    private final ByteBuffer buffer;
    private final CRC32C crc = new CRC32C();
    private long filePosition;
    private long bytesWritten;
    private final BackgroundSync background;

    /** @param writes how the disk takes background writes: this one is synced and paced as a snapshot. */
    FileStateOutput(final DiskFile file, final long filePosition, final BackgroundSync.Settings writes)
    {
        this.file = file;
        this.filePosition = filePosition;
        this.background = BackgroundSync.snapshot(file, writes);
        // One write per sync step at most, so a step never overshoots by a whole buffer; room for a long at least.
        this.buffer = ByteBuffer.allocateDirect((int)Math.max(Long.BYTES, Math.min(1 << 20, writes.stepBytes())))
            .order(ByteOrder.LITTLE_ENDIAN);
    }

    public void putLong(final long value) throws IOException
    {
        room(Long.BYTES);
        buffer.putLong(value);
    }

    public void putInt(final int value) throws IOException
    {
        room(Integer.BYTES);
        buffer.putInt(value);
    }

    public void putLongs(final long[] values, final int offset, final int length) throws IOException
    {
        int done = 0;
        while (done < length)
        {
            room(Long.BYTES);
            final int count = Math.min(length - done, buffer.remaining() / Long.BYTES);
            buffer.asLongBuffer().put(values, offset + done, count);
            buffer.position(buffer.position() + count * Long.BYTES);
            done += count;
        }
    }

    public void putInts(final int[] values, final int offset, final int length) throws IOException
    {
        int done = 0;
        while (done < length)
        {
            room(Integer.BYTES);
            final int count = Math.min(length - done, buffer.remaining() / Integer.BYTES);
            buffer.asIntBuffer().put(values, offset + done, count);
            buffer.position(buffer.position() + count * Integer.BYTES);
            done += count;
        }
    }

    private void room(final int bytes) throws IOException
    {
        if (buffer.remaining() < bytes)
        {
            flush();
        }
    }

    void flush() throws IOException
    {
        buffer.flip();
        crc.update(buffer.duplicate());
        final int length = buffer.remaining();
        file.write(buffer, filePosition);
        filePosition += length;
        bytesWritten += length;
        buffer.clear();
        background.written(length);
    }

    long bytesWritten()
    {
        return bytesWritten;
    }

    long filePosition()
    {
        return filePosition;
    }

    int checksum()
    {
        return (int)crc.getValue();
    }
}
