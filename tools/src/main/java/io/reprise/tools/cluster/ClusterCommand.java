package io.reprise.tools.cluster;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import sun.misc.Signal;

/**
 * {@code reprise cluster}: a local cluster of 3 or 5 members on loopback, one process each ({@link LocalCluster}),
 * in the foreground until SIGTERM or Ctrl-C; and the verbs that read and steer such a cluster from another shell:
 * {@code cluster status}, {@code cluster transfer-leadership MEMBER}, {@code cluster snapshot}.
 */
public final class ClusterCommand
{
    public static final String DATA_DIR_DEFAULT = "reprise-cluster";
    public static final long LEADER_TIMEOUT_MS = 30_000;
    public static final long TRANSFER_TIMEOUT_MS_DEFAULT = 10_000;
    public static final long SNAPSHOT_TIMEOUT_MS_DEFAULT = 30_000;

    public static final String USAGE = "cluster [--nodes 3|5] [--data-dir DIR] [--base-port P]";
    public static final String DESCRIPTION =
        "Runs a cluster of 3 (default) or 5 members on loopback, one process each (reprise node --config\n" +
        "DIR/member-M/node.properties, output in DIR/member-M/node.log), until SIGTERM or Ctrl-C; then stops every\n" +
        "member (SIGTERM) and exits 0 when each stopped cleanly, else 1. Default --data-dir " + DATA_DIR_DEFAULT +
        ". Member M\nreceives replication on localhost:P+M and clients on localhost:P+" +
        ClusterLayout.INGRESS_PORT_OFFSET + "+M (default --base-port " + ClusterLayout.BASE_PORT_DEFAULT + ").\n" +
        "A second run on the same DIR restarts the same cluster on its data (DIR/cluster.properties).";
    public static final String STATUS_USAGE = "cluster status [--data-dir DIR]";
    public static final String STATUS_DESCRIPTION =
        "One line per member of the cluster in DIR: alive or down, pid, role, term, the leader it knows, log,\n" +
        "commit and applied index, catch-up in progress; then the leader.";
    public static final String TRANSFER_USAGE = "cluster transfer-leadership MEMBER [--data-dir DIR] [--timeout-ms N]";
    public static final String TRANSFER_DESCRIPTION =
        "Asks the leader to hand the leadership to MEMBER and waits until MEMBER leads (default --timeout-ms " +
        TRANSFER_TIMEOUT_MS_DEFAULT + ").\nExit 1 when it does not, with what each member says.";
    public static final String SNAPSHOT_USAGE = "cluster snapshot [--data-dir DIR] [--timeout-ms N]";
    public static final String SNAPSHOT_DESCRIPTION =
        "Asks every running member to take a snapshot now and waits until each has one more (default\n" +
        "--timeout-ms " + SNAPSHOT_TIMEOUT_MS_DEFAULT + "). Exit 1 when one does not, naming it.";

    private static final Set<String> SUB_VERBS = Set.of("status", "transfer-leadership", "snapshot");

    private ClusterCommand()
    {
    }

    /** {@code reprise cluster}: runs the cluster in the foreground. */
    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        if (!tokens.isEmpty() && !tokens.get(0).startsWith("--") && !SUB_VERBS.contains(tokens.get(0)))
        {
            throw new UsageException("unknown verb 'cluster " + tokens.get(0) + "': cluster takes status, " +
                "transfer-leadership, snapshot, or the options below");
        }
        final Args args = Args.parse("cluster", tokens, Set.of("--nodes", "--data-dir", "--base-port"));
        final Path dir = dataDir(args);
        final LocalCluster cluster = new LocalCluster(layout(args, dir), LocalCluster.launcherOfThisJvm());
        final ClusterLayout layout = cluster.layout();
        final List<String> taken = cluster.takenPorts();
        if (!taken.isEmpty())
        {
            err.println("reprise cluster: " + String.join("\n  ", taken) + "\n  nothing started; choose another " +
                "--base-port" + (ClusterLayout.exists(dir) ? " for a new --data-dir (this one keeps its ports)" : ""));
            return ExitCode.FAILED;
        }

