package io.reprise.engine.storage;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The container: the in-memory append buffer of the records of applied saves and finishes that no source holds
 * yet (ARCHITECTURE §6). One writer, the business-logic thread, appends {@link StorageRecord}s into off-heap pages
 * and indexes each in its page's open-addressing table; nothing is allocated per record and nothing blocks. Any
 * thread may look a key up at once; the flush agent drains the pages in order into a source and then releases
 * them for reuse.
 * <p>
 * Pages form a ring: {@code head} is the oldest page not yet released, {@code tail} the number of pages activated.
 * A page is released only after its records are in a published source: it leaves the ring for a pool of free
 * pages, and the next page activated is taken from there, so the container allocates only as many pages as were
 * ever unreleased at once (a flush every 16 MiB keeps that near 32 pages of the default 256), not one per slot of
 * the ring. Every page carries a generation counter (odd while it is being reset) so a reader that raced a recycle
 * discards what it read and looks again; by then the records are in the newest source. Limits: a record must fit
 * in a page, and at most {@code maxBytes / pageBytes} pages may be unreleased. Beyond that the flush has not kept
 * up (or cannot write), and {@link #append} waits until it releases a page: back-pressure that reaches the ring and
 * the clients, never a drop. When no flush agent runs (recovery, shutdown), the appending thread flushes instead
 * ({@link #inlineFlushWhenFull}).
 */
public final class Container
{
    /** Found nothing. */
    public static final long NOT_FOUND = -1;

    static final class Page
    {
        final UnsafeBuffer data;
        final UnsafeBuffer table;
        final int tableMask;
        volatile long generation;
        volatile int limit;
        volatile boolean sealed;
        int records;
        /** Tombstones appended to this page: written before the limit that publishes them. */
        int tombstones;
        volatile int flushedLimit;
        int cutLimit;

        Page(final int pageBytes, final int tableSlots)
        {
            data = new UnsafeBuffer(ByteBuffer.allocateDirect(pageBytes).order(ByteOrder.LITTLE_ENDIAN));
            table = new UnsafeBuffer(ByteBuffer.allocateDirect(tableSlots * 4).order(ByteOrder.LITTLE_ENDIAN));
            tableMask = tableSlots - 1;
        }
    }

    private final int pageBytes;
    private final int maxRecordsPerPage;
    private final int tableSlots;
    private final AtomicReferenceArray<Page> ring;
    /** Released pages: offered by whoever commits a cut (the flush), taken by the appending thread. */
    private final ManyToOneConcurrentArrayQueue<Page> freePages;
    private volatile long pagesAllocated;
    private volatile long head;
    private volatile long tail;
    /**
     * Odd while {@link #commitCut} moves the pages' flushed limits. A lookup that overlaps it could see one page
     * before and another after, e.g. an older payload still unflushed and its newer tombstone already flushed,
     * and so return the payload: it retries instead.
     */
    private volatile long flushEpoch;
    private volatile long lastAppendedIndex;
    private volatile long flushedThroughIndex;

    // Writer (business-logic thread) state.
    private Page active;
    private final CRC32C writerCrc = new CRC32C();
    private final byte[] writerScratch = new byte[4096];
    private final IdleStrategy fullWait = new BackoffIdleStrategy(100, 10, 1_000, 100_000);
    /** Set by other threads (start-up, shutdown) while the writer may be waiting: read on each turn of the wait. */
    private volatile Runnable inlineFlush;
    private volatile long fullWaits;

    // Flush-thread state.
    private long cutTail;

    /**
     * @param pageBytes bytes of one page; a record (32 bytes of header plus the payload) must fit in one.
     * @param maxBytes  bytes the container may hold before the flush releases any; at least two pages.
     */
    public Container(final int pageBytes, final long maxBytes)
    {
        if (pageBytes < 4096 || (pageBytes & 7) != 0 || maxBytes < 2L * pageBytes || maxBytes / pageBytes > 1 << 20)
        {
            throw new IllegalArgumentException("container pageBytes=" + pageBytes + " maxBytes=" + maxBytes);
        }
        this.pageBytes = pageBytes;
        int slots = 1024;
        while (slots < pageBytes / 128 && slots < 1 << 16)
        {
            slots <<= 1;
        }
        this.tableSlots = slots;
        this.maxRecordsPerPage = slots / 2;
        this.ring = new AtomicReferenceArray<>((int)(maxBytes / pageBytes));
        this.freePages = new ManyToOneConcurrentArrayQueue<>(ring.length());
    }

    /** The largest payload a record in a page can carry. */
    public int maxPayloadBytes()
    {
        return pageBytes - StorageRecord.HEADER_LENGTH;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writer: the business-logic thread only.

    /** Appends a record; readable by any thread when this returns. */
    public void append(
        final int tenant, final long sessionId, final long index, final short type, final DirectBuffer payload,
        final int offset, final int length)
    {
        final int recordLength = StorageRecord.recordLength(length);
        if (length < 0 || recordLength > pageBytes)
        {
            throw new IllegalArgumentException("payload of " + length + " bytes does not fit a container page of " +
                pageBytes);
        }
        if (index < lastAppendedIndex)
        {
            throw new IllegalStateException("record index " + index + " after " + lastAppendedIndex);
        }
        Page page = active;
        if (null == page || page.limit + recordLength > pageBytes || page.records >= maxRecordsPerPage)
        {
            page = nextPage();
        }
        final int at = page.limit;
        StorageRecord.write(page.data, at, tenant, sessionId, index, type, payload, offset, length, writerCrc,
            writerScratch);
        index(page, tenant, sessionId, at);
        page.records++;
        if (type == StorageRecord.TOMBSTONE)
        {
            page.tombstones++;
        }
        page.limit = at + recordLength;
        lastAppendedIndex = index;
    }

    private static void index(final Page page, final int tenant, final long sessionId, final int at)
    {
        int slot = KeyMap.hash(tenant, sessionId) & page.tableMask;
        while (true)
        {
            final int value = page.table.getInt(slot * 4);
            if (value == 0 || (page.data.getInt(value - 1 + StorageRecord.TENANT_OFFSET) == tenant &&
                page.data.getLong(value - 1 + StorageRecord.SESSION_ID_OFFSET) == sessionId))
            {
                page.table.putIntOrdered(slot * 4, at + 1);
                return;
            }
            slot = (slot + 1) & page.tableMask;
        }
    }

    private Page nextPage()
    {
        if (null != active)
        {
            active.sealed = true;
        }
        final long t = tail;
        if (t - head >= ring.length())
        {
            awaitFreePage(t);
        }
        Page page = freePages.poll();
        if (null == page)
        {
            page = new Page(pageBytes, tableSlots);
            pagesAllocated = pagesAllocated + 1; // single writer
        }
        page.generation = page.generation + 1;
        VarHandle.storeStoreFence();
        page.table.setMemory(0, tableSlots * 4, (byte)0);
        page.records = 0;
        page.tombstones = 0;
        page.flushedLimit = 0;
        page.sealed = false;
        page.limit = 0;
        page.generation = page.generation + 1;
        ring.set((int)(t % ring.length()), page);
        active = page;
        tail = t + 1;
        return page;
    }

    private void awaitFreePage(final long t)
    {
        fullWaits = fullWaits + 1; // single writer
        fullWait.reset();
        while (t - head >= ring.length())
        {
            final Runnable flush = inlineFlush;
            if (null != flush)
            {
                flush.run();
            }
            else
            {
                fullWait.idle();
            }
        }
    }

    /**
     * Every page is in use and no flush runs inline: the next page the appender needs waits for the flush agent. The
     * business-logic stage takes no entry while this holds, so an append almost never meets it; one entry that writes
     * more than a page still can.
     */
    public boolean full()
    {
        return tail - head >= ring.length() && null == inlineFlush;
    }

    /**
     * While set, a full container is flushed by the appending thread itself instead of waiting for the flush agent:
     * for recovery, which replays before the agents start, and for shutdown, once they have stopped. Cleared (null)
     * while the flush agent runs. An append already waiting picks the change up.
     */
    public void inlineFlushWhenFull(final Runnable flush)
    {
        inlineFlush = flush;
    }

    /** Pages allocated so far: at most the most ever unreleased at once. */
    public long pagesAllocated()
    {
        return pagesAllocated;
    }

    /** How many times {@link #append} found every page unflushed and waited for the flush. */
    public long fullWaits()
    {
        return fullWaits;
    }

    /** Index of the last record appended, 0 before any. */
    public long lastAppendedIndex()
    {
        return lastAppendedIndex;
    }

    /** Every record with an index up to this one is in a published source. */
    public long flushedThroughIndex()
    {
        return flushedThroughIndex;
    }

    /** Resets the flushed mark at start-up, before anything is appended: records up to it are in sources. */
    public void startAfter(final long index)
    {
        if (tail != 0)
        {
            throw new IllegalStateException("container already in use");
        }
        lastAppendedIndex = index;
        flushedThroughIndex = index;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Readers: any thread.

    /**
     * Finds the newest record of the key and copies it whole (header and payload) into {@code out} at 0.
     *
     * @return the record's index, or {@link #NOT_FOUND}.
     */
    public long lookup(final int tenant, final long sessionId, final MutableDirectBuffer out)
    {
        while (true)
        {
            final long epoch = flushEpoch;
            if ((epoch & 1) != 0)
            {
                Thread.onSpinWait();
                continue;
            }
            final long t = tail;
            final long h = head;
            long bestIndex = NOT_FOUND;
            Page bestPage = null;
            int bestAt = 0;
            long bestGeneration = 0;
            for (long seq = h; seq < t; seq++)
            {
                final Page page = ring.get((int)(seq % ring.length()));
                if (null == page)
                {
                    continue;
                }
                final long generation = page.generation;
                if ((generation & 1) != 0)
                {
                    continue;
                }
                final int at = probe(page, tenant, sessionId);
                // A flushed record is read from its source (published before the flushed mark moved).
                if (at >= 0 && at >= page.flushedLimit)
                {
                    final long index = page.data.getLong(at + StorageRecord.INDEX_OFFSET);
                    VarHandle.loadLoadFence();
                    if (page.generation == generation && index > bestIndex)
                    {
                        bestIndex = index;
                        bestPage = page;
                        bestAt = at;
                        bestGeneration = generation;
                    }
                }
            }
            if (null != bestPage)
            {
                final int length = bestPage.data.getInt(bestAt + StorageRecord.LENGTH_OFFSET);
                if (length >= 0 && bestAt + StorageRecord.recordLength(length) <= pageBytes &&
                    out.capacity() >= StorageRecord.HEADER_LENGTH + length)
                {
                    out.putBytes(0, bestPage.data, bestAt, StorageRecord.HEADER_LENGTH + length);
                }
                VarHandle.loadLoadFence();
                if (bestPage.generation != bestGeneration)
                {
                    continue;
                }
                if (out.capacity() < StorageRecord.HEADER_LENGTH + length)
                {
                    throw new IllegalArgumentException("buffer of " + out.capacity() + " bytes for a record of " +
                        (StorageRecord.HEADER_LENGTH + length));
                }
            }
            if (tail != t || flushEpoch != epoch)
            {
                continue;
            }
            return bestIndex;
        }
    }

    /** Offset of the key's record in the page, or -1; may be garbage if the page is recycled meanwhile. */
    private int probe(final Page page, final int tenant, final long sessionId)
    {
        int slot = KeyMap.hash(tenant, sessionId) & page.tableMask;
        for (int probes = 0; probes <= page.tableMask; probes++)
        {
            final int value = page.table.getIntVolatile(slot * 4);
            if (value == 0)
            {
                return -1;
            }
            final int at = value - 1;
            if (at < 0 || at > pageBytes - StorageRecord.HEADER_LENGTH)
            {
                return -1;
            }
            if (page.data.getInt(at + StorageRecord.TENANT_OFFSET) == tenant &&
                page.data.getLong(at + StorageRecord.SESSION_ID_OFFSET) == sessionId)
            {
                return at;
            }
            slot = (slot + 1) & page.tableMask;
        }
        return -1;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Flush: one background thread.

    /** Bytes appended and not yet taken by a committed flush. */
    public long unflushedBytes()
    {
        long bytes = 0;
        final long t = tail;
        for (long seq = head; seq < t; seq++)
        {
            final Page page = ring.get((int)(seq % ring.length()));
            if (null != page) // released meanwhile, when called beside a flush
            {
                bytes += page.limit - page.flushedLimit;
            }
        }
        return bytes;
    }

    /** Receives the records of a cut, in index order. */
    public interface RecordVisitor
    {
        void onRecord(DirectBuffer buffer, int offset, int length) throws java.io.IOException;
    }

    /**
     * Takes everything published now and not yet flushed as the current cut; the records stay in the container,
     * readable, until {@link #commitCut}. Returns the number of bytes in the cut.
     */
    public long cut()
    {
        final long t = tail;
        cutTail = t;
        long bytes = 0;
        for (long seq = head; seq < t; seq++)
        {
            final Page page = ring.get((int)(seq % ring.length()));
            page.cutLimit = page.limit;
            bytes += page.cutLimit - page.flushedLimit;
        }
        return bytes;
    }

    /** Visits every record of the current cut, in index order. */
    public int visitCut(final RecordVisitor visitor) throws java.io.IOException
    {
        int count = 0;
        for (long seq = head; seq < cutTail; seq++)
        {
            final Page page = ring.get((int)(seq % ring.length()));
            int at = page.flushedLimit;
            while (at < page.cutLimit)
            {
                final int length = StorageRecord.recordLength(page.data.getInt(at + StorageRecord.LENGTH_OFFSET));
                visitor.onRecord(page.data, at, length);
                at += length;
                count++;
            }
        }
        return count;
    }

    /** Visits each page's part of the current cut, in index order, as one range of whole records. */
    public void visitCutRanges(final RecordVisitor visitor) throws java.io.IOException
    {
        for (long seq = head; seq < cutTail; seq++)
        {
            final Page page = ring.get((int)(seq % ring.length()));
            if (page.cutLimit > page.flushedLimit)
            {
                visitor.onRecord(page.data, page.flushedLimit, page.cutLimit - page.flushedLimit);
            }
        }
    }

    /** Whether the current cut may hold a tombstone (its pages hold one, in the cut or after it). */
    public boolean cutMayHoldTombstones()
    {
        for (long seq = head; seq < cutTail; seq++)
        {
            if (ring.get((int)(seq % ring.length())).tombstones > 0)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The cut is durable in a published source: mark it flushed and release whole pages for reuse.
     *
     * @param coveredThrough every record with an index up to this one is now in a source.
     */
    public void commitCut(final long coveredThrough)
    {
        long h = head;
        flushEpoch = flushEpoch + 1; // single writer: the flush thread
        for (long seq = h; seq < cutTail; seq++)
        {
            final Page page = ring.get((int)(seq % ring.length()));
            page.flushedLimit = page.cutLimit;
        }
        flushEpoch = flushEpoch + 1;
        flushedThroughIndex = Math.max(flushedThroughIndex, coveredThrough);
        while (h < cutTail)
        {
            final int slot = (int)(h % ring.length());
            final Page page = ring.get(slot);
            if (!page.sealed || page.flushedLimit != page.limit)
            {
                break;
            }
            // Out of the ring before head moves past it: the appender, once it sees the new head, finds the slot
            // empty and the page in the pool. A reader still holding it sees its generation change when reused.
            ring.set(slot, null);
            freePages.offer(page);
            h++;
        }
        head = h;
    }
}
