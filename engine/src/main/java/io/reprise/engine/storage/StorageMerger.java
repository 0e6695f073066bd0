package io.reprise.engine.storage;

import java.io.IOException;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;

/**
 * The storage merger (seed start-up step 4, "the subsystem that merges the file sources of repeats"), on every
 * node: deletes retired sources once unused and unpinned, and merges sources by the size-tiered policy of
 * {@link SavedSessionStorage#plan} (or all of them when asked). A failed merge leaves the inputs live, is
 * reported and retried after {@code retryMs}.
 */
public final class StorageMerger implements Agent
{
    private final SavedSessionStorage storage;
    private final EpochClock clock;
    private final int fanIn;
    private final long baseBytes;
    private final long retryMs;
    private final ErrorHandler errorHandler;
    private long retryAtMs;
    private long failures;

    public StorageMerger(
        final SavedSessionStorage storage, final EpochClock clock, final int fanIn, final long baseBytes,
        final long retryMs, final ErrorHandler errorHandler)
    {
        if (fanIn < 2 || baseBytes < 1 || retryMs < 1)
        {
            throw new IllegalArgumentException("merge fan-in must be >= 2, base bytes and retry >= 1");
        }
        this.storage = storage;
        this.clock = clock;
        this.fanIn = fanIn;
        this.baseBytes = baseBytes;
        this.retryMs = retryMs;
        this.errorHandler = errorHandler;
    }

    public int doWork()
    {
        final long nowMs = clock.time();
        if (nowMs < retryAtMs)
        {
            return 0;
        }
        try
        {
            int work = storage.deleteRetired();
            final boolean full = storage.takeFullMergeRequest();
            final SourceFile[] inputs = storage.plan(full, fanIn, baseBytes);
            if (null != inputs)
            {
                storage.merge(inputs);
                work++;
            }
            return work;
        }
        catch (final IOException ex)
        {
            failures++;
            retryAtMs = nowMs + retryMs;
            errorHandler.onError(ex);
            return 1;
        }
    }

    public long failures()
    {
        return failures;
    }

    public String roleName()
    {
        return "storage-merger";
    }
}
