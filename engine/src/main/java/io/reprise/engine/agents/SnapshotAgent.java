package io.reprise.engine.agents;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.flow.StateHandOff;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;

/**
 * Takes snapshots and rotates the log (ARCHITECTURE §8, seed start-up step 4) without stalling the business
 * logic. When a trigger fires (operators, time or log bytes since the last snapshot) it asks the business logic
 * for a frozen view of its state ({@link BusinessLogic#freeze}, served between two batches, copy-on-write), writes
 * and syncs the view as the snapshot file, gives the view back, appends the file to the catalog, drops snapshots
 * beyond the retained count (catalog entry first, file second), and deletes the journal segments the oldest
 * retained snapshot covers. Everything the business logic applies is committed, so a view holds durable state.
 */
public final class SnapshotAgent implements Agent
{
    /** What a snapshot agent reports, for tests and counters. */
    public interface Listener
    {
        /** A snapshot of the state at {@code index} is about to be written (before any file is touched). */
        default void onSnapshotStarting(long index)
        {
        }

        void onSnapshot(SnapshotInfo info, long writeNs);

        void onRotation(int segmentsDeleted, int snapshotsDeleted);
    }

    /**
     * Saved-session storage as the snapshot agent needs it: a snapshot at an index is written only once every
     * payload up to that index is in a source, and the sources are recorded (and pinned) with it.
     */
    public interface SourceManifests
    {
        /** Whether every storage record up to {@code index} is in a published source. */
        boolean coversThrough(long index);

        /** Asks for a flush of the container now. */
        void requestFlush();

        /** Durably records the live sources for the snapshot at {@code index}; called before the snapshot file. */
        void writeManifest(long index) throws IOException;

        /** The catalog retains only these snapshots now. */
        void retainSnapshots(long[] indices) throws IOException;

        /** No saved-session storage. */
        SourceManifests NONE = new SourceManifests()
        {
            public boolean coversThrough(final long index)
            {
                return true;
            }

            public void requestFlush()
            {
            }

            public void writeManifest(final long index)
            {
            }

            public void retainSnapshots(final long[] indices)
            {
            }
        };
    }

    private static final long RETRY_AFTER_FAILURE_MS = 10_000;

    private final Disk disk;
    private final Path journalDirectory;
    private final SnapshotCatalog catalog;
    private final StateHandOff handOff;
    private final LongSupplier appliedIndex;
    private final LongSupplier durableLogBytes;
    private final EpochClock clock;
    private final NanoClock nanoClock;
    private final long everyOperators;
    private final long everyMs;
    private final long everyLogBytes;
    private final int retained;
    private final Listener listener;
    private final ErrorHandler errorHandler;
    private volatile boolean requested;
    private volatile long lastSnapshotIndex;
    private long failures;
    private volatile long taken;
    private long retryAtMs;
    private long lastSnapshotLogBytes;
    private long lastSnapshotMs;
    private boolean freezeAsked;
    private long freezeAskedLogBytes;
    private BusinessLogic view;
    private SourceManifests sourceManifests = SourceManifests.NONE;

    /**
     * @param handOff         where frozen views of the state come from and go back to.
     * @param appliedIndex    the business logic's last applied index.
     * @param durableLogBytes journal bytes made durable since start, for the log-bytes trigger.
     */
    public SnapshotAgent(
        final Disk disk,
        final Path journalDirectory,
        final SnapshotCatalog catalog,
        final StateHandOff handOff,
        final LongSupplier appliedIndex,
        final LongSupplier durableLogBytes,
        final EpochClock clock,
        final NanoClock nanoClock,
        final long everyOperators,
        final long everyMs,
        final long everyLogBytes,
        final int retained,
        final Listener listener,
        final ErrorHandler errorHandler)
    {
        if (retained < 1 || everyOperators < 1 || everyMs < 1 || everyLogBytes < 1)
        {
            throw new IllegalArgumentException("snapshot triggers and retention must be >= 1");
        }
        this.disk = disk;
        this.journalDirectory = journalDirectory;
        this.catalog = catalog;
        this.handOff = handOff;
        this.appliedIndex = appliedIndex;
        this.durableLogBytes = durableLogBytes;
        this.clock = clock;
        this.nanoClock = nanoClock;
        this.everyOperators = everyOperators;
        this.everyMs = everyMs;
        this.everyLogBytes = everyLogBytes;
        this.retained = retained;
        this.listener = listener;
        this.errorHandler = errorHandler;
        final List<SnapshotInfo> existing = catalog.snapshots();
        lastSnapshotIndex = existing.isEmpty() ? 0 : existing.get(existing.size() - 1).index();
    }

