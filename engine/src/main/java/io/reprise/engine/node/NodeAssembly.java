package io.reprise.engine.node;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.agents.TimeProcess;
import io.reprise.engine.cluster.ClusterMember;
import io.reprise.engine.cluster.ElectionState;
import io.reprise.engine.cluster.InstallFiles;
import io.reprise.engine.cluster.InstallReceiver;
import io.reprise.engine.cluster.InstallSender;
import io.reprise.engine.cluster.JournalConsensusLog;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.flow.JournalHandler;
import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.engine.flow.PollingWaitStrategy;
import io.reprise.engine.flow.SessionQueries;
import io.reprise.engine.flow.SnapshotWarmUp;
import io.reprise.engine.flow.StageAgent;
import io.reprise.engine.flow.StateHandOff;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalCorruptException;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.repeat.RepeatProcess;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotCorruptException;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.storage.Container;
import io.reprise.engine.storage.ContainerFlush;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.engine.storage.StorageMerger;
import io.reprise.schema.client.ResultCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;

/**
 * One node, assembled with no threads: the seed's standalone start-up (docs/lifecycle.md) up to the point where the
 * background processes start, and every component of the running node as a step ({@link Agent}) that never waits.
 * A runtime runs the steps: {@link StandaloneNode} gives each a thread, the simulator calls them all from one
 * thread in an order its seed chooses. Start-up:
 * (1) read the snapshot catalog, (2) restore the state from the newest valid snapshot, (3) replay the operation log
 * to its end; then the ring and its stages (journal, then business logic behind the commit point) and the
 * background processes (time process, container flush, storage merger, repeat process, snapshot agent) are built.
 * <p>
 * Shutdown is split the same way: {@link #beginClose} once the background processes have stopped, the stages run
 * until {@link #drained}, then {@link #finishClose} flushes and syncs.
 */
public final class NodeAssembly implements Engine
{
    /** Room for an operator's fixed fields and headers around its payload or error text. */
    private static final int OPERATOR_OVERHEAD_BYTES = 1024;
    private static final String REJECTED_SUFFIX = ".rejected";
    private static final long STORAGE_RETRY_MS = 1000;
    /** Tables from this size up are moved out of the young generation before serving (see settleHeap). */
    private static final long SETTLE_HEAP_FROM_TABLE_BYTES = 64L * 1024 * 1024;
    /** Enough freezes for the JIT to compile the freeze and to see the write path copy. */
    private static final int SNAPSHOT_WARM_UP_ROUNDS = 2_000;

    private final NodeContext context;
    private final Disk disk;
    private final Path journalDirectory;
    private final Path snapshotDirectory;
    private final Path sourceDirectory;
    private final AtomicBoolean done = new AtomicBoolean();
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final NodeOutput output;
    private final DestinationFigures figures;
    private final int maxOperatorLength;
    private final PlantedBug planted;

    private SnapshotCatalog catalog;
    private Journal journal;
    private BusinessLogic logic;
    private SavedSessionStorage storage;
    private RingBuffer<OperationSlot> ring;
    private OperationPublisher publisher;
    private JournalHandler journalHandler;
    private BusinessLogicHandler logicHandler;
    private StageAgent journalStage;
    private StageAgent logicStage;
    private final List<StageAgent> stages = new ArrayList<>();
    private ClusterMember member;
    private SessionQueries sessionQueries;
    private RepeatProcess repeatProcess;
    private SnapshotAgent snapshotAgent;
    private final List<Agent> backgroundAgents = new ArrayList<>();
    private long firstIndex;

    private NodeAssembly(final NodeContext context)
    {
        this.context = context;
        this.disk = context.disk();
        this.journalDirectory = context.dataDirectory().resolve("journal");
        this.snapshotDirectory = context.dataDirectory().resolve("snapshots");
        this.sourceDirectory = context.dataDirectory().resolve("sources");
        this.output = new NodeOutput(context.outputObserver(), context.clientIdBase());
        this.figures = new DestinationFigures(context.rules().maxDestinations());
        this.maxOperatorLength = context.rules().maxPayloadBytes() + context.rules().maxErrorTextBytes() +
            OPERATOR_OVERHEAD_BYTES;
        this.planted = context.plantedBug();
    }

    /**
     * Restores the node on the context's data directory (creating and initialising it when empty) and builds its
     * steps. Nothing runs until a runtime runs them; a failed start releases what it opened.
     */
    public static NodeAssembly assemble(final NodeContext context) throws IOException
    {
        context.conclude();
        final NodeAssembly node = new NodeAssembly(context);
        try
        {
            node.restore();
            node.build();
        }
        catch (final IOException | RuntimeException ex)
        {
            node.abandon();
            throw ex;
        }
        return node;
    }

