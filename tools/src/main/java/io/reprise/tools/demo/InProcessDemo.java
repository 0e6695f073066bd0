package io.reprise.tools.demo;

import java.io.PrintStream;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.BeginRepeatsDecoder;
import io.reprise.schema.log.CancelSessionDecoder;
import io.reprise.schema.log.ConfigureDestinationDecoder;
import io.reprise.schema.log.NewLeaderTermDecoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.RedriveDeadDecoder;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.schema.log.SetTimeDecoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The business logic, in-process, against the demo's simulated population of controllers and workers on
 * simulated time ({@link DemoScenario}): what {@code reprise demo} runs without {@code --data-dir}.
 * <p>
 * One thread plays every role around the business logic: the time process (a {@code SetTime} every
 * {@link #TIMING} tick), controllers, the repeat process and workers. Every operator is SBE-encoded with
 * {@link OperatorEncoder} and applied with {@link BusinessLogic#apply} at the next log index, exactly as the
 * ring applies committed entries. The run is a function of its seed: the same seed gives the same operators,
 * the same counts and the same state digest.
 */
public final class InProcessDemo
{
    /** Sessions saved when the command line does not say. */
    public static final int DEFAULT_SESSIONS = 100_000;
    /** The most sessions one run accepts; it keeps a run within seconds and its memory small. */
    public static final int MAX_SESSIONS = 2_000_000;

    /** A SetTime every 10 ms; saves over five minutes; a redrive at ten; twenty minutes in all. */
    static final DemoScenario.Timing TIMING = new DemoScenario.Timing(10, 5 * 60_000L, 10 * 60_000L, 20 * 60_000L,
        2 * 60_000L);
    /** Completed and cancelled sessions are purged this long after they end, so the run shows purges too. */
    static final long TERMINAL_RETENTION_MS = 5 * 60_000L;

    private static final long TERM = 1;
    private static final int CONTROLLER_CLIENT_BASE = 100;
    private static final int WORKER_CLIENT_BASE = 1_000;

    private InProcessDemo()
    {
    }

    /**
     * Runs one demo.
     *
     * @param seed     decides everything random in the run.
     * @param sessions how many sessions the controllers save, 1 to {@link #MAX_SESSIONS}.
     * @param out      where the progress and summary go; the last line is {@link DemoResult#summaryLine()}.
     */
    public static DemoResult run(final long seed, final int sessions, final PrintStream out)
    {
        if (sessions < 1 || sessions > MAX_SESSIONS)
        {
            throw new IllegalArgumentException("sessions must be 1.." + MAX_SESSIONS + ": " + sessions);
        }
        final long startedNs = System.nanoTime();
        out.println("reprise demo: seed=" + seed + " sessions=" + sessions +
            "  (same run again: ./reprise demo --seed " + seed + " --sessions " + sessions + ")");
        out.println("in-process business logic; simulated time, " + DemoScenario.PROFILES.length +
            " destinations, 3 tenants, saves over the first " + TIMING.savePhaseMs() / 60_000 + " min, " +
            TIMING.horizonMs() / 60_000 + " min in all, a SetTime every " + TIMING.tickMs() + " ms");

        final DemoScenario scenario = new DemoScenario(seed, sessions, 1, TIMING, DemoScenario.START_MS, out);
        final Engine engine = new Engine(scenario, sessions);
        scenario.engine(engine);
        scenario.run();

        final DemoResult result = scenario.summarise(engine.index);
        scenario.printSummary(result);
        out.println("took " + (System.nanoTime() - startedNs) / 1_000_000 + " ms of real time for " +
            TIMING.horizonMs() / 60_000 + " min of simulated time");
        out.println(result.summaryLine());
        return result;
    }

    /** Applies each operator at once, at the next index; the business logic's events reach the scenario inside. */
    private static final class Engine implements DemoEngine
    {
        private final DemoScenario scenario;
        private final BusinessLogic logic;
        private final OperatorEncoder encoder = new OperatorEncoder();
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
        private long index;
        private long correlationId;

        Engine(final DemoScenario scenario, final int sessions)
        {
            this.scenario = scenario;
            logic = new BusinessLogic(new BusinessRules()
                .maxSessions(sessions)
                .expectedSessions(sessions)
                .maxDestinations(64)
                .terminalRetentionMs(TERMINAL_RETENTION_MS)
                .deadRetentionMs(BusinessRules.Configuration.DEAD_RETENTION_MS_DEFAULT)
                .maxBeginRepeatsBatch(DemoScenario.MAX_BEGIN_BATCH)
                .maxRedriveBatch(DemoScenario.MAX_REDRIVE)
                .conclude(), scenario.sink());
        }

        /** Applies one encoded operator at the next index, as the ring does once it is committed. */
        private void apply(final int templateId, final int length)
        {
            scenario.countResult(templateId, logic.apply(++index, TERM, buffer, 0, length));
        }

        public void setTime(final long nowMs)
        {
            apply(SetTimeDecoder.TEMPLATE_ID, encoder.setTime(buffer, 0, nowMs));
        }

        public void beginTerm()
        {
            apply(NewLeaderTermDecoder.TEMPLATE_ID,
                encoder.newLeaderTerm(buffer, 0, TERM, DemoScenario.LEADER_MEMBER_ID));
        }

        public void configure(final int tenant, final int destination, final int inFlightLimit)
        {
            apply(ConfigureDestinationDecoder.TEMPLATE_ID, encoder.configureDestination(buffer, 0,
                CONTROLLER_CLIENT_BASE + tenant, ++correlationId, tenant, destination, inFlightLimit));
        }

        public void save(
            final int tenant, final long sessionId, final int destination, final SessionPolicy policy,
            final DirectBuffer payload, final int length)
        {
            apply(SaveSessionDecoder.TEMPLATE_ID, encoder.saveSession(buffer, 0, CONTROLLER_CLIENT_BASE + tenant,
                ++correlationId, tenant, sessionId, destination, policy, payload, 0, length));
        }

        public void cancel(final int tenant, final long sessionId)
        {
            apply(CancelSessionDecoder.TEMPLATE_ID, encoder.cancelSession(buffer, 0, CONTROLLER_CLIENT_BASE + tenant,
                ++correlationId, tenant, sessionId));
        }

        public void report(
            final int destination, final int tenant, final long sessionId, final int attempt, final Outcome outcome,
            final int errorCode, final long retryAfterMs, final DirectBuffer errorText)
        {
            apply(ReportOutcomeDecoder.TEMPLATE_ID, encoder.reportOutcome(buffer, 0, WORKER_CLIENT_BASE + destination,
                ++correlationId, tenant, sessionId, destination, attempt, OperatorEncoder.NO_HANDLE, outcome, errorCode,
                retryAfterMs, errorText, 0, errorText.capacity()));
        }

        public long nextCorrelationId(final int tenant)
        {
            return correlationId + 1;
        }

        public void redriveSession(final int tenant, final long sessionId)
        {
            apply(RedriveDeadDecoder.TEMPLATE_ID, encoder.redriveSession(buffer, 0, CONTROLLER_CLIENT_BASE + tenant,
                ++correlationId, tenant, sessionId));
        }

        public int ready(final int destination)
        {
            return logic.destinations().ready(destination);
        }

        public int room(final int destination)
        {
            return logic.destinations().inFlightLimit(destination) - logic.destinations().inFlight(destination);
        }

        public void beginRepeats(final int destination, final int maxCount)
        {
            apply(BeginRepeatsDecoder.TEMPLATE_ID, encoder.beginRepeats(buffer, 0, destination, maxCount));
        }

        public void endTick()
        {
        }

        public BusinessLogic logic()
        {
            return logic;
        }
    }
}
