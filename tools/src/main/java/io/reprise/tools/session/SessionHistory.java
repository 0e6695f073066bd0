package io.reprise.tools.session;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.cli.Progress;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.data.CatalogView;
import io.reprise.tools.data.DataDirectory;
import io.reprise.tools.data.OperatorText;
import io.reprise.tools.data.ReadOnlyDisk;
import io.reprise.tools.data.SessionStates;
import io.reprise.tools.data.StateRebuild;
import org.agrona.DirectBuffer;

/**
 * {@code reprise session history DIR TENANT:ID}: replays the journal from its beginning (or, when rotation
 * removed the beginning, from the oldest snapshot that still connects to it, and says so) and prints every
 * operator that touched one session: the ones that name it (save, cancel, outcome, redrive), the
 * {@code BeginRepeats} that started its attempts, the {@code SetTime}s that fired its timers (due time, lease,
 * deadline, retention), and destination-wide redrives. For each: the result code, what the business logic
 * reported about the session, and its state after (status, attempt, due or timer time, last error).
 */
public final class SessionHistory
{
    public static final String USAGE = "session history DIR TENANT:ID";
    public static final String DESCRIPTION =
        "Replays the journal (from index 1, or from the oldest usable snapshot if the journal was rotated)\n" +
        "and prints every operator that touched the session, with its result code and the session's state\n" +
        "after it (status, attempt, due/lease/deadline time, last error).";

    private SessionHistory()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("session history", tokens, Set.of(), "DIR", "TENANT:ID");
        final DataDirectory dir = DataDirectory.of(args.positional(0));
        final String key = args.positional(1);
        final int colon = key.indexOf(':');
        if (colon < 0)
        {
            throw new UsageException("TENANT:ID expected, e.g. 1:42, got '" + key + "'");
        }
        final int tenant = (int)Args.parseLong("TENANT", key.substring(0, colon), 1, Integer.MAX_VALUE);
        final long sessionId = Args.parseLong("ID", key.substring(colon + 1), Long.MIN_VALUE, Long.MAX_VALUE);
        final String name = tenant + ":" + sessionId;

        final ReadOnlyDisk disk = new ReadOnlyDisk();
        final BusinessRules rules = new BusinessRules().conclude();
        final SessionEvents events = new SessionEvents(tenant, sessionId);
        final long firstIndex = StateRebuild.firstJournalIndex(disk, dir.journal());
        final BusinessLogic logic;
        if (firstIndex <= 1)
        {
            out.println("history: " + name + " in " + dir.root() + ": replaying the journal from index 1");
            logic = new BusinessLogic(rules, events);
        }
        else
        {
            final CatalogView catalog = CatalogView.read(dir.snapshots());
            final List<SnapshotInfo> connecting = new ArrayList<>();
            for (final SnapshotInfo info : catalog.snapshots())
            {
                if (info.index() >= firstIndex - 1)
                {
                    connecting.add(info);
                }
            }
            final StateRebuild.Restored restored = StateRebuild.restore(disk, dir.snapshots(), connecting, rules,
                events, Long.MAX_VALUE, true);
            for (final String note : restored.notes())
            {
                out.println("history: " + note);
            }
            if (null == restored.snapshot())
            {
                out.println("history: FAILED: the journal starts at index " + firstIndex + " (earlier segments " +
                    "were rotated away) and no snapshot at or after index " + (firstIndex - 1) + " can be restored");
                return ExitCode.FAILED;
            }
            logic = restored.logic();
            final SnapshotInfo s = restored.snapshot();
            out.println("history: " + name + " in " + dir.root() + ": the journal starts at index " + firstIndex +
                " (earlier segments were rotated away), so the history starts from the oldest usable snapshot " +
                s.fileName() + " (index " + s.index() + "); what happened before index " + s.index() +
                " is not in the data directory");
            final int record = logic.sessions().find(tenant, sessionId);
            out.println("at snapshot index " + s.index() + ": " +
                (record == SessionTable.NULL ? "not in the state" : SessionStates.describe(logic, record)));
        }

