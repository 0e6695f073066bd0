package io.reprise.tools.node;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.reprise.engine.cluster.RestartRequired;
import io.reprise.engine.node.NodeContext;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.Settings;
import io.reprise.transport.TransportContext;
import sun.misc.Signal;

/**
 * {@code reprise node}: one standalone node serving clients over Aeron, with defaults that just work: a data
 * directory it creates, an embedded media driver, IPC and UDP ingress, the development token. Its settings come
 * from {@code --config FILE} (a properties file of {@code reprise.*} keys), overridden by system properties, overridden
 * by the command line; all of them are checked against {@link Settings} before anything starts, and printed. It runs
 * until SIGTERM or SIGINT (Ctrl-C), then shuts down the seed's way and exits 0. A node that fails is shut down and
 * the command exits 1; a member of a cluster that must restart from its disk (after a full install, or after a new
 * leader overrode entries in its ring) is restarted in the same process.
 */
public final class NodeCommand
{
    public static final String USAGE = "node [--config FILE] [--data-dir DIR] [--aeron-dir DIR] [--udp HOST:PORT|none] " +
        "[--tokens T[:ROLE]=TOKEN,...]";
    public static final String DESCRIPTION =
        "Runs a standalone node with an embedded media driver until SIGTERM or Ctrl-C (then exit 0 after a clean\n" +
        "shutdown). Defaults: --data-dir " + NodeContext.DATA_DIR_DEFAULT + ", --aeron-dir " +
        TransportContext.AERON_DIR_DEFAULT + ",\ningress on " + TransportContext.INGRESS_IPC_CHANNEL_DEFAULT +
        " and UDP localhost:40456, stream " + TransportContext.INGRESS_STREAM_ID_DEFAULT + ",\ntokens " +
        TransportContext.TOKENS_DEFAULT + " (a development token: set your own with --tokens or " +
        TransportContext.TOKENS_PROP_NAME + ");\n" +
        "T=TOKEN lets the token connect as controller and as worker of tenant T, T:controller=TOKEN or\n" +
        "T:worker=TOKEN as that role only. --config FILE: a properties file of reprise.* keys (docs/configuration.md),\n" +
        "overridden by -D system properties, overridden by the options; every key is checked before the node starts.";

    /** How often the command looks whether its node failed or must restart. */
    private static final long FAILURE_CHECK_MS = 100;

    private NodeCommand()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("node", tokens,
            Set.of("--config", "--data-dir", "--aeron-dir", "--udp", "--tokens"));
        final Properties file = new Properties();
        String fileName = "no configuration file";
        if (args.has("--config"))
        {
            fileName = args.option("--config");
            load(Path.of(fileName), file);
        }
        final Map<String, String> commandLine = commandLine(args);
        final Settings.Resolved resolved;
        try
        {
            resolved = Settings.resolve(file, fileName, System.getProperties(), commandLine);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException(ex.getMessage());
        }

        final TransportContext checked = new TransportContext();
        resolved.applyTo(new NodeContext(), checked);
        try
        {
            // Before anything starts: the UDP host is looked up here.
            checked.conclude();
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException(ex.getMessage());
        }

