package io.reprise.jmh.cluster;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusterControl;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.service.ClusterTerminationException;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.transport.TransportContext;
import org.agrona.CloseHelper;
import org.agrona.concurrent.NoOpLock;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * A member of an Aeron Cluster, in this process, around a {@link SessionService}: media driver, archive and consensus
 * module ({@link ClusteredMediaDriver}), and the service container. Either the only member, its clients over IPC
 * ({@link #launch}), or one of several on loopback UDP, each in a process of its own ({@link #launchMember}).
 * Configured for a small machine as Aeron's documentation advises (docs/benchmarks.md lists every setting and why):
 * <ul>
 * <li>media driver: {@code SHARED} threading (one thread), the same back-off idle strategy, sparse term files and
 * liveness timeouts (60 s for clients) as the embedded driver of a Reprise node;</li>
 * <li>archive: {@code SHARED} threading (conductor, recorder and replayer on one thread), control over IPC only
 * (several members: over UDP too, for replication from the leader's archive), no recording events;
 * {@code fileSyncLevel} and {@code catalogFileSyncLevel} 1 with fsync on (the recorder
 * fdatasyncs each block it writes before the recorded position moves, and the consensus module commits only up to
 * that position), 0 with fsync off;</li>
 * <li>consensus module: one member: the log over IPC (no network between log and archive), client ingress over IPC
 * allowed; several: the log over UDP, client ingress over UDP; term length 64 MiB (Aeron's default); cluster files
 * synced at the same level;</li>
 * <li>service container and consensus module: Aeron's default back-off idle strategy.</li>
 * </ul>
 * Each of these can be overridden with Aeron's own system property (named in {@link #describe()}).
 */
public final class AeronClusterMember implements AutoCloseable
{
    public static final String LOG_CHANNEL_DEFAULT = "aeron:ipc?term-length=64m";
    public static final String CLIENT_CHANNEL = "aeron:ipc?term-length=4m";
    /** Client ingress of a member in a process of its own; the member's endpoint is added to it. */
    public static final String CLIENT_UDP_CHANNEL = "aeron:udp?term-length=4m";
    /** UDP ports of each member: client ingress, consensus, log, catch-up, archive control. */
    public static final int PORTS_PER_MEMBER = 5;
    private static final int INGRESS_PORT = 0;
    private static final int ARCHIVE_PORT = 4;
    private static final long CLIENT_LIVENESS_NS = 60_000_000_000L;

    private final ClusteredMediaDriver clusteredMediaDriver;
    private final ClusteredServiceContainer container;
    private final String description;

    private AeronClusterMember(
        final ClusteredMediaDriver clusteredMediaDriver, final ClusteredServiceContainer container,
        final String description)
    {
        this.clusteredMediaDriver = clusteredMediaDriver;
        this.container = container;
        this.description = description;
    }

    /**
     * Launches a one-member cluster on {@code baseDirectory} (its {@code archive/} and {@code cluster/}) with its media
     * driver on {@code aeronDirectory}; {@code fresh} deletes what the directories held, otherwise the member recovers
     * from them (snapshot, then the log after it).
     */
    public static AeronClusterMember launch(
        final Path baseDirectory, final String aeronDirectory, final boolean fsync, final boolean fresh,
        final SessionService service) throws IOException
    {
        // One member: its consensus, catch-up and archive endpoints carry nothing, but each must be a real address.
        final List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < PORTS_PER_MEMBER; i++)
        {
            ports.add(freeUdpPort());
        }
        return launch(baseDirectory, aeronDirectory, fsync, fresh, service, 0, ports,
            System.getProperty(ConsensusModule.Configuration.LOG_CHANNEL_PROP_NAME, LOG_CHANNEL_DEFAULT));
    }

    /**
     * Launches member {@code memberId} of a cluster of {@code ports.size() / }{@value #PORTS_PER_MEMBER} members on
     * loopback, each member's UDP ports in {@code ports} in member order: client ingress, consensus, log, catch-up,
     * archive control ({@link #clusterMembers(List)}). The log goes over UDP from the leader to each follower
     * ({@code aeron:udp?term-length=64m}, Aeron's default); the archive takes control requests on its port, as
     * followers replicate a log they lack from the leader's archive. The member starts afresh: what the directories
     * held is deleted.
     */
    public static AeronClusterMember launchMember(
        final Path baseDirectory, final String aeronDirectory, final boolean fsync, final SessionService service,
        final int memberId, final List<Integer> ports)
    {
        return launch(baseDirectory, aeronDirectory, fsync, true, service, memberId, ports,
            System.getProperty(ConsensusModule.Configuration.LOG_CHANNEL_PROP_NAME,
            ConsensusModule.Configuration.LOG_CHANNEL_DEFAULT));
    }

    private static AeronClusterMember launch(
        final Path baseDirectory, final String aeronDirectory, final boolean fsync, final boolean fresh,
        final SessionService service, final int memberId, final List<Integer> ports, final String logChannel)
    {
        final int syncLevel = fsync ? 1 : 0;
        final boolean oneMember = ports.size() == PORTS_PER_MEMBER;
        final ArchiveThreadingMode archiveThreading = ArchiveThreadingMode.valueOf(
            System.getProperty(Archive.Configuration.THREADING_MODE_PROP_NAME, ArchiveThreadingMode.SHARED.name()));
        final String idle = System.getProperty(TransportContext.IDLE_STRATEGY_PROP_NAME,
            TransportContext.IDLE_STRATEGY_DEFAULT);

        final MediaDriver.Context driverContext = driverContext(aeronDirectory);

        final String archiveControlChannel = "aeron:udp?endpoint=localhost:" +
            ports.get(memberId * PORTS_PER_MEMBER + ARCHIVE_PORT) + "|term-length=64k";
        final Archive.Context archiveContext = new Archive.Context()
            .aeronDirectoryName(aeronDirectory)
            .archiveDir(baseDirectory.resolve("archive").toFile())
            .deleteArchiveOnStart(fresh)
            .threadingMode(archiveThreading)
            .controlChannelEnabled(!oneMember)
            .controlChannel(archiveControlChannel)
            .localControlChannel("aeron:ipc?term-length=64k")
            .replicationChannel("aeron:udp?endpoint=localhost:0")
            // Replication between archives (unused by one member) still needs somewhere for responses.
            .archiveClientContext(new AeronArchive.Context().controlResponseChannel("aeron:udp?endpoint=localhost:0"))
            .recordingEventsEnabled(false)
            .fileSyncLevel(syncLevel)
            .catalogFileSyncLevel(syncLevel);

        final AeronArchive.Context archiveClient = new AeronArchive.Context()
            .lock(NoOpLock.INSTANCE)
            .controlRequestChannel(archiveContext.localControlChannel())
            .controlRequestStreamId(archiveContext.localControlStreamId())
            .controlResponseChannel(archiveContext.localControlChannel())
            .aeronDirectoryName(aeronDirectory);

        final ConsensusModule.Context consensusContext = new ConsensusModule.Context()
            .aeronDirectoryName(aeronDirectory)
            .clusterMemberId(memberId)
            .clusterMembers(clusterMembers(ports))
            .clusterDir(baseDirectory.resolve("cluster").toFile())
            .deleteDirOnStart(fresh)
            .ingressChannel(oneMember ? "aeron:udp" : CLIENT_UDP_CHANNEL)
            .isIpcIngressAllowed(oneMember)
            .logChannel(logChannel)
            .replicationChannel("aeron:udp?endpoint=localhost:0")
            .archiveContext(archiveClient.clone())
            .fileSyncLevel(syncLevel)
            .errorHandler(AeronClusterMember::printError);

        final ClusteredServiceContainer.Context serviceContext = new ClusteredServiceContainer.Context()
            .aeronDirectoryName(aeronDirectory)
            .archiveContext(archiveClient.clone())
            .clusterDir(baseDirectory.resolve("cluster").toFile())
            .clusteredService(service)
            .serviceId(0)
            .errorHandler(AeronClusterMember::printError);

        ClusteredMediaDriver clusteredMediaDriver = null;
        try
        {
            clusteredMediaDriver = ClusteredMediaDriver.launch(driverContext, archiveContext, consensusContext);
            final ClusteredServiceContainer container = ClusteredServiceContainer.launch(serviceContext);
            final String description = (oneMember ? "" : "member " + memberId + " of " +
                ports.size() / PORTS_PER_MEMBER + ", leader heartbeat timeout " +
                consensusContext.leaderHeartbeatTimeoutNs() / 1_000_000 + " ms, interval " +
                consensusContext.leaderHeartbeatIntervalNs() / 1_000_000 + " ms, archive control " +
                archiveControlChannel + ", ") +
                "driver " + driverContext.threadingMode() + " idle " + idle + ", archive " + archiveThreading +
                " fileSyncLevel " + syncLevel + " catalogFileSyncLevel " + syncLevel + ", log " + logChannel +
                ", cluster fileSyncLevel " + syncLevel + ", client ingress and egress " +
                (oneMember ? CLIENT_CHANNEL : CLIENT_UDP_CHANNEL);
            return new AeronClusterMember(clusteredMediaDriver, container, description);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(clusteredMediaDriver);
            throw ex;
        }
    }

    /**
     * A media driver as a Reprise node's embedded one: {@code SHARED} threading (unless {@code aeron.threading.mode}
     * says otherwise), the transport's idle strategy, sparse term files, long liveness timeouts: each member's, and
     * that of the load generator's process when the members run in processes of their own (for either system).
     */
    public static MediaDriver.Context driverContext(final String aeronDirectory)
    {
        return new MediaDriver.Context()
            .aeronDirectoryName(aeronDirectory)
            .threadingMode(
                ThreadingMode.valueOf(System.getProperty("aeron.threading.mode", ThreadingMode.SHARED.name())))
            .sharedIdleStrategy(TransportContext.idleStrategy(System.getProperty(
                TransportContext.IDLE_STRATEGY_PROP_NAME, TransportContext.IDLE_STRATEGY_DEFAULT)))
            .termBufferSparseFile(true)
            // As a Reprise node's embedded driver: on 2 busy cores a thread can starve for seconds, and a client the
            // driver times out would take the member down with it.
            .imageLivenessTimeoutNs(TransportContext.CLIENT_LIVENESS_MS_DEFAULT * 1_000_000L)
            .clientLivenessTimeoutNs(CLIENT_LIVENESS_NS)
            .publicationUnblockTimeoutNs(2 * CLIENT_LIVENESS_NS)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true);
    }

    /**
     * Aeron Cluster's members string for {@code ports} ({@value #PORTS_PER_MEMBER} per member, in member order):
     * {@code id,ingress,consensus,log,catchup,archive|...}, every endpoint on localhost.
     */
    public static String clusterMembers(final List<Integer> ports)
    {
        final StringBuilder members = new StringBuilder();
        for (int id = 0; id < ports.size() / PORTS_PER_MEMBER; id++)
        {
            members.append(id > 0 ? "|" : "").append(id);
            for (int i = 0; i < PORTS_PER_MEMBER; i++)
            {
                members.append(",localhost:").append(ports.get(id * PORTS_PER_MEMBER + i));
            }
        }
        return members.toString();
    }

    /** A client's ingress endpoints for {@code ports} as in {@link #clusterMembers(List)}: {@code 0=host:port,...}. */
    public static String ingressEndpoints(final List<Integer> ports)
    {
        final StringBuilder endpoints = new StringBuilder();
        for (int id = 0; id < ports.size() / PORTS_PER_MEMBER; id++)
        {
            endpoints.append(id > 0 ? "," : "").append(id).append("=localhost:")
                .append(ports.get(id * PORTS_PER_MEMBER + INGRESS_PORT));
        }
        return endpoints.toString();
    }

    private static void printError(final Throwable ex)
    {
        // A member's service is told to end this way when its consensus module closes first, as close() does.
        if (ex instanceof ClusterTerminationException && ((ClusterTerminationException)ex).isExpected())
        {
            return;
        }
        System.err.println("aeron-cluster: " + ex);
    }

    /** A UDP port free on loopback now. */
    public static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    /** The settings this member runs with. */
    public String describe()
    {
        return description;
    }

    /** Asks the consensus module for a snapshot and waits until it is taken. */
    public void takeSnapshot(final long timeoutMs)
    {
        final ConsensusModule.Context context = clusteredMediaDriver.consensusModule().context();
        final long before = context.snapshotCounter().get();
        final AtomicCounter toggle = ClusterControl.findControlToggle(
            clusteredMediaDriver.mediaDriver().context().countersManager(), context.clusterId());
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!ClusterControl.ToggleState.SNAPSHOT.toggle(toggle))
        {
            pause(deadlineNs, "the control toggle to take the snapshot request");
        }
        while (context.snapshotCounter().get() <= before)
        {
            pause(deadlineNs, "the snapshot");
        }
    }

    private static void pause(final long deadlineNs, final String what)
    {
        if (System.nanoTime() > deadlineNs)
        {
            throw new IllegalStateException("aeron-cluster: timed out waiting for " + what);
        }
        try
        {
            Thread.sleep(1);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    /** Stops the service, then the consensus module, archive and driver; no snapshot is taken. */
    public void close()
    {
        // As Aeron's own tests stop a member: the consensus module first, then the service, archive and driver.
        CloseHelper.closeAll(clusteredMediaDriver.consensusModule(), container, clusteredMediaDriver);
    }
}
