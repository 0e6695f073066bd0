package io.reprise.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.NodeAssembly;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.Recovery;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;

/**
 * The invariants every run is held to (docs/simulation.md). It watches the node's outputs as they happen (every
 * output of an operator applied while the node runs, not those of a start-up replay) and checks, after every
 * restart, what was recovered. The first violation is kept; the run stops there.
 */
final class Checker implements OutputSink
{
    private static final int COMPLETED = SessionStatus.COMPLETED.value();
    private static final int CANCELLED = SessionStatus.CANCELLED.value();
    private static final int DEAD = SessionStatus.DEAD.value();
    private static final int IN_FLIGHT = SessionStatus.IN_FLIGHT.value();

    private final TreeMap<Long, SessionModel> sessions;
    /** Operators the node answered: their log index and the checksum of their bytes. */
    private final TreeMap<Long, Integer> answered = new TreeMap<>();
    private final Map<Asked, Consumer<ResultCode>> expected = new HashMap<>();
    private final CRC32C crc = new CRC32C();
    private BusinessLogic logic;
    private String violation;

    Checker(final TreeMap<Long, SessionModel> sessions)
    {
        this.sessions = sessions;
    }

    /** The node whose outputs follow; its state is read to know the system time of each output. */
    void watch(final NodeAssembly node)
    {
        this.logic = node.logic();
    }

    String violation()
    {
        return violation;
    }

    void fail(final String invariant, final String detail)
    {
        if (null == violation)
        {
            violation = invariant + ": " + detail;
        }
    }

    int checksum(final DirectBuffer buffer, final int offset, final int length)
    {
        crc.reset();
        for (int i = 0; i < length; i++)
        {
            crc.update(buffer.getByte(offset + i));
        }
        return (int)crc.getValue();
    }

    /** The node answered the operator at {@code index}, whose bytes have {@code checksum}: it must never be lost. */
    void answered(final long index, final int checksum)
    {
        answered.put(index, checksum);
    }

    long answeredCount()
    {
        return answered.size();
    }

    /** The highest index of an answered operator. */
    long lastAnswered()
    {
        return answered.isEmpty() ? 0 : answered.lastKey();
    }

    // ------------------------------------------------------------------------------------------ live outputs

    /**
     * An operator's answer, as the log applies it: its effect on the model is judged here, in log order with every
     * other output, not when its client hears it (in a cluster another member may apply later entries first).
     */
    public void onResponse(
        final long clientId, final long correlationId, final int templateId, final ResultCode resultCode,
        final long value)
    {
        final Consumer<ResultCode> expectation = expected.remove(new Asked(clientId, correlationId));
        if (null != expectation)
        {
            expectation.accept(resultCode);
        }
    }

    /** What to check when the operator {@code (clientId, correlationId)} is applied and answered. */
    void expect(final long clientId, final long correlationId, final Consumer<ResultCode> onApplied)
    {
        expected.put(new Asked(clientId, correlationId), onApplied);
    }

    private record Asked(long clientId, long correlationId)
    {
    }

    public void onSessionSaved(
        final int tenant, final long sessionId, final int destination, final DirectBuffer payload, final int offset,
        final int length)
    {
    }

    public void onRepeatStarted(
        final int tenant, final long sessionId, final int destination, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
        final SessionModel session = sessions.get(SessionModel.key(tenant, sessionId));
        if (null == session)
        {
            fail("attempt-of-unknown-session", "attempt " + attempt + " of " + tenant + ":" + sessionId +
                ", which was never saved");
            return;
        }
        final long nowMs = logic.systemTimeMs();
        if (attempt <= session.lastStarted)
        {
            fail("attempt-repeated", session.describe() + ": attempt " + attempt + " started after attempt " +
                session.lastStarted);
        }
        if (session.inFlight != 0)
        {
            fail("one-attempt-in-flight", session.describe() + ": attempt " + attempt + " started while attempt " +
                session.inFlight + " is in flight");
        }
        if (session.finishedStatus != 0)
        {
            fail("no-attempt-after-finish", session.describe() + ": attempt " + attempt + " started after it " +
                "finished " + SessionStatus.get((short)session.finishedStatus));
        }
        if (nowMs < session.earliestStartMs)
        {
            fail("not-before-due", session.describe() + ": attempt " + attempt + " started at " + nowMs +
                ", due no earlier than " + session.earliestStartMs);
        }
        session.lastStarted = attempt;
        session.inFlight = attempt;
    }

