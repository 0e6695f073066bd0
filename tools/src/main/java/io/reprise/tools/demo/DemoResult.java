package io.reprise.tools.demo;

import java.util.List;

/**
 * What one demo run found; {@link #summaryLine()} is the demo's last line. {@code saved} counts every session
 * the run accounts for: those already in the state when it started ({@code adopted}, a restart) plus those it
 * saved. {@code lost} is computed from the counts and the engine's figures, never assumed.
 */
public record DemoResult(
    long seed,
    int sessions,
    long saved,
    long completed,
    long dead,
    long cancelled,
    long pending,
    long lost,
    long adopted,
    long attemptsStarted,
    long retriedSessions,
    long workerCrashes,
    long staleReportsRejected,
    long duplicateSavesRejected,
    long cancelsTooLate,
    long redriven,
    long purged,
    long deadByDeadline,
    long operatorsApplied,
    long unexpectedResults,
    List<String> mismatches,
    long digest)
{
    public String summaryLine()
    {
        return "demo: saved=" + saved + " completed=" + completed + " dead=" + dead + " cancelled=" + cancelled +
            " pending=" + pending + " lost=" + lost;
    }

    /** Every session accounted for, the events agreeing with the engine, and no operator refused unexpectedly. */
    public boolean isConsistent()
    {
        return lost == 0 && mismatches.isEmpty() && unexpectedResults == 0;
    }
}
