package io.reprise.jmh;


import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.BeginRepeatsEncoder;
import io.reprise.schema.log.MessageHeaderEncoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SaveSessionEncoder;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.schema.log.SetTimeEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A steady-state stream of real encoded operators, applied in batches by {@link #step(int)}, over a population of
 * live sessions that stays at the size it was populated with.
 * <p>
 * Each simulated millisecond ("tick") is, in log order:
 * <ol>
 *   <li>one {@code SetTime(now + 1)}: fires every timer due in that millisecond: on average
 *       {@link #DUE_PER_TICK} PENDING sessions become READY, and as many retained sessions whose retention
 *       ended are purged. It is <b>one</b> operator however many timers it fires;</li>
 *   <li>one {@code BeginRepeats(destination, 1024)} per destination that has READY sessions: starts them all;</li>
 *   <li>one {@code ReportOutcome} per started attempt, {@link #REPORT_LAG} attempts behind the starts (workers take
 *       a while): 90% SUCCEEDED, 8% RETRY (back to PENDING with the policy's backoff), 2% FAILED_PERMANENTLY;</li>
 *   <li>one {@code SaveSession} (128-byte payload, due {@code spreadMs} later) per session that finished, so the
 *       live population (PENDING + READY + IN_FLIGHT) stays at its initial size.</li>
 * </ol>
 * Completed and dead sessions are retained {@link #RETENTION_MS} and then purged by their timer.
 * <p>
 * Operators are encoded once into reusable buffers; each is patched in place (ids, times, outcome) and offered to
 * the {@link Engine}, which copies it into its batch. Each step offers the operators of one phase of the tick
 * (the SetTime, the begins, the reports or the saves; at most {@link Engine#MAX_BATCH}) and applies them as one
 * batch, as the node's business-logic stage gets a batch of committed entries. Within a phase no operator depends
 * on the result of another, so the operators and their order are those of applying them one by one.
 */
final class SteadyStateMix
{
    static final int DESTINATIONS = 8;
    static final int DUE_PER_TICK = 128;
    static final int PAYLOAD_BYTES = 128;
    static final int REPORT_LAG = 2048;
    static final long RETENTION_MS = 1_000;
    static final long START_MS = 1_700_000_000_000L;
    static final int BEGIN_BATCH = 1024;

    private static final int BODY = MessageHeaderEncoder.ENCODED_LENGTH;
    private static final int SAVE_CORRELATION = BODY + SaveSessionEncoder.correlationIdEncodingOffset();
    private static final int SAVE_CLIENT = BODY + SaveSessionEncoder.clientIdEncodingOffset();
    private static final int SAVE_SESSION_ID = BODY + SaveSessionEncoder.sessionIdEncodingOffset();
    private static final int SAVE_DUE_AT = BODY + SaveSessionEncoder.dueAtMsEncodingOffset();
    private static final int SAVE_INITIAL_DELAY = BODY + SaveSessionEncoder.initialDelayMsEncodingOffset();
    private static final int SAVE_TENANT = BODY + SaveSessionEncoder.tenantEncodingOffset();
    private static final int SAVE_DESTINATION = BODY + SaveSessionEncoder.destinationEncodingOffset();
    private static final int REPORT_CLIENT = BODY + ReportOutcomeEncoder.clientIdEncodingOffset();
    private static final int REPORT_CORRELATION = BODY + ReportOutcomeEncoder.correlationIdEncodingOffset();
    private static final int REPORT_SESSION_ID = BODY + ReportOutcomeEncoder.sessionIdEncodingOffset();
    private static final int REPORT_TENANT = BODY + ReportOutcomeEncoder.tenantEncodingOffset();
    private static final int REPORT_ATTEMPT = BODY + ReportOutcomeEncoder.attemptEncodingOffset();
    private static final int REPORT_HANDLE = BODY + ReportOutcomeEncoder.handleEncodingOffset();
    private static final int REPORT_DESTINATION = BODY + ReportOutcomeEncoder.destinationEncodingOffset();
    private static final int REPORT_ERROR_CODE = BODY + ReportOutcomeEncoder.errorCodeEncodingOffset();
    private static final int REPORT_OUTCOME = BODY + ReportOutcomeEncoder.outcomeEncodingOffset();
    private static final int BEGIN_DESTINATION = BODY + BeginRepeatsEncoder.destinationEncodingOffset();
    private static final int SET_TIME_MS = BODY + SetTimeEncoder.timeMsEncodingOffset();

    private static final int SET_TIME = 0;
    private static final int BEGIN = 1;
    private static final int REPORT = 2;
    private static final int SAVE = 3;

    /** Rules for a population of {@code sessions}: room for it plus the retained ones, index sized up front. */
    static BusinessRules rules(final int sessions)
    {
        final int headroom = sessions / 8 + 4 * (int)(DUE_PER_TICK * RETENTION_MS);
        return new BusinessRules()
            .maxSessions(sessions + headroom)
            .expectedSessions(sessions + headroom)
            .maxDestinations(DESTINATIONS)
            .terminalRetentionMs(RETENTION_MS)
            .deadRetentionMs(RETENTION_MS)
            .defaultInFlightLimit(1 << 16)
            .maxBeginRepeatsBatch(BEGIN_BATCH)
            .conclude();
    }

    /** The webhook policy of {@link SessionPolicy}'s defaults: backoff 1 s x2 +-10%, 10 attempts, lease 30 s. */
    static SessionPolicy policy(final long spreadMs)
    {
        return new SessionPolicy().initialDelayMs(spreadMs);
    }

    private final Engine engine;
    private final CountingSink sink;
    private final long spreadMs;

    private final UnsafeBuffer save = buffer(256);
    private final UnsafeBuffer report = buffer(128);
    private final UnsafeBuffer begin = buffer(64);
    private final UnsafeBuffer setTime = buffer(64);
    private final int saveLength;
    private final int reportLength;
    private final int beginLength;
    private final int setTimeLength;

    private long index;
    private long nowMs;
    private long nextSessionId = 1;
    private long correlationId;
    private int phase = SET_TIME;
    private int destinationCursor;
    private int nextSaveDestination;
    private long steadySaves;
    private long reportSeq;

    long operators;
    long setTimes;
    long begins;
    long reports;
    long saves;
    long retriesToPending;
    long becameReady;

    /**
     * @param sessions the live population {@link #populate} creates and the steady state keeps.
     */
    SteadyStateMix(final Engine engine, final CountingSink sink, final int sessions)
    {
        this.engine = engine;
        this.sink = sink;
        spreadMs = Math.max(1, sessions / DUE_PER_TICK);

        final OperatorEncoder encoder = new OperatorEncoder();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
        for (int i = 0; i < PAYLOAD_BYTES; i++)
        {
            payload.putByte(i, (byte)(i * 31 + 7));
        }
        saveLength = encoder.saveSession(save, 0, 1, 0, 1, 0, 0, policy(spreadMs), payload, 0, PAYLOAD_BYTES);
        reportLength = encoder.reportOutcome(
            report, 0, 1, 0, 1, 0, 0, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 200, 0, payload, 0, 0);
        beginLength = encoder.beginRepeats(begin, 0, 0, BEGIN_BATCH);
        setTimeLength = encoder.setTime(setTime, 0, START_MS);
    }

    private static UnsafeBuffer buffer(final int capacity)
    {
        // On heap: BufferChecksum's off-heap path (Agrona Crc32c) needs --add-opens java.base/java.util.zip,
        // which the project's JVM arguments do not grant (see docs/benchmarks.md).
        return new UnsafeBuffer(new byte[capacity]);
    }

    long spreadMs()
    {
        return spreadMs;
    }

    long nowMs()
    {
        return nowMs;
    }

    long appliedIndex()
    {
        return index;
    }

    /** Sessions saved and not yet finished: PENDING, READY or IN_FLIGHT. */
    long live()
    {
        return sink.saved - sink.finished;
    }

    /**
     * Every state change of a session so far: saved (to PENDING), PENDING to READY, READY to IN_FLIGHT,
     * IN_FLIGHT to COMPLETED/DEAD/PENDING, and purged.
     */
    long transitions()
    {
        return sink.saved + becameReady + sink.started + sink.finished + retriesToPending + sink.purged;
    }

    /** Operators rejected so far (the engines report them as responses; SetTime and begins are valid by design). */
    long errors()
    {
        return sink.rejected;
    }

    /**
     * A mix over {@code logic} (built with {@link #rules} and {@code sink}) through its business-logic stage, populated
     * with {@code sessions}: the set-up of the probes that run the mix outside JMH.
     */
    static SteadyStateMix populated(final BusinessLogic logic, final CountingSink sink, final int sessions)
    {
        final SteadyStateMix mix = new SteadyStateMix(Engine.of(logic), sink, sessions);
        mix.populate(sessions);
        return mix;
    }

    /** Sets time to {@link #START_MS} and saves {@code sessions} sessions due uniformly over the spread. */
    void populate(final int sessions)
    {
        nowMs = START_MS;
        setTime.putLong(SET_TIME_MS, nowMs);
        offer(setTime, setTimeLength);
        engine.applyBatch();
        save.putLong(SAVE_INITIAL_DELAY, 0);
        for (int i = 0; i < sessions; i++)
        {
            save.putLong(SAVE_DUE_AT, START_MS + 1 + Math.floorMod(mix(i), spreadMs));
            offerSave();
            if ((i + 1) % Engine.MAX_BATCH == 0)
            {
                engine.applyBatch();
            }
        }
        engine.applyBatch();
        save.putLong(SAVE_DUE_AT, 0);
        save.putLong(SAVE_INITIAL_DELAY, spreadMs);
        if (errors() != 0)
        {
            throw new IllegalStateException("populate failed: " + describe());
        }
    }

    /** Applies exactly {@code count} operators of the steady state, in batches. */
    void run(final long count)
    {
        for (long left = count; left > 0; )
        {
            left -= step((int)Math.min(Engine.MAX_BATCH, left));
        }
    }

    /**
     * Applies the next batch of the steady state: up to {@code max} operators, all of one phase of the tick.
     *
     * @return how many operators it applied, at least one.
     */
    int step(final int max)
    {
        while (true)
        {
            switch (phase)
            {
                case SET_TIME:
                {
                    final int readyBefore = totalReady();
                    setTime.putLong(SET_TIME_MS, ++nowMs);
                    offer(setTime, setTimeLength);
                    engine.applyBatch();
                    becameReady += totalReady() - readyBefore;
                    setTimes++;
                    operators++;
                    phase = BEGIN;
                    destinationCursor = 0;
                    return 1;
                }
                case BEGIN:
                {
                    // A begin starts only its own destination's sessions, so every count can be read up front.
                    int count = 0;
                    for (; destinationCursor < DESTINATIONS && count < max; destinationCursor++)
                    {
                        if (engine.ready(destinationCursor) > 0)
                        {
                            begin.putInt(BEGIN_DESTINATION, destinationCursor);
                            offer(begin, beginLength);
                            count++;
                        }
                    }
                    if (count > 0)
                    {
                        engine.applyBatch();
                        begins += count;
                        operators += count;
                        return count;
                    }
                    phase = REPORT;
                    break;
                }
                case REPORT:
                {
                    final int count = Math.min(max, sink.startedPending() - REPORT_LAG);
                    if (count > 0)
                    {
                        final long finishedBefore = sink.finished;
                        for (int i = 0; i < count; i++)
                        {
                            offerReport();
                        }
                        engine.applyBatch();
                        // Every accepted report finishes its session except a retry that goes back to PENDING.
                        retriesToPending += count - (sink.finished - finishedBefore);
                        reports += count;
                        operators += count;
                        return count;
                    }
                    phase = SAVE;
                    break;
                }
                default:
                {
                    final int count = (int)Math.min(max, sink.finished - steadySaves);
                    if (count > 0)
                    {
                        for (int i = 0; i < count; i++)
                        {
                            offerSave();
                        }
                        steadySaves += count;
                        engine.applyBatch();
                        operators += count;
                        return count;
                    }
                    phase = SET_TIME;
                    break;
                }
            }
        }
    }

    private void offer(final UnsafeBuffer operator, final int length)
    {
        engine.offer(operator, 0, length);
        index++;
    }

    private void offerSave()
    {
        final int destination = nextSaveDestination;
        nextSaveDestination = destination + 1 == DESTINATIONS ? 0 : destination + 1;
        final int tenant = destination + 1;
        save.putLong(SAVE_CLIENT, tenant);
        save.putLong(SAVE_CORRELATION, ++correlationId);
        save.putLong(SAVE_SESSION_ID, nextSessionId++);
        save.putInt(SAVE_TENANT, tenant);
        save.putInt(SAVE_DESTINATION, destination);
        offer(save, saveLength);
        saves++;
    }

    private void offerReport()
    {
        final int i = sink.ringIndexOfOldest();
        final int tenant = sink.startedTenant[i];
        final long choice = Math.floorMod(mix(++reportSeq), 100);
        final Outcome outcome;
        final int errorCode;
        if (choice < 90)
        {
            outcome = Outcome.SUCCEEDED;
            errorCode = 200;
        }
        else if (choice < 98)
        {
            outcome = Outcome.RETRY;
            errorCode = 503;
        }
        else
        {
            outcome = Outcome.FAILED_PERMANENTLY;
            errorCode = 400;
        }
        report.putLong(REPORT_CLIENT, tenant);
        report.putLong(REPORT_CORRELATION, ++correlationId);
        report.putLong(REPORT_SESSION_ID, sink.startedSessionId[i]);
        report.putInt(REPORT_TENANT, tenant);
        report.putInt(REPORT_ATTEMPT, sink.startedAttempt[i]);
        report.putInt(REPORT_HANDLE, sink.startedHandle[i]);
        report.putInt(REPORT_DESTINATION, sink.startedDestination[i]);
        report.putInt(REPORT_ERROR_CODE, errorCode);
        report.putByte(REPORT_OUTCOME, (byte)outcome.value());
        sink.popOldest();
        offer(report, reportLength);
    }

    private int totalReady()
    {
        int ready = 0;
        for (int d = 0; d < DESTINATIONS; d++)
        {
            ready += engine.ready(d);
        }
        return ready;
    }

    static long mix(final long value)
    {
        long h = value * 0x9E3779B97F4A7C15L;
        h ^= h >>> 32;
        h *= 0xD6E8FEB86659FD93L;
        h ^= h >>> 32;
        return h;
    }

    String describe()
    {
        return String.format(
            "index=%d now=+%dms live=%d ops=%d (setTime=%d begin=%d report=%d save=%d) started=%d completed=%d " +
            "dead=%d retried=%d purged=%d transitions=%d errors=%d%s",
            index, nowMs - START_MS, live(), operators, setTimes, begins, reports, saves, sink.started,
            sink.completed, sink.dead, retriesToPending, sink.purged, transitions(), errors(),
            sink.lastRejected == null ? "" : " last=" + sink.lastRejected);
    }
}
