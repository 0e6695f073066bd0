package io.reprise.engine.snapshot;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.state.StateInput;

/** Reads a state image from a file region through a direct buffer, keeping a CRC32C of everything read. */
final class FileStateInput implements StateInput
{
    private final DiskFile file;
    private final long end;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private long filePosition;
    private long bytesRead;

    FileStateInput(final DiskFile file, final long start, final long end)
    {
        this.file = file;
        this.filePosition = start;
        this.end = end;
        buffer.limit(0);
    }

    public long getLong() throws IOException
    {
        need(Long.BYTES);
        return buffer.getLong();
    }

    public int getInt() throws IOException
    {
        need(Integer.BYTES);
        return buffer.getInt();
    }

    public void getLongs(final long[] values, final int offset, final int length) throws IOException
    {
        int done = 0;
        while (done < length)
        {
            need(Long.BYTES);
            final int count = Math.min(length - done, buffer.remaining() / Long.BYTES);
            buffer.asLongBuffer().get(values, offset + done, count);
            buffer.position(buffer.position() + count * Long.BYTES);
            done += count;
        }
    }

    public void getInts(final int[] values, final int offset, final int length) throws IOException
    {
        int done = 0;
        while (done < length)
        {
            need(Integer.BYTES);
            final int count = Math.min(length - done, buffer.remaining() / Integer.BYTES);
            buffer.asIntBuffer().get(values, offset + done, count);
            buffer.position(buffer.position() + count * Integer.BYTES);
            done += count;
        }
    }

    private void need(final int bytes) throws IOException
    {
        if (buffer.remaining() >= bytes)
        {
            return;
        }
        buffer.compact();
        final int room = (int)Math.min(buffer.remaining(), end - filePosition);
        final int start = buffer.position();
        buffer.limit(start + room);
        while (buffer.hasRemaining())
        {
            final int read = file.read(buffer, filePosition);
            if (read <= 0)
            {
                break;
            }
            filePosition += read;
        }
        final ByteBuffer fresh = buffer.duplicate();
        fresh.flip().position(start);
        crc.update(fresh);
        bytesRead += buffer.position() - start;
        buffer.flip();
        if (buffer.remaining() < bytes)
        {
            throw new EOFException("state image ends early at file offset " + filePosition);
        }
    }

    /** Bytes consumed by the state so far. */
    long consumed()
    {
        return bytesRead - buffer.remaining();
    }

    /** CRC32C of every byte read from the file; equals the body checksum once the body was read exactly. */
    int checksum()
    {
        return (int)crc.getValue();
    }

    long bytesRead()
    {
        return bytesRead;
    }
}
