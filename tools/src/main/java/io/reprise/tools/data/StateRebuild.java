package io.reprise.tools.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.schema.client.ResultCode;
import io.reprise.tools.cli.Progress;

/**
 * Rebuilds a state from a data directory the way the node's start-up does (engine {@code Recovery}: restore a
 * snapshot that validates, then apply the journal after it), with what the tools need on top: a bound on the
 * snapshot's index, the choice of the oldest snapshot, a look at every record applied, and a torn tail that
 * ends the replay where the node would cut it instead of failing.
 */
public final class StateRebuild
{
    /** Why a replay stopped. */
    public enum Stop
    {
        /** The requested index was applied. */
        REACHED,
        /** The journal has no more records. */
        END,
        /** The journal ends with a torn record (the node truncates it at start). */
        TORN,
        /** Written data does not validate (the node refuses to start). */
        CORRUPT,
        /** A record does not follow the state's applied index: a segment is missing. */
        GAP
    }

    /** Sees each record as it is applied. */
    public interface RecordListener
    {
        default void beforeApply(final JournalReader record)
        {
        }

        void afterApply(JournalReader record, ResultCode result);
    }

    /** A restored state and how it was chosen. */
    public record Restored(BusinessLogic logic, SnapshotInfo snapshot, List<String> notes)
    {
    }

    /** How a replay went. */
    public record Replayed(long records, Stop stop, String problem)
    {
    }

    private StateRebuild()
    {
    }

    /**
     * Restores the newest (or, with {@code oldestFirst}, the oldest) snapshot with index at most
     * {@code atOrBelow} that validates, trying the others in turn; the empty state when none does.
     * {@link Restored#notes()} say which snapshots were skipped or rejected, and why.
     */
    public static Restored restore(
        final Disk disk,
        final Path snapshotDirectory,
        final List<SnapshotInfo> catalogSnapshots,
        final BusinessRules rules,
        final OutputSink sink,
        final long atOrBelow,
        final boolean oldestFirst)
    {
        final List<String> notes = new ArrayList<>();
        final List<SnapshotInfo> candidates = new ArrayList<>();
        for (final SnapshotInfo info : catalogSnapshots)
        {
            if (info.index() <= atOrBelow)
            {
                candidates.add(info);
            }
            else
            {
                notes.add("skipped " + info.fileName() + " (index " + info.index() + " is past " + atOrBelow + ")");
            }
        }
        if (!oldestFirst)
        {
            Collections.reverse(candidates);
        }
        for (final SnapshotInfo info : candidates)
        {
            final BusinessLogic logic = new BusinessLogic(rules, sink);
            try
            {
                SnapshotFile.load(disk, snapshotDirectory.resolve(info.fileName()), logic);
                return new Restored(logic, info, notes);
            }
            catch (final IOException | RuntimeException ex)
            {
                notes.add("rejected " + info.fileName() + ": " + ex.getMessage());
            }
        }
        return new Restored(new BusinessLogic(rules, sink), null, notes);
    }

    /** First index the journal holds (its first segment's), or -1 when it has no segment. */
    public static long firstJournalIndex(final Disk disk, final Path journalDirectory) throws IOException
    {
        try (JournalReader reader = new JournalReader(disk, journalDirectory))
        {
            return reader.segments().isEmpty() ? -1 : reader.segments().get(0);
        }
    }

    /** Applies the journal records after the state's applied index, up to {@code toIndex} or the end. */
    public static Replayed replay(
        final Disk disk,
        final Path journalDirectory,
        final BusinessLogic logic,
        final long toIndex,
        final RecordListener listener,
        final Progress progress) throws IOException
    {
        long records = 0;
        try (JournalReader reader = DataDirectory.journalReader(disk, journalDirectory).from(logic.appliedIndex() + 1))
        {
            while (logic.appliedIndex() < toIndex)
            {
                final JournalReader.Status status = reader.next();
                switch (status)
                {
                    case END:
                        return new Replayed(records, Stop.END, null);
                    case TORN:
                        return new Replayed(records, Stop.TORN, reader.describeProblem());
                    case CORRUPT:
                        return new Replayed(records, Stop.CORRUPT, reader.describeProblem());
                    default:
                        break;
                }
                if (reader.index() != logic.appliedIndex() + 1)
                {
                    return new Replayed(records, Stop.GAP, reader.file() + " at offset " + reader.recordOffset() +
                        ": record " + reader.index() + " where " + (logic.appliedIndex() + 1) +
                        " belongs (a segment is missing, or the journal was rotated past the state)");
                }
                listener.beforeApply(reader);
                final ResultCode result = logic.apply(reader.index(), reader.term(), reader.entryTimeMs(),
                    reader.buffer(), reader.operatorOffset(), reader.operatorLength());
                listener.afterApply(reader, result);
                records++;
                progress.record(reader.index(), reader.file().getFileName().toString());
            }
        }
        return new Replayed(records, Stop.REACHED, null);
    }
}
