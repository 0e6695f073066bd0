package io.reprise.tools.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.CancelSessionDecoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code reprise demo}: a real standalone node with its embedded media driver, two controllers of two tenants
 * saving sessions over Aeron IPC, and workers that succeed, ask for retries, fail for good, and die holding
 * attempts. Time is the wall clock. When everything that can finish has finished, the node shuts down and every
 * saved session is looked up in its final state: {@code lost} counts those that are nowhere, never an assumption.
 */
public final class AeronDemo
{
    public static final int DEFAULT_SESSIONS = 100_000;
    public static final int MAX_SESSIONS = 2_000_000;

    private static final int TENANT_ONE = 1;
    private static final int TENANT_TWO = 2;
    /** Each tenant's controllers and workers have tokens of their own: a worker's cannot save or cancel. */
    private static final String CONTROLLER_TOKEN_ONE = "demo-controller-one";
    private static final String WORKER_TOKEN_ONE = "demo-worker-one";
    private static final String CONTROLLER_TOKEN_TWO = "demo-controller-two";
    private static final String WORKER_TOKEN_TWO = "demo-worker-two";
    private static final int[] TENANT_ONE_DESTINATIONS = {1, 2, 3, 4};
    private static final int[] TENANT_TWO_DESTINATIONS = {5, 6};
    /** Each destination's workers answer RETRY this often (per mille); destination 4 fails some for good. */
    private static final int[] RETRY_PERMILLE = {0, 0, 400, 700, 0, 200, 200};
    private static final int PERMANENT_FAILURE_PERMILLE_4 = 50;
    private static final int WINDOW = 2_000;
    private static final int HANDS = 256;
    private static final long LEASE_MS = 2_000;
    /** The worker that dies does so after this many attempts. */
    private static final int ATTEMPTS_BEFORE_CRASH = 3_000;
    private static final long DRAIN_TIMEOUT_MS = 100_000;
    /** How long a client waits before it tries again to reach a node that takes clients. */
    private static final long RETRY_MS = 20;
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer(
        "{\"event\":\"invoice.paid\",\"amount\":4200,\"currency\":\"EUR\"}".getBytes());

    private AeronDemo()
    {
    }

    /** Runs the demo; {@code dataDirectory} null means a temporary one, deleted after. */
    public static boolean run(final int sessions, final Path dataDirectory, final PrintStream out) throws IOException
    {
        final long startNs = System.nanoTime();
        final Path dir = null == dataDirectory ? Files.createTempDirectory("reprise-demo") : dataDirectory;
        final String aeronDir = aeronDirectory();
        final List<String> steps = Collections.synchronizedList(new ArrayList<>());
        out.println("reprise demo: a standalone node over Aeron IPC (embedded media driver in " + aeronDir + "), " +
            "data in " + dir + (null == dataDirectory ? " (temporary)" : ""));
        out.println("  " + sessions + " sessions from 2 controllers (tenants 1 and 2) to 6 destinations; workers " +
            "succeed, retry (destinations 2, 3, 5, 6), fail for good (destination 4), and one dies holding attempts");

        final Plan plan = new Plan(sessions, ThreadLocalRandom.current().nextLong(1, 1L << 40) << 22);
        // Session ids of each run start at a random multiple of 2^22, clear of any earlier run on the same DIR.
        final RepriseNode node = RepriseNode.start(
            new NodeContext().dataDirectory(dir).lifecycleListener(steps::add),
            new TransportContext()
                .aeronDirectoryName(aeronDir)
                .ingressUdpChannel(null)
                .tokens(tokens()));
        boolean nodeClosed = false;
        try
        {
            reportStart(steps, out);
            final Run run = new Run(plan, () -> new ClientContext().aeronDirectoryName(aeronDir));
            run.execute(watched(node), out);
            node.close();
            nodeClosed = true;
            final boolean consistent = account(plan, run, node, out);
            out.printf("  took %.1f s%n", (System.nanoTime() - startNs) / 1e9);
            out.println(plan.summaryLine());
            return consistent;
        }
        finally
        {
            if (!nodeClosed)
            {
                node.close();
            }
            if (null == dataDirectory)
            {
                deleteRecursively(dir);
            }
        }
    }

