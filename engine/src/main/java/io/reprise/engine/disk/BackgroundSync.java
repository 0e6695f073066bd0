package io.reprise.engine.disk;

import java.io.IOException;


/**
 * Syncs a large background write (a snapshot, a saved-session source) in steps, and optionally paces it to a
 * byte rate, so that the journal's fsync, which the business logic waits on, never queues behind much of it. Left
 * to the kernel, hundreds of MB of dirty pages are written back in one burst; on ext4 (data=ordered) a journal
 * fsync then waits for that writeback. Synced in steps, it waits for at most one step; paced, the background
 * write also leaves the device idle part of the time. One instance per file being written; not thread-safe.
 * How it syncs and paces is a property of the disk ({@link Disk#backgroundWrites}), set per node.
 */
public final class BackgroundSync
{
    /**
     * How a disk takes background writes.
     *
     * @param stepBytes              sync every this many bytes (docs/benchmarks.md, FsyncInterferenceProbe: 1 MiB
     *                               against 8 MiB).
     * @param snapshotBytesPerSecond the pace of snapshot writes, bytes per second on average; 0: as fast as the
     *                               disk takes them.
     * @param pace                   the clock and the wait the pace is kept with.
     */
    public record Settings(long stepBytes, long snapshotBytesPerSecond, Pace pace)
    {
        public static final long STEP_BYTES_DEFAULT = 1024 * 1024;
        public static final long SNAPSHOT_BYTES_PER_SECOND_DEFAULT = 200_000_000;
        /** Synced in the default steps and never paced: no clock is read. */
        public static final Settings UNPACED = new Settings(STEP_BYTES_DEFAULT, 0, null);

        public Settings
        {
            if (stepBytes < 1 || snapshotBytesPerSecond < 0 || (snapshotBytesPerSecond > 0 && null == pace))
            {
                throw new IllegalArgumentException("background writes: step " + stepBytes + " bytes, pace " +
                    snapshotBytesPerSecond + " bytes/s, clock " + pace);
            }
        }
    }

    private final DiskFile file;
    private final long stepBytes;
    private final long bytesPerSecond;
    private final Pace pace;
    private final long startNs;
    private long written;
    private long unsynced;

    /** Synced in the disk's steps, not paced: a saved-session source. */
    public static BackgroundSync unpaced(final DiskFile file, final Settings settings)
    {
        return new BackgroundSync(file, settings.stepBytes(), 0, null);
    }

    /** Synced in the disk's steps and paced to its snapshot pace. */
    public static BackgroundSync snapshot(final DiskFile file, final Settings settings)
    {
        return new BackgroundSync(file, settings.stepBytes(), settings.snapshotBytesPerSecond(), settings.pace());
    }

    /** @param pace the clock and the wait the pace is kept with; unused (may be null) when {@code bytesPerSecond} is 0. */
    public BackgroundSync(final DiskFile file, final long stepBytes, final long bytesPerSecond, final Pace pace)
    {
        this.file = file;
        this.stepBytes = stepBytes;
        this.bytesPerSecond = bytesPerSecond;
        this.pace = pace;
        this.startNs = bytesPerSecond > 0 ? pace.nanoTime() : 0;
    }

    /** Call after each write of {@code bytes} to the file: syncs once a step is due, then waits out the pace. */
    public void written(final long bytes) throws IOException
    {
        written += bytes;
        unsynced += bytes;
        if (unsynced < stepBytes)
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