    private void restore() throws IOException
    {
        final NodeContext.LifecycleListener listener = context.lifecycleListener();
        final boolean fresh = !disk.exists(journalDirectory) && !disk.exists(snapshotDirectory);
        disk.createDirectories(context.dataDirectory());
        listener.onStep(fresh ? "data-directory-initialised " + context.dataDirectory() :
            "data-directory-found " + context.dataDirectory());

        // 1. Read the log that holds the names of the snapshots.
        catalog = SnapshotCatalog.open(disk, snapshotDirectory);
        listener.onStep("catalog-read snapshots=" + catalog.snapshots().size() +
            (catalog.truncation() == null ? "" : " " + catalog.truncation()));
        deleteOrphanSnapshots();

        // 2. Restore the state from the snapshot.
        final List<String> rejected = new ArrayList<>();
        logic = Recovery.restoreSnapshot(disk, catalog, context.rules(), output, Recovery.Start.NEWEST_VALID,
            (step) ->
            {
                if (step.startsWith("snapshot-rejected"))
                {
                    rejected.add(step);
                }
                listener.onStep(step);
            });
        output.logic(logic);
        logic.destinations().figures(figures);
        final long snapshotIndex = logic.appliedIndex();
        // Saved-session storage: the sources of the restored snapshot; the replay below refills the container.
        // Every catalog snapshot keeps its sources: a refused start must change nothing.
        final long[] retained = catalog.snapshots().stream().mapToLong(SnapshotInfo::index).toArray();
        storage = SavedSessionStorage.open(disk, sourceDirectory,
            new Container(context.storagePageBytes(), context.storageContainerMaxBytes()), retained, snapshotIndex,
            () -> null == logicHandler ? logic.appliedIndex() : logicHandler.appliedIndex(), listener::onStep);
        output.storage(storage);

        // A cluster member whose full install a crash interrupted holds no snapshot and a log that does not start at
        // 1 (what it had before the install, or the empty log after it): it starts from nothing and catches up again.
        if (clustered() && catalog.snapshots().isEmpty() && disk.exists(journalDirectory))
        {
            final List<Long> segments = Journal.listSegments(disk, journalDirectory);
            if (!segments.isEmpty() && segments.get(0) > 1)
            {
                deleteJournal();
                listener.onStep("install-interrupted journal-deleted first-segment=" + segments.get(0));
            }
        }

        // 3. Read the operation log to its end.
        try
        {
            journal = Journal.open(disk, journalDirectory, context.journalSegmentLength(),
                context.journalWriteBufferBytes(), snapshotIndex + 1, planted == PlantedBug.SKIP_TORN_CHECK)
                .skipFsync(context.journalSkipFsync() || planted == PlantedBug.ACK_BEFORE_SYNC);
        }
        catch (final JournalCorruptException ex)
        {
            if (rejected.isEmpty())
            {
                throw ex;
            }
            // Most likely the journal is fine and the snapshots it needs were refused: say both.
            throw new JournalCorruptException(ex.getMessage().replaceFirst("^journal corrupt: ", "") +
                "; after refusing snapshots: " + rejected);
        }
        listener.onStep("journal-opened records=" + journal.openReport().records + " last=" + journal.lastIndex() +
            (journal.openReport().truncation == null ? "" : " " + journal.openReport().truncation) +
            (context.journalSkipFsync() ? " fsync=skipped (saves acknowledged are not durable)" : ""));
        // 3. Standalone, the log is read to its end. A cluster member stops at the snapshot: what follows may not be
        // committed, so its entries reach the business logic through the ring once the leader says they are.
        Recovery.replay(disk, journalDirectory, logic, clustered() ? snapshotIndex : Long.MAX_VALUE,
            new Recovery.Listener()
        {
            public void onStep(final String step)
            {
                listener.onStep(step);
            }

            public void onReplayProgress(final long index, final long lastIndex)
            {
                listener.onStep("replay-progress index=" + index + " of " + journal.lastIndex());
            }
        }, planted == PlantedBug.SKIP_TORN_CHECK);
        if (!clustered() && logic.appliedIndex() != journal.lastIndex())
        {
            throw new IllegalStateException("replay ended at " + logic.appliedIndex() + ", journal at " +
                journal.lastIndex());
        }

        // Only now that recovery succeeded may the refused snapshots go: a refused start changes nothing.
        setAsideRejectedSnapshots(snapshotIndex);
        // The pages and chunks that snapshots' copy-on-write will take, allocated now like the tables themselves.
        logic.reserveSnapshotCopies();
        settleHeap();
    }

