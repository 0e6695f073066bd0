package io.reprise.tools.log;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogDumpTest
{
    private static final int SESSIONS = 40;

    @TempDir
    static Path shared;
    static NodeFixture node;

    @BeforeAll
    static void buildDataDirectory() throws Exception
    {
        node = new NodeFixture(shared.resolve("node"), SESSIONS, 600).build();
    }

    private static List<String> records(final NodeFixture.Run run)
    {
        return Arrays.stream(run.out().split("\\R")).filter((l) -> l.startsWith("index=")).collect(Collectors.toList());
    }

    @Test
    void shouldDecodeEveryRecordWithEveryField()
    {
        final NodeFixture.Run run = reprise("log", "dump", node.dir().toString());

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertEquals("dump: shown=" + node.appliedIndex() + " read=" + node.appliedIndex(), run.lastLine());
        final List<String> records = records(run);
        assertEquals(node.appliedIndex(), records.size());
        // The time process proposes the first SetTime as soon as it sees the clock: at its start, or 10 ms on.
        assertTrue(records.get(0).matches("index=1 term=1 ts=2026-01-01T00:00:00\\.0[01]0Z SetTime " +
            "timeMs=17672256000[01]0 \\(2026-01-01T00:00:00\\.0[01]0Z\\)"), records.get(0));
        assertTrue(run.out().contains(" SaveSession clientId=1 correlationId=2 tenant=1 sessionId=1 destination=1 " +
            "dueAtMs=0 initialDelayMs=0 backoffInitialMs=1000 backoffMaxMs=1000 backoffMultiplierPermille=2000 " +
            "jitterPermille=0 maxAttempts=3 leaseMs=5000 ttlMs=0 payload=600 bytes"), run.toString());
        assertTrue(run.out().contains(" ReportOutcome clientId=2 correlationId=2 tenant=1 sessionId=2 destination=1 " +
            "attempt=1 outcome=RETRY errorCode=503 retryAfterMs=0 errorText=0 bytes"), run.toString());
        assertTrue(run.out().contains(" BeginRepeats destination=1 maxCount=1024"), run.toString());
        assertTrue(run.out().contains(" ConfigureDestination clientId=1 correlationId=1 tenant=1 destination=1 " +
            "inFlightLimit=10000"), run.toString());
        assertTrue(run.out().contains(" CancelSession clientId=1 correlationId=" ), run.toString());
    }

    @Test
    void shouldFilterByTypeSessionTenantAndIndexRange()
    {
        NodeFixture.Run run = reprise("log", "dump", node.dir().toString(), "--type", "SaveSession");
        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertEquals(SESSIONS + 1, records(run).size(), run.toString());
        assertTrue(records(run).stream().allMatch((l) -> l.contains(" SaveSession ")), run.toString());

        run = reprise("log", "dump", node.dir().toString(), "--type=setTime,BEGINREPEATS");
        assertTrue(records(run).stream().allMatch((l) -> l.contains(" SetTime ") || l.contains(" BeginRepeats ")));
        assertEquals(2, records(run).stream().filter((l) -> l.contains(" BeginRepeats ")).count(), run.toString());

        run = reprise("log", "dump", node.dir().toString(), "--session", "2", "--tenant", "1");
        final List<String> story = records(run);
        assertEquals(3, story.size(), run.toString());
        assertTrue(story.get(0).contains(" SaveSession ") && story.get(1).contains("outcome=RETRY") &&
            story.get(2).contains("attempt=2 outcome=SUCCEEDED"), run.toString());

        run = reprise("log", "dump", node.dir().toString(), "--tenant", "2");
        assertEquals(0, records(run).size(), run.toString());
        assertEquals("dump: shown=0 read=" + node.appliedIndex(), run.lastLine());

        run = reprise("log", "dump", node.dir().toString(), "--from", "5", "--to", "9");
        assertEquals(List.of(5L, 6L, 7L, 8L, 9L), records(run).stream()
            .map((l) -> Long.parseLong(l.substring(6, l.indexOf(' ')))).collect(Collectors.toList()));
        assertEquals("dump: shown=5 read=5", run.lastLine());
    }

    @Test
    void shouldRefuseBadArguments()
    {
        final String dir = node.dir().toString();
        NodeFixture.Run run = reprise("log", "dump", dir, "--type", "Bogus");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--type: unknown operator 'Bogus' (known: SaveSession, "), run.toString());

        run = reprise("log", "dump", dir, "--from", "0");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--from must be 1.."), run.toString());

        run = reprise("log", "dump", dir, "--from", "9", "--to", "5");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--to 5 is before --from 9"), run.toString());

        run = reprise("log", "dump", dir, "--tenant", "one");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--tenant is not a number: 'one'"), run.toString());

        run = reprise("log", "dump", dir, "--session");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--session needs a value"), run.toString());

        run = reprise("log", "dump", dir, "--from", "1", "--from", "2");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--from given twice"), run.toString());
        assertEquals("", run.out());
    }

    @Test
    void shouldStopAtATornRecordAndSaySo(@TempDir final Path tmp) throws Exception
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final LogVerifyTest.Located last = LogVerifyTest.locate(dir, node.appliedIndex());
        LogVerifyTest.write(last.file(), (last.offset() / 512 + 1) * 512, new byte[512]);

        final NodeFixture.Run run = reprise("log", "dump", dir.toString(), "--type", "SaveSession");

        assertEquals(ExitCode.TORN_TAIL, run.exit(), run.toString());
        assertTrue(run.out().contains("dump: stopped at a TORN record: " + last.file() + " at offset " +
            last.offset()), run.toString());
        assertEquals("dump: shown=" + SESSIONS + " read=" + (node.appliedIndex() - 1), run.lastLine());
    }
}
