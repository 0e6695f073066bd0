package io.reprise.tools.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeDemoTest
{
    /** One simulated minute a run, a tick every 250 ms: a few hundred journal syncs, about a second. */
    private static final DemoScenario.Timing SHORT = new DemoScenario.Timing(250, 15_000, 30_000, 60_000, 30_000);
    private static final int SESSIONS = 1_000;

    private static String[] lines(final ByteArrayOutputStream bytes)
    {
        return bytes.toString(StandardCharsets.UTF_8).split("\\R");
    }

    @Test
    void shouldRestartFromWhatTheFirstRunLeftAndAccountForBothRuns(@TempDir final Path tmp) throws Exception
    {
        final Path dir = tmp.resolve("data");
        final ByteArrayOutputStream first = new ByteArrayOutputStream();
        System.out.println("NodeDemoTest seed=41,42 sessions=" + SESSIONS);
        final DemoResult a = NodeDemo.run(41, SESSIONS, dir, SHORT, new PrintStream(first, true, StandardCharsets.UTF_8));

        final String[] firstLines = lines(first);
        assertTrue(String.join("\n", firstLines).contains("new data directory " + dir + ": nothing to restore"),
            first.toString(StandardCharsets.UTF_8));
        assertEquals(a.summaryLine(), firstLines[firstLines.length - 1]);
        assertTrue(a.isConsistent(), first.toString(StandardCharsets.UTF_8));
        assertEquals(SESSIONS, a.saved());
        assertEquals(0, a.adopted());
        assertTrue(a.completed() > 0 && a.dead() > 0 && a.pending() > 0, a.toString());
        assertTrue(Files.isDirectory(dir.resolve("journal")) && Files.isRegularFile(
            dir.resolve("snapshots").resolve("catalog.log")), "the node's files are in the data directory");

        final ByteArrayOutputStream second = new ByteArrayOutputStream();
        final DemoResult b = NodeDemo.run(42, SESSIONS, dir, SHORT, new PrintStream(second, true,
            StandardCharsets.UTF_8));

        final String text = second.toString(StandardCharsets.UTF_8);
        final String[] secondLines = lines(second);
        final String restarted = java.util.Arrays.stream(secondLines).filter((l) -> l.startsWith("restarted from "))
            .findFirst().orElseThrow(() -> new AssertionError(text));
        assertTrue(restarted.matches("restarted from " + java.util.regex.Pattern.quote(dir.toString()) + ": " +
            "(no snapshot|snapshot index=\\d+ \\(\\d{20}\\.snapshot\\)), replayed \\d+ records to index " +
            a.operatorsApplied() + ", " + a.saved() + " sessions live \\(pending=.*\\)"), restarted);
        assertTrue(text.contains("  simulated time resumes at 2026-01-01T00:01:00.000Z"), text);
        assertTrue(secondLines[secondLines.length - 1].matches(
            "demo: saved=" + (2 * SESSIONS) + " completed=\\d+ dead=\\d+ cancelled=\\d+ pending=\\d+ lost=0"), text);
        assertEquals(b.summaryLine(), secondLines[secondLines.length - 1]);
        assertEquals(a.saved(), b.adopted(), "every session of the first run is in the state at the start of the second");
        assertTrue(b.isConsistent(), text);
        assertTrue(b.completed() >= a.completed() && b.dead() + b.completed() > a.dead() + a.completed(), text);
    }

    @Test
    void shouldRefuseAFileAndADirectoryItDidNotWrite(@TempDir final Path tmp) throws Exception
    {
        final Path file = Files.createFile(tmp.resolve("file"));
        NodeFixture.Run refused = NodeFixture.reprise("demo", "--data-dir", file.toString());
        assertEquals(ExitCode.USAGE, refused.exit());
        assertTrue(refused.err().contains("--data-dir '" + file + "' exists and is not a directory"),
            refused.toString());

        // Sessions of tenant 1 on destination 1: the demo's destination 1 belongs to tenant 2.
        final NodeFixture other = new NodeFixture(tmp.resolve("other"), 5, 16).build();
        refused = NodeFixture.reprise("demo", "--simulated", "--data-dir", other.dir().toString());
        assertEquals(ExitCode.FAILED, refused.exit());
        assertTrue(refused.err().contains("reprise demo: session 1:1 of destination 1 is not one the demo saves"),
            refused.toString());
    }
}
