package io.reprise.tools.log;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.schema.client.ResultCode;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.cli.Progress;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.data.CatalogView;
import io.reprise.tools.data.DataDirectory;
import io.reprise.tools.data.ReadOnlyDisk;
import io.reprise.tools.data.SessionStates;
import io.reprise.tools.data.StateRebuild;

/**
 * {@code reprise log replay DIR [--to-index N]}: rebuilds the state as the node's start-up does (the newest
 * snapshot that validates, here also at or below N, then the journal after it) up to index N or the end of the
 * journal, and prints the applied index and the state digest on its last line: {@code replay: index=N
 * digest=0x...}; when it fails (N not reached, a corrupt journal or a gap, a digest that differs) there is no such
 * line, and the last one is {@code replay: FAILED, no result: why}. Passing the index of another snapshot on the way (with {@code --start oldest|none}, the
 * engine's {@code Recovery.Start} choices), it compares digests: a determinism check.
 * Business rules come from the {@code reprise.rules.*} system properties (defaults otherwise), as the node's do.
 */
public final class LogReplay
{
    public static final String USAGE = "log replay DIR [--to-index N] [--start newest|oldest|none]";
    public static final String DESCRIPTION =
        "Restores the newest valid snapshot at or below N (says which, and which it skipped) and applies the\n" +
        "journal up to index N or its end. --start oldest|none rebuilds from the oldest snapshot or from index 1\n" +
        "instead, and the digest is then compared with every snapshot passed on the way (a determinism check).\n" +
        "Last line: replay: index=N digest=0x... Exit 1, and no such line (replay: FAILED, no result: why), if N\n" +
        "is not reached, the journal is corrupt, or a snapshot's digest differs.";

    private LogReplay()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("log replay", tokens, Set.of("--to-index", "--start"), "DIR");
        final DataDirectory dir = DataDirectory.of(args.positional(0));
        final boolean bounded = args.has("--to-index");
        final long toIndex = args.longOption("--to-index", Long.MAX_VALUE, 0, Long.MAX_VALUE);
        final String start = args.has("--start") ? args.option("--start") : "newest";
        if (!List.of("newest", "oldest", "none").contains(start))
        {
            throw new UsageException("--start must be newest, oldest or none: '" + start + "'");
        }
        final ReadOnlyDisk disk = new ReadOnlyDisk();
        final BusinessRules rules = new BusinessRules().conclude();

        out.println("replay: " + dir.root() + (bounded ? " up to index " + toIndex : " to the end of the journal"));
        final CatalogView catalog = CatalogView.read(dir.snapshots());
        out.println("replay: catalog lists " + catalog.snapshots().size() + " snapshot" +
            (catalog.snapshots().size() == 1 ? "" : "s") +
            (null == catalog.truncation() ? "" : " (" + catalog.truncation() + ")"));
        final StateRebuild.Restored restored = StateRebuild.restore(disk, dir.snapshots(),
            "none".equals(start) ? List.of() : catalog.snapshots(), rules, OutputSink.NONE, toIndex,
            "oldest".equals(start));
        for (final String note : restored.notes())
        {
            out.println("replay: " + note);
        }
        final BusinessLogic logic = restored.logic();
        if (null == restored.snapshot())
        {
            out.println("replay: no snapshot used" + ("none".equals(start) ? " (--start none)" : "") +
                ": starting from the empty state");
        }
        else
        {
            final SnapshotInfo s = restored.snapshot();
            out.println("replay: restored " + s.fileName() + " (index=" + s.index() + " term=" + s.term() +
                " system time " + Format.time(s.systemTimeMs()) + ")");
        }

        // Other snapshots the replay will pass: their digests must be met exactly (same log, same state).
        final List<SnapshotInfo> checkpoints = new ArrayList<>();
        for (final SnapshotInfo info : catalog.snapshots())
        {
            if (info.index() > logic.appliedIndex() && info.index() <= toIndex)
            {
                checkpoints.add(info);
            }
        }
        final int[] mismatches = new int[1];
        out.println("replay: applying the journal from index " + (logic.appliedIndex() + 1));
        final StateRebuild.Replayed replayed = StateRebuild.replay(disk, dir.journal(), logic, toIndex,
            new StateRebuild.RecordListener()
            {
                public void afterApply(final JournalReader record, final ResultCode result)
                {
                    for (final SnapshotInfo info : checkpoints)
                    {
                        if (info.index() == record.index())
                        {
                            final long digest = logic.digest();
                            final boolean same = digest == info.stateDigest();
                            mismatches[0] += same ? 0 : 1;
                            out.println("replay: at index " + info.index() + " the state digest " +
                                (same ? "equals that of " + info.fileName() : Format.hex64(digest) +
                                " DIFFERS from " + info.fileName() + "'s " + Format.hex64(info.stateDigest())));
                        }
                    }
                }
            }, new Progress(err, "replay"));

        String failure = mismatches[0] == 0 ? null : mismatches[0] + " snapshot digest" +
            (mismatches[0] == 1 ? "" : "s") + " differ from the replayed state's";
        out.println("replay: applied " + replayed.records() + " records");
        switch (replayed.stop())
        {
            case END:
                if (bounded)
                {
                    out.println("replay: the journal ends at index " + logic.appliedIndex() + ", before index " +
                        toIndex);
                    failure = "index " + toIndex + " is not reached";
                }
                break;
            case TORN:
                out.println("replay: the journal ends with a torn record, which the node truncates at start: " +
                    replayed.problem());
                if (bounded)
                {
                    out.println("replay: index " + toIndex + " is not reached");
                    failure = "index " + toIndex + " is not reached";
                }
                break;
            case CORRUPT:
            case GAP:
                out.println("replay: stopped, " + replayed.stop() + ": " + replayed.problem());
                failure = "the journal is " + (replayed.stop() == StateRebuild.Stop.GAP ? "missing records" :
                    "corrupt");
                break;
            default:
                break;
        }
        out.println("replay: state at index " + logic.appliedIndex() + ": system time " +
            Format.time(logic.systemTimeMs()) + ", " + logic.sessions().size() + " sessions (" +
            SessionStates.describeCounts(SessionStates.countByStatus(logic.sessions())) + ")");
        if (null != failure)
        {
            // No result line: a script that takes the last line as the state at the index asked for must not find one.
            out.println("replay: FAILED, no result: " + failure);
            return ExitCode.FAILED;
        }
        out.println("replay: index=" + logic.appliedIndex() + " digest=" + Format.hex64(logic.digest()));
        return ExitCode.OK;
    }
}
