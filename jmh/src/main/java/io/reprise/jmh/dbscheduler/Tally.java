package io.reprise.jmh.dbscheduler;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What one side saw while it ran the {@link Job}: per task, how many times the handler ran and how many times the
 * task completed; due-to-execution lag, retry lag and schedule-to-ack latency (HdrHistogram, ns); when executions
 * completed. Threads of either side record into it concurrently.
 * <p>
 * <b>Executions completed</b>: handler runs whose outcome the system has durably recorded (db-scheduler: the
 * execution's row deleted, or updated for the retry, and committed; Reprise: the worker's report applied). Per
 * second, that is: in rate mode, the executions of the measured tasks (those due after the warm-up) over the time from
 * the first measured task's due time to the last of their executions completed, so a side that keeps up shows the
 * rate it was offered (times 1 + the retry ratio) and one that falls behind shows what it managed; in backlog mode, all
 * executions over the time from the drain's start to the last one.
 * <p>
 * <b>The check</b> ({@link #check}): every task executed exactly {@link Job#expectedExecutions(int)} times and
 * completed exactly once, and as many executions completed as the job has.
 */
final class Tally
{
    static final long HIGHEST_NS = 3_600_000_000_000L;

    private final Job job;
    private final AtomicIntegerArray executions;
    private final AtomicIntegerArray completions;
    private final AtomicLongArray retryDueEpochNs;
    final Histogram lag = new ConcurrentHistogram(HIGHEST_NS, 3);
    final Histogram retryLag = new ConcurrentHistogram(HIGHEST_NS, 3);
    final Histogram scheduleToAck = new ConcurrentHistogram(HIGHEST_NS, 3);
    final AtomicLong executionsCompleted = new AtomicLong();
    final AtomicLong measuredExecutionsCompleted = new AtomicLong();
    final AtomicLong tasksCompleted = new AtomicLong();
    final AtomicLong scheduled = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    private final AtomicLong lastCompletionNs = new AtomicLong();
    private volatile long windowStartNs;
    private volatile long drainStartEpochNs;
    private volatile long drainStartNs;
    volatile double fillSeconds;
    volatile long behindAtEnd;
    volatile long drainAfterEndMs;

    Tally(final Job job)
    {
        this.job = job;
        this.executions = new AtomicIntegerArray(job.tasks);
        this.completions = new AtomicIntegerArray(job.tasks);
        this.retryDueEpochNs = new AtomicLongArray(job.tasks);
    }

    /** Rate mode: the measured tasks are due from {@code startNs} ({@link System#nanoTime()}) on. */
    void window(final long startNs)
    {
        windowStartNs = startNs;
    }

    /** Backlog mode: the executors start now; lag counts from here. */
    void drainStarts()
    {
        drainStartNs = System.nanoTime();
        drainStartEpochNs = job.epochNs(drainStartNs);
    }

    /**
     * The handler runs task {@code index}: counts the execution and records its lag.
     *
     * @param firstExecution whether this is the task's first execution (not a retry).
     * @param dueAtMs        the task's due time, from its payload.
     * @return whether the handler should ask for a retry.
     */
    boolean onExecution(final int index, final boolean firstExecution, final long dueAtMs)
    {
        final long nowEpochNs = job.nowEpochNs();
        executions.incrementAndGet(index);
        if (firstExecution)
        {
            if (index >= job.warmupTasks())
            {
                final long dueEpochNs = Math.max(dueAtMs * 1_000_000L, drainStartEpochNs);
                lag.recordValue(Math.min(HIGHEST_NS, Math.max(0, nowEpochNs - dueEpochNs)));
            }
            return job.retried(index);
        }
        final long retryDue = retryDueEpochNs.get(index);
        if (retryDue > 0 && index >= job.warmupTasks())
        {
            retryLag.recordValue(Math.min(HIGHEST_NS, Math.max(0, nowEpochNs - retryDue)));
        }
        return false;
    }

    /** The handler asked for a retry of task {@code index} now: its next execution is due after the backoff. */
    void onRetryAsked(final int index)
    {
        retryDueEpochNs.set(index, job.nowEpochNs() + job.backoffMs * 1_000_000L);
    }

    /** An execution of task {@code index} had its outcome durably recorded. */
    void onExecutionCompleted(final int index)
    {
        final long nowNs = System.nanoTime();
        executionsCompleted.incrementAndGet();
        if (index >= job.warmupTasks())
        {
            measuredExecutionsCompleted.incrementAndGet();
            lastCompletionNs.accumulateAndGet(nowNs, Math::max);
        }
    }

    /** Task {@code index} completed: its success was durably recorded. */
    void onTaskCompleted(final int index)
    {
        completions.incrementAndGet(index);
        tasksCompleted.incrementAndGet();
    }

    /** Task {@code index}, meant to be scheduled at {@code intendedNs}, was acknowledged: durably scheduled. */
    void onScheduled(final int index, final long intendedNs, final long ackNs)
    {
        scheduled.incrementAndGet();
        if (index >= job.warmupTasks())
        {
            scheduleToAck.recordValue(Math.min(HIGHEST_NS, Math.max(0, ackNs - intendedNs)));
        }
    }

    boolean allCompleted()
    {
        return tasksCompleted.get() >= job.tasks && executionsCompleted.get() >= job.expectedExecutions();
    }

    double executionsPerSecond()
    {
        final long ns = lastCompletionNs.get() - (job.isBacklog() ? drainStartNs : windowStartNs);
        return ns > 0 ? measuredExecutionsCompleted.get() * 1e9 / ns : 0;
    }

    /**
     * Checks every task's counts against the job; prints what differs (the first few tasks) and a summary line.
     *
     * @return whether every task was executed and completed exactly as the job says.
     */
    boolean check(final PrintStream out, final String system)
    {
        long wrongExecutions = 0;
        long wrongCompletions = 0;
        long executed = 0;
        int shown = 0;
        for (int i = 0; i < job.tasks; i++)
        {
            final int n = executions.get(i);
            final int c = completions.get(i);
            executed += n;
            final boolean badN = n != job.expectedExecutions(i);
            final boolean badC = c != 1;
            wrongExecutions += badN ? 1 : 0;
            wrongCompletions += badC ? 1 : 0;
            if ((badN || badC) && shown++ < 5)
            {
                out.printf("check: %s task %d executed %d times (expected %d), completed %d times (expected 1)%n",
                    system, i, n, job.expectedExecutions(i), c);
            }
        }
        final boolean ok = wrongExecutions == 0 && wrongCompletions == 0 &&
            executionsCompleted.get() == job.expectedExecutions() && executed == job.expectedExecutions();
        out.printf(Locale.ROOT, "check: system=%s tasks=%d executions=%d expected=%d executions_completed=%d " +
            "tasks_wrongly_executed=%d tasks_wrongly_completed=%d %s%n", system, job.tasks, executed,
            job.expectedExecutions(), executionsCompleted.get(), wrongExecutions, wrongCompletions,
            ok ? "ok" : "FAILED");
        return ok;
    }

    private static double ms(final Histogram histogram, final double percentile)
    {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(percentile) / 1e6;
    }

    void report(final PrintStream out, final String system, final boolean ok)
    {
        out.printf(Locale.ROOT, "side: %s due-to-execution lag (%,d first executions): p50 %.2f ms, p90 %.2f, " +
            "p99 %.2f, p99.9 %.2f, max %.2f%n", system, lag.getTotalCount(), ms(lag, 50), ms(lag, 90), ms(lag, 99),
            ms(lag, 99.9), lag.getTotalCount() == 0 ? 0 : lag.getMaxValue() / 1e6);
        out.printf(Locale.ROOT, "side: %s retry lag, after the backoff (%,d retries): p50 %.2f ms, p99 %.2f, " +
            "max %.2f%n", system, retryLag.getTotalCount(), ms(retryLag, 50), ms(retryLag, 99),
            retryLag.getTotalCount() == 0 ? 0 : retryLag.getMaxValue() / 1e6);
        out.printf(Locale.ROOT, "side: %s schedule-to-ack (%,d schedules, from the intended time): p50 %.2f ms, " +
            "p99 %.2f, p99.9 %.2f, max %.2f%n", system, scheduleToAck.getTotalCount(), ms(scheduleToAck, 50),
            ms(scheduleToAck, 99), ms(scheduleToAck, 99.9),
            scheduleToAck.getTotalCount() == 0 ? 0 : scheduleToAck.getMaxValue() / 1e6);
        out.printf(Locale.ROOT, "result: system=%s job=%s tasks=%d executions_completed=%d exec_per_s=%.0f " +
            "lag_p50_ms=%.3f lag_p99_ms=%.3f lag_p999_ms=%.3f lag_max_ms=%.3f retry_lag_p99_ms=%.3f " +
            "ack_p50_ms=%.3f ack_p99_ms=%.3f ack_p999_ms=%.3f behind_at_end=%d drain_after_end_ms=%d fill_s=%.1f " +
            "errors=%d check=%s%n",
            system, job.isBacklog() ? "backlog" : "rate", job.tasks, executionsCompleted.get(), executionsPerSecond(),
            ms(lag, 50), ms(lag, 99), ms(lag, 99.9), lag.getTotalCount() == 0 ? 0 : lag.getMaxValue() / 1e6,
            ms(retryLag, 99), ms(scheduleToAck, 50), ms(scheduleToAck, 99), ms(scheduleToAck, 99.9), behindAtEnd,
            drainAfterEndMs, fillSeconds, errors.get(), ok ? "ok" : "failed");
    }
}
