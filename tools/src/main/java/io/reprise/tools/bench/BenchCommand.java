package io.reprise.tools.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import org.agrona.IoUtil;

/**
 * {@code reprise bench aeron-cluster|db-scheduler}: Reprise side by side with a baseline, on the same machine, in one
 * run (docs/benchmarks.md, docs/tools.md). Each side is a JVM of its own, started with this JVM's options from
 * {@code jmh/target/benchmarks.jar}, where the baselines live (their dependencies stay in the jmh module).
 * <p>
 * {@code aeron-cluster}: a Reprise node, or a one-member Aeron Cluster whose clustered service applies the same
 * operators through the same business logic, the load generator's client over IPC; or, with {@code --members 3} or
 * 5, a cluster of each, a JVM per member started by the side's JVM, the client in the side's JVM over loopback UDP.
 * The same load generator drives both, in rounds, Reprise then Aeron Cluster (A, B, A, B): at a fixed rate it
 * measures save-to-ack latency from the intended send time; at rate 0 the maximum committed saves/s. With
 * {@code --recovery-saves N} (one member only) each system is then filled with N saves (one snapshot after N/2) and
 * restarted, once per round, timing the restart to the first acknowledged save. The last line is
 * {@code bench: members=M fsync=on|off payload=B reprise=N/s aeron-cluster=N/s ratio=X.XX p99_us=R/A
 * p99_ratio=Y.YY}, medians over the rounds, followed by {@code recovery_ms=R/A} with recovery.
 * <p>
 * {@code db-scheduler}: the same job of one-shot tasks on Reprise and on db-scheduler with PostgreSQL
 * ({@link DbSchedulerBench}).
 */
public final class BenchCommand
{
    public static final String USAGE = "bench aeron-cluster [--members 1|3|5] [--payload-bytes 32|288|1344] " +
        "[--fsync on|off] [--rate N] [--seconds N] [--warmup-seconds N] [--window N] [--runs N] " +
        "[--recovery-saves N]\n  " + DbSchedulerBench.USAGE;
    public static final String DESCRIPTION =
        "Reprise and Aeron Cluster (the same business logic) under the same load, interleaved. --members 1 (the\n" +
        "default): one member, one JVM per side and run, the client over IPC; 3 or 5: a JVM per member and one\n" +
        "for the client, over loopback UDP. --runs rounds (3) of --warmup-seconds (5) + --seconds (20) each; --rate\n" +
        "saves/s (0, the default: as fast as --window unanswered saves allow, 4096). Prints each run's rate and\n" +
        "save-to-ack p50/p99/p99.9 from the intended send time, then medians. --fsync on (default): both\n" +
        "acknowledge a save only once synced; off: neither syncs. --recovery-saves N (--members 1 only): also\n" +
        "times a restart after N saves and one snapshot. Needs jmh/target/benchmarks.jar (reprise.bench.classpath\n" +
        "to name another).\n" +
        DbSchedulerBench.DESCRIPTION;

    /** Where the sides' classes are: the benchmarks jar, or a class path for tests. */
    public static final String CLASSPATH_PROP_NAME = "reprise.bench.classpath";
    public static final String SIDE_MAIN_CLASS = "io.reprise.jmh.cluster.BenchSide";
    public static final String REPRISE = "reprise";
    public static final String AERON_CLUSTER = "aeron-cluster";

    private static final Set<String> OPTIONS = Set.of("--members", "--payload-bytes", "--fsync", "--rate", "--seconds",
        "--warmup-seconds", "--window", "--runs", "--recovery-saves");
    private static final Pattern RESULT = Pattern.compile("^result: .* achieved=(\\d+) ack_p50_us=([\\d.]+) " +
        "ack_p90_us=[\\d.]+ ack_p99_us=([\\d.]+) ack_p999_us=([\\d.]+) .* errors=(\\d+)$");
    private static final Pattern RESTART = Pattern.compile("^restart: system=\\S+ recovery_ms=(\\d+) .*");

    private BenchCommand()
    {
    }

