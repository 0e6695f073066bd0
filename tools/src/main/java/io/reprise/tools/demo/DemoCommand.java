package io.reprise.tools.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;

/** {@code reprise demo [--seed N] [--sessions N] [--data-dir DIR]}: the in-process demo, or the node demo on DIR. */
public final class DemoCommand
{
    public static final String USAGE = "demo [--seed N] [--sessions N] [--data-dir DIR]";
    public static final String DESCRIPTION =
        "Simulated controllers and workers on simulated time: sessions are saved across several destinations,\n" +
        "repeated with backoff, completed, cancelled, dead-lettered and redriven, and workers die holding leases.\n" +
        "Without --data-dir: the business logic in-process, deterministic for a seed (printed first; default a\n" +
        "random one); --sessions 1.." + InProcessDemo.MAX_SESSIONS + ", default " + InProcessDemo.DEFAULT_SESSIONS +
        ".\nWith --data-dir: a real standalone node keeps its journal, catalog and snapshots in DIR; a second run\n" +
        "on DIR restarts from them and continues; --sessions per run, default " + NodeDemo.DEFAULT_SESSIONS + ".\n" +
        "The last line is: demo: saved=N completed=N dead=N cancelled=N pending=N lost=N";

    private DemoCommand()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("demo", tokens, Set.of("--seed", "--sessions", "--data-dir"));
        final long seed = args.longOption("--seed", ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE,
            Long.MIN_VALUE, Long.MAX_VALUE);
        final boolean onNode = args.has("--data-dir");
        final int sessions = (int)args.longOption("--sessions",
            onNode ? NodeDemo.DEFAULT_SESSIONS : InProcessDemo.DEFAULT_SESSIONS, 1, InProcessDemo.MAX_SESSIONS);
        final DemoResult result;
        if (onNode)
        {
            final Path dir = Path.of(args.option("--data-dir"));
            if (Files.exists(dir) && !Files.isDirectory(dir))
            {
                throw new UsageException("--data-dir '" + dir + "' exists and is not a directory");
            }
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
