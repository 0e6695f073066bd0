package io.reprise.engine.disk;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

import io.reprise.engine.util.SystemProperties;

/**
 * Syncs a large background write (a snapshot, a saved-session source) in steps, and optionally paces it to a
 * byte rate, so that the journal's fsync, which the business logic waits on, never queues behind much of it. Left
 * to the kernel, hundreds of MB of dirty pages are written back in one burst; on ext4 (data=ordered) a journal
 * fsync then waits for that writeback. Synced in steps, it waits for at most one step; paced, the background
 * write also leaves the device idle part of the time. One instance per file being written; not thread-safe.
 */
public final class BackgroundSync
{
    /** Sync every this many bytes. */
    public static final int STEP_BYTES =
        SystemProperties.intValue("reprise.background.sync.step.bytes", 8 * 1024 * 1024);
    /** Bytes per second a paced write may average; 0: unpaced. */
    public static final long PACED_BYTES_PER_SECOND =
        SystemProperties.longValue("reprise.background.write.bytes.per.second", 0);

    private final DiskFile file;
    private final long bytesPerSecond;
    private final long startNs = System.nanoTime();
    private long written;
    private long unsynced;

    /** @param paced whether to hold the write to {@link #PACED_BYTES_PER_SECOND}. */
    public BackgroundSync(final DiskFile file, final boolean paced)
    {
        this.file = file;
        this.bytesPerSecond = paced ? PACED_BYTES_PER_SECOND : 0;
    }

    /** Call after each write of {@code bytes} to the file: syncs once a step is due, then waits out the pace. */
    public void written(final long bytes) throws IOException
    {
        written += bytes;
        unsynced += bytes;
        if (unsynced < STEP_BYTES)
        {
            return;
        }
        file.sync();
        unsynced = 0;
        if (bytesPerSecond > 0)
        {
            final long dueNs = startNs + (long)(written * 1e9 / bytesPerSecond);
            long waitNs;
            // An interrupt (the agent being closed) ends the pacing: the write then finishes at full speed.
            while ((waitNs = dueNs - System.nanoTime()) > 0 && !Thread.currentThread().isInterrupted())
            {
                LockSupport.parkNanos(waitNs);
            }
        }
    }
}
