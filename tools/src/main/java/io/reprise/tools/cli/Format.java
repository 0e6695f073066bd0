package io.reprise.tools.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import io.reprise.engine.logic.BusinessLogic;

/** How the tools print times, digests and checksums. */
public final class Format
{
    private static final DateTimeFormatter UTC =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Later than this is not a wall-clock time but a "never" (the engine's NO_DEADLINE, an unset field). */
    private static final long LATEST_PRINTABLE_MS = 253_402_300_799_999L; // 9999-12-31T23:59:59.999Z

    private Format()
    {
    }

    /** Epoch milliseconds as an ISO-8601 UTC time; 0 as "0", out-of-range values as their number. */
    public static String time(final long epochMs)
    {
        if (epochMs == 0)
        {
            return "0";
        }
        if (epochMs < 0 || epochMs > LATEST_PRINTABLE_MS)
        {
            return epochMs == Long.MAX_VALUE ? "never" : Long.toString(epochMs);
        }
        return UTC.format(Instant.ofEpochMilli(epochMs));
    }

    public static String hex64(final long value)
    {
        return String.format("0x%016x", value);
    }

    public static String hex32(final int value)
    {
        return String.format("0x%08x", value);
    }

    /** " last-error=N", with what the engine's own codes mean, or "" for no error. */
    public static String lastError(final int errorCode)
    {
        if (errorCode == 0)
        {
            return "";
        }
        final String meaning = errorCode == BusinessLogic.LEASE_EXPIRED_ERROR ?
            " (lease expired)" : errorCode == BusinessLogic.DEADLINE_EXCEEDED_ERROR ?
            " (deadline exceeded)" : "";
        return " last-error=" + errorCode + meaning;
    }
}
