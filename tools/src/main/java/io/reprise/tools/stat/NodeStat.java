package io.reprise.tools.stat;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

import io.aeron.CommonContext;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.NodeCounters;
import io.reprise.transport.TransportContext;
import org.agrona.concurrent.status.CountersReader;

/**
 * {@code reprise stat}: reads the counters a running node keeps in its media driver's CnC file (NodeCounters in
 * the transport) from another process, the way Aeron's AeronStat does, and prints each Reprise counter. Changes
 * nothing. With {@code --count N} it samples N times, {@code --interval-ms} apart, and from the second sample on
 * also prints how much each counter changed per second.
 */
public final class NodeStat
{
    public static final String USAGE = "stat [--aeron-dir DIR] [--interval-ms N] [--count N] [--serve [HOST:]PORT] " +
        "[--errors] [--settings]";
    public static final String DESCRIPTION =
        "Prints the counters of the node running on the Aeron directory DIR (default " +
        TransportContext.AERON_DIR_DEFAULT + ",\n" +
        "or -Dreprise.aeron.dir): ingress frames, connections, published/durable/applied index, ring depth,\n" +
        "commit times, sessions by state, errors, clients disconnected as too slow. --count samples (default\n" +
        "1), --interval-ms apart (default 1000), with the change per second from the second sample on. Exit 1\n" +
        "when no node runs there. --serve serves them at http://HOST:PORT/metrics in the Prometheus text\n" +
        "format until interrupted, bound to HOST only (default the loopback address). After the counters: the\n" +
        "node's settings that are not the defaults. --settings prints every effective setting instead of the\n" +
        "counters; --errors the node's distinct errors: count, first and last time, trace.";

    private static final Set<String> OPTIONS = Set.of("--aeron-dir", "--interval-ms", "--count", "--serve");
    private static final Set<String> FLAGS = Set.of("--errors", "--settings");

    private NodeStat()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final Args args = Args.parse("stat", tokens, OPTIONS, FLAGS);
        final String aeronDir = args.has("--aeron-dir") ? args.option("--aeron-dir") :
            System.getProperty(TransportContext.AERON_DIR_PROP_NAME, TransportContext.AERON_DIR_DEFAULT);
        if (args.has("--errors") || args.has("--settings"))
        {
            for (final String other : new String[] {"--serve", "--count", "--interval-ms"})
            {
                if (args.has(other))
                {
                    throw new UsageException((args.has("--errors") ? "--errors" : "--settings") + " prints once: no " +
                        other);
                }
            }
            if (args.has("--errors") && args.has("--settings"))
            {
                throw new UsageException("--errors or --settings, not both");
            }
            return args.has("--errors") ? NodeFileViews.errors(aeronDir, out, err) :
                NodeFileViews.settings(aeronDir, nodeOwners(aeronDir, err), true, out, err);
        }
        if (args.has("--serve"))
        {
            if (args.has("--count") || args.has("--interval-ms"))
            {
                throw new UsageException("--serve reads the counters at each scrape: no --count or --interval-ms");
            }
            return serve(aeronDir, args.option("--serve"), out, err);
        }
        final long intervalMs = args.longOption("--interval-ms", 1_000, 1, 3_600_000);
        final long count = args.longOption("--count", 1, 1, Long.MAX_VALUE);

