package io.reprise.engine.util;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;

/**
 * CRC32C of a region of an Agrona buffer, on heap or off heap, through the JDK's intrinsic and without
 * allocating in steady state: a buffer over a {@link ByteBuffer} is read through one cached duplicate of it.
 * One instance per thread.
 */
public final class BufferChecksum
{
    private final CRC32C crc = new CRC32C();
    private ByteBuffer source;
    private ByteBuffer window;
    private byte[] scratch = new byte[0];

    public int crc32c(final DirectBuffer buffer, final int offset, final int length)
    {
        crc.reset();
        final byte[] array = buffer.byteArray();
        final ByteBuffer byteBuffer = buffer.byteBuffer();
        if (null != array)
        {
            crc.update(array, buffer.wrapAdjustment() + offset, length);
        }
        else if (null != byteBuffer)
        {
            if (byteBuffer != source)
            {
                source = byteBuffer;
                window = byteBuffer.duplicate();
            }
            final int start = buffer.wrapAdjustment() + offset;
            window.limit(start + length).position(start);
            crc.update(window);
        }
        else
        {
            // A buffer over a raw address: copy out (not used on any hot path).
            if (scratch.length < length)
            {
                scratch = new byte[length];
            }
            buffer.getBytes(offset, scratch, 0, length);
            crc.update(scratch, 0, length);
        }
        return (int)crc.getValue();
    }
}