    private boolean clustered()
    {
        return null != context.membership();
    }

    /** The ring, its stages and the background processes; nothing runs yet. */
    private void build() throws IOException
    {
        firstIndex = logic.appliedIndex() + 1;
        final long term = Math.max(1, journal.lastTerm());
        ring = RingBuffer.createMultiProducer(
            OperationSlot.factory(context.ringSize(), context.ringCellBytes()), context.ringSize(),
            PollingWaitStrategy.INSTANCE);
        publisher = new OperationPublisher(ring, firstIndex, term, context.epochClock());
        journalHandler = new JournalHandler(journal, NodeContext.JOURNAL_RETRY_INTERVAL_MS * 1_000_000L,
            context.nanoClock());
        journalStage = new StageAgent("reprise-journal", ring, journalHandler, context.maxBatchSize());
        stages.add(journalStage);

        repeatProcess = new RepeatProcess(publisher, this::appliedIndex, figures,
            storage.newReader(context.rules().maxPayloadBytes()), context.rules().maxPayloadBytes(),
            context.workerLink(), context.errorHandler(), context.rules().maxBeginRepeatsBatch(),
            context.repeatEventBytes());
        final StateHandOff stateHandOff = new StateHandOff();
        sessionQueries = new SessionQueries(output);
        // The business logic applies only what is committed: standalone, what the journal has synced.
        logicHandler = new BusinessLogicHandler(logic, ring)
            .serve(stateHandOff, sessionQueries)
            .holdWhile(() -> repeatProcess.eventsHeldBack() || storage.containerFull());
        if (clustered())
        {
            buildClusterMember();
        }
        logicStage = new StageAgent("reprise-business-logic", ring, logicHandler, context.maxBatchSize(),
            commitSequences());
        stages.add(logicStage);
        ring.addGatingSequences(logicStage.sequence());

        final TimeProcess timeProcess = new TimeProcess(publisher, context.epochClock(), context.timeTickMs(),
            context.timeHeartbeatMs(), logicHandler::nextTimerMs, logic.systemTimeMs());
        backgroundAgents.add(timeProcess);
        backgroundAgents.add(new ContainerFlush(storage, context.epochClock(), context.storageFlushBytes(),
            context.storageFlushAgeMs(), STORAGE_RETRY_MS, context.errorHandler()));
        backgroundAgents.add(new StorageMerger(storage, context.epochClock(), context.storageMergeFanIn(),
            context.storageFlushBytes(), STORAGE_RETRY_MS, context.errorHandler()));
        output.repeatProcess(repeatProcess);
        backgroundAgents.add(repeatProcess);
        if (null == member)
        {
            // A standalone node is always the leader.
            repeatProcess.leader(true);
        }
        else
        {
            backgroundAgents.add(member);
        }
        snapshotAgent = new SnapshotAgent(disk, journalDirectory, catalog, stateHandOff, this::appliedIndex,
            journalHandler::durableLogBytes, context.epochClock(), context.nanoClock(),
            context.snapshotEveryOperators(), context.snapshotEveryMs(), context.snapshotEveryLogBytes(),
            context.snapshotsRetained(), context.snapshotListener(), context.errorHandler())
            .sourceManifests(new SnapshotAgent.SourceManifests()
            {
                public boolean coversThrough(final long index)
                {
                    return storage.coversThrough(index);
                }

                public void requestFlush()
                {
                    storage.requestFlush();
                }

                public void writeManifest(final long index) throws IOException
                {
                    storage.writeManifest(index);
                }

                public void retainSnapshots(final long[] indices) throws IOException
                {
                    storage.retainSnapshots(indices);
                }
            });
        backgroundAgents.add(snapshotAgent);
    }

    /**
     * The commit point the business-logic stage follows: what it may apply. Standalone it is the journal stage's
     * sequence, released once a batch is synced.
     */
    private Sequence[] commitSequences()
    {
        if (planted == PlantedBug.APPLY_UNCOMMITTED)
        {
            return new Sequence[0];
        }
        return null == member ? new Sequence[] {journalStage.sequence()} :
            new Sequence[] {journalStage.sequence(), member.commitGate()};
    }