    public void onAttemptEnded(
        final int tenant, final long sessionId, final int destination, final int attempt, final int endedBy)
    {
        final SessionModel session = sessions.get(SessionModel.key(tenant, sessionId));
        if (null == session)
        {
            return;
        }
        if (session.inFlight != attempt)
        {
            fail("attempt-ended-twice", session.describe() + ": attempt " + attempt + " ended while attempt " +
                session.inFlight + " was the one in flight");
        }
        session.inFlight = 0;
        if (endedBy == ENDED_BY_LEASE)
        {
            // A lease that ran out fails the attempt with no Retry-After: the backoff applies.
            session.earliestStartMs = logic.systemTimeMs() + session.leastBackoffMs(attempt);
        }
    }

    /** A worker's report of {@code attempt} was answered {@code code}; {@code retryAfterMs} when it asked for one. */
    void onReportApplied(
        final SessionModel session, final int attempt, final ResultCode code, final boolean retry,
        final long retryAfterMs)
    {
        if (code == ResultCode.STALE_ATTEMPT && session.inFlight == attempt)
        {
            fail("in-lease-report-refused", session.describe() + ": a report of attempt " + attempt +
                " was refused as stale while the attempt was in flight (its lease had not run out)");
        }
        if (code != ResultCode.OK)
        {
            return;
        }
        if (session.inFlight != 0 && session.inFlight != attempt || session.lastStarted != attempt)
        {
            fail("stale-report-accepted", session.describe() + ": a report of attempt " + attempt +
                " was accepted while attempt " + session.lastStarted + " is the latest");
        }
        if (retry)
        {
            final long nowMs = logic.systemTimeMs();
            session.earliestStartMs = nowMs + (retryAfterMs > 0 ?
                Math.min(retryAfterMs, session.policy.backoffMaxMs()) : session.leastBackoffMs(attempt));
        }
    }

    /** The save of {@code session} was answered {@code code}, applied at the node's current system time. */
    void onSaveApplied(final SessionModel session, final ResultCode code)
    {
        if (code == ResultCode.OK)
        {
            // A new session: a save of an id reused after the old session was purged starts from nothing.
            session.lastStarted = 0;
            session.inFlight = 0;
            session.lifeStart = 0;
            session.finishedStatus = 0;
            session.purged = false;
            session.earliestStartMs = session.policy.dueAtMs() != 0 ? session.policy.dueAtMs() :
                logic.systemTimeMs() + session.policy.initialDelayMs();
        }
    }

    void onRedriveApplied(final SessionModel session, final ResultCode code)
    {
        if (code == ResultCode.OK)
        {
            if (session.finishedStatus != DEAD)
            {
                fail("redrive-of-live-session", session.describe() + " was redriven while " +
                    (session.finishedStatus == 0 ? "live" : SessionStatus.get((short)session.finishedStatus)));
            }
            session.finishedStatus = 0;
            session.lifeStart = session.lastStarted;
            session.earliestStartMs = logic.systemTimeMs();
        }
    }

    public void onSessionFinished(
        final int tenant, final long sessionId, final int destination, final SessionStatus status, final int attempt,
        final int errorCode)
    {
        final SessionModel session = sessions.get(SessionModel.key(tenant, sessionId));
        if (null == session)
        {
            return;
        }
        if (session.finishedStatus != 0)
        {
            fail("finished-twice", session.describe() + " finished " + status + " after it finished " +
                SessionStatus.get((short)session.finishedStatus));
        }
        session.finishedStatus = status.value();
        session.inFlight = 0;
    }

    public void onSessionPurged(final int tenant, final long sessionId)
    {
        final SessionModel session = sessions.get(SessionModel.key(tenant, sessionId));
        if (null != session)
        {
            session.purged = true;
        }
    }

    // ------------------------------------------------------------------------------------------ after a restart

    /**
     * After a crash and a restart through the real start-up: every answered operator survived, byte for byte; the
     * state equals that of an independent recovery (the oldest retained snapshot and the log after it); and the model
     * of each session is brought up to what replay did (outputs of a replay are not seen live).
     */
    void afterRestart(final NodeAssembly node, final Disk disk, final Path dataDirectory) throws IOException
    {
        watch(node);
        final long recovered = node.appliedIndex();
        if (!answered.isEmpty() && answered.lastKey() > recovered)
        {
            fail("answered-survives-crash", "the node answered the operator at index " + answered.lastKey() +
                " but recovered only to index " + recovered);
            return;
        }
        checkAnsweredInJournal(disk, dataDirectory.resolve("journal"));
        if (null != violation)
        {
            return;
        }
        final BusinessLogic independent;
        try
        {
            independent = independentRecovery(disk, dataDirectory, node.context());
        }
        catch (final IOException ex)
        {
            fail("recovery-equals-replay", "start-up recovered index " + recovered + " from files that an " +
                "independent read finds damaged: " + ex.getMessage());
            return;
        }
        if (independent.appliedIndex() != recovered || independent.digest() != node.logic().digest())
        {
            fail("recovery-equals-replay", String.format("start-up recovered index %d digest 0x%016x; the oldest " +
                "snapshot and the log replayed give index %d digest 0x%016x", recovered, node.logic().digest(),
                independent.appliedIndex(), independent.digest()));
            return;
        }
        reconcile(node.logic());
    }

