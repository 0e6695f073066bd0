package io.reprise.tools.stat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.tools.cli.ExitCode;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeStatTest
{
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int stat(final String... args) throws Exception
    {
        out.reset();
        err.reset();
        return NodeStat.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintTheCountersOfARunningNode() throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        try (RepriseNode node = RepriseNode.start(
            new NodeContext().dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(8L * 1024 * 1024).ringSize(1024),
            new TransportContext().aeronDirectoryName(aeronDir).ingressUdpChannel(null).tokens("1=stat-token"));
            RepriseClient client = RepriseClient.connect(
                new ClientContext().aeronDirectoryName(aeronDir).tenant(1).token("stat-token"),
                (correlationId, templateId, code, value) -> { }))
        {
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
            for (long id = 1; id <= 3; id++)
            {
                assertEquals(ResultCode.OK, client.saveAndAwait(id, 1,
                    new SessionPolicy().initialDelayMs(3_600_000), payload, 0, payload.capacity()));
            }

            // The ingress agent refreshes the engine's figures a few times a second.
            final long deadline = System.nanoTime() + 10_000_000_000L;
            long applied;
            do
            {
                assertEquals(ExitCode.OK, stat("--aeron-dir", aeronDir), err.toString(StandardCharsets.UTF_8));
                applied = value("applied index");
            }
            while (applied < 3 && System.nanoTime() < deadline);
            final String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(applied >= 3, text);
            assertEquals(1, value("connections"), text);
            assertTrue(value("ingress frames") >= 4, text); // the connect and three saves
            assertEquals(0, value("errors"), text);
            assertEquals(0, value("clients disconnected: too slow for their backlog"), text);
            assertTrue(text.contains("stat: " + aeronDir + " driver pid " + ProcessHandle.current().pid()), text);

            // Two samples: the second also gives the change per second.
            assertEquals(ExitCode.OK, stat("--aeron-dir", aeronDir, "--count", "2", "--interval-ms", "50"));
            final String two = out.toString(StandardCharsets.UTF_8);
            assertTrue(two.contains("(sample 2 of 2)"), two);
            assertTrue(two.matches("(?s).*applied index\\s+[\\d,]+\\s+\\+[\\d,]+/s.*"), two);
        }
    }

    @Test
    void shouldSayClearlyWhenNoNodeRuns() throws Exception
    {
        assertEquals(ExitCode.FAILED, stat("--aeron-dir", dir.resolve("nothing").toString()));
        final String error = err.toString(StandardCharsets.UTF_8);
        assertTrue(error.contains("no node runs on the Aeron directory"), error);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    /** The value printed for a counter in the last output. */
    private long value(final String label)
    {
        final Matcher matcher = Pattern.compile("(?m)^  " + Pattern.quote(label) + "\\s+(-?[\\d,]+)")
            .matcher(out.toString(StandardCharsets.UTF_8));
        assertTrue(matcher.find(), label + " in\n" + out.toString(StandardCharsets.UTF_8));
        return Long.parseLong(matcher.group(1).replace(",", ""));
    }
}
