package io.reprise.engine.util;

import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;
import org.agrona.checksum.Crc32c;

/**
 * CRC32C of a region of an Agrona buffer, on heap or off heap, without allocating.
 * One instance per thread: it keeps a reusable {@link CRC32C}.
 */
public final class BufferChecksum
{
    private final CRC32C heapCrc = new CRC32C();

    public int crc32c(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] array = buffer.byteArray();
        if (null != array)
        {
            heapCrc.reset();
            heapCrc.update(array, buffer.wrapAdjustment() + offset, length);
            return (int)heapCrc.getValue();
        }
        return Crc32c.INSTANCE.compute(buffer.addressOffset(), offset, length);
    }
}
