package io.reprise.engine.node;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import com.lmax.disruptor.AggregateEventHandler;
import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.BatchEventProcessorBuilder;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;
import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.agents.TimeProcess;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.flow.HandOffWaitStrategy;
import io.reprise.engine.flow.JournalHandler;
import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.engine.flow.ReplicationHandler;
import io.reprise.engine.flow.SessionQueries;
import io.reprise.engine.flow.StateHandOff;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalCorruptException;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.flow.SnapshotWarmUp;
import io.reprise.engine.repeat.RepeatProcess;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.storage.Container;
import io.reprise.engine.storage.ContainerFlush;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.engine.storage.StorageMerger;
import io.reprise.schema.client.ResultCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentRunner;

/**
 * A standalone node: the production runtime of one Reprise node without a cluster.
 * <p>
 * {@link #start} follows the seed's standalone start-up exactly (docs/lifecycle.md): (1) read the snapshot
 * catalog, (2) restore the state from the newest valid snapshot, (3) replay the operation log to its end, (4)
 * start the background processes: the time process, the container flush and the storage merger, the repeat process and the snapshot
 * agent. {@link #close} follows the seed's shutdown: close {@code done}, wait for every background process to
 * finish, flush buffers and sync their files, exit. Each step is reported to the lifecycle listener.
 * <p>
 * The ring and its three stages (journal ‖ replication → business logic) run on threads of their own; each
 * background agent runs on an {@link AgentRunner}.
 */
