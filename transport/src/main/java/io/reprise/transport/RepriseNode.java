package io.reprise.transport;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Random;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.cluster.MemberView;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.util.ErrorReporter;
import io.reprise.transport.cluster.AeronReplicaLink;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * A standalone node serving clients over Aeron: the media driver (embedded unless configured otherwise), the
 * durable node, and its ingress and egress. Start-up follows the seed, with the transport last so that no client
 * reaches a node that is still recovering; shutdown stops the ingress first, then the node (seed shutdown), then
 * the driver.
 * <p>
 * Beside its counters, in the driver's directory, the node keeps its distinct error log and its effective settings
 * ({@link NodeFiles}). Every error of the node (engine, ingress, its Aeron client) goes to the error log, once per
 * distinct error with a count, and to the "errors" counter; unless the node context was given an error handler
 * of its own, the first occurrence of each distinct error is printed to stderr with its trace, and repeats as a
 * count line at most every {@value ErrorReporter#SUMMARY_INTERVAL_MS_DEFAULT} ms ({@link ErrorReporter}).
 */
public final class RepriseNode implements AutoCloseable
{
    private static final long NODE_CLIENT_LIVENESS_NS = 60_000_000_000L;

    private final TransportContext transportContext;
    private MediaDriver driver;
    private Aeron aeron;
    private StandaloneNode node;
    private volatile NodeCounters counters;
    private volatile ErrorHandler errorHandler;
    private NodeContext nodeContext;
    private ErrorHandler givenErrorHandler;
    private NodeFiles files;
    private ErrorReporter errorReporter;
    private AgentRunner ingressRunner;
    private AeronReplicaLink link;
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
        return start(nodeContext, transportContext, Map.of());
    }

    /**
     * As {@link #start(NodeContext, TransportContext)}, saying where each setting came from in the node's settings
     * file ({@link Settings#describe}).
     *
     * @param sources where the value of each key came from (the file, the command line, ...); a key missing here
     *                is said to come from its system property, its default, or the program.
     */
    public static RepriseNode start(
        final NodeContext nodeContext, final TransportContext transportContext, final Map<String, String> sources)
        throws IOException
    {
        transportContext.conclude();
        final RepriseNode repriseNode = new RepriseNode(transportContext);
        try
        {
            repriseNode.startUp(nodeContext, sources);
        }
        catch (final IOException | RuntimeException ex)
        {
            repriseNode.close();
            throw ex;
        }
        return repriseNode;
    }

    private void startUp(final NodeContext nodeContext, final Map<String, String> sources) throws IOException
    {
        final ErrorHandler given = nodeContext.errorHandler();
        this.nodeContext = nodeContext;
        this.givenErrorHandler = given;
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
            .errorHandler(this::onError)
            .useConductorAgentInvoker(true));

        // Beside the counters: the distinct error log, then every error of the node goes through it.
        files = NodeFiles.create(transportContext.aeronDirectoryName(), aeron.clientId());
        final String errorsCommand = "reprise stat --errors --aeron-dir " + transportContext.aeronDirectoryName();
        errorReporter = new ErrorReporter(files.errorLogBuffer(), SystemEpochClock.INSTANCE,
            null == given ? System.err : null, ErrorReporter.SUMMARY_INTERVAL_MS_DEFAULT, errorsCommand);
        errorHandler = null == given ? errorReporter : (ex) ->
        {
            errorReporter.onError(ex);
            given.onError(ex);
        };
        nodeContext.errorHandler(this::onError).conclude();
        files.writeSettings("effective settings of the reprise node on " + transportContext.aeronDirectoryName() +
            " (Aeron client " + aeron.clientId() + ", pid " + ProcessHandle.current().pid() + "), started " +
            Instant.now() + "\nkey<TAB>value<TAB>source; secrets masked",
            Settings.describe(nodeContext, transportContext, sources));

        if (transportContext.clustered())
        {
            nodeContext.membership(membership());
        }
        final ClientRegistry registry = new ClientRegistry(transportContext.maxConnections(), ClientRegistry.sequenceBase(
            null == nodeContext.membership() ? 0 : nodeContext.membership().memberId(), System.currentTimeMillis()));
        final Egress egress = new Egress(registry, nodeContext.rules().maxPayloadBytes());
        nodeContext.outputObserver(egress).workerLink(egress);
        node = StandaloneNode.start(nodeContext);

        final MemberView member = null == node.clusterMember() ? null : node.clusterMember().view();
        counters = new NodeCounters(aeron, member, link, node.snapshotAgent());
        egress.counters(counters);
        final IngressAgent ingress = new IngressAgent(aeron, transportContext, node, member, nodeContext.rules(),
            registry, counters, SystemNanoClock.INSTANCE);
        ingressRunner = new AgentRunner(TransportContext.idleStrategy(transportContext.idleStrategyName()),
            this::onError, null, ingress);
        AgentRunner.startOnThread(ingressRunner);
        nodeContext.lifecycleListener().onStep("transport-started aeron=" + transportContext.aeronDirectoryName() +
            " ipc=" + transportContext.ingressIpcChannel() + " udp=" + transportContext.ingressUdpChannel() +
            " stream=" + transportContext.ingressStreamId());
    }

    /**
     * This member's place in the cluster the transport's settings name: its link to the others over Aeron, on the
     * node's own Aeron client, and the protocol's timeouts. Its elections draw on a generator seeded from the clock:
     * members that start together must not time out together.
     */
    private NodeContext.Membership membership()
    {
        final int memberId = transportContext.clusterMemberId();
        final String[] endpoints = transportContext.replicaEndpointList();
        link = new AeronReplicaLink(aeron, memberId, endpoints);
        final Consensus.Settings defaults = Consensus.Settings.defaults();
        final Consensus.Settings settings = new Consensus.Settings(transportContext.electionTimeoutMs() * 1_000_000L,
            transportContext.heartbeatIntervalMs() * 1_000_000L, defaults.maxMessageBytes(),
            defaults.maxEntriesInFlight());
        return new NodeContext.Membership(memberId, endpoints.length, link, settings,
            new Random(System.nanoTime() ^ ((long)memberId << 48)));
    }

    /** Counts an error, logs it once per distinct error, and hands it on (see the class's comment). */
    private void onError(final Throwable ex)
    {
        final NodeCounters counters = this.counters;
        if (null != counters)
        {
            counters.get(NodeCounters.ERRORS).increment();
        }
        final ErrorHandler handler = errorHandler;
        if (null != handler)
        {
            handler.onError(ex);
        }
        else
        {
            ex.printStackTrace(System.err); // before the error log exists: only while connecting to the driver
        }
    }

    /** The Aeron client id of the node, the owner of its counters and the name of its files. */
    public long aeronClientId()
    {
        return aeron.clientId();
    }

    /** The node's distinct error log, as {@code reprise stat --errors} reads it. */
    public ErrorReporter errorReporter()
    {
        return errorReporter;
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
        // The member's consensus polls its link until the node has closed.
        CloseHelper.closeAll(ingressRunner, node, link, counters, aeron, errorReporter);
        // The threads that report are stopped; anything that still does (a context used again) must not reach the
        // error log's mapped file once it is unmapped.
        errorHandler = null == givenErrorHandler ? ErrorReporter.inMemory(System.err) : givenErrorHandler;
        if (null != nodeContext && null != givenErrorHandler)
        {
            nodeContext.errorHandler(givenErrorHandler);
        }
        CloseHelper.closeAll(files, driver);
    }
}