        out.println("reprise node: starting" + (args.has("--config") ? " with " + fileName : "") +
            "; effective settings (where not the default, where each came from; tokens masked):");
        out.print(Settings.describeText(resolved.describe(), "  "));
        final CountDownLatch stop = new CountDownLatch(1);
        final String[] signal = new String[1];
        // SIGTERM and SIGINT end the wait below; the node then closes and the process exits 0. (With the JVM's own
        // handling, a signal runs the shutdown hooks and the exit status is 128 + the signal's number.) A second
        // signal while it closes ends the process at once.
        for (final String name : new String[] {"TERM", "INT"})
        {
            Signal.handle(new Signal(name), (s) ->
            {
                if (stop.getCount() == 0)
                {
                    err.println("reprise node: SIG" + s.getName() + " again while shutting down: exiting at once");
                    Runtime.getRuntime().halt(128 + s.getNumber());
                }
                signal[0] = "SIG" + s.getName();
                stop.countDown();
            });
        }
        final AtomicReference<RepriseNode> running = new AtomicReference<>(start(resolved, out));
        // Any other way the JVM ends (System.exit, SIGHUP) still shuts the node down the seed's way.
        final Thread hook = new Thread(() -> running.get().close(), "reprise-node-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("reprise node: serving; counters: ./reprise stat --aeron-dir " +
            running.get().aeronDirectoryName() + "; stop with SIGTERM or Ctrl-C");
        out.flush();
        Throwable fatal = null;
        try
        {
            while (!stop.await(FAILURE_CHECK_MS, TimeUnit.MILLISECONDS))
            {
                fatal = running.get().node().fatalError();
                if (fatal instanceof RestartRequired)
                {
                    // A member whose state a full install replaced, or whose ring holds entries a new leader
                    // overrode, starts again from its disk, in this process.
                    out.println("reprise node: restarting: " + fatal.getMessage());
                    running.get().close();
                    running.set(start(resolved, out));
                    fatal = null;
                }
                else if (null != fatal)
                {
                    signal[0] = "the node failed";
                    break;
                }
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            signal[0] = "an interrupt";
        }
        out.println("reprise node: shutting down (" + signal[0] + ")");
        running.get().close();
        try
        {
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        catch (final IllegalStateException ex)
        {
            // the JVM is shutting down already; the hook closes nothing twice
        }
        fatal = running.get().node().fatalError();
        if (null != fatal)
        {
            err.println("reprise node: stopped; the node had failed: " + fatal);
            return ExitCode.FAILED;
        }
        out.println("reprise node: stopped after a clean shutdown");
        return ExitCode.OK;
    }

    /** Starts a node on fresh contexts made from the settings: each start of a node concludes its own. */
    private static RepriseNode start(final Settings.Resolved resolved, final PrintStream out) throws IOException
    {
        final NodeContext nodeContext = new NodeContext().lifecycleListener((step) -> out.println("  " + step));
        final TransportContext transportContext = new TransportContext();
        resolved.applyTo(nodeContext, transportContext);
        return RepriseNode.start(nodeContext, transportContext, resolved.sources());
    }

    /** The options as the keys they set; each checked here, so that its message names the option. */
    private static Map<String, String> commandLine(final Args args) throws UsageException
    {
        final Map<String, String> values = new LinkedHashMap<>();
        for (final String[] option : new String[][] {
            {"--data-dir", NodeContext.DATA_DIR_PROP_NAME}, {"--aeron-dir", TransportContext.AERON_DIR_PROP_NAME}})
        {
            if (args.has(option[0]))
            {
                final Path path = Path.of(args.option(option[0]));
                if (Files.exists(path) && !Files.isDirectory(path))
                {
                    throw new UsageException(option[0] + ": " + path + " is a file, not a directory");
                }
                values.put(option[1], args.option(option[0]));
            }
        }
        if (args.has("--udp"))
        {
            final String udp = args.option("--udp");
            try
            {
                values.put(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME,
                    "none".equals(udp) ? "none" : TransportContext.udpIngressChannel(udp));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UsageException("--udp: " + ex.getMessage());
            }
        }
        if (args.has("--tokens"))
        {
            try
            {
                TransportContext.parseTokens(args.option("--tokens"));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UsageException("--tokens: " + ex.getMessage());
            }
            values.put(TransportContext.TOKENS_PROP_NAME, args.option("--tokens"));
        }
        return values;
    }

    private static void load(final Path path, final Properties into) throws UsageException
    {
        if (!Files.isRegularFile(path))
        {
            throw new UsageException("--config: " + path + (Files.isDirectory(path) ? " is a directory, not a file" :
                " does not exist"));
        }
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8))
        {
            into.load(reader);
        }
        catch (final IOException | IllegalArgumentException ex)
        {
            throw new UsageException("--config: cannot read " + path + ": " + ex.getMessage());
        }
    }
}