    /**
     * A cluster member: its consensus over the journal, and the ring's replication stage beside the journal's
     * (docs/cluster.md). The repeat process starts only when the member leads.
     */
    private void buildClusterMember() throws IOException
    {
        final NodeContext.Membership membership = context.membership();
        final JournalConsensusLog log = new JournalConsensusLog(disk, journal, logic.appliedIndex(),
            logic.appliedTerm(), context.replicationWindowBytes());
        member = new ClusterMember(membership.settings(), membership.memberId(), membership.memberCount(),
            new ClusterMember.ConsensusContext(context.nanoClock(), context.epochClock(), membership.random(),
                membership.link(), ElectionState.open(disk, context.dataDirectory()),
                context.lifecycleListener()::onStep),
            log, publisher, repeatProcess, planted,
            new InstallReceiver(membership.memberId(), disk, context.dataDirectory().resolve("install"),
                membership.link()),
            new InstallSender(membership.memberId(), membership.memberCount(), InstallSender.Settings.defaults(), disk,
                membership.link(), () -> member.consensus().term()),
            new NodeInstallFiles());
        final StageAgent replicationStage =
            new StageAgent("reprise-replication", ring, member.replicationHandler(), context.maxBatchSize());
        member.stages(replicationStage, journalStage.sequence());
        ring.addGatingSequences(replicationStage.sequence());
    }

    /** The files of a full install: the newest snapshot and its sources to send, or installed ones to take. */
    private final class NodeInstallFiles implements InstallFiles
    {
        public Snapshot newest() throws IOException
        {
            final List<SnapshotInfo> snapshots = catalog.snapshots();
            if (snapshots.isEmpty())
            {
                return null;
            }
            final SnapshotInfo newest = snapshots.get(snapshots.size() - 1);
            final List<Path> files = new ArrayList<>();
            files.add(snapshotDirectory.resolve(newest.fileName()));
            final List<Path> sources = SavedSessionStorage.filesOf(disk, sourceDirectory, newest.index());
            // The planted bug sends the manifest but none of the sources it lists.
            files.addAll(planted == PlantedBug.INSTALL_WITHOUT_SOURCES ? sources.subList(0, 1) : sources);
            return new Snapshot(newest.index(), newest.term(), files);
        }

        /**
         * In an order a crash cannot turn into a mix: the log goes, then the old snapshots and sources (a node that
         * starts now starts from nothing), then the new files come in, and the catalog names the snapshot last.
         */
        public void install(final long index, final long term, final List<Path> staged) throws IOException
        {
            journal.close();
            for (final SnapshotInfo old : new ArrayList<>(catalog.snapshots()))
            {
                catalog.remove(old);
                final Path file = snapshotDirectory.resolve(old.fileName());
                if (disk.exists(file))
                {
                    disk.delete(file);
                }
            }
            disk.syncDirectory(snapshotDirectory);
            deleteJournal();
            for (final String name : disk.list(sourceDirectory))
            {
                disk.delete(sourceDirectory.resolve(name));
            }
            final Path snapshotFile = snapshotDirectory.resolve(staged.get(0).getFileName());
            disk.rename(staged.get(0), snapshotFile);
            for (final Path file : staged.subList(1, staged.size()))
            {
                disk.rename(file, sourceDirectory.resolve(file.getFileName()));
            }
            disk.syncDirectory(sourceDirectory);
            disk.syncDirectory(snapshotDirectory);
            final SnapshotInfo installed = SnapshotFile.readHeader(disk, snapshotFile);
            if (installed.index() != index || installed.term() != term)
            {
                throw new SnapshotCorruptException(snapshotFile, 0, "installed snapshot holds index " +
                    installed.index() + " term " + installed.term() + ", the leader said " + index + " " + term);
            }
            // The log after the snapshot starts empty; the catalog names the snapshot last.
            Journal.startEmpty(disk, journalDirectory, context.journalSegmentLength(), index + 1);
            catalog.add(installed);
        }
    }

    private void deleteJournal() throws IOException
    {
        for (final long segment : Journal.listSegments(disk, journalDirectory))
        {
            disk.delete(journalDirectory.resolve(JournalFormat.segmentName(segment)));
        }
        disk.syncDirectory(journalDirectory);
    }

