package io.reprise.jmh.dbscheduler;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import io.reprise.jmh.cluster.ThreadCpu;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.UsageException;
import org.agrona.IoUtil;

/**
 * One side of {@code reprise bench db-scheduler}, in a JVM of its own: runs the {@link Job} on Reprise
 * ({@link RepriseSide}) or on db-scheduler and PostgreSQL ({@link DbSchedulerSide}), checks that every task was
 * executed and completed exactly as the job says ({@link Tally#check}), and prints what it measured, last a
 * {@code result:} line that the command reads.
 * <pre>
 * JobSide --system reprise|db-scheduler (--rate N --seconds S --warmup-seconds W | --backlog N)
 *         --retry-ratio R --backoff-ms B --drain-timeout-seconds T
 * </pre>
 * Exit status 0 when the check passed and nothing went wrong, 1 otherwise, 2 on a usage error. The side's data (the
 * node's journal and snapshots, or the PostgreSQL cluster) go to a temporary directory, deleted after.
 */
public final class JobSide
{
    public static final String MAIN_CLASS = "io.reprise.jmh.dbscheduler.JobSide";
    private static final Set<String> OPTIONS = Set.of("--system", "--rate", "--seconds", "--warmup-seconds",
        "--backlog", "--retry-ratio", "--backoff-ms", "--drain-timeout-seconds");

    private JobSide()
    {
    }

    public static void main(final String[] args)
    {
        // db-scheduler and HikariCP log through slf4j: warnings and errors only, on stderr (merged by the command).
        if (null == System.getProperty("org.slf4j.simpleLogger.defaultLogLevel"))
        {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        int status;
        try
        {
            status = run(List.of(args), System.out);
        }
        catch (final UsageException ex)
        {
            System.err.println("bench side: " + ex.getMessage());
            status = 2;
        }
        catch (final Exception ex)
        {
            ex.printStackTrace(System.err);
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }

    static Job parse(final List<String> tokens) throws UsageException
    {
        final Args args = Args.parse("JobSide", tokens, OPTIONS);
        final double retryRatio = retryRatio(args.has("--retry-ratio") ? args.option("--retry-ratio") : "0.1");
        final long backoffMs = args.longOption("--backoff-ms", Job.BACKOFF_MS_DEFAULT, 1, 3_600_000);
        final long drainTimeout = args.longOption("--drain-timeout-seconds", 1_800, 1, 86_400);
        if (args.has("--backlog"))
        {
            return Job.backlog((int)args.longOption("--backlog", 0, 1, 100_000_000), retryRatio, backoffMs,
                drainTimeout);
        }
        return Job.rate(args.longOption("--rate", 1_000, 1, 10_000_000), args.longOption("--seconds", 20, 1, 3_600),
            args.longOption("--warmup-seconds", 5, 0, 600), retryRatio, backoffMs, drainTimeout);
    }

    /** A share of executions in 0..1, from its text. */
    static double retryRatio(final String text) throws UsageException
    {
        final double ratio;
        try
        {
            ratio = Double.parseDouble(text);
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException("--retry-ratio is not a number: '" + text + "'");
        }
        if (!(ratio >= 0 && ratio <= 1))
        {
            throw new UsageException("--retry-ratio must be in 0..1: " + text);
        }
        return ratio;
    }

    static int run(final List<String> tokens, final PrintStream out) throws Exception
    {
        final Args args = Args.parse("JobSide", tokens, OPTIONS);
        final String system = args.option("--system");
        if (!Job.REPRISE.equals(system) && !Job.DB_SCHEDULER.equals(system))
        {
            throw new UsageException("--system must be " + Job.REPRISE + " or " + Job.DB_SCHEDULER + ": " + system);
        }
        final Job job = parse(tokens);
        out.println("side: " + system + ": " + job.describe());
        final Tally tally = new Tally(job);
        final ThreadCpu cpu = new ThreadCpu();
        final Path directory = Files.createTempDirectory("reprise-bench-" + system + "-");
        // Ended before its end (SIGTERM, Ctrl-C, the command's timeout): no server of its own outlives the side, nor
        // its directory.
        final Thread cleanUp = new Thread(() ->
        {
            PostgresServer.stopAll();
            IoUtil.delete(directory.toFile(), true);
        }, "bench-side-clean-up");
        Runtime.getRuntime().addShutdownHook(cleanUp);
        boolean sideOk = true;
        try
        {
            if (Job.REPRISE.equals(system))
            {
                new RepriseSide(job, tally, out).run(directory.resolve("node"), cpu);
            }
            else
            {
                sideOk = new DbSchedulerSide(job, tally, out).run(directory, cpu);
            }
        }
        finally
        {
            IoUtil.delete(directory.toFile(), true);
            Runtime.getRuntime().removeShutdownHook(cleanUp);
        }
        cpu.report(out, system, tally.executionsCompleted.get(), "execution");
        final boolean ok = tally.check(out, system) && sideOk;
        tally.report(out, system, ok);
        return ok && tally.errors.get() == 0 ? 0 : 1;
    }
}
