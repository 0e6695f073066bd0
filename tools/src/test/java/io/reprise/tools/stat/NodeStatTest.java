package io.reprise.tools.stat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.InProcessClient;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /**
     * A node whose disk is full fails the same snapshot write again and again: its error log holds each distinct
     * error once with its count, which {@code stat --errors} prints with the times and the trace, while the node
     * printed each distinct error's trace once to stderr; the "errors" counter counts every occurrence.
     */
    @Test
    void shouldPrintEachDistinctErrorOnceWithItsCount() throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        final SimulatedDisk disk = new SimulatedDisk(11);
        final ByteArrayOutputStream nodeErr = new ByteArrayOutputStream();
        final PrintStream stderr = System.err;
        System.setErr(new PrintStream(nodeErr, true, StandardCharsets.UTF_8));
        final long observed;
        final long clientId;
        try (RepriseNode node = RepriseNode.start(
            new NodeContext().dataDirectory(Path.of("/sim/node")).disk(disk)
                .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(8L * 1024 * 1024).ringSize(1024)
                .snapshotEveryOperators(50).snapshotEveryMs(100),
            new TransportContext().aeronDirectoryName(aeronDir).ingressUdpChannel(null).tokens("1=stat-token")))
        {
            clientId = node.aeronClientId();
            final InProcessClient client = node.node().newClient(1, (index, correlationId, templateId, code, v) -> { });
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[128]);
            final SessionPolicy policy = new SessionPolicy().initialDelayMs(3_600_000);
            save(client, 1, policy, payload);
            // The journal's segment is preallocated: saves go on; a snapshot needs new space, of which there is none.
            disk.capacityBytes(disk.usedBytes());
            for (long id = 2; id <= 200; id++)
            {
                save(client, id, policy, payload);
            }
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (node.errorReporter().observations() < 4 && System.nanoTime() < deadline)
            {
                Thread.sleep(10);
            }
            assertTrue(node.errorReporter().observations() >= 4, "errors: " + node.errorReporter().observations());

            assertEquals(ExitCode.OK, stat("--aeron-dir", aeronDir, "--errors"), err.toString(StandardCharsets.UTF_8));
            final String text = out.toString(StandardCharsets.UTF_8);
            final Matcher head = Pattern.compile("errors: node on " + Pattern.quote(aeronDir) + " \\(Aeron client " +
                clientId + "\\): (\\d+) distinct, (\\d+) in all\n").matcher(text);
            assertTrue(head.find(), text);
            final int distinct = Integer.parseInt(head.group(1));
            observed = Long.parseLong(head.group(2));
            assertTrue(observed >= 4 && distinct < observed, "repeats are counted, not logged again: " + text);
            final Matcher entry = Pattern.compile("(?m)^error (\\d+) of " + distinct + ": (\\d+) times?, first " +
                "(\\S+), last (\\S+):$").matcher(text);
            long sum = 0;
            int entries = 0;
            while (entry.find())
            {
                entries++;
                sum += Long.parseLong(entry.group(2));
                assertTrue(Instant.parse(entry.group(3)).compareTo(Instant.parse(entry.group(4))) <= 0, text);
            }
            assertEquals(distinct, entries, text);
            assertTrue(sum >= observed, text); // read a moment later, the counts may have grown
            assertTrue(text.contains("No space left on device"), text);
            assertTrue(text.contains("\n  \tat io.reprise.engine."), "the trace, indented: " + text);

            // The counter counts every occurrence; stderr had the first of each, with its trace, and no more.
            assertEquals(ExitCode.OK, stat("--aeron-dir", aeronDir));
            assertTrue(value("errors") >= observed, out.toString(StandardCharsets.UTF_8));
            final String printed = nodeErr.toString(StandardCharsets.UTF_8);
            assertEquals(node.errorReporter().distinctErrors(),
                count(printed, "reprise: error (first occurrence; repeats are counted, see reprise stat --errors " +
                "--aeron-dir " + aeronDir + ")"), printed);
            assertTrue(count(printed, "No space left on device") <= node.errorReporter().distinctErrors() * 3,
                "each distinct trace printed once: " + printed);
        }
        finally
        {
            System.setErr(stderr);
        }
        // A node deletes its files when it stops.
        assertEquals(ExitCode.FAILED, stat("--aeron-dir", aeronDir, "--errors"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no node's error log in " + aeronDir),
            err.toString(StandardCharsets.UTF_8));
        assertTrue(clientId >= 0);
    }

    @Test
    void shouldPrintTheSettingsOfARunningNode() throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        try (RepriseNode node = RepriseNode.start(
            new NodeContext().dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(8L * 1024 * 1024).ringSize(1024),
            new TransportContext().aeronDirectoryName(aeronDir).ingressUdpChannel(null).tokens("1=secret-token"),
            Map.of("reprise.ring.size", "node.properties")))
        {
            assertEquals(ExitCode.OK, stat("--aeron-dir", aeronDir, "--settings"), err.toString(StandardCharsets.UTF_8));
            final String all = out.toString(StandardCharsets.UTF_8);
            assertTrue(all.startsWith("settings: node on " + aeronDir + " (Aeron client " + node.aeronClientId() +
                "): " + settingsOfTheNode() + " effective settings ("), all);
            assertTrue(all.matches("(?s).*\n  reprise\\.ring\\.size +\\= 1024   \\(node\\.properties\\)\n.*"), all);
            assertTrue(all.matches("(?s).*\n  reprise\\.rules\\.max\\.sessions +\\= 4096   \\(set by the program\\)\n.*"),
                all);
            assertTrue(all.matches("(?s).*\n  reprise\\.ring\\.max\\.batch +\\= 4096\n.*"), "a default: " + all);
            assertTrue(all.matches("(?s).*\n  reprise\\.auth\\.tokens +\\= 1=\\*\\*\\*   \\(set by the program\\)\n.*"),
                all);
            assertFalse(all.contains("secret-token"), all);

            // After the counters: those that are not the defaults.
            assertEquals(ExitCode.OK, stat("--aeron-dir", aeronDir));
            final String counters = out.toString(StandardCharsets.UTF_8);
            assertTrue(counters.contains("\nsettings: node on " + aeronDir + " (Aeron client " + node.aeronClientId() +
                "): "), counters);
            assertTrue(counters.contains(" not the defaults (stat --settings prints all):\n"), counters);
            assertTrue(counters.matches("(?s).*\n  reprise\\.ring\\.size +\\= 1024   \\(node\\.properties\\)\n.*"),
                counters);
            assertFalse(counters.contains("reprise.ring.max.batch"), counters);
        }
    }

    private static long settingsOfTheNode()
    {
        return io.reprise.transport.Settings.all().stream().filter((s) -> s.scope().ofNode()).count();
    }

    private static void save(
        final InProcessClient client, final long id, final SessionPolicy policy, final UnsafeBuffer payload)
    {
        ResultCode code;
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while ((code = client.save(id, 1, policy, payload, 0, payload.capacity())) == ResultCode.BACK_PRESSURE ||
            code == ResultCode.STORAGE_UNAVAILABLE)
        {
            assertTrue(System.nanoTime() < deadline, "save " + id + ": " + code);
            Thread.onSpinWait();
        }
        assertEquals(ResultCode.OK, code);
    }

    private static int count(final String text, final String what)
    {
        int count = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1))
        {
            count++;
        }
        return count;
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
