package io.reprise.engine.state;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A copy of each destination's counts that other threads may read while the business logic runs: the repeat
 * process sizes its {@code BeginRepeats} from it and the node's counters sum it. {@link Destinations} writes it on
 * the business-logic thread with ordered stores whenever a count changes; a reader sees each count as of some
 * recent operator, never a torn value.
 */
public final class DestinationFigures
{
    public static final int READY = 0;
    public static final int IN_FLIGHT = 1;
    public static final int IN_FLIGHT_LIMIT = 2;
    public static final int PENDING = 3;
    public static final int DEAD = 4;
    /** The tenant the destination belongs to, {@link Destinations#NO_OWNER} before its first use. */
    public static final int OWNER = 5;
    private static final int FIELDS = 6;

    private final int count;
    private final UnsafeBuffer buffer;

    public DestinationFigures(final int count)
    {
        this.count = count;
        buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(count * FIELDS * Integer.BYTES));
    }

    public int count()
    {
        return count;
    }

    public int get(final int destination, final int field)
    {
        return buffer.getIntVolatile(offset(destination, field));
    }

    /** The sum of one field over every destination. */
    public long total(final int field)
    {
        long total = 0;
        for (int d = 0; d < count; d++)
        {
            total += buffer.getIntVolatile(offset(d, field));
        }
        return total;
    }

    void set(final int destination, final int field, final int value)
    {
        buffer.putIntOrdered(offset(destination, field), value);
    }

    private static int offset(final int destination, final int field)
    {
        return (destination * FIELDS + field) * Integer.BYTES;
    }
}
