package io.reprise.engine.state;

import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Copy-on-write by record, for snapshots, over a table of equal-sized {@code long[]} pages of fixed-size records
 * (session pages, timer chunks). While a frozen view is held, the owner goes on writing its pages in place, and
 * before it first writes a record it {@link #save saves} the record's words as they were at the freeze. A view reads
 * the live page and then the saved copies ({@link #readFrozen}), so it sees every record as it was at the freeze.
 * <p>
 * The cost of a snapshot to the owner is thus one record copy (96 bytes for a session, 8 for a timer entry) per
 * record it writes during the snapshot, not one page copy (384 KiB, 8 KiB) per page: a batch that touches a
 * thousand sessions on a thousand pages copied 384 MiB with pages, and copies 96 KiB now.
 * <p>
 * The view reads on another thread while the owner writes, so the two follow a sequence-lock discipline per record:
 * the owner copies the record, then sets its saved bit, then (after a store-store fence) writes the page; the view
 * reads the page, then (after an acquire fence) the saved bits, and takes the saved copy of every record whose bit is
 * set. A record the view read while it changed has its bit set by then, so its torn read is replaced. Bits only go
 * from clear to set while a view is held, so nothing the view trusts can change under it.
 * <p>
 * A page's saved copies live in a <em>save page</em>: the bits of its records, then its records at their page
 * offsets. Save pages are spares taken at the first save to a page during a view and returned when the view ends,
 * so serving allocates nothing once {@link #reserve} has run. One view at a time. Business-logic thread only, but
 * for {@link #readFrozen}, which the view's thread calls.
 */
final class CopyOnWriteRecords
{
    private static final VarHandle SAVE_PAGES = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[][].class);

    private final int recordWords;
    private final int pageLength;
    private final int bitLongs;
    /** Per page, its save page during a view, else null. Never replaced while a view is held. */
    private long[][] savePages = new long[0][];
    private int[] pagesSaved = new int[16];
    private int pagesSavedCount;
    private long[][] spares = new long[16][];
    private int spareCount;
    private boolean viewHeld;

    CopyOnWriteRecords(final int recordsPerPage, final int recordWords)
    {
        if (recordsPerPage % Long.SIZE != 0)
        {
            throw new IllegalArgumentException("recordsPerPage=" + recordsPerPage);
        }
        this.recordWords = recordWords;
        this.pageLength = recordsPerPage * recordWords;
        this.bitLongs = recordsPerPage / Long.SIZE;
    }

    /** A new page for the owner. */
    long[] newPage()
    {
        return new long[pageLength];
    }

    /** A view is being frozen over pages {@code 0..pageCount-1}: from now on the owner saves before it writes. */
    void freeze(final int pageCount)
    {
        if (viewHeld)
        {
            throw new IllegalStateException("a frozen view is held already: recycle it first");
        }
        if (savePages.length < pageCount)
        {
            savePages = new long[pageCount][];
        }
        viewHeld = true;
    }

    /** The view is ended: its save pages are spares again. A pass over the pages saved during it. */
    void endView()
    {
        if (spareCount + pagesSavedCount > spares.length)
        {
            spares = Arrays.copyOf(spares, spareCount + pagesSavedCount);
        }
        for (int i = 0; i < pagesSavedCount; i++)
        {
            final int page = pagesSaved[i];
            spares[spareCount++] = savePages[page];
            savePages[page] = null;
        }
        pagesSavedCount = 0;
        viewHeld = false;
    }

    /**
     * Before the owner first writes {@code record} (its number within page {@code page}) while the view is held:
     * saves it as it is, unless saved already.
     */
    void save(final long[] livePage, final int page, final int record)
    {
        save(livePage, page, record, record + 1);
    }

    /** {@link #save} for records {@code from..to-1} of the page. */
    void save(final long[] livePage, final int page, final int from, final int to)
    {
        if (!viewHeld)
        {
            throw new IllegalStateException("no frozen view is held");
        }
        long[] savePage = savePages[page];
        if (null == savePage)
        {
            savePage = takeSpare();
            Arrays.fill(savePage, 0, bitLongs, 0L);
            if (pagesSavedCount == pagesSaved.length)
            {
                pagesSaved = Arrays.copyOf(pagesSaved, pagesSavedCount * 2);
            }
            pagesSaved[pagesSavedCount++] = page;
            SAVE_PAGES.setRelease(savePages, page, savePage); // its clear bits before the page
        }
        for (int record = from; record < to; record++)
        {
            final long bits = savePage[record >>> 6];
            final long bit = 1L << record;
            if ((bits & bit) == 0)
            {
                System.arraycopy(livePage, record * recordWords, savePage, bitLongs + record * recordWords,
                    recordWords);
                VarHandle.storeStoreFence(); // the copy before its bit
                savePage[record >>> 6] = bits | bit;
            }
        }
        VarHandle.storeStoreFence(); // the bits before the owner's writes to the records
    }

    /**
     * Copies records {@code from..to-1} of page {@code page}, as they were when the view was frozen, to the same
     * offsets of {@code target}. The view's thread, while the view is held.
     */
    void readFrozen(final long[] livePage, final int page, final int from, final int to, final long[] target)
    {
        System.arraycopy(livePage, from * recordWords, target, from * recordWords, (to - from) * recordWords);
        VarHandle.acquireFence(); // the page before the bits: a record written meanwhile shows as saved
        final long[] savePage = (long[])SAVE_PAGES.getAcquire(savePages, page);
        if (null == savePage)
        {
            return;
        }
        for (int word = from >>> 6, lastWord = (to - 1) >>> 6; word <= lastWord; word++)
        {
            long bits = savePage[word];
            VarHandle.acquireFence(); // the bits before the copies they guard
            while (bits != 0)
            {
                final int record = (word << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (record >= from && record < to)
                {
                    System.arraycopy(savePage, bitLongs + record * recordWords, target, record * recordWords,
                        recordWords);
                }
            }
        }
    }

    /** Allocates spare save pages until there are {@code count}, so that a snapshot allocates nothing later. */
    void reserve(final int count)
    {
        if (count > spares.length)
        {
            spares = Arrays.copyOf(spares, count);
        }
        while (spareCount < count)
        {
            spares[spareCount++] = new long[bitLongs + pageLength];
        }
    }

    private long[] takeSpare()
    {
        if (spareCount > 0)
        {
            final long[] spare = spares[--spareCount];
            spares[spareCount] = null;
            return spare;
        }
        return new long[bitLongs + pageLength];
    }
}