        final CountDownLatch stop = new CountDownLatch(1);
        final String[] signal = new String[1];
        // As reprise node: SIGTERM and SIGINT end the wait below, then every member stops; a second one while they
        // stop ends this process at once (the members go on stopping).
        for (final String name : new String[] {"TERM", "INT"})
        {
            Signal.handle(new Signal(name), (s) ->
            {
                if (stop.getCount() == 0)
                {
                    err.println("reprise cluster: SIG" + s.getName() + " again while stopping: exiting at once");
                    Runtime.getRuntime().halt(128 + s.getNumber());
                }
                signal[0] = "SIG" + s.getName();
                stop.countDown();
            });
        }
        // Any other way this JVM ends (System.exit, SIGHUP) still stops the members.
        final Thread hook = new Thread(cluster::close, "reprise-cluster-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        out.println("reprise cluster: " + layout.members() + " members in " + layout.dir());
        try
        {
            cluster.startAll();
        }
        catch (final IOException | RuntimeException ex)
        {
            err.println("reprise cluster: cannot start every member: " + ex.getMessage());
            cluster.close();
            Runtime.getRuntime().removeShutdownHook(hook);
            return ExitCode.FAILED;
        }
        for (int m = 0; m < layout.members(); m++)
        {
            out.println("  member " + m + ": pid " + cluster.pid(m) + ", replica " + layout.replicaEndpoint(m) +
                ", ingress " + layout.ingressEndpoint(m) + ", log " + layout.logFile(m) + ", counters: reprise stat " +
                "--aeron-dir " + layout.aeronDir(m));
        }
        out.println("reprise cluster: clients connect to any member's ingress (the others answer NotLeader with " +
            "the leader's); status: reprise cluster status --data-dir " + layout.dir());
        out.flush();
        int exit = ExitCode.OK;
        try
        {
            final int leader = cluster.awaitLeader(LEADER_TIMEOUT_MS);
            out.println("reprise cluster: member " + leader + " leads (term " + cluster.status(leader).term() + "); " +
                "stop with SIGTERM or Ctrl-C");
            out.flush();
            awaitStop(cluster, stop, err);
        }
        catch (final ClusterException ex)
        {
            err.println("reprise cluster: " + ex.getMessage());
            signal[0] = "a failed start";
            exit = ExitCode.FAILED;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            signal[0] = "an interrupt";
        }
        out.println("reprise cluster: stopping every member (" + signal[0] + ")");
        out.flush();
        for (final LocalCluster.MemberStop memberStop : cluster.stopAll(LocalCluster.STOP_TIMEOUT_MS_DEFAULT))
        {
            out.println("  member " + memberStop.member() + ": " + memberStop.detail());
            if (!memberStop.clean())
            {
                exit = ExitCode.FAILED;
            }
        }
        try
        {
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        catch (final IllegalStateException ex)
        {
            // the JVM is shutting down already; the hook finds every member stopped
        }
        out.println("reprise cluster: " + (exit == ExitCode.OK ? "every member stopped cleanly" :
            "not every member stopped cleanly") + "; the next run on " + layout.dir() + " restarts from here");
        return exit;
    }

    /** Until a signal; says so once when a member exits meanwhile (the others go on). */
    private static void awaitStop(final LocalCluster cluster, final CountDownLatch stop, final PrintStream err)
        throws InterruptedException
    {
        final boolean[] reported = new boolean[cluster.layout().members()];
        while (!stop.await(1, TimeUnit.SECONDS))
        {
            for (int m = 0; m < reported.length; m++)
            {
                if (!reported[m] && !cluster.isAlive(m))
                {
                    reported[m] = true;
                    err.println("reprise cluster: member " + m + " exited with status " + cluster.exitStatus(m) +
                        "; the end of " + cluster.layout().logFile(m) + ":\n" + cluster.logTail(m));
                }
            }
        }
    }

    /** {@code reprise cluster status}. */
    public static int status(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final Args args = Args.parse("cluster status", tokens, Set.of("--data-dir"));
        final LocalCluster cluster = attach(dataDir(args), err);
        if (null == cluster)
        {
            return ExitCode.FAILED;
        }
        final List<MemberStatus> statuses = cluster.statuses();
        statuses.forEach((status) -> out.println(status.line()));
        final int leader = LocalCluster.leader(statuses);
        out.println(leader < 0 ? "no leader" : "leader: member " + leader + " (term " + statuses.get(leader).term() +
            ")");
        return ExitCode.OK;
    }

    /** {@code reprise cluster transfer-leadership MEMBER}. */
    public static int transferLeadership(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final Args args = Args.parse("cluster transfer-leadership", tokens, Set.of("--data-dir", "--timeout-ms"),
            "MEMBER");
        final long timeoutMs = args.longOption("--timeout-ms", TRANSFER_TIMEOUT_MS_DEFAULT, 1, 3_600_000);
        final int target = (int)Args.parseLong("MEMBER", args.positional(0), 0, ClusterLayout.MAX_MEMBERS - 1);
        final LocalCluster cluster = attach(dataDir(args), err);
        if (null == cluster)
        {
            return ExitCode.FAILED;
        }
        final int members = cluster.layout().members();
        if (target >= members)
        {
            throw new UsageException("MEMBER must be 0.." + (members - 1) + " (the cluster in " +
                cluster.layout().dir() + " has " + members + " members): " + target);
        }
        try
        {
            final int before = cluster.transferLeadership(target, timeoutMs);
            out.println(before == target ? "member " + target + " leads already: nothing asked" :
                "member " + target + " leads (term " + cluster.status(target).term() + "), after member " + before);
            return ExitCode.OK;
        }
        catch (final ClusterException ex)
        {
            err.println("reprise cluster transfer-leadership: " + ex.getMessage());
            return ExitCode.FAILED;
        }
    }

    /** {@code reprise cluster snapshot}. */
    public static int snapshot(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final Args args = Args.parse("cluster snapshot", tokens, Set.of("--data-dir", "--timeout-ms"));
        final long timeoutMs = args.longOption("--timeout-ms", SNAPSHOT_TIMEOUT_MS_DEFAULT, 1, 3_600_000);
        final LocalCluster cluster = attach(dataDir(args), err);
        if (null == cluster)
        {
            return ExitCode.FAILED;
        }
        try
        {
            final Map<Integer, long[]> taken = cluster.snapshot(timeoutMs);
            for (int m = 0; m < cluster.layout().members(); m++)
            {
                final long[] counts = taken.get(m);
                out.println("member " + m + ": " + (null == counts ? "not running: not asked" :
                    "snapshot taken (snapshots taken since it started: " + counts[0] + " -> " + counts[1] + ")"));
            }
            return ExitCode.OK;
        }
        catch (final ClusterException ex)
        {
            err.println("reprise cluster snapshot: " + ex.getMessage());
            return ExitCode.FAILED;
        }
    }

    private static Path dataDir(final Args args) throws UsageException
    {
        final Path dir = Path.of(args.has("--data-dir") ? args.option("--data-dir") : DATA_DIR_DEFAULT);
        if (Files.exists(dir) && !Files.isDirectory(dir))
        {
            throw new UsageException("--data-dir: " + dir + " is a file, not a directory");
        }
        return dir;
    }

    /**
     * The layout to start: the one recorded in DIR (options that differ from it are refused), or a new one in an
     * empty or new DIR.
     */
    static ClusterLayout layout(final Args args, final Path dir) throws UsageException, IOException
    {
        final long nodes = args.longOption("--nodes", 3, Long.MIN_VALUE, Long.MAX_VALUE);
        if (nodes != 3 && nodes != 5)
        {
            throw new UsageException("--nodes must be 3 or 5: " + nodes);
        }
        final long basePort = args.longOption("--base-port", ClusterLayout.BASE_PORT_DEFAULT, 1024,
            65535 - ClusterLayout.INGRESS_PORT_OFFSET - nodes + 1);
        if (ClusterLayout.exists(dir))
        {
            final ClusterLayout.Recorded recorded = ClusterLayout.read(dir);
            final ClusterLayout layout = recorded.layout();
            if (args.has("--nodes") && nodes != layout.members())
            {
                throw new UsageException("--nodes " + nodes + ": the cluster in " + dir + " has " + layout.members() +
                    " members (" + ClusterLayout.LAYOUT_FILE + "); give another --data-dir for a new cluster");
            }
            if (args.has("--base-port") && basePort != layout.basePort())
            {
                throw new UsageException("--base-port " + basePort + ": the cluster in " + dir + " has base port " +
                    layout.basePort() + " (" + ClusterLayout.LAYOUT_FILE + "); give another --data-dir for a new " +
                    "cluster");
            }
            for (int m = 0; m < layout.members(); m++)
            {
                final long pid = recorded.pids()[m];
                if (LocalCluster.memberProcess(layout, m, pid).isPresent())
                {
                    throw new IOException("member " + m + " of the cluster in " + dir + " runs already (pid " + pid +
                        "): stop that cluster first (SIGTERM or Ctrl-C to its reprise cluster, or SIGTERM to " +
                        "each member)");
                }
            }
            return layout;
        }
        if (Files.isDirectory(dir))
        {
            try (var entries = Files.list(dir))
            {
                if (entries.findAny().isPresent())
                {
                    throw new UsageException("--data-dir: " + dir + " holds no " + ClusterLayout.LAYOUT_FILE +
                        " and is not empty: give a new or empty directory for a new cluster");
                }
            }
        }
        return ClusterLayout.of(dir, (int)nodes, (int)basePort);
    }

    private static LocalCluster attach(final Path dir, final PrintStream err)
    {
        if (!ClusterLayout.exists(dir))
        {
            err.println("reprise cluster: no cluster in " + dir + " (no " + dir.resolve(ClusterLayout.LAYOUT_FILE) +
                "); reprise cluster --data-dir DIR starts one");
            return null;
        }
        try
        {
            return LocalCluster.attach(dir);
        }
        catch (final IOException ex)
        {
            err.println("reprise cluster: cannot read " + dir.resolve(ClusterLayout.LAYOUT_FILE) + ": " + ex);
            return null;
        }
    }
}