    /**
     * From here on the steps run: operators applied are new (their outputs reach the observer), and a full storage
     * container waits for the flush agent ({@code inlineFlush} false) or is flushed by the business logic itself
     * (true: a runtime that runs every step in one thread, where waiting would never end).
     */
    public void live(final boolean inlineFlush)
    {
        if (inlineFlush)
        {
            storage.flushOnAppendingThread();
        }
        else
        {
            storage.handOverFlushToAgent();
        }
        output.live();
        context.lifecycleListener().onStep("flow-started first-index=" + firstIndex);
    }

    /**
     * The ring's stages in flow order: journal, business logic. A cluster member's replication stage, beside the
     * journal's, runs in its {@link ClusterMember}'s step.
     */
    public List<StageAgent> stages()
    {
        return stages;
    }

    /** The background processes in the seed's start order: time, container flush, storage merger, repeat, snapshot. */
    public List<Agent> backgroundAgents()
    {
        return backgroundAgents;
    }

    /**
     * A step failed: the node stops rather than go on wrong. The ring's stages take nothing more, operators are refused
     * with SHUTTING_DOWN, and the first failure is kept.
     */
    public void fail(final Throwable ex)
    {
        fatal.compareAndSet(null, ex);
        for (final StageAgent stage : stages)
        {
            stage.halt();
        }
        if (null != member)
        {
            // Its agent runner would go on calling it: a member that failed (or must restart) speaks for state it no
            // longer stands for, so it says nothing more; the others hear silence and act on it.
            member.halt();
        }
        context.errorHandler().onError(ex);
    }

    /** Shutdown begins: from now on operators are refused with SHUTTING_DOWN. */
    public void signalDone()
    {
        done.set(true);
    }

    /**
     * Shutdown, once every background process has stopped: a full container is flushed by the business logic itself,
     * and a failing disk now stops the journal stage instead of being retried.
     */
    public void beginClose()
    {
        done.set(true);
        storage.flushOnAppendingThread();
        journalHandler.closing();
    }

    /** Whether everything put into the ring is applied (or a step failed, so it never will be). */
    public boolean drained()
    {
        // A cluster member applies what its last commit index covers; entries above it wait for another leader.
        final long through = null == member ? publishedIndex() : publisher.indexOf(member.commitGate().get());
        return logicHandler.appliedIndex() >= through || null != fatal.get();
    }

    /** The last step of shutdown, once the stages have stopped: sync and close the files. */
    public void finishClose()
    {
        String flushed = "flushed-and-synced durable=";
        try
        {
            journal.commit();
            journal.close();
            catalog.close();
            storage.close();
        }
        catch (final IOException ex)
        {
            flushed = "flush-failed (" + ex.getMessage() + ") durable=";
            context.errorHandler().onError(ex);
        }
        context.lifecycleListener().onStep(flushed + journal.durableIndex());
    }

    /** Releases whatever a failed start opened. */
    void abandon()
    {
        done.set(true);
        try
        {
            if (null != journal)
            {
                journal.close();
            }
            if (null != catalog)
            {
                catalog.close();
            }
            if (null != storage)
            {
                storage.close();
            }
        }
        catch (final IOException ex)
        {
            context.errorHandler().onError(ex);
        }
    }

    /** Connects an in-process client of {@code tenant}; its results go to {@code listener}. */
    public InProcessClient newClient(final int tenant, final InProcessClient.ResponseListener listener)
    {
        return new InProcessClient(this, output.register(listener), tenant);
    }

    public ResultCode offer(final DirectBuffer operator, final int offset, final int length)
    {
        if (done.get() || null != fatal.get())
        {
            return ResultCode.SHUTTING_DOWN;
        }
        if (null != journalHandler.failure())
        {
            return ResultCode.STORAGE_UNAVAILABLE;
        }
        if (length > maxOperatorLength)
        {
            // Bounds what a ring slot may grow to: ringSize x maxOperatorLength at worst.
            return ResultCode.PAYLOAD_TOO_LARGE;
        }
        if (null != member && !member.acceptsClients())
        {
            return ResultCode.NOT_LEADER;
        }
        final long index = publisher.tryPublishIndex(operator, offset, length);
        return index >= 0 ? ResultCode.OK :
            index == OperationPublisher.NOT_LEADING ? ResultCode.NOT_LEADER : ResultCode.BACK_PRESSURE;
    }

    public ResultCode querySession(final long clientId, final long correlationId, final int tenant, final long sessionId)
    {
        if (done.get() || null != fatal.get())
        {
            return ResultCode.SHUTTING_DOWN;
        }
        return sessionQueries.offer(clientId, correlationId, tenant, sessionId) ?
            ResultCode.OK : ResultCode.BACK_PRESSURE;
    }

