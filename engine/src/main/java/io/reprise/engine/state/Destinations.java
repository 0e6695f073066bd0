package io.reprise.engine.state;

import static io.reprise.engine.state.SessionTable.NULL;

/**
 * Per-destination figures and queues, in arrays indexed by destination id.
 * <p>
 * A destination belongs to the tenant that first uses it (first save or configure) and keeps that owner.
 * Each destination has a <em>ready</em> queue (due sessions waiting for a worker, in the order they became
 * due) and a <em>dead</em> queue (dead letters, oldest first), both intrusive FIFOs through the records'
 * queue links, so removal from the middle (cancel, single redrive) is O(1).
 */
public final class Destinations
{
    /** Owner value of a destination no tenant has used yet. */
    public static final int NO_OWNER = 0;

    private final SessionTable table;
    private final int count;
    private final int defaultInFlightLimit;
    /**
     * One past the highest destination ever changed: every one from here on has no owner, the default in-flight
     * limit, zero counts and empty queues. A freeze copies only these, not all {@link #count} (65,536 by default,
     * whose 11 arrays took 0.5-1 ms to copy at each freeze).
     */
    private int used;
    private final int[] owner;
    private final int[] inFlightLimit;
    private final int[] pending;
    private final int[] ready;
    private final int[] inFlight;
    private final int[] dead;
    private final int[] retained;
    private final int[] readyHead;
    private final int[] readyTail;
    private final int[] deadHead;
    private final int[] deadTail;
    private DestinationFigures figures;

    public Destinations(final SessionTable table, final int count, final int defaultInFlightLimit)
    {
        this.table = table;
        this.count = count;
        this.defaultInFlightLimit = defaultInFlightLimit;
        owner = new int[count];
        inFlightLimit = new int[count];
        java.util.Arrays.fill(inFlightLimit, defaultInFlightLimit);
        pending = new int[count];
        ready = new int[count];
        inFlight = new int[count];
        dead = new int[count];
        retained = new int[count];
        readyHead = filled(count);
        readyTail = filled(count);
        deadHead = filled(count);
        deadTail = filled(count);
    }

    /**
     * A copy of {@code live} over {@code table}, of the destinations {@link #used} so far: their figures and queue
     * ends are small enough to copy whole.
     */
    private Destinations(final Destinations live, final SessionTable table)
    {
        this.table = table;
        count = live.count;
        defaultInFlightLimit = live.defaultInFlightLimit;
        used = live.used;
        owner = java.util.Arrays.copyOf(live.owner, used);
        inFlightLimit = java.util.Arrays.copyOf(live.inFlightLimit, used);
        pending = java.util.Arrays.copyOf(live.pending, used);
        ready = java.util.Arrays.copyOf(live.ready, used);
        inFlight = java.util.Arrays.copyOf(live.inFlight, used);
        dead = java.util.Arrays.copyOf(live.dead, used);
        retained = java.util.Arrays.copyOf(live.retained, used);
        readyHead = java.util.Arrays.copyOf(live.readyHead, used);
        readyTail = java.util.Arrays.copyOf(live.readyTail, used);
        deadHead = java.util.Arrays.copyOf(live.deadHead, used);
        deadTail = java.util.Arrays.copyOf(live.deadTail, used);
    }

    /** A copy as it is now, over {@code frozenTable}, for a snapshot (see {@link SessionTable#freeze}). */
    public Destinations freeze(final SessionTable frozenTable)
    {
        return new Destinations(this, frozenTable);
    }

    private static int[] filled(final int count)
    {
        final int[] array = new int[count];
        java.util.Arrays.fill(array, NULL);
        return array;
    }

    public int count()
    {
        return count;
    }

    /**
     * One past the highest destination ever changed: those from here on have no owner, the default in-flight
     * limit, zero counts and empty queues. A frozen view answers only for destinations below it.
     */
    public int used()
    {
        return used;
    }

    private void use(final int destination)
    {
        if (destination >= used)
        {
            used = destination + 1;
        }
    }

    public boolean isValid(final int destination)
    {
        return destination >= 0 && destination < count;
    }

    public int owner(final int destination)
    {
        return owner[destination];
    }

    public void owner(final int destination, final int tenant)
    {
        use(destination);
        owner[destination] = tenant;
        publish(destination, DestinationFigures.OWNER, tenant);
    }

    public int inFlightLimit(final int destination)
    {
        return inFlightLimit[destination];
    }

    public void inFlightLimit(final int destination, final int limit)
    {
        use(destination);
        inFlightLimit[destination] = limit;
        publish(destination, DestinationFigures.IN_FLIGHT_LIMIT, limit);
    }

    /** Sessions waiting for their due time. */
    public int pending(final int destination)
    {
        return pending[destination];
    }

    /** Sessions due and waiting for a worker. */
    public int ready(final int destination)
    {
        return ready[destination];
    }

    public int inFlight(final int destination)
    {
        return inFlight[destination];
    }

    public int dead(final int destination)
    {
        return dead[destination];
    }

    /** Completed and cancelled sessions kept for duplicate detection until their retention ends. */
    public int retained(final int destination)
    {
        return retained[destination];
    }

