package io.reprise.tools.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.tools.cli.Format;
import io.reprise.tools.data.CatalogView;
import io.reprise.tools.data.DataDirectory;
import io.reprise.tools.data.SessionStates;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code reprise demo --data-dir DIR}: the demo's simulated population ({@link DemoScenario}) against a real
 * {@link StandaloneNode} whose journal, snapshot catalog and snapshots live in DIR.
 * <p>
 * The node runs as in production (ring, journal with group commit, business-logic thread, time process,
 * snapshot agent) except for its clock: the demo injects a simulated {@link EpochClock}, so the node's own time
 * process proposes the {@code SetTime}s as the demo moves simulated time, and snapshots fall due on simulated
 * time too. Controllers and workers are {@link InProcessClient}s; the business logic's events arrive on its
 * thread through {@link NodeContext#outputObserver} and are handed to the demo's thread through a queue. Each
 * tick ends when everything offered in it, and the tick's SetTime, are applied.
 * <p>
 * A run on a DIR that holds a previous run's data starts the node the seed's way (catalog, snapshot, journal
 * replay), says what it restored, takes over the sessions it finds (they count as saved; attempts that were in
 * flight lost their workers with the previous process and wait for their leases to run out) and continues
 * simulated time from where the state left it. The business rules are the defaults ({@code reprise.rules.*}
 * properties), the same the diagnostic tools use, so they can read what the demo leaves.
 */
public final class NodeDemo
{
    /** Sessions a run saves when the command line does not say: each tick costs a journal sync. */
    public static final int DEFAULT_SESSIONS = 20_000;
    /** A tick every 250 ms of simulated time; saves over five minutes; a redrive at ten; twenty minutes a run. */
    static final DemoScenario.Timing TIMING = new DemoScenario.Timing(250, 5 * 60_000L, 10 * 60_000L,
        20 * 60_000L, 2 * 60_000L);
    /** Session ids index the demo's per-session arrays: this bounds what all runs on one DIR may save. */
    static final int MAX_SESSION_ID = 50_000_000;

    private static final long TICK_TIMEOUT_NS = 60_000_000_000L;

    private NodeDemo()
    {
    }

    /** Runs one demo on {@code dataDirectory} (created when missing) with the standard timing. */
    public static DemoResult run(final long seed, final int sessions, final Path dataDirectory, final PrintStream out)
        throws IOException
    {
        return run(seed, sessions, dataDirectory, TIMING, out);
    }

    static DemoResult run(
        final long seed, final int sessions, final Path dataDirectory, final DemoScenario.Timing timing,
        final PrintStream out) throws IOException
    {
        final long startedNs = System.nanoTime();
        out.println("reprise demo: seed=" + seed + " sessions=" + sessions + " data-dir=" + dataDirectory +
            "  (a node's threads decide how SetTime interleaves with the rest, so runs with one seed differ in " +
            "detail)");
        out.println("standalone node: journal, snapshot catalog and snapshots in " + dataDirectory + "; simulated " +
            "clock injected, SetTime from the node's time process; " + DemoScenario.PROFILES.length +
            " destinations, 3 tenants, saves over the first " + timing.savePhaseMs() / 60_000.0 + " min, " +
            timing.horizonMs() / 60_000.0 + " min in all, a tick every " + timing.tickMs() + " ms");

        // The clock starts where the newest snapshot left simulated time, so that neither the time process nor
        // the snapshot agent sees a clock behind the state when the node starts.
        final AtomicLong clock = new AtomicLong(DemoScenario.START_MS);
        final Path snapshots = dataDirectory.resolve(DataDirectory.SNAPSHOTS);
        if (Files.isDirectory(snapshots))
        {
            for (final SnapshotInfo info : CatalogView.read(snapshots).snapshots())
            {
                clock.accumulateAndGet(info.systemTimeMs(), Math::max);
            }
        }
        final Queue<Event> events = new ConcurrentLinkedQueue<>();
        final QueueingSink observer = new QueueingSink(events);
        final List<String> steps = Collections.synchronizedList(new ArrayList<>());
        final NodeContext context = new NodeContext()
            .dataDirectory(dataDirectory)
            .epochClock(clock::get)
            .timeHeartbeatMs(1) // every tick of simulated time gets its SetTime, which the tick waits for
            .outputObserver(observer)
            .lifecycleListener((step) ->
            {
                steps.add(step);
                if (step.startsWith("replay-progress"))
                {
                    out.println("  start-up: " + step); // the start-up replay, on this thread
                }
            });

        final DemoScenario scenario;
        final Engine engine;
        final long startIndex;
        try (StandaloneNode node = StandaloneNode.start(context))
        {
            observer.live();
            final BusinessLogic logic = node.logic();
            // Not logic.appliedIndex(): on a new directory the time process may already have applied a SetTime.
            startIndex = describeStart(dataDirectory, logic, steps, out);
            if (observer.replayed() > 0)
            {
                out.println("  the start-up replay re-emitted " + observer.replayed() + " outputs of operators the " +
                    "previous run already acted on: the demo does not act on them again");
            }
            final int firstSessionId = firstFreeSessionId(logic.sessions());
            if ((long)firstSessionId + sessions > MAX_SESSION_ID)
            {
                throw new ForeignDataException(dataDirectory + " holds session ids up to " + (firstSessionId - 1) +
                    ": another " + sessions + " would pass the demo's limit of " + MAX_SESSION_ID);
            }
            final long startMs = Math.max(DemoScenario.START_MS, logic.systemTimeMs());
            scenario = new DemoScenario(seed, sessions, firstSessionId, timing, startMs, out);
            scenario.adopt(logic);
            if (startIndex > 0)
            {
                final long orphaned = scenario.orphanedAttempts();
                out.println("  simulated time resumes at " + Format.time(startMs) + "; " + (orphaned == 0 ?
                    "no attempt was in flight" : orphaned + " attempts were in flight: their workers went with the " +
                    "previous run, their leases will run out"));
            }
            clock.set(startMs);
            engine = new Engine(node, clock, scenario, events);
            scenario.engine(engine);
            scenario.run();
        }

        final BusinessLogic logic = engine.logic();
        final DemoResult result = scenario.summarise(logic.appliedIndex() - startIndex);
        scenario.printSummary(result);
        long snapshotsTaken = 0;
        long segmentsDeleted = 0;
        String durable = "";
        synchronized (steps)
        {
            for (final String step : steps)
            {
                if (step.startsWith("snapshot-taken"))
                {
                    snapshotsTaken++;
                }
                else if (step.startsWith("rotated segments-deleted="))
                {
                    segmentsDeleted += Long.parseLong(step.split("[= ]")[2]);
                }
                else if (step.startsWith("flushed-and-synced"))
                {
                    durable = step.substring("flushed-and-synced ".length());
                }
            }
        }
        out.println("node: " + result.operatorsApplied() + " operators journaled and applied in this run (index " +
            (startIndex + 1) + ".." + logic.appliedIndex() + "); " + snapshotsTaken + " snapshots taken, " +
            segmentsDeleted + " journal segments rotated away; closed, " + durable + "; " +
            Journal.listSegments(new FileChannelDisk(),
            dataDirectory.resolve(DataDirectory.JOURNAL)).size() + " segment files; " +
            "the next run on this directory restarts from here");
        out.println("took " + (System.nanoTime() - startedNs) / 1_000_000 + " ms of real time for " +
            timing.horizonMs() / 60_000.0 + " min of simulated time");
        out.println(result.summaryLine());
        return result;
    }

    /**
     * What start-up found and did, from the node's lifecycle steps: a new directory, or a restart from snapshot
     * and journal.
     *
     * @return the index the state was restored to.
     */
    private static long describeStart(
        final Path dataDirectory, final BusinessLogic logic, final List<String> steps, final PrintStream out)
    {
        String snapshot = "no snapshot";
        long restoredIndex = 0;
        long replayedRecords = 0;
        final List<String> notes = new ArrayList<>();
        for (final String step : List.copyOf(steps))
        {
            if (step.startsWith("snapshot-restored "))
            {
                final String[] parts = step.split(" ");
                snapshot = "snapshot " + parts[2] + " (" + parts[1] + ")";
                restoredIndex = Long.parseLong(parts[2].substring("index=".length()));
            }
            else if (step.startsWith("journal-replayed "))
            {
                // "journal-replayed records=N to index=M"
                final String[] parts = step.split("[= ]");
                replayedRecords = Long.parseLong(parts[2]);
                restoredIndex = Long.parseLong(parts[5]);
            }
            else if (step.startsWith("snapshot-rejected") || step.startsWith("orphan-deleted") ||
                (step.startsWith("journal-opened") && step.contains("trunc")) ||
                step.startsWith("catalog-read") && step.contains("trunc"))
            {
                notes.add(step);
            }
        }
        if (restoredIndex == 0)
        {
            out.println("new data directory " + dataDirectory + ": nothing to restore, the journal starts at index 1");
        }
        else
        {
            out.println("restarted from " + dataDirectory + ": " + snapshot + ", replayed " + replayedRecords +
                " records to index " + restoredIndex + ", " + logic.sessions().size() + " sessions live (" +
                SessionStates.describeCounts(SessionStates.countByStatus(logic.sessions())) + ")");
        }
        for (final String note : notes)
        {
            out.println("  start-up: " + note);
        }
        return restoredIndex;
    }

    private static int firstFreeSessionId(final SessionTable sessions)
    {
        long max = 0;
        for (int record = 0, end = sessions.highWater(); record < end; record++)
        {
            if (sessions.isLive(record))
            {
                max = Math.max(max, sessions.sessionId(record));
            }
        }
        if (max >= MAX_SESSION_ID)
        {
            throw new ForeignDataException("the data directory holds session id " + max + ", beyond the demo's " +
                MAX_SESSION_ID + ": not a directory the demo wrote");
        }
        return (int)max + 1;
    }

    /** One output of the business logic, carried from its thread to the demo's. */
    private record Event(
        int kind, long clientId, long correlationId, int templateId, ResultCode code, long value, int tenant,
        long sessionId, int destination, int attempt, SessionStatus status)
    {
        static final int RESPONSE = 1;
        static final int SAVED = 2;
        static final int STARTED = 3;
        static final int FINISHED = 4;
        static final int PURGED = 5;
    }

    /**
     * The node's output observer: queues every output, on the business-logic thread, without blocking.
     * <p>
     * The node's start-up replays the journal through the same output sink, on the thread that starts it, so
     * the observer first sees the outputs of operators the previous run applied and acted on: a worker must not
     * be handed an attempt it already had, nor a save counted twice. Those are counted and dropped until
     * {@link #live()}. Nothing else is applied before then: on a restart the clock does not pass the state's
     * system time until the demo moves it, and on a new directory the first SetTime has no session to touch.
     */
    private static final class QueueingSink implements OutputSink
    {
        private final Queue<Event> events;
        private volatile boolean live;
        private long replayed;

        QueueingSink(final Queue<Event> events)
        {
            this.events = events;
        }

        void live()
        {
            live = true;
        }

        long replayed()
        {
            return replayed;
        }

        private void add(final Event event)
        {
            if (live)
            {
                events.add(event);
            }
            else
            {
                replayed++;
            }
        }

        public void onResponse(
            final long clientId, final long correlationId, final int templateId, final ResultCode code,
            final long value)
        {
            add(new Event(Event.RESPONSE, clientId, correlationId, templateId, code, value, 0, 0, 0, 0, null));
        }

        public void onSessionSaved(
            final int tenant, final long sessionId, final int destination, final DirectBuffer payload,
            final int offset, final int length)
        {
            add(new Event(Event.SAVED, 0, 0, 0, null, length, tenant, sessionId, destination, 0, null));
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle)
        {
            add(new Event(Event.STARTED, 0, 0, 0, null, leaseExpiresAtMs, tenant, sessionId, destination,
                attempt, null));
        }

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
            add(new Event(Event.FINISHED, 0, 0, 0, null, errorCode, tenant, sessionId, destination, attempt,
                status));
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
            add(new Event(Event.PURGED, 0, 0, 0, null, 0, tenant, sessionId, 0, 0, null));
        }
    }

    /** Offers the scenario's operators to the node through in-process clients and waits for them tick by tick. */
    private static final class Engine implements DemoEngine
    {
        private final StandaloneNode node;
        private final AtomicLong clock;
        private final DemoScenario scenario;
        private final Queue<Event> events;
        private final InProcessClient[] controllers = new InProcessClient[4];
        private final InProcessClient[] workers = new InProcessClient[DemoScenario.PROFILES.length];
        private final long[] workerCorrelationIds = new long[DemoScenario.PROFILES.length];
        private final InProcessClient repeatProcess;
        private final OperatorEncoder encoder = new OperatorEncoder();
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
        private final UnsafeBuffer noPayload = new UnsafeBuffer(new byte[0]);
        private final int[] ready = new int[DemoScenario.PROFILES.length];
        private final int[] room = new int[DemoScenario.PROFILES.length];
        private long nowMs;

        Engine(final StandaloneNode node, final AtomicLong clock, final DemoScenario scenario,
            final Queue<Event> events)
        {
            this.node = node;
            this.clock = clock;
            this.scenario = scenario;
            this.events = events;
            final InProcessClient.ResponseListener viaObserver = (index, correlationId, templateId, code, value) ->
            {
                // Every response also reaches the output observer, which is where the demo reads them.
            };
            for (int tenant = 1; tenant < controllers.length; tenant++)
            {
                controllers[tenant] = node.newClient(tenant, viaObserver);
            }
            for (int d = 0; d < workers.length; d++)
            {
                workers[d] = node.newClient(DemoScenario.tenantOf(d), viaObserver);
            }
            repeatProcess = node.newClient(0, viaObserver);
        }

        private void offer(final Supplier<ResultCode> operator)
        {
            final long deadlineNs = System.nanoTime() + TICK_TIMEOUT_NS;
            ResultCode code;
            while ((code = operator.get()) != ResultCode.OK)
            {
                if ((code != ResultCode.BACK_PRESSURE && code != ResultCode.STORAGE_UNAVAILABLE) ||
                    System.nanoTime() > deadlineNs)
                {
                    throw new IllegalStateException("the node refuses operators: " + code + " (storage: " +
                        node.storageFailure() + ", fatal: " + node.fatalError() + ")");
                }
                LockSupport.parkNanos(100_000);
            }
        }

        public void setTime(final long nowMs)
        {
            this.nowMs = nowMs;
            clock.set(nowMs);
        }

        public void beginTerm()
        {
        }

        public void configure(final int tenant, final int destination, final int inFlightLimit)
        {
            offer(() -> controllers[tenant].configureDestination(destination, inFlightLimit));
        }

        public void save(
            final int tenant, final long sessionId, final int destination, final SessionPolicy policy,
            final DirectBuffer payload, final int length)
        {
            offer(() -> controllers[tenant].save(sessionId, destination, policy, payload, 0, length));
        }

        public void cancel(final int tenant, final long sessionId)
        {
            offer(() -> controllers[tenant].cancel(sessionId));
        }

        public void report(
            final int destination, final int tenant, final long sessionId, final int attempt, final Outcome outcome,
            final int errorCode, final long retryAfterMs, final DirectBuffer errorText)
        {
            // Encoded here rather than with InProcessClient.reportOutcome, to carry the worker's error text.
            final InProcessClient worker = workers[destination];
            final int length = encoder.reportOutcome(buffer, 0, worker.clientId(), ++workerCorrelationIds[destination],
                tenant, sessionId, destination, attempt, OperatorEncoder.NO_HANDLE, outcome, errorCode, retryAfterMs,
                errorText, 0, errorText.capacity());
            offer(() -> worker.offer(buffer, 0, length));
        }

        public long nextCorrelationId(final int tenant)
        {
            return controllers[tenant].nextCorrelationId();
        }

        public void redriveSession(final int tenant, final long sessionId)
        {
            offer(() -> controllers[tenant].redriveSession(sessionId));
        }

        public int ready(final int destination)
        {
            return ready[destination];
        }

        public int room(final int destination)
        {
            return room[destination];
        }

        public void beginRepeats(final int destination, final int maxCount)
        {
            final int length = encoder.beginRepeats(buffer, 0, destination, maxCount);
            offer(() -> repeatProcess.offer(buffer, 0, length));
        }

        /** Waits until the tick's operators and its SetTime are applied, then delivers their events. */
        public void endTick()
        {
            final long deadlineNs = System.nanoTime() + TICK_TIMEOUT_NS;
            // The time process publishes the SetTime on its own thread once it sees the clock move.
            while (true)
            {
                awaitApplied(deadlineNs);
                if (node.logic().systemTimeMs() >= nowMs)
                {
                    awaitApplied(deadlineNs);
                    break;
                }
                if (System.nanoTime() > deadlineNs)
                {
                    throw new IllegalStateException("no SetTime(" + nowMs + ") applied within the timeout; fatal: " +
                        node.fatalError());
                }
                LockSupport.parkNanos(20_000);
            }

            final BusinessLogic logic = node.logic();
            for (int d = 0; d < ready.length; d++)
            {
                ready[d] = logic.destinations().ready(d);
                room[d] = logic.destinations().inFlightLimit(d) - logic.destinations().inFlight(d);
            }
            final OutputSink sink = scenario.sink();
            Event event;
            while ((event = events.poll()) != null)
            {
                switch (event.kind())
                {
                    case Event.RESPONSE -> {
                        scenario.countResult(event.templateId(), event.code());
                        sink.onResponse(event.clientId(), event.correlationId(), event.templateId(), event.code(),
                            event.value());
                    }
                    case Event.SAVED -> sink.onSessionSaved(event.tenant(), event.sessionId(), event.destination(),
                        noPayload, 0, (int)event.value());
                    // The scenario's workers report without handles, so the event does not keep it.
                    case Event.STARTED -> sink.onRepeatStarted(event.tenant(), event.sessionId(), event.destination(),
                        event.attempt(), event.value(), OperatorEncoder.NO_HANDLE);
                    case Event.FINISHED -> sink.onSessionFinished(event.tenant(), event.sessionId(),
                        event.destination(), event.status(), event.attempt(), (int)event.value());
                    case Event.PURGED -> sink.onSessionPurged(event.tenant(), event.sessionId());
                    default -> throw new IllegalStateException("unknown event " + event);
                }
            }
        }

        private void awaitApplied(final long deadlineNs)
        {
            try
            {
                final long remainingMs = Math.max(1, (deadlineNs - System.nanoTime()) / 1_000_000);
                if (!node.awaitApplied(remainingMs))
                {
                    throw new IllegalStateException("the node did not apply what was offered within the timeout; " +
                        "fatal: " + node.fatalError());
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", ex);
            }
        }

        /** Safe to read between ticks (the flow is idle) and after the node is closed. */
        public BusinessLogic logic()
        {
            return node.logic();
        }
    }
}
