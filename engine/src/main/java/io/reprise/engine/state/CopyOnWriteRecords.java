package io.reprise.engine.state;

import java.lang.invoke.VarHandle;

/**
 * Copy-on-write by block, for snapshots, over a table of equal-sized {@code long[]} pages of fixed-size records
 * (session pages, timer chunks). While a frozen view is held, the owner goes on writing its pages in place, and
 * before it first writes a record it {@link #save saves} the record's block (a few KiB of records around it) as it
 * was at the freeze. A view reads the live page and then the saved blocks ({@link #readFrozen}), so it sees every
 * record as it was at the freeze.
 * <p>
 * So an operator pays a block copy per block it is first to write during a snapshot, not a page copy (384 KiB for
 * sessions): a batch that starts a thousand repeats on a thousand pages copied 384 MiB with pages, 3 MiB with
 * blocks. A block, not a record: with records saved one by one (and their bits in the save pages), the steady-state
 * mix at 10^7 sessions ran at 0.43 of its speed while a view was held; a 3 KiB block copies at 4 GB/s.
 * <p>
 * The view reads on another thread while the owner writes, so the two follow a sequence-lock discipline per block:
 * the owner copies the block, then sets its saved bit, then (after a store-store fence) writes the page; the view
 * reads the page, then (after an acquire fence) the saved bits, and takes the saved copy of every block whose bit is
 * set. A record the view read while it changed has its block's bit set by then, so its torn read is replaced. Bits
 * only go from clear to set while a view is held, so nothing the view trusts changes under it.
 * <p>
 * Each page has a save page of the same layout, which holds its saved blocks at their page offsets, and each block
 * a bit in one small bitmap (39 KiB at 10^7 sessions): the owner tests it on every write while a view is held, so
 * it stays in cache, and a freeze clears it. One view at a time. Business-logic thread only, but for
 * {@link #readFrozen}, which the view's thread calls.
 */
final class CopyOnWriteRecords
{
    private final int recordWords;
    private final int blockShift;
    private final int blockWords;
    private final int blocksPerPageShift;
    private final int recordsPerPage;
    private final int pageLength;
    /** Per page, its save page once a view has needed it. Replaced (grown) only while no view is held. */
    private long[][] savePages = new long[0][];
    /** Bit {@code page * blocksPerPage + block}: that block is saved in the view held. */
    private long[] savedBlocks = new long[0];
    private boolean viewHeld;
    /** The next page {@link #saveAhead} looks at; past every page while no view is held. */
    private int saveAheadPage = Integer.MAX_VALUE;

    /**
     * @param recordsPerPage  records in a page: a power of two.
     * @param recordWords     words per record.
     * @param recordsPerBlock records in a block, the unit of saving: a power of two, at most a page.
     */
    CopyOnWriteRecords(final int recordsPerPage, final int recordWords, final int recordsPerBlock)
    {
        if (Integer.bitCount(recordsPerPage) != 1 || Integer.bitCount(recordsPerBlock) != 1 ||
            recordsPerBlock > recordsPerPage)
        {
            throw new IllegalArgumentException("recordsPerPage=" + recordsPerPage + " recordsPerBlock=" +
                recordsPerBlock);
        }
        this.recordWords = recordWords;
        this.blockShift = Integer.numberOfTrailingZeros(recordsPerBlock);
        this.blockWords = recordsPerBlock * recordWords;
        this.blocksPerPageShift = Integer.numberOfTrailingZeros(recordsPerPage / recordsPerBlock);
        this.recordsPerPage = recordsPerPage;
        this.pageLength = recordsPerPage * recordWords;
    }

    /** A new page for the owner. */
    long[] newPage()
    {
        return new long[pageLength];
    }

    /**
     * A view is being frozen over the owner's {@code pages}: from now on the owner saves before it writes, so none
     * of them is {@code writable} without saving.
     */
    void freeze(final long[][] pages, final long[][] writable)
    {
        if (viewHeld)
        {
            throw new IllegalStateException("a frozen view is held already: recycle it first");
        }
        final int pageCount = pages.length;
        if (savePages.length < pageCount)
        {
            savePages = java.util.Arrays.copyOf(savePages, pageCount);
        }
        final int bitWords = ((pageCount << blocksPerPageShift) + Long.SIZE - 1) / Long.SIZE;
        if (savedBlocks.length < bitWords)
        {
            savedBlocks = new long[bitWords];
        }
        else
        {
            java.util.Arrays.fill(savedBlocks, 0L);
        }
        java.util.Arrays.fill(writable, null);
        saveAheadPage = 0;
        viewHeld = true;
    }

