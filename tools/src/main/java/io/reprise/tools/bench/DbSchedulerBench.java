package io.reprise.tools.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;

/**
 * {@code reprise bench db-scheduler}: the same job on Reprise and on db-scheduler with PostgreSQL, on the same machine,
 * one after the other, interleaved (docs/benchmarks.md, docs/tools.md). The job: N one-shot tasks of 128-byte
 * payloads, due at a fixed rate ({@code --rate}, for {@code --seconds} after {@code --warmup-seconds}) or all at once
 * ({@code --backlog N}), executed by a handler that does nothing but count, and a share of them
 * ({@code --retry-ratio}) asked to run again after {@code --backoff-ms}. Both sides acknowledge a schedule only once it
 * is synced: a Reprise node with its journal's fsync, PostgreSQL with {@code fsync=on} and
 * {@code synchronous_commit=on}. Each side runs in a JVM of its own from {@code jmh/target/benchmarks.jar}
 * ({@code io.reprise.jmh.dbscheduler.JobSide}), where db-scheduler, PostgreSQL's driver and pool live; it starts its
 * own node or PostgreSQL server, checks that every task was executed and completed exactly as the job says, and
 * prints a {@code result:} line.
 * <p>
 * The last line is {@code bench: job=sessions reprise=N/s db-scheduler=N/s ratio=X.XX lag_p99_ms=R/D}: medians over the
 * rounds of the executions completed per second, Reprise's over db-scheduler's, and of the p99 due-to-execution lag.
 */
public final class DbSchedulerBench
{
    public static final String DB_SCHEDULER = "db-scheduler";
    public static final String REPRISE = "reprise";
    public static final String USAGE = "bench db-scheduler [--rate N | --backlog N] [--seconds N] [--warmup-seconds N] " +
        "[--retry-ratio R] [--backoff-ms N] [--runs N] [--drain-timeout-seconds N]";
    public static final String DESCRIPTION =
        "db-scheduler: the same job on Reprise (a node, its controller and worker over IPC) and on db-scheduler with\n" +
        "PostgreSQL (started by the bench, fsync and synchronous_commit on), one JVM per side and run, interleaved:\n" +
        "one-shot tasks of 128 B due at --rate per second (1000) for --seconds (20) after --warmup-seconds (5), or\n" +
        "--backlog N due at once and drained; --retry-ratio (0.1) of them retried once after --backoff-ms (100).\n" +
        "Prints executions completed/s, due-to-execution lag p50/p99/p99.9 and schedule-to-ack, medians of --runs (3);\n" +
        "each side checks that every task ran exactly as often as the job says.";
    public static final String SIDE_MAIN_CLASS = "io.reprise.jmh.dbscheduler.JobSide";

    private static final Set<String> OPTIONS = Set.of("--rate", "--backlog", "--seconds", "--warmup-seconds",
        "--retry-ratio", "--backoff-ms", "--runs", "--drain-timeout-seconds");

    private DbSchedulerBench()
    {
    }

    /** One side's {@code result:} line, as key=value pairs. */
    private record Result(Map<String, String> fields)
    {
        double get(final String key)
        {
            return Double.parseDouble(fields.get(key));
        }
    }

    static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("bench db-scheduler", tokens, OPTIONS);
        if (args.has("--rate") && args.has("--backlog"))
        {
            throw new UsageException("give --rate N (tasks due at a fixed rate) or --backlog N (due at once), not both");
        }
        final boolean backlog = args.has("--backlog");
        if (backlog && (args.has("--seconds") || args.has("--warmup-seconds")))
        {
            throw new UsageException("--seconds and --warmup-seconds are for --rate: a backlog runs until it is drained");
        }
        final long rate = args.longOption("--rate", 1_000, 1, 1_000_000);
        final long tasks = args.longOption("--backlog", 0, 1, 100_000_000);
        final long seconds = args.longOption("--seconds", 20, 1, 3_600);
        final long warmupSeconds = args.longOption("--warmup-seconds", 5, 0, 600);
        final String retryRatio = args.has("--retry-ratio") ? args.option("--retry-ratio") : "0.1";
        try
        {
            final double ratio = Double.parseDouble(retryRatio);
            if (!(ratio >= 0 && ratio <= 1))
            {
                throw new UsageException("--retry-ratio must be in 0..1: " + retryRatio);
            }
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException("--retry-ratio is not a number: '" + retryRatio + "'");
        }
        final long backoffMs = args.longOption("--backoff-ms", 100, 1, 3_600_000);
        final int runs = (int)args.longOption("--runs", 3, 1, 100);
        final long drainTimeoutSeconds = args.longOption("--drain-timeout-seconds", 1_800, 1, 86_400);
        if (!backlog && rate * (seconds + warmupSeconds) > Integer.MAX_VALUE / 2)
        {
            throw new UsageException("--rate " + rate + " for " + (seconds + warmupSeconds) + " s: too many tasks");
        }

        final List<String> job = new ArrayList<>();
        if (backlog)
        {
            job.addAll(List.of("--backlog", Long.toString(tasks)));
        }
        else
        {
            job.addAll(List.of("--rate", Long.toString(rate), "--seconds", Long.toString(seconds), "--warmup-seconds",
                Long.toString(warmupSeconds)));
        }
        job.addAll(List.of("--retry-ratio", retryRatio, "--backoff-ms", Long.toString(backoffMs),
            "--drain-timeout-seconds", Long.toString(drainTimeoutSeconds)));

