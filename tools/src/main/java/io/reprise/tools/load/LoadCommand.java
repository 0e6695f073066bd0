package io.reprise.tools.load;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import io.aeron.Aeron;
import io.aeron.CommonContext;
import io.reprise.client.ClientContext;
import io.reprise.engine.node.NodeContext;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import org.HdrHistogram.Histogram;
import org.agrona.IoUtil;

/**
 * {@code reprise load}: a load generator for a node served over Aeron (docs/tools.md, docs/benchmarks.md). A
 * controller saves sessions at a fixed rate, with at most {@code --window} saves unanswered, and measures
 * save-to-ack latency from each save's intended send time (coordinated-omission aware); workers take the attempts,
 * answer SUCCEEDED (or RETRY with probability {@code --failure-ratio}) and measure due-to-dispatch lag. Either
 * against a running node ({@code --aeron-dir}) or a node of its own on a temporary data directory, deleted after
 * ({@code --embedded}). The journal syncs every commit unless the node runs with {@code reprise.journal.skip.fsync}.
 */
public final class LoadCommand
{
    public static final String USAGE = "load (--aeron-dir DIR | --embedded) [--media ipc|udp] [--rate N] " +
        "[--window N] [--seconds N] [--warmup-seconds N] [--workers N] [--failure-ratio R] [--payload-bytes N] " +
        "[--token T] [--worker-token T] [--tenant N]";
    public static final String DESCRIPTION =
        "Saves sessions at --rate per second (0: as fast as --window unanswered saves allow, default 10000)\n" +
        "to the node on Aeron directory DIR, or to a node of its own on a temporary directory (--embedded),\n" +
        "over IPC or UDP; --workers (default 1) take the attempts. Prints the achieved rate, save-to-ack\n" +
        "latency from the intended send time and due-to-dispatch lag (p50..max), back-pressure and errors.\n" +
        "More: --hands N, --delay-ms N, --max-attempts N, --ingress CHANNEL, --idle backoff|busy-spin.\n" +
        "Exit 1 when a save or report failed or went unanswered.";

