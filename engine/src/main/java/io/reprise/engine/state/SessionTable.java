package io.reprise.engine.state;

import java.io.IOException;

import io.reprise.engine.util.Mix64;

/**
 * The session records and their index by {@code (tenant, sessionId)}.
 * <p>
 * Records are fixed-size structs laid out in pages of {@code long[]} (array of structs, one cache line and a
 * half per record), so a session costs no object on the heap and the garbage collector has nothing to trace.
 * A record is addressed by an {@code int} id that stays stable for the life of the session: the timer wheel and
 * the per-destination lists link records by these ids. Freed ids are reused in LIFO order, which keeps the
 * assignment deterministic for a given history.
 * <p>
 * The index is open addressing with linear probing over an {@code int[]}, kept at most half full, with
 * backward-shift deletion so no tombstones accumulate. An entry is 0 when empty, else {@code record + 1} in its
 * low {@code log2(index length)} bits (it fits: the index grows before more than half its length is live, and
 * ids are reused before new ones are taken) and, in the bits above, a tag: the entry's displacement from its home
 * slot in the low 3 bits, capped at 7 ({@code escape}: "look at the record"), and a fingerprint of the key's hash in
 * the rest (4 bits at 10^7 sessions, none from 2^29 index slots). The displacement gives each entry's home slot
 * without reading its record, so a probe skips entries of other homes and deletion moves entries without reading
 * theirs; the fingerprint lets a probe skip 15 in 16 of the entries of its own home that hold another key. At
 * 10^7 sessions a record read is a cache miss of hundreds of ns, and a quarter of new keys find their home slot
 * taken by a key of the same home.
 * <p>
 * Record layout, 12 words (96 bytes). The fields that index look-ups, timers, queues and status changes touch
 * come first, in words 0-7 (64 bytes, one or two cache lines); the policy and payload fields that only a save,
 * a retry or a redrive reads come last.
 * <pre>
 *  word 0  sessionId                  word 6  deadline
 *  word 1  timerAt                    word 7  leaseMs | lastErrorCode
 *  word 2  tenant | destination       word 8  maxAttempts+multiplier | backoffInitialMs
 *  word 3  status+bucket+jitter | attempt
 *                                     word 9  backoffMaxMs | lifeStartAttempt
 *  word 4  timerPosition | freeNext   word 10 payloadSize | payloadChecksum
 *  word 5  queuePrev | queueNext      word 11 createdAt
 * </pre>
 * Not thread safe: owned by the business-logic thread.
 * <p>
 * Copy-on-write, for snapshots: {@link #freeze} returns a read-only view of the table as it is, which shares
 * every page with it and may be read on another thread. The table keeps a second page table, of the pages it may
 * write without saving first; a freeze empties it, so while the view is held the first write to each block of 32
 * records saves the block as it was ({@link CopyOnWriteRecords}), and the view reads the pages patched with the
 * saved blocks.
 * The index is not shared: a view has none, and writes one built from its records ({@link #writeTo}).
 * {@link #endView} ends the view.
 */
public final class SessionTable
{
    /** The null record id, used by all links. */
    public static final int NULL = -1;

    static final int WORDS_PER_RECORD = 12;
    /**
     * 4096 records, 384 KiB a page: under half of G1's smallest region (1 MiB), so a page is an ordinary object.
     * A larger page is a humongous object and takes whole regions: 65536 records (6 MiB + the array header)
     * took four 2 MiB regions, a quarter of the memory wasted.
     */
    static final int PAGE_SHIFT = 12;
    static final int RECORDS_PER_PAGE = 1 << PAGE_SHIFT;
    static final int PAGE_MASK = RECORDS_PER_PAGE - 1;
    /** Records saved together before a first write while a view is held: 3 KiB (see {@link CopyOnWriteRecords}). */
    private static final int SAVED_BLOCK_SHIFT = 5;

    private static final int W_SESSION_ID = 0;
    private static final int W_TIMER_AT = 1;
    private static final int W_DEADLINE = 6;
    private static final int W_CREATED_AT = 11;

