package io.reprise.tools.load;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import io.aeron.Aeron;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.HdrHistogram.Histogram;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SystemEpochNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One run of the load generator against a node: a controller saving sessions at a fixed rate on the calling
 * thread, and the workers, all polled by one thread of their own, taking the attempts. The controller saves through
 * a {@link SaveClient}: a Reprise client, or another system's for a side-by-side benchmark (then without workers).
 * <p>
 * Save-to-ack latency is measured from the <em>intended</em> send time of each save (start + i / rate), not from
 * when it was actually offered: when the generator falls behind (window full, back-pressure, a pause) the wait
 * counts, so coordinated omission does not hide it. With rate 0 there is no schedule: a save is intended the
 * moment the window lets it go. Dispatch lag is the time a worker receives an attempt minus the session's due
 * time, which the generator chose ({@code dueAtMs}, carried in the first 8 bytes of the payload); both are wall
 * clocks of this machine.
 */
public final class LoadRun
{
    static final long HIGHEST_NS = 60_000_000_000L;
    /** The delay a worker asks for when it answers RETRY: the due time of the next attempt is known roughly. */
    static final long RETRY_AFTER_MS = 10;
    private static final long DRAIN_TIMEOUT_NS = 15_000_000_000L;
    private static final long REPORT_TIMEOUT_NS = 5_000_000_000L;

    /** What one run measured. */
    public static final class Result
    {
        final Histogram saveToAck = new Histogram(HIGHEST_NS, 3);
        final Histogram dispatchLag = new Histogram(HIGHEST_NS, 3);
        final Histogram retryLag = new Histogram(HIGHEST_NS, 3);
        final Map<ResultCode, Long> saveErrors = new EnumMap<>(ResultCode.class);
        final Map<ResultCode, Long> reportErrors = new EnumMap<>(ResultCode.class);
        final Map<SessionStatus, Long> finished = new EnumMap<>(SessionStatus.class);
        long scheduledInWindow;
        long sentInWindow;
        long ackedInWindow;
        long sent;
        long acked;
        long unanswered;
        long saveBackPressure;
        /** Saves the node answered with BACK_PRESSURE: not saved, counted as back-pressure rather than errors. */
        long saveRefusedBackPressure;
        long saveNotConnected;
        long reportBackPressure;
        long reportFailures;
        long attempts;
        long retries;
        long earlyAttempts;
        long behindAtEnd;
        double measuredSeconds;

        /** Save-to-ack latency of the saves intended in the measured window, from their intended send time. */
        public Histogram saveToAck()
        {
            return saveToAck;
        }

        /** Saves intended in the measured window that were acknowledged. */
        public long ackedInWindow()
        {
            return ackedInWindow;
        }

        /** Saves acknowledged over the whole run, warm-up included. */
        public long acked()
        {
            return acked;
        }

        /** Saves acknowledged over the measured window, per second. */
        public double achievedPerSecond()
        {
            return ackedInWindow / measuredSeconds;
        }

        public long errors()
        {
            long errors = unanswered + saveNotConnected + reportFailures;
            for (final long n : saveErrors.values())
            {
                errors += n;
            }
            for (final long n : reportErrors.values())
            {
                errors += n;
            }
            return errors;
        }
    }

    private final LoadOptions options;
    private final Aeron aeron;
    private final SaveClient.Connector connector;
    private final Result result = new Result();
    private final long nanoBase = System.nanoTime();
    private final long epochNsBase = SystemEpochNanoClock.INSTANCE.nanoTime();

    LoadRun(final LoadOptions options, final Aeron aeron)
    {
        this.options = options;
        this.aeron = aeron;
        this.connector = SaveClient.reprise(clientContext(options.token));
    }

    /**
     * A run whose controller saves through {@code connector}; there are no workers ({@code --workers 0}), so the
     * sessions are due in an hour and the save path alone is measured.
     */
    public LoadRun(final LoadOptions options, final SaveClient.Connector connector)
    {
        if (options.workers != 0)
        {
            throw new IllegalArgumentException("workers need a Reprise node: give --workers 0");
        }
        this.options = options;
        this.aeron = null;
        this.connector = connector;
    }

    private ClientContext clientContext(final String token)
    {
        final ClientContext context = new ClientContext()
            .aeron(aeron)
            .ingressChannel(options.ingressChannel)
            .tenant(options.tenant)
            .token(token)
            .connectTimeoutMs(10_000);
        if ("udp".equals(options.media))
        {
            context.responseChannel(ClientContext.UDP_RESPONSE_CHANNEL);
        }
        return context;
    }

    /** Wall-clock time in epoch ns of a {@link System#nanoTime()} reading. */
    private long epochNs(final long nanoTime)
    {
        return epochNsBase + (nanoTime - nanoBase);
    }

