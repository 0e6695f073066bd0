package io.reprise.engine.state;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The copies of copy-on-write for a table of equal-sized arrays (session pages, timer chunks) that a frozen view of
 * the state may share (see {@link SessionTable#freeze}). The owner keeps, beside its table, a table of the pages it
 * may write: a freeze empties that table, and a write that finds no writable page takes a {@link #copy} of the
 * shared one and uses it in both tables. So the write path costs what it did (one load of a page reference and
 * its implicit null check), whether or not a view is held. The originals that copies replace are the view's
 * alone: when the views are ended ({@link #endViews}) they become spares, from which later copies are taken, so
 * that serving allocates nothing. Ending views costs a few array copies, not a pass over the pages: it runs once per
 * snapshot, too seldom for the JIT to compile it. Business-logic thread only.
 *
 * @param <T> the array type of a page.
 */
final class CopyOnWritePages<T>
{
    private final int pageLength;
    private final IntFunction<T> allocate;
    private final boolean readOnly;
    private Object[] spares = new Object[16];
    private int spareCount;
    private Object[] replaced = new Object[16];
    private int replacedCount;

    CopyOnWritePages(final int pageLength, final IntFunction<T> allocate)
    {
        this(pageLength, allocate, false);
    }

    private CopyOnWritePages(final int pageLength, final IntFunction<T> allocate, final boolean readOnly)
    {
        this.pageLength = pageLength;
        this.allocate = allocate;
        this.readOnly = readOnly;
    }

    /** The copies of a frozen view: none, since a view is never written. */
    CopyOnWritePages<T> forView()
    {
        return new CopyOnWritePages<>(pageLength, allocate, true);
    }

    /** A new page. */
    T newPage()
    {
        checkWritable();
        return allocate.apply(pageLength);
    }

    /** A copy of {@code original}, a page a view may share, for the owner to write instead. */
    @SuppressWarnings("unchecked")
    T copy(final T original)
    {
        checkWritable();
        final T copy = spareCount > 0 ? (T)spares[--spareCount] : allocate.apply(pageLength);
        System.arraycopy(original, 0, copy, 0, pageLength);
        if (replacedCount == replaced.length)
        {
            replaced = Arrays.copyOf(replaced, replacedCount * 2);
        }
        replaced[replacedCount++] = original;
        return copy;
    }

    /** A view is being frozen: the owner is about to empty its table of writable pages. */
    void freeze()
    {
        checkWritable();
    }

    /** The views frozen so far are ended: the pages replaced meanwhile are spares now. */
    void endViews()
    {
        if (spareCount + replacedCount > spares.length)
        {
            spares = Arrays.copyOf(spares, spareCount + replacedCount);
        }
        System.arraycopy(replaced, 0, spares, spareCount, replacedCount);
        spareCount += replacedCount;
        // Not cleared: what the slots still name are spares now, or pages the owner uses.
        replacedCount = 0;
    }

    /** Allocates spares until there are {@code count}. */
    void reserve(final int count)
    {
        if (count > spares.length)
        {
            spares = Arrays.copyOf(spares, count);
        }
        while (spareCount < count)
        {
            spares[spareCount++] = allocate.apply(pageLength);
        }
    }

    private void checkWritable()
    {
        if (readOnly)
        {
            throw new IllegalStateException("a frozen view of the state is read-only");
        }
    }
}
