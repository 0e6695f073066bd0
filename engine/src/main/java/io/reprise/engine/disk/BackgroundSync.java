package io.reprise.engine.disk;

import java.io.IOException;

import io.reprise.engine.util.SystemProperties;

/**
 * Syncs a large background write (a snapshot, a saved-session source) in steps, and optionally paces it to a
 * byte rate, so that the journal's fsync, which the business logic waits on, never queues behind much of it. Left
 * to the kernel, hundreds of MB of dirty pages are written back in one burst; on ext4 (data=ordered) a journal
 * fsync then waits for that writeback. Synced in steps, it waits for at most one step; paced, the background
 * write also leaves the device idle part of the time. One instance per file being written; not thread-safe.
 * The settings are JVM-wide: system properties read once, or {@link #configure}.
 */
public final class BackgroundSync
{
    public static final String STEP_BYTES_PROP_NAME = "reprise.background.sync.step.bytes";
    /** Sync every this many bytes (docs/benchmarks.md, FsyncInterferenceProbe: 1 MiB against 8 MiB). */
    public static final long STEP_BYTES_DEFAULT = 1024 * 1024;
    public static final String SNAPSHOT_BYTES_PER_SECOND_PROP_NAME = "reprise.snapshot.write.bytes.per.second";
    /** The pace of snapshot writes, bytes per second on average; 0: as fast as the disk takes them. */
    public static final long SNAPSHOT_BYTES_PER_SECOND_DEFAULT = 200_000_000;

    private static volatile long stepBytes =
        SystemProperties.longValue(STEP_BYTES_PROP_NAME, STEP_BYTES_DEFAULT);
    private static volatile long snapshotBytesPerSecond =
        SystemProperties.longValue(SNAPSHOT_BYTES_PER_SECOND_PROP_NAME, SNAPSHOT_BYTES_PER_SECOND_DEFAULT);

    private final DiskFile file;
    private final long fileStepBytes;
    private final long bytesPerSecond;
    private final Pace pace;
    private final long startNs;
    private long written;
    private long unsynced;

    /** Synced every {@link #stepBytes()}, not paced. */
    public BackgroundSync(final DiskFile file)
    {
        this(file, stepBytes, 0);
    }

    /** Bytes between two syncs of a background write: {@value #STEP_BYTES_PROP_NAME}. */
    public static long stepBytes()
    {
        return stepBytes;
    }

    /** The pace of snapshot writes, bytes per second, 0 for none: {@value #SNAPSHOT_BYTES_PER_SECOND_PROP_NAME}. */
    public static long snapshotBytesPerSecond()
    {
        return snapshotBytesPerSecond;
    }

    /**
     * Sets both for the whole JVM, in place of their system properties; for writes that begin after the call.
     *
     * @throws IllegalArgumentException for a step below 1 or a negative pace.
     */
    public static void configure(final long stepBytes, final long snapshotBytesPerSecond)
    {
        if (stepBytes < 1 || snapshotBytesPerSecond < 0)
        {
            throw new IllegalArgumentException("background sync step must be >= 1 and pace >= 0: " + stepBytes +
                ", " + snapshotBytesPerSecond);
        }
        BackgroundSync.stepBytes = stepBytes;
        BackgroundSync.snapshotBytesPerSecond = snapshotBytesPerSecond;
    }

    /** @param bytesPerSecond the pace, in real time; 0 for none. */
    public BackgroundSync(final DiskFile file, final long stepBytes, final long bytesPerSecond)
    {
        this(file, stepBytes, bytesPerSecond, Pace.REAL);
    }

    /** @param pace the clock and the wait the pace is kept with. */
    public BackgroundSync(final DiskFile file, final long stepBytes, final long bytesPerSecond, final Pace pace)
    {
        this.file = file;
        this.fileStepBytes = stepBytes;
        this.bytesPerSecond = bytesPerSecond;
        this.pace = pace;
        this.startNs = pace.nanoTime();
    }

    /** Call after each write of {@code bytes} to the file: syncs once a step is due, then waits out the pace. */
    public void written(final long bytes) throws IOException
    {
        written += bytes;
        unsynced += bytes;
        if (unsynced < fileStepBytes)
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
            while ((waitNs = dueNs - pace.nanoTime()) > 0 && !Thread.currentThread().isInterrupted())
            {
                pace.waitNanos(waitNs);
            }
        }
    }
}
