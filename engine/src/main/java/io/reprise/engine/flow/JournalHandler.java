package io.reprise.engine.flow;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

import com.lmax.disruptor.EventHandler;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalFormat;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;

/**
 * Journals each entry and syncs once per batch (group commit). The ring advances this handler's sequence only
 * after the batch returns, so the business logic, gated on it, never sees an entry that is not durable.
 * <p>
 * When the disk fails (full, EIO) it keeps the batch, reports the failure (producers then refuse new work with
 * STORAGE_UNAVAILABLE), and retries until the write and sync succeed: nothing acknowledged can be lost, and
 * work resumes by itself when space returns.
 */
public final class JournalHandler implements EventHandler<OperationSlot>
{
    private final Journal journal;
    private final IdleStrategy retryIdle;
    private final NanoClock clock;
    private final AtomicLong durableIndex;
    private final AtomicLong durableLogBytes = new AtomicLong();
    private long appendedLogBytes;
    private volatile String failure;
    private volatile boolean closing;
    private long failures;
    private final AtomicLong lastCommitNs = new AtomicLong();
    private final AtomicLong maxCommitNs = new AtomicLong();

    /** @param clock times each group commit, for the commit-latency figures. */
    public JournalHandler(final Journal journal, final IdleStrategy retryIdle, final NanoClock clock)
    {
        this.journal = journal;
        this.retryIdle = retryIdle;
        this.clock = clock;
        this.durableIndex = new AtomicLong(journal.durableIndex());
    }

    public void onEvent(final OperationSlot slot, final long sequence, final boolean endOfBatch)
    {
        while (true)
        {
            try
            {
                journal.append(slot.index, slot.term, slot.timestampMs, slot.buffer, slot.offset, slot.length);
                appendedLogBytes += JournalFormat.align(JournalFormat.RECORD_OVERHEAD + slot.length);
                break;
            }
            catch (final IOException ex)
            {
                onFailure(ex);
            }
        }
        if (endOfBatch)
        {
            commit();
        }
    }

    private void commit()
    {
        final long startNs = clock.nanoTime();
        while (true)
        {
            try
            {
                journal.commit();
                break;
            }
            catch (final IOException ex)
            {
                onFailure(ex);
            }
        }
        final long tookNs = clock.nanoTime() - startNs;
        lastCommitNs.lazySet(tookNs);
        if (tookNs > maxCommitNs.get())
        {
            maxCommitNs.lazySet(tookNs);
        }
        retryIdle.reset();
        failure = null;
        durableIndex.setRelease(journal.durableIndex());
        durableLogBytes.setRelease(appendedLogBytes);
    }

    private void onFailure(final IOException ex)
    {
        failure = ex.getMessage();
        failures++;
        if (closing)
        {
            throw new IllegalStateException("journal cannot write while closing: " + ex.getMessage(), ex);
        }
        retryIdle.idle();
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