        try (DriverCnc cnc = DriverCnc.map(aeronDir))
        {
            if (cnc.state() == DriverCnc.State.ABSENT)
            {
                err.println("reprise stat: no node runs on the Aeron directory " + aeronDir + " (no " + cnc.file() +
                    "); give the node's directory with --aeron-dir or -D" + TransportContext.AERON_DIR_PROP_NAME);
                return ExitCode.FAILED;
            }
            if (cnc.state() == DriverCnc.State.STARTING)
            {
                err.println("reprise stat: the media driver on " + aeronDir + " is still starting (CnC file not " +
                    "ready); try again");
                return ExitCode.FAILED;
            }
            final CountersReader counters = cnc.counters();
            final long pid = cnc.pid();

            Map<Integer, long[]> previous = null;
            long previousNs = 0;
            for (long sample = 1; sample <= count; sample++)
            {
                final long heartbeatAgeMs = cnc.heartbeatAgeMs();
                if (heartbeatAgeMs > CommonContext.DRIVER_TIMEOUT_MS)
                {
                    err.println("reprise stat: no node runs on " + aeronDir + ": the media driver (pid " + pid +
                        ") has not been heard of for " + heartbeatAgeMs + " ms; its CnC file is left over");
                    return ExitCode.FAILED;
                }
                final long nowNs = System.nanoTime();
                final Map<Integer, long[]> values = read(counters);
                if (values.isEmpty())
                {
                    err.println("reprise stat: the media driver on " + aeronDir + " (pid " + pid + ") runs, but " +
                        "holds no Reprise counters: no node is attached to it (yet)");
                    return ExitCode.FAILED;
                }
                print(out, aeronDir, pid, heartbeatAgeMs, sample, count, values, previous,
                    nowNs - previousNs);
                if (sample == 1)
                {
                    NodeFileViews.settings(aeronDir, owners(values), false, out, err);
                }
                previous = values;
                previousNs = nowNs;
                if (sample < count)
                {
                    LockSupport.parkNanos(intervalMs * 1_000_000L);
                    if (Thread.currentThread().isInterrupted())
                    {
                        break;
                    }
                }
            }
            return ExitCode.OK;
        }
    }

    private static int serve(final String aeronDir, final String spec, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final InetSocketAddress address;
        try
        {
            address = MetricsEndpoint.parseAddress(spec);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException("--serve: " + ex.getMessage());
        }
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(aeronDir, address))
        {
            final InetSocketAddress bound = endpoint.address();
            final String host = bound.getAddress() instanceof Inet6Address ?
                "[" + bound.getAddress().getHostAddress() + "]" : bound.getAddress().getHostAddress();
            out.println("reprise stat: serving the counters of the node on " + aeronDir + " at http://" + host + ":" +
                bound.getPort() + MetricsEndpoint.PATH + " until interrupted");
            while (!Thread.currentThread().isInterrupted())
            {
                LockSupport.park();
            }
            return ExitCode.OK;
        }
        catch (final IOException ex)
        {
            err.println("reprise stat: cannot serve on " + address + ": " + ex);
            return ExitCode.FAILED;
        }
    }

    /** Reprise counters by counter id: {type index, value, owner}, in counter-id order. */
    static Map<Integer, long[]> read(final CountersReader counters)
    {
        final Map<Integer, long[]> values = new LinkedHashMap<>();
        counters.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final int index = typeId - NodeCounters.TYPE_ID_BASE;
            if (index >= 0 && index < NodeCounters.count())
            {
                values.put(counterId, new long[] {index, counters.getCounterValue(counterId),
                    counters.getCounterOwnerId(counterId)});
            }
        });
        return values;
    }

    /** The Aeron client ids owning Reprise counters, in the order first seen. */
    static List<Long> owners(final Map<Integer, long[]> values)
    {
        final List<Long> owners = new ArrayList<>();
        values.values().forEach((v) ->
        {
            if (!owners.contains(v[2]))
            {
                owners.add(v[2]);
            }
        });
        return owners;
    }

    /** The nodes (Aeron client ids) with counters on the driver in {@code aeronDir}; empty when none runs there. */
    private static List<Long> nodeOwners(final String aeronDir, final PrintStream err)
    {
        try (DriverCnc cnc = DriverCnc.map(aeronDir))
        {
            return cnc.state() == DriverCnc.State.READY ? owners(read(cnc.counters())) : List.of();
        }
    }

    private static void print(
        final PrintStream out, final String aeronDir, final long pid, final long heartbeatAgeMs, final long sample,
        final long count, final Map<Integer, long[]> values,
        final Map<Integer, long[]> previous, final long elapsedNs)
    {
        final List<Long> owners = owners(values);
        out.println("stat: " + aeronDir + " driver pid " + pid + " heartbeat " + heartbeatAgeMs + " ms ago, " +
            Instant.now() + (count > 1 ? " (sample " + sample + " of " + count + ")" : ""));
        for (final long owner : owners)
        {
            if (owners.size() > 1)
            {
                out.println("  node (Aeron client " + owner + ")");
            }
            // Print in the order of NodeCounters, whatever the counter ids.
            for (int index = 0; index < NodeCounters.count(); index++)
            {
                for (final Map.Entry<Integer, long[]> entry : values.entrySet())
                {
                    final long[] v = entry.getValue();
                    if (v[0] != index || v[2] != owner)
                    {
                        continue;
                    }
                    final StringBuilder line = new StringBuilder();
                    line.append(String.format("  %-52s %,20d", NodeCounters.label(index), v[1]));
                    final long[] before = null == previous ? null : previous.get(entry.getKey());
                    if (null != before && before[0] == v[0] && elapsedNs > 0)
                    {
                        line.append(String.format("  %+,14.0f/s", (v[1] - before[1]) * 1e9 / elapsedNs));
                    }
                    out.println(line);
                }
            }
        }
    }
}
