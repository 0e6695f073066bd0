package io.reprise.tools.demo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.state.Destinations;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.CancelSessionDecoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.RedriveDeadDecoder;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The demo's simulated world, whichever engine runs it: the controllers (saves spread over the save phase, some
 * duplicated, some cancelled, one redrive of dead letters), the repeat process (a {@code BeginRepeats} for each
 * destination that has ready sessions and room under its in-flight limit) and the workers (each attempt
 * succeeds, asks for a retry, fails permanently, or its worker crashes and the lease runs out), a tick at a time
 * on simulated time.
 * <p>
 * Everything it reports about sessions is counted from the business logic's {@link OutputSink} events, then
 * compared with the engine's own per-destination figures; {@code lost} is computed from both and never assumed.
 * With a synchronous engine the run is a function of its seed.
 */
final class DemoScenario
{
    /** Simulated start of a fresh run: 2026-01-01T00:00:00Z. Fixed, because the demo reads no clock for it. */
    static final long START_MS = 1_767_225_600_000L;

    /** When things happen, relative to the run's start, in simulated time. */
    record Timing(long tickMs, long savePhaseMs, long redriveAtMs, long horizonMs, long progressEveryMs)
    {
        Timing
        {
            if (tickMs < 1 || savePhaseMs % tickMs != 0 || redriveAtMs % tickMs != 0 || horizonMs % tickMs != 0 ||
                progressEveryMs % tickMs != 0 || savePhaseMs < tickMs || horizonMs < savePhaseMs)
            {
                throw new IllegalArgumentException("inconsistent timing " + this);
            }
        }
    }

    static final int MAX_REDRIVE = 100;
    static final int MAX_BEGIN_BATCH = 256;
    static final int LEADER_MEMBER_ID = 0;

    private static final int OPEN = 1;
    private static final int COMPLETED = SessionStatus.COMPLETED.value();
    private static final int CANCELLED = SessionStatus.CANCELLED.value();
    private static final int DEAD = SessionStatus.DEAD.value();

    // Calendar entry kinds: what a simulated party does at a later tick.
    private static final int REPORT_SUCCEEDED = 1;
    private static final int REPORT_RETRY = 2;
    private static final int REPORT_RETRY_AFTER = 3;
    private static final int REPORT_FAILED = 4;
    private static final int REPORT_LATE = 5;
    private static final int CANCEL = 6;
    private static final int SAVE_AGAIN = 7;

    /**
     * How one destination behaves: its owner, its in-flight limit, the policy its controllers use and what its
     * workers do with an attempt (shares in permille of attempts; the rest ask for a retry).
     */
    record Profile(
        String name,
        int tenant,
        int inFlightLimit,
        int sharePermille,
        int minWorkMs,
        int maxWorkMs,
        int successPermille,
        int permanentPermille,
        int crashPermille,
        int retryAfterPermille,
        int maxAttempts,
        long backoffInitialMs,
        long backoffMaxMs,
        long leaseMs,
        long ttlMs)
    {
    }

    static final Profile[] PROFILES =
    {
        new Profile("payments", 1, 256, 150, 20, 200, 850, 5, 5, 100, 8, 500, 30_000, 2_000, 0),
        new Profile("webhooks", 2, 512, 250, 10, 400, 700, 10, 10, 200, 6, 1_000, 60_000, 2_000, 0),
        new Profile("email", 1, 128, 150, 50, 300, 900, 5, 5, 0, 5, 2_000, 60_000, 3_000, 0),
        new Profile("sms", 3, 64, 100, 20, 150, 800, 20, 5, 300, 5, 1_000, 30_000, 1_000, 0),
        new Profile("ledger-sync", 1, 32, 100, 100, 600, 950, 0, 2, 0, 10, 250, 10_000, 5_000, 0),
        new Profile("crm-export", 2, 8, 100, 200, 800, 850, 5, 5, 0, 6, 1_000, 30_000, 5_000, 4 * 60_000L),
        new Profile("thumbnails", 3, 256, 100, 30, 250, 950, 10, 5, 0, 3, 500, 5_000, 2_000, 0),
        new Profile("legacy-ftp", 3, 16, 50, 100, 500, 100, 30, 50, 0, 4, 1_000, 8_000, 2_000, 0),
    };
    private static final int LEGACY_FTP = PROFILES.length - 1;

