package io.reprise.tools.session;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionStatusQueryTest
{
    private static final long DUE_AT_MS = 4_102_444_800_000L; // 2100-01-01

    @TempDir
    Path dir;

    @Test
    void shouldPrintTheStateOfASessionOfARunningNode() throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        try (RepriseNode node = RepriseNode.start(
            new NodeContext().dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(8L * 1024 * 1024).ringSize(1024),
            new TransportContext().aeronDirectoryName(aeronDir).ingressUdpChannel(null)
                .tokens("1=one-token,2=two-token"));
            RepriseClient client = RepriseClient.connect(
                new ClientContext().aeronDirectoryName(aeronDir).tenant(1).token("one-token"),
                (correlationId, templateId, code, value) -> { }))
        {
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
            assertEquals(ResultCode.OK, client.saveAndAwait(42, 7, new SessionPolicy().dueAtMs(DUE_AT_MS), payload, 0,
                payload.capacity()));

            final NodeFixture.Run pending = reprise("session", "status", "1:42", "--aeron-dir", aeronDir, "--token",
                "one-token");
            assertEquals(ExitCode.OK, pending.exit(), pending.toString());
            final String[] lines = pending.out().split("\\R");
            assertEquals("session 1:42: PENDING destination=7 attempt=0 due=" + Format.time(DUE_AT_MS), lines[0],
                pending.toString());
            assertTrue(lines[1].matches("as of applied index \\d+, node system time \\d{4}-\\S+Z \\(node on " +
                java.util.regex.Pattern.quote(aeronDir) + "\\)"), pending.toString());

            final NodeFixture.Run unknown = reprise("session", "status", "1:43", "--aeron-dir", aeronDir, "--token",
                "one-token");
            assertEquals(ExitCode.FAILED, unknown.exit(), unknown.toString());
            assertTrue(unknown.out().startsWith("session 1:43: UNKNOWN_SESSION: not in the node's state"),
                unknown.toString());

            // Tenant 2 does not see tenant 1's session.
            final NodeFixture.Run foreign = reprise("session", "status", "2:42", "--aeron-dir", aeronDir, "--token",
                "two-token");
            assertEquals(ExitCode.FAILED, foreign.exit(), foreign.toString());
            assertTrue(foreign.out().startsWith("session 2:42: UNKNOWN_SESSION"), foreign.toString());

            final NodeFixture.Run wrongToken = reprise("session", "status", "1:42", "--aeron-dir", aeronDir,
                "--token", "two-token");
            assertEquals(ExitCode.FAILED, wrongToken.exit(), wrongToken.toString());
            assertTrue(wrongToken.err().contains("AUTHENTICATION_FAILED") &&
                wrongToken.err().contains("--token"), wrongToken.toString());
        }
    }

    @Test
    void shouldSayClearlyWhenNoNodeRunsOrTheKeyIsWrong()
    {
        final NodeFixture.Run none = reprise("session", "status", "1:42", "--aeron-dir",
            dir.resolve("nothing").toString());
        assertEquals(ExitCode.FAILED, none.exit(), none.toString());
        assertTrue(none.err().contains("no node runs on the Aeron directory"), none.toString());
        assertEquals("", none.out());

        final NodeFixture.Run usage = reprise("session", "status", "42");
        assertEquals(ExitCode.USAGE, usage.exit(), usage.toString());
        assertTrue(usage.err().contains("TENANT:ID expected, e.g. 1:42, got '42'"), usage.toString());
    }
}
