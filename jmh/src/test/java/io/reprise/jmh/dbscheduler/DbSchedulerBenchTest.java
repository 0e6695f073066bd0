package io.reprise.jmh.dbscheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.tools.bench.BenchCommand;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code reprise bench db-scheduler}, briefly: both sides run the job in JVMs of their own from this test's class path
 * (Reprise's node, and db-scheduler on a PostgreSQL server the side starts), and each checks that every task was
 * executed exactly as many times as the job says and completed once (docs/benchmarks.md).
 */
class DbSchedulerBenchTest
{
    private static final Pattern LAST_LINE = Pattern.compile(
        "bench: job=sessions reprise=(\\d+)/s db-scheduler=(\\d+)/s ratio=(\\d+\\.\\d\\d) " +
        "lag_p99_ms=(\\d+(?:\\.\\d)?)/(\\d+(?:\\.\\d)?)");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeAll
    static void sidesFromThisClassPath()
    {
        System.setProperty(BenchCommand.CLASSPATH_PROP_NAME, System.getProperty("java.class.path"));
    }

    private int bench(final String... args) throws Exception
    {
        return BenchCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String text()
    {
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    private Matcher lastLine(final int status)
    {
        final String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCode.OK, status, text());
        final String[] lines = text.split("\n");
        final Matcher matcher = LAST_LINE.matcher(lines[lines.length - 1]);
        assertTrue(matcher.matches(), "last line: " + lines[lines.length - 1] + "\n" + text);
        return matcher;
    }

    /** Each side's own check: every task executed as often as the job says, and completed once. */
    private void assertExactlyAsTheJobSays(final String system, final long tasks, final long executions)
    {
        final String line = "check: system=" + system + " tasks=" + tasks + " executions=" + executions + " expected=" +
            executions + " executions_completed=" + executions + " tasks_wrongly_executed=0 tasks_wrongly_completed=0 ok";
        assertTrue(text().contains(line), "expected '" + line + "' in\n" + text());
    }

    @Test
    void shouldRunTheJobOnBothSidesAtAFixedRateWithRetriesEachTaskExactlyAsOftenAsTheJobSays() throws Exception
    {
        final Matcher line = lastLine(bench("db-scheduler", "--runs", "1", "--rate", "500", "--seconds", "2",
            "--warmup-seconds", "1", "--retry-ratio", "0.1"));
        // 1,500 tasks; every tenth retried once: 1,650 executions on each side.
        assertExactlyAsTheJobSays("reprise", 1_500, 1_650);
        assertExactlyAsTheJobSays("db-scheduler", 1_500, 1_650);
        assertTrue(Long.parseLong(line.group(1)) > 0 && Long.parseLong(line.group(2)) > 0, line.group());
        final String text = text();
        assertTrue(text.contains("side: reprise node: journal fsync on every commit"), text);
        assertTrue(text.contains("fsync = on, synchronous_commit = on"), text);
        assertTrue(text.contains("rows left in scheduled_tasks: 0"), text);
    }

    @Test
    void shouldDrainABacklogOnBothSidesEachTaskExactlyAsOftenAsTheJobSays() throws Exception
    {
        lastLine(bench("db-scheduler", "--runs", "1", "--backlog", "3000", "--retry-ratio", "0.25"));
        assertExactlyAsTheJobSays("reprise", 3_000, 3_750);
        assertExactlyAsTheJobSays("db-scheduler", 3_000, 3_750);
        final String text = text();
        assertTrue(text.contains("side: reprise backlog of 3,000 saved in"), text);
        assertTrue(text.contains("side: db-scheduler backlog of 3,000 scheduled in"), text);
    }

    @Test
    void shouldRefuseAJobThatIsNotOne()
    {
        assertThrows(UsageException.class, () -> bench("db-scheduler", "--rate", "10", "--backlog", "10"));
        assertThrows(UsageException.class, () -> bench("db-scheduler", "--backlog", "10", "--seconds", "5"));
        assertThrows(UsageException.class, () -> bench("db-scheduler", "--retry-ratio", "1.5"));
        assertThrows(UsageException.class, () -> bench("db-scheduler", "--retry-ratio", "often"));
        assertThrows(UsageException.class, () -> bench("db-scheduler", "--threads", "4"));
    }

    @Test
    void shouldRetryAnExactShareAndCatchATaskExecutedTwiceOrNeverCompleted()
    {
        final Job job = Job.backlog(1_000, 0.1, 100, 10);
        int retried = 0;
        for (int i = 0; i < job.tasks; i++)
        {
            retried += job.retried(i) ? 1 : 0;
        }
        assertEquals(100, retried);
        assertEquals(1_100, job.expectedExecutions());

        final Tally tally = new Tally(job);
        tally.drainStarts();
        for (int i = 0; i < job.tasks; i++)
        {
            if (tally.onExecution(i, true, 0))
            {
                tally.onRetryAsked(i);
                tally.onExecutionCompleted(i);
                assertFalse(tally.onExecution(i, false, 0), "a retry asks for no second retry");
            }
            tally.onExecutionCompleted(i);
            tally.onTaskCompleted(i);
        }
        final PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertTrue(tally.check(sink, "test"));

        tally.onExecution(7, true, 0);      // a task executed once more than the job says
        assertFalse(tally.check(sink, "test"));

        final Tally missing = new Tally(job);
        for (int i = 1; i < job.tasks; i++)  // task 0 never executed nor completed
        {
            for (int n = 0; n < job.expectedExecutions(i); n++)
            {
                missing.onExecution(i, n == 0, 0);
                missing.onExecutionCompleted(i);
            }
            missing.onTaskCompleted(i);
        }
        assertFalse(missing.check(sink, "test"));
    }
}
