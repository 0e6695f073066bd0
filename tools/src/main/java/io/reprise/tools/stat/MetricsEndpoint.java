package io.reprise.tools.stat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.aeron.CommonContext;
import io.reprise.transport.NodeCounters;

/**
 * {@code reprise stat --serve HOST:PORT}: serves the counters of the node on an Aeron directory at {@code /metrics}
 * in the Prometheus text format (version 0.0.4). Each scrape maps the media driver's CnC file, reads the Reprise
 * counters and unmaps it, as {@code reprise stat} does, so the node does nothing new and a node restarted on the
 * same directory is found again. One series per counter and node, labelled with the node's Aeron client id
 * ({@code aeron_client}), since several nodes may share a media driver.
 */
public final class MetricsEndpoint implements AutoCloseable
{
    /** Where the metrics are served. */
    public static final String PATH = "/metrics";
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final String COUNTER = "counter";
    private static final String GAUGE = "gauge";

    /**
     * Name, type and help of each of {@link NodeCounters}' counters, in its order: monotonic counts are counters
     * ({@code _total}), indexes and figures are gauges. Help texts follow docs/client.md's table.
     */
    static final String[][] METRICS = {
        {"reprise_ingress_frames_total", COUNTER, "Frames the ingress took, refused ones included."},
        {"reprise_ingress_frames_refused_total", COUNTER,
            "Ingress frames answered with an error code, and connects refused."},
        {"reprise_ingress_frames_dropped_total", COUNTER,
            "Ingress frames dropped because no connection exists to answer them."},
        {"reprise_connections", GAUGE, "Connected clients."},
        {"reprise_responses_dropped_total", COUNTER,
            "Response, SessionFinished and SessionState messages not delivered: client gone or its backlog overflowed."},
        {"reprise_repeats_dispatched_total", COUNTER, "Attempts sent to a worker."},
        {"reprise_repeats_undeliverable_total", COUNTER, "Attempts started that no worker got."},
        {"reprise_published_index", GAUGE, "Last index put into the ring."},
        {"reprise_durable_index", GAUGE, "Last index journaled and synced (the commit index)."},
        {"reprise_applied_index", GAUGE, "Last index the business logic applied."},
        {"reprise_ring_depth", GAUGE, "Published index minus applied index."},
        {"reprise_last_commit_nanoseconds", GAUGE, "The journal's last group commit (write and fsync), in ns."},
        {"reprise_max_commit_nanoseconds", GAUGE,
            "The longest group commit (write and fsync) since the node started, in ns."},
        {"reprise_sessions_pending", GAUGE, "Sessions pending, summed over destinations."},
        {"reprise_sessions_ready", GAUGE, "Sessions ready, summed over destinations."},
        {"reprise_sessions_in_flight", GAUGE, "Sessions in flight, summed over destinations."},
        {"reprise_sessions_dead", GAUGE, "Sessions dead, summed over destinations."},
        {"reprise_errors_total", COUNTER,
            "Errors of the node (engine, ingress, Aeron client); reprise stat --errors lists each distinct one."},
        {"reprise_workers_dropped_silent_total", COUNTER,
            "Workers dropped for sending nothing, not even a heartbeat, for the worker liveness timeout."},
        {"reprise_clients_disconnected_too_slow_total", COUNTER,
            "Connections the node closed with CLIENT_TOO_SLOW: too slow for their backlog."},
        {"reprise_cluster_member_id", GAUGE, "This member's id in its cluster; -1 for a standalone node."},
        {"reprise_cluster_role", GAUGE,
            "-1 standalone; 0 follower, 1 pre-candidate, 2 candidate, 3 leader."},
        {"reprise_cluster_term", GAUGE, "The member's consensus term."},
        {"reprise_cluster_leader_member_id", GAUGE, "The leader this member knows of in its term; -1 for none."},
        {"reprise_cluster_log_index", GAUGE, "The last index of the member's log."},
        {"reprise_cluster_commit_index", GAUGE, "The highest index the member knows a majority holds."},
        {"reprise_cluster_catch_up", GAUGE,
            "Leading: followers being sent an install or the log they lack; following: 1 while catching up."},
        {"reprise_control_request", GAUGE,
            "A tool's request not yet taken (1 snapshot, 2 cut off, 3 heal, 100 + M transfer leadership to M); 0 none."},
        {"reprise_snapshots_taken_total", COUNTER, "Snapshots the node wrote since it started."},
        {"reprise_cluster_cut_off", GAUGE, "1 while the member is cut off from the others by a control request."},
        {"reprise_sessions_figures_index", GAUGE,
            "The applied index the session counts describe exactly; -1 when entries were applied while they were summed."},
    };

    static
    {
        if (METRICS.length != NodeCounters.count())
        {
            throw new IllegalStateException("every NodeCounters counter needs a metric name: " + METRICS.length +
                " names for " + NodeCounters.count() + " counters");
        }
    }

    private final String aeronDir;
    private final HttpServer server;

    private MetricsEndpoint(final String aeronDir, final HttpServer server)
    {
        this.aeronDir = aeronDir;
        this.server = server;
    }

