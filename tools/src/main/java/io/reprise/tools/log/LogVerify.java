package io.reprise.tools.log;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Set;

import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Progress;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.data.CatalogView;
import io.reprise.tools.data.DataDirectory;
import io.reprise.tools.data.ReadOnlyDisk;

/**
 * {@code reprise log verify DIR}: reads every journal record of every segment with the engine's validating
 * {@link JournalReader} (segment headers, the chained CRC32C of each record, index continuity within and across
 * segments, terms that never go back) and checks that the snapshots cover whatever rotation removed from the
 * front. Reports the first problem with its file and offset, and whether the node would truncate it (a torn
 * tail) or refuse to start (corruption). Changes nothing.
 * <p>
 * Exit status: 0 when everything validates (last line {@code verify: records=N ok}), 3 for a torn tail, 1 for
 * corruption, a missing segment or an uncovered gap.
 */
public final class LogVerify
{
    public static final String USAGE = "log verify DIR";
    public static final String DESCRIPTION =
        "Checks every record of the journal (CRC chain, index continuity across segments, segment headers)\n" +
        "and that snapshots cover what rotation removed; names the file and offset of the first problem.\n" +
        "Exit 0: ok (last line: verify: records=N ok); 3: torn tail (the node cuts it at start); 1: corrupt.";

    private LogVerify()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("log verify", tokens, Set.of(), "DIR");
        final DataDirectory dir = DataDirectory.of(args.positional(0));
        final ReadOnlyDisk disk = new ReadOnlyDisk();
        final Progress progress = new Progress(err, "verify");

        long records = 0;
        long firstIndex = -1;
        long lastIndex = -1;
        final JournalReader.Status status;
        final String problem;
        try (JournalReader reader = DataDirectory.journalReader(disk, dir.journal()))
        {
            final List<Long> segments = reader.segments();
            out.println("verify: journal " + dir.journal() + ": " + segments.size() + " segment" +
                (segments.size() == 1 ? "" : "s"));
            long segment = -1;
            long segmentRecords = 0;
            long segmentFirst = -1;
            JournalReader.Status next;
            while ((next = reader.next()) == JournalReader.Status.RECORD)
            {
                if (reader.segmentFirstIndex() != segment)
                {
                    printSegment(out, segment, segmentRecords, segmentFirst, lastIndex);
                    segment = reader.segmentFirstIndex();
                    segmentRecords = 0;
                    segmentFirst = reader.index();
                }
                if (firstIndex < 0)
                {
                    firstIndex = reader.index();
                }
                lastIndex = reader.index();
                segmentRecords++;
                records++;
                progress.record(reader.index(), reader.file().getFileName().toString());
            }
            printSegment(out, segment, segmentRecords, segmentFirst, lastIndex);
            if (next != JournalReader.Status.END)
            {
                // Where reading stopped, and the segments after it that were never reached: nothing is hidden.
                final long stoppedIn = JournalFormat.firstIndexOf(reader.problemFile().getFileName().toString());
                for (final long first : segments)
                {
                    if (first == stoppedIn && first != segment)
                    {
                        out.println("  " + JournalFormat.segmentName(first) + "  " + next + " at offset " +
                            reader.problemOffset());
                    }
                    else if (first > Math.max(segment, stoppedIn))
                    {
                        out.println("  " + JournalFormat.segmentName(first) + "  not read (after the problem)");
                    }
                }
            }
            status = next;
            problem = next == JournalReader.Status.END ? null : reader.describeProblem();
        }

        if (status == JournalReader.Status.CORRUPT)
        {
            out.println("verify: CORRUPT " + problem);
            out.println("verify: records=" + records + " valid before it" + lastValid(lastIndex) +
                "; the node refuses to start on this journal");
            return ExitCode.FAILED;
        }

        final String coverage = checkCoverage(dir, firstIndex, lastIndex, out);
        if (status == JournalReader.Status.TORN)
        {
            out.println("verify: TORN tail " + problem);
            if (null != coverage)
            {
                out.println("verify: FAILED " + coverage);
            }
            out.println("verify: records=" + records + " valid" + lastValid(lastIndex) + (null == coverage ?
                "; the node truncates the journal there at its next start (a torn record was never acknowledged)" :
                "; the node refuses to start on this journal"));
            return null == coverage ? ExitCode.TORN_TAIL : ExitCode.FAILED;
        }
        if (null != coverage)
        {
            out.println("verify: FAILED " + coverage);
            out.println("verify: records=" + records + " valid" + lastValid(lastIndex));
            return ExitCode.FAILED;
        }
        out.println("verify: records=" + records + " ok");
        return ExitCode.OK;
    }

    private static String lastValid(final long lastIndex)
    {
        return lastIndex < 0 ? " (none)" : " (last valid index " + lastIndex + ")";
    }

    private static void printSegment(
        final PrintStream out, final long segment, final long records, final long first, final long last)
    {
        if (segment >= 0)
        {
            out.println("  " + JournalFormat.segmentName(segment) + "  records=" + records +
                (records == 0 ? "" : "  indexes " + first + ".." + last));
        }
    }

    /**
     * The journal must start at index 1 or right after a snapshot the node can restore, and must not end before
     * the newest snapshot (the node replays from there).
     *
     * @return what does not hold, or null.
     */
    private static String checkCoverage(
        final DataDirectory dir, final long firstIndex, final long lastIndex, final PrintStream out)
        throws IOException
    {
        final CatalogView catalog;
        try
        {
            catalog = CatalogView.read(dir.snapshots());
        }
        catch (final IOException ex)
        {
            return "the snapshot catalog is unreadable, so the node cannot start: " + ex.getMessage();
        }
        final List<SnapshotInfo> snapshots = catalog.snapshots();
        final SnapshotInfo newest = snapshots.isEmpty() ? null : snapshots.get(snapshots.size() - 1);
        if (firstIndex > 1)
        {
            final boolean covered = snapshots.stream().anyMatch((s) -> s.index() >= firstIndex - 1);
            if (!covered)
            {
                return "the journal starts at index " + firstIndex + " but no snapshot in the catalog reaches index " +
                    (firstIndex - 1) + ": records 1.." + (firstIndex - 1) + " are gone";
            }
            out.println("verify: the journal starts at index " + firstIndex + " (earlier segments rotated away); " +
                "snapshot " + newest.fileName() + " (index " + newest.index() + ") covers what came before");
        }
        if (null != newest && lastIndex >= 0 && lastIndex < newest.index())
        {
            return "the journal ends at index " + lastIndex + ", before the newest snapshot's index " +
                newest.index();
        }
        return null;
    }
}
