package io.reprise.engine.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The block copies under {@link SessionTable} and {@link TimerWheel}'s frozen views, on their own. */
class CopyOnWriteRecordsTest
{
    private static final int RECORDS_PER_PAGE = 256;
    private static final int WORDS = 3;
    private static final int RECORDS_PER_BLOCK = 16;

    private final CopyOnWriteRecords copies = new CopyOnWriteRecords(RECORDS_PER_PAGE, WORDS, RECORDS_PER_BLOCK);
    private final long[][] pages = {page(100), page(200), null};
    private final long[][] writable = pages.clone();

    @Test
    void shouldReadWhatWasSavedBeforeAWriteAndTheLivePageElsewhere()
    {
        copies.reserve(2);
        final long[] frozen = pages[1].clone();
        copies.freeze(pages, writable);
        copies.save(pages[1], 1, 20, 40); // records 20..39: blocks 1 and 2, records 16..47
        for (int word = 0; word < RECORDS_PER_PAGE * WORDS; word++)
        {
            pages[1][word] = -word;
        }
        final long[] read = new long[RECORDS_PER_PAGE * WORDS];
        copies.readFrozen(pages[1], 1, 0, RECORDS_PER_PAGE, read);
        for (int record = 0; record < RECORDS_PER_PAGE; record++)
        {
            final boolean saved = record >= 16 && record < 48;
            for (int w = 0; w < WORDS; w++)
            {
                final int word = record * WORDS + w;
                assertEquals(saved ? frozen[word] : -word, read[word], "record " + record);
            }
        }
        // A range that starts and ends inside saved blocks reads only its own records.
        final long[] part = new long[RECORDS_PER_PAGE * WORDS];
        copies.readFrozen(pages[1], 1, 30, 33, part);
        assertEquals(frozen[30 * WORDS], part[30 * WORDS]);
        assertEquals(0, part[29 * WORDS + 2]);
        assertEquals(0, part[33 * WORDS]);
    }

    @Test
    void shouldSaveNothingForAnEmptyRange()
    {
        copies.freeze(pages, writable);
        copies.save(pages[0], 0, 40, 40);
        pages[0][40 * WORDS] = -1;
        final long[] read = new long[RECORDS_PER_PAGE * WORDS];
        copies.readFrozen(pages[0], 0, 40, 41, read);
        assertEquals(-1, read[40 * WORDS]);
        copies.readFrozen(pages[0], 0, 7, 7, read); // nothing to read: nothing read, nothing thrown
        assertEquals(0, read[7 * WORDS]);
    }

    @Test
    void shouldForgetTheSavesOfAnEndedViewAtTheNextFreeze()
    {
        copies.freeze(pages, writable);
        copies.save(pages[0], 0, 0, 1);
        pages[0][0] = -1;
        copies.endView(pages, writable);
        copies.freeze(pages, writable);
        final long[] read = new long[RECORDS_PER_PAGE * WORDS];
        copies.readFrozen(pages[0], 0, 0, 1, read);
        assertEquals(-1, read[0], "the new view was frozen after the write");
    }

    @Test
    void shouldSaveAheadWholePagesWithinItsBudgetAndMakeThemWritable()
    {
        final long[] frozen = pages[1].clone();
        assertFalse(copies.saveAhead(pages, writable, 3, 1), "no view held: nothing to save");
        copies.freeze(pages, writable);
        assertArrayEquals(new long[3][], writable, "nothing writable without saving while a view is held");
        assertTrue(copies.saveAhead(pages, writable, 3, 1));
        assertSame(pages[0], writable[0]);
        assertNull(writable[1]);
        assertFalse(copies.saveAhead(pages, writable, 3, 5), "the missing page is skipped, and that is all");
        assertSame(pages[1], writable[1]);
        java.util.Arrays.fill(pages[1], -7);
        final long[] read = new long[RECORDS_PER_PAGE * WORDS];
        copies.readFrozen(pages[1], 1, 0, RECORDS_PER_PAGE, read);
        assertArrayEquals(frozen, read);
    }

    @Test
    void shouldHoldOneViewAtATimeAndSaveOnlyWhileOneIsHeld()
    {
        assertThrows(IllegalStateException.class, () -> copies.save(pages[0], 0, 0, 1));
        copies.freeze(pages, writable);
        assertThrows(IllegalStateException.class, () -> copies.freeze(pages, writable));
        assertThrows(IllegalStateException.class, () -> copies.reserve(2));
        copies.endView(pages, writable);
        assertArrayEquals(pages, writable, "every page writable again");
        copies.freeze(pages, writable);
    }

    private static long[] page(final long first)
    {
        final long[] page = new long[RECORDS_PER_PAGE * WORDS];
        for (int word = 0; word < page.length; word++)
        {
            page[word] = first + word;
        }
        return page;
    }
}
