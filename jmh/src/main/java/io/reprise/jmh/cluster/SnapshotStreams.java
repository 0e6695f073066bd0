package io.reprise.jmh.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.logbuffer.FragmentHandler;
import io.reprise.engine.state.StateInput;
import io.reprise.engine.state.StateOutput;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The business state's image ({@link io.reprise.engine.logic.BusinessLogic#writeState}) as a stream of Aeron
 * messages, for the baseline's snapshots: each message is one unfragmented chunk of whole primitives, little-endian,
 * so a value never spans two messages.
 */
final class SnapshotStreams
{
    private SnapshotStreams()
    {
    }

    /** Writes into a snapshot publication, waiting (as a clustered service does) while it is back-pressured. */
    static final class PublicationStateOutput implements StateOutput
    {
        private final ExclusivePublication publication;
        private final IdleStrategy idle;
        private final UnsafeBuffer buffer;
        private int position;

        PublicationStateOutput(final ExclusivePublication publication, final IdleStrategy idle)
        {
            this.publication = publication;
            this.idle = idle;
            final int chunkBytes = publication.maxPayloadLength() & ~(Long.BYTES - 1);
            buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(chunkBytes));
        }

        public void putLong(final long value) throws IOException
        {
            room(Long.BYTES);
            buffer.putLong(position, value, ByteOrder.LITTLE_ENDIAN);
            position += Long.BYTES;
        }

        public void putInt(final int value) throws IOException
        {
            room(Integer.BYTES);
            buffer.putInt(position, value, ByteOrder.LITTLE_ENDIAN);
            position += Integer.BYTES;
        }

        public void putLongs(final long[] values, final int offset, final int length) throws IOException
        {
            for (int i = 0; i < length; i++)
            {
                putLong(values[offset + i]);
            }
        }

        public void putInts(final int[] values, final int offset, final int length) throws IOException
        {
            for (int i = 0; i < length; i++)
            {
                putInt(values[offset + i]);
            }
        }

        private void room(final int bytes) throws IOException
        {
            if (position + bytes > buffer.capacity())
            {
                flush();
            }
        }

        void flush() throws IOException
        {
            if (0 == position)
            {
                return;
            }
            idle.reset();
            while (true)
            {
                final long result = publication.offer(buffer, 0, position);
                if (result > 0)
                {
                    break;
                }
                if (result == Publication.CLOSED || result == Publication.NOT_CONNECTED ||
                    result == Publication.MAX_POSITION_EXCEEDED)
                {
                    throw new IOException("snapshot publication refused a chunk: " + result);
                }
                idle.idle();
            }
            position = 0;
        }
    }

    /** Reads what {@link PublicationStateOutput} wrote, from the snapshot image a clustered service starts with. */
    static final class ImageStateInput implements StateInput, FragmentHandler
    {
        private final Image image;
        private final IdleStrategy idle;
        private final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024));
        private int position;
        private int limit;

        ImageStateInput(final Image image, final IdleStrategy idle)
        {
            this.image = image;
            this.idle = idle;
        }

        public void onFragment(
            final org.agrona.DirectBuffer source, final int offset, final int length, final io.aeron.logbuffer.Header header)
        {
            buffer.putBytes(0, source, offset, length);
            position = 0;
            limit = length;
        }

        public long getLong() throws IOException
        {
            need(Long.BYTES);
            final long value = buffer.getLong(position, ByteOrder.LITTLE_ENDIAN);
            position += Long.BYTES;
            return value;
        }

        public int getInt() throws IOException
        {
            need(Integer.BYTES);
            final int value = buffer.getInt(position, ByteOrder.LITTLE_ENDIAN);
            position += Integer.BYTES;
            return value;
        }

        public void getLongs(final long[] values, final int offset, final int length) throws IOException
        {
            for (int i = 0; i < length; i++)
            {
                values[offset + i] = getLong();
            }
        }

        public void getInts(final int[] values, final int offset, final int length) throws IOException
        {
            for (int i = 0; i < length; i++)
            {
                values[offset + i] = getInt();
            }
        }

        private void need(final int bytes) throws IOException
        {
            if (position < limit)
            {
                if (position + bytes > limit)
                {
                    throw new IOException("snapshot chunk ends inside a value at " + position + " of " + limit);
                }
                return;
            }
            idle.reset();
            while (image.poll(this, 1) == 0)
            {
                if (image.isClosed() || image.isEndOfStream())
                {
                    throw new IOException("snapshot ended before the state did");
                }
                idle.idle();
            }
            if (bytes > limit)
            {
                throw new IOException("snapshot chunk of " + limit + " bytes is shorter than a value");
            }
        }
    }
}