    // int fields: index i lives in word (i >> 1), low half when even
    private static final int I_TENANT = 4;
    private static final int I_DESTINATION = 5;
    /** status bits 0-3, timer bucket + 1 bits 4-18, jitterPermille bits 19-29. */
    private static final int I_STATUS_BUCKET_JITTER = 6;
    private static final int I_ATTEMPT = 7;
    /** Index of the record in its timer wheel bucket's array. */
    private static final int I_TIMER_POSITION = 8;
    /** Link of the free list, while the record is free. */
    private static final int I_FREE_NEXT = 9;
    private static final int I_QUEUE_PREV = 10;
    private static final int I_QUEUE_NEXT = 11;
    private static final int I_LEASE = 14;
    private static final int I_LAST_ERROR = 15;
    /** maxAttempts bits 0-15, multiplierPermille bits 16-31. */
    private static final int I_MAX_ATTEMPTS_MULTIPLIER = 16;
    private static final int I_BACKOFF_INITIAL = 17;
    private static final int I_BACKOFF_MAX = 18;
    private static final int I_LIFE_START_ATTEMPT = 19;
    private static final int I_PAYLOAD_SIZE = 20;
    private static final int I_PAYLOAD_CHECKSUM = 21;
    private static final int STATUS_MASK = 0xF;
    /** COMPLETED, CANCELLED and DEAD follow every live status in {@code SessionStatus}. */
    private static final int FIRST_FINISHED_STATUS = io.reprise.schema.client.SessionStatus.COMPLETED.value();
    private static final int BUCKET_SHIFT = 4;
    private static final int BUCKET_MASK = 0x7FFF;
    private static final int JITTER_SHIFT = 19;
    private static final int JITTER_MASK = 0x7FF;

    private static final int MIN_INDEX_LENGTH = 1024;
    private static final int PAGE_LONGS = RECORDS_PER_PAGE * WORDS_PER_RECORD;
    private static final int DISPLACEMENT_BITS = 3;
    /** The fingerprint comes from hash bits far above any slot number's. */
    private static final int FINGERPRINT_SHIFT = 40;

    private final int maxRecords;
    /** Every page: what views read, and the slow path of reads. */
    private long[][] pages = new long[256][];
    /** The pages this table may write without saving records first: all but while a view is held, then none. */
    private long[][] writablePages = new long[256][];
    private final CopyOnWriteRecords recordCopies;
    /** A view's: it reads the state at its freeze, through {@link #frozenRecord}. */
    private final boolean frozen;
    /** A view's, allocated by its reader: the records last read through {@link #frozenRecord}, at their offsets. */
    private long[] frozenScratch;
    private int frozenScratchRecord = NULL;
    /**
     * The block saved last while a view is held: an operator writes a record's fields one by one, and all but the
     * first write skip the save.
     */
    private int lastSavedBlock = NULL;
    private int highWater;
    private int freeHead = NULL;
    private int size;

    private int[] index;
    private int indexMask;
    /** Bits of an entry that hold {@code record + 1}: log2 of the index length. */
    private int recordBits;
    private int recordMask;
    /** Bits of a tag that hold the displacement: the rest hold the fingerprint. */
    private int displacementBits;
    private int displacementMask;
    private int fingerprintMask;
    /** Largest displacement tag; an entry tagged with it has displacement {@code >= escape}. */
    private int escape;
    /** Caps {@link #escape}; below 7 only in tests, to exercise escaped entries. */
    private final int escapeLimit;

    /**
     * @param maxRecords      hard limit of live sessions; {@link #allocate} fails beyond it.
     * @param expectedRecords sizes the index up front so it need not grow (and rehash) while serving.
     */
    public SessionTable(final int maxRecords, final int expectedRecords)
    {
        this(maxRecords, expectedRecords, Integer.MAX_VALUE);
    }

    SessionTable(final int maxRecords, final int expectedRecords, final int escapeLimit)
    {
        this.escapeLimit = escapeLimit;
        if (maxRecords < 1 || expectedRecords < 0)
        {
            throw new IllegalArgumentException("maxRecords=" + maxRecords + " expectedRecords=" + expectedRecords);
        }
        this.maxRecords = maxRecords;
        recordCopies = new CopyOnWriteRecords(RECORDS_PER_PAGE, WORDS_PER_RECORD, 1 << SAVED_BLOCK_SHIFT);
        frozen = false;
        final int expected = Math.min(expectedRecords, maxRecords);
        setIndex(new int[indexLengthFor(expected)]);
        // Pages for the expected records are allocated now, at start-up: pages allocated while serving are born
        // young, and copying hundreds of MB of them out of the young generation pauses the node for 100 ms+.
        final int pageCount = (expected + RECORDS_PER_PAGE - 1) >>> PAGE_SHIFT;
        for (int page = 0; page < pageCount; page++)
        {
            newPage(page);
        }
    }