        final String classPath = BenchCommand.sideClassPath();
        out.printf("bench: Reprise against db-scheduler on PostgreSQL, the same job: %s, 128 B payloads, retry ratio " +
            "%s (backoff %d ms); %d rounds (reprise, db-scheduler), one JVM each; load average %s%n",
            backlog ? String.format(Locale.ROOT, "a backlog of %,d tasks due at once", tasks) :
            String.format(Locale.ROOT, "%,d tasks/s for %d s after %d s warm-up", rate, seconds, warmupSeconds),
            retryRatio, backoffMs, runs, BenchCommand.loadAverage());
        out.println("bench: sides from " + classPath);
        out.flush();

        final long timeoutSeconds = (backlog ? 3_600 : warmupSeconds + seconds + 120) + drainTimeoutSeconds + 300;
        final List<Result> reprise = new ArrayList<>();
        final List<Result> dbScheduler = new ArrayList<>();
        boolean failed = false;
        for (int round = 1; round <= runs; round++)
        {
            for (final String system : List.of(REPRISE, DB_SCHEDULER))
            {
                final List<String> lines = new ArrayList<>();
                final String label = system + " " + round + "/" + runs;
                out.println("bench: " + label + " starts, load average " + BenchCommand.loadAverage());
                final List<String> arguments = new ArrayList<>(List.of("--system", system));
                arguments.addAll(job);
                final int status = BenchCommand.side(classPath, SIDE_MAIN_CLASS, arguments, timeoutSeconds, label,
                    lines, out, err);
                final Result result = parse(lines);
                if (status != 0 || null == result || !"ok".equals(result.fields().get("check")))
                {
                    err.println("bench: " + label + " failed (exit " + status + (null == result ? ", no result line" :
                        ", check " + result.fields().get("check") + ", errors " + result.fields().get("errors")) + ")");
                    failed = true;
                    continue;
                }
                (REPRISE.equals(system) ? reprise : dbScheduler).add(result);
                out.printf(Locale.ROOT, "bench: %s: %,.0f executions/s completed; due-to-execution lag p50 %.2f ms, " +
                    "p99 %.2f, p99.9 %.2f; schedule-to-ack p50 %.2f ms, p99 %.2f, p99.9 %.2f%n", label,
                    result.get("exec_per_s"), result.get("lag_p50_ms"), result.get("lag_p99_ms"),
                    result.get("lag_p999_ms"), result.get("ack_p50_ms"), result.get("ack_p99_ms"),
                    result.get("ack_p999_ms"));
            }
        }
        if (reprise.isEmpty() || dbScheduler.isEmpty())
        {
            err.println("bench: no complete run on one side or both; nothing to compare");
            return ExitCode.FAILED;
        }
        for (final String system : List.of(REPRISE, DB_SCHEDULER))
        {
            final List<Result> results = REPRISE.equals(system) ? reprise : dbScheduler;
            out.printf(Locale.ROOT, "bench: %s, medians of %d runs: %,.0f executions/s completed; due-to-execution lag " +
                "p50 %.2f ms, p99 %.2f, p99.9 %.2f; schedule-to-ack p50 %.2f ms, p99 %.2f, p99.9 %.2f%n", system,
                results.size(), median(results, (r) -> r.get("exec_per_s")),
                median(results, (r) -> r.get("lag_p50_ms")), median(results, (r) -> r.get("lag_p99_ms")),
                median(results, (r) -> r.get("lag_p999_ms")), median(results, (r) -> r.get("ack_p50_ms")),
                median(results, (r) -> r.get("ack_p99_ms")), median(results, (r) -> r.get("ack_p999_ms")));
        }
        final double repriseRate = median(reprise, (r) -> r.get("exec_per_s"));
        final double dbSchedulerRate = median(dbScheduler, (r) -> r.get("exec_per_s"));
        out.printf(Locale.ROOT, "bench: job=sessions reprise=%.0f/s db-scheduler=%.0f/s ratio=%.2f lag_p99_ms=%s/%s%n",
            repriseRate, dbSchedulerRate, repriseRate / dbSchedulerRate,
            ms(median(reprise, (r) -> r.get("lag_p99_ms"))), ms(median(dbScheduler, (r) -> r.get("lag_p99_ms"))));
        return failed ? ExitCode.FAILED : ExitCode.OK;
    }

    /** Milliseconds with one decimal below 100, whole above. */
    private static String ms(final double value)
    {
        return value < 100 ? String.format(Locale.ROOT, "%.1f", value) : String.format(Locale.ROOT, "%.0f", value);
    }

    private static Result parse(final List<String> lines)
    {
        Result result = null;
        synchronized (lines)
        {
            for (final String line : lines)
            {
                if (line.startsWith("result: "))
                {
                    final Map<String, String> fields = new HashMap<>();
                    for (final String field : line.substring("result: ".length()).split(" "))
                    {
                        final int equals = field.indexOf('=');
                        if (equals > 0)
                        {
                            fields.put(field.substring(0, equals), field.substring(equals + 1));
                        }
                    }
                    result = new Result(fields);
                }
            }
        }
        return result;
    }

    private static double median(final List<Result> results, final ToDoubleFunction<Result> field)
    {
        final double[] values = results.stream().mapToDouble(field).sorted().toArray();
        final int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
