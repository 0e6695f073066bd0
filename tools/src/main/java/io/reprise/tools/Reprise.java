package io.reprise.tools;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

import io.reprise.tools.bench.BenchCommand;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.cluster.ClusterCommand;
import io.reprise.tools.demo.DemoCommand;
import io.reprise.tools.load.LoadCommand;
import io.reprise.tools.log.LogDump;
import io.reprise.tools.log.LogReplay;
import io.reprise.tools.log.LogVerify;
import io.reprise.tools.node.NodeCommand;
import io.reprise.tools.session.SessionHistory;
import io.reprise.tools.session.SessionStatusQuery;
import io.reprise.tools.sim.SimCommand;
import io.reprise.tools.snapshot.CatalogList;
import io.reprise.tools.snapshot.SnapshotInspect;
import io.reprise.tools.stat.NodeStat;

/**
 * The {@code reprise} command line: small verbs, in the manner of Aeron's {@code ClusterTool}, each in a class of
 * its own; the diagnostic ones read a node's data directory and never change it (docs/tools.md).
 * <p>
 * Exit status: 0 on success; 1 when something checked does not hold (corruption, a demo that does not account
 * for every session, an index not reached); 2 on a usage error; 3 when a journal or catalog ends torn.
 */
public final class Reprise
{
    static final int EXIT_OK = ExitCode.OK;
    static final int EXIT_FAILED = ExitCode.FAILED;
    static final int EXIT_USAGE = ExitCode.USAGE;

    /** One verb: its words, its usage line, what it does, and how to run it. */
    private record Verb(List<String> words, String usage, String description, Runner runner)
    {
    }

    @FunctionalInterface
    private interface Runner
    {
        int run(List<String> tokens, PrintStream out, PrintStream err) throws UsageException, IOException;
    }

    private static final List<Verb> VERBS = List.of(
        new Verb(List.of("demo"), DemoCommand.USAGE, DemoCommand.DESCRIPTION, DemoCommand::run),
        new Verb(List.of("node"), NodeCommand.USAGE, NodeCommand.DESCRIPTION, NodeCommand::run),
        new Verb(List.of("cluster"), ClusterCommand.USAGE, ClusterCommand.DESCRIPTION, ClusterCommand::run),
        new Verb(List.of("cluster", "status"), ClusterCommand.STATUS_USAGE, ClusterCommand.STATUS_DESCRIPTION,
            ClusterCommand::status),
        new Verb(List.of("cluster", "transfer-leadership"), ClusterCommand.TRANSFER_USAGE,
            ClusterCommand.TRANSFER_DESCRIPTION, ClusterCommand::transferLeadership),
        new Verb(List.of("cluster", "snapshot"), ClusterCommand.SNAPSHOT_USAGE, ClusterCommand.SNAPSHOT_DESCRIPTION,
            ClusterCommand::snapshot),
        new Verb(List.of("log", "verify"), LogVerify.USAGE, LogVerify.DESCRIPTION, LogVerify::run),
        new Verb(List.of("log", "dump"), LogDump.USAGE, LogDump.DESCRIPTION, LogDump::run),
        new Verb(List.of("log", "replay"), LogReplay.USAGE, LogReplay.DESCRIPTION, LogReplay::run),
        new Verb(List.of("catalog"), CatalogList.USAGE, CatalogList.DESCRIPTION, CatalogList::run),
        new Verb(List.of("snapshot", "inspect"), SnapshotInspect.USAGE, SnapshotInspect.DESCRIPTION,
            SnapshotInspect::run),
        new Verb(List.of("session", "history"), SessionHistory.USAGE, SessionHistory.DESCRIPTION,
            SessionHistory::run),
        new Verb(List.of("session", "status"), SessionStatusQuery.USAGE, SessionStatusQuery.DESCRIPTION,
            SessionStatusQuery::run),
        new Verb(List.of("stat"), NodeStat.USAGE, NodeStat.DESCRIPTION, NodeStat::run),
        new Verb(List.of("load"), LoadCommand.USAGE, LoadCommand.DESCRIPTION, LoadCommand::run),
        new Verb(List.of("bench"), BenchCommand.USAGE, BenchCommand.DESCRIPTION, BenchCommand::run),
        new Verb(List.of("sim"), SimCommand.USAGE, SimCommand.DESCRIPTION, SimCommand::run));

    private Reprise()
    {
    }

    public static void main(final String[] args)
    {
        System.exit(run(args, System.out, System.err));
    }

    static String usage()
    {
        final StringBuilder text = new StringBuilder("usage: reprise <verb> [arguments]")
            .append(System.lineSeparator());
        text.append(System.lineSeparator()).append("verbs:").append(System.lineSeparator());
        for (final Verb verb : VERBS)
        {
            text.append("  ").append(verb.usage()).append(System.lineSeparator());
            for (final String line : verb.description().split("\n"))
            {
                text.append("        ").append(line).append(System.lineSeparator());
            }
        }
        text.append("  help  Prints this text.").append(System.lineSeparator());
        text.append(System.lineSeparator())
            .append("DIR is a node's data directory (DIR/journal, DIR/snapshots). The diagnostic verbs only read it;")
            .append(System.lineSeparator())
            .append("long passes print progress to stderr. Exit: 0 ok, 1 a check failed, 2 usage, 3 torn tail.");
        return text.toString();
    }

    /** Runs one command; the exit status is returned rather than taken, so tests can call it. */
    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        if (args.length == 0)
        {
            err.println(usage());
            return EXIT_USAGE;
        }
        if (List.of("help", "-h", "--help").contains(args[0]))
        {
            out.println(usage());
            return EXIT_OK;
        }
        for (final Verb verb : VERBS)
        {
            final int words = verb.words().size();
            // The verb of the most words that start the command line: "cluster status" rather than "cluster".
            if (starts(verb, args) && VERBS.stream().noneMatch((v) -> v.words().size() > words && starts(v, args)))
            {
                final String command = String.join(" ", verb.words());
                try
                {
                    return verb.runner().run(Arrays.asList(args).subList(words, args.length), out, err);
                }
                catch (final UsageException ex)
                {
                    err.println("reprise " + command + ": " + ex.getMessage());
                    err.println("usage: reprise " + verb.usage() + "   (reprise help: every verb)");
                    return EXIT_USAGE;
                }
                catch (final IOException ex)
                {
                    err.println("reprise " + command + ": " + ex.getMessage());
                    return EXIT_FAILED;
                }
                catch (final RuntimeException ex)
                {
                    err.println("reprise " + command + ": failed: " + ex);
                    ex.printStackTrace(err);
                    return EXIT_FAILED;
                }
                finally
                {
                    out.flush();
                }
            }
        }
        final List<String> subVerbs = VERBS.stream()
            .filter((v) -> v.words().size() > 1 && v.words().get(0).equals(args[0]))
            .map((v) -> v.words().get(1)).toList();
        if (!subVerbs.isEmpty())
        {
            err.println("reprise: unknown verb '" + String.join(" ", Arrays.asList(args).subList(0, Math.min(2,
                args.length))) + "': " + args[0] + " takes " + String.join(", ", subVerbs));
        }
        else
        {
            err.println("reprise: unknown verb '" + args[0] + "'");
        }
        err.println(usage());
        return EXIT_USAGE;
    }

    private static boolean starts(final Verb verb, final String[] args)
    {
        final int words = verb.words().size();
        return args.length >= words && Arrays.asList(args).subList(0, words).equals(verb.words());
    }
}
