package io.reprise.engine.state;

import static io.reprise.engine.state.SessionTable.NULL;

/**
 * A hierarchical timing wheel over the records of a {@link SessionTable}, with millisecond ticks.
 * <p>
 * Six levels of 256 slots cover 2^48 ms. A timer due at {@code at} lives at the level of the highest byte in
 * which {@code at} differs from the wheel's current time, in the slot named by that byte of {@code at}. Each slot
 * is a FIFO kept in an {@code int[]} of record ids: insert appends, cancel leaves a tombstone at the position the
 * record remembers, so both are O(1) and no node objects exist. Advancing jumps straight to the next non-empty
 * slot through a 256-bit occupancy map per level, so a time jump of days costs no more than the timers it fires.
 * When time reaches the start of a higher slot, that slot's timers are re-placed on lower levels (cascade);
 * timers due at the same millisecond therefore always sit in one slot, in insertion order, and fire in
 * {@code (at, insertion order)}.
 * <p>
 * Slots are arrays rather than lists threaded through the records because a cascade then reads the ids in
 * sequence and the records' due times independently of each other: the memory loads overlap, where a list walk
 * waits for each record (a cache miss of hundreds of ns at 10^7 sessions) before it knows the next. A slot
 * compacts its tombstones when it runs out of room, and grows only when more than half of it is live; large
 * arrays go back to a pool when their slot empties, so a wheel in steady state allocates nothing.
 * <p>
 * Not thread safe: owned by the business-logic thread.
 */
public final class TimerWheel
{
    /** Receives timers as they fire; it may schedule new timers, but only after the wheel's current time. */
    @FunctionalInterface
    public interface Handler
    {
        void onTimer(int record, long nowMs);
    }

    /** Latest time the wheel accepts: far beyond any real clock, well inside 48 bits. */
    public static final long MAX_TIME_MS = 1L << 46;

    private static final int LEVELS = 6;
    private static final int SLOT_BITS = 8;
    private static final int SLOTS = 1 << SLOT_BITS;
    private static final int SLOT_MASK = SLOTS - 1;
    private static final int WORDS_PER_LEVEL = SLOTS / 64;

    private static final int BUCKETS = LEVELS * SLOTS;
    private static final int TOMBSTONE = NULL;
    private static final int MIN_CAPACITY = 16;
    /** A slot that empties keeps an array up to this length; longer ones go back to the pool. */
    private static final int MAX_KEPT_CAPACITY = 1024;
    private static final int[] NO_ENTRIES = new int[0];

    private final SessionTable table;
    private final int[][] entries = new int[BUCKETS][];
    private final int[] starts = new int[BUCKETS];
    private final int[] ends = new int[BUCKETS];
    private final int[] lives = new int[BUCKETS];
    private final long[] occupied = new long[LEVELS * WORDS_PER_LEVEL];
    /** Free arrays by log2 of their length. */
    private final int[][][] pool = new int[32][][];
    private final int[] pooled = new int[32];
    private long nowMs;
    private int size;

    public TimerWheel(final SessionTable table)
    {
        this.table = table;
        java.util.Arrays.fill(entries, NO_ENTRIES);
    }

    public long nowMs()
    {
        return nowMs;
    }

    public int size()
    {
        return size;
    }

    /** Bytes held by the slots' arrays and the pool, for footprint reports. */
    public long footprintBytes()
    {
        long bytes = 0;
        for (final int[] array : entries)
        {
            bytes += (long)array.length * Integer.BYTES;
        }
        for (int sizeClass = 0; sizeClass < pool.length; sizeClass++)
        {
            bytes += (long)pooled[sizeClass] * (Integer.BYTES << sizeClass);
        }
        return bytes;
    }

    /** Sets the current time of an empty wheel (restore). */
    public void resetTime(final long nowMs)
    {
        if (size != 0)
        {
            throw new IllegalStateException("wheel not empty: " + size);
        }
        this.nowMs = nowMs;
    }

    /** Schedules the record's timer at {@code atMs}, strictly after the current time; sets its timerAt. */
    public void schedule(final int record, final long atMs)
    {
        if (atMs <= nowMs || atMs > MAX_TIME_MS)
        {
            throw new IllegalStateException("timer at " + atMs + " outside (" + nowMs + ", " + MAX_TIME_MS + "]");
        }
        if (table.timerBucket(record) != 0)
        {
            throw new IllegalStateException("record already on the wheel: " + record);
        }
        table.timerAt(record, atMs);
        place(record, atMs);
        size++;
    }

    /** Removes the record's timer if it has one. */
    public void cancel(final int record)
    {
        if (table.timerBucket(record) != 0)
        {
            unlink(record);
            size--;
        }
    }

    public boolean isScheduled(final int record)
    {
        return table.timerBucket(record) != 0;
    }

    /**
     * Moves time to {@code targetMs}, handing every timer due at or before it to the handler in
     * {@code (at, insertion order)}. While the handler runs, {@link #nowMs()} is the firing timer's time.
     *
     * @return how many timers fired.
     */
    public int advance(final long targetMs, final Handler handler)
    {
        if (targetMs < nowMs)
        {
            throw new IllegalStateException("time goes back: " + targetMs + " < " + nowMs);
        }
        int fired = 0;
        while (true)
        {
            int level = 0;
            int slot = -1;
            for (; level < LEVELS; level++)
            {
                slot = nextOccupiedSlot(level, slotOf(nowMs, level) + 1);
                if (slot >= 0)
                {
                    break;
                }
            }
            if (slot < 0)
            {
                nowMs = targetMs;
                return fired;
            }

            final int shift = level * SLOT_BITS;
            final long blockMask = (1L << (shift + SLOT_BITS)) - 1;
            final long eventMs = (nowMs & ~blockMask) | ((long)slot << shift);
            if (eventMs > targetMs)
            {
                nowMs = targetMs;
                return fired;
            }

            nowMs = eventMs;
            final int bucket = level * SLOTS + slot;
            if (level > 0)
            {
                cascade(bucket);
            }
            final int due = slotOf(eventMs, 0);
            int record;
            while ((record = pollFirst(due)) != NULL)
            {
                size--;
                fired++;
                handler.onTimer(record, eventMs);
            }
        }
    }