    /** Attaches saved-session storage; before the agent starts. */
    public SnapshotAgent sourceManifests(final SourceManifests sourceManifests)
    {
        this.sourceManifests = sourceManifests;
        return this;
    }

    public void onStart()
    {
        lastSnapshotMs = clock.time();
    }

    public int doWork()
    {
        // One reading of the clock per duty cycle: every decision and record of this cycle uses it.
        final long nowMs = clock.time();
        if (null == view)
        {
            if (!freezeAsked)
            {
                if (!isDue(nowMs))
                {
                    return 0;
                }
                requested = false;
                freezeAsked = true;
                freezeAskedLogBytes = durableLogBytes.getAsLong();
                handOff.requestFreeze();
                return 1;
            }
            view = handOff.takeFrozen();
            if (null == view)
            {
                return 0;
            }
            freezeAsked = false;
        }
        // Every payload up to the view's index must be in a source first: the view waits, the business logic not.
        if (!sourceManifests.coversThrough(view.appliedIndex()))
        {
            sourceManifests.requestFlush();
            return 0;
        }
        try
        {
            write(view, nowMs);
        }
        catch (final IOException ex)
        {
            // A snapshot is an optimisation: the journal still holds everything. Report it and try later.
            failures++;
            retryAtMs = nowMs + Math.min(RETRY_AFTER_FAILURE_MS, everyMs);
            errorHandler.onError(ex);
        }
        finally
        {
            handOff.giveBack(view);
            view = null;
        }
        return 1;
    }

    /** Snapshots that failed (disk full, I/O error) and will be tried again. */
    public long failures()
    {
        return failures;
    }

    /** Snapshots this agent wrote since it started; any thread may read it. */
    public long taken()
    {
        return taken;
    }

    /** The index of the newest snapshot in the catalog, taken by this agent or found at start. */
    public long lastSnapshotIndex()
    {
        return lastSnapshotIndex;
    }

    /** Asks for a snapshot at the next duty cycle, whatever the triggers say (tools, benchmarks). */
    public void requestSnapshot()
    {
        requested = true;
    }

    private boolean isDue(final long nowMs)
    {
        if (nowMs < retryAtMs)
        {
            return false;
        }
        final long applied = appliedIndex.getAsLong();
        if (requested && applied > 0)
        {
            return true;
        }
        final long operatorsSince = applied - lastSnapshotIndex;
        if (operatorsSince <= 0)
        {
            return false;
        }
        return operatorsSince >= everyOperators ||
            durableLogBytes.getAsLong() - lastSnapshotLogBytes >= everyLogBytes ||
            nowMs - lastSnapshotMs >= everyMs;
    }

    /** Writes a snapshot of the frozen {@code state}, then applies retention and rotation. */
    private void write(final BusinessLogic state, final long nowMs) throws IOException
    {
        lastSnapshotLogBytes = freezeAskedLogBytes;
        lastSnapshotMs = nowMs;
        final List<SnapshotInfo> existing = catalog.snapshots();
        if (!existing.isEmpty() && existing.get(existing.size() - 1).index() == state.appliedIndex())
        {
            return;
        }
        listener.onSnapshotStarting(state.appliedIndex());
        final long startNs = nanoClock.nanoTime();
        sourceManifests.writeManifest(state.appliedIndex());
        final SnapshotInfo info = SnapshotFile.write(disk, catalog.directory(), state, nowMs);
        catalog.add(info);
        lastSnapshotIndex = info.index();
        taken++;
        final long writeNs = nanoClock.nanoTime() - startNs;
        listener.onSnapshot(info, writeNs);

        int snapshotsDeleted = 0;
        List<SnapshotInfo> live = catalog.snapshots();
        while (live.size() > retained)
        {
            final SnapshotInfo oldest = live.get(0);
            catalog.remove(oldest);
            disk.delete(catalog.directory().resolve(oldest.fileName()));
            snapshotsDeleted++;
            live = catalog.snapshots();
        }
        if (snapshotsDeleted > 0)
        {
            disk.syncDirectory(catalog.directory());
        }
        final long[] retainedIndices = new long[live.size()];
        for (int i = 0; i < retainedIndices.length; i++)
        {
            retainedIndices[i] = live.get(i).index();
        }
        sourceManifests.retainSnapshots(retainedIndices);
        // Any retained snapshot must stay restorable: keep the journal from the oldest one on. Its source manifest
        // holds every payload up to its index, so no deleted segment holds a payload that is in no source.
        final int segmentsDeleted = Journal.deleteSegmentsBefore(disk, journalDirectory, live.get(0).index() + 1);
        listener.onRotation(segmentsDeleted, snapshotsDeleted);
    }

    public String roleName()
    {
        return "snapshot-agent";
    }
}