    /** A view of {@code live} as it is now: its own copy of the page table, sharing the pages; no index. */
    private SessionTable(final SessionTable live)
    {
        escapeLimit = live.escapeLimit;
        maxRecords = live.maxRecords;
        pages = live.pages.clone();
        writablePages = new long[pages.length][];
        recordCopies = live.recordCopies;
        frozen = true;
        highWater = live.highWater;
        freeHead = live.freeHead;
        size = live.size;
        index = null;
        indexMask = live.indexMask;
        recordBits = live.recordBits;
        recordMask = live.recordMask;
        displacementBits = live.displacementBits;
        displacementMask = live.displacementMask;
        fingerprintMask = live.fingerprintMask;
        escape = live.escape;
    }

    private void setIndex(final int[] index)
    {
        this.index = index;
        indexMask = index.length - 1;
        recordBits = Integer.numberOfTrailingZeros(index.length);
        recordMask = indexMask;
        final int tagBits = Integer.SIZE - recordBits;
        displacementBits = Math.min(DISPLACEMENT_BITS, tagBits);
        displacementMask = (1 << displacementBits) - 1;
        fingerprintMask = (1 << (tagBits - displacementBits)) - 1;
        escape = Math.min(displacementMask, escapeLimit);
    }

    public int size()
    {
        return size;
    }

    public int maxRecords()
    {
        return maxRecords;
    }

    /** Bytes held by pages and index, for footprint reports. */
    public long footprintBytes()
    {
        long bytes = (long)index.length * Integer.BYTES + (long)pages.length * 8;
        for (final long[] page : pages)
        {
            if (null != page)
            {
                bytes += (long)page.length * Long.BYTES;
            }
        }
        return bytes;
    }

    /** Every id that is live has {@code 0 <= id < highWater()}; a live id has a non-zero tenant. */
    public int highWater()
    {
        return highWater;
    }

    public boolean isLive(final int record)
    {
        return record >= 0 && record < highWater && tenant(record) != 0;
    }

    // ---------------------------------------------------------------------------------------------- index

    /** @return the record of {@code (tenant, sessionId)} or {@link #NULL}. */
    public int find(final int tenant, final long sessionId)
    {
        final int[] index = this.index;
        final int mask = indexMask;
        final int recordBits = this.recordBits;
        final int escape = this.escape;
        final long hash = hash(tenant, sessionId);
        final int fingerprint = fingerprint(hash) << displacementBits;
        int slot = (int)hash & mask;
        int displacement = 0;
        int entry;
        while ((entry = index[slot]) != 0)
        {
            // Only an entry of the same home slot (the same displacement) and fingerprint can hold the key.
            if ((entry >>> recordBits) == (fingerprint | Math.min(displacement, escape)))
            {
                final int record = (entry & recordMask) - 1;
                if (sessionId(record) == sessionId && tenant(record) == tenant)
                {
                    return record;
                }
            }
            slot = (slot + 1) & mask;
            displacement++;
        }
        return NULL;
    }

    /**
     * The index entry in the home slot of {@code (tenant, sessionId)} if it may hold that key (its own home, the
     * key's fingerprint), else 0: one load, for look-ahead. Loads of several keys issued back to back overlap their
     * cache misses, where {@link #find} waits for each in turn.
     */
    public int homeEntry(final int tenant, final long sessionId)
    {
        final long hash = hash(tenant, sessionId);
        final int entry = index[(int)hash & indexMask];
        return (entry >>> recordBits) == fingerprint(hash) << displacementBits ? entry : 0;
    }

    /**
     * The entry {@link #touchHomeEntry} takes to read the record a handle names (a record id sent to a worker with
     * its attempt), or 0 if no such record can exist: look-ahead for an operator that names its record.
     */
    public int handleEntry(final int handle)
    {
        return handle >= 0 && handle < highWater ? handle + 1 : 0;
    }

    /**
     * The record named by {@code handle} if it is live and holds {@code (tenant, sessionId)}, else {@link #NULL}:
     * a handle is only a hint, so whatever it holds, the answer is that of {@link #find} or {@link #NULL}.
     */
    public int findByHandle(final int handle, final int tenant, final long sessionId)
    {
        return isLive(handle) && sessionId(handle) == sessionId && tenant(handle) == tenant ? handle : NULL;
    }