    private LoadCommand()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final LoadOptions options = LoadOptions.parse(tokens);
        if (options.embedded)
        {
            return runEmbedded(options, out, err);
        }
        final File aeronDir = new File(options.aeronDir);
        if (!CommonContext.isDriverActive(aeronDir, 2_000, (message) -> { }))
        {
            err.println("reprise load: no node runs on the Aeron directory " + options.aeronDir +
                " (no live media driver there)");
            return ExitCode.FAILED;
        }
        if (null == options.ingressChannel)
        {
            options.ingressChannel = "udp".equals(options.media) ?
                System.getProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME,
                    TransportContext.INGRESS_UDP_CHANNEL_DEFAULT) :
                System.getProperty(TransportContext.INGRESS_IPC_CHANNEL_PROP_NAME,
                    TransportContext.INGRESS_IPC_CHANNEL_DEFAULT);
        }
        out.println("load: node on " + options.aeronDir + ", ingress " + options.ingressChannel);
        out.println("load: " + options.describe());
        out.flush();
        return runAgainst(options, options.aeronDir, out, null);
    }

    private static int runEmbedded(final LoadOptions options, final PrintStream out, final PrintStream err)
        throws IOException
    {
        final Path dataDir = Files.createTempDirectory("reprise-load-");
        final File shm = new File("/dev/shm");
        final String aeronDir = new File(shm.isDirectory() ? shm : new File(System.getProperty("java.io.tmpdir")),
            "reprise-load-" + ProcessHandle.current().pid() + "-" +
            Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16)).getAbsolutePath();
        final String udpChannel = "aeron:udp?endpoint=localhost:" + freeUdpPort() + "|term-length=4m";
        final TransportContext transport = new TransportContext()
            .aeronDirectoryName(aeronDir)
            .embeddedDriver(true)
            .ingressUdpChannel("udp".equals(options.media) ? udpChannel : null)
            .tokens(options.tokenSpec());
        if (null == options.ingressChannel)
        {
            options.ingressChannel = "udp".equals(options.media) ? udpChannel : transport.ingressIpcChannel();
        }
        final AtomicLong snapshots = new AtomicLong();
        final NodeContext nodeContext = new NodeContext()
            .dataDirectory(dataDir)
            .lifecycleListener((step) ->
            {
                if (step.startsWith("snapshot-taken"))
                {
                    snapshots.incrementAndGet();
                }
            });
        out.println("load: embedded node, data " + dataDir + " (deleted after), aeron " + aeronDir + ", ingress " +
            options.ingressChannel + ", transport idle " + transport.idleStrategyName() + ", ring wait " +
            System.getProperty(NodeContext.WAIT_STRATEGY_PROP_NAME, NodeContext.WAIT_STRATEGY_DEFAULT) +
            ", journal fsync " + (nodeContext.journalSkipFsync() ? "skipped (saves not durable)" : "on every commit"));
        out.println("load: " + options.describe());
        out.flush();
        try (RepriseNode node = RepriseNode.start(nodeContext, transport))
        {
            return runAgainst(options, node.aeronDirectoryName(), out, snapshots);
        }
        finally
        {
            IoUtil.delete(dataDir.toFile(), true);
            IoUtil.delete(new File(aeronDir), true);
        }
    }

    private static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    private static int runAgainst(
        final LoadOptions options, final String aeronDir, final PrintStream out, final AtomicLong snapshots)
    {
        final LoadRun.Result result;
        try (Aeron aeron = ClientContext.connectAeron(aeronDir))
        {
            result = new LoadRun(options, aeron).run();
        }
        report(options, result, out, snapshots);
        return result.errors() == 0 ? ExitCode.OK : ExitCode.FAILED;
    }

    /**
     * Prints what a run measured, as {@code reprise load} does: the rate, the latencies, back-pressure, errors, and a
     * last {@code result:} line of {@code key=value} figures for scripts.
     *
     * @param snapshots the node's snapshots during the run, or null when not known.
     */
    public static void report(
        final LoadOptions options, final LoadRun.Result r, final PrintStream out, final AtomicLong snapshots)
    {
        final double seconds = r.measuredSeconds;
        final double achieved = r.ackedInWindow / seconds;
        out.printf("saves: sent %,d, acked %,d; measured %d s: scheduled %,d, sent %,d, acked %,d = %,.0f/s%s%n",
            r.sent, r.acked, options.seconds, r.scheduledInWindow, r.sentInWindow, r.ackedInWindow, achieved,
            options.rate > 0 ? String.format(" (%.1f %% of the rate)", 100.0 * achieved / options.rate) : "");
        if (options.rate > 0 && r.behindAtEnd > 0)
        {
            out.printf("saves: behind schedule at the end by %,d saves (%.2f s of the rate)%n", r.behindAtEnd,
                r.behindAtEnd / (double)options.rate);
        }
        printHistogram(out, "save-to-ack latency, from intended send", r.saveToAck);
        if (options.workers > 0)
        {
            printHistogram(out, "dispatch lag, due to worker receipt, 1st attempts", r.dispatchLag);
            if (r.retries > 0)
            {
                printHistogram(out, "dispatch lag of retries (~: from report sent + " + LoadRun.RETRY_AFTER_MS +
                    " ms)", r.retryLag);
            }
            out.printf("attempts: %,d received, %,d of them retries%s%n", r.attempts, r.retries,
                r.earlyAttempts > 0 ? ", " + r.earlyAttempts + " first attempts received before their due time" : "");
        }
        out.printf("sessions finished (notices): %s%n", r.finished.isEmpty() ? "none" : r.finished.toString());
        out.printf("back-pressure: offers refused (retried): saves %,d, reports %,d; saves answered BACK_PRESSURE " +
            "(not saved): %,d%n", r.saveBackPressure, r.reportBackPressure, r.saveRefusedBackPressure);
        final StringBuilder errors = new StringBuilder();
        append(errors, "save", r.saveErrors);
        append(errors, "report", r.reportErrors);
        if (r.saveNotConnected > 0)
        {
            errors.append(", saves not connected ").append(r.saveNotConnected);
        }
        if (r.reportFailures > 0)
        {
            errors.append(", reports not sent ").append(r.reportFailures);
        }
        if (r.unanswered > 0)
        {
            errors.append(", saves unanswered ").append(r.unanswered);
        }
        out.println("errors: " + r.errors() + (errors.length() > 0 ? " (" + errors.substring(2) + ")" : ""));
        if (null != snapshots)
        {
            out.println("node: snapshots taken during the run " + snapshots.get());
        }
        out.printf("result: media=%s rate=%d window=%d achieved=%.0f ack_p50_us=%.1f ack_p90_us=%.1f " +
            "ack_p99_us=%.1f ack_p999_us=%.1f ack_max_us=%.1f lag_p50_us=%.1f lag_p99_us=%.1f lag_p999_us=%.1f " +
            "lag_max_us=%.1f back_pressure=%d errors=%d%n",
            options.media, options.rate, options.window, achieved,
            us(r.saveToAck, 50), us(r.saveToAck, 90), us(r.saveToAck, 99), us(r.saveToAck, 99.9),
            r.saveToAck.getMaxValue() / 1000.0,
            us(r.dispatchLag, 50), us(r.dispatchLag, 99), us(r.dispatchLag, 99.9),
            r.dispatchLag.getMaxValue() / 1000.0,
            r.saveBackPressure + r.reportBackPressure + r.saveRefusedBackPressure, r.errors());
    }

    private static void append(final StringBuilder errors, final String what, final Map<?, Long> counts)
    {
        counts.forEach((code, n) -> errors.append(", ").append(what).append(' ').append(code).append(' ').append(n));
    }

    private static double us(final Histogram histogram, final double percentile)
    {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    private static void printHistogram(final PrintStream out, final String title, final Histogram h)
    {
        out.printf("%s (us, n=%,d): p50 %,.1f  p90 %,.1f  p99 %,.1f  p99.9 %,.1f  max %,.1f%n", title,
            h.getTotalCount(), us(h, 50), us(h, 90), us(h, 99), us(h, 99.9), h.getMaxValue() / 1000.0);
    }
}
