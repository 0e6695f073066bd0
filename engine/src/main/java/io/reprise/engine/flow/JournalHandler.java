package io.reprise.engine.flow;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalFormat;
import org.agrona.concurrent.NanoClock;

/**
 * Journals each entry and syncs once per batch (group commit). Its stage releases a batch only once it is synced,
 * so the business logic, gated on that stage, never sees an entry that is not durable.
 * <p>
 * When the disk fails (full, EIO) it keeps the batch, reports the failure (producers then refuse new work with
 * STORAGE_UNAVAILABLE), and tries again every {@code retryIntervalNs} until the write and sync succeed: nothing
 * acknowledged can be lost, and work resumes by itself when space returns. It never waits: between two tries its
 * stage takes nothing, and the retry is the next duty cycle's.
 */
public final class JournalHandler implements StageAgent.Handler
{
    private final Journal journal;
    private final long retryIntervalNs;
    private final NanoClock clock;
    private final AtomicLong durableIndex;
    private final AtomicLong durableLogBytes = new AtomicLong();
    private long appendedLogBytes;
    /** Whether this stage appended since its last commit: in a cluster a follower's journal is consensus's to sync. */
    private boolean appended;
    private volatile String failure;
    private volatile boolean closing;
    private long failures;
    private long retryAtNs;
    private final AtomicLong lastCommitNs = new AtomicLong();
    private final AtomicLong maxCommitNs = new AtomicLong();

    /**
     * @param retryIntervalNs how long after a failed write or sync to try again.
     * @param clock           times each group commit (for the commit-latency figures) and the retries.
     */
    public JournalHandler(final Journal journal, final long retryIntervalNs, final NanoClock clock)
    {
        this.journal = journal;
        this.retryIntervalNs = retryIntervalNs;
        this.clock = clock;
        this.durableIndex = new AtomicLong(journal.durableIndex());
    }

    public long onBatchStart(final long ready)
    {
        if (ready == 0 || (null != failure && clock.nanoTime() < retryAtNs))
        {
            return 0;
        }
        return ready;
    }

    public boolean onEntry(final OperationSlot slot, final long sequence, final boolean endOfBatch)
    {
        if (slot.index <= journal.lastIndex())
        {
            // In a cluster, entries fed from the log itself (a follower's committed entries, a new leader's tail).
            return true;
        }
        try
        {
            journal.append(slot.index, slot.term, slot.timestampMs, slot.buffer, slot.offset, slot.length);
        }
        catch (final IOException ex)
        {
            onFailure(ex);
            return false;
        }
        appendedLogBytes += JournalFormat.align(JournalFormat.RECORD_OVERHEAD + slot.length);
        appended = true;
        return true;
    }

    public boolean onBatchEnd()
    {
        if (!appended && null == failure)
        {
            // Entries consensus appended and synced itself (a follower's).
            durableIndex.setRelease(journal.durableIndex());
            return true;
        }
        final long startNs = clock.nanoTime();
        if (null != failure && startNs < retryAtNs)
        {
            return false;
        }
        try
        {
            journal.commit();
            appended = false;
        }
        catch (final IOException ex)
        {
            onFailure(ex);
            return false;
        }
        final long tookNs = clock.nanoTime() - startNs;
        lastCommitNs.lazySet(tookNs);
        if (tookNs > maxCommitNs.get())
        {
            maxCommitNs.lazySet(tookNs);
        }
        failure = null;
        durableIndex.setRelease(journal.durableIndex());
        durableLogBytes.setRelease(appendedLogBytes);
        return true;
    }

    private void onFailure(final IOException ex)
    {
        failure = ex.getMessage();
        failures++;
        if (closing)
        {
            throw new IllegalStateException("journal cannot write while closing: " + ex.getMessage(), ex);
        }
        retryAtNs = clock.nanoTime() + retryIntervalNs;
    }
    /** The last index known durable; read by the snapshot agent. */
    public long durableIndex()
    {
        return durableIndex.getAcquire();
    }

    /** Bytes of journal records made durable since this handler started; read by the snapshot agent. */
    public long durableLogBytes()
    {
        return durableLogBytes.getAcquire();
    }

    /** Why the journal cannot write right now, or null when it can. */
    public String failure()
    {
        return failure;
    }

    /** How long the last group commit (write and fsync) took. */
    public long lastCommitNs()
    {
        return lastCommitNs.get();
    }

    /** The longest group commit since start. */
    public long maxCommitNs()
    {
        return maxCommitNs.get();
    }

    public long failures()
    {
        return failures;
    }

    /** From now on a failing disk stops the handler instead of being retried. */
    public void closing()
    {
        closing = true;
    }
}
