package io.reprise.engine.state;

import static io.reprise.engine.state.SessionTable.NULL;

/**
 * A hierarchical timing wheel over the records of a {@link SessionTable}, with millisecond ticks.
 * <p>
 * Six levels of 256 slots cover 2^48 ms. A timer due at {@code at} lives at the level of the highest byte in
 * which {@code at} differs from the wheel's current time, in the slot named by that byte of {@code at}. Each slot
 * is a doubly-linked FIFO through the records' timer links, so insert and cancel are O(1) and no node objects
 * exist. Advancing jumps straight to the next non-empty slot through a 256-bit occupancy map per level, so a
 * time jump of days costs no more than the timers it fires. When time reaches the start of a higher slot, that
 * slot's timers are re-placed on lower levels (cascade); timers due at the same millisecond therefore always sit
 * in one slot, in insertion order, and fire in {@code (at, insertion order)}.
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

    private final SessionTable table;
    private final int[] heads = new int[LEVELS * SLOTS];
    private final int[] tails = new int[LEVELS * SLOTS];
    private final long[] occupied = new long[LEVELS * WORDS_PER_LEVEL];
    private long nowMs;
    private int size;

    public TimerWheel(final SessionTable table)
    {
        this.table = table;
        java.util.Arrays.fill(heads, NULL);
        java.util.Arrays.fill(tails, NULL);
    }

    public long nowMs()
    {
        return nowMs;
    }

    public int size()
    {
        return size;
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
            while ((record = heads[due]) != NULL)
            {
                unlink(record);
                size--;
                fired++;
                handler.onTimer(record, eventMs);
            }
        }
    }

    private void cascade(final int bucket)
    {
        int record;
        while ((record = heads[bucket]) != NULL)
        {
            unlink(record);
            place(record, table.timerAt(record));
        }
    }

    /** Places a record whose timer is at or after the current time; at the current time it goes to level 0. */
    private void place(final int record, final long atMs)
    {
        final long differing = atMs ^ nowMs;
        final int level = differing == 0 ? 0 : (63 - Long.numberOfLeadingZeros(differing)) / SLOT_BITS;
        final int bucket = level * SLOTS + slotOf(atMs, level);

        final int tail = tails[bucket];
        table.timerLinks(record, tail, NULL);
        table.timerBucket(record, bucket + 1);
        if (tail == NULL)
        {
            heads[bucket] = record;
            occupied[bucket >>> 6] |= 1L << bucket;
        }
        else
        {
            table.timerNext(tail, record);
        }
        tails[bucket] = record;
    }

    private void unlink(final int record)
    {
        final int bucket = table.timerBucket(record) - 1;
        final int prev = table.timerPrev(record);
        final int next = table.timerNext(record);
        if (prev == NULL)
        {
            heads[bucket] = next;
        }
        else
        {
            table.timerNext(prev, next);
        }
        if (next == NULL)
        {
            tails[bucket] = prev;
        }
        else
        {
            table.timerPrev(next, prev);
        }
        if (heads[bucket] == NULL)
        {
            occupied[bucket >>> 6] &= ~(1L << bucket);
        }
        table.timerLinks(record, NULL, NULL);
        table.timerBucket(record, 0);
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

    public void writeTo(final StateOutput out) throws java.io.IOException
    {
        out.putLong(nowMs);
        out.putInt(size);
        out.putInts(heads, 0, heads.length);
        out.putInts(tails, 0, tails.length);
        out.putLongs(occupied, 0, occupied.length);
    }

    public void readFrom(final StateInput in) throws java.io.IOException
    {
        if (size != 0)
        {
            throw new IllegalStateException("restore into a wheel that is not empty");
        }
        nowMs = in.getLong();
        size = in.getInt();
        in.getInts(heads, 0, heads.length);
        in.getInts(tails, 0, tails.length);
        in.getLongs(occupied, 0, occupied.length);
    }

    /**
     * Visits every scheduled record in a fixed order (level, slot, FIFO): what the state digest hashes, since
     * the order within a slot decides the order of firing.
     */
    public void forEachInOrder(final java.util.function.IntConsumer visitor)
    {
        for (int bucket = 0; bucket < heads.length; bucket++)
        {
            for (int record = heads[bucket]; record != NULL; record = table.timerNext(record))
            {
                visitor.accept(record);
            }
        }
    }
}