    /** What one side measured in one run. */
    private record Run(double savesPerSecond, double p50Us, double p99Us, double p999Us)
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        if (!tokens.isEmpty() && DbSchedulerBench.DB_SCHEDULER.equals(tokens.get(0)))
        {
            return DbSchedulerBench.run(tokens.subList(1, tokens.size()), out, err);
        }
        if (tokens.isEmpty() || !AERON_CLUSTER.equals(tokens.get(0)))
        {
            throw new UsageException("bench takes one baseline: aeron-cluster or db-scheduler");
        }
        final Args args = Args.parse("bench aeron-cluster", tokens.subList(1, tokens.size()), OPTIONS);
        final int members = (int)args.longOption("--members", 1, 1, 5);
        if (members % 2 == 0)
        {
            throw new UsageException("--members must be 1, 3 or 5: " + members);
        }
        final String fsync = args.has("--fsync") ? args.option("--fsync") : "on";
        if (!"on".equals(fsync) && !"off".equals(fsync))
        {
            throw new UsageException("--fsync must be on or off: " + fsync);
        }
        final int payloadBytes = (int)args.longOption("--payload-bytes", 32, 8, 64 * 1024);
        final long rate = args.longOption("--rate", 0, 0, 10_000_000);
        final long seconds = args.longOption("--seconds", 20, 1, 3_600);
        final long warmupSeconds = args.longOption("--warmup-seconds", 5, 0, 600);
        final long window = args.longOption("--window", 4096, 1, 1 << 20);
        final int runs = (int)args.longOption("--runs", 3, 1, 100);
        final long recoverySaves = args.longOption("--recovery-saves", 0, 0, 100_000_000);
        if (members > 1 && recoverySaves > 0)
        {
            throw new UsageException("--recovery-saves: with --members 1 only");
        }

        final String classPath = sideClassPath();
        out.printf("bench: Reprise against Aeron Cluster, members=%d fsync=%s payload=%d B, rate %s, window %d, " +
            "%d s after %d s warm-up, %d rounds (reprise, aeron-cluster), %s; load average %s%n",
            members, fsync, payloadBytes, rate > 0 ? rate + "/s" : "0 (max)", window, seconds, warmupSeconds, runs,
            members == 1 ? "one JVM each, the client over IPC" :
            "one JVM per member and one for the client, over loopback UDP", loadAverage());
        out.println("bench: sides from " + classPath);
        out.flush();

        final List<String> load = List.of("--fsync", fsync, "--members", Integer.toString(members),
            "--media", members == 1 ? "ipc" : "udp", "--rate", Long.toString(rate),
            "--window", Long.toString(window), "--seconds", Long.toString(seconds),
            "--warmup-seconds", Long.toString(warmupSeconds), "--payload-bytes", Integer.toString(payloadBytes));
        // Members: each starts a JVM of its own, and a Reprise cluster's first election waits out its timeout.
        final long loadTimeoutSeconds = warmupSeconds + seconds + (members == 1 ? 120 : 300);
        final List<Run> reprise = new ArrayList<>();
        final List<Run> aeronCluster = new ArrayList<>();
        boolean failed = false;
        for (int round = 1; round <= runs; round++)
        {
            for (final String system : List.of(REPRISE, AERON_CLUSTER))
            {
                final List<String> lines = new ArrayList<>();
                final String label = system + " " + round + "/" + runs;
                out.println("bench: " + label + " starts, load average " + loadAverage());
                final int status = side(classPath, "load", system, load, loadTimeoutSeconds, label, lines, out, err);
                final Run result = parse(lines);
                if (status != 0 || null == result)
                {
                    err.println("bench: " + label + " failed (exit " + status + ")");
                    failed = true;
                    continue;
                }
                (REPRISE.equals(system) ? reprise : aeronCluster).add(result);
                out.printf(Locale.ROOT, "bench: %s: %,.0f saves/s, save-to-ack p50 %,.0f us, p99 %,.0f us, " +
                    "p99.9 %,.0f us%n", label, result.savesPerSecond, result.p50Us, result.p99Us, result.p999Us);
            }
        }

        final List<Long> repriseRecoveryMs = new ArrayList<>();
        final List<Long> clusterRecoveryMs = new ArrayList<>();
        if (recoverySaves > 0 && !failed)
        {
            failed = recover(classPath, fsync, payloadBytes, recoverySaves, runs, repriseRecoveryMs,
                clusterRecoveryMs, out, err);
        }
        if (reprise.isEmpty() || aeronCluster.isEmpty())
        {
            err.println("bench: no complete run on one side or both; nothing to compare");
            return ExitCode.FAILED;
        }

