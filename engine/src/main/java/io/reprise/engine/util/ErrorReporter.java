package io.reprise.engine.util;

import java.io.PrintStream;
import java.time.Instant;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;

/**
 * A node's error handler: every error is recorded once per distinct error in Agrona's {@link DistinctErrorLog}
 * (same class, message, stack trace and causes: one entry, with a count and the times of its first and last
 * observation), as Aeron's media driver keeps its errors in its CnC file. The log's buffer is a file that
 * {@code reprise stat --errors} reads while the node runs, or memory.
 * <p>
 * What it prints, when given a stream: the full trace of the first occurrence of each distinct error, and for
 * repeats of errors already printed, one count line at most every {@code summaryIntervalMs}
 * ({@value #SUMMARY_INTERVAL_MS_DEFAULT} ms by default), from the thread that reports a repeat once that interval
 * has passed; {@link #close()} prints the count of repeats not yet reported. A full log (more distinct errors than
 * its buffer holds) is said once, and each error that finds no room is printed as one line, at most one per interval.
 * Thread-safe: any thread of the node may report.
 */
public final class ErrorReporter implements ErrorHandler, AutoCloseable
{
    /** How often at most a count line of repeated errors is printed. */
    public static final long SUMMARY_INTERVAL_MS_DEFAULT = 10_000;
    /** The buffer of a log kept in memory. */
    public static final int IN_MEMORY_BYTES = 256 * 1024;

    private final DistinctErrorLog log;
    private final AtomicBuffer buffer;
    private final EpochClock clock;
    private final PrintStream out;
    private final long summaryIntervalMs;
    private final String whereToLook;
    /** Offset after the last entry printed: a new distinct error appears there. */
    private int scanOffset;
    private int distinct;
    private long observations;
    private long repeatsNotReported;
    private long lastSummaryMs;
    private long lastFullLineMs;
    private boolean fullSaid;

    /**
     * @param buffer            where the distinct log is kept (zeros, 8-byte aligned): a mapped file or memory.
     * @param clock             the wall clock, for the times of the first and last observation.
     * @param out               where to print first occurrences and count lines, or null to print nothing.
     * @param summaryIntervalMs least time between two count lines.
     * @param whereToLook       named in count lines: where the counts can be read, e.g. a command.
     */
    public ErrorReporter(
        final AtomicBuffer buffer,
        final EpochClock clock,
        final PrintStream out,
        final long summaryIntervalMs,
        final String whereToLook)
    {
        this.log = new DistinctErrorLog(buffer, clock);
        this.buffer = buffer;
        this.clock = clock;
        this.out = out;
        this.summaryIntervalMs = summaryIntervalMs;
        this.whereToLook = whereToLook;
        this.lastSummaryMs = clock.time();
        this.lastFullLineMs = lastSummaryMs - summaryIntervalMs;
    }

    /** A log in memory, printing to {@code out}: what a node has when nothing else is configured. */
    public static ErrorReporter inMemory(final PrintStream out)
    {
        return new ErrorReporter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(IN_MEMORY_BYTES, 64)),
            SystemEpochClock.INSTANCE, out, SUMMARY_INTERVAL_MS_DEFAULT, null);
    }

    public void onError(final Throwable throwable)
    {
        synchronized (this)
        {
            // Recorded under this lock, so that the entry a new error adds is found by the same call.
            final boolean recorded = log.record(throwable);
            final long nowMs = clock.time();
            observations++;
            if (!recorded)
            {
                if (null != out && !fullSaid)
                {
                    fullSaid = true;
                    out.println("reprise: the error log is full (" + buffer.capacity() + " bytes of distinct " +
                        "errors): errors not logged before are printed as one line each, at most one every " +
                        summaryIntervalMs + " ms");
                }
                if (null != out && nowMs - lastFullLineMs >= summaryIntervalMs)
                {
                    lastFullLineMs = nowMs;
                    out.println("reprise: error (not in the full error log): " + throwable);
                }
                return;
            }
            boolean isNew = false;
            int length;
            while (scanOffset <= buffer.capacity() - DistinctErrorLog.ENCODED_ERROR_OFFSET &&
                (length = buffer.getIntVolatile(scanOffset + DistinctErrorLog.LENGTH_OFFSET)) > 0)
            {
                // Entries are appended in order, so each new one is printed once, by whoever sees it first.
                isNew = true;
                distinct++;
                if (null != out)
                {
                    out.println("reprise: error (first occurrence; repeats are counted" +
                        (null == whereToLook ? "" : ", see " + whereToLook) + "): " + Instant.ofEpochMilli(
                        buffer.getLong(scanOffset + DistinctErrorLog.FIRST_OBSERVATION_TIMESTAMP_OFFSET)));
                    out.print(buffer.getStringWithoutLengthUtf8(scanOffset + DistinctErrorLog.ENCODED_ERROR_OFFSET,
                        length - DistinctErrorLog.ENCODED_ERROR_OFFSET));
                    out.flush();
                }
                scanOffset += BitUtil.align(length, DistinctErrorLog.RECORD_ALIGNMENT);
            }
            if (!isNew)
            {
                repeatsNotReported++;
                if (nowMs - lastSummaryMs >= summaryIntervalMs)
                {
                    printSummary(nowMs);
                }
            }
        }
    }

    private void printSummary(final long nowMs)
    {
        if (null != out && repeatsNotReported > 0)
        {
            out.println("reprise: errors repeated " + repeatsNotReported + " times in the last " +
                (nowMs - lastSummaryMs) / 1000 + " s (" + distinct + " distinct, " + observations + " in all" +
                (null == whereToLook ? "" : "; " + whereToLook + " lists them") + ")");
            out.flush();
        }
        repeatsNotReported = 0;
        lastSummaryMs = nowMs;
    }

    /** Distinct errors logged so far. */
    public synchronized int distinctErrors()
    {
        return distinct;
    }

    /** Errors reported so far, repeats included. */
    public synchronized long observations()
    {
        return observations;
    }

    /** The buffer the distinct log is in, for {@link org.agrona.concurrent.errors.ErrorLogReader}. */
    public AtomicBuffer buffer()
    {
        return buffer;
    }

    /** Prints the count of repeats not yet reported, if any. */
    public synchronized void close()
    {
        printSummary(clock.time());
    }
}