    public Result run()
    {
        final int destinations = Math.max(1, options.workers);
        final int[] destinationIds = new int[destinations];
        for (int d = 0; d < destinations; d++)
        {
            destinationIds[d] = options.firstDestination + d;
        }
        final List<RepriseWorker> workers = new ArrayList<>();
        final Controller controller = new Controller(destinationIds);
        try
        {
            controller.client = connector.connect(controller);
            for (int w = 0; w < options.workers; w++)
            {
                workers.add(RepriseWorker.connect(clientContext(options.workerToken), destinationIds, options.hands,
                    (correlationId, code, value) -> onReportResult(code)));
            }
            final AtomicBoolean stop = new AtomicBoolean();
            final WorkerLoop workerLoop = new WorkerLoop(workers, stop);
            final Thread workerThread = new Thread(workerLoop, "reprise-load-workers");
            workerThread.setDaemon(true);
            workerThread.start();
            try
            {
                controller.run();
            }
            finally
            {
                // Give the workers a moment for the attempts of the last saves, then stop them.
                final long graceEndNs = System.nanoTime() + (options.workers > 0 ? 500_000_000L : 0);
                while (System.nanoTime() < graceEndNs && workerThread.isAlive())
                {
                    controller.client.poll();
                    Thread.onSpinWait();
                }
                stop.set(true);
                joinQuietly(workerThread);
            }
            if (null != workerLoop.failure)
            {
                throw workerLoop.failure;
            }
            return result;
        }
        finally
        {
            for (final RepriseWorker worker : workers)
            {
                worker.close();
            }
            if (null != controller.client)
            {
                controller.client.close();
            }
        }
    }

