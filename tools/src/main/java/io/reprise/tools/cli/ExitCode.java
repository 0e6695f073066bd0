package io.reprise.tools.cli;

/** Exit statuses of every {@code reprise} verb. */
public final class ExitCode
{
    /** Done, and what was checked holds. */
    public static final int OK = 0;
    /** Done, and something does not hold: corrupt data, a demo that lost a session, an index not reached. */
    public static final int FAILED = 1;
    /** The command line was wrong; nothing was done. */
    public static final int USAGE = 2;
    /** {@code log verify}: the journal ends with a torn record, which the node truncates at its next start. */
    public static final int TORN_TAIL = 3;

    private ExitCode()
    {
    }
}
