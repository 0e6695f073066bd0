package io.reprise.engine.node;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.journal.JournalApplier;
import io.reprise.engine.journal.JournalCorruptException;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;

/**
 * Rebuilds the state from a data directory, the seed's start-up steps 1 to 3: read the catalog, restore the
 * newest snapshot that validates (falling back to older ones), replay the journal after it. Used by the node at
 * start-up and by the {@code reprise log replay} tool; both must reach the same state.
 */
public final class Recovery
{
    /** Which snapshot to start from. */
    public enum Start
    {
        /** The newest snapshot that validates, falling back to older ones: what a node does. */
        NEWEST_VALID,
        /** The oldest retained snapshot: an independent path to the same state, for cross-checks. */
        OLDEST,
        /** No snapshot: replay the journal from its first record (only when nothing was rotated away). */
        NONE
    }

    /** Receives what recovery does, step by step: for the lifecycle record and for progress on long replays. */
    public interface Listener
    {
        void onStep(String step);

        default void onReplayProgress(long index, long lastIndex)
        {
        }
    }

    private Recovery()
    {
    }

    /** Builds a business logic whose state is the snapshot restored from {@code start}, before any replay. */
    public static BusinessLogic restoreSnapshot(
        final Disk disk,
        final SnapshotCatalog catalog,
        final BusinessRules rules,
        final OutputSink sink,
        final Start start,
        final Listener listener) throws IOException
    {
        final List<SnapshotInfo> candidates = new ArrayList<>(catalog.snapshots());
        if (start == Start.NONE)
        {
            candidates.clear();
        }
        else if (start == Start.OLDEST && !candidates.isEmpty())
        {
            candidates.subList(1, candidates.size()).clear();
        }
        for (int i = candidates.size() - 1; i >= 0; i--)
        {
            final SnapshotInfo info = candidates.get(i);
            final BusinessLogic logic = new BusinessLogic(rules, sink);
            try
            {
                SnapshotFile.load(disk, catalog.directory().resolve(info.fileName()), logic);
                listener.onStep("snapshot-restored " + info.fileName() + " index=" + info.index());
                return logic;
            }
            catch (final IOException ex)
            {
                listener.onStep("snapshot-rejected " + info.fileName() + ": " + ex.getMessage());
                if (start != Start.NEWEST_VALID)
                {
                    throw ex;
                }
            }
        }
        listener.onStep("snapshot-none");
        return new BusinessLogic(rules, sink);
    }

    /**
     * Applies the journal records after the state's applied index, up to {@code toIndex} or the end.
     *
     * @return the number of records applied.
     */
    public static long replay(
        final Disk disk,
        final Path journalDirectory,
        final BusinessLogic logic,
        final long toIndex,
        final Listener listener) throws IOException
    {
        return replay(disk, journalDirectory, logic, toIndex, listener, false);
    }

    /** @param acceptTornRecords a planted bug for the simulator only ({@link PlantedBug#SKIP_TORN_CHECK}). */
    static long replay(
        final Disk disk,
        final Path journalDirectory,
        final BusinessLogic logic,
        final long toIndex,
        final Listener listener,
        final boolean acceptTornRecords) throws IOException
    {
        long applied = 0;
        final JournalApplier applier = new JournalApplier(logic);
        try (JournalReader reader = new JournalReader(disk, journalDirectory).from(logic.appliedIndex() + 1)
            .acceptTornRecords(acceptTornRecords))
        {
            JournalReader.Status status;
            while (logic.appliedIndex() < toIndex && (status = reader.next()) != JournalReader.Status.END)
            {
                if (status != JournalReader.Status.RECORD)
                {
                    throw new JournalCorruptException(reader.describeProblem());
                }
                if (reader.index() != logic.appliedIndex() + 1)
                {
                    throw new JournalCorruptException(reader.file() + ": record " + reader.index() +
                        " follows applied index " + logic.appliedIndex() + " (missing segment?)");
                }
                applier.applyCurrent(reader);
                applied++;
                if ((applied & 0xFFFFF) == 0)
                {
                    listener.onReplayProgress(reader.index(), toIndex);
                }
            }
        }
        listener.onStep("journal-replayed records=" + applied + " to index=" + logic.appliedIndex());
        return applied;
    }
}
