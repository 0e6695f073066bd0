package io.reprise.tools.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class InProcessDemoTest
{
    private static final int SESSIONS = 5_000;

    @Test
    void shouldAccountForEverySavedSessionAndReachEveryKindOfEnding()
    {
        for (final long seed : new long[] {1, 2, 3})
        {
            System.out.println("InProcessDemoTest seed=" + seed + " sessions=" + SESSIONS);
            final DemoResult result = InProcessDemo.run(seed, SESSIONS, quiet());

            assertEquals(SESSIONS, result.saved(), "every save is accepted, seed " + seed);
            assertEquals(0, result.lost(), "seed " + seed);
            assertEquals(result.saved(),
                result.completed() + result.dead() + result.cancelled() + result.pending(), "seed " + seed);
            assertTrue(result.mismatches().isEmpty(), "events disagree with the engine: " + result.mismatches());
            assertEquals(0, result.unexpectedResults(), "operators refused unexpectedly, seed " + seed);
            assertTrue(result.isConsistent());

            assertTrue(result.completed() > 0, "completed, seed " + seed);
            assertTrue(result.dead() > 0, "dead, seed " + seed);
            assertTrue(result.cancelled() > 0, "cancelled, seed " + seed);
            assertTrue(result.retriedSessions() > 0, "retried, seed " + seed);
            assertTrue(result.pending() > 0, "scheduled for after the horizon, seed " + seed);
            assertTrue(result.workerCrashes() > 0, "leases expired, seed " + seed);
            assertTrue(result.staleReportsRejected() > 0, "late reports rejected, seed " + seed);
            assertTrue(result.redriven() > 0, "dead letters redriven, seed " + seed);
            assertTrue(result.purged() > 0, "purged after retention, seed " + seed);
            assertTrue(result.attemptsStarted() > result.saved() - result.pending() - result.cancelled(),
                "more attempts than sessions, seed " + seed);
        }
    }

    @Test
    void shouldRepeatTheSameRunForTheSameSeed()
    {
        final long seed = 20_260_101L;
        System.out.println("InProcessDemoTest seed=" + seed);
        final ByteArrayOutputStream first = new ByteArrayOutputStream();
        final ByteArrayOutputStream second = new ByteArrayOutputStream();
        final DemoResult a = InProcessDemo.run(seed, 2_000, new PrintStream(first, true, StandardCharsets.UTF_8));
        final DemoResult b = InProcessDemo.run(seed, 2_000, new PrintStream(second, true, StandardCharsets.UTF_8));

        assertEquals(a.digest(), b.digest());
        assertEquals(a.summaryLine(), b.summaryLine());
        assertEquals(a.operatorsApplied(), b.operatorsApplied());
        assertEquals(withoutTiming(first), withoutTiming(second));
    }

    @Test
    void shouldEndWithTheSummaryLine()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DemoResult result = InProcessDemo.run(9, 500, new PrintStream(bytes, true, StandardCharsets.UTF_8));

        final String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\\R");
        final String last = lines[lines.length - 1];
        assertEquals(result.summaryLine(), last);
        assertTrue(last.matches("demo: saved=500 completed=\\d+ dead=\\d+ cancelled=\\d+ pending=\\d+ lost=0"), last);
        assertTrue(lines[0].contains("seed=9"), lines[0]);
    }

    private static String withoutTiming(final ByteArrayOutputStream bytes)
    {
        return bytes.toString(StandardCharsets.UTF_8).replaceAll("(?m)^took .*$", "");
    }

    private static PrintStream quiet()
    {
        return new PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