    private final long seed;
    private final int sessionCount;
    private final Timing timing;
    private final long startMs;
    private final PrintStream out;
    private final SplittableRandom random;
    private DemoEngine engine;
    private final DemoSink sink = new DemoSink();
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[1024]);
    private final UnsafeBuffer noText = new UnsafeBuffer(new byte[0]);
    private final UnsafeBuffer retryText = ascii("HTTP 503 Service Unavailable");
    private final UnsafeBuffer retryAfterText = ascii("HTTP 429 Too Many Requests");
    private final UnsafeBuffer failedText = ascii("HTTP 410 Gone");
    private final SessionPolicy policy = new SessionPolicy();
    private final Calendar calendar = new Calendar();
    private final Map<Long, Integer> redriveByCorrelation = new HashMap<>();

    // Per session, indexed by session id; the demo's own view, built from sink events (and, on a restart, from the
    // state it found).
    private final int firstSessionId;
    private final byte[] destinationOf;
    private final byte[] state;
    private final boolean[] retried;
    private final boolean[] purged;

    private final long[] savedPerDestination = new long[PROFILES.length];
    private final long[] adoptedPerDestination = new long[PROFILES.length];
    private final long[] attemptsPerDestination = new long[PROFILES.length];
    private final long[][] results = new long[32][ResultCode.values().length];

    private long nowMs;
    private long currentTick;
    private int nextSessionId;
    private long savedEvents;
    private long adopted;
    private long orphanedAttempts;
    private long attemptsStarted;
    private long retriedSessions;
    private long workerCrashes;
    private long purgedCount;
    private long deadByDeadline;
    private long redriven;
    private long unexpected;

    /**
     * @param firstSessionId the id of the first session this run saves; ids below it may be adopted from the state.
     * @param startMs        simulated time of the run's tick 0.
     */
    DemoScenario(
        final long seed, final int sessionCount, final int firstSessionId, final Timing timing, final long startMs,
        final PrintStream out)
    {
        this.seed = seed;
        this.sessionCount = sessionCount;
        this.firstSessionId = firstSessionId;
        this.timing = timing;
        this.startMs = startMs;
        this.out = out;
        random = new SplittableRandom(seed);
        final int ids = firstSessionId + sessionCount;
        destinationOf = new byte[ids];
        state = new byte[ids];
        retried = new boolean[ids];
        purged = new boolean[ids];
        nextSessionId = firstSessionId;
    }

    /** The sink the engine hands the business logic's events to, on the scenario's thread. */
    OutputSink sink()
    {
        return sink;
    }

    void engine(final DemoEngine engine)
    {
        this.engine = engine;
    }

    /** The tenant that owns {@code destination} in this demo, or -1 for a destination it does not use. */
    static int tenantOf(final int destination)
    {
        return destination >= 0 && destination < PROFILES.length ? PROFILES[destination].tenant : -1;
    }

    /**
     * Takes over the sessions of a state the run did not create (a restart): they count as saved, their status
     * is the demo's view of them, and their in-flight attempts are orphaned (their workers went with the previous
     * run; the leases will run out).
     *
     * @throws ForeignDataException naming a session the demo could not have saved.
     */
    void adopt(final BusinessLogic logic)
    {
        final SessionTable sessions = logic.sessions();
        for (int record = 0, end = sessions.highWater(); record < end; record++)
        {
            if (!sessions.isLive(record))
            {
                continue;
            }
            final long id = sessions.sessionId(record);
            final int destination = sessions.destination(record);
            if (id < 1 || id >= firstSessionId || tenantOf(destination) != sessions.tenant(record))
            {
                throw new ForeignDataException("session " + sessions.tenant(record) + ":" + id + " of destination " +
                    destination + " is not one the demo saves: the data directory was not written by the demo");
            }
            final int status = sessions.status(record);
            destinationOf[(int)id] = (byte)destination;
            state[(int)id] = (byte)(status == COMPLETED || status == CANCELLED || status == DEAD ? status : OPEN);
            if (status == SessionStatus.IN_FLIGHT.value())
            {
                orphanedAttempts++;
            }
            savedPerDestination[destination]++;
            adoptedPerDestination[destination]++;
            savedEvents++;
            adopted++;
        }
    }

    long adopted()
    {
        return adopted;
    }

    long orphanedAttempts()
    {
        return orphanedAttempts;
    }

    /** Counts the result of one operator, and whether this simulation provokes it on purpose. */
    void countResult(final int templateId, final ResultCode code)
    {
        results[templateId][code.value()]++;
        if (!isExpected(templateId, code))
        {
            unexpected++;
        }
    }

    /** Runs the ticks from the start to the horizon; the caller prints the summary. */
    void run()
    {
        out.println("  time      saved  pending    ready  in flight  completed     dead  cancelled");
        nowMs = startMs;
        engine.setTime(nowMs);
        engine.beginTerm();
        for (int d = 0; d < PROFILES.length; d++)
        {
            final Profile p = PROFILES[d];
            engine.configure(p.tenant, d, p.inFlightLimit);
        }
        engine.endTick();

        final long saveTicks = timing.savePhaseMs() / timing.tickMs();
        final long horizonTicks = timing.horizonMs() / timing.tickMs();
        for (long tick = 1; tick <= horizonTicks; tick++)
        {
            currentTick = tick;
            nowMs = startMs + tick * timing.tickMs();
            engine.setTime(nowMs);

            if (tick <= saveTicks)
            {
                final long due = sessionCount * tick / saveTicks - sessionCount * (tick - 1) / saveTicks;
                for (long i = 0; i < due; i++)
                {
                    saveNewSession();
                }
            }
            calendar.runDue(tick, this::onCalendarEntry);
            if (tick * timing.tickMs() == timing.redriveAtMs())
            {
                redriveSomeDeadLetters();
            }
            beginRepeats();
            engine.endTick();
            if ((tick * timing.tickMs()) % timing.progressEveryMs() == 0)
            {
                printProgress(tick * timing.tickMs());
            }
        }
    }

    // ------------------------------------------------------------------------------------------ controllers

    private void saveNewSession()
    {
        final int sessionId = nextSessionId++;
        final int destination = pickDestination();
        final Profile p = PROFILES[destination];
        destinationOf[sessionId] = (byte)destination;

        final boolean scheduled = random.nextInt(1000) < 10;
        final long initialDelayMs;
        if (scheduled)
        {
            initialDelayMs = random.nextLong(60 * 60_000L, 3 * 60 * 60_000L);
        }
        else
        {
            initialDelayMs = random.nextInt(10) < 6 ? 0 : random.nextInt(2_000);
        }
        policy.dueAtMs(0)
            .initialDelayMs(initialDelayMs)
            .backoffInitialMs(p.backoffInitialMs)
            .backoffMaxMs(p.backoffMaxMs)
            .backoffMultiplierPermille(2_000)
            .jitterPermille(100)
            .maxAttempts(p.maxAttempts)
            .leaseMs(p.leaseMs)
            // The ttl counts from the save: a job scheduled for later gets its ttl after its first due time.
            .ttlMs(p.ttlMs == 0 ? 0 : initialDelayMs + p.ttlMs);

        final int payloadLength = 16 + random.nextInt(496);
        payload.setMemory(0, payloadLength, (byte)' ');
        payload.putLong(0, sessionId);
        engine.save(p.tenant, sessionId, destination, policy, payload, payloadLength);

        // Controllers change their minds: a third of the scheduled jobs and 2% of the rest are cancelled.
        if ((scheduled && random.nextInt(3) == 0) || random.nextInt(1000) < 20)
        {
            calendar.schedule(currentTick + ticks(random.nextInt(200, 20_000)), CANCEL, sessionId, 0, 0);
        }
        // A controller that timed out waiting for its acknowledgement sends the same save again.
        if (random.nextInt(1000) < 5)
        {
            calendar.schedule(currentTick + ticks(random.nextInt(100, 2_000)), SAVE_AGAIN, sessionId, 0, 0);
        }
    }

    private int pickDestination()
    {
        int roll = random.nextInt(1000);
        for (int d = 0; d < PROFILES.length; d++)
        {
            roll -= PROFILES[d].sharePermille;
            if (roll < 0)
            {
                return d;
            }
        }
        return PROFILES.length - 1;
    }

    private void cancel(final int sessionId)
    {
        engine.cancel(PROFILES[destinationOf[sessionId]].tenant, sessionId);
    }

    private void saveAgain(final int sessionId)
    {
        final int destination = destinationOf[sessionId];
        final Profile p = PROFILES[destination];
        policy.dueAtMs(0).initialDelayMs(0).backoffInitialMs(p.backoffInitialMs).backoffMaxMs(p.backoffMaxMs)
            .backoffMultiplierPermille(2_000).jitterPermille(100).maxAttempts(p.maxAttempts).leaseMs(p.leaseMs)
            .ttlMs(p.ttlMs);
        payload.putLong(0, sessionId);
        engine.save(p.tenant, sessionId, destination, policy, payload, Long.BYTES);
    }

    /** The owner of the flaky destination gives some of its dead letters another life, one by one. */
    private void redriveSomeDeadLetters()
    {
        final int tenant = PROFILES[LEGACY_FTP].tenant;
        int asked = 0;
        for (int sessionId = 1; sessionId < nextSessionId && asked < MAX_REDRIVE; sessionId++)
        {
            if (destinationOf[sessionId] == LEGACY_FTP && state[sessionId] == DEAD && !purged[sessionId])
            {
                asked++;
                redriveByCorrelation.put(engine.nextCorrelationId(tenant), sessionId);
                engine.redriveSession(tenant, sessionId);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ repeat process

    /** What the leader's repeat process does: start what is ready, within each destination's limit. */
    private void beginRepeats()
    {
        for (int d = 0; d < PROFILES.length; d++)
        {
            final int room = engine.room(d);
            if (engine.ready(d) > 0 && room > 0)
            {
                engine.beginRepeats(d, Math.min(room, MAX_BEGIN_BATCH));
            }
        }
    }

    // ------------------------------------------------------------------------------------------ workers

    /** A worker took an attempt: decide now what it will report, and when. */
    private void onAttemptDispatched(final int sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs)
    {
        final Profile p = PROFILES[destination];
        final int roll = random.nextInt(1000);
        final long reportAtMs = nowMs + random.nextInt(p.minWorkMs, p.maxWorkMs + 1);
        if (roll < p.crashPermille)
        {
            // The worker dies holding the attempt; the lease runs out. Half of them come back and report late.
            workerCrashes++;
            if (random.nextBoolean())
            {
                calendar.schedule(tickAtOrAfter(leaseExpiresAtMs + random.nextInt(100, 3_000)), REPORT_LATE,
                    sessionId, attempt, 0);
            }
        }
        else if (roll < p.crashPermille + p.permanentPermille)
        {
            calendar.schedule(tickAtOrAfter(reportAtMs), REPORT_FAILED, sessionId, attempt, 410);
        }
        else if (roll < p.crashPermille + p.permanentPermille + p.successPermille)
        {
            calendar.schedule(tickAtOrAfter(reportAtMs), REPORT_SUCCEEDED, sessionId, attempt, 0);
        }
        else if (random.nextInt(1000) < p.retryAfterPermille)
        {
            calendar.schedule(tickAtOrAfter(reportAtMs), REPORT_RETRY_AFTER, sessionId, attempt,
                1_000 * random.nextInt(1, 6));
        }
        else
        {
            calendar.schedule(tickAtOrAfter(reportAtMs), REPORT_RETRY, sessionId, attempt, 0);
        }
    }

    private void report(final int sessionId, final int attempt, final Outcome outcome, final int errorCode,
        final long retryAfterMs, final DirectBuffer text)
    {
        final int destination = destinationOf[sessionId];
        engine.report(destination, PROFILES[destination].tenant, sessionId, attempt, outcome, errorCode, retryAfterMs,
            text);
    }

    private void onCalendarEntry(final int kind, final int sessionId, final int attempt, final int arg)
    {
        switch (kind)
        {
            case REPORT_SUCCEEDED, REPORT_LATE -> report(sessionId, attempt, Outcome.SUCCEEDED, 200, 0, noText);
            case REPORT_RETRY -> report(sessionId, attempt, Outcome.RETRY, 503, 0, retryText);
            case REPORT_RETRY_AFTER -> report(sessionId, attempt, Outcome.RETRY, 429, arg, retryAfterText);
            case REPORT_FAILED -> report(sessionId, attempt, Outcome.FAILED_PERMANENTLY, arg, 0, failedText);
            case CANCEL -> cancel(sessionId);
            case SAVE_AGAIN -> saveAgain(sessionId);
            default -> throw new IllegalStateException("unknown calendar entry " + kind);
        }
    }

    /** The refusals this simulation provokes on purpose; anything else is a finding. */
    private static boolean isExpected(final int templateId, final ResultCode code)
    {
        if (code == ResultCode.OK)
        {
            return true;
        }
        return switch (templateId)
        {
            // a worker reporting after its lease ran out, or on an attempt its controller cancelled
            case ReportOutcomeDecoder.TEMPLATE_ID -> code == ResultCode.STALE_ATTEMPT;
            // the cancel arrived after the session had ended
            case CancelSessionDecoder.TEMPLATE_ID -> code == ResultCode.SESSION_FINISHED;
            case SaveSessionDecoder.TEMPLATE_ID -> code == ResultCode.DUPLICATE_SESSION;
            default -> false;
        };
    }

    private long ticks(final long delayMs)
    {
        return Math.max(1, (delayMs + timing.tickMs() - 1) / timing.tickMs());
    }

    private long tickAtOrAfter(final long timeMs)
    {
        return Math.max(currentTick + 1, (timeMs - startMs + timing.tickMs() - 1) / timing.tickMs());
    }

    // ------------------------------------------------------------------------------------------ reporting

    private void printProgress(final long elapsedMs)
    {
        final Destinations destinations = engine.logic().destinations();
        long pending = 0;
        long ready = 0;
        long inFlight = 0;
        for (int d = 0; d < destinations.count(); d++)
        {
            pending += destinations.pending(d);
            ready += destinations.ready(d);
            inFlight += destinations.inFlight(d);
        }
        final long[] ended = new long[8];
        for (int s = 1; s < nextSessionId; s++)
        {
            ended[state[s]]++;
        }
        out.printf("  %02d:%02d %10d %8d %8d %10d %10d %8d %10d%n", elapsedMs / 60_000, elapsedMs / 1000 % 60,
            savedEvents, pending, ready, inFlight, ended[COMPLETED], ended[DEAD], ended[CANCELLED]);
    }

    /**
     * Counts what happened, from the events, and checks it against the engine's figures; call once the engine
     * is idle for good.
     */
    DemoResult summarise(final long operatorsApplied)
    {
        final BusinessLogic logic = engine.logic();
        final Destinations destinations = logic.destinations();
        final List<String> mismatches = new ArrayList<>();
        long completed = 0;
        long dead = 0;
        long cancelled = 0;
        long pending = 0;
        for (int d = 0; d < destinations.count(); d++)
        {
            pending += destinations.pending(d) + destinations.ready(d) + destinations.inFlight(d);
        }

        // Per destination: what the events say against what the engine holds.
        final long[] open = new long[PROFILES.length];
        final long[] liveDead = new long[PROFILES.length];
        final long[] liveRetained = new long[PROFILES.length];
        for (int s = 1; s < nextSessionId; s++)
        {
            final int d = destinationOf[s];
            final int st = state[s];
            if (st == COMPLETED)
            {
                completed++;
            }
            else if (st == DEAD)
            {
                dead++;
            }
            else if (st == CANCELLED)
            {
                cancelled++;
            }
            else if (st == OPEN)
            {
                open[d]++;
            }
            if (!purged[s])
            {
                if (st == DEAD)
                {
                    liveDead[d]++;
                }
                else if (st == COMPLETED || st == CANCELLED)
                {
                    liveRetained[d]++;
                }
            }
        }
        for (int d = 0; d < destinations.count(); d++)
        {
            final String name = d < PROFILES.length ? PROFILES[d].name : "destination " + d;
            final long engineOpen = destinations.pending(d) + destinations.ready(d) + destinations.inFlight(d);
            final long eventsOpen = d < PROFILES.length ? open[d] : 0;
            final long eventsDead = d < PROFILES.length ? liveDead[d] : 0;
            final long eventsRetained = d < PROFILES.length ? liveRetained[d] : 0;
            check(mismatches, name + " unfinished", eventsOpen, engineOpen);
            check(mismatches, name + " dead", eventsDead, destinations.dead(d));
            check(mismatches, name + " retained", eventsRetained, destinations.retained(d));
        }
        check(mismatches, "live sessions", savedEvents - purgedCount, logic.sessions().size());

        final long lost = savedEvents - completed - dead - cancelled - pending;
        return new DemoResult(seed, sessionCount, savedEvents, completed, dead, cancelled, pending, lost, adopted,
            attemptsStarted, retriedSessions, workerCrashes,
            results[ReportOutcomeDecoder.TEMPLATE_ID][ResultCode.STALE_ATTEMPT.value()],
            results[SaveSessionDecoder.TEMPLATE_ID][ResultCode.DUPLICATE_SESSION.value()],
            results[CancelSessionDecoder.TEMPLATE_ID][ResultCode.SESSION_FINISHED.value()], redriven, purgedCount,
            deadByDeadline, operatorsApplied, unexpected, List.copyOf(mismatches), logic.digest());
    }

    private static void check(final List<String> mismatches, final String what, final long events, final long engine)
    {
        if (events != engine)
        {
            mismatches.add(what + ": events say " + events + ", engine holds " + engine);
        }
    }

    /** The per-destination table, the counts and the cross-check; the caller prints the last lines. */
    void printSummary(final DemoResult result)
    {
        final BusinessLogic logic = engine.logic();
        final Destinations destinations = logic.destinations();
        out.println();
        out.println("  destination  tenant  limit     saved  attempts  completed     dead  cancelled  unfinished" +
            "  attempts/session");
        for (int d = 0; d < PROFILES.length; d++)
        {
            final Profile p = PROFILES[d];
            final long[] ended = new long[8];
            for (int s = 1; s < nextSessionId; s++)
            {
                if (destinationOf[s] == d)
                {
                    ended[state[s]]++;
                }
            }
            final long engineOpen = destinations.pending(d) + destinations.ready(d) + destinations.inFlight(d);
            final long savedNow = savedPerDestination[d] - adoptedPerDestination[d];
            out.printf("  %-11s %7d %6d %9d %9d %10d %8d %10d %11d %17.2f%n", p.name, p.tenant,
                destinations.inFlightLimit(d), savedPerDestination[d], attemptsPerDestination[d], ended[COMPLETED],
                ended[DEAD], ended[CANCELLED], engineOpen,
                savedNow == 0 ? 0.0 : (double)attemptsPerDestination[d] / savedNow);
        }
        if (adopted > 0)
        {
            out.println("  (saved and the endings include the " + adopted + " sessions found in the state at start; " +
                "attempts are this run's, per session saved in this run)");
        }
        out.println();
        out.println("attempts: " + result.attemptsStarted() + " started; " + result.retriedSessions() +
            " sessions repeated after a failure; " + result.workerCrashes() + " workers died holding an attempt " +
            "(lease expired); " + result.staleReportsRejected() + " late or cancelled reports rejected as stale");
        out.println("controllers: " + result.duplicateSavesRejected() + " repeated saves recognised as duplicates; " +
            result.cancelsTooLate() + " cancels arrived after the end; " + result.redriven() +
            " dead letters redriven; " + result.deadByDeadline() + " sessions died at their deadline");
        out.printf("engine: %d operators applied; %d sessions purged after retention; %d live records, %.1f MiB; " +
            "digest %016x%n", result.operatorsApplied(), result.purged(), logic.sessions().size(),
            logic.sessions().footprintBytes() / (1024.0 * 1024.0), result.digest());
        if (result.unexpectedResults() != 0)
        {
            out.println("UNEXPECTED: " + result.unexpectedResults() + " operators refused; result codes by operator: " +
                describeResults());
        }
        if (result.mismatches().isEmpty())
        {
            out.println("cross-check: the events agree with the engine's destination figures");
        }
        else
        {
            for (final String mismatch : result.mismatches())
            {
                out.println("MISMATCH: " + mismatch);
            }
        }
    }

    private String describeResults()
    {
        final StringBuilder text = new StringBuilder();
        for (int template = 0; template < results.length; template++)
        {
            for (final ResultCode code : ResultCode.values())
            {
                if (code != ResultCode.NULL_VAL && results[template][code.value()] != 0)
                {
                    text.append(" template ").append(template).append(' ').append(code).append('=')
                        .append(results[template][code.value()]);
                }
            }
        }
        return text.toString();
    }

    private static UnsafeBuffer ascii(final String text)
    {
        return new UnsafeBuffer(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    // ------------------------------------------------------------------------------------------ events

    /** Turns the business logic's events into the demo's per-session view and hands attempts to workers. */
    private final class DemoSink implements OutputSink
    {
        public void onResponse(
            final long clientId, final long correlationId, final int templateId, final ResultCode code,
            final long value)
        {
            if (templateId == RedriveDeadDecoder.TEMPLATE_ID)
            {
                final Integer sessionId = redriveByCorrelation.remove(correlationId);
                if (null != sessionId && code == ResultCode.OK && value == 1)
                {
                    state[sessionId] = OPEN;
                    redriven++;
                }
            }
        }

        public void onSessionSaved(
            final int tenant, final long sessionId, final int destination, final DirectBuffer payload,
            final int offset, final int length)
        {
            savedEvents++;
            savedPerDestination[destination]++;
            state[(int)sessionId] = OPEN;
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle)
        {
            attemptsStarted++;
            attemptsPerDestination[destination]++;
            if (attempt > 1 && !retried[(int)sessionId])
            {
                retried[(int)sessionId] = true;
                retriedSessions++;
            }
            onAttemptDispatched((int)sessionId, destination, attempt, leaseExpiresAtMs);
        }

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
            state[(int)sessionId] = (byte)status.value();
            if (status == SessionStatus.DEAD && errorCode == BusinessLogic.DEADLINE_EXCEEDED_ERROR)
            {
                deadByDeadline++;
            }
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
            purged[(int)sessionId] = true;
            purgedCount++;
        }
    }

    // ------------------------------------------------------------------------------------------ calendar

    /** What simulated parties will do at later ticks: a ring of per-tick buckets, each run in schedule order. */
    static final class Calendar
    {
        static final int RING_TICKS = 1 << 14;
        private static final int FIELDS = 4;

        /** Receives one entry when its tick comes. */
        @FunctionalInterface
        interface Action
        {
            void run(int kind, int sessionId, int attempt, int arg);
        }

        private final int[][] buckets = new int[RING_TICKS][];
        private final int[] counts = new int[RING_TICKS];
        private long runningTick;

        void schedule(final long tick, final int kind, final int sessionId, final int attempt, final int arg)
        {
            if (tick <= runningTick || tick - runningTick >= RING_TICKS)
            {
                throw new IllegalStateException("tick " + tick + " outside the calendar at " + runningTick);
            }
            final int slot = (int)(tick & (RING_TICKS - 1));
            int[] bucket = buckets[slot];
            final int used = counts[slot] * FIELDS;
            if (null == bucket)
            {
                bucket = buckets[slot] = new int[FIELDS * 16];
            }
            else if (used + FIELDS > bucket.length)
            {
                bucket = buckets[slot] = Arrays.copyOf(bucket, bucket.length * 2);
            }
            bucket[used] = kind;
            bucket[used + 1] = sessionId;
            bucket[used + 2] = attempt;
            bucket[used + 3] = arg;
            counts[slot]++;
        }

        void runDue(final long tick, final Action action)
        {
            runningTick = tick;
            final int slot = (int)(tick & (RING_TICKS - 1));
            final int[] bucket = buckets[slot];
            for (int i = 0; i < counts[slot]; i++)
            {
                final int at = i * FIELDS;
                action.run(bucket[at], bucket[at + 1], bucket[at + 2], bucket[at + 3]);
            }
            counts[slot] = 0;
        }
    }
}
