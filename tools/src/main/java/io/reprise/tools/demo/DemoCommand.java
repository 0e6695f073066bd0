package io.reprise.tools.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import io.reprise.tools.cli.Args;
import io.reprise.tools.cluster.ClusterException;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;

/**
 * {@code reprise demo [--sessions N] [--data-dir DIR]}: a real node with controllers and workers over Aeron;
 * {@code --simulated} runs the simulated population instead: in-process, or on a node in DIR.
 */
public final class DemoCommand
{
    public static final String USAGE = "demo [--standalone] [--sessions N] [--data-dir DIR] | demo --simulated " +
        "[--seed N] [--sessions N] [--data-dir DIR]";
    public static final String DESCRIPTION =
        "A cluster of " + ClusterDemo.MEMBERS + " members on loopback, one process each; controllers of two tenants " +
        "save sessions over\nAeron UDP, workers succeed, retry, fail for good and one dies holding attempts; " +
        "half-way through the saves\nthe leader is SIGKILLed, then started again to catch up; wall-clock time. " +
        "--standalone: one node with its\nembedded media driver, clients over IPC, no kill.\n" +
        "--sessions default " + AeronDemo.DEFAULT_SESSIONS + "; --data-dir keeps the data in DIR (a second run " +
        "restarts\nfrom it), otherwise a temporary directory is used and deleted.\n" +
        "--simulated: simulated controllers and workers on simulated time. Without --data-dir the business logic\n" +
        "in-process, deterministic for a seed (--sessions 1.." + InProcessDemo.MAX_SESSIONS + ", default " +
        InProcessDemo.DEFAULT_SESSIONS + "); with --data-dir\na real node with in-process clients keeps its data in " +
        "DIR (--sessions per run, default " + NodeDemo.DEFAULT_SESSIONS + ").\n" +
        "The last line is: demo: saved=N completed=N dead=N cancelled=N pending=N lost=N";

    private DemoCommand()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("demo", tokens, Set.of("--seed", "--sessions", "--data-dir"),
            Set.of("--simulated", "--standalone"));
        final Path dir = args.has("--data-dir") ? Path.of(args.option("--data-dir")) : null;
        if (null != dir && Files.exists(dir) && !Files.isDirectory(dir))
        {
            throw new UsageException("--data-dir '" + dir + "' exists and is not a directory");
        }
        if (args.has("--simulated") && args.has("--standalone"))
        {
            throw new UsageException("--standalone goes without --simulated: the simulated demo has no cluster");
        }
        if (!args.has("--simulated"))
        {
            if (args.has("--seed"))
            {
                throw new UsageException("--seed goes with --simulated: the Aeron demo runs on the wall clock");
            }
            final int sessions = (int)args.longOption("--sessions", AeronDemo.DEFAULT_SESSIONS, 1,
                AeronDemo.MAX_SESSIONS);
            boolean consistent;
            if (args.has("--standalone"))
            {
                consistent = AeronDemo.run(sessions, dir, out);
            }
            else
            {
                try
                {
                    consistent = ClusterDemo.run(sessions, dir, out);
                }
                catch (final ClusterException ex)
                {
                    err.println("reprise demo: " + ex.getMessage());
                    consistent = false;
                }
            }
            out.flush();
            return consistent ? ExitCode.OK : ExitCode.FAILED;
        }
        final long seed = args.longOption("--seed", ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE,
            Long.MIN_VALUE, Long.MAX_VALUE);
        final boolean onNode = null != dir;
        final int sessions = (int)args.longOption("--sessions",
            onNode ? NodeDemo.DEFAULT_SESSIONS : InProcessDemo.DEFAULT_SESSIONS, 1, InProcessDemo.MAX_SESSIONS);
        final DemoResult result;
        if (onNode)
        {
            try
            {
                result = NodeDemo.run(seed, sessions, dir, out);
            }
            catch (final ForeignDataException ex)
            {
                err.println("reprise demo: " + ex.getMessage());
                return ExitCode.FAILED;
            }
        }
        else
        {
            result = InProcessDemo.run(seed, sessions, out);
        }
        out.flush();
        return result.isConsistent() ? ExitCode.OK : ExitCode.FAILED;
    }
}
