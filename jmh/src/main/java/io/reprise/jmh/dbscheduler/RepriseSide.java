package io.reprise.jmh.dbscheduler;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import io.aeron.Aeron;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.engine.node.NodeContext;
import io.reprise.jmh.cluster.ThreadCpu;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import org.agrona.BitUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The Reprise side of {@code reprise bench db-scheduler}: a standalone node ({@link RepriseNode}, the defaults of
 * {@code reprise node}: journal fsync on every commit, so a save is acknowledged only once synced, and so is every
 * report) with its embedded media driver, a controller ({@link RepriseClient}) and workers ({@link RepriseWorker})
 * over Aeron IPC, in this JVM.
 * <p>
 * The controller saves each task as a one-shot session ({@code dueAtMs} = the task's due time, fixed backoff of the
 * job's, no jitter, 10 attempts at most, 30 s lease) with at most {@value #WINDOW} saves unanswered, and counts each
 * session's {@code SessionFinished} (COMPLETED) notice: the task completed. The workers, all polled by one thread,
 * count each attempt, report SUCCEEDED, or RETRY for the executions that ask for one (the node then makes the
 * session due again after the policy's backoff), and count each report the node acknowledges (applied, synced): an
 * execution completed. {@value #WORKERS_PROP_NAME} workers (default {@value #WORKERS_DEFAULT}) of
 * {@value #HANDS_PROP_NAME} hands each (default {@value #HANDS_DEFAULT}).
 */
final class RepriseSide
{
    static final String WORKERS_PROP_NAME = "reprise.bench.reprise.workers";
    static final int WORKERS_DEFAULT = 1;
    static final String HANDS_PROP_NAME = "reprise.bench.reprise.hands";
    static final int HANDS_DEFAULT = 1024;
    static final int WINDOW = 4096;
    private static final String TOKEN = "bench-token";
    private static final int TENANT = 1;
    private static final int DESTINATION = 1;
    private static final long REPORT_TIMEOUT_NS = 5_000_000_000L;

    private final Job job;
    private final Tally tally;
    private final PrintStream out;
    private final int workers = Integer.getInteger(WORKERS_PROP_NAME, WORKERS_DEFAULT);
    private final int hands = Integer.getInteger(HANDS_PROP_NAME, HANDS_DEFAULT);
    private final long sessionBase = ThreadLocalRandom.current().nextLong(1, 1L << 62);

    RepriseSide(final Job job, final Tally tally, final PrintStream out)
    {
        this.job = job;
        this.tally = tally;
        this.out = out;
    }

    void run(final Path dataDirectory, final ThreadCpu cpu) throws IOException, InterruptedException
    {
        final File shm = new File("/dev/shm");
        final String aeronDirectory = new File(shm.isDirectory() ? shm : new File(System.getProperty("java.io.tmpdir")),
            "reprise-bench-dbs-" + ProcessHandle.current().pid()).getAbsolutePath();
        final NodeContext nodeContext = new NodeContext().dataDirectory(dataDirectory).journalSkipFsync(false);
        final TransportContext transport = new TransportContext()
            .aeronDirectoryName(aeronDirectory)
            .embeddedDriver(true)
            .ingressUdpChannel(null)
            .tokens(TENANT + "=" + TOKEN);
        final RepriseNode node = RepriseNode.start(nodeContext, transport);
        Aeron aeron = null;
        final Controller controller = new Controller();
        final List<RepriseWorker> connected = new ArrayList<>();
        final AtomicBoolean stop = new AtomicBoolean();
        Thread workerThread = null;
        try
        {
            out.printf("side: reprise node: journal fsync on every commit, transport idle %s, ring wait %s, ingress %s; " +
                "%d worker%s x %d hands on one thread, controller window %d%n", transport.idleStrategyName(),
                System.getProperty(NodeContext.WAIT_STRATEGY_PROP_NAME, NodeContext.WAIT_STRATEGY_DEFAULT),
                transport.ingressIpcChannel(), workers, workers == 1 ? "" : "s", hands, WINDOW);
            aeron = ClientContext.connectAeron(aeronDirectory);
            final ClientContext context = new ClientContext()
                .aeron(aeron)
                .ingressChannel(transport.ingressIpcChannel())
                .tenant(TENANT)
                .token(TOKEN)
                .connectTimeoutMs(30_000);
            controller.client = RepriseClient.connect(context, controller);
            final WorkerLoop loop = new WorkerLoop(connected, stop);
            if (job.isBacklog())
            {
                final long fillStartNs = System.nanoTime();
                controller.save(fillStartNs);
                tally.fillSeconds = (System.nanoTime() - fillStartNs) / 1e9;
                out.printf(Locale.ROOT, "side: reprise backlog of %,d saved in %.1f s%n", job.tasks,
                    (System.nanoTime() - fillStartNs) / 1e9);
                cpu.start();
                tally.drainStarts();
                connectWorkers(context, connected, loop);
                workerThread = startWorkers(loop);
                tally.awaitCompletion(controller.client::poll, 0, Job.REPRISE, out);
            }
            else
            {
                connectWorkers(context, connected, loop);
                workerThread = startWorkers(loop);
                final long startNs = System.nanoTime() + 100_000_000L;
                final long warmupEndNs = job.intendedNs(startNs, job.warmupTasks());
                final long endNs = job.intendedNs(startNs, job.tasks);
                tally.window(warmupEndNs);
                controller.cpu = cpu;
                controller.cpuStartNs = warmupEndNs;
                controller.save(startNs);
                while (System.nanoTime() < endNs)
                {
                    controller.client.poll();
                    LockSupport.parkNanos(50_000);
                }
                tally.behindAtEnd = job.tasks - tally.tasksCompleted.get();
                tally.awaitCompletion(controller.client::poll, endNs, Job.REPRISE, out);
            }
            cpu.stop();
            if (null != loop.failure)
            {
                throw loop.failure;
            }
        }
        finally
        {
            stop.set(true);
            if (null != workerThread)
            {
                workerThread.join(10_000);
            }
            for (final RepriseWorker worker : connected)
            {
                worker.close();
            }
            CloseHelper.closeAll(controller.client, aeron, node);
        }
    }

    private void connectWorkers(final ClientContext context, final List<RepriseWorker> connected, final WorkerLoop loop)
    {
        for (int w = 0; w < workers; w++)
        {
            connected.add(RepriseWorker.connect(context, new int[] {DESTINATION}, hands, loop));
        }
    }

    private static Thread startWorkers(final WorkerLoop loop)
    {
        final Thread thread = new Thread(loop, "bench-reprise-workers");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Saves the tasks on schedule and takes the acknowledgements and the finished notices. One thread. */
    private final class Controller implements RepriseClient.Listener
    {
        private final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).backoffInitialMs(job.backoffMs)
            .backoffMaxMs(job.backoffMs).jitterPermille(0).maxAttempts(10).leaseMs(30_000);
        private final UnsafeBuffer payload = new UnsafeBuffer(new byte[Job.PAYLOAD_BYTES]);
        private final int mask = BitUtil.findNextPositivePowerOfTwo(WINDOW * 2) - 1;
        private final long[] slotCorrelationId = new long[mask + 1];
        private final int[] slotIndex = new int[mask + 1];
        private final long[] slotIntendedNs = new long[mask + 1];
        /** Tasks the node refused with BACK_PRESSURE: saved again. */
        private final IntArrayQueue refused = new IntArrayQueue();
        private final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1_000, 50_000);
        private RepriseClient client;
        private long outstanding;
        private ThreadCpu cpu;
        private long cpuStartNs = Long.MAX_VALUE;

        Controller()
        {
            Job.fillPayload(payload);
        }

        /** Saves every task, on schedule from {@code startNs} (rate) or as the window allows (backlog), until acked. */
        void save(final long startNs)
        {
            final long backlogDueAtMs = job.dueAtMs(startNs);
            int next = 0;
            final long deadlineNs = System.nanoTime() + (job.isBacklog() ? 3_600 : job.warmupSeconds + job.seconds + 600) *
                1_000_000_000L;
            while ((next < job.tasks || outstanding > 0 || !refused.isEmpty()) && System.nanoTime() < deadlineNs)
            {
                final long nowNs = System.nanoTime();
                if (nowNs >= cpuStartNs)
                {
                    cpu.start();
                    cpuStartNs = Long.MAX_VALUE;
                }
                int work = client.poll();
                while (outstanding < WINDOW)
                {
                    final int index;
                    final long intendedNs;
                    if (!refused.isEmpty())
                    {
                        index = refused.pollInt();
                        intendedNs = job.isBacklog() ? nowNs : job.intendedNs(startNs, index);
                    }
                    else if (next < job.tasks)
                    {
                        index = next;
                        intendedNs = job.isBacklog() ? nowNs : job.intendedNs(startNs, index);
                        if (intendedNs > nowNs)
                        {
                            break;
                        }
                    }
                    else
                    {
                        break;
                    }
                    final long dueAtMs = job.isBacklog() ? backlogDueAtMs : job.dueAtMs(intendedNs);
                    Job.stamp(payload, index, dueAtMs);
                    policy.dueAtMs(dueAtMs);
                    final long correlationId = client.save(sessionBase + index, DESTINATION, policy, payload, 0,
                        Job.PAYLOAD_BYTES);
                    if (correlationId < 0)
                    {
                        if (index != next)
                        {
                            refused.addInt(index);
                        }
                        break;
                    }
                    if (index == next)
                    {
                        next++;
                    }
                    final int slot = (int)(correlationId & mask);
                    slotCorrelationId[slot] = correlationId;
                    slotIndex[slot] = index;
                    slotIntendedNs[slot] = intendedNs;
                    outstanding++;
                    work++;
                }
                if (work > 0)
                {
                    idle.reset();
                }
                else
                {
                    idle.idle();
                }
            }
            if (outstanding > 0 || next < job.tasks)
            {
                tally.errors.incrementAndGet();
                out.printf("side: reprise: %,d saves unanswered, %,d not sent%n", outstanding, job.tasks - next);
            }
        }

        public void onResponse(
            final long correlationId, final int operatorTemplateId, final ResultCode code, final long value)
        {
            final long nowNs = System.nanoTime();
            final int slot = (int)(correlationId & mask);
            if (slotCorrelationId[slot] != correlationId)
            {
                return;
            }
            slotCorrelationId[slot] = 0;
            outstanding--;
            if (code == ResultCode.OK)
            {
                tally.onScheduled(slotIndex[slot], slotIntendedNs[slot], nowNs);
            }
            else if (code == ResultCode.BACK_PRESSURE)
            {
                refused.addInt(slotIndex[slot]);
            }
            else
            {
                tally.errors.incrementAndGet();
                out.println("side: reprise: save of task " + slotIndex[slot] + " refused: " + code);
            }
        }

        public void onSessionFinished(
            final long sessionId, final int destination, final SessionStatus status, final int attempt,
            final int errorCode)
        {
            final long index = sessionId - sessionBase;
            if (status == SessionStatus.COMPLETED && index >= 0 && index < job.tasks)
            {
                tally.onTaskCompleted((int)index);
            }
            else
            {
                tally.errors.incrementAndGet();
                out.println("side: reprise: session " + sessionId + " finished " + status);
            }
        }

        public void onConnectionClosed(final ResultCode reason, final String detail)
        {
            tally.errors.incrementAndGet();
            out.println("side: reprise: controller connection closed: " + reason + " " + detail);
        }
    }

    /** Every worker polled by one thread: counts each attempt, reports at once, counts each acknowledged report. */
    private final class WorkerLoop implements Runnable, RepriseWorker.AttemptHandler, RepriseWorker.ReportListener
    {
        private final List<RepriseWorker> workers;
        private final AtomicBoolean stop;
        /**
         * The task of each report not yet answered, by the report's correlation id, one map per worker (each worker
         * numbers its reports from 1).
         */
        private final List<Long2LongHashMap> reportIndex = new ArrayList<>();
        private RepriseWorker current;
        private Long2LongHashMap currentReports;
        private volatile RuntimeException failure;

        WorkerLoop(final List<RepriseWorker> workers, final AtomicBoolean stop)
        {
            this.workers = workers;
            this.stop = stop;
        }

        public void run()
        {
            final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1_000, 50_000);
            try
            {
                for (int w = 0; w < workers.size(); w++)
                {
                    reportIndex.add(new Long2LongHashMap(-1));
                }
                while (!stop.get())
                {
                    int work = 0;
                    for (int w = 0; w < workers.size(); w++)
                    {
                        current = workers.get(w);
                        currentReports = reportIndex.get(w);
                        work += current.poll(this);
                    }
                    if (work > 0)
                    {
                        idle.reset();
                    }
                    else
                    {
                        idle.idle();
                    }
                }
            }
            catch (final RuntimeException ex)
            {
                failure = ex;
            }
        }

        public void onAttempt(
            final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle, final DirectBuffer buffer, final int offset, final int length)
        {
            final int index = (int)buffer.getLong(offset + 8);
            final boolean retry = tally.onExecution(index, attempt == 1, buffer.getLong(offset));
            final long deadlineNs = System.nanoTime() + REPORT_TIMEOUT_NS;
            while (true)
            {
                final long correlationId = current.report(sessionId, destination, attempt, handle,
                    retry ? Outcome.RETRY : Outcome.SUCCEEDED, retry ? 503 : 200, 0);
                if (correlationId > 0)
                {
                    currentReports.put(correlationId, index);
                    break;
                }
                if (correlationId == RepriseClient.BACK_PRESSURED && System.nanoTime() < deadlineNs)
                {
                    Thread.onSpinWait();
                    continue;
                }
                tally.errors.incrementAndGet();
                return;
            }
            if (retry)
            {
                tally.onRetryAsked(index);
            }
        }

        public void onReportResult(final long correlationId, final ResultCode code, final long value)
        {
            final long index = currentReports.remove(correlationId);
            if (code == ResultCode.OK && index >= 0)
            {
                tally.onExecutionCompleted((int)index);
            }
            else
            {
                tally.errors.incrementAndGet();
                out.println("side: reprise: report " + correlationId + (index < 0 ? " unknown: " : " refused: ") + code);
            }
        }
    }
}
