package io.reprise.tools.stat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.NodeCounters;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsEndpointTest
{
    /** A sample line: {@code name{labels} value}, the value an integer (our counters are all int64). */
    private static final Pattern SAMPLE =
        Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{aeron_client=\"(\\d+)\"\\} (-?\\d+)");
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void shouldServeTheCountersOfARunningNodeInThePrometheusTextFormat() throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        try (RepriseNode node = startNode(aeronDir);
            RepriseClient client = RepriseClient.connect(
                new ClientContext().aeronDirectoryName(aeronDir).tenant(1).token("metrics-token"),
                (correlationId, templateId, code, value) -> { });
            MetricsEndpoint endpoint = MetricsEndpoint.start(
                aeronDir, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
        {
            assertTrue(endpoint.address().getAddress().isLoopbackAddress());
            final URI uri = URI.create("http://127.0.0.1:" + endpoint.address().getPort() + MetricsEndpoint.PATH);

            final HttpResponse<String> first = get(uri);
            assertEquals(200, first.statusCode(), first.body());
            assertEquals(MetricsEndpoint.CONTENT_TYPE, first.headers().firstValue("Content-Type").orElse(null));
            final Map<String, Long> before = parse(first.body());
            assertEquals(NodeCounters.count(), before.size(), first.body());
            assertEquals(1, before.get("reprise_connections"), first.body());
            assertEquals(0, before.get("reprise_errors_total"), first.body());

            final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
            final int saves = 5;
            for (long id = 1; id <= saves; id++)
            {
                assertEquals(ResultCode.OK, client.saveAndAwait(id, 1,
                    new SessionPolicy().initialDelayMs(3_600_000), payload, 0, payload.capacity()));
            }

            // The ingress thread copies the engine's figures in every 10 ms, the session counts every 500 ms.
            final long deadline = System.nanoTime() + 10_000_000_000L;
            Map<String, Long> after;
            do
            {
                after = parse(get(uri).body());
            }
            while ((after.get("reprise_sessions_pending") < before.get("reprise_sessions_pending") + saves ||
                after.get("reprise_applied_index") < before.get("reprise_applied_index") + saves) &&
                System.nanoTime() < deadline);

            assertTrue(after.get("reprise_ingress_frames_total") >= before.get("reprise_ingress_frames_total") + saves,
                after.toString());
            assertTrue(after.get("reprise_applied_index") >= before.get("reprise_applied_index") + saves,
                after.toString());
            assertTrue(after.get("reprise_durable_index") >= after.get("reprise_applied_index"), after.toString());
            assertEquals(before.get("reprise_sessions_pending") + saves, after.get("reprise_sessions_pending"),
                after.toString());

            assertEquals(404, get(URI.create("http://127.0.0.1:" + endpoint.address().getPort() + "/")).statusCode());
            final HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
        }
    }

    @Test
    void shouldAnswerServiceUnavailableWhenNoNodeRuns() throws Exception
    {
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(
            dir.resolve("nothing").toString(), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
        {
            final HttpResponse<String> response =
                get(URI.create("http://127.0.0.1:" + endpoint.address().getPort() + MetricsEndpoint.PATH));
            assertEquals(503, response.statusCode());
            assertTrue(response.body().contains("no node runs on the Aeron directory"), response.body());
        }
    }

    @Test
    void shouldServeFromTheCommandLineUntilInterrupted() throws Exception
    {
        final String aeronDir = dir.resolve("aeron").toString();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int[] status = {-1};
        try (RepriseNode node = startNode(aeronDir))
        {
            final Thread thread = new Thread(() ->
            {
                try
                {
                    status[0] = NodeStat.run(List.of("--aeron-dir", aeronDir, "--serve", "127.0.0.1:0"),
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
                }
                catch (final UsageException ex)
                {
                    status[0] = ExitCode.USAGE;
                }
            });
            thread.start();
            final Pattern serving = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+/metrics) until interrupted");
            final long deadline = System.nanoTime() + 10_000_000_000L;
            Matcher matcher;
            while (!(matcher = serving.matcher(out.toString(StandardCharsets.UTF_8))).find() &&
                System.nanoTime() < deadline)
            {
                Thread.sleep(10);
            }
            assertTrue(matcher.find(0), out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
            final HttpResponse<String> response = get(URI.create(matcher.group(1)));
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(NodeCounters.count(), parse(response.body()).size());

            thread.interrupt();
            thread.join(5_000);
            assertEquals(ExitCode.OK, status[0]);
        }
    }

    @Test
    void shouldParseWhereToListen()
    {
        assertEquals(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9464),
            MetricsEndpoint.parseAddress("9464"));
        assertEquals(9464, MetricsEndpoint.parseAddress("127.0.0.1:9464").getPort());
        assertTrue(MetricsEndpoint.parseAddress("[::1]:9464").getAddress().isLoopbackAddress());
        assertThrows(IllegalArgumentException.class, () -> MetricsEndpoint.parseAddress("localhost:x"));
        assertThrows(IllegalArgumentException.class, () -> MetricsEndpoint.parseAddress("::1:9464"));
        assertThrows(IllegalArgumentException.class, () -> MetricsEndpoint.parseAddress("localhost:70000"));
        assertThrows(UsageException.class, () -> NodeStat.run(List.of("--serve", "9464", "--count", "2"),
            System.out, System.err));
    }

    private HttpResponse<String> get(final URI uri) throws Exception
    {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Checks the text format: every line a HELP or TYPE comment or a sample, HELP and TYPE once per metric and before
     * its sample, each metric once (one node), counters named {@code _total}.
     *
     * @return each metric's value by name.
     */
    private static Map<String, Long> parse(final String body)
    {
        assertTrue(body.endsWith("\n"), body);
        final Map<String, Long> values = new HashMap<>();
        final Map<String, String> types = new HashMap<>();
        final Set<String> helps = new HashSet<>();
        for (final String line : body.split("\n"))
        {
            final Matcher comment = COMMENT.matcher(line);
            final Matcher sample = SAMPLE.matcher(line);
            if (comment.matches())
            {
                final String name = comment.group(2);
                assertNull(values.get(name), "comment after the sample of " + name);
                if ("HELP".equals(comment.group(1)))
                {
                    assertTrue(helps.add(name), "HELP twice for " + name);
                }
                else
                {
                    assertNull(types.put(name, comment.group(3)), "TYPE twice for " + name);
                    assertTrue(Set.of("counter", "gauge").contains(comment.group(3)), line);
                    assertEquals(comment.group(3).equals("counter"), name.endsWith("_total"), line);
                }
            }
            else if (sample.matches())
            {
                final String name = sample.group(1);
                assertTrue(name.startsWith("reprise_"), line);
                assertNotNull(types.get(name), "no TYPE before " + line);
                assertTrue(helps.contains(name), "no HELP before " + line);
                assertNull(values.put(name, Long.parseLong(sample.group(3))), "twice: " + name);
            }
            else
            {
                throw new AssertionError("neither a comment nor a sample: '" + line + "' in\n" + body);
            }
        }
        return values;
    }

    private RepriseNode startNode(final String aeronDir) throws IOException
    {
        return RepriseNode.start(
            new NodeContext().dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(8L * 1024 * 1024).ringSize(1024),
            new TransportContext().aeronDirectoryName(aeronDir).ingressUdpChannel(null).tokens("1=metrics-token"));
    }
}
