package io.reprise.transport;

import java.nio.ByteBuffer;

import io.aeron.Publication;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * What one connection's client is still to receive and its publication has not taken yet: responses and
 * session-finished notices from the business-logic thread, refusals and answers from the ingress thread, session
 * states. Allocated once, at connect, and bounded ({@code reprise.client.backlog.bytes}).
 * <p>
 * A producer ({@link #send}, any thread, never blocks, never allocates) offers a message straight to the
 * publication when nothing of the connection waits here and the connection is open for messages, and otherwise
 * appends it; the transport thread ({@link #drain}) offers what waits, in order, as the publication takes it. So
 * each producer's messages reach the client in the order it sent them, and a client that reads slowly loses
 * nothing. When a message does not fit, the backlog is <em>overflowed</em>: it takes nothing more, and the node
 * closes the connection with {@code ConnectionClosed(CLIENT_TOO_SLOW)} after what is already here.
 */
final class ClientBacklog
{
    /** The smallest backlog: its largest message (an eighth of it) still holds every message the node queues. */
    static final int MIN_BYTES = 4 * 1024;
    static final int MAX_BYTES = 64 * 1024 * 1024;
    private static final int MESSAGE_TYPE_ID = 1;

    private final ManyToOneRingBuffer ring;
    private final ControlledMessageHandler offerToPublication = this::offerToPublication;
    /** The publication being drained into; transport thread only. */
    private Publication draining;
    /** Until the connect response is sent, every message waits here, behind it. */
    private volatile boolean open;
    private volatile boolean overflowed;

    ClientBacklog(final int capacityBytes)
    {
        checkCapacity(capacityBytes);
        ring = new ManyToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(capacityBytes + RingBufferDescriptor.TRAILER_LENGTH)));
    }

    /** A backlog size must be a power of two (a ring) in [{@link #MIN_BYTES}, {@link #MAX_BYTES}]. */
    static int checkCapacity(final int capacityBytes)
    {
        if (capacityBytes < MIN_BYTES || capacityBytes > MAX_BYTES || Integer.bitCount(capacityBytes) != 1)
        {
            throw new IllegalArgumentException("client backlog bytes must be a power of two in [" + MIN_BYTES + ", " +
                MAX_BYTES + "]: " + capacityBytes);
        }
        return capacityBytes;
    }

    /**
     * Sends one encoded message to the client: offered at once if nothing waits and the publication takes it,
     * else appended. Any thread; never blocks.
     *
     * @return false when the backlog is overflowed (now or before): the message is not sent, and the connection
     * is being closed.
     */
    boolean send(final Publication publication, final DirectBuffer buffer, final int offset, final int length)
    {
        if (overflowed)
        {
            return false;
        }
        if (open && ring.producerPosition() == ring.consumerPosition() &&
            publication.offer(buffer, offset, length) > 0)
        {
            return true;
        }
        if (!ring.write(MESSAGE_TYPE_ID, buffer, offset, length))
        {
            overflowed = true;
            return false;
        }
        return true;
    }

    /** The connect response is sent: from now on messages may go out. Transport thread. */
    void open()
    {
        open = true;
    }

    boolean isOpen()
    {
        return open;
    }

    boolean isOverflowed()
    {
        return overflowed;
    }

    int capacityBytes()
    {
        return ring.capacity();
    }

    boolean isEmpty()
    {
        return ring.producerPosition() == ring.consumerPosition();
    }

    /** How far producers have appended: a message appended before this call is drained once {@link #drained} passes it. */
    long appended()
    {
        return ring.producerPosition();
    }

    /** How far the transport thread has offered the backlog to the publication. */
    long drained()
    {
        return ring.consumerPosition();
    }

    /**
     * Offers waiting messages, oldest first, until the publication refuses one or {@code limit} are taken.
     * Transport thread only.
     *
     * @return how many the publication took.
     */
    int drain(final Publication publication, final int limit)
    {
        draining = publication;
        return ring.controlledRead(offerToPublication, limit);
    }

    private ControlledMessageHandler.Action offerToPublication(
        final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        // Refused (back-pressured, not yet connected, closed): it stays first in line for the next duty cycle.
        return draining.offer(buffer, index, length) > 0 ?
            ControlledMessageHandler.Action.CONTINUE : ControlledMessageHandler.Action.ABORT;
    }
}