    /**
     * Binds to {@code address} only (port 0: one the system picks) and serves until {@link #close()}, on one
     * thread of its own.
     */
    public static MetricsEndpoint start(final String aeronDir, final InetSocketAddress address) throws IOException
    {
        final HttpServer server = HttpServer.create(address, 0);
        final MetricsEndpoint endpoint = new MetricsEndpoint(aeronDir, server);
        server.createContext("/", endpoint::handle);
        server.setExecutor(Executors.newSingleThreadExecutor((r) ->
        {
            final Thread thread = new Thread(r, "reprise-metrics");
            thread.setDaemon(true);
            return thread;
        }));
        server.start();
        return endpoint;
    }

    /**
     * Parses where to listen: {@code PORT} (the loopback address), {@code HOST:PORT} or {@code [IPV6]:PORT}, with a
     * port in 0..65535 (0: one the system picks) and a host that resolves.
     *
     * @throws IllegalArgumentException saying what is wrong.
     */
    public static InetSocketAddress parseAddress(final String spec)
    {
        final int colon = spec.lastIndexOf(':');
        String host = colon < 0 ? null : spec.substring(0, colon);
        final String portText = spec.substring(colon + 1);
        if (null != host && host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        else if (null != host && host.indexOf(':') >= 0)
        {
            throw new IllegalArgumentException("an IPv6 address needs brackets, [ADDRESS]:PORT: '" + spec + "'");
        }
        if (null != host && host.isEmpty())
        {
            throw new IllegalArgumentException("no host in '" + spec + "'");
        }
        final int port;
        try
        {
            port = Integer.parseInt(portText);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("port is not a number: '" + portText + "' in '" + spec + "'");
        }
        if (port < 0 || port > 65_535)
        {
            throw new IllegalArgumentException("port must be 0..65535: " + port + " in '" + spec + "'");
        }
        try
        {
            return new InetSocketAddress(
                null == host ? InetAddress.getLoopbackAddress() : InetAddress.getByName(host), port);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("unknown host '" + host + "' in '" + spec + "'", ex);
        }
    }

    /** The address bound, with the port the system picked. */
    public InetSocketAddress address()
    {
        return server.getAddress();
    }

    public void close()
    {
        server.stop(0);
        ((ExecutorService)server.getExecutor()).shutdownNow();
    }

    private void handle(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            final String method = exchange.getRequestMethod();
            if (!PATH.equals(exchange.getRequestURI().getPath()))
            {
                respond(exchange, 404, "not found: the metrics are at " + PATH + "\n", "GET".equals(method));
                return;
            }
            if (!"GET".equals(method) && !"HEAD".equals(method))
            {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "GET or HEAD only\n", true);
                return;
            }
            final StringBuilder text = new StringBuilder(4096);
            final String problem = scrape(aeronDir, text);
            if (null != problem)
            {
                // Prometheus marks the target down on anything but 200: it sees no stale figures.
                respond(exchange, 503, problem + "\n", "GET".equals(method));
                return;
            }
            respond(exchange, 200, text.toString(), "GET".equals(method));
        }
    }

    private static void respond(
        final HttpExchange exchange, final int status, final String body, final boolean withBody) throws IOException
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", 200 == status ? CONTENT_TYPE : "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, withBody ? bytes.length : -1);
        if (withBody)
        {
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(bytes);
            }
        }
    }

    /**
     * Reads the counters of the node on {@code aeronDir} once and appends them in the text format.
     *
     * @return null when done, otherwise why nothing could be read (no driver, a dead driver, no node).
     */
    static String scrape(final String aeronDir, final StringBuilder text)
    {
        try (DriverCnc cnc = DriverCnc.map(aeronDir))
        {
            if (cnc.state() == DriverCnc.State.ABSENT)
            {
                return "no node runs on the Aeron directory " + aeronDir + " (no " + cnc.file() + ")";
            }
            if (cnc.state() == DriverCnc.State.STARTING)
            {
                return "the media driver on " + aeronDir + " is still starting";
            }
            final long heartbeatAgeMs = cnc.heartbeatAgeMs();
            if (heartbeatAgeMs > CommonContext.DRIVER_TIMEOUT_MS)
            {
                return "no node runs on " + aeronDir + ": the media driver has not been heard of for " +
                    heartbeatAgeMs + " ms";
            }
            final Map<Integer, long[]> values = NodeStat.read(cnc.counters());
            if (values.isEmpty())
            {
                return "the media driver on " + aeronDir + " holds no Reprise counters: no node is attached to it";
            }
            format(values, text);
            return null;
        }
    }

    /** {@code values} as {@link NodeStat#read} gives them: {type index, value, owner} by counter id. */
    static void format(final Map<Integer, long[]> values, final StringBuilder text)
    {
        for (int index = 0; index < METRICS.length; index++)
        {
            final String[] metric = METRICS[index];
            final List<long[]> series = new ArrayList<>();
            for (final long[] v : values.values())
            {
                if (v[0] == index)
                {
                    series.add(v);
                }
            }
            if (series.isEmpty())
            {
                continue;
            }
            text.append("# HELP ").append(metric[0]).append(' ').append(metric[2]).append('\n');
            text.append("# TYPE ").append(metric[0]).append(' ').append(metric[1]).append('\n');
            for (final long[] v : series)
            {
                text.append(metric[0]).append("{aeron_client=\"").append(v[2]).append("\"} ").append(v[1])
                    .append('\n');
            }
        }
    }
}
