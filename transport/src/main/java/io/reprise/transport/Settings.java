package io.reprise.transport;

import static io.reprise.transport.Setting.Scope.BENCHMARKS;
import static io.reprise.transport.Setting.Scope.NODE;
import static io.reprise.transport.Setting.Scope.NODE_BENCHMARK;
import static io.reprise.transport.Setting.Scope.TESTS;
import static io.reprise.transport.Setting.Scope.TOOLS;
import static io.reprise.transport.Setting.booleanKey;
import static io.reprise.transport.Setting.choiceKey;
import static io.reprise.transport.Setting.directoryKey;
import static io.reprise.transport.Setting.intKey;
import static io.reprise.transport.Setting.longKey;
import static io.reprise.transport.Setting.textKey;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;

import io.aeron.ChannelUri;
import io.aeron.CommonContext;
import io.reprise.engine.disk.BackgroundSync;
import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.BusinessRules.Configuration;
import io.reprise.engine.node.NodeContext;

/**
 * Every {@code reprise.*} key, in one table: the node's settings (engine, business rules, transport) with their
 * defaults, ranges and units, how each is applied to a node's contexts and read back, and the keys the tools,
 * the benchmarks and the test suites read. {@code reprise node} checks a node's configuration against it before it
 * starts anything ({@link #resolve}), prints the effective settings from it ({@link #describe}), and
 * docs/configuration.md is generated from it ({@link #markdown()}; {@code SettingsDocTest} fails when the committed
 * document differs).
 * <p>
 * A value is taken from, in increasing precedence: the default, the configuration file, the system property, the
 * command line.
 */
public final class Settings
{
    /** Where a value came from. */
    public static final String DEFAULT = "default";
    public static final String SYSTEM_PROPERTY = "system property";
    public static final String COMMAND_LINE = "command line";
    /** A value a program set on a context itself, not through a key. */
    public static final String SET_BY_PROGRAM = "set by the program";

    /** What a node's settings are applied to. */
    public record Contexts(NodeContext node, BusinessRules rules, TransportContext transport)
    {
    }

    /** A relation between node settings that each value alone cannot show. */
    private record Relation(List<String> keys, String rule, Predicate<Function<String, String>> holds)
    {
    }

    private static final Map<String, Setting> TABLE = new LinkedHashMap<>();
    private static final List<Relation> RELATIONS = new ArrayList<>();

