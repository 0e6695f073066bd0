package io.reprise.tools.stat;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.reprise.tools.cli.ExitCode;
import io.reprise.transport.NodeFiles;
import io.reprise.transport.Settings;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.ErrorLogReader;

/**
 * What {@code reprise stat} shows of the files a node keeps beside its counters ({@link NodeFiles}): its distinct
 * errors and its effective settings. Reads only.
 */
final class NodeFileViews
{
    private NodeFileViews()
    {
    }

    /** {@code stat --errors}: every distinct error of every node with an error log in {@code aeronDir}. */
    static int errors(final String aeronDir, final PrintStream out, final PrintStream err)
    {
        final List<Long> nodes = NodeFiles.nodesWithErrorLogs(aeronDir);
        if (nodes.isEmpty())
        {
            err.println("reprise stat: no node's error log in " + aeronDir + " (no reprise-node-*-errors.dat): no " +
                "node runs there, or it stopped (a node deletes its files when it stops); give the node's " +
                "directory with --aeron-dir");
            return ExitCode.FAILED;
        }
        for (final long node : nodes)
        {
            final File file = NodeFiles.errorLogFile(aeronDir, node);
            final MappedByteBuffer map;
            try
            {
                map = IoUtil.mapExistingFile(file, FileChannel.MapMode.READ_ONLY, "error log");
            }
            catch (final RuntimeException ex)
            {
                err.println("reprise stat: cannot read " + file + ": " + ex.getMessage());
                return ExitCode.FAILED;
            }
            try
            {
                final List<String> entries = new ArrayList<>();
                final long[] total = new long[1];
                ErrorLogReader.read(new UnsafeBuffer(map), (count, firstMs, lastMs, trace) ->
                {
                    total[0] += count;
                    entries.add(count + " time" + (count == 1 ? "" : "s") + ", first " + Instant.ofEpochMilli(firstMs) +
                        ", last " + Instant.ofEpochMilli(lastMs) + ":\n" + indent(trace));
                });
                out.println("errors: node on " + aeronDir + " (Aeron client " + node + "): " +
                    (entries.isEmpty() ? "none" : entries.size() + " distinct, " + total[0] + " in all"));
                for (int i = 0; i < entries.size(); i++)
                {
                    out.println("error " + (i + 1) + " of " + entries.size() + ": " + entries.get(i));
                }
            }
            finally
            {
                IoUtil.unmap(map);
            }
        }
        return ExitCode.OK;
    }

    /**
     * The effective settings of the nodes {@code owners} (Aeron client ids) on {@code aeronDir}: all of them
     * ({@code stat --settings}), or those that are not the defaults (after the counters).
     */
    static int settings(
        final String aeronDir, final List<Long> owners, final boolean all, final PrintStream out, final PrintStream err)
    {
        if (owners.isEmpty())
        {
            err.println("reprise stat: no node runs on the Aeron directory " + aeronDir + "; give the node's " +
                "directory with --aeron-dir");
            return ExitCode.FAILED;
        }
        for (final long owner : owners)
        {
            final File file = NodeFiles.settingsFile(aeronDir, owner);
            final List<String[]> rows;
            try
            {
                rows = NodeFiles.readSettings(file);
            }
            catch (final IOException ex)
            {
                if (all)
                {
                    err.println("reprise stat: the node (Aeron client " + owner + ") on " + aeronDir + " left no " +
                        "settings in " + file + ": " + ex);
                    return ExitCode.FAILED;
                }
                continue;
            }
            final List<String[]> shown = new ArrayList<>();
            for (final String[] row : rows)
            {
                if (all || row.length < 3 || !Settings.DEFAULT.equals(row[2]))
                {
                    shown.add(row.length < 3 ? new String[] {row[0], row.length > 1 ? row[1] : "", "?"} : row);
                }
            }
            out.println("settings: node on " + aeronDir + " (Aeron client " + owner + "): " + (all ?
                rows.size() + " effective settings (" + file + "):" :
                shown.size() + " of " + rows.size() + " not the defaults (stat --settings prints all)" +
                (shown.isEmpty() ? "" : ":")));
            out.print(Settings.describeText(shown, "  "));
        }
        return ExitCode.OK;
    }

    private static String indent(final String trace)
    {
        final StringBuilder text = new StringBuilder();
        for (final String line : trace.strip().split("\\R"))
        {
            text.append("  ").append(line).append('\n');
        }
        return text.substring(0, text.length() - 1);
    }
}
