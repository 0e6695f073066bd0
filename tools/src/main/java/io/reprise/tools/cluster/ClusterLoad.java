package io.reprise.tools.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongArrayQueue;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Load on a cluster as its users put it, from their own process: a controller saving sessions at a fixed rate and a
 * worker completing each attempt it is handed, both over UDP through a media driver of their own (a member's dies
 * with it), both following the leader from member to member. It records what the cluster acknowledged and when,
 * and every attempt it dispatched, so that a run can check that nothing acknowledged was lost, that no attempt of a
 * session was dispatched twice, and how long each failover kept saves from being acknowledged.
 * <p>
 * A save the controller got no answer for (its connection was lost, or the member stopped leading) is sent again on
 * the next connection; an answer {@code DUPLICATE_SESSION} to such a retry is its acknowledgement: the first one
 * was applied.
 */
public final class ClusterLoad implements AutoCloseable
{
    public static final int TENANT = 1;
    public static final int DESTINATION = 1;
    private static final int WINDOW = 512;
    private static final int HANDS = 128;
    private static final long LEASE_MS = 2_000;
    private static final long NOT_ACKED = 0;
    private static final SessionPolicy POLICY = new SessionPolicy().initialDelayMs(0).backoffInitialMs(50)
        .backoffMaxMs(500).backoffMultiplierPermille(2_000).maxAttempts(1_000).leaseMs(LEASE_MS).ttlMs(0);

    private final String aeronDir;
    private final String endpoints;
    private final String token;
    private final int ratePerSecond;
    private final long idBase;
    private final int payloadBytes;
    private final AtomicLongArray ackedAtNs;
    /** When each session's save was last sent (again, after a lost answer). */
    private final AtomicLongArray sentAtNs;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong retried = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong duplicateAttempts = new AtomicLong();
    /** The worker's reports to send: session id, then attempt and handle, for each attempt it was handed. */
    private final LongArrayQueue pendingReports = new LongArrayQueue();
    private volatile String lastRefusal = "";
    /** A failover being timed: from when, and the first acknowledgement of a save sent after it (0: none yet). */
    private volatile long watchFromNs = Long.MAX_VALUE;
    private volatile long firstAckAfterWatchNs;
    private volatile long lostAfterWatchNs;
    private volatile long reconnectedAfterWatchNs;
    private volatile boolean saving = true;
    private volatile boolean running = true;
    private MediaDriver driver;
    private Thread controller;
    private Thread worker;