    /** The node's figures as the run watches them, read in-process. */
    private static Watched watched(final RepriseNode node)
    {
        final DestinationFigures figures = node.node().destinationFigures();
        return new Watched()
        {
            public Figures read()
            {
                // Summed one destination and status at a time while the business logic moves sessions between
                // them (a burst of retries moves dozens from in flight to pending mid-sum): exact only if nothing
                // was applied meanwhile.
                final long appliedBefore = node.node().appliedIndex();
                final long unfinished = figures.total(DestinationFigures.PENDING) +
                    figures.total(DestinationFigures.READY) + figures.total(DestinationFigures.IN_FLIGHT);
                final long dead = figures.total(DestinationFigures.DEAD);
                return new Figures(unfinished, dead, node.node().appliedIndex() == appliedBefore);
            }

            public long pollMs()
            {
                return 50;
            }
        };
    }

    /**
     * What a run watches to know when everything that can finish has: a node's figures, read in-process or from a
     * cluster leader's counters.
     */
    interface Watched
    {
        /** The figures now; null when none can be read (no leader). */
        Figures read();

        /** How often the figures change: the run reads them no more often. */
        long pollMs();
    }

    /**
     * Sessions pending, ready or in flight, and dead, summed over destinations; {@code exact}: they are the state's
     * at the node's applied index, nothing applied since they were summed.
     */
    record Figures(long unfinished, long dead, boolean exact)
    {
    }

    static String aeronDirectory()
    {
        final Path shm = Path.of("/dev/shm");
        final Path base = Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return base.resolve("reprise-demo-" + ProcessHandle.current().pid()).toString();
    }

    private static void reportStart(final List<String> steps, final PrintStream out)
    {
        synchronized (steps)
        {
            final boolean restarted = steps.stream().anyMatch((s) -> s.startsWith("data-directory-found"));
            for (final String step : steps)
            {
                if (restarted && (step.startsWith("snapshot-") || step.startsWith("journal-")))
                {
                    out.println("  restarted: " + step);
                }
            }
            out.println(restarted ? "  restarted from the data directory (seed start-up: catalog, snapshot, " +
                "journal replay)" : "  new data directory initialised");
        }
    }

    /** After shutdown, every session this run saved is looked up in the node's final state. */
    private static boolean account(final Plan plan, final Run run, final RepriseNode node, final PrintStream out)
    {
        return account(plan, run, node.node().logic().sessions(), out);
    }

    /** Every session the run saved, looked up in {@code table}: a final state. */
    static boolean account(final Plan plan, final Run run, final SessionTable table, final PrintStream out)
    {
        for (int i = 0; i < plan.sessions; i++)
        {
            if (plan.saved.get(i) == 0)
            {
                continue;
            }
            final int record = table.find(plan.tenant(i), plan.sessionId(i));
            final int status = record == SessionTable.NULL ? 0 : table.status(record);
            plan.count(status);
        }
        out.println("  controllers: saves acked=" + plan.savedCount() + " re-sent after back-pressure=" +
            run.resent.get() + " cancels=" + run.cancelled.get() + " (too late, already finished: " +
            run.cancelsTooLate.get() + ") redriven=" + run.redriven.get() + " unexpected results=" +
            run.unexpected.get());
        out.println("  workers: attempts=" + run.attempts.get() + " retries asked=" + run.retries.get() +
            " failed for good=" + run.permanentFailures.get() + "; one worker died holding " + run.crashHeld.get() +
            " attempts, which came back after their " + LEASE_MS + " ms lease");
        out.println("  notices to controllers: completed=" + run.noticed[SessionStatus.COMPLETED.value()].get() +
            " dead=" + run.noticed[SessionStatus.DEAD.value()].get() + " cancelled=" +
            run.noticed[SessionStatus.CANCELLED.value()].get());
        return plan.lost() == 0 && run.unexpected.get() == 0;
    }

    /** The demo's tokens, as a node's token setting: each tenant's controllers and workers have their own. */
    static String tokens()
    {
        return TENANT_ONE + ":controller=" + CONTROLLER_TOKEN_ONE + "," + TENANT_ONE + ":worker=" + WORKER_TOKEN_ONE +
            "," + TENANT_TWO + ":controller=" + CONTROLLER_TOKEN_TWO + "," + TENANT_TWO + ":worker=" + WORKER_TOKEN_TWO;
    }

