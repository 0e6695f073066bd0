package io.reprise.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.disk.BackgroundSync;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.ForwardingDiskFile;
import io.reprise.engine.disk.Pace;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Snapshot cost at scale, on a real node: populates {@code sessions} live sessions, then offers saves at a fixed
 * rate, first in a window without a snapshot (the baseline), then while the snapshot agent writes one. For each
 * window it reports, apart from each other:
 * <ul>
 *   <li>the offer-to-result latency (HdrHistogram) and the longest gap between two applied operators;</li>
 *   <li>the journal's commit latency: every sync of a journal segment, timed through a wrapping disk;</li>
 *   <li>the business logic's own stall: the longest time in which committed but unapplied entries existed (as
 *       the business logic's barrier sees them: published by the journal stage, {@code committedIndex}) and the
 *       applied index did not move, sampled by a watcher thread every ~{@link #WATCH_NS} ns. Waiting for a commit
 *       is not a stall by this measure; the sampling adds up to one period. It does not count from the durable
 *       index, which the journal thread sets a little before it publishes: the journal's own delays, when
 *       descheduled in between, would count as the business logic's.</li>
 * </ul>
 * Also reports the snapshot's write time, size and load time, and the storage merges in each window.
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms8g -Xmx8g -cp jmh/target/benchmarks.jar \
 *     io.reprise.jmh.SnapshotProbe [sessions=10000000] [ratePerSecond=50000]
 * </pre>
 * With {@code -Dreprise.probe.realtime=true} (as root) the business-logic thread runs {@code SCHED_FIFO}, so that
 * what the watcher sees is the business logic's own stall, not its waits for a CPU. A canary thread (at the same
 * priority, then) sleeps 50 µs at a time and reports how late it wakes in each window: the platform's part.
 */
public final class SnapshotProbe
{
    private static final int LATENCY_SLOTS = 1 << 20;

    private final long[] offeredAtNs = new long[LATENCY_SLOTS];
    private static final long MAX_LATENCY_NS = 10_000_000_000L;

    private static final long WATCH_NS = 20_000;

    private final Recorder latency = new Recorder(MAX_LATENCY_NS, 3);
    private final Recorder journalSync = new Recorder(MAX_LATENCY_NS, 3);
    /** How late a thread that only sleeps {@link #CANARY_SLEEP_NS} at a time wakes up: the platform's share. */
    private final Recorder canaryLateness = new Recorder(MAX_LATENCY_NS, 3);
    private static final long CANARY_SLEEP_NS = 50_000;
    private volatile long maxStallNs;
    private volatile long maxStallAtNs;
    /** What the business-logic thread was doing at the longest stall, if longer than 1 ms. */
    private volatile String maxStallThread = "";
    private volatile Path logicTask;
    private volatile boolean watching = true;
    private final AtomicLong lastApplyNs = new AtomicLong();
    private volatile long maxGapNs;
    private volatile boolean snapshotDone;
    private volatile long snapshotWriteNs;
    private volatile SnapshotInfo snapshot;

    public static void main(final String[] args) throws Exception
    {
        final int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        final int rate = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        new SnapshotProbe().run(sessions, rate);
    }

