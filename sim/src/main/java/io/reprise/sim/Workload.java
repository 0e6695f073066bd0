package io.reprise.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeAssembly;
import io.reprise.engine.repeat.WorkerLink;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The simulated users of a node: a controller per tenant that saves sessions (every policy shape), cancels and
 * redrives them, and workers that take attempts and report success, retry with and without Retry-After, permanent
 * failure, report too late, never report, or die holding attempts. Every choice comes from the run's seed.
 * <p>
 * Operators are encoded here and offered as bytes, so the checker knows exactly what each answered index must hold.
 */
final class Workload implements WorkerLink
{
    static final int TENANTS = 2;
    static final int DESTINATIONS = 3;
    private static final int WORKERS_PER_TENANT = 2;
    /** Sessions not yet ended, above which controllers stop saving: the node's tables stay small. */
    private static final int MAX_LIVE_SESSIONS = 400;

    private final Random random;
    private final VirtualClock clock;
    private final Checker checker;
    private final TreeMap<Long, SessionModel> sessions;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[256]);
    private final List<Worker> workers = new ArrayList<>();
    private final long[] nextSessionId = new long[TENANTS + 1];
    private final Controller[] controllers = new Controller[TENANTS + 1];
    private NodeAssembly node;
    private long nextWorkerId = 1;
    /** How many times the users connected to a node: answers on the connections of an earlier one are not heard. */
    private long connections;
    private long operatorsOffered;
    private boolean quiet;

    Workload(final Random random, final VirtualClock clock, final Checker checker,
        final TreeMap<Long, SessionModel> sessions)
    {
        this.random = random;
        this.clock = clock;
        this.checker = checker;
        this.sessions = sessions;
        for (int tenant = 1; tenant <= TENANTS; tenant++)
        {
            for (int i = 0; i < WORKERS_PER_TENANT; i++)
            {
                // One worker of each tenant serves every destination, so every session has a worker.
                workers.add(new Worker(tenant, i == 0));
            }
        }
    }

    long operatorsOffered()
    {
        return operatorsOffered;
    }

    /**
     * A node (re)started: its clients connect anew, and live workers join it. Whatever was waiting for an answer from
     * the node before is forgotten: a client of a crashed node never hears back.
     */
    void connect(final NodeAssembly node)
    {
        connect(node, false);
    }

    /**
     * Another member of a cluster leads now: the users connect to it. Workers go on with the attempts they hold, as
     * real ones do with their jobs, and report them to the new leader: a lease lives in the replicated state, so a
     * report of an attempt still in its lease must be taken there (the checker's {@code in-lease-report-refused}).
     * They join it serving the destinations they served.
     */
    void follow(final NodeAssembly node)
    {
        connect(node, true);
    }

    private void connect(final NodeAssembly node, final boolean keepAttempts)
    {
        this.node = node;
        connections++;
        for (int tenant = 1; tenant <= TENANTS; tenant++)
        {
            controllers[tenant] = new Controller(tenant);
        }
        for (final Worker worker : workers)
        {
            // A node the users left answers nothing it had not answered.
            if (!keepAttempts)
            {
                worker.held.clear();
                worker.destinations = null;
            }
            worker.reports.clear();
            worker.client = null;
            if (worker.alive)
            {
                worker.join();
            }
        }
    }

    /** The node stops serving these users (another member leads now): its live workers leave it. */
    void disconnect()
    {
        for (final Worker worker : workers)
        {
            if (worker.alive && null != worker.client)
            {
                node.workerLeft(worker.id);
            }
        }
    }

    /** From now on: no new work, no deaths, and every worker reports success soon. */
    void quiet()
    {
        quiet = true;
        for (final Worker worker : workers)
        {
            if (!worker.alive)
            {
                worker.alive = true;
                worker.join();
            }
            for (final Held held : worker.held)
            {
                held.plan = Plan.SUCCEED;
                held.reportAtNs = clock.nanoTime();
            }
        }
    }

    /** One action of one user, chosen by the seed. */
    void act(final boolean workerDeaths)
    {
        final int pick = random.nextInt(10);
        if (pick < 4 && !quiet)
        {
            controllers[1 + random.nextInt(TENANTS)].act();
        }
        else
        {
            final Worker worker = workers.get(random.nextInt(workers.size()));
            if (!quiet && workerDeaths && worker.alive && random.nextInt(400) == 0)
            {
                worker.die();
            }
            else if (!worker.alive && random.nextInt(20) == 0)
            {
                worker.alive = true;
                worker.join();
            }
            else if (worker.alive)
            {
                worker.work();
            }
        }
    }

    /** The repeat process hands an attempt to a worker. */
    public boolean dispatch(
        final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int payloadOffset,
        final int payloadLength)
    {
        for (final Worker worker : workers)
        {
            if (worker.id == workerId)
            {
                if (!worker.alive || worker.tenant != tenant)
                {
                    return false;
                }
                final SessionModel session = sessions.get(SessionModel.key(tenant, sessionId));
                if (null == session)
                {
                    checker.fail("dispatch-of-unknown-session", tenant + ":" + sessionId + " attempt " + attempt);
                    return true;
                }
                worker.take(session, attempt, handle, leaseExpiresAtMs);
                return true;
            }
        }
        return false;
    }

    private ResultCode offer(final InProcessClient client, final int length)
    {
        final ResultCode code = client.offer(frame, 0, length);
        if (code == ResultCode.OK)
        {
            operatorsOffered++;
        }
        return code;
    }

    private SessionPolicy randomPolicy()
    {
        final SessionPolicy policy = new SessionPolicy()
            .backoffInitialMs(1 + random.nextInt(400))
            .backoffMultiplierPermille(1000 + random.nextInt(2000))
            .jitterPermille(random.nextInt(3) == 0 ? 0 : random.nextInt(500))
            .maxAttempts(1 + random.nextInt(6))
            .leaseMs(100 + random.nextInt(2000));
        policy.backoffMaxMs(policy.backoffInitialMs() + random.nextInt(3000));
        switch (random.nextInt(4))
        {
            case 0:
                policy.initialDelayMs(random.nextInt(2000));
                break;
            case 1:
                policy.dueAtMs(clock.time() + random.nextInt(3000) - 500);
                break;
            default:
                break;
        }
        if (random.nextInt(4) == 0)
        {
            policy.ttlMs(1000 + random.nextInt(20_000));
        }
        return policy;
    }

    /** What a worker will do with an attempt it holds. */
    private enum Plan
    {
        SUCCEED, RETRY, RETRY_AFTER, FAIL_PERMANENTLY, REPORT_LATE, NEVER_REPORT
    }

    private static final class Held
    {
        final SessionModel session;
        final int attempt;
        final int handle;
        Plan plan;
        long reportAtNs;

        Held(final SessionModel session, final int attempt, final int handle)
        {
            this.session = session;
            this.attempt = attempt;
            this.handle = handle;
        }
    }

    /** A report a worker sent, until its answer. */
    private record Report(Held held, boolean retry, long retryAfterMs, int checksum)
    {
    }

    private final class Controller
    {
        final int tenant;
        final InProcessClient client;
        long correlationId;

        Controller(final int tenant)
        {
            this.tenant = tenant;
            this.client = node.newClient(tenant, this::onResponse);
        }

        /** Answers for a controller: correlation id to what it asked. */
        private final TreeMap<Long, Asked> asked = new TreeMap<>();

        void act()
        {
            final int pick = random.nextInt(20);
            if (pick < 14)
            {
                save();
            }
            else if (pick < 17)
            {
                final SessionModel session = anySession();
                if (null != session)
                {
                    send(Asked.CANCEL, session, encoder.cancelSession(frame, 0, client.clientId(), correlationId + 1,
                        tenant, session.sessionId));
                }
            }
            else
            {
                final SessionModel session = anySession();
                if (null != session)
                {
                    send(Asked.REDRIVE, session, encoder.redriveSession(frame, 0, client.clientId(),
                        correlationId + 1, tenant, session.sessionId));
                }
            }
        }

        private void save()
        {
            long live = 0;
            for (final SessionModel session : sessions.values())
            {
                if (session.finishedStatus == 0 && live++ > MAX_LIVE_SESSIONS)
                {
                    return;
                }
            }
            final boolean duplicate = random.nextInt(50) == 0 && nextSessionId[tenant] > 0;
            final long sessionId = duplicate ? 1 + random.nextInt((int)nextSessionId[tenant]) : ++nextSessionId[tenant];
            SessionModel session = sessions.get(SessionModel.key(tenant, sessionId));
            if (null == session)
            {
                session = new SessionModel(tenant, sessionId, 1 + random.nextInt(DESTINATIONS), randomPolicy());
                sessions.put(session.key(), session);
            }
            final int length = 8 + random.nextInt(120);
            payload.putLong(0, session.key());
            send(Asked.SAVE, session, encoder.saveSession(frame, 0, client.clientId(), correlationId + 1, tenant,
                sessionId, session.destination, session.policy, payload, 0, length));
        }

        private SessionModel anySession()
        {
            if (nextSessionId[tenant] == 0)
            {
                return null;
            }
            return sessions.get(SessionModel.key(tenant, 1 + random.nextInt((int)nextSessionId[tenant])));
        }

        private void send(final Asked what, final SessionModel session, final int length)
        {
            final int checksum = checker.checksum(frame, 0, length);
            if (offer(client, length) == ResultCode.OK)
            {
                correlationId++;
                asked.put(correlationId, what.about(session, checksum));
                if (what.kind == Asked.SAVE.kind)
                {
                    checker.expect(client.clientId(), correlationId, (code) -> checker.onSaveApplied(session, code));
                }
                else if (what.kind == Asked.REDRIVE.kind)
                {
                    checker.expect(client.clientId(), correlationId,
                        (code) -> checker.onRedriveApplied(session, code));
                }
            }
        }

        private void onResponse(
            final long index, final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            final Asked what = asked.remove(correlationId);
            if (null == what)
            {
                checker.fail("one-answer-per-operator", "controller " + tenant + " got an answer to correlation " +
                    correlationId + ", which it is not waiting for");
                return;
            }
            checker.answered(index, what.checksum);
            if (what.kind == Asked.SAVE.kind && code == ResultCode.OK)
            {
                what.session.acknowledged = true;
            }
        }
    }

    /** What an operator asked, for its answer. */
    private static final class Asked
    {
        static final Asked SAVE = new Asked(0, null, 0);
        static final Asked CANCEL = new Asked(1, null, 0);
        static final Asked REDRIVE = new Asked(2, null, 0);

        final int kind;
        final SessionModel session;
        final int checksum;

        Asked(final int kind, final SessionModel session, final int checksum)
        {
            this.kind = kind;
            this.session = session;
            this.checksum = checksum;
        }

        Asked about(final SessionModel session, final int checksum)
        {
            return new Asked(kind, session, checksum);
        }
    }

    private final class Worker
    {
        final int tenant;
        final boolean servesAll;
        final ArrayDeque<Held> held = new ArrayDeque<>();
        /** Reports sent, by correlation id. */
        final TreeMap<Long, Report> reports = new TreeMap<>();
        InProcessClient client;
        /** The destinations it serves, chosen when it first joins a node. */
        int[] destinations;
        long id;
        boolean alive = true;
        long correlationId;

        Worker(final int tenant, final boolean servesAll)
        {
            this.tenant = tenant;
            this.servesAll = servesAll;
        }

        void join()
        {
            id = nextWorkerId++;
            // Reports sent before on this node may still be answered, on the connection they went out on; but not
            // after the users connected anew (in a cluster the member they left answers nobody: those connections
            // closed, even if they come back to it later).
            final long joinedIn = connections;
            client = node.newClient(tenant, (index, correlation, template, code, value) ->
            {
                if (joinedIn == connections)
                {
                    onResponse(index, correlation, template, code, value);
                }
            });
            if (null == destinations)
            {
                destinations = !servesAll && random.nextInt(3) == 0 ?
                    new int[] {1 + random.nextInt(DESTINATIONS)} : new int[] {1, 2, 3};
            }
            node.workerJoined(id, tenant, destinations, 1 + random.nextInt(8));
        }

        void die()
        {
            alive = false;
            held.clear();
            node.workerLeft(id);
        }

        void take(final SessionModel session, final int attempt, final int handle, final long leaseExpiresAtMs)
        {
            final Held attemptHeld = new Held(session, attempt, handle);
            final long leaseNs = Math.max(0, leaseExpiresAtMs - clock.time()) * 1_000_000L;
            final int pick = random.nextInt(100);
            attemptHeld.plan = quiet ? Plan.SUCCEED : pick < 55 ? Plan.SUCCEED : pick < 68 ? Plan.RETRY :
                pick < 78 ? Plan.RETRY_AFTER : pick < 83 ? Plan.FAIL_PERMANENTLY : pick < 93 ? Plan.REPORT_LATE :
                Plan.NEVER_REPORT;
            attemptHeld.reportAtNs = clock.nanoTime() + (attemptHeld.plan == Plan.REPORT_LATE ?
                leaseNs + 1_000_000L * (1 + random.nextInt(1000)) : (long)(random.nextDouble() * leaseNs * 0.8));
            held.add(attemptHeld);
        }

        void work()
        {
            final Held next = held.peek();
            if (null == next || next.reportAtNs > clock.nanoTime())
            {
                return;
            }
            held.poll();
            if (next.plan == Plan.NEVER_REPORT)
            {
                return;
            }
            final Outcome outcome;
            long retryAfterMs = 0;
            switch (next.plan)
            {
                case RETRY:
                    outcome = Outcome.RETRY;
                    break;
                case RETRY_AFTER:
                    outcome = Outcome.RETRY;
                    retryAfterMs = 1 + random.nextInt(2000);
                    break;
                case FAIL_PERMANENTLY:
                    outcome = Outcome.FAILED_PERMANENTLY;
                    break;
                default:
                    outcome = random.nextInt(20) == 0 && !quiet ? Outcome.RETRY : Outcome.SUCCEEDED;
                    break;
            }
            final int length = encoder.reportOutcome(frame, 0, client.clientId(), correlationId + 1, tenant,
                next.session.sessionId, next.session.destination, next.attempt, next.handle, outcome,
                outcome == Outcome.SUCCEEDED ? 0 : 500 + random.nextInt(10), retryAfterMs, frame, 0, 0);
            final int checksum = checker.checksum(frame, 0, length);
            if (offer(client, length) == ResultCode.OK)
            {
                correlationId++;
                final Report report = new Report(next, outcome == Outcome.RETRY, retryAfterMs, checksum);
                reports.put(correlationId, report);
                checker.expect(client.clientId(), correlationId, (code) -> checker.onReportApplied(
                    report.held.session, report.held.attempt, code, report.retry, report.retryAfterMs));
            }
            else
            {
                held.addFirst(next);
            }
        }

        private void onResponse(
            final long index, final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            final Report report = reports.remove(correlationId);
            if (null == report)
            {
                checker.fail("one-answer-per-operator", "worker " + id + " got an answer to correlation " +
                    correlationId + ", which it is not waiting for");
                return;
            }
            checker.answered(index, report.checksum);
        }
    }
}