    /**
     * Reads the record that an entry from {@link #homeEntry} or {@link #handleEntry} names, if any, so that
     * {@link #find} and the operator after it hit the cache. Words 0 and 7 span the fields that look-ups, timers
     * and status changes use. Returns the words read, only so that the loads cannot be optimised away.
     */
    public long touchHomeEntry(final int entry)
    {
        return entry == 0 ? 0 : touch((entry & recordMask) - 1);
    }

    /**
     * Reads the home slot of a finished (COMPLETED, CANCELLED or DEAD) record's key in the index, to bring it into
     * cache before the record's timer, the end of its retention, frees it; the record itself should be in cache
     * already. Any other status keeps its key, so its slot is not read. Changes nothing.
     */
    public int touchHomeSlotIfFinished(final int record)
    {
        return status(record) >= FIRST_FINISHED_STATUS ? index[homeSlot(record)] : 0;
    }

    /** Reads the record's hot words (see {@link #touchHomeEntry}) to bring them into cache; changes nothing. */
    public long touch(final int record)
    {
        final long[] page = page(record);
        final int base = (record & PAGE_MASK) * WORDS_PER_RECORD;
        return page[base] + page[base + 7];
    }

    /** Reads words 1-4 (due time and wheel position), all that a cascade of the timer wheel uses; changes nothing. */
    long touchTimer(final int record)
    {
        final long[] page = page(record);
        final int base = (record & PAGE_MASK) * WORDS_PER_RECORD;
        return page[base + 1] + page[base + 4];
    }

    /**
     * Takes a free record for a key that is not present, zeroes it, sets its key and indexes it.
     *
     * @return the record, or {@link #NULL} when {@code maxRecords} are live.
     */
    public int allocate(final int tenant, final long sessionId)
    {
        if (tenant == 0)
        {
            throw new IllegalArgumentException("tenant 0 marks a free record");
        }
        if (size == maxRecords)
        {
            return NULL;
        }

        final int record;
        if (freeHead != NULL)
        {
            record = freeHead;
            freeHead = getInt(record, I_FREE_NEXT);
        }
        else
        {
            record = highWater++;
            final int page = record >>> PAGE_SHIFT;
            if (page >= pages.length || null == pages[page])
            {
                newPage(page);
            }
        }

        final long[] page = writablePage(record);
        final int base = (record & PAGE_MASK) * WORDS_PER_RECORD;
        java.util.Arrays.fill(page, base, base + WORDS_PER_RECORD, 0L);
        page[base + W_SESSION_ID] = sessionId;
        setInt(record, I_TENANT, tenant);
        setInt(record, I_TIMER_POSITION, NULL);
        setInt(record, I_FREE_NEXT, NULL);
        setInt(record, I_QUEUE_PREV, NULL);
        setInt(record, I_QUEUE_NEXT, NULL);
        size++;

        if (size > (index.length >>> 1))
        {
            growIndex();
        }
        insertIntoIndex(record);
        return record;
    }

    /** Removes the record from the index and returns it to the free list. Links must already be clear. */
    public void free(final int record)
    {
        removeFromIndex(record);
        setInt(record, I_TENANT, 0);
        setInt(record, I_FREE_NEXT, freeHead);
        freeHead = record;
        size--;
    }

    private void insertIntoIndex(final int record)
    {
        insertInto(index, record);
    }