    public void addPending(final int destination, final int delta)
    {
        use(destination);
        pending[destination] += delta;
        publish(destination, DestinationFigures.PENDING, pending[destination]);
    }

    public void addInFlight(final int destination, final int delta)
    {
        use(destination);
        inFlight[destination] += delta;
        publish(destination, DestinationFigures.IN_FLIGHT, inFlight[destination]);
    }

    public void addRetained(final int destination, final int delta)
    {
        use(destination);
        retained[destination] += delta;
    }

    /** From now on every count change is copied to {@code figures}, starting with all of them now. */
    public void figures(final DestinationFigures figures)
    {
        if (figures.count() != count)
        {
            throw new IllegalArgumentException("figures for " + figures.count() + " destinations, not " + count);
        }
        this.figures = figures;
        publishAll();
    }

    private void publishAll()
    {
        for (int d = 0; d < count; d++)
        {
            publish(d, DestinationFigures.READY, ready[d]);
            publish(d, DestinationFigures.IN_FLIGHT, inFlight[d]);
            publish(d, DestinationFigures.IN_FLIGHT_LIMIT, inFlightLimit[d]);
            publish(d, DestinationFigures.PENDING, pending[d]);
            publish(d, DestinationFigures.DEAD, dead[d]);
            publish(d, DestinationFigures.OWNER, owner[d]);
        }
    }

    private void publish(final int destination, final int field, final int value)
    {
        if (null != figures)
        {
            figures.set(destination, field, value);
        }
    }

    /** The image of all {@link #count} destinations: the unused ones written with their defaults. */
    public void writeTo(final StateOutput out) throws java.io.IOException
    {
        out.putInt(count);
        final int[][] arrays = arrays();
        for (int i = 0; i < arrays.length; i++)
        {
            out.putInts(arrays[i], 0, used);
            final int unused = defaultOf(i);
            for (int d = used; d < count; d++)
            {
                out.putInt(unused);
            }
        }
    }

    /** The value of {@link #arrays}{@code [i]} for a destination never used. */
    private int defaultOf(final int i)
    {
        return i == 0 ? NO_OWNER : i == 1 ? defaultInFlightLimit : i < 7 ? 0 : NULL;
    }

    public void readFrom(final StateInput in) throws java.io.IOException
    {
        final int count = in.getInt();
        if (count != this.count)
        {
            throw new java.io.IOException("image has " + count + " destinations, the rules say " + this.count);
        }
        final int[][] arrays = arrays();
        for (final int[] array : arrays)
        {
            in.getInts(array, 0, count);
        }
        used = 0;
        for (int i = 0; i < arrays.length; i++)
        {
            for (int d = count - 1; d >= used; d--)
            {
                if (arrays[i][d] != defaultOf(i))
                {
                    used = d + 1;
                }
            }
        }
        publishAll();
    }

    private int[][] arrays()
    {
        return new int[][] {
            owner, inFlightLimit, pending, ready, inFlight, dead, retained, readyHead, readyTail, deadHead, deadTail };
    }

    // ---------------------------------------------------------------------------------------------- queues

    public int readyHead(final int destination)
    {
        return readyHead[destination];
    }

    public int deadHead(final int destination)
    {
        return deadHead[destination];
    }

    /** The next record in the ready or dead queue it is on. */
    public int queueNext(final int record)
    {
        return table.queueNext(record);
    }

    public void appendReady(final int destination, final int record)
    {
        append(readyHead, readyTail, destination, record);
        ready[destination]++;
        publish(destination, DestinationFigures.READY, ready[destination]);
    }

    public void removeReady(final int destination, final int record)
    {
        remove(readyHead, readyTail, destination, record);
        ready[destination]--;
        publish(destination, DestinationFigures.READY, ready[destination]);
    }

    public void appendDead(final int destination, final int record)
    {
        append(deadHead, deadTail, destination, record);
        dead[destination]++;
        publish(destination, DestinationFigures.DEAD, dead[destination]);
    }

    public void removeDead(final int destination, final int record)
    {
        remove(deadHead, deadTail, destination, record);
        dead[destination]--;
        publish(destination, DestinationFigures.DEAD, dead[destination]);
    }

    private void append(final int[] heads, final int[] tails, final int destination, final int record)
    {
        use(destination);
        final int tail = tails[destination];
        table.queuePrev(record, tail);
        table.queueNext(record, NULL);
        if (tail == NULL)
        {
            heads[destination] = record;
        }
        else
        {
            table.queueNext(tail, record);
        }
        tails[destination] = record;
    }

    private void remove(final int[] heads, final int[] tails, final int destination, final int record)
    {
        final int prev = table.queuePrev(record);
        final int next = table.queueNext(record);
        if (prev == NULL)
        {
            heads[destination] = next;
        }
        else
        {
            table.queueNext(prev, next);
        }
        if (next == NULL)
        {
            tails[destination] = prev;
        }
        else
        {
            table.queuePrev(next, prev);
        }
        table.queuePrev(record, NULL);
        table.queueNext(record, NULL);
    }
}