    /** The view is ended: nothing reads what it saved any more, and every page is {@code writable} again. */
    void endView(final long[][] pages, final long[][] writable)
    {
        viewHeld = false;
        saveAheadPage = Integer.MAX_VALUE;
        System.arraycopy(pages, 0, writable, 0, pages.length);
    }

    /**
     * Before the owner first writes records {@code from..to-1} of page {@code page} while the view is held: saves
     * the blocks that hold them, those not saved already.
     */
    void save(final long[] livePage, final int page, final int from, final int to)
    {
        if (!viewHeld)
        {
            throw new IllegalStateException("no frozen view is held");
        }
        if (to <= from)
        {
            return;
        }
        final int pageBlocks = page << blocksPerPageShift;
        for (int block = pageBlocks + (from >>> blockShift), last = pageBlocks + ((to - 1) >>> blockShift);
            block <= last; block++)
        {
            if ((savedBlocks[block >>> 6] & (1L << block)) == 0)
            {
                saveBlock(livePage, page, block);
            }
        }
    }

    private void saveBlock(final long[] livePage, final int page, final int block)
    {
        long[] savePage = savePages[page];
        if (null == savePage)
        {
            savePage = new long[pageLength]; // a page added since reserve ran (more sessions than expected)
            savePages[page] = savePage; // published by the fence below, before the bit
        }
        final int offset = (block & ((1 << blocksPerPageShift) - 1)) * blockWords;
        System.arraycopy(livePage, offset, savePage, offset, blockWords);
        VarHandle.storeStoreFence(); // the copy before its bit
        savedBlocks[block >>> 6] |= 1L << block;
        VarHandle.storeStoreFence(); // the bit before the owner's writes to the block
    }

    /**
     * While the view is held, between two batches of the owner: saves whole the next {@code budget} pages below
     * {@code end} that are not {@code writable} yet, and makes them writable, so that writing them costs no more than
     * without a view.
     *
     * @return whether pages may be left.
     */
    boolean saveAhead(final long[][] pages, final long[][] writable, final int end, final int budget)
    {
        if (saveAheadPage >= end)
        {
            return false;
        }
        for (int saved = 0; saveAheadPage < end && saved < budget; saveAheadPage++)
        {
            final int page = saveAheadPage;
            if (null == writable[page] && null != pages[page])
            {
                save(pages[page], page, 0, recordsPerPage);
                writable[page] = pages[page];
                saved++;
            }
        }
        return saveAheadPage < end;
    }

    /**
     * Copies records {@code from..to-1} of page {@code page}, as they were when the view was frozen, to the same
     * offsets of {@code target}. The view's thread, while the view is held.
     */
    void readFrozen(final long[] livePage, final int page, final int from, final int to, final long[] target)
    {
        if (to <= from)
        {
            return;
        }
        System.arraycopy(livePage, from * recordWords, target, from * recordWords, (to - from) * recordWords);
        VarHandle.acquireFence(); // the page before the bits: a record written meanwhile shows as saved
        final int pageBlocks = page << blocksPerPageShift;
        for (int block = from >>> blockShift, last = (to - 1) >>> blockShift; block <= last; block++)
        {
            final int bit = pageBlocks + block;
            if ((savedBlocks[bit >>> 6] & (1L << bit)) != 0)
            {
                VarHandle.acquireFence(); // the bit before the copy it guards
                final int first = Math.max(from, block << blockShift) * recordWords;
                final int end = Math.min(to, (block + 1) << blockShift) * recordWords;
                System.arraycopy(savePages[page], first, target, first, end - first);
            }
        }
    }

    /** Allocates the save pages of pages {@code 0..count-1} now, so that a snapshot allocates nothing later. */
    void reserve(final int count)
    {
        if (viewHeld)
        {
            throw new IllegalStateException("a frozen view is held");
        }
        if (savePages.length < count)
        {
            savePages = java.util.Arrays.copyOf(savePages, count);
        }
        for (int page = 0; page < count; page++)
        {
            if (null == savePages[page])
            {
                savePages[page] = new long[pageLength];
            }
        }
    }
}
