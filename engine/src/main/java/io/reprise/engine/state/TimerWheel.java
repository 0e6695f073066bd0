package io.reprise.engine.state;

import static io.reprise.engine.state.SessionTable.NULL;

/**
 * A hierarchical timing wheel over the records of a {@link SessionTable}, with millisecond ticks.
 * <p>
 * Four levels of 4,096 slots cover 2^48 ms. A timer due at {@code at} lives at the level of the highest 12-bit
 * digit in which {@code at} differs from the wheel's current time, in the slot named by that digit of {@code at}.
 * Each slot is a FIFO of entries kept in a list of fixed-size chunks: insert appends, cancel leaves a tombstone at
 * the position the record remembers, so both are O(1) and no node objects exist. Advancing jumps straight to the
 * next non-empty slot through a 4,096-bit occupancy map per level, so a time jump of days costs no more than the
 * timers it fires. When time reaches the start of a higher slot, that slot's timers are re-placed on lower levels
 * (cascade); timers due at the same millisecond therefore always sit in one slot, in insertion order, and fire in
 * {@code (at, insertion order)}.
 * <p>
 * A cascade reads no record. At 10^7 sessions a record read is a cache miss of hundreds of ns, and a cascade moves
 * every timer of the next block at once (half a million timers every 4 s at 128 timers/ms), so each entry keeps the
 * low 32 bits of its due time beside its record id: enough to re-place it from levels 1 and 2. Instead of writing
 * its new position into the record, the cascade leaves a <em>forward</em> (new slot and position) where the entry
 * was, and flags the moved entry as forwarded. The record still names the old position, so a cancel follows the
 * forward, one hop; when a forwarded timer fires, its record is being read anyway, and the forward is released
 * then. A chunk whose entries have all moved stays allocated, outside any slot, until its last forward is released.
 * A forwarded entry that cascades a second time, and a timer on level 3 (whose due time does not fit), are re-placed
 * from the record, as before.
 * <p>
 * The next block's level-1 slot is moved down ahead of time, a chunk at a time, while the current block runs, so
 * that entering the block costs what one tick costs: level 0 has two rows of slots (banks), one for the current
 * level-1 block and one for the next, and after each advance the wheel moves chunks of the next block's slot into
 * the next bank until what is left is at most {@code drainPerMs} timers per millisecond left in the block (1,024
 * by default). Once that slot is empty, new timers of the next block go straight to the next bank. FIFO order
 * holds: the slot is drained from its head, and a timer joins the next bank directly only when the slot is empty.
 * One level up the same holds: level 1 has two banks, one per level-2 block (4.7 hours), and the next level-2
 * block's slot is moved into the next bank of level 1 ahead of time, at a sixteenth of that rate; entering a
 * level-2 block then moves at most what that slot still holds (with the first level-1 slot of its bank, whose
 * timers came from it earlier). Without it, every timer of the next 4.7 hours (a retention's purges, say) moved
 * in one tick.
 * How much is moved depends on the time and the slot alone, so every replica, restored or not, moves the same.
 * <p>
 * Chunks of 1,024 entries (8 bytes each) come from a shared free stack and go back to it as soon as all their
 * entries have fired, been cancelled, or moved with their forwards released, so memory follows the live timers and
 * a wheel in steady state allocates nothing. Chunks for the expected number of timers are allocated up front, as
 * the session table's pages are: chunks allocated while serving are born young, and at 10^7 timers copying them
 * out of the young generation paused the node for 330 ms. The free stack hands out the same chunk ids in the same
 * order either way, so preallocation changes no timer's position.
 * <p>
 * Not thread safe: owned by the business-logic thread. Copy-on-write for snapshots as {@link SessionTable}: a
 * {@link #freeze frozen view} copies the bucket lists' heads and links and shares the chunks, and while it is held
 * the first write to each block of 128 entries saves the block as it was ({@link CopyOnWriteRecords}).
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

    private static final int LEVELS = 4;
    private static final int SLOT_BITS = 12;
    private static final int SLOTS = 1 << SLOT_BITS;
    private static final int SLOT_MASK = SLOTS - 1;
    private static final int WORDS_PER_LEVEL = SLOTS / 64;
    /** Levels whose timers' variable digits fit the 32 bits of due time an entry keeps. */
    private static final int LEVELS_WITH_DUE_TIME_IN_ENTRY = 32 / SLOT_BITS;

    /**
     * Rows of slots: two for level 0 (the banks of this and the next level-1 block), two for level 1 (the banks of
     * this and the next level-2 block), then one per level.
     */
    private static final int ROWS = LEVELS + 2;
    private static final int BUCKETS = ROWS * SLOTS;
    /** Timers of the next block left in its level-1 slot per millisecond to go: the rest are moved ahead of time. */
    static final int DRAIN_PER_MS = 1024;
    /**
     * The same for the next level-2 block's slot, whose timers move ahead of time to the next bank of level 1: a
     * sixteenth, since that block is 4,096 times longer.
     */
    private static final int LEVEL_TWO_DRAIN_DIVISOR = 16;
    /** Where {@link #moveChunk} puts a timer: where it belongs now, the next bank of level 0, that of level 1. */
    private static final int TO_ITS_BUCKET = 0;
    private static final int TO_NEXT_LEVEL_ZERO_BANK = 1;
    private static final int TO_NEXT_LEVEL_ONE_BANK = 2;
    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;
    private static final int CHUNK_MASK = CHUNK_SIZE - 1;
    /** Entries saved together before a first write while a view is held: 1 KiB (see {@link CopyOnWriteRecords}). */
    private static final int ENTRIES_PER_SAVED_BLOCK = 128;
    private static final int SAVE_AHEAD_CHUNKS = 48;
    /** Timers whose records are read together before they fire. */
    private static final int FIRE_AHEAD = 16;

    // An entry is a long. Low word: -1 for a tombstone; FORWARD | new position for a forward (new bucket in the
    // high word); otherwise the record id, with FORWARDED set if a forward points at it, and the low 32 bits of its
    // due time in the high word. Record ids stay below 2^29 (the session table's limit), so the bits cannot clash.
    private static final long TOMBSTONE = 0xFFFF_FFFFL;
    private static final int FORWARD = 1 << 31;
    private static final int FORWARDED = 1 << 30;
    private static final int RECORD_MASK = FORWARDED - 1;

    private final SessionTable table;
    /** Per bucket: first and last chunk, read offset in the first chunk, live timers. */
    private final int[] headChunk;
    private final int[] tailChunk;
    private final int[] readOffset;
    private final int[] lives;
    private final long[] occupied;
    private final int drainPerMs;
    private final int levelTwoDrainPerMs;
    /** The event {@link #findNextEvent} found: its time, the bucket to cascade or fire, and that bucket's level. */
    private long eventMs;
    private int eventBucket;
    private int eventLevel;
    /**
     * Per chunk: its entries, the links of its bucket's list, its live entries (or, once all have moved, its
     * forwards not yet released) and where the next append goes.
     */
    private long[][] chunks = new long[64][];
    /** The chunks this wheel may write without saving entries first: all but while a view is held, then none. */
    private long[][] writableChunks = new long[64][];
    private final CopyOnWriteRecords entryCopies;
    /** A view's: it reads the entries of its freeze, through {@link #frozenChunk}. */
    private final boolean frozen;
    /** A view's: the chunk last read through {@link #frozenChunk}, as it was at the freeze. */
    private long[] frozenScratch;
    private int[] chunkNext = new int[64];
    private int[] chunkPrev = new int[64];
    private int[] chunkLive = new int[64];
    private int[] chunkEnd = new int[64];
    private int chunkCount;
    private int[] freeChunks = new int[64];
    private int freeChunkCount;
    private long nowMs;
    private int size;
    /** Sum of what look-ahead read, kept only so that the reads cannot be optimised away. */
    private long touched;

    /** @param expectedTimers sizes the chunks allocated up front (one timer per live or retained session). */
    public TimerWheel(final SessionTable table, final int expectedTimers)
    {
        this(table, DRAIN_PER_MS, expectedTimers);
    }

    /** @param drainPerMs see {@link #DRAIN_PER_MS}; tests make it small so that draining happens all the time. */
    TimerWheel(final SessionTable table, final int drainPerMs, final int expectedTimers)
    {
        this.table = table;
        this.drainPerMs = drainPerMs;
        this.levelTwoDrainPerMs = drainPerMs / LEVEL_TWO_DRAIN_DIVISOR;
        entryCopies = new CopyOnWriteRecords(CHUNK_SIZE, 1, ENTRIES_PER_SAVED_BLOCK);
        frozen = false;
        headChunk = new int[BUCKETS];
        tailChunk = new int[BUCKETS];
        readOffset = new int[BUCKETS];
        lives = new int[BUCKETS];
        occupied = new long[ROWS * WORDS_PER_LEVEL];
        java.util.Arrays.fill(headChunk, NULL);
        java.util.Arrays.fill(tailChunk, NULL);
        preallocateChunks(expectedTimers / CHUNK_SIZE);
    }

    /**
     * A view of {@code live} over {@code table} (its session table's view) holding what the image reads: the
     * bucket lists, copied, and the chunks, shared.
     */
    private TimerWheel(final TimerWheel live, final SessionTable table)
    {
        this.table = table;
        drainPerMs = live.drainPerMs;
        levelTwoDrainPerMs = live.levelTwoDrainPerMs;
        headChunk = live.headChunk.clone();
        readOffset = live.readOffset.clone();
        lives = live.lives.clone();
        tailChunk = null;
        occupied = null;
        chunks = java.util.Arrays.copyOf(live.chunks, live.chunkCount);
        writableChunks = new long[live.chunkCount][];
        entryCopies = live.entryCopies;
        frozen = true;
        chunkNext = java.util.Arrays.copyOf(live.chunkNext, live.chunkCount);
        chunkEnd = java.util.Arrays.copyOf(live.chunkEnd, live.chunkCount);
        chunkCount = live.chunkCount;
        nowMs = live.nowMs;
        size = live.size;
    }

    /**
     * A read-only view of the wheel as it is now, over {@code frozenTable} (the session table's view frozen with
     * it), for a snapshot written on another thread: it answers {@link #writeTo}, {@link #forEachInOrder},
     * {@link #size} and {@link #nowMs}, until {@link #endView}. One at a time.
     */
    public TimerWheel freeze(final SessionTable frozenTable)
    {
        if (frozen)
        {
            throw new IllegalStateException("a frozen view of the state is read-only");
        }
        final TimerWheel view = new TimerWheel(this, frozenTable);
        entryCopies.freeze(chunks, writableChunks);
        return view;
    }

    /** Ends the view frozen last: every chunk is writable again. */
    public void endView()
    {
        entryCopies.endView(chunks, writableChunks);
    }

    /**
     * While a view is held: as {@link SessionTable#saveAhead}, for up to {@link #SAVE_AHEAD_CHUNKS} chunks (as many
     * bytes as a session page).
     *
     * @return whether chunks may be left.
     */
    public boolean saveAhead()
    {
        return entryCopies.saveAhead(chunks, writableChunks, chunkCount, SAVE_AHEAD_CHUNKS);
    }

    /** Allocates, now, a spare for every chunk, so that the copies of a snapshot allocate nothing while serving. */
    public void reserveCopies()
    {
        entryCopies.reserve(chunkCount);
    }

    /**
     * The chunk's entries to read. Reads and writes both go through the table of writable chunks, so that serving
     * keeps one chunk table in cache; while a view is held, the table of every chunk; a view reads its freeze.
     */
    private long[] chunk(final int chunk)
    {
        final long[] entries = writableChunks[chunk];
        return null != entries ? entries : frozen ? frozenChunk(chunk) : chunks[chunk];
    }

    /** A view's read: the chunk's entries as they were at the freeze, valid until the next call. */
    private long[] frozenChunk(final int chunk)
    {
        if (null == frozenScratch)
        {
            frozenScratch = new long[CHUNK_SIZE]; // on the view's thread, not in the freeze
        }
        entryCopies.readFrozen(chunks[chunk], chunk, 0, chunkEnd[chunk], frozenScratch);
        return frozenScratch;
    }

    /**
     * The chunk's entries to write at {@code from..to-1}: the writable chunk, or, while a view is held, the chunk
     * once those entries are saved.
     */
    private long[] writableChunk(final int chunk, final int from, final int to)
    {
        final long[] entries = writableChunks[chunk];
        if (null != entries)
        {
            return entries;
        }
        if (frozen)
        {
            throw new IllegalStateException("a frozen view of the state is read-only");
        }
        entryCopies.save(chunks[chunk], chunk, from, to);
        return chunks[chunk];
    }

    /** Allocates chunks 0..count-1 onto the free stack, chunk 0 on top: the order {@link #takeChunk} would create them. */
    private void preallocateChunks(final int count)
    {
        for (int c = 0; c < count; c++)
        {
            takeChunk();
        }
        for (int c = count - 1; c >= 0; c--)
        {
            freeChunks[freeChunkCount++] = c;
        }
    }

    public long nowMs()
    {
        return nowMs;
    }

    public int size()
    {
        return size;
    }

    /** Bytes held by the chunks (used and free) and their bookkeeping, for footprint reports. */
    public long footprintBytes()
    {
        return (long)chunkCount * CHUNK_SIZE * Long.BYTES + (long)chunks.length * (5 * Integer.BYTES + 8);
    }

    /** Chunks not on the free stack: in slots, or holding forwards not yet released. 0 when the wheel is empty. */
    int chunksInUse()
    {
        return chunkCount - freeChunkCount;
    }

    /** Timers on level {@code level} (both banks for level 0): for tests of where timers sit. */
    int timersOnLevel(final int level)
    {
        int timers = 0;
        final int firstRow = level == 0 ? 0 : level == 1 ? 2 : levelRow(level);
        final int lastRow = level <= 1 ? firstRow + 1 : firstRow;
        for (int bucket = firstRow * SLOTS, end = lastRow * SLOTS + SLOTS; bucket < end; bucket++)
        {
            timers += lives[bucket];
        }
        return timers;
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
        final int bucketPlusOne = table.timerBucket(record);
        if (bucketPlusOne == 0)
        {
            return;
        }
        int bucket = bucketPlusOne - 1;
        int position = table.timerPosition(record);
        final long entry = entryAt(position);
        if (isForward(entry))
        {
            releaseForward(position);
            bucket = (int)(entry >>> 32);
            position = (int)entry & ~FORWARD;
        }
        remove(bucket, position);
        table.timerPosition(record, NULL);
        table.timerBucket(record, 0);
        size--;
    }

    public boolean isScheduled(final int record)
    {
        return table.timerBucket(record) != 0;
    }

    /**
     * A time at or before which nothing fires: the start of the next occupied slot's block, or
     * {@link Long#MAX_VALUE} when no timer is scheduled. The time process need not move time before it.
     */
    public long nextEventLowerBoundMs()
    {
        return findNextEvent() ? eventMs : Long.MAX_VALUE;
    }

    /**
     * Finds the next occupied slot after the current time, in time order: this level-1 block's level-0 slots; the
     * next block's, once none of its timers is left above level 0 (else its level-1 slot comes first, at the next
     * block's start); this level-2 block's level-1 slots; the next level-2 block's, once none of its timers is left
     * on level 2 (else its level-2 slot, with the first level-1 slot of its bank, at its start); then each higher
     * level. Sets {@link #eventMs}, {@link #eventBucket} and {@link #eventLevel}; false if none.
     */
    private boolean findNextEvent()
    {
        final int bank = bankRow(nowMs);
        int slot = nextOccupiedSlot(bank, slotOf(nowMs, 0) + 1);
        if (slot >= 0)
        {
            return event(blockStart(nowMs, 0, slot), bank * SLOTS + slot, 0);
        }
        if (nextLevelOneBlockIsOnLevelZero())
        {
            slot = nextOccupiedSlot(1 - bank, 0);
            if (slot >= 0)
            {
                return event(nextBlockStart(nowMs, 1) | slot, (1 - bank) * SLOTS + slot, 0);
            }
        }
        final int levelOneRow = levelOneRow(nowMs);
        slot = nextOccupiedSlot(levelOneRow, slotOf(nowMs, 1) + 1);
        if (slot >= 0)
        {
            return event(blockStart(nowMs, 1, slot), levelOneRow * SLOTS + slot, 1);
        }
        return findNextEventBeyondThisLevelTwoBlock(levelOneRow);
    }

    /** {@link #findNextEvent} once nothing is left in this level-2 block. */
    private boolean findNextEventBeyondThisLevelTwoBlock(final int levelOneRow)
    {
        final int nextLevelTwoSlot = slotOf(nowMs, 2) + 1;
        if (nextLevelTwoSlot < SLOTS)
        {
            // Until the next level-2 slot is empty, it is the next event, and its cascade starts with the bank's
            // first slot (see advance).
            final int otherRow = levelOneRow ^ 1;
            final int slot = lives[levelRow(2) * SLOTS + nextLevelTwoSlot] == 0 ? nextOccupiedSlot(otherRow, 0) : -1;
            if (slot >= 0)
            {
                return event(nextBlockStart(nowMs, 2) | ((long)slot << SLOT_BITS), otherRow * SLOTS + slot, 1);
            }
        }
        for (int level = 2; level < LEVELS; level++)
        {
            final int slot = nextOccupiedSlot(levelRow(level), slotOf(nowMs, level) + 1);
            if (slot >= 0)
            {
                return event(blockStart(nowMs, level, slot), levelRow(level) * SLOTS + slot, level);
            }
        }
        return false;
    }

    /**
     * Whether every timer of the next level-1 block is on level 0 (in the next bank): its level-1 slot is empty and,
     * when that block begins the next level-2 block, so is that block's level-2 slot.
     */
    private boolean nextLevelOneBlockIsOnLevelZero()
    {
        final int nextBlock = slotOf(nowMs, 1) + 1;
        if (nextBlock < SLOTS)
        {
            return lives[levelOneRow(nowMs) * SLOTS + nextBlock] == 0;
        }
        final int nextLevelTwoSlot = slotOf(nowMs, 2) + 1;
        return nextLevelTwoSlot < SLOTS && lives[(levelOneRow(nowMs) ^ 1) * SLOTS] == 0 &&
            lives[levelRow(2) * SLOTS + nextLevelTwoSlot] == 0;
    }

    private boolean event(final long eventMs, final int bucket, final int level)
    {
        this.eventMs = eventMs;
        eventBucket = bucket;
        eventLevel = level;
        return true;
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
            if (!findNextEvent() || eventMs > targetMs)
            {
                nowMs = targetMs;
                drainAhead();
                return fired;
            }
            final long eventMs = this.eventMs;
            nowMs = eventMs;
            if (eventLevel == 2 && lives[levelOneRow(eventMs) * SLOTS] != 0)
            {
                // Timers already moved ahead from this level-2 slot into its block's first level-1 slot: they were
                // ahead of those still in the level-2 slot, so they move down first.
                cascade(levelOneRow(eventMs) * SLOTS, 1);
            }
            if (eventLevel > 0)
            {
                cascade(eventBucket, eventLevel);
            }
            final int due = bankRow(eventMs) * SLOTS + slotOf(eventMs, 0);
            int touchedChunk = NULL;
            int touchedEnd = 0;
            while (lives[due] != 0)
            {
                // Records about to fire are cold: read the next few together so that their misses overlap.
                if (headChunk[due] != touchedChunk || readOffset[due] >= touchedEnd)
                {
                    touchedChunk = headChunk[due];
                    touchedEnd = touchAhead(touchedChunk, readOffset[due]);
                }
                final int record = pollFirst(due);
                size--;
                fired++;
                handler.onTimer(record, eventMs);
            }
            drainAhead();
        }
    }

    /**
     * Re-places every timer of a higher-level slot whose block has begun; they all land on lower levels. Each chunk
     * goes back to the free stack once read, unless forwards in it are still to be released.
     */
    private void cascade(final int bucket, final int level)
    {
        final long blockStartMs = nowMs & ~((1L << (level * SLOT_BITS)) - 1);
        int chunk = headChunk[bucket];
        int offset = readOffset[bucket];
        while (chunk != NULL)
        {
            final int next = chunkNext[chunk];
            moveChunk(chunk, offset, level, blockStartMs, TO_ITS_BUCKET);
            chunk = next;
            offset = 0;
        }
        headChunk[bucket] = NULL;
        tailChunk[bucket] = NULL;
        readOffset[bucket] = 0;
        lives[bucket] = 0;
        occupied[bucket >>> 6] &= ~(1L << bucket);
    }

    /**
     * Moves timers of the next level-2 block from its level-2 slot to the next bank of level 1, and then those of the
     * next level-1 block from its level-1 slot to the next bank of level 0, each ahead of time and at a bounded
     * rate, so that no block's start has to move all of them at once.
     */
    private void drainAhead()
    {
        final int nextLevelTwoSlot = slotOf(nowMs, 2) + 1;
        if (nextLevelTwoSlot < SLOTS)
        {
            final long nextLevelTwoBlockMs = nextBlockStart(nowMs, 2);
            drainHead(levelRow(2) * SLOTS + nextLevelTwoSlot, (long)levelTwoDrainPerMs * (nextLevelTwoBlockMs - nowMs), 2,
                nextLevelTwoBlockMs, TO_NEXT_LEVEL_ONE_BANK);
        }
        final int nextBlock = slotOf(nowMs, 1) + 1;
        final int bucket;
        if (nextBlock < SLOTS)
        {
            bucket = levelOneRow(nowMs) * SLOTS + nextBlock;
        }
        else if (nextLevelTwoSlot < SLOTS && lives[levelRow(2) * SLOTS + nextLevelTwoSlot] == 0)
        {
            bucket = (levelOneRow(nowMs) ^ 1) * SLOTS; // the next level-2 block's first slot, all on level 1
        }
        else
        {
            return; // some timers of the next level-1 block may still be higher up: they move at its start
        }
        final long nextBlockMs = nextBlockStart(nowMs, 1);
        drainHead(bucket, (long)drainPerMs * (nextBlockMs - nowMs), 1, nextBlockMs, TO_NEXT_LEVEL_ZERO_BANK);
    }

    /** Moves chunks from the head of a slot of {@code level} until at most {@code keep} timers remain in it. */
    private void drainHead(final int bucket, final long keep, final int level, final long blockStartMs,
        final int destination)
    {
        if (lives[bucket] <= keep)
        {
            return;
        }
        while (lives[bucket] > keep)
        {
            final int chunk = headChunk[bucket];
            final int next = chunkNext[chunk];
            lives[bucket] -= moveChunk(chunk, readOffset[bucket], level, blockStartMs, destination);
            headChunk[bucket] = next;
            readOffset[bucket] = 0;
            if (next == NULL)
            {
                tailChunk[bucket] = NULL;
            }
            else
            {
                chunkPrev[next] = NULL;
            }
        }
        if (lives[bucket] == 0)
        {
            releaseList(bucket);
        }
    }

    /**
     * Moves the live entries of a chunk of a level-{@code level} slot, from {@code from}, to where they belong
     * ({@code destination}: where it belongs now, or a next bank), then frees the chunk or keeps it for its forwards. A timer whose due
     * time its entry holds moves without its record being read: a forward takes its place. Returns the live
     * entries moved.
     *
     * @param blockStartMs where the slot's block begins: the due times' digits above {@code level}.
     */
    private int moveChunk(
        final int chunk, final int from, final int level, final long blockStartMs, final int destination)
    {
        final boolean dueTimeInEntry = level <= LEVELS_WITH_DUE_TIME_IN_ENTRY;
        final long varyingMask = (1L << (level * SLOT_BITS)) - 1;
        final long[] entries = writableChunk(chunk, from, chunkEnd[chunk]);
        int moved = 0;
        int forwards = 0;
        for (int i = from, end = chunkEnd[chunk]; i < end; i++)
        {
            final long entry = entries[i];
            if (entry == TOMBSTONE)
            {
                continue;
            }
            moved++;
            final int low = (int)entry;
            final int record = low & RECORD_MASK;
            if (dueTimeInEntry && (low & FORWARDED) == 0)
            {
                final long atMs = blockStartMs | ((entry >>> 32) & varyingMask);
                final int newBucket = bucketFor(atMs, destination);
                final int newPosition = append(newBucket, record | FORWARDED, atMs);
                entries[i] = ((long)newBucket << 32) | (FORWARD | newPosition) & 0xFFFF_FFFFL;
                forwards++;
            }
            else
            {
                // A second move, or a due time the entry does not hold: settle the record itself.
                if ((low & FORWARDED) != 0)
                {
                    releaseForward(table.timerPosition(record));
                }
                entries[i] = TOMBSTONE;
                final long atMs = table.timerAt(record);
                place(record, bucketFor(atMs, destination), atMs);
            }
        }
        if (forwards == 0)
        {
            freeChunk(chunk);
        }
        else
        {
            chunkLive[chunk] = forwards;
            chunkNext[chunk] = NULL;
            chunkPrev[chunk] = NULL;
        }
        return moved;
    }

    /**
     * Reads the records of the next {@link #FIRE_AHEAD} entries of a chunk from {@code from}, about to fire, and then
     * the index slots of those whose firing purges them (about half of what fires). Returns where it stopped.
     */
    private int touchAhead(final int chunk, final int from)
    {
        final long[] entries = chunk(chunk);
        final int end = Math.min(from + FIRE_AHEAD, chunkEnd[chunk]);
        long sum = 0;
        for (int i = from; i < end; i++)
        {
            if (entries[i] != TOMBSTONE)
            {
                sum += table.touch((int)entries[i] & RECORD_MASK);
            }
        }
        for (int i = from; i < end; i++)
        {
            if (entries[i] != TOMBSTONE)
            {
                sum += table.touchHomeSlotIfFinished((int)entries[i] & RECORD_MASK);
            }
        }
        touched += sum;
        return end;
    }

    /** Takes the first timer of a non-empty level-0 slot off the wheel. */
    private int pollFirst(final int bucket)
    {
        // The first chunk has a live entry at or after the read offset: a chunk without any is released at once.
        final int chunk = headChunk[bucket];
        final long[] entries = chunk(chunk);
        int i = readOffset[bucket];
        while (entries[i] == TOMBSTONE)
        {
            i++;
        }
        readOffset[bucket] = i + 1;
        final int low = (int)entries[i];
        final int record = low & RECORD_MASK;
        if ((low & FORWARDED) != 0)
        {
            releaseForward(table.timerPosition(record));
        }
        remove(bucket, (chunk << CHUNK_SHIFT) | i);
        table.timerPosition(record, NULL);
        table.timerBucket(record, 0);
        return record;
    }

    /** Places a record whose timer is at or after the current time; at the current time it goes to level 0. */
    private void place(final int record, final long atMs)
    {
        place(record, bucketOf(atMs), atMs);
    }

    private void place(final int record, final int bucket, final long atMs)
    {
        table.timerPosition(record, append(bucket, record, atMs));
        table.timerBucket(record, bucket + 1);
    }

    /**
     * The bucket of a timer due at {@code atMs}: the level of the highest digit in which it differs from now; a
     * timer of the next level-1 block goes to the next bank of level 0 once none of that block's timers is left
     * above level 0, and one of the next level-2 block to the next bank of level 1 once that block's level-2 slot
     * is empty. So a timer joins a bank ahead of time only behind every earlier timer of its slot.
     */
    private int bucketOf(final long atMs)
    {
        final long differing = atMs ^ nowMs;
        if (differing < SLOTS ||
            (atMs >>> SLOT_BITS) == (nowMs >>> SLOT_BITS) + 1 && nextLevelOneBlockIsOnLevelZero())
        {
            return levelZeroBucket(atMs);
        }
        if (differing < 1L << (2 * SLOT_BITS))
        {
            return levelOneRow(nowMs) * SLOTS + slotOf(atMs, 1);
        }
        return higherBucketOf(atMs, differing);
    }

    /** {@link #bucketOf} for a timer beyond this level-2 block. */
    private int higherBucketOf(final long atMs, final long differing)
    {
        final int level = (63 - Long.numberOfLeadingZeros(differing)) / SLOT_BITS;
        final int slot = slotOf(atMs, level);
        if (level == 2 && slot == slotOf(nowMs, 2) + 1 && lives[levelRow(2) * SLOTS + slot] == 0)
        {
            return (levelOneRow(nowMs) ^ 1) * SLOTS + slotOf(atMs, 1);
        }
        return levelRow(level) * SLOTS + slot;
    }

    /** Where {@link #moveChunk} puts a timer due at {@code atMs}. */
    private int bucketFor(final long atMs, final int destination)
    {
        switch (destination)
        {
            case TO_NEXT_LEVEL_ZERO_BANK:
                return levelZeroBucket(atMs);
            case TO_NEXT_LEVEL_ONE_BANK:
                return levelOneRow(atMs) * SLOTS + slotOf(atMs, 1);
            default:
                return bucketOf(atMs);
        }
    }

    /** The level-0 bucket of {@code atMs}: in the bank of its level-1 block. */
    private static int levelZeroBucket(final long atMs)
    {
        return bankRow(atMs) * SLOTS + slotOf(atMs, 0);
    }

    /** The level-0 row of the level-1 block of {@code timeMs}: blocks alternate between the two banks. */
    private static int bankRow(final long timeMs)
    {
        return (int)(timeMs >>> SLOT_BITS) & 1;
    }

    /** The level-1 row of the level-2 block of {@code timeMs}: blocks alternate between the two banks. */
    private static int levelOneRow(final long timeMs)
    {
        return 2 + ((int)(timeMs >>> (2 * SLOT_BITS)) & 1);
    }

    /** The row of levels 2 and up. */
    private static int levelRow(final int level)
    {
        return level + 2;
    }

    /** Appends an entry for {@code recordBits} (the id and flags) due at {@code atMs}; returns its position. */
    private int append(final int bucket, final int recordBits, final long atMs)
    {
        int chunk = tailChunk[bucket];
        if (chunk == NULL || chunkEnd[chunk] == CHUNK_SIZE)
        {
            final int tail = chunk;
            chunk = takeChunk();
            chunkPrev[chunk] = tail;
            if (tail == NULL)
            {
                headChunk[bucket] = chunk;
                readOffset[bucket] = 0;
            }
            else
            {
                chunkNext[tail] = chunk;
            }
            tailChunk[bucket] = chunk;
        }
        final int offset = chunkEnd[chunk]++;
        writableChunk(chunk, offset, offset + 1)[offset] = (atMs << 32) | (recordBits & 0xFFFF_FFFFL);
        chunkLive[chunk]++;
        if (lives[bucket]++ == 0)
        {
            occupied[bucket >>> 6] |= 1L << bucket;
        }
        return (chunk << CHUNK_SHIFT) | offset;
    }

    private long entryAt(final int position)
    {
        return chunk(position >>> CHUNK_SHIFT)[position & CHUNK_MASK];
    }

    private static boolean isForward(final long entry)
    {
        return entry != TOMBSTONE && ((int)entry & FORWARD) != 0;
    }

    /**
     * A forward has served: free its chunk once its last forward has. The forward itself is left as it is: nothing
     * reads it any more, and writing it would be a cache miss for every forwarded timer that fires.
     */
    private void releaseForward(final int position)
    {
        final int chunk = position >>> CHUNK_SHIFT;
        if (--chunkLive[chunk] == 0)
        {
            freeChunk(chunk);
        }
    }

    /** Tombstones the live entry at {@code position} of {@code bucket}, releasing what empties. */
    private void remove(final int bucket, final int position)
    {
        final int chunk = position >>> CHUNK_SHIFT;
        final int offset = position & CHUNK_MASK;
        writableChunk(chunk, offset, offset + 1)[offset] = TOMBSTONE;
        final boolean chunkDone = --chunkLive[chunk] == 0 && chunkEnd[chunk] == CHUNK_SIZE;
        if (--lives[bucket] == 0)
        {
            releaseList(bucket);
        }
        else if (chunkDone)
        {
            // A full chunk whose entries have all gone: nothing more goes into it, so release it now.
            final int prev = chunkPrev[chunk];
            final int next = chunkNext[chunk];
            if (prev == NULL)
            {
                headChunk[bucket] = next;
                readOffset[bucket] = 0;
            }
            else
            {
                chunkNext[prev] = next;
            }
            if (next == NULL)
            {
                tailChunk[bucket] = prev;
            }
            else
            {
                chunkPrev[next] = prev;
            }
            freeChunk(chunk);
        }
    }

    /** Frees the chunks of a bucket with no live timer left (only tombstones, if anything) and marks it empty. */
    private void releaseList(final int bucket)
    {
        int next;
        for (int c = headChunk[bucket]; c != NULL; c = next)
        {
            next = chunkNext[c];
            freeChunk(c);
        }
        headChunk[bucket] = NULL;
        tailChunk[bucket] = NULL;
        readOffset[bucket] = 0;
        occupied[bucket >>> 6] &= ~(1L << bucket);
    }

    /** A chunk from the free stack, or a new one: empty, unlinked. */
    private int takeChunk()
    {
        if (freeChunkCount > 0)
        {
            return freeChunks[--freeChunkCount];
        }
        final int chunk = chunkCount++;
        if (chunk == chunks.length)
        {
            final int length = chunk * 2;
            chunks = java.util.Arrays.copyOf(chunks, length);
            writableChunks = java.util.Arrays.copyOf(writableChunks, length);
            chunkNext = java.util.Arrays.copyOf(chunkNext, length);
            chunkPrev = java.util.Arrays.copyOf(chunkPrev, length);
            chunkLive = java.util.Arrays.copyOf(chunkLive, length);
            chunkEnd = java.util.Arrays.copyOf(chunkEnd, length);
            freeChunks = java.util.Arrays.copyOf(freeChunks, length);
        }
        chunks[chunk] = entryCopies.newPage();
        writableChunks[chunk] = chunks[chunk];
        chunkNext[chunk] = NULL;
        chunkPrev[chunk] = NULL;
        return chunk;
    }

    private void freeChunk(final int chunk)
    {
        chunkLive[chunk] = 0;
        chunkEnd[chunk] = 0;
        chunkNext[chunk] = NULL;
        chunkPrev[chunk] = NULL;
        freeChunks[freeChunkCount++] = chunk;
    }

    private int nextOccupiedSlot(final int row, final int fromSlot)
    {
        for (int slot = fromSlot; slot < SLOTS; slot = (slot | 63) + 1)
        {
            final long bits = occupied[row * WORDS_PER_LEVEL + (slot >>> 6)] & (-1L << slot);
            if (bits != 0)
            {
                return (slot & ~63) + Long.numberOfTrailingZeros(bits);
            }
        }
        return -1;
    }

    /** The time at which slot {@code slot} of {@code level} begins, in the block of {@code timeMs}. */
    private static long blockStart(final long timeMs, final int level, final int slot)
    {
        final int shift = level * SLOT_BITS;
        final long blockMask = (1L << (shift + SLOT_BITS)) - 1;
        return (timeMs & ~blockMask) | ((long)slot << shift);
    }

    /** Where the next block of {@code level} (the span of one of its slots) after that of {@code timeMs} begins. */
    private static long nextBlockStart(final long timeMs, final int level)
    {
        final int shift = level * SLOT_BITS;
        return ((timeMs >>> shift) + 1) << shift;
    }

    private static int slotOf(final long timeMs, final int level)
    {
        return (int)(timeMs >>> (level * SLOT_BITS)) & SLOT_MASK;
    }

    /**
     * Writes the wheel's image: time, and each occupied slot's live timers in FIFO order (tombstones, forwards and
     * chunk placement are memory layout, not state, and are left out).
     */
    public void writeTo(final StateOutput out) throws java.io.IOException
    {
        out.putLong(nowMs);
        out.putInt(size);
        for (int bucket = 0; bucket < BUCKETS; bucket++)
        {
            if (lives[bucket] == 0)
            {
                continue;
            }
            out.putInt(bucket);
            out.putInt(lives[bucket]);
            forEachInBucket(bucket, out::putInt);
        }
        out.putInt(NULL);
    }

    /** Visits the live records of a bucket in FIFO order; {@code visitor} may throw what {@link #writeTo} does. */
    private void forEachInBucket(final int bucket, final RecordVisitor visitor) throws java.io.IOException
    {
        int offset = readOffset[bucket];
        for (int chunk = headChunk[bucket]; chunk != NULL; chunk = chunkNext[chunk])
        {
            final long[] entries = frozen ? frozenChunk(chunk) : chunk(chunk);
            for (int i = offset, end = chunkEnd[chunk]; i < end; i++)
            {
                if (entries[i] != TOMBSTONE)
                {
                    visitor.accept((int)entries[i] & RECORD_MASK);
                }
            }
            offset = 0;
        }
    }

    @FunctionalInterface
    private interface RecordVisitor
    {
        void accept(int record) throws java.io.IOException;
    }

    /**
     * Restores the image {@link #writeTo} wrote into this empty wheel, after the records were restored: every
     * slot gets the same timers in the same order, so timers fire exactly as they would have.
     */
    public void readFrom(final StateInput in) throws java.io.IOException
    {
        if (size != 0)
        {
            throw new IllegalStateException("restore into a wheel that is not empty");
        }
        nowMs = in.getLong();
        final int expected = in.getInt();
        int restored = 0;
        int bucket;
        while ((bucket = in.getInt()) != NULL)
        {
            final int count = in.getInt();
            if (bucket < 0 || bucket >= BUCKETS || lives[bucket] != 0 || count < 1 || count > expected - restored)
            {
                throw new java.io.IOException("implausible timer wheel image: bucket " + bucket + " count " + count);
            }
            for (int i = 0; i < count; i++)
            {
                final int record = in.getInt();
                if (!table.isLive(record))
                {
                    throw new java.io.IOException("timer wheel image names a free record: " + record);
                }
                table.timerPosition(record, append(bucket, record, table.timerAt(record)));
                table.timerBucket(record, bucket + 1);
            }
            restored += count;
        }
        if (restored != expected)
        {
            throw new java.io.IOException("timer wheel image holds " + restored + " timers, not " + expected);
        }
        size = expected;
    }

    /**
     * Visits every scheduled record in a fixed order (level, slot, FIFO): what the state digest hashes, since
     * the order within a slot decides the order of firing.
     */
    public void forEachInOrder(final java.util.function.IntConsumer visitor)
    {
        final RecordVisitor each = visitor::accept;
        for (int bucket = 0; bucket < BUCKETS; bucket++)
        {
            if (lives[bucket] == 0)
            {
                continue;
            }
            try
            {
                forEachInBucket(bucket, each);
            }
            catch (final java.io.IOException ex)
            {
                throw new java.io.UncheckedIOException(ex); // cannot happen: an IntConsumer throws no IOException
            }
        }
    }
}