    /** Re-places every timer of a higher-level slot whose block has begun; they all land on lower levels. */
    private void cascade(final int bucket)
    {
        final int[] moving = entries[bucket];
        final int end = ends[bucket];
        for (int i = starts[bucket]; i < end; i++)
        {
            final int record = moving[i];
            if (record != TOMBSTONE)
            {
                place(record, table.timerAt(record));
            }
        }
        lives[bucket] = 0;
        emptied(bucket);
    }

    /** Takes the first timer of a slot off the wheel, or returns {@link SessionTable#NULL} when it is empty. */
    private int pollFirst(final int bucket)
    {
        if (lives[bucket] == 0)
        {
            return NULL;
        }
        final int[] array = entries[bucket];
        int i = starts[bucket];
        int record;
        while ((record = array[i]) == TOMBSTONE)
        {
            i++;
        }
        starts[bucket] = i + 1;
        unlink(record);
        return record;
    }

    /** Places a record whose timer is at or after the current time; at the current time it goes to level 0. */
    private void place(final int record, final long atMs)
    {
        final long differing = atMs ^ nowMs;
        final int level = differing == 0 ? 0 : (63 - Long.numberOfLeadingZeros(differing)) / SLOT_BITS;
        final int bucket = level * SLOTS + slotOf(atMs, level);

        int end = ends[bucket];
        if (end == entries[bucket].length)
        {
            makeRoom(bucket);
            end = ends[bucket];
        }
        entries[bucket][end] = record;
        ends[bucket] = end + 1;
        table.timerPosition(record, end);
        table.timerBucket(record, bucket + 1);
        if (lives[bucket]++ == 0)
        {
            occupied[bucket >>> 6] |= 1L << bucket;
        }
    }

    private void unlink(final int record)
    {
        final int bucket = table.timerBucket(record) - 1;
        entries[bucket][table.timerPosition(record)] = TOMBSTONE;
        table.timerPosition(record, NULL);
        table.timerBucket(record, 0);
        if (--lives[bucket] == 0)
        {
            emptied(bucket);
        }
    }

    private void emptied(final int bucket)
    {
        occupied[bucket >>> 6] &= ~(1L << bucket);
        starts[bucket] = 0;
        ends[bucket] = 0;
        final int[] array = entries[bucket];
        if (array.length > MAX_KEPT_CAPACITY)
        {
            release(array);
            entries[bucket] = NO_ENTRIES;
        }
    }

    /** A full slot: drops its tombstones, into an array twice as long when more than half of it is live. */
    private void makeRoom(final int bucket)
    {
        final int[] array = entries[bucket];
        final int live = lives[bucket];
        final int[] target = array.length == 0 ? take(MIN_CAPACITY) :
            live > (array.length >>> 1) ? take(array.length << 1) : array;
        final int end = ends[bucket];
        int position = 0;
        for (int i = starts[bucket]; i < end; i++)
        {
            final int record = array[i];
            if (record != TOMBSTONE)
            {
                target[position] = record;
                if (position != i)
                {
                    table.timerPosition(record, position);
                }
                position++;
            }
        }
        if (target != array && array.length > 0)
        {
            release(array);
        }
        entries[bucket] = target;
        starts[bucket] = 0;
        ends[bucket] = position;
    }

    private int[] take(final int length)
    {
        final int sizeClass = Integer.numberOfTrailingZeros(length);
        if (pooled[sizeClass] > 0)
        {
            final int[] array = pool[sizeClass][--pooled[sizeClass]];
            pool[sizeClass][pooled[sizeClass]] = null;
            return array;
        }
        return new int[length];
    }

    private void release(final int[] array)
    {
        final int sizeClass = Integer.numberOfTrailingZeros(array.length);
        int[][] arrays = pool[sizeClass];
        if (null == arrays || pooled[sizeClass] == arrays.length)
        {
            arrays = null == arrays ? new int[4][] : java.util.Arrays.copyOf(arrays, arrays.length * 2);
            pool[sizeClass] = arrays;
        }
        arrays[pooled[sizeClass]++] = array;
    }

    private int nextOccupiedSlot(final int level, final int fromSlot)
    {
        for (int slot = fromSlot; slot < SLOTS; slot = (slot | 63) + 1)
        {
            final long bits = occupied[level * WORDS_PER_LEVEL + (slot >>> 6)] & (-1L << slot);
            if (bits != 0)
            {
                return (slot & ~63) + Long.numberOfTrailingZeros(bits);
            }
        }
        return -1;
    }

    private static int slotOf(final long timeMs, final int level)
    {
        return (int)(timeMs >>> (level * SLOT_BITS)) & SLOT_MASK;
    }

    /**
     * Visits every scheduled record in a fixed order (level, slot, FIFO): what the state digest hashes, since
     * the order within a slot decides the order of firing.
     */
    public void forEachInOrder(final java.util.function.IntConsumer visitor)
    {
        for (int bucket = 0; bucket < BUCKETS; bucket++)
        {
            final int[] array = entries[bucket];
            for (int i = starts[bucket], end = ends[bucket]; i < end; i++)
            {
                if (array[i] != TOMBSTONE)
                {
                    visitor.accept(array[i]);
                }
            }
        }
    }
}