    private static void joinQuietly(final Thread thread)
    {
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void onReportResult(final ResultCode code)
    {
        if (code != ResultCode.OK)
        {
            synchronized (result)
            {
                result.reportErrors.merge(code, 1L, Long::sum);
            }
        }
    }

    /** The controller: saves on schedule, and takes the acks. Runs on the calling thread. */
    private final class Controller implements RepriseClient.Listener
    {
        private final int[] destinations;
        private final SessionPolicy policy = new SessionPolicy();
        private final UnsafeBuffer payload;
        private final int mask;
        private final long[] slotCorrelationId;
        private final long[] slotIntendedNs;
        private SaveClient client;
        private long outstanding;
        private long warmupEndNs;
        private long endNs;

        Controller(final int[] destinations)
        {
            this.destinations = destinations;
            this.payload = new UnsafeBuffer(new byte[options.payloadBytes]);
            for (int i = 8; i < options.payloadBytes; i++)
            {
                payload.putByte(i, (byte)('a' + i % 26));
            }
            final int slots = BitUtil.findNextPositivePowerOfTwo(Math.max(16, options.window * 2));
            this.mask = slots - 1;
            this.slotCorrelationId = new long[slots];
            this.slotIntendedNs = new long[slots];
            policy.initialDelayMs(0).backoffInitialMs(RETRY_AFTER_MS).backoffMaxMs(RETRY_AFTER_MS)
                .jitterPermille(0).maxAttempts(options.maxAttempts).leaseMs(30_000);
        }

        void run()
        {
            // Session ids unique across runs against the same node: a random base, then one after the other.
            final long sessionBase = ThreadLocalRandom.current().nextLong(1, 1L << 62);
            final IdleStrategy idle = options.idleStrategy();
            final long startNs = System.nanoTime();
            warmupEndNs = startNs + options.warmupSeconds * 1_000_000_000L;
            endNs = warmupEndNs + options.seconds * 1_000_000_000L;
            final double periodNs = options.rate > 0 ? 1e9 / options.rate : 0;
            long next = 0;
            long pendingIntendedNs = -1;
            while (true)
            {
                final long nowNs = System.nanoTime();
                if (nowNs >= endNs)
                {
                    break;
                }
                int work = client.poll();
                while (outstanding < options.window)
                {
                    if (pendingIntendedNs < 0)
                    {
                        pendingIntendedNs = options.rate > 0 ? startNs + (long)(next * periodNs) : nowNs;
                    }
                    if (pendingIntendedNs > nowNs || pendingIntendedNs >= endNs)
                    {
                        break;
                    }
                    final long dueAtMs = Math.floorDiv(epochNs(pendingIntendedNs) + 999_999, 1_000_000) +
                        (options.workers > 0 ? options.delayMs : 3_600_000);
                    policy.dueAtMs(dueAtMs);
                    payload.putLong(0, dueAtMs);
                    final long correlationId = client.save(sessionBase + next,
                        destinations[(int)(next % destinations.length)], policy, payload, 0, options.payloadBytes);
                    if (correlationId == RepriseClient.BACK_PRESSURED)
                    {
                        result.saveBackPressure++;
                        break;
                    }
                    if (correlationId < 0)
                    {
                        result.saveNotConnected++;
                        break;
                    }
                    final int slot = (int)(correlationId & mask);
                    slotCorrelationId[slot] = correlationId;
                    slotIntendedNs[slot] = pendingIntendedNs;
                    if (pendingIntendedNs >= warmupEndNs)
                    {
                        result.sentInWindow++;
                    }
                    pendingIntendedNs = -1;
                    outstanding++;
                    result.sent++;
                    next++;
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
            result.measuredSeconds = options.seconds;
            if (options.rate > 0)
            {
                final long scheduled = (long)Math.ceil((endNs - startNs) / periodNs);
                result.scheduledInWindow = scheduled - (long)Math.ceil((warmupEndNs - startNs) / periodNs);
                result.behindAtEnd = scheduled - next;
            }
            else
            {
                result.scheduledInWindow = result.sentInWindow;
            }

            final long drainEndNs = System.nanoTime() + DRAIN_TIMEOUT_NS;
            while (outstanding > 0 && System.nanoTime() < drainEndNs)
            {
                if (client.poll() == 0)
                {
                    idle.idle();
                }
                else
                {
                    idle.reset();
                }
            }
            result.unanswered = outstanding;
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
            result.acked++;
            final long intendedNs = slotIntendedNs[slot];
            if (code == ResultCode.BACK_PRESSURE)
            {
                result.saveRefusedBackPressure++;
            }
            else if (code != ResultCode.OK)
            {
                result.saveErrors.merge(code, 1L, Long::sum);
            }
            if (intendedNs >= warmupEndNs && intendedNs < endNs)
            {
                result.ackedInWindow++;
                result.saveToAck.recordValue(Math.min(HIGHEST_NS, Math.max(0, nowNs - intendedNs)));
            }
        }

        public void onSessionFinished(
            final long sessionId, final int destination, final SessionStatus status, final int attempt,
            final int errorCode)
        {
            result.finished.merge(status, 1L, Long::sum);
        }
    }

    /** Every worker polled by one thread: records dispatch lag and reports at once. */
    private final class WorkerLoop implements Runnable, RepriseWorker.AttemptHandler
    {
        private final List<RepriseWorker> workers;
        private final AtomicBoolean stop;
        private final SplittableRandom random = new SplittableRandom();
        private final Long2LongHashMap retryDueEpochNs = new Long2LongHashMap(-1);
        private RepriseWorker current;
        private long warmupEndEpochNs;
        private volatile RuntimeException failure;

        WorkerLoop(final List<RepriseWorker> workers, final AtomicBoolean stop)
        {
            this.workers = workers;
            this.stop = stop;
        }

        public void run()
        {
            warmupEndEpochNs = epochNs(System.nanoTime()) + options.warmupSeconds * 1_000_000_000L;
            final IdleStrategy idle = options.idleStrategy();
            try
            {
                while (!stop.get())
                {
                    int work = 0;
                    for (final RepriseWorker worker : workers)
                    {
                        current = worker;
                        work += worker.poll(this);
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
            final long leaseExpiresAtMs, final int handle, final DirectBuffer buffer, final int payloadOffset,
            final int payloadLength)
        {
            final long nowEpochNs = epochNs(System.nanoTime());
            result.attempts++;
            if (attempt == 1)
            {
                final long dueEpochNs = buffer.getLong(payloadOffset) * 1_000_000L;
                if (dueEpochNs >= warmupEndEpochNs)
                {
                    if (nowEpochNs < dueEpochNs)
                    {
                        result.earlyAttempts++;
                    }
                    record(result.dispatchLag, nowEpochNs - dueEpochNs);
                }
            }
            else
            {
                result.retries++;
                final long dueEpochNs = retryDueEpochNs.remove(sessionId);
                if (dueEpochNs > 0 && dueEpochNs >= warmupEndEpochNs)
                {
                    record(result.retryLag, nowEpochNs - dueEpochNs);
                }
            }
            final boolean retry = options.failureRatio > 0 && random.nextDouble() < options.failureRatio;
            final Outcome outcome = retry ? Outcome.RETRY : Outcome.SUCCEEDED;
            final long deadlineNs = System.nanoTime() + REPORT_TIMEOUT_NS;
            long sentAtEpochNs;
            while (true)
            {
                sentAtEpochNs = epochNs(System.nanoTime());
                final long correlationId = current.report(sessionId, destination, attempt, handle, outcome,
                    retry ? 503 : 200, retry ? RETRY_AFTER_MS : 0);
                if (correlationId > 0)
                {
                    break;
                }
                if (correlationId == RepriseClient.BACK_PRESSURED && System.nanoTime() < deadlineNs)
                {
                    result.reportBackPressure++;
                    Thread.onSpinWait();
                    continue;
                }
                synchronized (result)
                {
                    result.reportFailures++;
                }
                return;
            }
            if (retry && attempt < options.maxAttempts)
            {
                retryDueEpochNs.put(sessionId, sentAtEpochNs + RETRY_AFTER_MS * 1_000_000L);
            }
        }

        private void record(final Histogram histogram, final long lagNs)
        {
            histogram.recordValue(Math.min(HIGHEST_NS, Math.max(0, lagNs)));
        }
    }
}
