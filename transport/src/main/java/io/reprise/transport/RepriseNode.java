package io.reprise.transport;

import java.io.IOException;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SystemNanoClock;

/**
 * A standalone node serving clients over Aeron: the media driver (embedded unless configured otherwise), the
 * durable node, and its ingress and egress. Start-up follows the seed, with the transport last so that no client
 * reaches a node that is still recovering; shutdown stops the ingress first, then the node (seed shutdown), then
 * the driver.
 */
public final class RepriseNode implements AutoCloseable
{
    private static final long NODE_CLIENT_LIVENESS_NS = 60_000_000_000L;

    private final TransportContext transportContext;
    private MediaDriver driver;
    private Aeron aeron;
    private StandaloneNode node;
    private NodeCounters counters;
    private AgentRunner ingressRunner;
    private boolean closed;

    private RepriseNode(final TransportContext transportContext)
    {
        this.transportContext = transportContext;
    }

    /**
     * Starts the media driver (when embedded), the node and its transport.
     *
     * @throws IllegalArgumentException when a transport setting is wrong ({@link TransportContext#conclude()}),
     *                                  before anything starts.
     */
    public static RepriseNode start(final NodeContext nodeContext, final TransportContext transportContext)
        throws IOException
    {
        transportContext.conclude();
        final RepriseNode repriseNode = new RepriseNode(transportContext);
        try
        {
            repriseNode.startUp(nodeContext);
        }
        catch (final IOException | RuntimeException ex)
        {
            repriseNode.close();
            throw ex;
        }
        return repriseNode;
    }

    private void startUp(final NodeContext nodeContext) throws IOException
    {
        ClientBacklog.checkCapacity(transportContext.clientBacklogBytes());
        if (transportContext.embeddedDriver())
        {
            driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(transportContext.aeronDirectoryName())
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(TransportContext.idleStrategy(transportContext.idleStrategyName()))
                .imageLivenessTimeoutNs(transportContext.clientLivenessTimeoutMs() * 1_000_000L)
                // The node's own Aeron client is served by the ingress thread: on 2 busy cores that thread can
                // starve for seconds, and a client the driver times out closes the counters the node writes.
                .clientLivenessTimeoutNs(NODE_CLIENT_LIVENESS_NS)
                .publicationUnblockTimeoutNs(2 * NODE_CLIENT_LIVENESS_NS)
                .termBufferSparseFile(true)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
        }
        // Aeron's default error handler exits the JVM when the driver goes away; the node reports instead.
        aeron = Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(transportContext.aeronDirectoryName())
            .errorHandler(nodeContext.conclude().errorHandler())
            .useConductorAgentInvoker(true));

        final ClientRegistry registry = new ClientRegistry(transportContext.maxConnections());
        final Egress egress = new Egress(registry, nodeContext.rules().maxPayloadBytes());
        nodeContext.outputObserver(egress).workerLink(egress);
        node = StandaloneNode.start(nodeContext);

        counters = new NodeCounters(aeron);
        egress.counters(counters);
        final IngressAgent ingress = new IngressAgent(aeron, transportContext, node, nodeContext.rules(), registry,
            counters, SystemNanoClock.INSTANCE);
        ingressRunner = new AgentRunner(TransportContext.idleStrategy(transportContext.idleStrategyName()),
            (ex) ->
            {
                counters.get(NodeCounters.ERRORS).increment();
                nodeContext.errorHandler().onError(ex);
            },
            null, ingress);
        AgentRunner.startOnThread(ingressRunner);
        nodeContext.lifecycleListener().onStep("transport-started aeron=" + transportContext.aeronDirectoryName() +
            " ipc=" + transportContext.ingressIpcChannel() + " udp=" + transportContext.ingressUdpChannel() +
            " stream=" + transportContext.ingressStreamId());
    }

    public StandaloneNode node()
    {
        return node;
    }

    public String aeronDirectoryName()
    {
        return transportContext.aeronDirectoryName();
    }

    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        CloseHelper.closeAll(ingressRunner, node, counters, aeron, driver);
    }
}
