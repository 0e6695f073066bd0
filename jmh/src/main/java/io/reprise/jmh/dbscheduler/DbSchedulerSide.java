package io.reprise.jmh.dbscheduler;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.event.AbstractSchedulerListener;
import com.github.kagkarlsson.scheduler.logging.LogLevel;
import com.github.kagkarlsson.scheduler.serializer.Serializer;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.FailureHandler;
import com.github.kagkarlsson.scheduler.task.SchedulableInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.reprise.jmh.cluster.ThreadCpu;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The db-scheduler side of {@code reprise bench db-scheduler}: db-scheduler on a PostgreSQL server of its own
 * ({@link PostgresServer}) with {@code fsync=on} and {@code synchronous_commit=on}, so a schedule is acknowledged
 * (its transaction's commit returns) only once its WAL is flushed, and so is every execution's completion.
 * <p>
 * Scheduling: {@value #SCHEDULERS_DEFAULT} threads ({@value #SCHEDULERS_PROP_NAME}), each with a connection of the
 * pool, take the tasks that are due (rate mode) or all (backlog), up to {@value #BATCH_DEFAULT} at a time
 * ({@value #BATCH_PROP_NAME}), and schedule them with one {@code scheduleBatch} (one multi-row insert, one commit). In
 * rate mode they schedule through the running {@link Scheduler}, so that {@code enableImmediateExecution} wakes it for
 * tasks due now; a backlog is scheduled through a {@link SchedulerClient} before the scheduler starts.
 * <p>
 * The scheduler, as db-scheduler's documentation recommends for throughput (README "Polling strategy",
 * docs/performance.md): {@code pollUsingLockAndFetch} (one {@code UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING}
 * per batch instead of a select and an update per execution), its fractions, threads and polling interval set by the
 * properties below; {@code enableImmediateExecution}; failure logging off (a retry is not news here). The task is a
 * {@code OneTimeTask<byte[]>} with a serializer that stores the payload as it is, and
 * {@code OnFailureRetryLater(backoff)}: the handler throws for the executions that ask for a retry.
 */
final class DbSchedulerSide
{
    static final String THREADS_PROP_NAME = "reprise.bench.dbscheduler.threads";
    static final int THREADS_DEFAULT = 20;
    static final String LOWER_PROP_NAME = "reprise.bench.dbscheduler.lower.fraction";
    static final double LOWER_DEFAULT = 4.0;
    static final String UPPER_PROP_NAME = "reprise.bench.dbscheduler.upper.fraction";
    static final double UPPER_DEFAULT = 20.0;
    static final String POLLING_MS_PROP_NAME = "reprise.bench.dbscheduler.polling.ms";
    static final long POLLING_MS_DEFAULT = 10;
    static final String SCHEDULERS_PROP_NAME = "reprise.bench.dbscheduler.schedulers";
    static final int SCHEDULERS_DEFAULT = 4;
    static final String BATCH_PROP_NAME = "reprise.bench.dbscheduler.batch";
    static final int BATCH_DEFAULT = 1000;
    static final String PROFILE_PROP_NAME = "reprise.bench.profile";
    static final String TASK_NAME = "bench";

    /**
     * The server's settings beyond its defaults (docs/benchmarks.md has why): durability as the defaults have it,
     * written out; memory and WAL sized for a table of 10^6 rows on this machine.
     */
    static final List<String> POSTGRES_SETTINGS = List.of(
        "fsync = on",
        "synchronous_commit = on",
        "full_page_writes = on",
        "wal_sync_method = fdatasync",
        "shared_buffers = 1GB",
        "max_wal_size = 4GB",
        "max_connections = 200",
        "jit = off");

    /** db-scheduler's PostgreSQL table, as its documentation gives it (postgresql_tables.sql). */
    static final List<String> DDL = List.of(
        "create table scheduled_tasks (task_name text not null, task_instance text not null, task_data bytea, " +
            "execution_time timestamp with time zone not null, picked BOOLEAN not null, picked_by text, " +
            "last_success timestamp with time zone, last_failure timestamp with time zone, consecutive_failures INT, " +
            "last_heartbeat timestamp with time zone, version BIGINT not null, priority SMALLINT, " +
            "PRIMARY KEY (task_name, task_instance))",
        "CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time)",
        "CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat)",
        "CREATE INDEX priority_execution_time_idx on scheduled_tasks (priority desc, execution_time asc)");

    /** The payload is the task's data, stored as it is (no Java serialization around it). */
    private static final Serializer RAW = new Serializer()
    {
        public byte[] serialize(final Object data)
        {
            return (byte[])data;
        }

        @SuppressWarnings("unchecked")
        public <T> T deserialize(final Class<T> type, final byte[] serializedData)
        {
            return (T)serializedData;
        }
    };

    private final Job job;
    private final Tally tally;
    private final PrintStream out;
    private final int threads = Integer.getInteger(THREADS_PROP_NAME, THREADS_DEFAULT);
    private final double lower = Double.parseDouble(System.getProperty(LOWER_PROP_NAME, Double.toString(LOWER_DEFAULT)));
    private final double upper = Double.parseDouble(System.getProperty(UPPER_PROP_NAME, Double.toString(UPPER_DEFAULT)));
    private final long pollingMs = Long.getLong(POLLING_MS_PROP_NAME, POLLING_MS_DEFAULT);
    private final int schedulers = Integer.getInteger(SCHEDULERS_PROP_NAME, SCHEDULERS_DEFAULT);
    private final int batch = Integer.getInteger(BATCH_PROP_NAME, BATCH_DEFAULT);

    DbSchedulerSide(final Job job, final Tally tally, final PrintStream out)
    {
        this.job = job;
        this.tally = tally;
        this.out = out;
    }

    /** Runs the job; returns whether the table is empty at the end (every execution's row deleted). */
    boolean run(final Path directory, final ThreadCpu cpu) throws Exception
    {
        try (PostgresServer postgres = PostgresServer.start(directory, POSTGRES_SETTINGS, out))
        {
            out.println("side: postgresql: " + postgres.version() + ", settings: " + String.join(", ",
                POSTGRES_SETTINGS));
            final HikariConfig pool = new HikariConfig();
            pool.setJdbcUrl(postgres.jdbcUrl("reWriteBatchedInserts=true"));
            pool.setUsername("postgres");
            pool.setMaximumPoolSize(threads + schedulers + 4);
            pool.setMinimumIdle(threads + schedulers + 4);
            pool.setPoolName("db-scheduler");
            try (HikariDataSource dataSource = new HikariDataSource(pool))
            {
                try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement())
                {
                    for (final String ddl : DDL)
                    {
                        statement.execute(ddl);
                    }
                }
                return run(postgres, dataSource, cpu);
            }
        }
    }

    private boolean run(final PostgresServer postgres, final HikariDataSource dataSource, final ThreadCpu cpu)
        throws Exception
    {
        final OneTimeTask<byte[]> task = Tasks.oneTime(TASK_NAME, byte[].class)
            .onFailure(new FailureHandler.OnFailureRetryLater<>(Duration.ofMillis(job.backoffMs)))
            .execute((instance, context) ->
            {
                final UnsafeBuffer payload = new UnsafeBuffer(instance.getData());
                final int index = (int)payload.getLong(8);
                final boolean first = context.getExecution().consecutiveFailures == 0;
                if (tally.onExecution(index, first, payload.getLong(0)))
                {
                    tally.onRetryAsked(index);
                    throw new RetryAsked();
                }
            });
        final Scheduler scheduler = Scheduler.create(dataSource, task)
            .serializer(RAW)
            .threads(threads)
            .pollUsingLockAndFetch(lower, upper)
            .pollingInterval(Duration.ofMillis(pollingMs))
            .enableImmediateExecution()
            .failureLogging(LogLevel.OFF, false)
            .schedulerName(new SchedulerName.Fixed("reprise-bench"))
            .addSchedulerListener(new AbstractSchedulerListener()
            {
                public void onExecutionComplete(final ExecutionComplete complete)
                {
                    final byte[] data = (byte[])complete.getExecution().taskInstance.getData();
                    final int index = (int)new UnsafeBuffer(data).getLong(8);
                    tally.onExecutionCompleted(index);
                    if (complete.getResult() == ExecutionComplete.Result.OK)
                    {
                        tally.onTaskCompleted(index);
                    }
                }

                public void onSchedulerEvent(final SchedulerEventType type)
                {
                    if (type == SchedulerEventType.UNEXPECTED_ERROR || type == SchedulerEventType.COMPLETIONHANDLER_ERROR ||
                        type == SchedulerEventType.FAILUREHANDLER_ERROR || type == SchedulerEventType.DEAD_EXECUTION)
                    {
                        tally.errors.incrementAndGet();
                        out.println("side: db-scheduler event " + type);
                    }
                }
            })
            .build();
        out.printf(Locale.ROOT, "side: db-scheduler %s: threads %d, pollUsingLockAndFetch(%s, %s), pollingInterval %d ms, " +
            "enableImmediateExecution, OnFailureRetryLater(%d ms), raw byte[] task data; HikariCP pool of %d; " +
            "scheduling: %d threads, scheduleBatch of up to %d%n", version(),
            threads, lower, upper, pollingMs, job.backoffMs, threads + schedulers + 4, schedulers, batch);

        final WaitSampler sampler = Boolean.getBoolean(PROFILE_PROP_NAME) ? new WaitSampler(dataSource) : null;
        long postgresCpuNs = postgres.cpuNs();
        try
        {
            if (job.isBacklog())
            {
                final SchedulerClient client = SchedulerClient.Builder.create(dataSource, task).serializer(RAW).build();
                final long fillStartNs = System.nanoTime();
                schedule(client, task, fillStartNs);
                tally.fillSeconds = (System.nanoTime() - fillStartNs) / 1e9;
                out.printf(Locale.ROOT, "side: db-scheduler backlog of %,d scheduled in %.1f s%n", job.tasks,
                    (System.nanoTime() - fillStartNs) / 1e9);
                postgresCpuNs = postgres.cpuNs();
                if (null != sampler)
                {
                    sampler.start();
                }
                cpu.start();
                tally.drainStarts();
                scheduler.start();
                tally.awaitCompletion(() -> 0, 0, Job.DB_SCHEDULER, out);
            }
            else
            {
                if (null != sampler)
                {
                    sampler.start();
                }
                scheduler.start();
                final long startNs = System.nanoTime() + 100_000_000L;
                final long warmupEndNs = job.intendedNs(startNs, job.warmupTasks());
                final long endNs = job.intendedNs(startNs, job.tasks);
                tally.window(warmupEndNs);
                final Thread cpuStart = new Thread(() ->
                {
                    LockSupport.parkNanos(warmupEndNs - System.nanoTime());
                    cpu.start();
                });
                cpuStart.start();
                schedule(scheduler, task, startNs);
                cpuStart.join();
                while (System.nanoTime() < endNs)
                {
                    LockSupport.parkNanos(1_000_000);
                }
                tally.behindAtEnd = job.tasks - tally.tasksCompleted.get();
                tally.awaitCompletion(() -> 0, endNs, Job.DB_SCHEDULER, out);
            }
            cpu.stop();
            postgresCpuNs = postgres.cpuNs() - postgresCpuNs;
        }
        finally
        {
            scheduler.stop();
            if (null != sampler)
            {
                sampler.stop(out);
            }
        }
        final long left = count(dataSource);
        out.printf(Locale.ROOT, "side: db-scheduler rows left in scheduled_tasks: %d; postgresql server CPU over the " +
            "run %.1f s, %.2f us per execution%n", left, postgresCpuNs / 1e9,
            postgresCpuNs / 1e3 / Math.max(1, tally.executionsCompleted.get()));
        return left == 0;
    }

    /**
     * Schedules every task of the job from {@link #schedulers} threads, each taking the due tasks (all of them, for a
     * backlog) up to {@link #batch} at a time into one {@code scheduleBatch}.
     */
    private void schedule(final SchedulerClient client, final OneTimeTask<byte[]> task, final long startNs)
        throws InterruptedException
    {
        final AtomicInteger next = new AtomicInteger();
        final AtomicBoolean failed = new AtomicBoolean();
        final long backlogDueAtMs = job.dueAtMs(startNs);
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < schedulers; t++)
        {
            final Thread thread = new Thread(() ->
            {
                final List<SchedulableInstance<?>> instances = new ArrayList<>(batch);
                final long[] intendedNs = new long[batch];
                while (!failed.get())
                {
                    final int first = next.get();
                    if (first >= job.tasks)
                    {
                        return;
                    }
                    final long nowNs = System.nanoTime();
                    int end = job.tasks;
                    if (!job.isBacklog())
                    {
                        final long firstNs = job.intendedNs(startNs, first);
                        if (firstNs > nowNs)
                        {
                            LockSupport.parkNanos(Math.min(firstNs - nowNs, 1_000_000));
                            continue;
                        }
                        end = (int)Math.min(job.tasks, (long)((nowNs - startNs) * (job.rate / 1e9)) + 1);
                        while (end > first + 1 && job.intendedNs(startNs, end - 1) > nowNs)
                        {
                            end--;
                        }
                    }
                    final int last = Math.min(end, first + batch);
                    if (last <= first || !next.compareAndSet(first, last))
                    {
                        continue;
                    }
                    instances.clear();
                    for (int i = first; i < last; i++)
                    {
                        final long intended = job.isBacklog() ? nowNs : job.intendedNs(startNs, i);
                        final long dueAtMs = job.isBacklog() ? backlogDueAtMs : job.dueAtMs(intended);
                        intendedNs[i - first] = intended;
                        final byte[] data = new byte[Job.PAYLOAD_BYTES];
                        final UnsafeBuffer payload = new UnsafeBuffer(data);
                        Job.fillPayload(payload);
                        Job.stamp(payload, i, dueAtMs);
                        instances.add(SchedulableInstance.of(task.instance(Integer.toString(i), data),
                            Instant.ofEpochMilli(dueAtMs)));
                    }
                    try
                    {
                        client.scheduleBatch(instances);
                    }
                    catch (final RuntimeException ex)
                    {
                        tally.errors.incrementAndGet();
                        failed.set(true);
                        out.println("side: db-scheduler scheduleBatch failed: " + ex);
                        return;
                    }
                    final long ackNs = System.nanoTime();
                    for (int i = first; i < last; i++)
                    {
                        tally.onScheduled(i, intendedNs[i - first], ackNs);
                    }
                }
            }, "bench-schedule-" + t);
            threads.add(thread);
            thread.start();
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
    }

    /** db-scheduler's version, from its jar's Maven properties. */
    static String version()
    {
        try (InputStream in = Scheduler.class.getResourceAsStream(
            "/META-INF/maven/com.github.kagkarlsson/db-scheduler/pom.properties"))
        {
            final Properties properties = new Properties();
            if (null != in)
            {
                properties.load(in);
            }
            return properties.getProperty("version", "(version unknown)");
        }
        catch (final IOException ex)
        {
            return "(version unknown)";
        }
    }

    private static long count(final HikariDataSource dataSource) throws SQLException
    {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
            ResultSet rows = statement.executeQuery("select count(*) from scheduled_tasks"))
        {
            rows.next();
            return rows.getLong(1);
        }
    }

    /** What the handler throws to ask for a retry: the task's failure handler reschedules it after the backoff. */
    private static final class RetryAsked extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        RetryAsked()
        {
            super("retry asked", null, false, false);
        }
    }

    /**
     * A profile of the server's sessions ({@value #PROFILE_PROP_NAME}): every 10 ms, what each client backend is
     * doing, from {@code pg_stat_activity} (its wait event, or on CPU when active and waiting for nothing).
     */
    private static final class WaitSampler
    {
        private final HikariDataSource dataSource;
        private final Map<String, Long> samples = new TreeMap<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private Thread thread;
        private long rounds;

        WaitSampler(final HikariDataSource dataSource)
        {
            this.dataSource = dataSource;
        }

        void start()
        {
            thread = new Thread(() ->
            {
                try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement())
                {
                    while (!stop.get())
                    {
                        try (ResultSet rows = statement.executeQuery("select state, wait_event_type, wait_event " +
                            "from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()"))
                        {
                            while (rows.next())
                            {
                                final String state = rows.getString(1);
                                final String key = !"active".equals(state) ? "idle: " + state :
                                    null == rows.getString(2) ? "active: on CPU" :
                                    "active: " + rows.getString(2) + "/" + rows.getString(3);
                                synchronized (samples)
                                {
                                    samples.merge(key, 1L, Long::sum);
                                }
                            }
                        }
                        rounds++;
                        LockSupport.parkNanos(10_000_000);
                    }
                }
                catch (final SQLException ex)
                {
                    System.err.println("postgresql wait sampler: " + ex);
                }
            }, "bench-pg-wait-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop(final PrintStream out) throws InterruptedException
        {
            stop.set(true);
            thread.join(5_000);
            final StringBuilder line = new StringBuilder("profile: postgresql client backends over " + rounds +
                " samples (10 ms apart), mean backends per state:");
            synchronized (samples)
            {
                samples.entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                    .forEach((e) -> line.append(String.format(Locale.ROOT, " %s %.2f;", e.getKey(),
                        e.getValue() / (double)Math.max(1, rounds))));
            }
            out.println(line);
        }
    }
}