    private void insertInto(final int[] index, final int record)
    {
        final int mask = indexMask;
        final long hash = hash(tenant(record), sessionId(record));
        final int home = (int)hash & mask;
        int slot = home;
        while (index[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }
        index[slot] = entry(record, fingerprint(hash), (slot - home) & mask);
    }

    private void removeFromIndex(final int record)
    {
        final int[] index = this.index;
        final int mask = indexMask;
        final int recordMask = this.recordMask;
        int slot = homeSlot(record);
        while ((index[slot] & recordMask) != record + 1)
        {
            if (index[slot] == 0)
            {
                throw new IllegalStateException("record not indexed: " + record);
            }
            slot = (slot + 1) & mask;
        }

        // Backward-shift deletion: move later members of the probe run into the hole when their home allows.
        int hole = slot;
        int next = (hole + 1) & mask;
        int entry;
        while ((entry = index[next]) != 0)
        {
            final int tag = entry >>> recordBits;
            final int displacement = tag & displacementMask;
            final int home = displacement != escape ? (next - displacement) & mask : homeSlot((entry & recordMask) - 1);
            if (((next - home) & mask) >= ((next - hole) & mask))
            {
                index[hole] = entry(((entry & recordMask) - 1), tag >>> displacementBits, (hole - home) & mask);
                hole = next;
            }
            next = (next + 1) & mask;
        }
        index[hole] = 0;
    }

    private int homeSlot(final int record)
    {
        return (int)hash(tenant(record), sessionId(record)) & indexMask;
    }

    private int entry(final int record, final int fingerprint, final int displacement)
    {
        return (((fingerprint << displacementBits) | Math.min(displacement, escape)) << recordBits) | (record + 1);
    }

    private int fingerprint(final long hash)
    {
        return (int)(hash >>> FINGERPRINT_SHIFT) & fingerprintMask;
    }

    private void growIndex()
    {
        final int[] old = index;
        final int oldMask = recordMask;
        setIndex(new int[old.length * 2]);
        for (final int entry : old)
        {
            if (entry != 0)
            {
                insertIntoIndex((entry & oldMask) - 1);
            }
        }
    }

    private static int indexLengthFor(final int records)
    {
        final long wanted = Math.max(MIN_INDEX_LENGTH, 2L * records);
        final long length = Long.highestOneBit(wanted - 1) << 1;
        if (length > (1 << 30))
        {
            throw new IllegalArgumentException("too many records for one index: " + records);
        }
        return (int)length;
    }

    /** Fixed, seedless hash: every replica must place keys alike. */
    static long hash(final int tenant, final long sessionId)
    {
        return Mix64.mix(sessionId * 0x9E3779B97F4A7C15L + tenant);
    }

    // ---------------------------------------------------------------------------------------------- image

    /**
     * Writes the image: records (links included), free list and index. A restore has the same records, ids and free
     * list, so it behaves exactly as this table does. A frozen view has no index of its own and writes one built by
     * inserting its live records in id order; its layout may differ from the live table's, which changes where
     * keys sit in the index but not what any look-up finds ({@code state.md}).
     */
    public void writeTo(final StateOutput out) throws IOException
    {
        final int[] index = null != this.index ? this.index : indexOfRecords();
        out.putInt(highWater);
        out.putInt(size);
        out.putInt(freeHead);
        out.putInt(index.length);
        for (int first = 0; first < highWater; first += RECORDS_PER_PAGE)
        {
            final int records = Math.min(RECORDS_PER_PAGE, highWater - first);
            final int page = first >>> PAGE_SHIFT;
            if (frozen)
            {
                recordCopies.readFrozen(pages[page], page, 0, records, frozenScratch());
                frozenScratchRecord = NULL; // the scratch holds the page now, not one record
            }
            out.putLongs(frozen ? frozenScratch : pages[page], 0, records * WORDS_PER_RECORD);
        }
        out.putInts(index, 0, index.length);
    }

    /** An index of this table's live records, built as {@link #insertIntoIndex} would, in record id order. */
    private int[] indexOfRecords()
    {
        final int[] index = new int[indexMask + 1];
        for (int record = 0; record < highWater; record++)
        {
            if (tenant(record) != 0)
            {
                insertInto(index, record);
            }
        }
        return index;
    }

    /** Replaces this (empty) table with the image {@link #writeTo} wrote. */
    public void readFrom(final StateInput in) throws IOException
    {
        if (size != 0 || highWater != 0)
        {
            throw new IllegalStateException("restore into a table that is not empty");
        }
        final int highWater = in.getInt();
        final int size = in.getInt();
        final int freeHead = in.getInt();
        final int indexLength = in.getInt();
        // Checked before anything is allocated: a damaged image must not make the node allocate gigabytes.
        if (highWater < 0 || highWater > maxRecords || size < 0 || size > highWater || freeHead < NULL ||
            freeHead >= Math.max(highWater, 1) || indexLength < MIN_INDEX_LENGTH ||
            Integer.bitCount(indexLength) != 1 || indexLength < 2 * size || indexLength > indexLengthFor(maxRecords))
        {
            throw new IOException("implausible session table image: highWater=" + highWater + " size=" + size +
                " freeHead=" + freeHead + " indexLength=" + indexLength);
        }
        for (int first = 0, page = 0; first < highWater; first += RECORDS_PER_PAGE, page++)
        {
            if (page >= pages.length || null == pages[page])
            {
                newPage(page);
            }
            in.getLongs(pages[page], 0, Math.min(RECORDS_PER_PAGE, highWater - first) * WORDS_PER_RECORD);
        }
        final int[] index = new int[indexLength];
        in.getInts(index, 0, indexLength);
        setIndex(index);
        this.highWater = highWater;
        this.size = size;
        this.freeHead = freeHead;
    }

    // ---------------------------------------------------------------------------------------------- fields

    public long sessionId(final int record)
    {
        return getLong(record, W_SESSION_ID);
    }

    public int tenant(final int record)
    {
        return getInt(record, I_TENANT);
    }

    public int destination(final int record)
    {
        return getInt(record, I_DESTINATION);
    }

    public void destination(final int record, final int destination)
    {
        setInt(record, I_DESTINATION, destination);
    }

    /** Status as the value of {@code io.reprise.schema.client.SessionStatus}. */
    public int status(final int record)
    {
        return getInt(record, I_STATUS_BUCKET_JITTER) & STATUS_MASK;
    }

    public void status(final int record, final int status)
    {
        setInt(record, I_STATUS_BUCKET_JITTER,
            (getInt(record, I_STATUS_BUCKET_JITTER) & ~STATUS_MASK) | (status & STATUS_MASK));
    }

    /** Timer wheel bucket + 1 while the record is on the wheel, 0 otherwise. */
    int timerBucket(final int record)
    {
        return (getInt(record, I_STATUS_BUCKET_JITTER) >>> BUCKET_SHIFT) & BUCKET_MASK;
    }

    void timerBucket(final int record, final int bucketPlusOne)
    {
        final int value = getInt(record, I_STATUS_BUCKET_JITTER) & ~(BUCKET_MASK << BUCKET_SHIFT);
        setInt(record, I_STATUS_BUCKET_JITTER, value | (bucketPlusOne << BUCKET_SHIFT));
    }

    /** The attempt number: it counts every attempt the session ever started, across redrives. */
    public int attempt(final int record)
    {
        return getInt(record, I_ATTEMPT);
    }

    public void attempt(final int record, final int attempt)
    {
        setInt(record, I_ATTEMPT, attempt);
    }

    /** The attempt number when the session's current life began (0, or the attempt at its last redrive). */
    public int lifeStartAttempt(final int record)
    {
        return getInt(record, I_LIFE_START_ATTEMPT);
    }

    public void lifeStartAttempt(final int record, final int attempt)
    {
        setInt(record, I_LIFE_START_ATTEMPT, attempt);
    }

    public int maxAttempts(final int record)
    {
        return getInt(record, I_MAX_ATTEMPTS_MULTIPLIER) & 0xFFFF;
    }

    public int jitterPermille(final int record)
    {
        return (getInt(record, I_STATUS_BUCKET_JITTER) >>> JITTER_SHIFT) & JITTER_MASK;
    }

    /** maxAttempts fits 16 bits and jitterPermille 11: the business rules bound them. */
    public void maxAttemptsAndJitter(final int record, final int maxAttempts, final int jitterPermille)
    {
        final int attemptsAndMultiplier = getInt(record, I_MAX_ATTEMPTS_MULTIPLIER);
        setInt(record, I_MAX_ATTEMPTS_MULTIPLIER, (attemptsAndMultiplier & 0xFFFF_0000) | (maxAttempts & 0xFFFF));
        final int statusAndBucket = getInt(record, I_STATUS_BUCKET_JITTER) & ~(JITTER_MASK << JITTER_SHIFT);
        setInt(record, I_STATUS_BUCKET_JITTER, statusAndBucket | ((jitterPermille & JITTER_MASK) << JITTER_SHIFT));
    }

    public int backoffInitialMs(final int record)
    {
        return getInt(record, I_BACKOFF_INITIAL);
    }

    public int backoffMaxMs(final int record)
    {
        return getInt(record, I_BACKOFF_MAX);
    }

    public int multiplierPermille(final int record)
    {
        return getInt(record, I_MAX_ATTEMPTS_MULTIPLIER) >>> 16;
    }

    /** multiplierPermille fits 16 bits: the business rules bound it. */
    public void backoff(final int record, final int initialMs, final int maxMs, final int multiplierPermille)
    {
        setInt(record, I_BACKOFF_INITIAL, initialMs);
        setInt(record, I_BACKOFF_MAX, maxMs);
        final int attempts = getInt(record, I_MAX_ATTEMPTS_MULTIPLIER) & 0xFFFF;
        setInt(record, I_MAX_ATTEMPTS_MULTIPLIER, attempts | (multiplierPermille << 16));
    }

    public int leaseMs(final int record)
    {
        return getInt(record, I_LEASE);
    }

    public void leaseMs(final int record, final int leaseMs)
    {
        setInt(record, I_LEASE, leaseMs);
    }

    public int payloadSize(final int record)
    {
        return getInt(record, I_PAYLOAD_SIZE);
    }

    public int payloadChecksum(final int record)
    {
        return getInt(record, I_PAYLOAD_CHECKSUM);
    }

    public void payload(final int record, final int size, final int checksum)
    {
        setInt(record, I_PAYLOAD_SIZE, size);
        setInt(record, I_PAYLOAD_CHECKSUM, checksum);
    }

    public int lastErrorCode(final int record)
    {
        return getInt(record, I_LAST_ERROR);
    }

    public void lastErrorCode(final int record, final int errorCode)
    {
        setInt(record, I_LAST_ERROR, errorCode);
    }

    /** When the record's timer fires: due time, lease expiry, deadline or purge time, by status. */
    public long timerAt(final int record)
    {
        return getLong(record, W_TIMER_AT);
    }

    public void timerAt(final int record, final long timeMs)
    {
        setLong(record, W_TIMER_AT, timeMs);
    }

    public long deadline(final int record)
    {
        return getLong(record, W_DEADLINE);
    }

    public void deadline(final int record, final long deadlineMs)
    {
        setLong(record, W_DEADLINE, deadlineMs);
    }

    public long createdAt(final int record)
    {
        return getLong(record, W_CREATED_AT);
    }

    public void createdAt(final int record, final long timeMs)
    {
        setLong(record, W_CREATED_AT, timeMs);
    }

    int timerPosition(final int record)
    {
        return getInt(record, I_TIMER_POSITION);
    }

    void timerPosition(final int record, final int position)
    {
        setInt(record, I_TIMER_POSITION, position);
    }

    int queuePrev(final int record)
    {
        return getInt(record, I_QUEUE_PREV);
    }

    int queueNext(final int record)
    {
        return getInt(record, I_QUEUE_NEXT);
    }

    void queuePrev(final int record, final int prev)
    {
        setInt(record, I_QUEUE_PREV, prev);
    }

    void queueNext(final int record, final int next)
    {
        setInt(record, I_QUEUE_NEXT, next);
    }

    // ---------------------------------------------------------------------------------------------- raw

    private static final long LONG_ARRAY_BASE = org.agrona.UnsafeApi.arrayBaseOffset(long[].class);

    static
    {
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN)
        {
            throw new ExceptionInInitializerError("the record layout assumes a little-endian platform");
        }
    }