    public void workerJoined(final long workerId, final int tenant, final int[] destinations, final int hands)
    {
        repeatProcess.workerJoined(workerId, tenant, destinations, hands);
    }

    public void workerLeft(final long workerId)
    {
        repeatProcess.workerLeft(workerId);
    }

    public DestinationFigures destinationFigures()
    {
        return figures;
    }

    public long publishedIndex()
    {
        return publisher.publishedIndex();
    }

    public long durableIndex()
    {
        return journalHandler.durableIndex();
    }

    public long appliedIndex()
    {
        return null == logicHandler ? logic.appliedIndex() : logicHandler.appliedIndex();
    }

    /** The last index the business logic may apply: synced, and released by the journal stage. */
    public long committedIndex()
    {
        return publisher.indexOf(journalStage.sequence().get());
    }

    public long lastCommitNs()
    {
        return journalHandler.lastCommitNs();
    }

    public long maxCommitNs()
    {
        return journalHandler.maxCommitNs();
    }

    public long dispatched()
    {
        return repeatProcess.dispatched();
    }

    public long undeliverable()
    {
        return repeatProcess.undeliverable();
    }

    public String storageFailure()
    {
        return journalHandler.failure();
    }

    public Throwable fatalError()
    {
        return fatal.get();
    }

    public NodeContext context()
    {
        return context;
    }

    /** The business logic; its state belongs to the business-logic stage. */
    public BusinessLogic logic()
    {
        return logic;
    }

    public SavedSessionStorage storage()
    {
        return storage;
    }

    public RepeatProcess repeatProcess()
    {
        return repeatProcess;
    }

    public SnapshotAgent snapshotAgent()
    {
        return snapshotAgent;
    }

    /** The node's membership of a cluster, or null standalone. */
    public ClusterMember clusterMember()
    {
        return member;
    }

    /**
     * The state's tables (session pages, index, timer chunks, and save pages for copy-on-write) are allocated at start
     * in the young generation. Left there, the first young collections while serving copy them: at 10^7 sessions
     * a 370 ms pause some time after start. One collection now, before the flow starts, moves them once. Small
     * tables copy fast, so a small node skips it (tests start hundreds).
     * <p>
     * The collection comes before the snapshot warm-up, not after it: the warm-up's 2,000 freezes leave about a
     * gigabyte of short-lived copies, and each young collection they caused copied the still young tables again
     * (at 5 x 10^6 sessions restored: seven pauses of 0.7-1.7 s, 7.5 s of a 24 s restart). After it the warm-up's
     * collections copy only the warm-up's own small state.
     */
    private void settleHeap()
    {
        final long tableBytes = logic.sessions().footprintBytes() + logic.timers().footprintBytes();
        if (tableBytes >= SETTLE_HEAP_FROM_TABLE_BYTES)
        {
            System.gc();
            // A node this large also compiles its snapshot path before serving (see SnapshotWarmUp).
            SnapshotWarmUp.run(SNAPSHOT_WARM_UP_ROUNDS);
        }
    }

    /**
     * Snapshots newer than the one restored failed validation: take them out of the catalog (so the agent may
     * write a sound one at the same index) and keep their files as {@code *.rejected} for inspection.
     */
    private void setAsideRejectedSnapshots(final long restoredIndex) throws IOException
    {
        for (final SnapshotInfo info : new ArrayList<>(catalog.snapshots()))
        {
            if (info.index() > restoredIndex)
            {
                catalog.remove(info);
                final Path file = snapshotDirectory.resolve(info.fileName());
                if (disk.exists(file))
                {
                    disk.rename(file, snapshotDirectory.resolve(info.fileName() + REJECTED_SUFFIX));
                }
                context.lifecycleListener().onStep("snapshot-set-aside " + info.fileName() + REJECTED_SUFFIX);
            }
        }
        disk.syncDirectory(snapshotDirectory);
    }

    private void deleteOrphanSnapshots() throws IOException
    {
        for (final String name : disk.list(snapshotDirectory))
        {
            final boolean inCatalog = catalog.snapshots().stream().anyMatch((s) -> s.fileName().equals(name));
            if (!inCatalog && !name.equals(SnapshotCatalog.FILE_NAME) &&
                (name.endsWith(SnapshotFile.SUFFIX) || name.endsWith(".tmp")))
            {
                disk.delete(snapshotDirectory.resolve(name));
                context.lifecycleListener().onStep("orphan-deleted " + name);
            }
        }
        disk.syncDirectory(snapshotDirectory);
    }
}
