package io.reprise.jmh.cluster;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;

import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusterControl;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.transport.TransportContext;
import org.agrona.CloseHelper;
import org.agrona.concurrent.NoOpLock;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * A one-member Aeron Cluster, in this process, around a {@link SessionService}: media driver, archive and consensus
 * module ({@link ClusteredMediaDriver}), and the service container. Configured for a small machine as Aeron's
 * documentation advises (docs/benchmarks.md lists every setting and why):
 * <ul>
 * <li>media driver: {@code SHARED} threading (one thread), the same back-off idle strategy, sparse term files and
 * liveness timeouts (60 s for clients) as the embedded driver of a Reprise node;</li>
 * <li>archive: {@code SHARED} threading (conductor, recorder and replayer on one thread), control over IPC only,
 * no recording events; {@code fileSyncLevel} and {@code catalogFileSyncLevel} 1 with fsync on (the recorder
 * fdatasyncs each block it writes before the recorded position moves, and the consensus module commits only up to
 * that position), 0 with fsync off;</li>
 * <li>consensus module: the log over IPC (one member: no network between log and archive), term length 64 MiB
 * (Aeron's default), client ingress over IPC allowed; cluster files synced at the same level;</li>
 * <li>service container and consensus module: Aeron's default back-off idle strategy.</li>
 * </ul>
 * Each of these can be overridden with Aeron's own system property (named in {@link #describe()}).
 */
public final class AeronClusterMember implements AutoCloseable
{
    public static final String LOG_CHANNEL_DEFAULT = "aeron:ipc?term-length=64m";
    public static final String CLIENT_CHANNEL = "aeron:ipc?term-length=4m";
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
     * Launches the member on {@code baseDirectory} (its {@code archive/} and {@code cluster/}) with its media driver on
     * {@code aeronDirectory}; {@code fresh} deletes what the directories held, otherwise the member recovers from
     * them (snapshot, then the log after it).
     */
    public static AeronClusterMember launch(
        final Path baseDirectory, final String aeronDirectory, final boolean fsync, final boolean fresh,
        final SessionService service) throws IOException
    {
        final int syncLevel = fsync ? 1 : 0;
        final ThreadingMode driverThreading =
            ThreadingMode.valueOf(System.getProperty("aeron.threading.mode", ThreadingMode.SHARED.name()));
        final ArchiveThreadingMode archiveThreading = ArchiveThreadingMode.valueOf(
            System.getProperty(Archive.Configuration.THREADING_MODE_PROP_NAME, ArchiveThreadingMode.SHARED.name()));
        final String logChannel = System.getProperty(ConsensusModule.Configuration.LOG_CHANNEL_PROP_NAME,
            LOG_CHANNEL_DEFAULT);
        final String idle = System.getProperty(TransportContext.IDLE_STRATEGY_PROP_NAME,
            TransportContext.IDLE_STRATEGY_DEFAULT);

        final MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(aeronDirectory)
            .threadingMode(driverThreading)
            .sharedIdleStrategy(TransportContext.idleStrategy(idle))
            .termBufferSparseFile(true)
            // As a Reprise node's embedded driver: on 2 busy cores a thread can starve for seconds, and a client the
            // driver times out would take the member down with it.
            .imageLivenessTimeoutNs(TransportContext.CLIENT_LIVENESS_MS_DEFAULT * 1_000_000L)
            .clientLivenessTimeoutNs(CLIENT_LIVENESS_NS)
            .publicationUnblockTimeoutNs(2 * CLIENT_LIVENESS_NS)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true);

        final Archive.Context archiveContext = new Archive.Context()
            .aeronDirectoryName(aeronDirectory)
            .archiveDir(baseDirectory.resolve("archive").toFile())
            .deleteArchiveOnStart(fresh)
            .threadingMode(archiveThreading)
            .controlChannelEnabled(false)
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

        // One member: its consensus, catch-up and archive endpoints carry nothing, but each must be a real address.
        final String members = "0," +
            "localhost:" + freeUdpPort() + "," +
            "localhost:" + freeUdpPort() + "," +
            "localhost:" + freeUdpPort() + "," +
            "localhost:0," +
            "localhost:" + freeUdpPort();
        final ConsensusModule.Context consensusContext = new ConsensusModule.Context()
            .aeronDirectoryName(aeronDirectory)
            .clusterMemberId(0)
            .clusterMembers(members)
            .clusterDir(baseDirectory.resolve("cluster").toFile())
            .deleteDirOnStart(fresh)
            .ingressChannel("aeron:udp")
            .isIpcIngressAllowed(true)
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
            final String description = "driver " + driverThreading + " idle " + idle + ", archive " + archiveThreading +
                " fileSyncLevel " + syncLevel + " catalogFileSyncLevel " + syncLevel + ", log " + logChannel +
                ", cluster fileSyncLevel " + syncLevel + ", client ingress and egress " + CLIENT_CHANNEL;
            return new AeronClusterMember(clusteredMediaDriver, container, description);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(clusteredMediaDriver);
            throw ex;
        }
    }

    private static void printError(final Throwable ex)
    {
        System.err.println("aeron-cluster: " + ex);
    }

    private static int freeUdpPort() throws IOException
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
