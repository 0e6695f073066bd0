package io.reprise.jmh;

import java.nio.ByteBuffer;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OperatorEncoder;
import io.reprise.engine.logic.SessionPolicy;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.BeginRepeatsEncoder;
import io.reprise.schema.log.MessageHeaderEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SaveSessionEncoder;
import io.reprise.schema.log.SetTimeEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A steady-state stream of real encoded operators, one per {@link #step()}, over a population of live sessions
 * that stays at the size it was populated with.
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
 * Operators are encoded once into reusable buffers; each step patches ids, times and outcome in place,
 * so what is measured is {@code apply}, plus a few field stores and the workload's bookkeeping.
 * <p>
 * With a prefetch distance {@code d > 0}, every d-th ReportOutcome (SaveSession) is preceded by
 * {@link Engine#prefetch} calls, back to back, for the next d-1 reports (saves), patched into a look-ahead
 * buffer: what a consumer that holds a batch of committed entries would do. Issued together, their cache misses
 * overlap; one prefetch just ahead of each operator does not help, since a Java load that misses stalls the core
 * as soon as its reorder window fills (Java has no non-blocking prefetch). 0 (the default): one by one.
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
    private final UnsafeBuffer saveAhead = buffer(256);
    private final UnsafeBuffer reportAhead = buffer(128);
    private final int prefetchDistance;
    private int reportsToPrefetch;
    private int savesToPrefetch;
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
    long errors;
    ResultCode lastError;

    /**
     * @param sessions the live population {@link #populate} creates and the steady state keeps.
     */
    SteadyStateMix(final Engine engine, final CountingSink sink, final int sessions)
    {
        this(engine, sink, sessions, 0);
    }

    /**
     * @param prefetchDistance how many places ahead reports and saves are prefetched; 0 for none.
     */
    SteadyStateMix(final Engine engine, final CountingSink sink, final int sessions, final int prefetchDistance)
    {
        this.engine = engine;
        this.prefetchDistance = prefetchDistance;
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
            report, 0, 1, 0, 1, 0, 1, Outcome.SUCCEEDED, 200, 0, payload, 0, 0);
        beginLength = encoder.beginRepeats(begin, 0, 0, BEGIN_BATCH);
        saveAhead.putBytes(0, save, 0, saveLength);
        reportAhead.putBytes(0, report, 0, reportLength);
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

    /** Sets time to {@link #START_MS} and saves {@code sessions} sessions due uniformly over the spread. */
    void populate(final int sessions)
    {
        nowMs = START_MS;
        setTime.putLong(SET_TIME_MS, nowMs);
        check(engine.apply(++index, 1, setTime, 0, setTimeLength));
        save.putLong(SAVE_INITIAL_DELAY, 0);
        for (int i = 0; i < sessions; i++)
        {
            save.putLong(SAVE_DUE_AT, START_MS + 1 + Math.floorMod(mix(i), spreadMs));
            applySave();
        }
        save.putLong(SAVE_DUE_AT, 0);
        save.putLong(SAVE_INITIAL_DELAY, spreadMs);
        if (errors != 0)
        {
            throw new IllegalStateException("populate failed: " + errors + " errors, last " + lastError);
        }
    }

    /** Applies the next operator of the steady state. */
    void step()
    {
        operators++;
        while (true)
        {
            switch (phase)
            {
                case SET_TIME:
                {
                    final int readyBefore = totalReady();
                    setTime.putLong(SET_TIME_MS, ++nowMs);
                    check(engine.apply(++index, 1, setTime, 0, setTimeLength));
                    becameReady += totalReady() - readyBefore;
                    setTimes++;
                    phase = BEGIN;
                    destinationCursor = 0;
                    return;
                }
                case BEGIN:
                {
                    while (destinationCursor < DESTINATIONS && engine.ready(destinationCursor) == 0)
                    {
                        destinationCursor++;
                    }
                    if (destinationCursor < DESTINATIONS)
                    {
                        begin.putInt(BEGIN_DESTINATION, destinationCursor++);
                        check(engine.apply(++index, 1, begin, 0, beginLength));
                        begins++;
                        return;
                    }
                    phase = REPORT;
                    break;
                }
                case REPORT:
                {
                    if (sink.startedPending() > REPORT_LAG)
                    {
                        applyReport();
                        return;
                    }
                    phase = SAVE;
                    break;
                }
                default:
                {
                    if (sink.finished > steadySaves)
                    {
                        steadySaves++;
                        if (prefetchDistance > 0 && savesToPrefetch-- == 0)
                        {
                            final int batch = (int)Math.min(prefetchDistance, sink.finished - steadySaves + 1);
                            for (int k = 1; k < batch; k++)
                            {
                                prefetchSave(k);
                            }
                            savesToPrefetch = Math.max(0, batch - 1);
                        }
                        applySave();
                        return;
                    }
                    phase = SET_TIME;
                    break;
                }
            }
        }
    }

    private void applySave()
    {
        final int destination = nextSaveDestination;
        nextSaveDestination = destination + 1 == DESTINATIONS ? 0 : destination + 1;
        final int tenant = destination + 1;
        save.putLong(SAVE_CLIENT, tenant);
        save.putLong(SAVE_CORRELATION, ++correlationId);
        save.putLong(SAVE_SESSION_ID, nextSessionId++);
        save.putInt(SAVE_TENANT, tenant);
        save.putInt(SAVE_DESTINATION, destination);
        check(engine.apply(++index, 1, save, 0, saveLength));
        saves++;
    }

    /** The save {@code prefetchDistance} places on, if the saves go on that long: same id and tenant sequence. */
    private void prefetchSave(final int ahead)
    {
        final int destination = (nextSaveDestination + ahead) % DESTINATIONS;
        saveAhead.putLong(SAVE_SESSION_ID, nextSessionId + ahead);
        saveAhead.putInt(SAVE_TENANT, destination + 1);
        saveAhead.putInt(SAVE_DESTINATION, destination);
        engine.prefetch(saveAhead, 0, saveLength);
    }

    private void applyReport()
    {
        if (prefetchDistance > 0 && reportsToPrefetch-- == 0)
        {
            // One batch of look-ups back to back, so that their cache misses overlap.
            final int batch = Math.min(prefetchDistance, sink.startedPending() - REPORT_LAG);
            for (int k = 1; k < batch; k++)
            {
                final int ahead = sink.ringIndex(k);
                reportAhead.putLong(REPORT_SESSION_ID, sink.startedSessionId[ahead]);
                reportAhead.putInt(REPORT_TENANT, sink.startedTenant[ahead]);
                engine.prefetch(reportAhead, 0, reportLength);
            }
            reportsToPrefetch = Math.max(0, batch - 1);
        }
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
        report.putInt(REPORT_ERROR_CODE, errorCode);
        report.putByte(REPORT_OUTCOME, (byte)outcome.value());
        sink.popOldest();
        final long finishedBefore = sink.finished;
        check(engine.apply(++index, 1, report, 0, reportLength));
        if (outcome == Outcome.RETRY && sink.finished == finishedBefore)
        {
            retriesToPending++;
        }
        reports++;
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

    private void check(final ResultCode result)
    {
        if (result != ResultCode.OK)
        {
            errors++;
            lastError = result;
        }
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
            sink.completed, sink.dead, retriesToPending, sink.purged, transitions(), errors,
            lastError == null ? "" : " last=" + lastError);
    }
}