    static void deleteRecursively(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (var paths = Files.walk(dir))
        {
            for (final Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Which session goes where, decided by its number alone; and what became of each. */
    static final class Plan
    {
        final int sessions;
        final long idBase;
        final AtomicLongArray saved;
        final long[] byStatus = new long[SessionStatus.DEAD.value() + 1];

        Plan(final int sessions, final long idBase)
        {
            this.sessions = sessions;
            this.idBase = idBase;
            this.saved = new AtomicLongArray(sessions);
        }

        int tenant(final int i)
        {
            return i % 5 == 4 ? TENANT_TWO : TENANT_ONE;
        }

        long sessionId(final int i)
        {
            return idBase + i;
        }

        int destination(final int i)
        {
            return tenant(i) == TENANT_ONE ? TENANT_ONE_DESTINATIONS[(i / 5 + i) % 4] :
                TENANT_TWO_DESTINATIONS[(i / 5) % 2];
        }

        /** One in a hundred is due in an hour: still pending when the demo ends. */
        boolean longDelay(final int i)
        {
            return i % 100 == 7;
        }

        boolean cancelled(final int i)
        {
            return i % 50 == 3;
        }

        SessionPolicy policy(final int i, final SessionPolicy policy)
        {
            return policy.initialDelayMs(longDelay(i) ? 3_600_000 : (i * 7919L) % 2_000).backoffInitialMs(50)
                .backoffMaxMs(500).backoffMultiplierPermille(2_000).jitterPermille(100).maxAttempts(4)
                .leaseMs(LEASE_MS).ttlMs(0);
        }

        void count(final int status)
        {
            byStatus[status]++;
        }

        long savedCount()
        {
            long count = 0;
            for (int i = 0; i < sessions; i++)
            {
                count += saved.get(i);
            }
            return count;
        }

        long pending()
        {
            return byStatus[SessionStatus.PENDING.value()] + byStatus[SessionStatus.READY.value()] +
                byStatus[SessionStatus.IN_FLIGHT.value()];
        }

        long lost()
        {
            return savedCount() - byStatus[SessionStatus.COMPLETED.value()] - byStatus[SessionStatus.DEAD.value()] -
                byStatus[SessionStatus.CANCELLED.value()] - pending();
        }

        String summaryLine()
        {
            return "demo: saved=" + savedCount() + " completed=" + byStatus[SessionStatus.COMPLETED.value()] +
                " dead=" + byStatus[SessionStatus.DEAD.value()] + " cancelled=" +
                byStatus[SessionStatus.CANCELLED.value()] + " pending=" + pending() + " lost=" + lost();
        }
    }

    /** The controllers' and workers' threads of one run. */
    static final class Run
    {
        final Plan plan;
        /** A new context with where the node or cluster is; the run adds who each client is. */
        final java.util.function.Supplier<ClientContext> where;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong resent = new AtomicLong();
        final AtomicLong cancelled = new AtomicLong();
        final AtomicLong cancelsTooLate = new AtomicLong();
        final AtomicLong redriven = new AtomicLong();
        final AtomicLong unexpected = new AtomicLong();
        final AtomicLong attempts = new AtomicLong();
        final AtomicLong retries = new AtomicLong();
        final AtomicLong permanentFailures = new AtomicLong();
        final AtomicLong crashHeld = new AtomicLong();
        final AtomicLong[] noticed = new AtomicLong[SessionStatus.DEAD.value() + 1];
        final AtomicLong controllersDone = new AtomicLong();
        final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

        Run(final Plan plan, final java.util.function.Supplier<ClientContext> where)
        {
            this.plan = plan;
            this.where = where;
            for (int i = 0; i < noticed.length; i++)
            {
                noticed[i] = new AtomicLong();
            }
        }

        ClientContext controllerContext(final int tenant)
        {
            return where.get().tenant(tenant)
                .token(tenant == TENANT_ONE ? CONTROLLER_TOKEN_ONE : CONTROLLER_TOKEN_TWO).responseTimeoutMs(30_000);
        }

        ClientContext workerContext(final int tenant)
        {
            return where.get().tenant(tenant)
                .token(tenant == TENANT_ONE ? WORKER_TOKEN_ONE : WORKER_TOKEN_TWO).responseTimeoutMs(30_000);
        }

        void execute(final Watched node, final PrintStream out)
        {
            // Sessions of earlier runs on the same DIR that are still unfinished (those due in an hour) stay so.
            final long unfinishedAtStart = awaitFigures(node).unfinished();
            final List<Thread> threads = new ArrayList<>();
            threads.add(thread("controller-1", () -> control(TENANT_ONE, out)));
            threads.add(thread("controller-2", () -> control(TENANT_TWO, out)));
            threads.add(thread("worker-1a", () -> work(TENANT_ONE, TENANT_ONE_DESTINATIONS, true)));
            threads.add(thread("worker-1b", () -> work(TENANT_ONE, TENANT_ONE_DESTINATIONS, false)));
            threads.add(thread("worker-2", () -> work(TENANT_TWO, TENANT_TWO_DESTINATIONS, false)));
            threads.forEach(Thread::start);

            if (awaitDrained(node, unfinishedAtStart, out))
            {
                // Dead letters of the hardest destination get a second life, and the demo waits for them too.
                try (RepriseClient admin = connect(controllerContext(TENANT_ONE), (c, t, r, v) -> { }))
                {
                    if (admin.redriveDestinationAndAwait(3, 1_000) == ResultCode.OK)
                    {
                        redriven.set(admin.awaitedValue());
                    }
                    else
                    {
                        unexpected.incrementAndGet();
                    }
                }
                awaitDrained(node, unfinishedAtStart, out);
            }
            stop.set(true);
            for (final Thread thread : threads)
            {
                try
                {
                    thread.join(30_000);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
            if (!failures.isEmpty())
            {
                throw new IllegalStateException("demo thread failed", failures.get(0));
            }
        }

        private Figures awaitFigures(final Watched node)
        {
            final long deadlineMs = System.currentTimeMillis() + DRAIN_TIMEOUT_MS;
            Figures figures;
            while (null == (figures = node.read()) || !figures.exact())
            {
                if (System.currentTimeMillis() > deadlineMs)
                {
                    throw new IllegalStateException("no exact figures within " + DRAIN_TIMEOUT_MS + " ms: " + figures);
                }
                sleep(node.pollMs());
            }
            return figures;
        }

        /**
         * Waits until every session that can finish has: all saved, and only the long-delayed ones unfinished, by
         * figures that are the state's (nothing applied since they were summed), three polls in a row. Gives up, and
         * says so, after {@link #DRAIN_TIMEOUT_MS}.
         */
        private boolean awaitDrained(final Watched node, final long unfinishedAtStart, final PrintStream out)
        {
            final long longDelayed = countLongDelayed();
            final long startMs = System.currentTimeMillis();
            long lastReportMs = startMs;
            int drainedPolls = 0;
            Figures figures = null;
            while (System.currentTimeMillis() - startMs < DRAIN_TIMEOUT_MS && failures.isEmpty())
            {
                figures = node.read();
                drainedPolls = null != figures && figures.exact() && controllersDone.get() == 2 &&
                    figures.unfinished() <= unfinishedAtStart + longDelayed ? drainedPolls + 1 : 0;
                if (drainedPolls == 3)
                {
                    return true;
                }
                if (System.currentTimeMillis() - lastReportMs >= 5_000)
                {
                    lastReportMs = System.currentTimeMillis();
                    out.println("  ... saved=" + plan.savedCount() + " attempts=" + attempts.get() + " " +
                        (null == figures ? "no leader" : "unfinished=" + figures.unfinished() + " dead=" +
                        figures.dead()));
                }
                sleep(node.pollMs());
            }
            if (failures.isEmpty())
            {
                out.println("  gave up waiting for the sessions to drain after " + DRAIN_TIMEOUT_MS + " ms: saved=" +
                    plan.savedCount() + " " + figures);
            }
            return false;
        }

        private long countLongDelayed()
        {
            long count = 0;
            for (int i = 0; i < plan.sessions; i++)
            {
                count += plan.longDelay(i) ? 1 : 0;
            }
            return count;
        }

        private Thread thread(final String name, final Runnable body)
        {
            final Thread thread = new Thread(() ->
            {
                try
                {
                    body.run();
                }
                catch (final Throwable ex)
                {
                    failures.add(ex);
                }
            }, "demo-" + name);
            thread.setDaemon(true);
            return thread;
        }

        /** Saves this tenant's sessions through a window of outstanding saves, cancels some, redrives once. */
        private void control(final int tenant, final PrintStream out)
        {
            final Long2LongHashMap saveOf = new Long2LongHashMap(-1);
            final Long2LongHashMap cancelOf = new Long2LongHashMap(-1);
            final List<Integer> toSend = new ArrayList<>();
            for (int i = 0; i < plan.sessions; i++)
            {
                if (plan.tenant(i) == tenant)
                {
                    toSend.add(i);
                }
            }
            final java.util.ArrayDeque<Integer> resend = new java.util.ArrayDeque<>();
            final java.util.ArrayDeque<Integer> toCancel = new java.util.ArrayDeque<>();
            final org.agrona.collections.IntHashSet resentAfterClose = new org.agrona.collections.IntHashSet();
            final RepriseClient.Listener listener = new RepriseClient.Listener()
            {
                public void onResponse(final long correlationId, final int templateId, final ResultCode code,
                    final long value)
                {
                    if (templateId == SaveSessionDecoder.TEMPLATE_ID)
                    {
                        final int i = (int)saveOf.remove(correlationId);
                        if (i < 0)
                        {
                            return;
                        }
                        // After a lost connection a save is sent again: if the first one was applied, this one
                        // finds it (DUPLICATE_SESSION), and that is its answer.
                        if (code == ResultCode.OK || (code == ResultCode.DUPLICATE_SESSION && resentAfterClose.remove(i)))
                        {
                            plan.saved.set(i, 1);
                            if (plan.cancelled(i))
                            {
                                toCancel.add(i);
                            }
                        }
                        else if (code == ResultCode.BACK_PRESSURE || code == ResultCode.NOT_LEADER)
                        {
                            // Not taken (a full ring, or a member that no longer leads): send it again.
                            resent.incrementAndGet();
                            resend.add(i);
                        }
                        else
                        {
                            unexpected.incrementAndGet();
                        }
                    }
                    else if (templateId == CancelSessionDecoder.TEMPLATE_ID && cancelOf.remove(correlationId) >= 0)
                    {
                        if (code == ResultCode.OK)
                        {
                            cancelled.incrementAndGet();
                        }
                        else if (code == ResultCode.SESSION_FINISHED)
                        {
                            cancelsTooLate.incrementAndGet();
                        }
                        else
                        {
                            unexpected.incrementAndGet();
                        }
                    }
                }

                public void onSessionFinished(final long sessionId, final int destination,
                    final SessionStatus status, final int attempt, final int errorCode)
                {
                    noticed[status.value()].incrementAndGet();
                }

                /** What was waiting for an answer gets none now: send it again on the next connection. */
                public void onConnectionClosed(final ResultCode reason, final String detail)
                {
                    saveOf.longForEach((correlationId, i) ->
                    {
                        resend.add((int)i);
                        resentAfterClose.add((int)i);
                    });
                    saveOf.clear();
                    cancelOf.longForEach((correlationId, i) -> toCancel.add((int)i));
                    cancelOf.clear();
                }
            };
            try (RepriseClient client = connect(controllerContext(tenant), listener))
            {
                final SessionPolicy policy = new SessionPolicy();
                int next = 0;
                while (!stop.get() && (next < toSend.size() || !resend.isEmpty() || !saveOf.isEmpty() ||
                    !toCancel.isEmpty() || !cancelOf.isEmpty()))
                {
                    int work = poll(client);
                    while (saveOf.size() + cancelOf.size() < WINDOW && (!resend.isEmpty() || next < toSend.size()))
                    {
                        final int i = resend.isEmpty() ? toSend.get(next) : resend.peek();
                        final long correlationId = client.save(plan.sessionId(i), plan.destination(i),
                            plan.policy(i, policy), PAYLOAD, 0, PAYLOAD.capacity());
                        if (correlationId < 0)
                        {
                            break;
                        }
                        saveOf.put(correlationId, i);
                        if (resend.isEmpty())
                        {
                            next++;
                        }
                        else
                        {
                            resend.poll();
                        }
                        work++;
                    }
                    while (!toCancel.isEmpty())
                    {
                        final int i = toCancel.peek();
                        final long correlationId = client.cancel(plan.sessionId(i));
                        if (correlationId < 0)
                        {
                            break;
                        }
                        cancelOf.put(correlationId, i);
                        toCancel.poll();
                    }
                    if (work == 0)
                    {
                        Thread.onSpinWait();
                    }
                }
                controllersDone.incrementAndGet();
                while (!stop.get())
                {
                    if (poll(client) == 0)
                    {
                        sleep(1);
                    }
                }
            }
        }

        /**
         * Connects, trying again while no node takes clients: a cluster between two leaders, or a member that just
         * stopped leading.
         */
        private RepriseClient connect(final ClientContext context, final RepriseClient.Listener listener)
        {
            while (true)
            {
                try
                {
                    return RepriseClient.connect(context, listener);
                }
                catch (final ConnectException ex)
                {
                    if (stop.get())
                    {
                        throw ex;
                    }
                    sleep(RETRY_MS);
                }
            }
        }

        /** Polls; a failed attempt to connect again is tried again at the next poll, after the client's backoff. */
        private static int poll(final RepriseClient client)
        {
            try
            {
                return client.poll();
            }
            catch (final ConnectException ex)
            {
                sleep(RETRY_MS);
                return 0;
            }
        }

        /** Serves the destinations; the crashing worker dies once, and a new one takes its place. */
        private void work(final int tenant, final int[] destinations, final boolean crashes)
        {
            boolean crashPending = crashes;
            while (!stop.get())
            {
                final long[] handled = new long[1];
                final boolean[] dying = new boolean[1];
                // No node to take the worker (a failover under way): it connects again; the attempts it held come
                // back after their leases, or are reported to the new leader by the next worker that gets them.
                try (RepriseWorker worker = RepriseWorker.connect(workerContext(tenant), destinations, HANDS, null))
                {
                    final boolean mayCrash = crashPending;
                    final RepriseWorker.AttemptHandler handler = (t, sessionId, destination, attempt, lease, handle,
                        payload, offset, length) ->
                    {
                        attempts.incrementAndGet();
                        if (mayCrash && ++handled[0] >= ATTEMPTS_BEFORE_CRASH)
                        {
                            dying[0] = true;
                            crashHeld.incrementAndGet();
                            return; // never reported: it dies with this attempt in hand
                        }
                        final Outcome outcome = outcome(destination);
                        // Only back-pressure passes: a connection the node closed (too slow, or silent while this
                        // thread was starved) is made again by the next poll, and this attempt returns after its lease.
                        while (worker.report(sessionId, destination, attempt, handle, outcome,
                            outcome == Outcome.SUCCEEDED ? 200 : 503, 0) == RepriseClient.BACK_PRESSURED &&
                            !stop.get())
                        {
                            Thread.onSpinWait();
                        }
                    };
                    while (!stop.get() && !dying[0])
                    {
                        if (worker.poll(handler) == 0)
                        {
                            Thread.onSpinWait();
                        }
                    }
                    if (dying[0])
                    {
                        // Whatever else arrived before the end is held too.
                        worker.poll((t, s, d, a, l, h, p, o, n) -> crashHeld.incrementAndGet());
                        crashPending = false;
                    }
                }
                catch (final ConnectException ex)
                {
                    sleep(RETRY_MS);
                }
            }
        }

        private Outcome outcome(final int destination)
        {
            final int roll = ThreadLocalRandom.current().nextInt(1000);
            if (destination == 4 && roll < PERMANENT_FAILURE_PERMILLE_4)
            {
                permanentFailures.incrementAndGet();
                return Outcome.FAILED_PERMANENTLY;
            }
            if (roll < RETRY_PERMILLE[destination])
            {
                retries.incrementAndGet();
                return Outcome.RETRY;
            }
            return Outcome.SUCCEEDED;
        }

        private static void sleep(final long ms)
        {
            try
            {
                Thread.sleep(ms);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