    static
    {
        // --------------------------------------------------------------------------------------------- the node
        add(directoryKey(NodeContext.DATA_DIR_PROP_NAME, NODE, NodeContext.DATA_DIR_DEFAULT)
            .doc("The node's data directory: `journal/`, `snapshots/`, saved-session storage.")
            .applied((c, v) -> c.node().dataDirectory(Path.of(v)), (c) -> c.node().dataDirectory().toString()));
        add(intKey(NodeContext.RING_SIZE_PROP_NAME, NODE, NodeContext.RING_SIZE_DEFAULT)
            .range(64, 1 << 24).powerOfTwo().unit("slots")
            .doc("Slots of the Disruptor ring between ingress, journal and business logic.")
            .applied((c, v) -> c.node().ringSize(Integer.parseInt(v)), (c) -> str(c.node().ringSize())));
        add(intKey(NodeContext.RING_CELL_BYTES_PROP_NAME, NODE, NodeContext.RING_CELL_BYTES_DEFAULT)
            .range(64, 1 << 24).unit("bytes")
            .doc("Bytes of an operator a ring slot keeps in the ring's shared slab; larger ones use a buffer of the slot's own.")
            .applied((c, v) -> c.node().ringCellBytes(Integer.parseInt(v)), (c) -> str(c.node().ringCellBytes())));
        add(intKey(NodeContext.MAX_BATCH_PROP_NAME, NODE, NodeContext.MAX_BATCH_DEFAULT)
            .atLeast(1).unit("operators")
            .doc("Most operators a stage of the ring takes in one batch (one group commit at most this large).")
            .applied((c, v) -> c.node().maxBatchSize(Integer.parseInt(v)), (c) -> str(c.node().maxBatchSize())));
        add(choiceKey(NodeContext.WAIT_STRATEGY_PROP_NAME, NODE, NodeContext.WAIT_STRATEGY_DEFAULT,
            "sleeping", "yielding", "blocking", "busy-spin")
            .doc("How the ring's stages idle when nothing is ready: `sleeping` behaves on 2 cores; `busy-spin` wants " +
                "dedicated cores.")
            .applied((c, v) -> c.node().stageIdleStrategy(v), (c) -> c.node().stageIdleStrategyName()));
        add(longKey(NodeContext.SEGMENT_LENGTH_PROP_NAME, NODE, NodeContext.SEGMENT_LENGTH_DEFAULT)
            .range(JournalFormat.SEGMENT_HEADER_LENGTH + 2L * JournalFormat.MAX_FRAME_LENGTH, 1L << 40).unit("bytes")
            .doc("Length of a journal segment file; at least two records of the largest size.")
            .applied((c, v) -> c.node().journalSegmentLength(Long.parseLong(v)),
                (c) -> str(c.node().journalSegmentLength())));
        add(intKey(NodeContext.WRITE_BUFFER_PROP_NAME, NODE, NodeContext.WRITE_BUFFER_DEFAULT)
            .range(JournalFormat.MAX_FRAME_LENGTH + JournalFormat.ALIGNMENT, 1 << 30).unit("bytes")
            .doc("The journal's write buffer: the most one group commit writes at once; at least one record of the " +
                "largest size. The tools judge a torn tail by it too.")
            .applied((c, v) -> c.node().journalWriteBufferBytes(Integer.parseInt(v)),
                (c) -> str(c.node().journalWriteBufferBytes())));
        add(booleanKey(NodeContext.JOURNAL_SKIP_FSYNC_PROP_NAME, NODE_BENCHMARK, NodeContext.JOURNAL_SKIP_FSYNC_DEFAULT)
            .doc("**Benchmarks only.** The journal writes each group commit but does not fsync it: acknowledged " +
                "saves are not durable (docs/logs.md).")
            .applied((c, v) -> c.node().journalSkipFsync(Boolean.parseBoolean(v)),
                (c) -> str(c.node().journalSkipFsync())));
        add(longKey(NodeContext.TIME_TICK_MS_PROP_NAME, NODE, NodeContext.TIME_TICK_MS_DEFAULT)
            .range(1, 86_400_000).unit("ms")
            .doc("How often the time process looks at the clock; a `SetTime` goes into the log when time moved and " +
                "something is due, or at the heartbeat.")
            .applied((c, v) -> c.node().timeTickMs(Long.parseLong(v)), (c) -> str(c.node().timeTickMs())));
        add(longKey(NodeContext.TIME_HEARTBEAT_MS_PROP_NAME, NODE, NodeContext.TIME_HEARTBEAT_MS_DEFAULT)
            .range(1, 86_400_000).unit("ms")
            .doc("Longest an idle node lets system time lag the wall clock; raised to the tick when below it.")
            .applied((c, v) -> c.node().timeHeartbeatMs(Long.parseLong(v)), (c) -> str(c.node().timeHeartbeatMs())));
        add(longKey(NodeContext.SNAPSHOT_EVERY_OPERATORS_PROP_NAME, NODE, NodeContext.SNAPSHOT_EVERY_OPERATORS_DEFAULT)
            .atLeast(1).unit("operators")
            .doc("A snapshot is due after this many operators since the last one (docs/snapshots.md).")
            .applied((c, v) -> c.node().snapshotEveryOperators(Long.parseLong(v)),
                (c) -> str(c.node().snapshotEveryOperators())));
        add(longKey(NodeContext.SNAPSHOT_EVERY_MS_PROP_NAME, NODE, NodeContext.SNAPSHOT_EVERY_MS_DEFAULT)
            .atLeast(1).unit("ms of system time")
            .doc("A snapshot is due this long after the last one.")
            .applied((c, v) -> c.node().snapshotEveryMs(Long.parseLong(v)), (c) -> str(c.node().snapshotEveryMs())));
        add(longKey(NodeContext.SNAPSHOT_EVERY_LOG_BYTES_PROP_NAME, NODE, NodeContext.SNAPSHOT_EVERY_LOG_BYTES_DEFAULT)
            .atLeast(1).unit("bytes")
            .doc("A snapshot is due once the journal grew this much since the last one.")
            .applied((c, v) -> c.node().snapshotEveryLogBytes(Long.parseLong(v)),
                (c) -> str(c.node().snapshotEveryLogBytes())));
        add(intKey(NodeContext.SNAPSHOTS_RETAINED_PROP_NAME, NODE, NodeContext.SNAPSHOTS_RETAINED_DEFAULT)
            .atLeast(1).unit("snapshots")
            .doc("Snapshots kept; older ones, and the journal segments only they needed, are deleted.")
            .applied((c, v) -> c.node().snapshotsRetained(Integer.parseInt(v)), (c) -> str(c.node().snapshotsRetained())));
        add(longKey(NodeContext.SNAPSHOT_WRITE_PACE_PROP_NAME, NODE,
            BackgroundSync.Settings.SNAPSHOT_BYTES_PER_SECOND_DEFAULT)
            .atLeast(0).unit("bytes/s")
            .doc("The pace of snapshot writes, so that the journal's fsync never queues behind them; 0: as fast as " +
                "the disk takes them. For the disk the node makes (not one a program gives it).")
            .applied((c, v) -> c.node().snapshotWriteBytesPerSecond(Long.parseLong(v)),
                (c) -> str(c.node().snapshotWriteBytesPerSecond())));
        add(longKey(NodeContext.BACKGROUND_SYNC_STEP_BYTES_PROP_NAME, NODE, BackgroundSync.Settings.STEP_BYTES_DEFAULT)
            .atLeast(1).unit("bytes")
            .doc("A background write (snapshot, saved-session source) is synced every this many bytes. For the disk " +
                "the node makes.")
            .applied((c, v) -> c.node().backgroundSyncStepBytes(Long.parseLong(v)),
                (c) -> str(c.node().backgroundSyncStepBytes())));
        add(intKey(NodeContext.STORAGE_PAGE_BYTES_PROP_NAME, NODE, NodeContext.STORAGE_PAGE_BYTES_DEFAULT)
            .range(4096, 1 << 30).multipleOf(8).unit("bytes")
            .doc("A page of the in-memory container of saved-session payloads; holds the largest payload + 32.")
            .applied((c, v) -> c.node().storagePageBytes(Integer.parseInt(v)), (c) -> str(c.node().storagePageBytes())));
        add(longKey(NodeContext.STORAGE_CONTAINER_MAX_BYTES_PROP_NAME, NODE,
            NodeContext.STORAGE_CONTAINER_MAX_BYTES_DEFAULT)
            .atLeast(8192).unit("bytes")
            .doc("Bytes the container may hold before saves wait for a flush (docs/saved_sessions_storage.md).")
            .applied((c, v) -> c.node().storageContainerMaxBytes(Long.parseLong(v)),
                (c) -> str(c.node().storageContainerMaxBytes())));
        add(longKey(NodeContext.STORAGE_FLUSH_BYTES_PROP_NAME, NODE, NodeContext.STORAGE_FLUSH_BYTES_DEFAULT)
            .atLeast(1).unit("bytes")
            .doc("The container is flushed to a source file once it holds this much.")
            .applied((c, v) -> c.node().storageFlushBytes(Long.parseLong(v)), (c) -> str(c.node().storageFlushBytes())));
        add(longKey(NodeContext.STORAGE_FLUSH_AGE_MS_PROP_NAME, NODE, NodeContext.STORAGE_FLUSH_AGE_MS_DEFAULT)
            .atLeast(1).unit("ms")
            .doc("... or once its oldest record is this old.")
            .applied((c, v) -> c.node().storageFlushAgeMs(Long.parseLong(v)), (c) -> str(c.node().storageFlushAgeMs())));
        add(intKey(NodeContext.STORAGE_MERGE_FAN_IN_PROP_NAME, NODE, NodeContext.STORAGE_MERGE_FAN_IN_DEFAULT)
            .atLeast(2).unit("sources")
            .doc("Source files of about one size merged into one.")
            .applied((c, v) -> c.node().storageMergeFanIn(Integer.parseInt(v)), (c) -> str(c.node().storageMergeFanIn())));
        add(intKey(NodeContext.REPEAT_EVENT_BYTES_PROP_NAME, NODE, NodeContext.REPEAT_EVENT_BYTES_DEFAULT)
            .range(4096, 1 << 30).powerOfTwo().unit("bytes")
            .doc("Room for events from the business logic to the repeat process.")
            .applied((c, v) -> c.node().repeatEventBytes(Integer.parseInt(v)), (c) -> str(c.node().repeatEventBytes())));

        // ---------------------------------------------------------------------------------- the business rules
        add(intKey(Configuration.MAX_SESSIONS_PROP_NAME, NODE, Configuration.MAX_SESSIONS_DEFAULT)
            .range(1, 1 << 29).unit("sessions")
            .doc("Most sessions the state holds; a save beyond it is refused.")
            .applied((c, v) -> c.rules().maxSessions(Integer.parseInt(v)), (c) -> str(c.rules().maxSessions())));
        add(intKey(Configuration.EXPECTED_SESSIONS_PROP_NAME, NODE, Configuration.EXPECTED_SESSIONS_DEFAULT)
            .atLeast(0).unit("sessions")
            .doc("Sessions the state is first sized for; it grows beyond.")
            .applied((c, v) -> c.rules().expectedSessions(Integer.parseInt(v)),
                (c) -> str(c.rules().expectedSessions())));
        add(intKey(Configuration.MAX_DESTINATIONS_PROP_NAME, NODE, Configuration.MAX_DESTINATIONS_DEFAULT)
            .atLeast(1).unit("destinations")
            .doc("Destinations are numbered 0 to this, exclusive.")
            .applied((c, v) -> c.rules().maxDestinations(Integer.parseInt(v)), (c) -> str(c.rules().maxDestinations())));
        add(intKey(Configuration.MAX_PAYLOAD_BYTES_PROP_NAME, NODE, Configuration.MAX_PAYLOAD_BYTES_DEFAULT)
            .range(0, Configuration.MAX_PAYLOAD_BYTES_HARD_LIMIT).unit("bytes")
            .doc("Largest session payload.")
            .applied((c, v) -> c.rules().maxPayloadBytes(Integer.parseInt(v)), (c) -> str(c.rules().maxPayloadBytes())));
        add(intKey(Configuration.MAX_ERROR_TEXT_BYTES_PROP_NAME, NODE, Configuration.MAX_ERROR_TEXT_BYTES_DEFAULT)
            .range(0, 65_536).unit("bytes")
            .doc("Longest error text of a report.")
            .applied((c, v) -> c.rules().maxErrorTextBytes(Integer.parseInt(v)),
                (c) -> str(c.rules().maxErrorTextBytes())));
        add(longKey(Configuration.TERMINAL_RETENTION_MS_PROP_NAME, NODE, Configuration.TERMINAL_RETENTION_MS_DEFAULT)
            .range(1, Configuration.MAX_DURATION_MS).unit("ms")
            .doc("How long a completed or cancelled session is kept before it is purged.")
            .applied((c, v) -> c.rules().terminalRetentionMs(Long.parseLong(v)),
                (c) -> str(c.rules().terminalRetentionMs())));
        add(longKey(Configuration.DEAD_RETENTION_MS_PROP_NAME, NODE, Configuration.DEAD_RETENTION_MS_DEFAULT)
            .range(1, Configuration.MAX_DURATION_MS).unit("ms")
            .doc("How long a dead session is kept (redrivable) before it is purged.")
            .applied((c, v) -> c.rules().deadRetentionMs(Long.parseLong(v)), (c) -> str(c.rules().deadRetentionMs())));
        add(intKey(Configuration.DEFAULT_IN_FLIGHT_LIMIT_PROP_NAME, NODE, Configuration.DEFAULT_IN_FLIGHT_LIMIT_DEFAULT)
            .atLeast(1).unit("attempts")
            .doc("Attempts in flight at once for a destination that was not configured.")
            .applied((c, v) -> c.rules().defaultInFlightLimit(Integer.parseInt(v)),
                (c) -> str(c.rules().defaultInFlightLimit())));
        add(intKey(Configuration.MAX_IN_FLIGHT_LIMIT_PROP_NAME, NODE, Configuration.MAX_IN_FLIGHT_LIMIT_DEFAULT)
            .atLeast(1).unit("attempts")
            .doc("Largest in-flight limit a destination may be configured with.")
            .applied((c, v) -> c.rules().maxInFlightLimit(Integer.parseInt(v)),
                (c) -> str(c.rules().maxInFlightLimit())));
        add(intKey(Configuration.MAX_BEGIN_REPEATS_BATCH_PROP_NAME, NODE, Configuration.MAX_BEGIN_REPEATS_BATCH_DEFAULT)
            .atLeast(1).unit("sessions")
            .doc("Most attempts one `BeginRepeats` starts.")
            .applied((c, v) -> c.rules().maxBeginRepeatsBatch(Integer.parseInt(v)),
                (c) -> str(c.rules().maxBeginRepeatsBatch())));
        add(intKey(Configuration.MAX_REDRIVE_BATCH_PROP_NAME, NODE, Configuration.MAX_REDRIVE_BATCH_DEFAULT)
            .atLeast(1).unit("sessions")
            .doc("Most dead sessions one `RedriveDead` of a destination redrives.")
            .applied((c, v) -> c.rules().maxRedriveBatch(Integer.parseInt(v)), (c) -> str(c.rules().maxRedriveBatch())));
        add(longKey(Configuration.MAX_LEASE_MS_PROP_NAME, NODE, Configuration.MAX_LEASE_MS_DEFAULT)
            .range(1, Integer.MAX_VALUE).unit("ms")
            .doc("Longest lease a session policy may ask for.")
            .applied((c, v) -> c.rules().maxLeaseMs(Long.parseLong(v)), (c) -> str(c.rules().maxLeaseMs())));
        add(longKey(Configuration.MAX_INITIAL_DELAY_MS_PROP_NAME, NODE, Configuration.MAX_INITIAL_DELAY_MS_DEFAULT)
            .range(0, Configuration.MAX_DURATION_MS).unit("ms")
            .doc("Longest initial delay (or due time ahead of system time) of a save.")
            .applied((c, v) -> c.rules().maxInitialDelayMs(Long.parseLong(v)),
                (c) -> str(c.rules().maxInitialDelayMs())));
        add(longKey(Configuration.MAX_TTL_MS_PROP_NAME, NODE, Configuration.MAX_TTL_MS_DEFAULT)
            .range(1, Configuration.MAX_DURATION_MS).unit("ms")
            .doc("Longest time to live (deadline after the save) of a session.")
            .applied((c, v) -> c.rules().maxTtlMs(Long.parseLong(v)), (c) -> str(c.rules().maxTtlMs())));

        // ---------------------------------------------------------------------------------------- the transport
        add(directoryKey(TransportContext.AERON_DIR_PROP_NAME, NODE, TransportContext.AERON_DIR_DEFAULT)
            .defaultText("Aeron's default directory + `-reprise`, e.g. `/dev/shm/aeron-USER-reprise`")
            .doc("The media driver's directory, where the node's counters, error log and effective settings are; " +
                "clients and `reprise stat` read it too.")
            .applied((c, v) -> c.transport().aeronDirectoryName(v), (c) -> c.transport().aeronDirectoryName()));
        add(booleanKey(TransportContext.EMBEDDED_DRIVER_PROP_NAME, NODE, true)
            .doc("The node starts a media driver of its own; false: it uses one already running on the directory.")
            .applied((c, v) -> c.transport().embeddedDriver(Boolean.parseBoolean(v)),
                (c) -> str(c.transport().embeddedDriver())));
        add(textKey(TransportContext.INGRESS_IPC_CHANNEL_PROP_NAME, NODE, TransportContext.INGRESS_IPC_CHANNEL_DEFAULT)
            .check(Settings::checkIpcChannel).unit("Aeron channel")
            .doc("The ingress for clients on this machine.")
            .applied((c, v) -> c.transport().ingressIpcChannel(v), (c) -> c.transport().ingressIpcChannel()));
        add(textKey(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME, NODE, TransportContext.INGRESS_UDP_CHANNEL_DEFAULT)
            .check(Settings::checkUdpChannel).unit("Aeron channel")
            .doc("The UDP ingress; its host must resolve and its port be 1..65535; `none` turns it off.")
            .applied((c, v) -> c.transport().ingressUdpChannel(v),
                (c) -> null == c.transport().ingressUdpChannel() ? "none" : c.transport().ingressUdpChannel()));
        add(intKey(TransportContext.INGRESS_STREAM_ID_PROP_NAME, NODE, TransportContext.INGRESS_STREAM_ID_DEFAULT)
            .unit("stream id")
            .doc("The stream of both ingress channels.")
            .applied((c, v) -> c.transport().ingressStreamId(Integer.parseInt(v)),
                (c) -> str(c.transport().ingressStreamId())));
        add(textKey(TransportContext.TOKENS_PROP_NAME, NODE, TransportContext.TOKENS_DEFAULT)
            .check(TransportContext::parseTokens).masked().unit("T=TOKEN or T:ROLE=TOKEN, comma-separated")
            .doc("The tokens clients connect with and what each grants (docs/client.md); the default is a " +
                "development token. Printed masked.")
            .applied((c, v) -> c.transport().tokens(v), (c) -> c.transport().maskedTokens()));
        add(choiceKey(TransportContext.IDLE_STRATEGY_PROP_NAME, NODE, TransportContext.IDLE_STRATEGY_DEFAULT,
            "backoff", "busy-spin")
            .doc("How the transport's threads (media driver, ingress) wait.")
            .applied((c, v) -> c.transport().idleStrategyName(v), (c) -> c.transport().idleStrategyName()));
        add(longKey(TransportContext.CONNECT_TIMEOUT_MS_PROP_NAME, NODE, TransportContext.CONNECT_TIMEOUT_MS_DEFAULT)
            .range(1, 86_400_000).unit("ms")
            .doc("How long the node tries to deliver a `ConnectResponse`; also how long the publication of a " +
                "client disconnected as too slow is kept to deliver what it still held.")
            .applied((c, v) -> c.transport().connectTimeoutMs(Long.parseLong(v)),
                (c) -> str(c.transport().connectTimeoutMs())));
        add(longKey(TransportContext.CLIENT_LIVENESS_MS_PROP_NAME, NODE, TransportContext.CLIENT_LIVENESS_MS_DEFAULT)
            .range(1, 86_400_000).unit("ms")
            .doc("How long a silent client's connection lives on (the media driver's image liveness timeout).")
            .applied((c, v) -> c.transport().clientLivenessTimeoutMs(Long.parseLong(v)),
                (c) -> str(c.transport().clientLivenessTimeoutMs())));
        add(longKey(TransportContext.WORKER_LIVENESS_MS_PROP_NAME, NODE, TransportContext.WORKER_LIVENESS_MS_DEFAULT)
            .range(TransportContext.WORKER_LIVENESS_MS_MIN, 86_400_000).unit("ms")
            .doc("A worker that sends nothing for this long is dropped; workers heartbeat every third of it.")
            .applied((c, v) -> c.transport().workerLivenessTimeoutMs(Long.parseLong(v)),
                (c) -> str(c.transport().workerLivenessTimeoutMs())));
        add(intKey(TransportContext.MAX_CONNECTIONS_PROP_NAME, NODE, TransportContext.MAX_CONNECTIONS_DEFAULT)
            .range(1, ClientRegistry.SLOTS - 1).unit("connections")
            .doc("Clients connected at once.")
            .applied((c, v) -> c.transport().maxConnections(Integer.parseInt(v)),
                (c) -> str(c.transport().maxConnections())));
        add(intKey(TransportContext.CLIENT_BACKLOG_BYTES_PROP_NAME, NODE, TransportContext.CLIENT_BACKLOG_BYTES_DEFAULT)
            .range(ClientBacklog.MIN_BYTES, ClientBacklog.MAX_BYTES).powerOfTwo().unit("bytes")
            .doc("Each connection's backlog of what its client is still to receive; a client whose backlog " +
                "overflows is disconnected.")
            .applied((c, v) -> c.transport().clientBacklogBytes(Integer.parseInt(v)),
                (c) -> str(c.transport().clientBacklogBytes())));

        // ------------------------------------------------------------------------------------------ the cluster
        add(intKey(TransportContext.CLUSTER_MEMBER_ID_PROP_NAME, NODE, TransportContext.STANDALONE)
            .range(TransportContext.STANDALONE, TransportContext.MAX_MEMBERS - 1).defaultText("-1 (standalone)")
            .unit("member id")
            .doc("This member's id in the cluster the endpoint lists name, 0 to members - 1; -1 runs a standalone " +
                "node (docs/cluster.md).")
            .applied((c, v) -> c.transport().clusterMemberId(Integer.parseInt(v)),
                (c) -> str(c.transport().clusterMemberId())));
        add(textKey(TransportContext.CLUSTER_REPLICA_ENDPOINTS_PROP_NAME, NODE, "")
            .defaultText("none").check(Settings::checkEndpoints).unit("HOST:PORT, comma-separated")
            .doc("One per member in id order: where each receives consensus messages, AppendEntries and catch-up " +
                "transfers (three Aeron streams on one UDP endpoint).")
            .applied((c, v) -> c.transport().replicaEndpoints(v), (c) -> c.transport().replicaEndpoints()));
        add(textKey(TransportContext.CLUSTER_INGRESS_ENDPOINTS_PROP_NAME, NODE, "")
            .defaultText("none").check(Settings::checkEndpoints).unit("HOST:PORT, comma-separated")
            .doc("One per member in id order: each member's UDP client ingress. A member's own entry replaces " +
                "`" + TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME + "`; one that does not lead names the " +
                "leader's to clients. Clients read this key too.")
            .applied((c, v) -> c.transport().clusterIngressEndpoints(v),
                (c) -> c.transport().clusterIngressEndpoints()));
        add(longKey(TransportContext.ELECTION_TIMEOUT_MS_PROP_NAME, NODE, TransportContext.ELECTION_TIMEOUT_MS_DEFAULT)
            .range(10, 60_000).unit("ms")
            .doc("A follower that hears no leader for this long, to 1.5 times it (drawn at random), stands for " +
                "election; a leader that hears no majority for this long steps down.")
            .applied((c, v) -> c.transport().electionTimeoutMs(Long.parseLong(v)),
                (c) -> str(c.transport().electionTimeoutMs())));
        add(longKey(TransportContext.HEARTBEAT_INTERVAL_MS_PROP_NAME, NODE,
            TransportContext.HEARTBEAT_INTERVAL_MS_DEFAULT)
            .range(1, 30_000).unit("ms")
            .doc("How often a leader with nothing to send tells its followers it is there.")
            .applied((c, v) -> c.transport().heartbeatIntervalMs(Long.parseLong(v)),
                (c) -> str(c.transport().heartbeatIntervalMs())));

        // ------------------------------------------------------------------------------ read by others than the node
        add(longKey("reprise.tools.progress.records", TOOLS, 1_000_000).atLeast(1).unit("records")
            .doc("`log verify`, `log replay` and `session history` print progress to stderr every this many records."));
        add(textKey("reprise.bench.classpath", TOOLS, "")
            .defaultText("`jmh/target/benchmarks.jar` beside the tools jar").unit("class path")
            .doc("Where `reprise bench` runs each side from."));
        add(booleanKey("reprise.sim.trace", TOOLS, false)
            .doc("`reprise sim`: print each start-up and shutdown step of the simulated node, and the simulator's " +
                "own errors with their traces."));
        add(textKey("reprise.bench.dir", BENCHMARKS, "").defaultText("`java.io.tmpdir`").unit("directory")
            .doc("Where benchmarks and probes put their data directories."));
        add(intKey("reprise.bench.lookAhead", BENCHMARKS, BusinessLogicHandler.DEFAULT_LOOK_AHEAD).atLeast(1).unit("operators")
            .doc("`MixCheck`: the business-logic handler's look-ahead."));
        add(intKey("reprise.bench.reprise.workers", BENCHMARKS, 1).atLeast(1).unit("workers")
            .doc("`bench db-scheduler`, the Reprise side: workers over IPC."));
        add(intKey("reprise.bench.reprise.hands", BENCHMARKS, 1024).atLeast(1).unit("attempts")
            .doc("`bench db-scheduler`, the Reprise side: hands of each worker."));
        add(intKey("reprise.bench.dbscheduler.threads", BENCHMARKS, 20).atLeast(1).unit("threads")
            .doc("`bench db-scheduler`: execution threads of the db-scheduler instance."));
        add(intKey("reprise.bench.dbscheduler.schedulers", BENCHMARKS, 4).atLeast(1).unit("threads")
            .doc("`bench db-scheduler`: threads that schedule the job's tasks, each on a connection of its own."));
        add(intKey("reprise.bench.dbscheduler.batch", BENCHMARKS, 1000).atLeast(1).unit("tasks")
            .doc("`bench db-scheduler`: tasks scheduled in one transaction by the load generator."));
        add(longKey("reprise.bench.dbscheduler.polling.ms", BENCHMARKS, 10).atLeast(1).unit("ms")
            .doc("`bench db-scheduler`: the scheduler's polling interval."));
        add(textKey("reprise.bench.dbscheduler.lower.fraction", BENCHMARKS, "4.0").unit("× threads")
            .doc("`bench db-scheduler`: `pollUsingLockAndFetch`'s lower limit, as a fraction of the threads."));
        add(textKey("reprise.bench.dbscheduler.upper.fraction", BENCHMARKS, "20.0").unit("× threads")
            .doc("`bench db-scheduler`: `pollUsingLockAndFetch`'s upper limit, as a fraction of the threads."));
        add(booleanKey("reprise.bench.profile", BENCHMARKS, false)
            .doc("`bench db-scheduler`: sample what PostgreSQL's sessions wait on, for the profile of that side."));
        add(textKey("reprise.bench.postgres.bin", BENCHMARKS, "").defaultText("the newest `/usr/lib/postgresql/*/bin`")
            .unit("directory").doc("`bench db-scheduler`: where `initdb`, `pg_ctl` and `postgres` are."));
        add(textKey("reprise.bench.postgres.user", BENCHMARKS, "postgres").unit("user")
            .doc("`bench db-scheduler`: the user PostgreSQL runs as when the benchmark runs as root."));
        add(booleanKey("reprise.probe.cold", BENCHMARKS, false)
            .doc("`FreezeProbe`: skip the snapshot warm-up a node runs before serving."));
        add(booleanKey("reprise.probe.realtime", BENCHMARKS, false)
            .doc("`SnapshotProbe`: give the business-logic thread real-time priority (needs `chrt`)."));
        add(longKey("reprise.test.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("The seed of every randomized test that takes no seed of its own; each prints the one it used."));
        add(longKey("reprise.determinism.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`DeterminismTest`'s seed."));
        add(longKey("reprise.model.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`ReferenceModelTest`: run only this seed."));
        add(longKey("reprise.model.seeds", TESTS, 4).atLeast(1).unit("seeds")
            .doc("`ReferenceModelTest`: seeds per run (16 under `-Plong`)."));
        add(longKey("reprise.model.operators", TESTS, 1_000_000).atLeast(1).unit("operators")
            .doc("`ReferenceModelTest`: operators per run, over all seeds (20,000,000 under `-Plong`)."));
        add(longKey("reprise.disk.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`SimulatedDiskCrashTest`'s seed."));
        add(longKey("reprise.crash.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`CrashRecoveryTest`'s seed."));
        add(longKey("reprise.crash.kills", TESTS, 30).atLeast(1).unit("kills")
            .doc("`CrashRecoveryTest`: SIGKILLs per run (300 under `-Plong`)."));
        add(longKey("reprise.crash.kills.per.directory", TESTS, 30).atLeast(1).unit("kills")
            .doc("`CrashRecoveryTest`: kills on one data directory before a fresh one."));
        add(longKey("reprise.crash.ops.per.second", TESTS, 6000).atLeast(1).unit("operators/s")
            .doc("`CrashRecoveryTest`: the rate the driver offers operators at."));
        add(longKey("reprise.crash.slow.io.ms", TESTS, 8).atLeast(0).unit("ms")
            .doc("`CrashRecoveryTest`: how long the driver's disk holds some writes, to widen the windows kills land in."));
        add(longKey("reprise.storage.crash.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`StorageCrashTest`'s seed."));
        add(longKey("reprise.storage.crash.kills", TESTS, 20).atLeast(1).unit("kills")
            .doc("`StorageCrashTest`: SIGKILLs per run (200 under `-Plong`)."));
        add(longKey("reprise.storage.crash.ops.per.second", TESTS, 3000).atLeast(1).unit("operators/s")
            .doc("`StorageCrashTest`: the rate the driver offers operators at."));
        add(longKey("reprise.storage.crash.slow.io.ms", TESTS, 4).atLeast(0).unit("ms")
            .doc("`StorageCrashTest`: how long the driver's disk holds some writes."));
        add(longKey("reprise.sim.first.seed", TESTS, 1).defaultText("1 (empty: 1)").unit("seed")
            .doc("`SimulationSeedsTest`, `PlantedBugsTest`, `ReplayTest`: the first seed of the simulated runs."));
        add(longKey("reprise.sim.seeds", TESTS, 200).atLeast(1).unit("runs")
            .doc("`SimulationSeedsTest`, `PlantedBugsTest`: simulated runs (10,000 under `-Plong`)."));
        add(longKey("reprise.sim.steps", TESTS, 100_000).atLeast(1).unit("steps")
            .doc("`SimulationSeedsTest`: steps of each simulated run."));
        add(longKey("reprise.cluster.seeds3", TESTS, 200).atLeast(1).unit("runs")
            .doc("`ClusterSimulationSeedsTest`, `ClusterPlantedBugsTest`: simulated runs of 3 members (10,000 under " +
                "`-Plong`)."));
        add(longKey("reprise.cluster.seeds5", TESTS, 50).atLeast(0).unit("runs")
            .doc("`ClusterSimulationSeedsTest`: simulated runs of 5 members (10,000 under `-Plong`)."));
        add(longKey("reprise.cluster.steps", TESTS, 100_000).atLeast(1).unit("steps")
            .doc("`ClusterSimulationSeedsTest`, `ClusterPlantedBugsTest`: steps of each run."));
        add(longKey("reprise.cluster.snapshot.every", TESTS, 500).atLeast(1).unit("operators")
            .doc("`reprise sim --nodes`: each member takes a snapshot every this many operators, so that logs start " +
                "after snapshots often enough for full installs."));
        add(longKey("reprise.consensus.first.seed", TESTS, 1).unit("seed")
            .doc("`ConsensusSimulationTest`: the first seed of the protocol-only runs."));
        add(longKey("reprise.consensus.seeds", TESTS, 50).atLeast(1).unit("runs")
            .doc("`ConsensusSimulationTest`: protocol-only runs of 3 and of 5 members."));
        add(longKey("reprise.consensus.steps", TESTS, 20_000).atLeast(1).unit("steps")
            .doc("`ConsensusSimulationTest`: steps of each protocol-only run."));
        add(longKey("reprise.election.first.seed", TESTS, 1).unit("seed")
            .doc("`ElectionAfterLeaderDeathTest`: the first seed of its runs (members' timeouts, network delays)."));
        add(longKey("reprise.election.seeds", TESTS, 20).atLeast(1).unit("runs")
            .doc("`ElectionAfterLeaderDeathTest`: runs, each a leader's death after one follower took an entry the " +
                "other did not."));
        add(longKey("reprise.consensus.aeron.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`ConsensusOverAeronTest`'s seed, for the members' generators (the network's and disks' timing are " +
                "real)."));
        add(longKey("reprise.cluster.kills", TESTS, 4).atLeast(1).unit("kills")
            .doc("`ClusterFailoverTest`: SIGKILLs of members under load (100 under `-Plong`: the kill campaign); " +
                "the leader and a follower in turn below 10, random members from 10 on."));
        add(longKey("reprise.cluster.process.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`ClusterFailoverTest`'s seed: which members are killed, when, and the session ids."));
        add(longKey("reprise.cluster.threaded.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`ThreadedClusterTest`'s seed, for the members' generators (the threads', the network's and the " +
                "disks' timing are real)."));
        add(longKey("reprise.cluster.client.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`ClusterClientFollowTest`'s seed, for the members' ports, the sessions and their payloads."));
        add(longKey("reprise.backlog.sessions", TESTS, 1_000_000).atLeast(1).unit("sessions")
            .doc("`RepeatBacklogTest`: sessions in the backlog."));
        add(longKey("reprise.fuzz.seed", TESTS, 0).defaultText("random").unit("seed")
            .doc("`IngressFuzzTest`'s seed."));
        add(longKey("reprise.fuzz.frames", TESTS, 0).defaultText("the test's own").atLeast(1).unit("frames")
            .doc("`IngressFuzzTest`: frames sent."));
        add(booleanKey("reprise.docs.regenerate", TESTS, false)
            .doc("`SettingsDocTest` rewrites the generated part of docs/configuration.md instead of failing."));

        // ------------------------------------------------------------------------------------------- relations
        relation(List.of(NodeContext.RING_SIZE_PROP_NAME, NodeContext.RING_CELL_BYTES_PROP_NAME),
            "the ring's slab, ring size x cell bytes, must be at most " + Setting.number(NodeContext.MAX_RING_SLAB_BYTES) +
            " bytes", (v) -> v.apply(NodeContext.RING_SIZE_PROP_NAME) * v.apply(NodeContext.RING_CELL_BYTES_PROP_NAME) <=
            NodeContext.MAX_RING_SLAB_BYTES);
        relation(List.of(NodeContext.STORAGE_PAGE_BYTES_PROP_NAME, Configuration.MAX_PAYLOAD_BYTES_PROP_NAME),
            "a container page must hold the largest payload + 32 bytes",
            (v) -> v.apply(NodeContext.STORAGE_PAGE_BYTES_PROP_NAME) >=
            v.apply(Configuration.MAX_PAYLOAD_BYTES_PROP_NAME) + 32);
        relation(List.of(NodeContext.STORAGE_CONTAINER_MAX_BYTES_PROP_NAME, NodeContext.STORAGE_PAGE_BYTES_PROP_NAME),
            "the container must hold 2 to 1,048,576 pages",
            (v) -> v.apply(NodeContext.STORAGE_CONTAINER_MAX_BYTES_PROP_NAME) >=
            2 * v.apply(NodeContext.STORAGE_PAGE_BYTES_PROP_NAME) &&
            v.apply(NodeContext.STORAGE_CONTAINER_MAX_BYTES_PROP_NAME) / v.apply(NodeContext.STORAGE_PAGE_BYTES_PROP_NAME) <=
            1 << 20);
        relation(List.of(NodeContext.STORAGE_CONTAINER_MAX_BYTES_PROP_NAME, NodeContext.STORAGE_FLUSH_BYTES_PROP_NAME),
            "the container must hold at least 16 x the flush threshold, or small records can fill its page " +
            "indexes before a flush is due",
            (v) -> v.apply(NodeContext.STORAGE_CONTAINER_MAX_BYTES_PROP_NAME) >=
            16 * v.apply(NodeContext.STORAGE_FLUSH_BYTES_PROP_NAME));
        relation(List.of(Configuration.DEFAULT_IN_FLIGHT_LIMIT_PROP_NAME, Configuration.MAX_IN_FLIGHT_LIMIT_PROP_NAME),
            "the default in-flight limit must be at most the largest one",
            (v) -> v.apply(Configuration.DEFAULT_IN_FLIGHT_LIMIT_PROP_NAME) <=
            v.apply(Configuration.MAX_IN_FLIGHT_LIMIT_PROP_NAME));
        relation(List.of(TransportContext.HEARTBEAT_INTERVAL_MS_PROP_NAME, TransportContext.ELECTION_TIMEOUT_MS_PROP_NAME),
            "the heartbeat interval must be at most half the election timeout",
            (v) -> 2 * v.apply(TransportContext.HEARTBEAT_INTERVAL_MS_PROP_NAME) <=
            v.apply(TransportContext.ELECTION_TIMEOUT_MS_PROP_NAME));
        textRelation(List.of(TransportContext.CLUSTER_MEMBER_ID_PROP_NAME,
            TransportContext.CLUSTER_REPLICA_ENDPOINTS_PROP_NAME, TransportContext.CLUSTER_INGRESS_ENDPOINTS_PROP_NAME),
            "a member needs both endpoint lists, with an entry for its id in each",
            (v) -> Integer.parseInt(v.apply(TransportContext.CLUSTER_MEMBER_ID_PROP_NAME)) < 0 ||
            Integer.parseInt(v.apply(TransportContext.CLUSTER_MEMBER_ID_PROP_NAME)) <
            Math.min(entries(v.apply(TransportContext.CLUSTER_REPLICA_ENDPOINTS_PROP_NAME)),
            entries(v.apply(TransportContext.CLUSTER_INGRESS_ENDPOINTS_PROP_NAME))));
    }

    /** Entries of a comma-separated list: 0 for an empty one. */
    private static int entries(final String list)
    {
        return list.isBlank() ? 0 : list.split(",", -1).length;
    }

    private Settings()
    {
    }

    private static void add(final Setting setting)
    {
        if (null != TABLE.put(setting.key(), setting))
        {
            throw new IllegalStateException("key given twice: " + setting.key());
        }
    }

    /** A relation between numeric settings. */
    private static void relation(
        final List<String> keys, final String rule, final Predicate<Function<String, Long>> holds)
    {
        RELATIONS.add(new Relation(keys, rule, (values) -> holds.test((key) -> Long.parseLong(values.apply(key)))));
    }

    /** A relation between settings of any kind, given their values as text. */
    private static void textRelation(
        final List<String> keys, final String rule, final Predicate<Function<String, String>> holds)
    {
        RELATIONS.add(new Relation(keys, rule, holds));
    }

    private static String str(final long value)
    {
        return Long.toString(value);
    }

    private static String str(final boolean value)
    {
        return Boolean.toString(value);
    }

    private static void checkIpcChannel(final String channel)
    {
        final ChannelUri uri;
        try
        {
            uri = ChannelUri.parse(channel);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("not a channel: " + ex.getMessage(), ex);
        }
        if (!CommonContext.IPC_MEDIA.equals(uri.media()))
        {
            throw new IllegalArgumentException("not an IPC channel");
        }
    }

    private static void checkUdpChannel(final String channel)
    {
        if (!"none".equals(channel))
        {
            TransportContext.checkUdpIngressChannel(channel);
        }
    }

    private static void checkEndpoints(final String list)
    {
        if (!list.isEmpty())
        {
            TransportContext.parseEndpoints("the list", list);
        }
    }

    // -------------------------------------------------------------------------------------------------- the table

    /** Every key, in the table's order. */
    public static List<Setting> all()
    {
        return List.copyOf(TABLE.values());
    }

    /** The setting of a key, or null. */
    public static Setting get(final String key)
    {
        return TABLE.get(key);
    }

    /** The known key nearest to {@code key} by edit distance (the first in table order of equally near ones). */
    public static String nearestKey(final String key)
    {
        String nearest = null;
        int best = Integer.MAX_VALUE;
        for (final String known : TABLE.keySet())
        {
            final int distance = editDistance(key, known);
            if (distance < best)
            {
                best = distance;
                nearest = known;
            }
        }
        return nearest;
    }

    /** Levenshtein distance: insertions, deletions and substitutions of one character. */
    static int editDistance(final String a, final String b)
    {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++)
            {
                final int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    // -------------------------------------------------------------------------------------------- resolution

    /** A node's configuration once checked: each key of the node's value and where it came from. */
    public static final class Resolved
    {
        private final Map<String, String> values = new LinkedHashMap<>();
        private final Map<String, String> sources = new LinkedHashMap<>();

        /** The effective value of a key of the node. */
        public String value(final String key)
        {
            return values.get(key);
        }

        /** Where each key of the node got its value: default, the file, system property, command line. */
        public Map<String, String> sources()
        {
            return Collections.unmodifiableMap(sources);
        }

        /** Each key of the node: key, value (secrets masked), source; as {@link Settings#describe} gives them. */
        public List<String[]> describe()
        {
            final List<String[]> rows = new ArrayList<>();
            for (final Map.Entry<String, String> entry : values.entrySet())
            {
                final Setting setting = TABLE.get(entry.getKey());
                rows.add(new String[] {entry.getKey(), setting.secret() ? TransportContext.maskTokens(entry.getValue()) :
                    entry.getValue(), sources.get(entry.getKey())});
            }
            return rows;
        }

        /**
         * Applies every key of the node: to the contexts (the business rules are made anew and given to
         * {@code node}), and to JVM-wide settings such as {@link BackgroundSync}'s.
         */
        public void applyTo(final NodeContext node, final TransportContext transport)
        {
            final BusinessRules rules = new BusinessRules();
            final Contexts contexts = new Contexts(node, rules, transport);
            for (final Map.Entry<String, String> entry : values.entrySet())
            {
                TABLE.get(entry.getKey()).apply(contexts, entry.getValue());
            }
            node.rules(rules);
        }
    }

    /**
     * Checks a node's configuration: every key of every source must be known, and every value of a key of the node
     * in range; then the relations between the effective values must hold. Keys of others (tools, benchmarks,
     * tests) are accepted among system properties, which every JVM of the project shares, but not in the file.
     *
     * @param file        the configuration file's properties, or empty.
     * @param fileName    how to name the file in messages.
     * @param system      the JVM's system properties; only {@code reprise.*} keys are looked at.
     * @param commandLine values given on the command line, by key.
     * @throws IllegalArgumentException with one line per problem: each names the key, the value, where it came
     *                                  from and what is wrong (for an unknown key, the nearest known one).
     */
    public static Resolved resolve(
        final Properties file, final String fileName, final Properties system, final Map<String, String> commandLine)
    {
        final List<String> problems = new ArrayList<>();
        final Map<String, String> fromFile = new LinkedHashMap<>();
        final Map<String, String> fromSystem = new LinkedHashMap<>();
        final String inFile = "in " + fileName;
        for (final String key : new TreeSet<>(file.stringPropertyNames()))
        {
            final Setting setting = TABLE.get(key);
            if (null == setting)
            {
                problems.add(key + " (" + inFile + "): unknown key; the nearest known key is " + nearestKey(key));
            }
            else if (!setting.scope().ofNode())
            {
                problems.add(key + " (" + inFile + "): not a setting of the node (it is read by the " +
                    setting.scope().text() + "); remove it from the file");
            }
            else
            {
                check(setting, file.getProperty(key), inFile, problems, fromFile);
            }
        }
        for (final String key : new TreeSet<>(system.stringPropertyNames()))
        {
            if (!key.startsWith("reprise."))
            {
                continue;
            }
            final Setting setting = TABLE.get(key);
            if (null == setting)
            {
                problems.add(key + " (" + SYSTEM_PROPERTY + " -D" + key + "): unknown key; the nearest known key is " +
                    nearestKey(key));
            }
            else if (setting.scope().ofNode())
            {
                check(setting, system.getProperty(key), SYSTEM_PROPERTY, problems, fromSystem);
            }
        }
        final Map<String, String> fromCommandLine = new LinkedHashMap<>();
        for (final Map.Entry<String, String> entry : commandLine.entrySet())
        {
            check(TABLE.get(entry.getKey()), entry.getValue(), COMMAND_LINE, problems, fromCommandLine);
        }

        final Resolved resolved = new Resolved();
        for (final Setting setting : TABLE.values())
        {
            if (!setting.scope().ofNode())
            {
                continue;
            }
            final String key = setting.key();
            if (fromCommandLine.containsKey(key))
            {
                resolved.values.put(key, fromCommandLine.get(key));
                resolved.sources.put(key, COMMAND_LINE);
            }
            else if (fromSystem.containsKey(key))
            {
                resolved.values.put(key, fromSystem.get(key));
                resolved.sources.put(key, SYSTEM_PROPERTY);
            }
            else if (fromFile.containsKey(key))
            {
                resolved.values.put(key, fromFile.get(key));
                resolved.sources.put(key, fileName);
            }
            else
            {
                resolved.values.put(key, setting.defaultValue());
                resolved.sources.put(key, DEFAULT);
                if (setting.kind() == Setting.Kind.DIRECTORY)
                {
                    check(setting, setting.defaultValue(), DEFAULT, problems, new LinkedHashMap<>());
                }
            }
        }
        if (problems.isEmpty())
        {
            for (final Relation relation : RELATIONS)
            {
                if (!relation.holds().test(resolved.values::get))
                {
                    final StringBuilder values = new StringBuilder();
                    for (final String key : relation.keys())
                    {
                        values.append(values.length() == 0 ? "" : ", ").append(key).append('=')
                            .append(resolved.values.get(key)).append(" (").append(resolved.sources.get(key)).append(')');
                    }
                    problems.add(relation.rule() + ": " + values);
                }
            }
        }
        if (!problems.isEmpty())
        {
            throw new IllegalArgumentException(problems.size() == 1 ? problems.get(0) :
                problems.size() + " problems:" + System.lineSeparator() + "  " +
                String.join(System.lineSeparator() + "  ", problems));
        }
        return resolved;
    }

    private static void check(
        final Setting setting,
        final String value,
        final String source,
        final List<String> problems,
        final Map<String, String> into)
    {
        try
        {
            into.put(setting.key(), setting.checkValue(value));
        }
        catch (final IllegalArgumentException ex)
        {
            problems.add(setting.key() + "=" + (setting.secret() ? "(not shown)" : value) + " (" + source + "): " +
                ex.getMessage());
        }
    }

    // ----------------------------------------------------------------------------------------- effective values

    /**
     * The effective settings of a node, read back from its concluded contexts, one row per key of the node in table
     * order: key, value (secrets masked), source.
     *
     * @param sources where each key's value came from, when known; for a key missing there, the source is
     *                {@value #SYSTEM_PROPERTY} when one is set, {@value #DEFAULT} when the value is the default, or
     *                {@value #SET_BY_PROGRAM}.
     */
    public static List<String[]> describe(
        final NodeContext node, final TransportContext transport, final Map<String, String> sources)
    {
        final Contexts contexts = new Contexts(node, node.rules(), transport);
        final List<String[]> rows = new ArrayList<>();
        for (final Setting setting : TABLE.values())
        {
            if (!setting.isApplied())
            {
                continue;
            }
            final String value = setting.read(contexts);
            String source = sources.get(setting.key());
            if (null == source)
            {
                // A masked value cannot show a change of token: the tokens themselves are compared.
                final boolean isDefault = setting.secret() ? transport.hasTokens(setting.defaultValue()) :
                    value.equals(setting.defaultValue());
                source = null != System.getProperty(setting.key()) ? SYSTEM_PROPERTY :
                    isDefault ? DEFAULT : SET_BY_PROGRAM;
            }
            rows.add(new String[] {setting.key(), value, source});
        }
        return rows;
    }

    /** The rows of {@link #describe} as text, one {@code key = value  (source)} line each. */
    public static String describeText(final List<String[]> rows, final String indent)
    {
        int width = 0;
        for (final String[] row : rows)
        {
            width = Math.max(width, row[0].length());
        }
        final StringBuilder text = new StringBuilder();
        for (final String[] row : rows)
        {
            text.append(indent).append(String.format("%-" + width + "s = %s", row[0], row[1]))
                .append(DEFAULT.equals(row[2]) ? "" : "   (" + row[2] + ")").append(System.lineSeparator());
        }
        return text.toString();
    }

    // ----------------------------------------------------------------------------------------- documentation

    /** The generated part of docs/configuration.md: one table per scope, then the relations. */
    public static String markdown()
    {
        final StringBuilder text = new StringBuilder();
        for (final Setting.Scope scope : Setting.Scope.values())
        {
            text.append("### Read by the ").append(scope.text()).append("\n\n");
            text.append("| key | default | values | unit | what it does |\n|---|---|---|---|---|\n");
            for (final Setting setting : TABLE.values())
            {
                if (setting.scope() != scope)
                {
                    continue;
                }
                // The default as one would write it in a file; the range in words, with separators.
                final String defaultText = !setting.defaultText().equals(setting.defaultValue()) ?
                    setting.defaultText() : setting.defaultValue().isEmpty() ? "" : "`" + setting.defaultValue() + "`";
                text.append("| `").append(setting.key()).append("` | ").append(cell(defaultText)).append(" | ")
                    .append(cell(setting.rangeText())).append(" | ").append(cell(setting.unit())).append(" | ")
                    .append(cell(setting.description())).append(" |\n");
            }
            text.append('\n');
        }
        text.append("### Relations between node settings\n\n");
        for (final Relation relation : RELATIONS)
        {
            text.append("- ").append(relation.rule()).append(" (");
            for (int i = 0; i < relation.keys().size(); i++)
            {
                text.append(i == 0 ? "" : ", ").append('`').append(relation.keys().get(i)).append('`');
            }
            text.append(")\n");
        }
        return text.toString();
    }

    /** A table cell: a {@code |} would end it. */
    private static String cell(final String text)
    {
        return text.replace("|", "\\|");
    }
}
