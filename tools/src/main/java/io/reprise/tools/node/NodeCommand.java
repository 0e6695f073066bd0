package io.reprise.tools.node;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import io.reprise.engine.node.NodeContext;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;

/**
 * {@code reprise node}: one standalone node serving clients over Aeron, with defaults that just work: a data
 * directory it creates, an embedded media driver, IPC and UDP ingress, the development token. It runs until
 * interrupted (Ctrl-C, SIGTERM), then shuts down the seed's way.
 */
public final class NodeCommand
{
    public static final String USAGE = "node [--data-dir DIR] [--aeron-dir DIR] [--udp HOST:PORT|none] " +
        "[--tokens T[:ROLE]=TOKEN,...]";
    public static final String DESCRIPTION =
        "Runs a standalone node with an embedded media driver until Ctrl-C. Defaults: --data-dir " +
        NodeContext.DATA_DIR_DEFAULT + ",\n--aeron-dir " + TransportContext.AERON_DIR_DEFAULT + ", ingress on " +
        TransportContext.INGRESS_IPC_CHANNEL_DEFAULT + " and UDP localhost:40456, stream " +
        TransportContext.INGRESS_STREAM_ID_DEFAULT + ",\ntokens " + TransportContext.TOKENS_DEFAULT +
        " (a development token: set your own with --tokens or -D" + TransportContext.TOKENS_PROP_NAME + ");\n" +
        "T=TOKEN lets the token connect as controller and as worker of tenant T, T:controller=TOKEN or\n" +
        "T:worker=TOKEN as that role only.\n" +
        "Every engine setting is a reprise.* system property (docs/operations_flow.md, docs/client.md).";

    private NodeCommand()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("node", tokens, Set.of("--data-dir", "--aeron-dir", "--udp", "--tokens"));
        final NodeContext nodeContext = new NodeContext().lifecycleListener((step) -> out.println("  " + step));
        if (args.has("--data-dir"))
        {
            nodeContext.dataDirectory(Path.of(args.option("--data-dir")));
        }
        final TransportContext transportContext = new TransportContext();
        if (args.has("--aeron-dir"))
        {
            transportContext.aeronDirectoryName(args.option("--aeron-dir"));
        }
        if (args.has("--udp"))
        {
            final String udp = args.option("--udp");
            try
            {
                transportContext.ingressUdpChannel("none".equals(udp) ? null : TransportContext.udpIngressChannel(udp));
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
                transportContext.tokens(args.option("--tokens"));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UsageException("--tokens: " + ex.getMessage());
            }
        }

        try
        {
            // Before anything starts: a wrong setting from a -D property is as much a usage error as an option.
            transportContext.conclude();
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException(ex.getMessage());
        }

        out.println("reprise node: starting");
        final CountDownLatch stopped = new CountDownLatch(1);
        final RepriseNode node = RepriseNode.start(nodeContext, transportContext);
        final Thread hook = new Thread(() ->
        {
            out.println("reprise node: shutting down");
            node.close();
            stopped.countDown();
        }, "reprise-node-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("reprise node: serving; counters: ./reprise stat --aeron-dir " + node.aeronDirectoryName() +
            "; stop with Ctrl-C");
        out.flush();
        try
        {
            stopped.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            Runtime.getRuntime().removeShutdownHook(hook);
            node.close();
        }
        return ExitCode.OK;
    }
}
