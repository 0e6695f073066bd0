package io.reprise.engine.node;

import java.nio.file.Path;
import java.util.function.Supplier;

import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.cluster.ReplicaLink;
import io.reprise.engine.disk.BackgroundSync;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.disk.Pace;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.repeat.WorkerLink;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.util.ErrorReporter;
import io.reprise.engine.util.SystemProperties;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * Configuration of a node: documented defaults (docs/operations_flow.md, docs/snapshots.md) overridable by system
 * properties {@code reprise.*} and by the fluent setters; {@link #conclude()} checks them once. Tests inject the
 * disk, the clocks, the idle strategies and the listeners here.
 */
public final class NodeContext
{
    /** Receives each step of start-up and shutdown, in order. */
    @FunctionalInterface
    public interface LifecycleListener
    {
        void onStep(String step);
    }

    public static final String DATA_DIR_PROP_NAME = "reprise.data.dir";
    public static final String DATA_DIR_DEFAULT = "reprise-data";
    public static final String RING_SIZE_PROP_NAME = "reprise.ring.size";
    public static final int RING_SIZE_DEFAULT = 8192;
    /** Bytes of an operator a ring slot keeps in the shared slab; larger ones use the slot's own buffer. */
    public static final String RING_CELL_BYTES_PROP_NAME = "reprise.ring.cell.bytes";
    public static final int RING_CELL_BYTES_DEFAULT = OperationSlot.DEFAULT_CELL_BYTES;
    /** The slab is one byte array. */
    public static final long MAX_RING_SLAB_BYTES = 1L << 30;
    public static final String MAX_BATCH_PROP_NAME = "reprise.ring.max.batch";
    public static final int MAX_BATCH_DEFAULT = 4096;
    public static final String WAIT_STRATEGY_PROP_NAME = "reprise.ring.wait.strategy";
    /**
     * How a ring stage idles when nothing is ready: sleeping (default: behaves on 2 cores), yielding, blocking,
     * busy-spin (dedicated cores).
     */
    public static final String WAIT_STRATEGY_DEFAULT = "sleeping";
    /** Sync background writes (snapshots, sources) every this many bytes. */
    public static final String BACKGROUND_SYNC_STEP_BYTES_PROP_NAME = "reprise.background.sync.step.bytes";
    /** The pace of snapshot writes, bytes per second on average; 0: as fast as the disk takes them. */
    public static final String SNAPSHOT_WRITE_PACE_PROP_NAME = "reprise.snapshot.write.bytes.per.second";
    /** How long after a failed journal write or sync to try again. */
    public static final long JOURNAL_RETRY_INTERVAL_MS = 20;
    public static final String SEGMENT_LENGTH_PROP_NAME = "reprise.journal.segment.length";
    public static final long SEGMENT_LENGTH_DEFAULT = 64L * 1024 * 1024;
    public static final String WRITE_BUFFER_PROP_NAME = "reprise.journal.write.buffer.bytes";
    public static final int WRITE_BUFFER_DEFAULT = 4 * 1024 * 1024;
    /**
     * For benchmarks only: the journal stage writes each group commit but does not fsync it, so acknowledged saves
     * are NOT durable (a crash of the machine, not only of the process, loses them). Off by default.
     */
    public static final String JOURNAL_SKIP_FSYNC_PROP_NAME = "reprise.journal.skip.fsync";
    public static final boolean JOURNAL_SKIP_FSYNC_DEFAULT = false;
    public static final String TIME_TICK_MS_PROP_NAME = "reprise.time.tick.ms";
    public static final long TIME_TICK_MS_DEFAULT = 1;
    public static final String TIME_HEARTBEAT_MS_PROP_NAME = "reprise.time.heartbeat.ms";
    /** Longest an idle node lets system time lag the wall clock. */
    public static final long TIME_HEARTBEAT_MS_DEFAULT = 1000;
    public static final String SNAPSHOT_EVERY_OPERATORS_PROP_NAME = "reprise.snapshot.every.operators";
    public static final long SNAPSHOT_EVERY_OPERATORS_DEFAULT = 10_000_000;
    public static final String SNAPSHOT_EVERY_MS_PROP_NAME = "reprise.snapshot.every.ms";
    public static final long SNAPSHOT_EVERY_MS_DEFAULT = 10 * 60 * 1000;
    public static final String SNAPSHOT_EVERY_LOG_BYTES_PROP_NAME = "reprise.snapshot.every.log.bytes";
    public static final long SNAPSHOT_EVERY_LOG_BYTES_DEFAULT = 1024L * 1024 * 1024;
    public static final String SNAPSHOTS_RETAINED_PROP_NAME = "reprise.snapshots.retained";
    public static final int SNAPSHOTS_RETAINED_DEFAULT = 2;
    public static final String STORAGE_PAGE_BYTES_PROP_NAME = "reprise.storage.container.page.bytes";
    public static final int STORAGE_PAGE_BYTES_DEFAULT = 1024 * 1024;
    public static final String STORAGE_CONTAINER_MAX_BYTES_PROP_NAME = "reprise.storage.container.max.bytes";
    public static final long STORAGE_CONTAINER_MAX_BYTES_DEFAULT = 256L * 1024 * 1024;
    public static final String STORAGE_FLUSH_BYTES_PROP_NAME = "reprise.storage.flush.bytes";
    public static final long STORAGE_FLUSH_BYTES_DEFAULT = 16L * 1024 * 1024;
    public static final String STORAGE_FLUSH_AGE_MS_PROP_NAME = "reprise.storage.flush.age.ms";
    public static final long STORAGE_FLUSH_AGE_MS_DEFAULT = 1000;
    public static final String STORAGE_MERGE_FAN_IN_PROP_NAME = "reprise.storage.merge.fan.in";
    public static final int STORAGE_MERGE_FAN_IN_DEFAULT = 4;
    /** Room for events from the business logic to the repeat process; a power of two. */
    public static final String REPEAT_EVENT_BYTES_PROP_NAME = "reprise.repeat.event.bytes";
    public static final int REPEAT_EVENT_BYTES_DEFAULT = 4 * 1024 * 1024;

    private Path dataDirectory = Path.of(System.getProperty(DATA_DIR_PROP_NAME, DATA_DIR_DEFAULT));
    private int ringSize = SystemProperties.intValue(RING_SIZE_PROP_NAME, RING_SIZE_DEFAULT);
    private int ringCellBytes = SystemProperties.intValue(RING_CELL_BYTES_PROP_NAME, RING_CELL_BYTES_DEFAULT);
    private int maxBatchSize = SystemProperties.intValue(MAX_BATCH_PROP_NAME, MAX_BATCH_DEFAULT);
    private String waitStrategyName = System.getProperty(WAIT_STRATEGY_PROP_NAME, WAIT_STRATEGY_DEFAULT);
    private Supplier<IdleStrategy> stageIdleStrategies;
    private long journalSegmentLength = SystemProperties.longValue(SEGMENT_LENGTH_PROP_NAME, SEGMENT_LENGTH_DEFAULT);
    private int journalWriteBufferBytes = SystemProperties.intValue(WRITE_BUFFER_PROP_NAME, WRITE_BUFFER_DEFAULT);
    private boolean journalSkipFsync = Boolean.parseBoolean(
        System.getProperty(JOURNAL_SKIP_FSYNC_PROP_NAME, Boolean.toString(JOURNAL_SKIP_FSYNC_DEFAULT)));
    private long timeTickMs = SystemProperties.longValue(TIME_TICK_MS_PROP_NAME, TIME_TICK_MS_DEFAULT);
    private long timeHeartbeatMs = SystemProperties.longValue(TIME_HEARTBEAT_MS_PROP_NAME, TIME_HEARTBEAT_MS_DEFAULT);
    private long snapshotEveryOperators =
        SystemProperties.longValue(SNAPSHOT_EVERY_OPERATORS_PROP_NAME, SNAPSHOT_EVERY_OPERATORS_DEFAULT);
    private long snapshotEveryMs = SystemProperties.longValue(SNAPSHOT_EVERY_MS_PROP_NAME, SNAPSHOT_EVERY_MS_DEFAULT);
    private long snapshotEveryLogBytes = SystemProperties.longValue(SNAPSHOT_EVERY_LOG_BYTES_PROP_NAME,
        SNAPSHOT_EVERY_LOG_BYTES_DEFAULT);
    private int snapshotsRetained = SystemProperties.intValue(SNAPSHOTS_RETAINED_PROP_NAME, SNAPSHOTS_RETAINED_DEFAULT);

    private int storagePageBytes = SystemProperties.intValue(STORAGE_PAGE_BYTES_PROP_NAME, STORAGE_PAGE_BYTES_DEFAULT);
    private long storageContainerMaxBytes =
        SystemProperties.longValue(STORAGE_CONTAINER_MAX_BYTES_PROP_NAME, STORAGE_CONTAINER_MAX_BYTES_DEFAULT);
    private long storageFlushBytes = SystemProperties.longValue(STORAGE_FLUSH_BYTES_PROP_NAME, STORAGE_FLUSH_BYTES_DEFAULT);
    private long storageFlushAgeMs = SystemProperties.longValue(STORAGE_FLUSH_AGE_MS_PROP_NAME, STORAGE_FLUSH_AGE_MS_DEFAULT);
    private int storageMergeFanIn = SystemProperties.intValue(STORAGE_MERGE_FAN_IN_PROP_NAME, STORAGE_MERGE_FAN_IN_DEFAULT);
    private int repeatEventBytes = SystemProperties.intValue(REPEAT_EVENT_BYTES_PROP_NAME, REPEAT_EVENT_BYTES_DEFAULT);
    private WorkerLink workerLink = WorkerLink.NONE;

    private BusinessRules rules;
    private Disk disk;
    private PlantedBug plantedBug = PlantedBug.NONE;
    private Membership membership;
    private int replicationWindowBytes = 16 * 1024 * 1024;
    private long clientIdBase;
    private EpochClock epochClock;
    private NanoClock nanoClock;
    private IdleStrategy agentIdleStrategy;
    private long backgroundSyncStepBytes = SystemProperties.longValue(BACKGROUND_SYNC_STEP_BYTES_PROP_NAME,
        BackgroundSync.Settings.STEP_BYTES_DEFAULT);
    private long snapshotWriteBytesPerSecond = SystemProperties.longValue(SNAPSHOT_WRITE_PACE_PROP_NAME,
        BackgroundSync.Settings.SNAPSHOT_BYTES_PER_SECOND_DEFAULT);
    private OutputSink outputObserver = OutputSink.NONE;
    private LifecycleListener lifecycleListener = (step) -> { };
    private SnapshotAgent.Listener snapshotListener;
    private ErrorHandler errorHandler;
    private boolean concluded;

    /** Fills in defaults and checks every setting; called by {@link NodeAssembly#assemble}. */
    public NodeContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (Integer.bitCount(ringSize) != 1 || ringSize < 64)
        {
            throw new IllegalArgumentException("ring size must be a power of two >= 64: " + ringSize);
        }
        if (ringCellBytes < 64 || (long)ringSize * ringCellBytes > MAX_RING_SLAB_BYTES)
        {
            throw new IllegalArgumentException("ring cell bytes must be >= 64 and ring size x cell bytes <= " +
                MAX_RING_SLAB_BYTES + ": " + ringSize + " x " + ringCellBytes);
        }
        if (Integer.bitCount(repeatEventBytes) != 1 || repeatEventBytes < 4096)
        {
            throw new IllegalArgumentException("repeat event bytes must be a power of two >= 4096: " +
                repeatEventBytes);
        }
        if (maxBatchSize < 1)
        {
            throw new IllegalArgumentException("max batch size must be >= 1: " + maxBatchSize);
        }
        if (null == rules)
        {
            rules = new BusinessRules();
        }
        if (!rules.isConcluded())
        {
            rules.conclude();
        }
        if (storagePageBytes < rules.maxPayloadBytes() + 32 || storageContainerMaxBytes < 2L * storagePageBytes ||
            storageFlushBytes < 1 || storageFlushAgeMs < 1 || storageMergeFanIn < 2)
        {
            throw new IllegalArgumentException("storage: a container page must hold the largest payload (" +
                rules.maxPayloadBytes() + " + 32 bytes), the container two pages, flush triggers >= 1, fan-in >= 2");
        }
        // A page indexes at most pageBytes/256 records, so a container of tombstones (32 bytes each) holds
        // maxBytes/256 of them while the flush counts bytes: keep room for twice what one flush threshold holds.
        if (storageContainerMaxBytes < 16 * storageFlushBytes)
        {
            throw new IllegalArgumentException("storage: the container (" + storageContainerMaxBytes +
                " bytes) must be at least 16 x the flush threshold (" + storageFlushBytes + " bytes), or small " +
                "records can fill its page indexes before a flush is due");
        }
        stageIdleStrategy(waitStrategyName);
        if (null == epochClock)
        {
            epochClock = SystemEpochClock.INSTANCE;
        }
        if (null == nanoClock)
        {
            nanoClock = SystemNanoClock.INSTANCE;
        }
        if (null == disk)
        {
            disk = new FileChannelDisk(new BackgroundSync.Settings(backgroundSyncStepBytes,
                snapshotWriteBytesPerSecond, Pace.parking(nanoClock)));
        }
        if (null == agentIdleStrategy)
        {
            // Background agents are not on the latency path: on 2 cores they must not spin or yield against
            // the journal and business-logic threads. A short spin, then parks growing to 1 ms.
            agentIdleStrategy = new BackoffIdleStrategy(10, 0, 10_000, 1_000_000);
        }
        if (null == errorHandler)
        {
            // Each distinct error's trace once, then counts (ErrorReporter); a node on Aeron keeps the log in a file.
            errorHandler = ErrorReporter.inMemory(System.err);
        }
        if (null == snapshotListener)
        {
            snapshotListener = new SnapshotAgent.Listener()
            {
                public void onSnapshotStarting(final long index)
                {
                    lifecycleListener.onStep("snapshot-starting index=" + index);
                }

                public void onSnapshot(final SnapshotInfo info, final long writeNs)
                {
                    lifecycleListener.onStep("snapshot-taken " + info.fileName() + " in " + writeNs / 1_000_000 + " ms");
                }

                public void onRotation(final int segmentsDeleted, final int snapshotsDeleted)
                {
                    lifecycleListener.onStep("rotated segments-deleted=" + segmentsDeleted + " snapshots-deleted=" +
                        snapshotsDeleted);
                }
            };
        }
        concluded = true;
        return this;
    }

    /**
     * A new idle strategy for a ring stage, by name. They match the Disruptor wait strategies of the same names,
     * except {@code blocking}: a stage never blocks on a lock, so it parks, growing to 1 ms, and needs no signal.
     */
    static IdleStrategy stageIdleStrategyNamed(final String name)
    {
        switch (name)
        {
            case "sleeping":
                return new BackoffIdleStrategy(100, 100, 50_000, 50_000);
            case "yielding":
                return new BackoffIdleStrategy(100, Long.MAX_VALUE, 1, 1);
            case "blocking":
                return new BackoffIdleStrategy(10, 10, 1_000, 1_000_000);
            case "busy-spin":
                return new BusySpinIdleStrategy();
            default:
                throw new IllegalArgumentException("unknown wait strategy: " + name +
                    " (sleeping, yielding, blocking, busy-spin)");
        }
    }

    public Path dataDirectory()
    {
        return dataDirectory;
    }

    public NodeContext dataDirectory(final Path dataDirectory)
    {
        this.dataDirectory = dataDirectory;
        return this;
    }

    public int ringSize()
    {
        return ringSize;
    }

    public NodeContext ringSize(final int ringSize)
    {
        this.ringSize = ringSize;
        return this;
    }

    public int ringCellBytes()
    {
        return ringCellBytes;
    }

    /** Bytes of an operator a ring slot keeps in the ring's shared slab; larger ones go to the slot's own buffer. */
    public NodeContext ringCellBytes(final int ringCellBytes)
    {
        this.ringCellBytes = ringCellBytes;
        return this;
    }

    public int maxBatchSize()
    {
        return maxBatchSize;
    }

    public NodeContext maxBatchSize(final int maxBatchSize)
    {
        this.maxBatchSize = maxBatchSize;
        return this;
    }

    /** A new idle strategy for one ring stage of the threaded runtime. */
    public IdleStrategy newStageIdleStrategy()
    {
        return null != stageIdleStrategies ? stageIdleStrategies.get() : stageIdleStrategyNamed(waitStrategyName);
    }

    /** The name of how ring stages idle: {@value #WAIT_STRATEGY_PROP_NAME}. */
    public String stageIdleStrategyName()
    {
        return waitStrategyName;
    }

    /** For tests: makes the ring stages' idle strategies, one a stage, in place of those the name gives. */
    public NodeContext stageIdleStrategies(final Supplier<IdleStrategy> stageIdleStrategies)
    {
        this.stageIdleStrategies = stageIdleStrategies;
        return this;
    }

    public long backgroundSyncStepBytes()
    {
        return backgroundSyncStepBytes;
    }

    /** Background writes (snapshots, sources) are synced every this many bytes; for the disk made at conclude. */
    public NodeContext backgroundSyncStepBytes(final long backgroundSyncStepBytes)
    {
        this.backgroundSyncStepBytes = backgroundSyncStepBytes;
        return this;
    }

    public long snapshotWriteBytesPerSecond()
    {
        return snapshotWriteBytesPerSecond;
    }

    /** The pace of snapshot writes, 0 for none; for the disk made at conclude. */
    public NodeContext snapshotWriteBytesPerSecond(final long snapshotWriteBytesPerSecond)
    {
        this.snapshotWriteBytesPerSecond = snapshotWriteBytesPerSecond;
        return this;
    }

    /** How ring stages idle: sleeping, yielding, blocking or busy-spin. */
    public NodeContext stageIdleStrategy(final String name)
    {
        stageIdleStrategyNamed(name); // refuses an unknown name now rather than at start
        this.waitStrategyName = name;
        return this;
    }

    public long journalSegmentLength()
    {
        return journalSegmentLength;
    }

    public NodeContext journalSegmentLength(final long journalSegmentLength)
    {
        this.journalSegmentLength = journalSegmentLength;
        return this;
    }

    public int journalWriteBufferBytes()
    {
        return journalWriteBufferBytes;
    }

    public NodeContext journalWriteBufferBytes(final int journalWriteBufferBytes)
    {
        this.journalWriteBufferBytes = journalWriteBufferBytes;
        return this;
    }

    public boolean journalSkipFsync()
    {
        return journalSkipFsync;
    }

    /** For benchmarks only: see {@link #JOURNAL_SKIP_FSYNC_PROP_NAME}; acknowledged saves are then not durable. */
    public NodeContext journalSkipFsync(final boolean journalSkipFsync)
    {
        this.journalSkipFsync = journalSkipFsync;
        return this;
    }

    public long timeTickMs()
    {
        return timeTickMs;
    }

    public NodeContext timeTickMs(final long timeTickMs)
    {
        this.timeTickMs = timeTickMs;
        return this;
    }

    /** Heartbeat of the time process; raised to the tick when below it. */
    public long timeHeartbeatMs()
    {
        return Math.max(timeHeartbeatMs, timeTickMs);
    }

    public NodeContext timeHeartbeatMs(final long timeHeartbeatMs)
    {
        this.timeHeartbeatMs = timeHeartbeatMs;
        return this;
    }

    public long snapshotEveryOperators()
    {
        return snapshotEveryOperators;
    }

    public NodeContext snapshotEveryOperators(final long snapshotEveryOperators)
    {
        this.snapshotEveryOperators = snapshotEveryOperators;
        return this;
    }

    public long snapshotEveryMs()
    {
        return snapshotEveryMs;
    }

    public NodeContext snapshotEveryMs(final long snapshotEveryMs)
    {
        this.snapshotEveryMs = snapshotEveryMs;
        return this;
    }

    public long snapshotEveryLogBytes()
    {
        return snapshotEveryLogBytes;
    }

    public NodeContext snapshotEveryLogBytes(final long snapshotEveryLogBytes)
    {
        this.snapshotEveryLogBytes = snapshotEveryLogBytes;
        return this;
    }

    public int storagePageBytes()
    {
        return storagePageBytes;
    }

    public NodeContext storagePageBytes(final int storagePageBytes)
    {
        this.storagePageBytes = storagePageBytes;
        return this;
    }

    public long storageContainerMaxBytes()
    {
        return storageContainerMaxBytes;
    }

    public NodeContext storageContainerMaxBytes(final long storageContainerMaxBytes)
    {
        this.storageContainerMaxBytes = storageContainerMaxBytes;
        return this;
    }

    public long storageFlushBytes()
    {
        return storageFlushBytes;
    }

    public NodeContext storageFlushBytes(final long storageFlushBytes)
    {
        this.storageFlushBytes = storageFlushBytes;
        return this;
    }

    public long storageFlushAgeMs()
    {
        return storageFlushAgeMs;
    }

    public NodeContext storageFlushAgeMs(final long storageFlushAgeMs)
    {
        this.storageFlushAgeMs = storageFlushAgeMs;
        return this;
    }

    public int storageMergeFanIn()
    {
        return storageMergeFanIn;
    }

    public NodeContext storageMergeFanIn(final int storageMergeFanIn)
    {
        this.storageMergeFanIn = storageMergeFanIn;
        return this;
    }

    public int repeatEventBytes()
    {
        return repeatEventBytes;
    }

    public NodeContext repeatEventBytes(final int repeatEventBytes)
    {
        this.repeatEventBytes = repeatEventBytes;
        return this;
    }

    public WorkerLink workerLink()
    {
        return workerLink;
    }

    /** How the repeat process reaches workers: the transport's; with none, nothing is ever dispatched. */
    public NodeContext workerLink(final WorkerLink workerLink)
    {
        this.workerLink = workerLink;
        return this;
    }

    public int snapshotsRetained()
    {
        return snapshotsRetained;
    }

    public NodeContext snapshotsRetained(final int snapshotsRetained)
    {
        this.snapshotsRetained = snapshotsRetained;
        return this;
    }

    public BusinessRules rules()
    {
        return rules;
    }

    public NodeContext rules(final BusinessRules rules)
    {
        this.rules = rules;
        return this;
    }

    /** A bug planted by the simulator, or {@link PlantedBug#NONE}. */
    public PlantedBug plantedBug()
    {
        return plantedBug;
    }

    /** For the simulator only: plants {@code bug} in the node, to prove its checker catches it. */
    public NodeContext plantedBug(final PlantedBug bug)
    {
        this.plantedBug = bug;
        return this;
    }

    /**
     * A node's place in a cluster: which member it is of how many, how it reaches the others, its protocol's timeouts,
     * and the seeded generator its election timeouts are drawn from.
     */
    public record Membership(
        int memberId, int memberCount, ReplicaLink link, Consensus.Settings settings, java.util.Random random)
    {
    }

    /** Operators of the newest entries a leader keeps in memory to send; a follower further behind is read from disk. */
    public int replicationWindowBytes()
    {
        return replicationWindowBytes;
    }

    public NodeContext replicationWindowBytes(final int bytes)
    {
        this.replicationWindowBytes = bytes;
        return this;
    }

    /**
     * In-process clients get ids above this. A response goes to the client whose id its operator carries, on whichever
     * member applies it: members of a cluster (and each start of one) must give ids no other gives.
     */
    public long clientIdBase()
    {
        return clientIdBase;
    }

    public NodeContext clientIdBase(final long clientIdBase)
    {
        this.clientIdBase = clientIdBase;
        return this;
    }

    /** The node's cluster membership, or null when it runs standalone. */
    public Membership membership()
    {
        return membership;
    }

    /** Makes the node a member of a cluster (docs/cluster.md); standalone when never called. */
    public NodeContext membership(final Membership membership)
    {
        this.membership = membership;
        return this;
    }

    public Disk disk()
    {
        return disk;
    }

    public NodeContext disk(final Disk disk)
    {
        this.disk = disk;
        return this;
    }

    public EpochClock epochClock()
    {
        return epochClock;
    }

    public NodeContext epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
        return this;
    }

    public NanoClock nanoClock()
    {
        return nanoClock;
    }

    public NodeContext nanoClock(final NanoClock nanoClock)
    {
        this.nanoClock = nanoClock;
        return this;
    }

    public IdleStrategy agentIdleStrategy()
    {
        return agentIdleStrategy;
    }

    public NodeContext agentIdleStrategy(final IdleStrategy agentIdleStrategy)
    {
        this.agentIdleStrategy = agentIdleStrategy;
        return this;
    }

    public OutputSink outputObserver()
    {
        return outputObserver;
    }

    /**
     * Sees every output of operators applied while the node runs (not those of the start-up replay), on the
     * business-logic thread, after in-process clients got theirs.
     */
    public NodeContext outputObserver(final OutputSink outputObserver)
    {
        this.outputObserver = outputObserver;
        return this;
    }

    public LifecycleListener lifecycleListener()
    {
        return lifecycleListener;
    }

    public NodeContext lifecycleListener(final LifecycleListener lifecycleListener)
    {
        this.lifecycleListener = lifecycleListener;
        return this;
    }

    public SnapshotAgent.Listener snapshotListener()
    {
        return snapshotListener;
    }

    public NodeContext snapshotListener(final SnapshotAgent.Listener snapshotListener)
    {
        this.snapshotListener = snapshotListener;
        return this;
    }

    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    public NodeContext errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return this;
    }
}