    /**
     * @param endpoints every member's client ingress, {@code HOST:PORT,...} in member id order.
     * @param maxSessions the most sessions a run saves: it stops saving there.
     * @param idBase the first session id: runs on one cluster must not share ids.
     * @param payloadBytes each session's payload: larger ones fill the journal sooner.
     */
    public ClusterLoad(
        final String endpoints, final String token, final int ratePerSecond, final int maxSessions, final long idBase,
        final int payloadBytes)
    {
        this.payloadBytes = payloadBytes;
        this.endpoints = endpoints;
        this.token = token;
        this.ratePerSecond = ratePerSecond;
        this.idBase = idBase;
        this.ackedAtNs = new AtomicLongArray(maxSessions);
        this.sentAtNs = new AtomicLongArray(maxSessions);
        final Path shm = Path.of("/dev/shm");
        aeronDir = (Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
            .resolve("reprise-cluster-load-" + ProcessHandle.current().pid() + "-" + System.nanoTime()).toString();
    }

    /** Starts the clients' media driver, the controller and the worker. */
    public ClusterLoad start()
    {
        driver = MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new BackoffIdleStrategy(10, 20, 1_000, 1_000_000))
            // A client of a cluster learns that its member died when its ingress publication loses the member's
            // status messages (every 200 ms): after 1 s here, not Aeron's default 5 s (docs/client.md).
            .publicationConnectionTimeoutNs(ClientContext.CLUSTER_PUBLICATION_CONNECTION_TIMEOUT_NS)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .termBufferSparseFile(true));
        controller = new Thread(this::control, "cluster-load-controller");
        worker = new Thread(this::work, "cluster-load-worker");
        controller.setDaemon(true);
        worker.setDaemon(true);
        controller.start();
        worker.start();
        return this;
    }

    private ClientContext clientContext()
    {
        return new ClientContext().aeronDirectoryName(aeronDir).ingressEndpoints(endpoints).token(token)
            .tenant(TENANT).responseChannel(ClientContext.UDP_RESPONSE_CHANNEL)
            .connectTimeoutMs(ClientContext.CLUSTER_CONNECT_TIMEOUT_MS);
    }

    // ------------------------------------------------------------------------------------------- the controller

    private void control()
    {
        final Long2LongHashMap sessionOf = new Long2LongHashMap(-1);
        final LongArrayQueue again = new LongArrayQueue();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[Math.max(8, payloadBytes)]);
        final RepriseClient.Listener listener = new RepriseClient.Listener()
        {
            public void onResponse(final long correlationId, final int templateId, final ResultCode code,
                final long value)
            {
                final long session = sessionOf.remove(correlationId);
                if (session < 0)
                {
                    return;
                }
                if (code == ResultCode.OK || code == ResultCode.DUPLICATE_SESSION)
                {
                    final long nowNs = System.nanoTime();
                    if (ackedAtNs.compareAndSet((int)session, NOT_ACKED, nowNs))
                    {
                        acked.incrementAndGet();
                    }
                    if (firstAckAfterWatchNs == 0 && sentAtNs.get((int)session) - watchFromNs > 0)
                    {
                        firstAckAfterWatchNs = nowNs;
                    }
                }
                else if (code == ResultCode.NOT_LEADER || code == ResultCode.BACK_PRESSURE)
                {
                    again.addLong(session);
                }
                else
                {
                    refused.incrementAndGet();
                    lastRefusal = "session " + (idBase + session) + ": " + code;
                }
            }

            public void onConnectionClosed(final ResultCode reason, final String detail)
            {
                if (0 == lostAfterWatchNs)
                {
                    lostAfterWatchNs = System.nanoTime();
                }
            }
        };
        RepriseClient client = null;
        final long startNs = System.nanoTime();
        long next = 0;
        long reconnects = 0;
        while (running)
        {
            try
            {
                if (null == client)
                {
                    client = RepriseClient.connect(clientContext(), listener);
                    reconnects = client.reconnects();
                    resendAll(sessionOf, again);
                }
                client.poll();
                if (client.reconnects() != reconnects)
                {
                    if (0 == reconnectedAfterWatchNs && 0 != lostAfterWatchNs)
                    {
                        reconnectedAfterWatchNs = System.nanoTime();
                    }
                    // A new connection: no answer to what was sent on the last one will come.
                    reconnects = client.reconnects();
                    resendAll(sessionOf, again);
                }
                while (saving && sessionOf.size() < WINDOW)
                {
                    final long session;
                    if (!again.isEmpty())
                    {
                        session = again.peekLong();
                    }
                    else if (next < ackedAtNs.length() &&
                        System.nanoTime() - startNs >= next * 1_000_000_000L / ratePerSecond)
                    {
                        session = next;
                    }
                    else
                    {
                        break;
                    }
                    payload.putLong(0, idBase + session);
                    final long correlationId = client.save(idBase + session, DESTINATION, POLICY, payload, 0,
                        payload.capacity());
                    if (correlationId < 0)
                    {
                        break;
                    }
                    sessionOf.put(correlationId, session);
                    sentAtNs.set((int)session, System.nanoTime());
                    if (session == next)
                    {
                        next++;
                        sent.incrementAndGet();
                    }
                    else
                    {
                        again.pollLong();
                        retried.incrementAndGet();
                    }
                }
            }
            catch (final ConnectException ex)
            {
                // No member takes clients just now (an election, or the members are down): try again soon.
                LockSupport.parkNanos(10_000_000L);
            }
            LockSupport.parkNanos(100_000L);
        }
        CloseHelper.quietClose(client);
    }

    private static void resendAll(final Long2LongHashMap sessionOf, final LongArrayQueue again)
    {
        sessionOf.forEach((correlationId, session) -> again.addLong(session));
        sessionOf.clear();
    }

    // ------------------------------------------------------------------------------------------------ the worker

    private void work()
    {
        // The attempts of each session seen so far, as a bit set over attempt numbers 1..63.
        final Long2ObjectHashMap<long[]> attemptsOf = new Long2ObjectHashMap<>();
        final RepriseWorker.ReportListener reports = (correlationId, code, value) -> { };
        final RepriseWorker.AttemptHandler handler = (tenant, sessionId, destination, attempt, leaseExpiresAtMs,
            handle, payload, offset, length) ->
        {
            attempts.incrementAndGet();
            final long[] seen = attemptsOf.computeIfAbsent(sessionId, (id) -> new long[1]);
            final long bit = 1L << Math.min(attempt, 63);
            if ((seen[0] & bit) != 0)
            {
                duplicateAttempts.incrementAndGet();
            }
            seen[0] |= bit;
            pendingReports.addLong(sessionId);
            pendingReports.addLong(((long)attempt << 32) | (handle & 0xFFFF_FFFFL));
        };
        RepriseWorker worker = null;
        while (running)
        {
            try
            {
                if (null == worker)
                {
                    worker = RepriseWorker.connect(clientContext(), new int[] {DESTINATION}, HANDS, reports);
                }
                worker.poll(handler);
                while (!pendingReports.isEmpty())
                {
                    final long sessionId = pendingReports.pollLong();
                    final long attemptAndHandle = pendingReports.pollLong();
                    // A report that cannot go now is dropped: the attempt comes back, a number higher, after its lease.
                    worker.report(sessionId, DESTINATION, (int)(attemptAndHandle >>> 32), (int)attemptAndHandle,
                        Outcome.SUCCEEDED, 0, 0);
                }
            }
            catch (final ConnectException ex)
            {
                pendingReports.clear();
                LockSupport.parkNanos(10_000_000L);
            }
            LockSupport.parkNanos(100_000L);
        }
        CloseHelper.quietClose(worker);
    }

    // ------------------------------------------------------------------------------------------------- results

    /** Stops saving new sessions; saves not yet answered are still retried until {@link #close()}. */
    public void stopSaving()
    {
        saving = false;
    }

    /** Whether every save sent so far has been acknowledged. */
    public boolean allAcknowledged()
    {
        return acked.get() >= sent.get();
    }

    /**
     * Starts timing a failover that begins now ({@link System#nanoTime()}): {@link #firstAckAfterWatch()} then says
     * when the first save sent after it was acknowledged. (An answer of the old leader can still arrive just after
     * its kill; a save sent after the kill can only be committed by a new one.)
     *
     * @return the time the watch starts from.
     */
    public long watchFailover()
    {
        firstAckAfterWatchNs = 0;
        lostAfterWatchNs = 0;
        reconnectedAfterWatchNs = 0;
        final long nowNs = System.nanoTime();
        watchFromNs = nowNs;
        return nowNs;
    }

    /** When the controller's connection was first lost or closed after {@link #watchFailover()}, or 0. */
    public long connectionLostAfterWatch()
    {
        return lostAfterWatchNs;
    }

    /** When the controller was connected again after that, or 0. */
    public long reconnectedAfterWatch()
    {
        return reconnectedAfterWatchNs;
    }

    /** The first acknowledgement of a save sent after {@link #watchFailover()}, or 0 for none yet. */
    public long firstAckAfterWatch()
    {
        return firstAckAfterWatchNs;
    }

    /** The session ids the cluster acknowledged. */
    public long[] acknowledgedSessions()
    {
        final long count = Math.min(sent.get(), ackedAtNs.length());
        final long[] sessions = new long[(int)acked.get()];
        int n = 0;
        for (int i = 0; i < count && n < sessions.length; i++)
        {
            if (ackedAtNs.get(i) != NOT_ACKED)
            {
                sessions[n++] = idBase + i;
            }
        }
        return java.util.Arrays.copyOf(sessions, n);
    }

    public long sent()
    {
        return sent.get();
    }

    public long acked()
    {
        return acked.get();
    }

    /** Saves sent again after their answer was lost (a connection lost, a member that stopped leading). */
    public long retried()
    {
        return retried.get();
    }

    /** Saves answered with an error other than NOT_LEADER or BACK_PRESSURE: none is expected. */
    public long refused()
    {
        return refused.get();
    }

    public String lastRefusal()
    {
        return lastRefusal;
    }

    public long attempts()
    {
        return attempts.get();
    }

    /** Attempts handed to the worker with a session and attempt number it had been handed before. */
    public long duplicateAttempts()
    {
        return duplicateAttempts.get();
    }

    public String describe()
    {
        return "sent=" + sent() + " acked=" + acked() + " retried=" + retried() + " refused=" + refused() +
            (refused() == 0 ? "" : " (the last: " + lastRefusal() + ")") + " attempts=" + attempts() +
            " duplicate-attempts=" + duplicateAttempts();
    }

    public void close()
    {
        running = false;
        for (final Thread thread : new Thread[] {controller, worker})
        {
            if (null != thread)
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
        }
        CloseHelper.quietClose(driver);
    }
}
