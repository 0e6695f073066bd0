package io.reprise.tools;

import java.io.PrintStream;
import java.util.concurrent.ThreadLocalRandom;

import io.reprise.tools.demo.InProcessDemo;

/**
 * The {@code reprise} command line: one verb per job, in the manner of Aeron's {@code ClusterTool}.
 * <p>
 * Verbs now: {@code demo} (the business logic in-process against simulated controllers and workers, see
 * {@link InProcessDemo}) and {@code help}. The node, cluster, load and diagnostic verbs of
 * docs/lifecycle.md come with the issues that build the journal, snapshots, cluster and transport.
 * <p>
 * Exit status: 0 on success, 1 when a demo does not account for every session, 2 on a usage error.
 */
public final class Reprise
{
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private static final String USAGE = String.join(System.lineSeparator(),
        "usage: reprise <verb> [options]",
        "",
        "verbs:",
        "  demo [--seed N] [--sessions N]",
        "        Runs the business logic in-process against simulated controllers and workers on simulated",
        "        time: sessions are saved across several destinations, repeated with backoff, completed,",
        "        cancelled, dead-lettered and redriven, and workers die holding leases. Deterministic for a",
        "        seed (printed first; default: a random one). --sessions: 1.." + InProcessDemo.MAX_SESSIONS +
            ", default " + InProcessDemo.DEFAULT_SESSIONS + ".",
        "        The last line is: demo: saved=N completed=N dead=N cancelled=N pending=N lost=N",
        "  help  Prints this text.",
        "",
        "Coming with later issues: node, cluster, load, log dump|verify|replay, snapshot inspect, catalog,",
        "stat, session history.");

    private Reprise()
    {
    }

    public static void main(final String[] args)
    {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; the exit status is returned rather than taken, so tests can call it. */
    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        if (args.length == 0)
        {
            err.println(USAGE);
            return EXIT_USAGE;
        }
        switch (args[0])
        {
            case "demo":
                return demo(args, out, err);
            case "help":
            case "-h":
            case "--help":
                out.println(USAGE);
                return EXIT_OK;
            default:
                err.println("reprise: unknown verb '" + args[0] + "'");
                err.println(USAGE);
                return EXIT_USAGE;
        }
    }

    private static int demo(final String[] args, final PrintStream out, final PrintStream err)
    {
        long seed = ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
        int sessions = InProcessDemo.DEFAULT_SESSIONS;
        for (int i = 1; i < args.length; i++)
        {
            final String arg = args[i];
            final int equals = arg.indexOf('=');
            final String name = equals < 0 ? arg : arg.substring(0, equals);
            if (!"--seed".equals(name) && !"--sessions".equals(name))
            {
                err.println("reprise demo: unknown option '" + arg + "'");
                err.println(USAGE);
                return EXIT_USAGE;
            }
            final String value;
            if (equals >= 0)
            {
                value = arg.substring(equals + 1);
            }
            else if (i + 1 < args.length)
            {
                value = args[++i];
            }
            else
            {
                err.println("reprise demo: " + name + " needs a value");
                return EXIT_USAGE;
            }
            try
            {
                if ("--seed".equals(name))
                {
                    seed = Long.parseLong(value.trim());
                }
                else
                {
                    sessions = Integer.parseInt(value.trim());
                }
            }
            catch (final NumberFormatException ex)
            {
                err.println("reprise demo: " + name + " is not a number: '" + value + "'");
                return EXIT_USAGE;
            }
        }
        if (sessions < 1 || sessions > InProcessDemo.MAX_SESSIONS)
        {
            err.println("reprise demo: --sessions must be 1.." + InProcessDemo.MAX_SESSIONS + ": " + sessions);
            return EXIT_USAGE;
        }

        final InProcessDemo.Result result = InProcessDemo.run(seed, sessions, out);
        out.flush();
        return result.isConsistent() ? EXIT_OK : EXIT_FAILED;
    }
}
