package io.reprise.jmh.dbscheduler;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

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
    static final long STALL_SECONDS = 120;

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

    /**
     * Waits, calling {@code poll} (which returns the work it did) and idling between calls, until every task and
     * execution completed; gives up after the job's drain timeout, or after {@value #STALL_SECONDS} s without any
     * progress, and then says what is missing. Records how long it took after {@code endNs} (rate mode; 0: none).
     */
    boolean awaitCompletion(final IntSupplier poll, final long endNs, final String system, final PrintStream out)
    {
        final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1_000, 1_000_000);
        final long deadlineNs = System.nanoTime() + job.drainTimeoutSeconds * 1_000_000_000L;
        long progress = -1;
        long progressNs = System.nanoTime();
        while (!allCompleted())
        {
            final long nowNs = System.nanoTime();
            final long seen = executionsCompleted.get() + tasksCompleted.get();
            if (seen != progress)
            {
                progress = seen;
                progressNs = nowNs;
            }
            if (nowNs > deadlineNs || nowNs - progressNs > STALL_SECONDS * 1_000_000_000L)
            {
                break;
            }
            if (poll.getAsInt() > 0)
            {
                idle.reset();
            }
            else
            {
                idle.idle();
            }
        }
        if (endNs > 0)
        {
            drainAfterEndMs = Math.max(0, (System.nanoTime() - endNs) / 1_000_000);
        }
        if (!allCompleted())
        {
            out.printf(Locale.ROOT, "side: %s: gave up waiting (%s): %,d of %,d tasks completed, %,d of %,d executions " +
                "completed, errors %d%n", system, System.nanoTime() > deadlineNs ?
                "drain timeout of " + job.drainTimeoutSeconds + " s" : "no progress for " + STALL_SECONDS + " s",
                tasksCompleted.get(), job.tasks, executionsCompleted.get(), job.expectedExecutions(), errors.get());
            return false;
        }
        return true;
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