        final long startIndex = logic.appliedIndex() + 1;
        final OperatorText operator = new OperatorText();
        final long[] touched = new long[2]; // count, last index
        final StateRebuild.Replayed replayed = StateRebuild.replay(disk, dir.journal(), logic, Long.MAX_VALUE,
            new StateRebuild.RecordListener()
            {
                private String before;

                public void beforeApply(final JournalReader record)
                {
                    events.clear();
                    before = stateOf(logic, tenant, sessionId);
                }

                public void afterApply(final JournalReader record, final ResultCode result)
                {
                    operator.decode(record.buffer(), record.operatorOffset(), record.operatorLength());
                    final boolean named = operator.hasTenant() && operator.tenant() == tenant &&
                        operator.hasSession() && operator.sessionId() == sessionId;
                    final String after = stateOf(logic, tenant, sessionId);
                    if (!named && events.isEmpty() && after.equals(before))
                    {
                        return;
                    }
                    touched[0]++;
                    touched[1] = record.index();
                    out.println("index=" + record.index() + " ts=" + Format.time(record.timestampMs()) + " " +
                        operator.describe());
                    final StringBuilder line = new StringBuilder("    -> ").append(result);
                    if (!named && events.isEmpty())
                    {
                        line.append("; ").append(operator.setTimeMs() >= 0 ? "its timer fired" : "changed it");
                    }
                    for (final String event : events.list())
                    {
                        line.append("; ").append(event);
                    }
                    line.append("; now ").append(after.isEmpty() ? "not in the state" : after);
                    out.println(line);
                }
            }, new Progress(err, "history"));

        int exit = ExitCode.OK;
        switch (replayed.stop())
        {
            case TORN:
                out.println("history: the journal ends with a torn record (the node truncates it at start): " +
                    replayed.problem());
                break;
            case CORRUPT:
            case GAP:
                out.println("history: stopped, " + replayed.stop() + ": " + replayed.problem());
                exit = ExitCode.FAILED;
                break;
            default:
                break;
        }
        final String range = replayed.records() == 0 ? "no records" :
            "indexes " + startIndex + ".." + logic.appliedIndex();
        if (touched[0] == 0)
        {
            out.println("history: no operator touched " + name + " (" + replayed.records() + " records replayed, " +
                range + ")");
        }
        else
        {
            final String now = stateOf(logic, tenant, sessionId);
            out.println("history: " + name + ": " + touched[0] + " operators touched it (" + replayed.records() +
                " records replayed, " + range + "); at index " + logic.appliedIndex() + " it is " +
                (now.isEmpty() ? "not in the state" : now));
        }
        return exit;
    }

    /** The session's state as text, "" when it is not in the state. */
    private static String stateOf(final BusinessLogic logic, final int tenant, final long sessionId)
    {
        final int record = logic.sessions().find(tenant, sessionId);
        return record == SessionTable.NULL ? "" : SessionStates.describe(logic, record);
    }

    /** Collects what the business logic reports about one session while an operator is applied. */
    private static final class SessionEvents implements OutputSink
    {
        private final int tenant;
        private final long sessionId;
        private final List<String> events = new ArrayList<>();

        SessionEvents(final int tenant, final long sessionId)
        {
            this.tenant = tenant;
            this.sessionId = sessionId;
        }

        void clear()
        {
            events.clear();
        }

        boolean isEmpty()
        {
            return events.isEmpty();
        }

        List<String> list()
        {
            return events;
        }

        private boolean isMine(final int tenant, final long sessionId)
        {
            return tenant == this.tenant && sessionId == this.sessionId;
        }

        public void onResponse(
            final long clientId, final long correlationId, final int templateId, final ResultCode code,
            final long value)
        {
        }

        public void onSessionSaved(
            final int tenant, final long sessionId, final int destination, final DirectBuffer payload,
            final int offset, final int length)
        {
            if (isMine(tenant, sessionId))
            {
                events.add("saved for destination " + destination + " (" + length + "-byte payload)");
            }
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle)
        {
            if (isMine(tenant, sessionId))
            {
                events.add("attempt " + attempt + " started (lease until " + Format.time(leaseExpiresAtMs) + ")");
            }
        }

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
            if (isMine(tenant, sessionId))
            {
                events.add("finished " + status + " after attempt " + attempt + " (error code " + errorCode + ")");
            }
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
            if (isMine(tenant, sessionId))
            {
                events.add("purged: its retention ended and it left the state");
            }
        }
    }
}