public final class StandaloneNode implements AutoCloseable
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
    private final List<AgentRunner> agentRunners = new ArrayList<>();
    private final List<Thread> stageThreads = new ArrayList<>();
    private final List<BatchEventProcessor<OperationSlot>> stages = new ArrayList<>();
    private StateHandOff stateHandOff;
    private SessionQueries sessionQueries;

    private SnapshotCatalog catalog;
    private Journal journal;
    private BusinessLogic logic;
    private RingBuffer<OperationSlot> ring;
    private OperationPublisher publisher;
    private JournalHandler journalHandler;
    private BusinessLogicHandler logicHandler;
    private SnapshotAgent snapshotAgent;
    private TimeProcess timeProcess;
    private SavedSessionStorage storage;
    private RepeatProcess repeatProcess;
    private long firstIndex;
    /** The journal stage's sequence: what the business logic may apply (standalone: synced). */
    private Sequence committedSequence;
    private final int maxOperatorLength;
    private boolean closed;

    private StandaloneNode(final NodeContext context)
    {
        this.context = context;
        this.disk = context.disk();
        this.journalDirectory = context.dataDirectory().resolve("journal");
        this.snapshotDirectory = context.dataDirectory().resolve("snapshots");
        this.sourceDirectory = context.dataDirectory().resolve("sources");
        this.output = new NodeOutput(context.outputObserver());
        this.figures = new DestinationFigures(context.rules().maxDestinations());
        this.maxOperatorLength = context.rules().maxPayloadBytes() + context.rules().maxErrorTextBytes() +
            OPERATOR_OVERHEAD_BYTES;
    }

    /** Starts a node on the context's data directory, creating and initialising it when empty. */
    public static StandaloneNode start(final NodeContext context) throws IOException
    {
        context.conclude();
        final StandaloneNode node = new StandaloneNode(context);
        try
        {
            node.startUp();
        }
        catch (final IOException | RuntimeException ex)
        {
            node.abandon();
            throw ex;
        }
        return node;
    }

    private void startUp() throws IOException
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

        // 3. Read the operation log to its end.
        try
        {
            journal = Journal.open(disk, journalDirectory, context.journalSegmentLength(),
                context.journalWriteBufferBytes(), snapshotIndex + 1).skipFsync(context.journalSkipFsync());
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
            (journal.skipFsync() ? " fsync=skipped (saves acknowledged are not durable)" : ""));
        Recovery.replay(disk, journalDirectory, logic, Long.MAX_VALUE, new Recovery.Listener()
        {
            public void onStep(final String step)
            {
                listener.onStep(step);
            }

            public void onReplayProgress(final long index, final long lastIndex)
            {
                listener.onStep("replay-progress index=" + index + " of " + journal.lastIndex());
            }
        });
        if (logic.appliedIndex() != journal.lastIndex())
        {
            throw new IllegalStateException("replay ended at " + logic.appliedIndex() + ", journal at " +
                journal.lastIndex());
        }

        // Only now that recovery succeeded may the refused snapshots go: a refused start changes nothing.
        setAsideRejectedSnapshots(snapshotIndex);
        storage.handOverFlushToAgent();
        // The pages and chunks that snapshots' copy-on-write will take, allocated now like the tables themselves.
        logic.reserveSnapshotCopies();
        settleHeap();
        output.live();
        startFlow();
        listener.onStep("flow-started first-index=" + firstIndex);

        // 4. Start the background processes.
        timeProcess = new TimeProcess(publisher, context.epochClock(), context.timeTickMs(),
            context.timeHeartbeatMs(), logicHandler::nextTimerMs, logic.systemTimeMs());
        startAgent(timeProcess);
        startAgent(new ContainerFlush(storage, context.epochClock(), context.storageFlushBytes(),
            context.storageFlushAgeMs(), STORAGE_RETRY_MS, context.errorHandler()));
        startAgent(new StorageMerger(storage, context.epochClock(), context.storageMergeFanIn(),
            context.storageFlushBytes(), STORAGE_RETRY_MS, context.errorHandler()));
        repeatProcess = new RepeatProcess(publisher, logicHandler::appliedIndex, figures,
            storage.newReader(context.rules().maxPayloadBytes()), context.rules().maxPayloadBytes(),
            context.workerLink(), context.errorHandler(), context.rules().maxBeginRepeatsBatch(),
            context.repeatEventBytes());
        // A standalone node is always the leader.
        repeatProcess.leader(true);
        output.repeatProcess(repeatProcess);
        startAgent(repeatProcess);
        snapshotAgent = new SnapshotAgent(disk, journalDirectory, catalog, stateHandOff, logicHandler::appliedIndex,
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
        startAgent(snapshotAgent);
        listener.onStep("started");
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

    private void startFlow()
    {
        firstIndex = journal.lastIndex() + 1;
        final long term = Math.max(1, journal.lastTerm());
        // The snapshot agent's frozen views are served on the business-logic thread as it waits for a batch.
        final WaitStrategy waitStrategy = context.waitStrategy();
        stateHandOff = new StateHandOff(waitStrategy::signalAllWhenBlocking);
        sessionQueries = new SessionQueries(waitStrategy::signalAllWhenBlocking, output);
        final HandOffWaitStrategy handOffWaitStrategy = new HandOffWaitStrategy(waitStrategy, stateHandOff,
            sessionQueries);
        ring = RingBuffer.createMultiProducer(
            OperationSlot.factory(context.ringSize(), context.ringCellBytes()), context.ringSize(),
            handOffWaitStrategy);
        publisher = new OperationPublisher(ring, firstIndex, term, context.epochClock());
        journalHandler = new JournalHandler(journal, context.journalRetryIdleStrategy(), context.nanoClock());
        final ReplicationHandler replicationHandler = new ReplicationHandler();
        logicHandler = new BusinessLogicHandler(logic, ring);

        final ExceptionHandler<OperationSlot> fatalHandler = new FatalStageError();
        final SequenceBarrier published = ring.newBarrier();
        final BatchEventProcessorBuilder builder = new BatchEventProcessorBuilder()
            .setMaxBatchSize(context.maxBatchSize());
        // A standalone node has no followers: its replication stage has nothing to send, so it runs on the
        // journal's thread, after the journal, instead of spinning a core of its own. The cluster gives it one.
        final BatchEventProcessor<OperationSlot> journalStage =
            builder.build(ring, published, new AggregateEventHandler<>(journalHandler, replicationHandler));
        // The business logic runs only what is committed: standalone, that is what the journal has synced.
        committedSequence = journalStage.getSequence();
        final SequenceBarrier committed = ring.newBarrier(committedSequence);
        handOffWaitStrategy.serve(committed, logic);
        final BatchEventProcessor<OperationSlot> logicStage = builder.build(ring, committed, logicHandler);
        ring.addGatingSequences(logicStage.getSequence());

        stages.add(journalStage);
        stages.add(logicStage);
        final String[] names = {"reprise-journal-and-replication", "reprise-business-logic"};
        for (int i = 0; i < stages.size(); i++)
        {
            stages.get(i).setExceptionHandler(fatalHandler);
            final Thread thread = new Thread(stages.get(i), names[i]);
            thread.setDaemon(true);
            stageThreads.add(thread);
            thread.start();
        }
    }

    private void startAgent(final org.agrona.concurrent.Agent agent)
    {
        final AgentRunner runner = new AgentRunner(context.agentIdleStrategy(), (ex) ->
        {
            fatal.compareAndSet(null, ex);
            context.errorHandler().onError(ex);
        }, null, agent);
        agentRunners.add(runner);
        AgentRunner.startOnThread(runner);
        context.lifecycleListener().onStep("agent-started " + agent.roleName());
    }

    /** Connects an in-process client of {@code tenant}; its results go to {@code listener}. */
    public InProcessClient newClient(final int tenant, final InProcessClient.ResponseListener listener)
    {
        return new InProcessClient(this, output.register(listener), tenant);
    }

    /**
     * Puts an encoded operator into the ring: the ingress of the transport and in-process clients publish here.
     *
     * @return OK, or why not: BACK_PRESSURE, STORAGE_UNAVAILABLE, SHUTTING_DOWN, PAYLOAD_TOO_LARGE.
     */
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
        return publisher.tryPublish(operator, offset, length) ? ResultCode.OK : ResultCode.BACK_PRESSURE;
    }

    /**
     * Asks for the applied state of one session of {@code tenant}, read-only and not journaled: the business logic
     * answers between two batches with {@code OutputSink.onSessionState} to the output observer, for
     * {@code clientId}. Never blocks.
     *
     * @return OK, or why not: BACK_PRESSURE (the queue of queries is full), SHUTTING_DOWN.
     */
    public ResultCode querySession(final long clientId, final long correlationId, final int tenant, final long sessionId)
    {
        if (done.get() || null != fatal.get())
        {
            return ResultCode.SHUTTING_DOWN;
        }
        return sessionQueries.offer(clientId, correlationId, tenant, sessionId) ?
            ResultCode.OK : ResultCode.BACK_PRESSURE;
    }

    /** The last applied index. */
    public long appliedIndex()
    {
        return logicHandler.appliedIndex();
    }

    public long durableIndex()
    {
        return journalHandler.durableIndex();
    }

    /**
     * The last index the business logic may apply: synced, and published by the journal stage (a little after
     * {@link #durableIndex}, when that stage ends its batch).
     */
    public long committedIndex()
    {
        return firstIndex + committedSequence.get();
    }

    /** The index of the last operator put into the ring. */
    public long publishedIndex()
    {
        return firstIndex + ring.getCursor();
    }

    /** The journal stage: its commit latencies, for the node's counters. */
    public JournalHandler journalHandler()
    {
        return journalHandler;
    }

    /** Why the journal cannot write now, or null. */
    public String storageFailure()
    {
        return journalHandler.failure();
    }

    /** The failure that stopped a stage or an agent, or null. */
    public Throwable fatalError()
    {
        return fatal.get();
    }

    /**
     * The business logic. Its state belongs to the business-logic thread: read it only when the flow is idle
     * (for example after {@link #awaitApplied}) or after {@link #close()}.
     */
    public BusinessLogic logic()
    {
        return logic;
    }

    /** Saved-session storage: its readers may be used from any thread. */
    public SavedSessionStorage storage()
    {
        return storage;
    }

    /** Each destination's counts, readable from any thread while the node runs. */
    public DestinationFigures destinationFigures()
    {
        return figures;
    }

    /** The repeat process: the transport tells it which workers are connected. */
    public RepeatProcess repeatProcess()
    {
        return repeatProcess;
    }

    public SnapshotAgent snapshotAgent()
    {
        return snapshotAgent;
    }

    /** Waits until everything published so far is applied; for tests and tools. */
    public boolean awaitApplied(final long timeoutMs) throws InterruptedException
    {
        final long target = firstIndex + ring.getCursor();
        final long deadlineNs = context.nanoClock().nanoTime() + timeoutMs * 1_000_000L;
        while (logicHandler.appliedIndex() < target)
        {
            if (null != fatal.get() || context.nanoClock().nanoTime() > deadlineNs)
            {
                return false;
            }
            if (Thread.interrupted())
            {
                throw new InterruptedException();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        return true;
    }

    /** The seed's shutdown: signal done, wait for the background processes, flush and sync, exit. */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final NodeContext.LifecycleListener listener = context.lifecycleListener();
        done.set(true);
        listener.onStep("done-signalled");

        for (final AgentRunner runner : agentRunners)
        {
            final String name = runner.agent().roleName();
            runner.close();
            listener.onStep("agent-stopped " + name);
        }

        // The flush agent has stopped (joined): an append waiting for container space now flushes it itself, so the
        // flow drains every committed entry.
        storage.flushOnAppendingThread();
        drainFlow();
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
        listener.onStep(flushed + journal.durableIndex());
        listener.onStep("exited");
    }

    private void drainFlow()
    {
        if (null == ring)
        {
            return;
        }
        journalHandler.closing();
        final long target = firstIndex + ring.getCursor();
        while (logicHandler.appliedIndex() < target && null == fatal.get())
        {
            Thread.onSpinWait();
        }
        for (final BatchEventProcessor<OperationSlot> stage : stages)
        {
            stage.halt();
        }
        for (final Thread thread : stageThreads)
        {
            try
            {
                thread.join();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Releases whatever a failed start opened. */
    private void abandon()
    {
        closed = true;
        done.set(true);
        for (final AgentRunner runner : agentRunners)
        {
            runner.close();
        }
        for (final BatchEventProcessor<OperationSlot> stage : stages)
        {
            stage.halt();
        }
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

    /** A stage that throws has met a bug or a disk it cannot use: the node stops rather than go on wrong. */
    private final class FatalStageError implements ExceptionHandler<OperationSlot>
    {
        public void handleEventException(final Throwable ex, final long sequence, final OperationSlot slot)
        {
            fatal.compareAndSet(null, ex);
            context.errorHandler().onError(ex);
            throw new IllegalStateException("stage failed at index " + (null == slot ? -1 : slot.index()), ex);
        }

        public void handleOnStartException(final Throwable ex)
        {
            fatal.compareAndSet(null, ex);
            context.errorHandler().onError(ex);
        }

        public void handleOnShutdownException(final Throwable ex)
        {
            context.errorHandler().onError(ex);
        }
    }
}