    // Fields are read and written in the page through Unsafe: an int field is one 4-byte store instead of a
    // read-modify-write of its long, and no access needs an index check (x1.04-1.08 on BusinessLogicBenchmark at
    // 10^7). It stays inside the page whatever the record: the offset is that of one of the record's 12 words or
    // 24 ints, and (record & PAGE_MASK) keeps the record inside its page; the page itself comes from a checked
    // array access, and a page not allocated throws here rather than reaching Unsafe. Little-endian: int slot 2w is
    // the low half of word w, as the layout above says.

    private long getLong(final int record, final int word)
    {
        return org.agrona.UnsafeApi.getLong(page(record), fieldOffset(record, word << 1));
    }

    private void setLong(final int record, final int word, final long value)
    {
        org.agrona.UnsafeApi.putLong(writablePage(record), fieldOffset(record, word << 1), value);
    }

    private int getInt(final int record, final int intSlot)
    {
        return org.agrona.UnsafeApi.getInt(page(record), fieldOffset(record, intSlot));
    }

    private void setInt(final int record, final int intSlot, final int value)
    {
        org.agrona.UnsafeApi.putInt(writablePage(record), fieldOffset(record, intSlot), value);
    }

    /**
     * The record's page to read. Reads and writes both go through the table of writable pages, so that serving
     * keeps one page table in cache; while a view is held, the table of every page; a view reads its freeze.
     */
    private long[] page(final int record)
    {
        final long[] page = writablePages[record >>> PAGE_SHIFT];
        return null != page ? page : frozen ? frozenRecord(record) : livePage(record);
    }

