package io.reprise.engine.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.ErrorLogReader;
import org.junit.jupiter.api.Test;

/**
 * A node's errors are logged once per distinct error with a count, and printed once, then as count lines at most
 * every interval: a full disk that fails the same write 42 times prints one trace, not 42.
 */
class ErrorReporterTest
{
    private final AtomicLong clockMs = new AtomicLong(1_767_225_600_000L);
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64));
    private final ErrorReporter reporter = new ErrorReporter(buffer, clockMs::get,
        new PrintStream(printed, true, StandardCharsets.UTF_8), 10_000, "reprise stat --errors");

    /** The same failure each time, from the same place, as a retry loop meets it. */
    private static IOException diskFull()
    {
        return new IOException("No space left on device");
    }

    private static IllegalStateException other(final int i)
    {
        return new IllegalStateException("other " + i);
    }

    @Test
    void shouldLogAndPrintARepeatedErrorOnceWithItsCount()
    {
        for (int i = 0; i < 42; i++)
        {
            reporter.onError(diskFull());
            clockMs.addAndGet(100); // 4.2 s in all: within one interval
        }
        reporter.onError(other(1));

        final List<String> entries = new ArrayList<>();
        final List<Integer> counts = new ArrayList<>();
        final List<long[]> times = new ArrayList<>();
        ErrorLogReader.read(buffer, (count, first, last, trace) ->
        {
            counts.add(count);
            times.add(new long[] {first, last});
            entries.add(trace);
        });
        assertEquals(2, entries.size(), entries.toString());
        assertEquals(List.of(42, 1), counts);
        assertTrue(entries.get(0).startsWith("java.io.IOException: No space left on device"), entries.get(0));
        assertEquals(1_767_225_600_000L, times.get(0)[0], "first observation");
        assertEquals(1_767_225_600_000L + 41 * 100, times.get(0)[1], "last observation");
        assertEquals(2, reporter.distinctErrors());
        assertEquals(43, reporter.observations());

        final String text = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, occurrences(text, "java.io.IOException: No space left on device"), text);
        assertEquals(1, occurrences(text, "java.lang.IllegalStateException: other 1"), text);
        assertEquals(2, occurrences(text, "reprise: error (first occurrence; repeats are counted, see reprise stat " +
            "--errors)"), text);
        assertEquals(0, occurrences(text, "repeated"), "no count line within the interval: " + text);

        reporter.close();
        final String closed = printed.toString(StandardCharsets.UTF_8);
        assertTrue(closed.contains("reprise: errors repeated 41 times in the last 4 s (2 distinct, 43 in all; " +
            "reprise stat --errors lists them)"), closed);
    }

    @Test
    void shouldPrintACountLineAtMostOncePerInterval()
    {
        for (int second = 0; second < 60; second++)
        {
            for (int i = 0; i < 10; i++)
            {
                reporter.onError(diskFull());
            }
            clockMs.addAndGet(1_000);
        }
        final String text = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, occurrences(text, "No space left on device"), text);
        // 599 repeats over 60 s: a count line at the first repeat 10 s after the last one (or the start), so 5 of
        // them, at 10, 20 .. 50 s, each counting the 100 repeats since the one before.
        assertEquals(5, occurrences(text, "reprise: errors repeated "), text);
        assertTrue(text.contains("reprise: errors repeated 100 times in the last 10 s (1 distinct, 101 in all;"), text);
        assertEquals(5, occurrences(text, "reprise: errors repeated 100 times in the last 10 s"), text);
    }

    @Test
    void shouldSayOnceThatTheLogIsFullAndStillPrintWhatDidNotFit()
    {
        // Room for a few traces (each is some kilobytes, with the test runner's frames) but not for 50.
        final UnsafeBuffer small = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16 * 1024, 64));
        final ErrorReporter tight = new ErrorReporter(small, clockMs::get,
            new PrintStream(printed, true, StandardCharsets.UTF_8), 10_000, null);
        for (int i = 0; i < 50; i++)
        {
            tight.onError(other(i));
        }
        final String text = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, occurrences(text, "the error log is full"), text);
        assertTrue(tight.distinctErrors() >= 1 && tight.distinctErrors() < 50, text);
        assertEquals(tight.distinctErrors(), occurrences(text, "reprise: error (first occurrence"), text);
        assertEquals(1, occurrences(text, "reprise: error (not in the full error log): "), "one an interval: " + text);
        assertEquals(50, tight.observations());
    }

    private static int occurrences(final String text, final String what)
    {
        int count = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1))
        {
            count++;
        }
        return count;
    }
}
