package io.reprise.tools.cluster;

import java.io.IOException;
import java.nio.file.Path;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.state.SessionTable;
import io.reprise.tools.cli.Progress;
import io.reprise.tools.data.CatalogView;
import io.reprise.tools.data.ReadOnlyDisk;
import io.reprise.tools.data.StateRebuild;

/**
 * A stopped member's state as its data directory holds it: the newest snapshot that validates, then its journal to
 * the end, as {@code reprise log replay} rebuilds it. Members that agree end at the same index with the same digest.
 *
 * @param index the last index applied.
 * @param digest the state digest there.
 * @param stop why the journal's replay stopped: anything but its end (or a torn tail, which a start truncates) is a
 *             fault.
 */
public record MemberState(long index, long digest, StateRebuild.Stop stop, String problem, BusinessLogic logic)
{
    /**
     * Rebuilds the state in {@code dataDirectory} ({@code journal/}, {@code snapshots/}) with default rules, through
     * {@code toIndex} or the journal's end (then {@link #stop()} says which).
     */
    public static MemberState of(final Path dataDirectory, final long toIndex) throws IOException
    {
        final ReadOnlyDisk disk = new ReadOnlyDisk();
        final Path snapshots = dataDirectory.resolve("snapshots");
        final CatalogView catalog = CatalogView.read(snapshots);
        final StateRebuild.Restored restored = StateRebuild.restore(disk, snapshots, catalog.snapshots(),
            new BusinessRules().conclude(), OutputSink.NONE, toIndex, false);
        final BusinessLogic logic = restored.logic();
        final StateRebuild.Replayed replayed = StateRebuild.replay(disk, dataDirectory.resolve("journal"), logic,
            toIndex, (record, result) -> { }, new Progress(System.err, "member state"));
        return new MemberState(logic.appliedIndex(), logic.digest(), replayed.stop(), replayed.problem(), logic);
    }

    /** Whether the journal read to the index asked for, its end, or a torn tail that a start truncates. */
    public boolean readWhole()
    {
        return stop == StateRebuild.Stop.REACHED || stop == StateRebuild.Stop.END || stop == StateRebuild.Stop.TORN;
    }

    /** How many of {@code sessionIds} of {@code tenant} this state does not hold, in any status. */
    public long missing(final int tenant, final long[] sessionIds)
    {
        long missing = 0;
        for (final long sessionId : sessionIds)
        {
            missing += logic.sessions().find(tenant, sessionId) == SessionTable.NULL ? 1 : 0;
        }
        return missing;
    }

    public String describe()
    {
        return "index=" + index + " digest=" + Long.toHexString(digest) + " replay " + stop +
            (null == problem ? "" : ": " + problem);
    }
}