    private long[] livePage(final int record)
    {
        final long[] page = pages[record >>> PAGE_SHIFT];
        if (null == page)
        {
            throw new IllegalStateException("record " + record + " is beyond every allocated page");
        }
        return page;
    }

    /**
     * A view's read: a page whose slot of {@code record} holds the record as it was at the freeze (the other slots
     * hold anything). One copy of the record per record read, however many of its fields are read in a row.
     */
    private long[] frozenRecord(final int record)
    {
        if (record != frozenScratchRecord)
        {
            final int inPage = record & PAGE_MASK;
            recordCopies.readFrozen(livePage(record), record >>> PAGE_SHIFT, inPage, inPage + 1, frozenScratch());
            frozenScratchRecord = record;
        }
        return frozenScratch;
    }

    /** Allocated on the view's thread: a freeze allocates as little as it can on the business-logic thread. */
    private long[] frozenScratch()
    {
        if (null == frozenScratch)
        {
            frozenScratch = new long[PAGE_LONGS];
        }
        return frozenScratch;
    }

    /** The record's page to write: the writable page, or, while a view is held, the page once the record is saved. */
    private long[] writablePage(final int record)
    {
        final long[] page = writablePages[record >>> PAGE_SHIFT];
        return null != page ? page : saveRecord(record);
    }

