package io.reprise.jmh.dbscheduler;

import java.util.List;
import java.util.Locale;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.SystemEpochNanoClock;

/**
 * The job both sides of {@code reprise bench db-scheduler} run (docs/benchmarks.md): N one-shot tasks of
 * {@value #PAYLOAD_BYTES}-byte payloads, each executed by a handler that does nothing but count, and a fixed share
 * of them asked to run again after a backoff.
 * <ul>
 * <li><b>Rate</b> ({@code --rate R --seconds S --warmup-seconds W}): task i is scheduled at its intended time
 * {@code start + i / R} and is due at that time (rounded up to the millisecond), for W + S seconds; N = R (W + S).
 * The tasks of the first W seconds warm up and are executed and checked but not measured.</li>
 * <li><b>Backlog</b> ({@code --backlog N}): all N are scheduled first, due at once (at the fill's start), while nothing
 * executes; then the executors start, and drain them. Lag is counted from the drain's start.</li>
 * </ul>
 * <b>Retries.</b> Task i is retried when {@code floor((i + 1) r) > floor(i r)} for the retry ratio r: its first
 * execution asks for a retry, with a backoff of {@link #backoffMs}, and its second succeeds. So exactly
 * {@code floor(N r)} tasks are retried, spread evenly, and task i is executed exactly {@link #expectedExecutions}
 * times: once, or twice when retried. A task is <em>completed</em> once, by its successful execution.
 * <p>
 * The payload carries the task's due time (epoch ms, bytes 0-7) and its index (bytes 8-15); the rest is filler.
 */
final class Job
{
    static final int PAYLOAD_BYTES = 128;
    static final long BACKOFF_MS_DEFAULT = 100;
    static final String REPRISE = "reprise";
    static final String DB_SCHEDULER = "db-scheduler";

    final long rate;
    final long seconds;
    final long warmupSeconds;
    final int tasks;
    final double retryRatio;
    final long backoffMs;
    final long drainTimeoutSeconds;

    private final long nanoBase = System.nanoTime();
    private final long epochNsBase = SystemEpochNanoClock.INSTANCE.nanoTime();

    private Job(
        final long rate, final long seconds, final long warmupSeconds, final int tasks, final double retryRatio,
        final long backoffMs, final long drainTimeoutSeconds)
    {
        this.rate = rate;
        this.seconds = seconds;
        this.warmupSeconds = warmupSeconds;
        this.tasks = tasks;
        this.retryRatio = retryRatio;
        this.backoffMs = backoffMs;
        this.drainTimeoutSeconds = drainTimeoutSeconds;
    }

    static Job rate(
        final long rate, final long seconds, final long warmupSeconds, final double retryRatio, final long backoffMs,
        final long drainTimeoutSeconds)
    {
        final long tasks = rate * (seconds + warmupSeconds);
        if (rate <= 0 || seconds <= 0 || tasks > Integer.MAX_VALUE - 8)
        {
            throw new IllegalArgumentException("rate " + rate + " for " + seconds + " s: out of range");
        }
        return new Job(rate, seconds, warmupSeconds, (int)tasks, retryRatio, backoffMs, drainTimeoutSeconds);
    }

    static Job backlog(final int tasks, final double retryRatio, final long backoffMs, final long drainTimeoutSeconds)
    {
        return new Job(0, 0, 0, tasks, retryRatio, backoffMs, drainTimeoutSeconds);
    }

    /** The job's options, as {@code reprise bench db-scheduler} passes them on to a side. */
    List<String> options()
    {
        return isBacklog() ?
            List.of("--backlog", Integer.toString(tasks), "--retry-ratio", Double.toString(retryRatio),
                "--backoff-ms", Long.toString(backoffMs), "--drain-timeout-seconds", Long.toString(drainTimeoutSeconds)) :
            List.of("--rate", Long.toString(rate), "--seconds", Long.toString(seconds), "--warmup-seconds",
                Long.toString(warmupSeconds), "--retry-ratio", Double.toString(retryRatio), "--backoff-ms",
                Long.toString(backoffMs), "--drain-timeout-seconds", Long.toString(drainTimeoutSeconds));
    }

    boolean isBacklog()
    {
        return rate == 0;
    }

    /** Tasks of the warm-up, not measured: the first {@code rate * warmupSeconds}. */
    int warmupTasks()
    {
        return (int)(rate * warmupSeconds);
    }

    boolean retried(final int index)
    {
        return Math.floor((index + 1) * retryRatio) > Math.floor(index * retryRatio);
    }

    int expectedExecutions(final int index)
    {
        return retried(index) ? 2 : 1;
    }

    long expectedExecutions()
    {
        return tasks + (long)Math.floor(tasks * retryRatio);
    }

    /** The intended schedule time of task {@code index} (rate mode), in {@link System#nanoTime()}. */
    long intendedNs(final long startNs, final int index)
    {
        return startNs + (long)(index * (1e9 / rate));
    }

    /** The due time of a task scheduled at {@code intendedNs}: its wall-clock time, rounded up to the ms. */
    long dueAtMs(final long intendedNs)
    {
        return Math.floorDiv(epochNs(intendedNs) + 999_999, 1_000_000);
    }

    /** Wall-clock time in epoch ns of a {@link System#nanoTime()} reading (one base for the whole run). */
    long epochNs(final long nanoTime)
    {
        return epochNsBase + (nanoTime - nanoBase);
    }

    long nowEpochNs()
    {
        return epochNs(System.nanoTime());
    }

    static void fillPayload(final MutableDirectBuffer payload)
    {
        for (int i = 16; i < PAYLOAD_BYTES; i++)
        {
            payload.putByte(i, (byte)('a' + i % 26));
        }
    }

    static void stamp(final MutableDirectBuffer payload, final int index, final long dueAtMs)
    {
        payload.putLong(0, dueAtMs);
        payload.putLong(8, index);
    }

    String describe()
    {
        final String shape = isBacklog() ?
            String.format(Locale.ROOT, "backlog of %,d tasks due at once, drained", tasks) :
            String.format(Locale.ROOT, "%,d tasks/s due as scheduled, %d s measured after %d s warm-up (%,d tasks)",
                rate, seconds, warmupSeconds, tasks);
        return String.format(Locale.ROOT, "%s; payload %d B; retry ratio %s (%,d tasks retried once after %d ms), " +
            "%,d executions expected", shape, PAYLOAD_BYTES, retryRatio, (long)Math.floor(tasks * retryRatio),
            backoffMs, expectedExecutions());
    }
}