    private void run(final int sessions, final int rate) throws Exception
    {
        final Path directory = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "snapshot-probe");
        final BusinessRules rules = new BusinessRules().maxSessions(sessions + 10_000_000)
            .expectedSessions(sessions + 5_000_000);
        final NodeContext context = new NodeContext()
            .dataDirectory(directory)
            .disk(new TimedJournalDisk(directory.resolve("journal")))
            .rules(rules)
            .timeTickMs(1L << 40)
            .snapshotEveryOperators(Long.MAX_VALUE)
            .snapshotEveryMs(Long.MAX_VALUE)
            .snapshotEveryLogBytes(Long.MAX_VALUE)
            .snapshotListener(new SnapshotAgent.Listener()
            {
                public void onSnapshot(final SnapshotInfo info, final long writeNs)
                {
                    snapshot = info;
                    snapshotWriteNs = writeNs;
                }

                public void onRotation(final int segmentsDeleted, final int snapshotsDeleted)
                {
                    snapshotDone = true;
                }
            });
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(24L * 3600 * 1000);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[128]);
        try (StandaloneNode node = StandaloneNode.start(context))
        {
            final InProcessClient client = node.newClient(1, (index, correlationId, templateId, code, value) ->
            {
                final long nowNs = System.nanoTime();
                final long previous = lastApplyNs.getAndSet(nowNs);
                if (previous != 0 && nowNs - previous > maxGapNs)
                {
                    maxGapNs = nowNs - previous;
                }
                final long offered = offeredAtNs[(int)(correlationId & (LATENCY_SLOTS - 1))];
                if (offered != 0)
                {
                    latency.recordValue(Math.min(nowNs - offered, MAX_LATENCY_NS));
                }
            });
            long id = 0;
            final long populateStart = System.nanoTime();
            while (id < sessions)
            {
                if (client.save(id + 1, (int)(id & 255), policy, payload, 0, 128) == ResultCode.OK)
                {
                    id++;
                }
                else
                {
                    failIfStopped(node);
                }
            }
            node.awaitApplied(600_000);
            System.out.printf("populated %,d sessions in %.1f s%n", sessions, (System.nanoTime() - populateStart) / 1e9);
            logicTask = task("reprise-business-logic");
            final Thread canary = new Thread(this::sleepAndWake, "wake-up-canary");
            canary.setDaemon(true);
            canary.start();
            if (Boolean.getBoolean("reprise.probe.realtime"))
            {
                giveRealTimePriority(logicTask);
                giveRealTimePriority(task("wake-up-canary"));
            }
            final Thread watcher = new Thread(() -> watchStalls(node), "stall-watcher");
            watcher.setDaemon(true);
            watcher.start();

            id = steady(node, client, policy, payload, id, rate, 10_000_000_000L, "baseline (no snapshot)");
            node.snapshotAgent().requestSnapshot();
            final long snapshotStart = System.nanoTime();
            id = steady(node, client, policy, payload, id, rate, -1, "during the snapshot");
            System.out.printf("snapshot: %s, %,d bytes, written in %.2f s (agent thread), %.2f s until rotated%n",
                snapshot.fileName(), snapshot.fileLength(), snapshotWriteNs / 1e9,
                (System.nanoTime() - snapshotStart) / 1e9);

            watching = false;
            node.close();
            final BusinessLogic restored = new BusinessLogic(rules, OutputSink.NONE);
            final long loadStart = System.nanoTime();
            SnapshotFile.load(context.disk(), directory.resolve("snapshots").resolve(snapshot.fileName()), restored);
            System.out.printf("snapshot load: %.2f s for %,d sessions%n", (System.nanoTime() - loadStart) / 1e9,
                restored.sessions().size());
        }
        finally
        {
            try (Stream<Path> files = Files.walk(directory))
            {
                files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
            }
        }
    }

    /** JVM uptime at {@code nanoTimeNs}, to find an event in the JVM's own logs ({@code -Xlog:gc,safepoint}). */
    private static double uptimeSeconds(final long nanoTimeNs)
    {
        final long nowUptimeMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        return (nowUptimeMs - (System.nanoTime() - nanoTimeNs) / 1e6) / 1e3;
    }

    /**
     * Puts the named thread of this JVM in the {@code SCHED_FIFO} class ({@code chrt}, as root), as a deployment
     * would give the business logic a core of its own: its stalls are then its own, not waits for a CPU behind the
     * journal, flush, merger, snapshot writer, producer and watcher threads on 2 cores.
     */
    private static void giveRealTimePriority(final Path task) throws IOException, InterruptedException
    {
        final String tid = task.getFileName().toString();
        final Process chrt = new ProcessBuilder("chrt", "-f", "-p", "10", tid).inheritIO().start();
        if (chrt.waitFor() != 0)
        {
            throw new IllegalStateException("chrt -f -p 10 " + tid + " failed");
        }
        System.out.printf("thread tid %s runs SCHED_FIFO, priority 10%n", tid);
    }

    /** This JVM's {@code /proc} task of the thread named {@code threadName}. */
    private static Path task(final String threadName) throws IOException
    {
        // Linux keeps the first 15 characters of a thread's name.
        final String comm = threadName.substring(0, Math.min(15, threadName.length()));
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task")))
        {
            for (final Path task : (Iterable<Path>)tasks::iterator)
            {
                if (Files.readString(task.resolve("comm")).trim().equals(comm))
                {
                    return task;
                }
            }
        }
        throw new IllegalStateException("no thread named " + threadName);
    }

    /** A thread's scheduler state (R running or runnable, S sleeping, D in the kernel) and kernel stack. */
    private static String threadState(final Path task)
    {
        try
        {
            final String stat = Files.readString(task.resolve("stat"));
            final String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            String stack;
            try
            {
                stack = Files.readString(task.resolve("stack")).replaceAll("\\[<0>\\] ", "").replace('\n', ' ').trim();
            }
            catch (final IOException ex)
            {
                stack = "(kernel stack unreadable)";
            }
            return "state " + state + ", kernel stack: " + stack;
        }
        catch (final IOException ex)
        {
            return "(unreadable: " + ex.getMessage() + ")";
        }
    }

    /** Offers saves at {@code rate}/s for {@code durationNs}, or until the snapshot is done when negative. */
    private long steady(
        final StandaloneNode node, final InProcessClient client, final SessionPolicy policy, final UnsafeBuffer payload, final long firstId,
        final int rate, final long durationNs, final String phase)
    {
        latency.getIntervalHistogram();
        journalSync.getIntervalHistogram();
        canaryLateness.getIntervalHistogram();
        final long mergesBefore = node.storage().merges();
        maxStallNs = 0;
        maxStallThread = "";
        maxGapNs = 0;
        lastApplyNs.set(0);
        final long intervalNs = 1_000_000_000L / rate;
        final long startNs = System.nanoTime();
        long id = firstId;
        long next = startNs;
        while (durationNs < 0 ? !snapshotDone : System.nanoTime() - startNs < durationNs)
        {
            final long now = System.nanoTime();
            if (now < next)
            {
                LockSupport.parkNanos(Math.min(next - now, 50_000));
                continue;
            }
            offeredAtNs[(int)(client.nextCorrelationId() & (LATENCY_SLOTS - 1))] = System.nanoTime();
            if (client.save(id + 1, (int)(id & 255), policy, payload, 0, 128) == ResultCode.OK)
            {
                id++;
            }
            else
            {
                failIfStopped(node);
            }
            next += intervalNs;
        }
        LockSupport.parkNanos(200_000_000);
        final Histogram latency = this.latency.getIntervalHistogram();
        System.out.printf("%s: %,d saves over %.1f s; offer-to-result latency us p50=%.1f p99=%.1f p99.9=%.1f " +
            "max=%.1f; longest gap between applied operators %.2f ms%n", phase, latency.getTotalCount(),
            (System.nanoTime() - startNs) / 1e9, latency.getValueAtPercentile(50) / 1e3,
            latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3,
            latency.getMaxValue() / 1e3, maxGapNs / 1e6);
        final Histogram syncs = journalSync.getIntervalHistogram();
        System.out.printf("%s: journal commit (fsync) us: %,d syncs p50=%.1f p99=%.1f p99.9=%.1f max=%.1f; " +
            "business-logic stall (committed work waiting, no progress) max %.2f ms (%.3f s into the window, " +
            "ending at %.3f s of JVM uptime); storage merges %d%n",
            phase,
            syncs.getTotalCount(), syncs.getValueAtPercentile(50) / 1e3, syncs.getValueAtPercentile(99) / 1e3,
            syncs.getValueAtPercentile(99.9) / 1e3, syncs.getMaxValue() / 1e3, maxStallNs / 1e6,
            (maxStallAtNs - startNs) / 1e9, uptimeSeconds(maxStallAtNs),
            node.storage().merges() - mergesBefore);
        final Histogram lateness = canaryLateness.getIntervalHistogram();
        System.out.printf("%s: a thread that only sleeps %d us at a time woke late by us p50=%.1f p99=%.1f " +
            "p99.9=%.1f max=%.1f (%,d wake-ups)%n", phase, CANARY_SLEEP_NS / 1_000,
            lateness.getValueAtPercentile(50) / 1e3, lateness.getValueAtPercentile(99) / 1e3, lateness.getValueAtPercentile(99.9) / 1e3,
            lateness.getMaxValue() / 1e3, lateness.getTotalCount());
        if (!maxStallThread.isEmpty())
        {
            System.out.printf("%s: the business-logic thread during its longest stall: %s%n", phase, maxStallThread);
        }
        return id;
    }

    /**
     * Sleeps {@link #CANARY_SLEEP_NS} at a time, as the business logic's idle strategy does when idle, and records
     * how late it wakes. It does nothing else, so its lateness is the platform's (timer, scheduler, hypervisor):
     * the part of the business logic's stalls that no change to the engine removes.
     */
    private void sleepAndWake()
    {
        while (watching)
        {
            final long start = System.nanoTime();
            LockSupport.parkNanos(CANARY_SLEEP_NS);
            canaryLateness.recordValue(Math.min(Math.max(0, System.nanoTime() - start - CANARY_SLEEP_NS),
                MAX_LATENCY_NS));
        }
    }

    /** A node that stopped takes nothing more: say why instead of offering forever. */
    private static void failIfStopped(final StandaloneNode node)
    {
        if (null != node.fatalError())
        {
            throw new IllegalStateException("the node stopped", node.fatalError());
        }
    }

    /**
     * Keeps {@link #maxStallNs}: the longest run of samples in which the committed index (as the business logic sees
     * it) was ahead of the applied index while the applied index stood still, counted from the later of the last
     * progress and the first sample that saw committed work waiting. While a stall is the longest so far and longer
     * than 1 ms, it also reads what the business-logic thread is doing, from {@code /proc}: its scheduler state and
     * its kernel stack (root only).
     */
    private void watchStalls(final StandaloneNode node)
    {
        long lastApplied = -1;
        long progressNs = 0;
        long waitingSinceNs = 0;
        while (watching)
        {
            final long applied = node.appliedIndex();
            // Committed as the business logic sees it: the journal stage's published sequence. The durable index
            // comes a little earlier, and the gap (the journal thread descheduled before it publishes) is not the
            // business logic's stall.
            final long durable = node.committedIndex();
            final long nowNs = System.nanoTime();
            if (applied != lastApplied)
            {
                lastApplied = applied;
                progressNs = nowNs;
            }
            if (durable > applied)
            {
                if (waitingSinceNs == 0)
                {
                    waitingSinceNs = nowNs;
                }
                final long stallNs = nowNs - Math.max(progressNs, waitingSinceNs);
                if (stallNs > maxStallNs)
                {
                    if (stallNs > 1_000_000 && null != logicTask)
                    {
                        maxStallThread = threadState(logicTask);
                    }
                    maxStallNs = stallNs;
                    maxStallAtNs = nowNs;
                }
            }
            else
            {
                waitingSinceNs = 0;
            }
            LockSupport.parkNanos(WATCH_NS);
        }
    }

    /** The real disk, timing every sync of a file in the journal directory. */
    private final class TimedJournalDisk extends ForwardingDisk
    {
        private final Path journalDirectory;

        TimedJournalDisk(final Path journalDirectory)
        {
            // Snapshot writes synced in steps and paced as on a node's own disk (NodeContext's defaults).
            super(new FileChannelDisk(new BackgroundSync.Settings(BackgroundSync.Settings.STEP_BYTES_DEFAULT,
                BackgroundSync.Settings.SNAPSHOT_BYTES_PER_SECOND_DEFAULT, Pace.parking(SystemNanoClock.INSTANCE))));
            this.journalDirectory = journalDirectory;
        }

        public DiskFile open(final Path file, final boolean create) throws IOException
        {
            final DiskFile opened = disk.open(file, create);
            if (!journalDirectory.equals(file.getParent()))
            {
                return opened;
            }
            return new ForwardingDiskFile(opened)
            {
                public void sync() throws IOException
                {
                    final long startNs = System.nanoTime();
                    file.sync();
                    journalSync.recordValue(Math.min(System.nanoTime() - startNs, MAX_LATENCY_NS));
                }
            };
        }
    }
}