        final double repriseRate = median(reprise, Run::savesPerSecond);
        final double clusterRate = median(aeronCluster, Run::savesPerSecond);
        final double repriseP99 = median(reprise, Run::p99Us);
        final double clusterP99 = median(aeronCluster, Run::p99Us);
        for (final String system : List.of(REPRISE, AERON_CLUSTER))
        {
            final List<Run> sideRuns = REPRISE.equals(system) ? reprise : aeronCluster;
            out.printf(Locale.ROOT, "bench: %s, medians of %d runs: %,.0f saves/s, save-to-ack p50 %,.0f us, " +
                "p99 %,.0f us, p99.9 %,.0f us%n", system, sideRuns.size(), median(sideRuns, Run::savesPerSecond),
                median(sideRuns, Run::p50Us), median(sideRuns, Run::p99Us), median(sideRuns, Run::p999Us));
        }
        final StringBuilder last = new StringBuilder(String.format(Locale.ROOT,
            "bench: members=%d fsync=%s payload=%d reprise=%.0f/s aeron-cluster=%.0f/s ratio=%.2f p99_us=%.0f/%.0f " +
            "p99_ratio=%.2f", members, fsync, payloadBytes, repriseRate, clusterRate, repriseRate / clusterRate,
            repriseP99, clusterP99, repriseP99 / clusterP99));
        if (!repriseRecoveryMs.isEmpty() && !clusterRecoveryMs.isEmpty())
        {
            last.append(String.format(Locale.ROOT, " recovery_ms=%.0f/%.0f",
                medianOf(repriseRecoveryMs), medianOf(clusterRecoveryMs)));
        }
        out.println(last);
        return failed ? ExitCode.FAILED : ExitCode.OK;
    }

    /**
     * Fills each system with {@code saves} saves (a snapshot after half of them), then restarts each, {@code runs}
     * times, interleaved; the data stays on disk between the restarts (each restart adds one save).
     *
     * @return whether a step failed.
     */
    private static boolean recover(
        final String classPath, final String fsync, final int payloadBytes, final long saves, final int runs,
        final List<Long> repriseMs, final List<Long> clusterMs, final PrintStream out, final PrintStream err)
        throws IOException
    {
        final Path base = Files.createTempDirectory("reprise-bench-recovery-");
        try
        {
            final List<String> options = List.of("--fsync", fsync, "--payload-bytes", Integer.toString(payloadBytes));
            for (final String system : List.of(REPRISE, AERON_CLUSTER))
            {
                final List<String> fill = new ArrayList<>(options);
                fill.addAll(List.of("--data-dir", base.resolve(system).toString(), "--saves", Long.toString(saves)));
                out.printf("bench: %s fill with %,d saves (one snapshot after %,d), load average %s%n", system, saves,
                    saves / 2, loadAverage());
                if (side(classPath, "fill", system, fill, 3_600, system + " fill", new ArrayList<>(), out, err) != 0)
                {
                    err.println("bench: " + system + " fill failed");
                    return true;
                }
            }
            for (int round = 1; round <= runs; round++)
            {
                for (final String system : List.of(REPRISE, AERON_CLUSTER))
                {
                    final List<String> restart = new ArrayList<>(options);
                    restart.addAll(List.of("--data-dir", base.resolve(system).toString()));
                    final List<String> lines = new ArrayList<>();
                    final String label = system + " restart " + round + "/" + runs;
                    out.println("bench: " + label + ", load average " + loadAverage());
                    final int status = side(classPath, "restart", system, restart, 3_600, label, lines, out, err);
                    Long ms = null;
                    for (final String line : lines)
                    {
                        final Matcher matcher = RESTART.matcher(line);
                        if (matcher.matches())
                        {
                            ms = Long.parseLong(matcher.group(1));
                        }
                    }
                    if (status != 0 || null == ms)
                    {
                        err.println("bench: " + label + " failed (exit " + status + ")");
                        return true;
                    }
                    (REPRISE.equals(system) ? repriseMs : clusterMs).add(ms);
                }
            }
            out.printf(Locale.ROOT, "bench: restart to the first save acknowledged, medians of %d: reprise %.0f ms " +
                "%s, aeron-cluster %.0f ms %s%n", runs, medianOf(repriseMs), repriseMs, medianOf(clusterMs), clusterMs);
            return false;
        }
        finally
        {
            IoUtil.delete(base.toFile(), true);
        }
    }

    /** Runs one side to its end, echoing and keeping its output; returns its exit status (-1 when timed out). */
    private static int side(
        final String classPath, final String mode, final String system, final List<String> options,
        final long timeoutSeconds, final String label, final List<String> lines, final PrintStream out,
        final PrintStream err) throws IOException
    {
        final List<String> arguments = new ArrayList<>(List.of(mode, "--system", system));
        arguments.addAll(options);
        return side(classPath, SIDE_MAIN_CLASS, arguments, timeoutSeconds, label, lines, out, err);
    }

    /**
     * Runs {@code mainClass} with {@code arguments} from {@code classPath} in a JVM of its own, with this JVM's options,
     * to its end, echoing and keeping its output; returns its exit status (-1 when timed out).
     */
    static int side(
        final String classPath, final String mainClass, final List<String> arguments, final long timeoutSeconds,
        final String label, final List<String> lines, final PrintStream out, final PrintStream err) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions());
        command.add("-cp");
        command.add(classPath);
        command.add(mainClass);
        command.addAll(arguments);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = in.readLine()))
                {
                    synchronized (lines)
                    {
                        lines.add(line);
                    }
                    out.println("  " + label + " | " + line);
                }
            }
            catch (final IOException ex)
            {
                err.println("bench: reading " + label + ": " + ex);
            }
        }, "reprise-bench-output");
        reader.start();
        try
        {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
            {
                err.println("bench: " + label + " did not finish in " + timeoutSeconds + " s; killed");
                // SIGTERM first, so that a side stops what it started (a PostgreSQL server) and deletes its files.
                process.destroy();
                if (!process.waitFor(60, TimeUnit.SECONDS))
                {
                    process.destroyForcibly().waitFor();
                }
                reader.join();
                return -1;
            }
            reader.join();
            return process.exitValue();
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
    }

    private static Run parse(final List<String> lines)
    {
        Run run = null;
        for (final String line : lines)
        {
            final Matcher matcher = RESULT.matcher(line);
            if (matcher.matches() && Long.parseLong(matcher.group(5)) == 0)
            {
                run = new Run(Double.parseDouble(matcher.group(1)), Double.parseDouble(matcher.group(2)),
                    Double.parseDouble(matcher.group(3)), Double.parseDouble(matcher.group(4)));
            }
        }
        return run;
    }

    /** This JVM's options, so that both sides run with the same ones; agents (debugger, coverage) stay here. */
    private static List<String> jvmOptions()
    {
        final List<String> options = new ArrayList<>();
        for (final String option : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (!option.startsWith("-agentlib") && !option.startsWith("-javaagent") &&
                !option.startsWith("-Xrunjdwp") && !option.startsWith("-D" + CLASSPATH_PROP_NAME))
            {
                options.add(option);
            }
        }
        final String export = "java.base/jdk.internal.misc=ALL-UNNAMED";
        if (!options.contains(export) && !options.contains("--add-exports=" + export))
        {
            options.addAll(List.of("--add-exports", export));
        }
        return options;
    }

    /**
     * The sides' class path: {@value #CLASSPATH_PROP_NAME}, or {@code jmh/target/benchmarks.jar} beside the tools jar
     * this runs from ({@code tools/target/reprise-tools.jar}), or this jar itself when it is the benchmarks jar.
     */
    static String sideClassPath() throws IOException
    {
        final String configured = System.getProperty(CLASSPATH_PROP_NAME);
        if (null != configured)
        {
            return configured;
        }
        final Path self;
        try
        {
            self = Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        }
        catch (final URISyntaxException ex)
        {
            throw new IOException("cannot tell where this jar is: " + ex.getMessage(), ex);
        }
        if (self.getFileName().toString().equals("benchmarks.jar"))
        {
            return self.toString();
        }
        final Path benchmarks = self.toAbsolutePath().getParent().getParent().getParent()
            .resolve("jmh").resolve("target").resolve("benchmarks.jar");
        if (!Files.isRegularFile(benchmarks))
        {
            throw new IOException("the baselines are in " + benchmarks + ", which is missing: build it " +
                "with ./mvnw -B -pl jmh -am package -DskipTests (./reprise bench does)");
        }
        return benchmarks.toString();
    }

    static String loadAverage()
    {
        try
        {
            final String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return String.join(" ", Arrays.asList(fields).subList(0, 3));
        }
        catch (final IOException ex)
        {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
        }
    }

    private static double median(final List<Run> runs, final java.util.function.ToDoubleFunction<Run> field)
    {
        final double[] values = runs.stream().mapToDouble(field).sorted().toArray();
        final int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static double medianOf(final List<Long> values)
    {
        final long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        final int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }
}
