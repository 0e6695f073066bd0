package io.reprise.engine.agents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalApplier;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.journal.JournalReader;
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
 * logic: it keeps a shadow copy of the state, fed with durable journal records on its own thread, and
 * serializes that. When a trigger fires (operators, time or log bytes since the last snapshot) it writes and
 * syncs the snapshot file, appends it to the catalog, drops snapshots beyond the retained count (catalog entry
 * first, file second), and deletes the journal segments the oldest retained snapshot covers.
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

    private static final int RECORDS_PER_DUTY_CYCLE = 65_536;
    private static final long RETRY_AFTER_FAILURE_MS = 10_000;

    private final Disk disk;
    private final Path journalDirectory;
    private final SnapshotCatalog catalog;
    private final BusinessLogic shadow;
    private final JournalApplier shadowApplier;
    private final LongSupplier durableIndex;
    private final EpochClock clock;
    private final NanoClock nanoClock;
    private final long everyOperators;
    private final long everyMs;
    private final long everyLogBytes;
    private final int retained;
    private final Listener listener;
    private JournalReader reader;
    private volatile boolean requested;
    private final ErrorHandler errorHandler;
    private long failures;
    private long retryAtMs;
    private long operatorsSince;
    private long logBytesSince;
    private long lastSnapshotMs;
    private SourceManifests sourceManifests = SourceManifests.NONE;
    private boolean waitingForStorage;

    public SnapshotAgent(
        final Disk disk,
        final Path journalDirectory,
        final SnapshotCatalog catalog,
        final BusinessLogic shadow,
        final LongSupplier durableIndex,
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
        this.shadow = shadow;
        this.shadowApplier = new JournalApplier(shadow);
        this.durableIndex = durableIndex;
        this.clock = clock;
        this.nanoClock = nanoClock;
        this.everyOperators = everyOperators;
        this.everyMs = everyMs;
        this.everyLogBytes = everyLogBytes;
        this.retained = retained;
        this.listener = listener;
        this.errorHandler = errorHandler;
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
        try
        {
            reader = new JournalReader(disk, journalDirectory).from(shadow.appliedIndex() + 1);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    public int doWork() throws IOException
    {
        // While waiting for storage to cover the shadow's index, the shadow stands still so the wait ends.
        final int applied = waitingForStorage ? 0 : catchUp();
        if (isDue())
        {
            if (!sourceManifests.coversThrough(shadow.appliedIndex()))
            {
                waitingForStorage = true;
                sourceManifests.requestFlush();
                return applied;
            }
            waitingForStorage = false;
            requested = false;
            try
            {
                snapshotNow();
            }
            catch (final IOException ex)
            {
                // A snapshot is an optimisation: the journal still holds everything. Report it and try later.
                failures++;
                retryAtMs = clock.time() + Math.min(RETRY_AFTER_FAILURE_MS, everyMs);
                errorHandler.onError(ex);
            }
            return applied + 1;
        }
        return applied;
    }

    /** Snapshots that failed (disk full, I/O error) and will be tried again. */
    public long failures()
    {
        return failures;
    }

    /** Applies durable journal records to the shadow, a bounded number per duty cycle. */
    int catchUp() throws IOException
    {
        final long durable = durableIndex.getAsLong();
        int applied = 0;
        while (shadow.appliedIndex() < durable && applied < RECORDS_PER_DUTY_CYCLE &&
            operatorsSince < everyOperators && logBytesSince < everyLogBytes)
        {
            JournalReader.Status status = reader.next();
            if (status != JournalReader.Status.RECORD)
            {
                // Cached bytes or the segment list may predate what the journal has made durable since.
                reader.refresh();
                status = reader.next();
                if (status != JournalReader.Status.RECORD)
                {
                    throw new IOException("durable journal record " + (shadow.appliedIndex() + 1) +
                        " unreadable: " + status + " " + reader.describeProblem());
                }
            }
            shadowApplier.applyCurrent(reader);
            operatorsSince++;
            logBytesSince += JournalFormat.align(JournalFormat.RECORD_OVERHEAD + reader.operatorLength());
            applied++;
        }
        return applied;
    }

    /** Asks for a snapshot at the next duty cycle, whatever the triggers say (tools, benchmarks). */
    public void requestSnapshot()
    {
        requested = true;
    }

    private boolean isDue()
    {
        if (clock.time() < retryAtMs)
        {
            return false;
        }
        if (requested && shadow.appliedIndex() > 0)
        {
            return true;
        }
        if (operatorsSince == 0)
        {
            return false;
        }
        return operatorsSince >= everyOperators || logBytesSince >= everyLogBytes ||
            clock.time() - lastSnapshotMs >= everyMs;
    }

    /** Writes a snapshot of the shadow as it is now, then applies retention and rotation. */
    public SnapshotInfo snapshotNow() throws IOException
    {
        operatorsSince = 0;
        logBytesSince = 0;
        lastSnapshotMs = clock.time();
        final List<SnapshotInfo> existing = catalog.snapshots();
        if (!existing.isEmpty() && existing.get(existing.size() - 1).index() == shadow.appliedIndex())
        {
            return existing.get(existing.size() - 1);
        }
        listener.onSnapshotStarting(shadow.appliedIndex());
        final long startNs = nanoClock.nanoTime();
        sourceManifests.writeManifest(shadow.appliedIndex());
        final SnapshotInfo info = SnapshotFile.write(disk, catalog.directory(), shadow, clock.time());
        catalog.add(info);
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
        return info;
    }

    public BusinessLogic shadow()
    {
        return shadow;
    }

    public void onClose()
    {
        try
        {
            if (null != reader)
            {
                reader.close();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    public String roleName()
    {
        return "snapshot-agent";
    }
}