    private void checkAnsweredInJournal(final Disk disk, final Path journalDirectory) throws IOException
    {
        long firstIndex = -1;
        try (JournalReader reader = new JournalReader(disk, journalDirectory))
        {
            while (reader.next() == JournalReader.Status.RECORD)
            {
                if (firstIndex < 0)
                {
                    firstIndex = reader.index();
                }
                final Integer expected = answered.get(reader.index());
                if (null != expected &&
                    expected != checksum(reader.buffer(), reader.operatorOffset(), reader.operatorLength()))
                {
                    fail("answered-survives-crash", "the operator answered at index " + reader.index() +
                        " is not the one the journal holds there after the crash");
                    return;
                }
            }
        }
        // What lies before the journal's first record is in a snapshot now: it cannot be compared byte for byte.
        if (firstIndex > 0)
        {
            answered.headMap(firstIndex).clear();
        }
    }

    /** The same recovery by another path, read-only: the oldest retained snapshot and every record after it. */
    private static BusinessLogic independentRecovery(final Disk disk, final Path dataDirectory, final NodeContext context)
        throws IOException
    {
        final Disk readOnly = new ReadOnlyDisk(disk);
        final Recovery.Listener quiet = (step) -> { };
        try (SnapshotCatalog catalog = SnapshotCatalog.open(readOnly, dataDirectory.resolve("snapshots")))
        {
            final BusinessLogic logic = Recovery.restoreSnapshot(readOnly, catalog, context.rules(), OutputSink.NONE,
                Recovery.Start.OLDEST, quiet);
            Recovery.replay(readOnly, dataDirectory.resolve("journal"), logic, Long.MAX_VALUE, quiet);
            return logic;
        }
    }

    /** Replay's outputs are not seen live: read each session's status and attempt from the recovered state. */
    private void reconcile(final BusinessLogic recovered)
    {
        final SessionTable table = recovered.sessions();
        for (final SessionModel session : sessions.values())
        {
            final int record = table.find(session.tenant, session.sessionId);
            if (record == SessionTable.NULL)
            {
                continue;
            }
            session.acknowledged = true;
            final int status = table.status(record);
            final int attempt = table.attempt(record);
            // Fewer attempts than seen: a new session under the same id, saved after the old one was purged.
            session.lastStarted = attempt < session.lastStarted ? attempt : Math.max(session.lastStarted, attempt);
            session.inFlight = status == IN_FLIGHT ? attempt : 0;
            session.lifeStart = table.lifeStartAttempt(record);
            if (status == COMPLETED || status == CANCELLED || status == DEAD)
            {
                session.finishedStatus = status;
            }
            else if (session.finishedStatus != 0)
            {
                // Live again through a replayed redrive or save, whose answer was lost with the crash: its due time
                // was set when it was applied, which the model did not see.
                session.finishedStatus = 0;
                session.purged = false;
                session.earliestStartMs = 0;
            }
        }
    }

    // ------------------------------------------------------------------------------------------ at the end

    /**
     * With faults stopped and the workers healthy for long enough: every session the node acknowledged has ended
     * (completed, cancelled or dead) and can be found in that state, or was purged after it ended.
     */
    void checkAllEnded(final BusinessLogic state)
    {
        final SessionTable table = state.sessions();
        for (final Iterator<Map.Entry<Long, SessionModel>> it = sessions.entrySet().iterator(); it.hasNext(); )
        {
            final SessionModel session = it.next().getValue();
            final int record = table.find(session.tenant, session.sessionId);
            if (record == SessionTable.NULL)
            {
                if (session.acknowledged && !session.purged && session.finishedStatus == 0)
                {
                    fail("acknowledged-session-kept", session.describe() + " was acknowledged and is gone");
                    return;
                }
                continue;
            }
            final int status = table.status(record);
            if (status != COMPLETED && status != CANCELLED && status != DEAD)
            {
                fail("every-session-ends", session.describe() + " is " + SessionStatus.get((short)status) +
                    " (attempt " + table.attempt(record) + ") after the run's quiet time");
                return;
            }
        }
    }
}
