package io.reprise.tools.data;

import java.util.Locale;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.SessionStatus;
import io.reprise.tools.cli.Format;

/** How the tools count and describe sessions of a state (docs/state.md). */
public final class SessionStates
{
    private static final SessionStatus[] ORDER = {
        SessionStatus.PENDING, SessionStatus.READY, SessionStatus.IN_FLIGHT, SessionStatus.COMPLETED,
        SessionStatus.CANCELLED, SessionStatus.DEAD };

    private SessionStates()
    {
    }

    /** Live sessions per status, indexed by {@link SessionStatus#value()}. */
    public static long[] countByStatus(final SessionTable sessions)
    {
        final long[] counts = new long[256];
        for (int record = 0, end = sessions.highWater(); record < end; record++)
        {
            if (sessions.isLive(record))
            {
                counts[sessions.status(record)]++;
            }
        }
        return counts;
    }

    /** {@code pending=N ready=N in-flight=N completed=N cancelled=N dead=N}. */
    public static String describeCounts(final long[] counts)
    {
        final StringBuilder text = new StringBuilder();
        for (final SessionStatus status : ORDER)
        {
            if (text.length() > 0)
            {
                text.append(' ');
            }
            text.append(status.name().toLowerCase(Locale.ROOT).replace('_', '-')).append('=')
                .append(counts[status.value()]);
        }
        return text.toString();
    }

    public static String statusName(final int status)
    {
        final SessionStatus known = SessionStatus.get((short)status);
        return known == SessionStatus.NULL_VAL ? "status-" + status : known.name();
    }

    /**
     * One session's state: {@code IN_FLIGHT attempt=2/8 lease-until=... last-error=503}, with what its timer
     * means in that status (due time, deadline, lease expiry, end of retention).
     */
    public static String describe(final BusinessLogic logic, final int record)
    {
        final SessionTable sessions = logic.sessions();
        final int status = sessions.status(record);
        final StringBuilder text = new StringBuilder(statusName(status));
        text.append(" attempt=").append(sessions.attempt(record)).append('/').append(sessions.maxAttempts(record));
        if (logic.timers().isScheduled(record))
        {
            final String meaning;
            if (status == SessionStatus.PENDING.value())
            {
                meaning = "due";
            }
            else if (status == SessionStatus.READY.value())
            {
                meaning = "deadline";
            }
            else if (status == SessionStatus.IN_FLIGHT.value())
            {
                meaning = "lease-until";
            }
            else
            {
                meaning = "purge-at";
            }
            text.append(' ').append(meaning).append('=').append(Format.time(sessions.timerAt(record)));
        }
        final int error = sessions.lastErrorCode(record);
        text.append(Format.lastError(error));
        return text.toString();
    }
}