    private long[] saveRecord(final int record)
    {
        if (frozen)
        {
            throw new IllegalStateException("a frozen view of the state is read-only");
        }
        final long[] page = livePage(record);
        if (record >>> SAVED_BLOCK_SHIFT != lastSavedBlock)
        {
            recordCopies.save(page, record >>> PAGE_SHIFT, record & PAGE_MASK, (record & PAGE_MASK) + 1);
            lastSavedBlock = record >>> SAVED_BLOCK_SHIFT;
        }
        return page;
    }

    /** Allocates page {@code page}, growing the page tables if need be. */
    private void newPage(final int page)
    {
        final long[] newPage = recordCopies.newPage();
        if (page >= pages.length)
        {
            final int length = Integer.highestOneBit(page) * 2;
            pages = java.util.Arrays.copyOf(pages, length);
            writablePages = java.util.Arrays.copyOf(writablePages, length);
        }
        pages[page] = newPage;
        writablePages[page] = newPage;
    }

    // ---------------------------------------------------------------------------------------------- copy-on-write

    /**
     * A read-only view of the table as it is now, for a snapshot written on another thread (after a safe
     * publication) while this table goes on changing, until {@link #endView}. It answers the record queries,
     * {@link #size}, {@link #highWater} and {@link #writeTo}; it has no index, so not {@link #find}. One at a time.
     */
    public SessionTable freeze()
    {
        if (frozen)
        {
            throw new IllegalStateException("a frozen view of the state is read-only");
        }
        final SessionTable view = new SessionTable(this);
        recordCopies.freeze(pages, writablePages);
        lastSavedBlock = NULL;
        return view;
    }

    /**
     * Ends the view frozen last, which nothing may read any more: every page is writable again. One array copy of
     * the page table.
     */
    public void endView()
    {
        recordCopies.endView(pages, writablePages);
    }

    /**
     * While a view is held: saves whatever is left of the next page not yet writable, and makes it writable, so
     * that writes to it cost no more than without a view. One page (384 KiB) a call, for the business logic to call
     * between batches.
     *
     * @return whether pages may be left.
     */
    public boolean saveAhead()
    {
        return recordCopies.saveAhead(pages, writablePages, pages.length, 1);
    }

    /**
     * Allocates, now, the save space for every page the table has, so that the copies of a snapshot allocate
     * nothing while serving (young arrays of hundreds of MB would be copied by the collector).
     */
    public void reserveCopies()
    {
        int count = 0;
        while (count < pages.length && null != pages[count])
        {
            count++;
        }
        recordCopies.reserve(count);
    }

    /** Where int slot {@code intSlot} of the record lies in its page (word w is int slot 2w). */
    private static long fieldOffset(final int record, final int intSlot)
    {
        return LONG_ARRAY_BASE + ((long)(record & PAGE_MASK) * WORDS_PER_RECORD << 3) + ((long)intSlot << 2);
    }
}
