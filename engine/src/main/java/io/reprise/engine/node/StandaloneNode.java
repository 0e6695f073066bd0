package io.reprise.engine.node;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.cluster.ClusterMember;
import io.reprise.engine.flow.StageAgent;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.repeat.RepeatProcess;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.schema.client.ResultCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;

/**
 * A standalone node on the production runtime: the {@link NodeAssembly}'s steps, each on a thread of its own.
 * <p>
 * {@link #start} follows the seed's standalone start-up exactly (docs/lifecycle.md): (1) read the snapshot
 * catalog, (2) restore the state from the newest valid snapshot, (3) replay the operation log to its end, (4)
 * start the background processes: the time process, the container flush and the storage merger, the repeat
 * process and the snapshot agent. {@link #close} follows the seed's shutdown: close {@code done}, wait for every
 * background process to finish, flush buffers and sync their files, exit. Each step is reported to the lifecycle
 * listener.
 * <p>
 * The ring's two stages (journal, then business logic) each run on a thread and idle by the context's stage idle
 * strategy; each background agent runs on an {@link AgentRunner} with the agents' idle strategy.
 */
public final class StandaloneNode implements Engine, AutoCloseable
{
    private final NodeAssembly node;
    private final NodeContext context;
    private final List<AgentRunner> agentRunners = new ArrayList<>();
    private final List<AgentRunner> stageRunners = new ArrayList<>();
    private boolean closed;

    private StandaloneNode(final NodeAssembly node)
    {
        this.node = node;
        this.context = node.context();
    }

    /** Starts a node on the context's data directory, creating and initialising it when empty. */
    public static StandaloneNode start(final NodeContext context) throws IOException
    {
        final StandaloneNode started = new StandaloneNode(NodeAssembly.assemble(context));
        try
        {
            started.run();
        }
        catch (final RuntimeException ex)
        {
            started.abandon();
            throw ex;
        }
        return started;
    }

    private void run()
    {
        node.live(false);
        for (final StageAgent stage : node.stages())
        {
            // A thread named after its stage; a daemon, as a node left open must not keep the JVM alive.
            final AgentRunner runner = new AgentRunner(context.newStageIdleStrategy(), node::fail, null, stage);
            stageRunners.add(runner);
            final Thread thread = new Thread(runner, threadName(stage.roleName()));
            thread.setDaemon(true);
            thread.start();
        }
        // 4. Start the background processes.
        for (final Agent agent : node.backgroundAgents())
        {
            final AgentRunner runner = new AgentRunner(context.agentIdleStrategy(), node::fail, null, agent);
            agentRunners.add(runner);
            new Thread(runner, threadName(agent.roleName())).start();
            context.lifecycleListener().onStep("agent-started " + agent.roleName());
        }
        context.lifecycleListener().onStep("started");
    }

    /**
     * A thread named after its step; a member of a cluster adds its id, so that members in one JVM (tests) tell their
     * threads apart in a thread dump. (AgentRunner.startOnThread would rename the thread after the agent.)
     */
    private String threadName(final String role)
    {
        return null == context.membership() ? role : role + "-" + context.membership().memberId();
    }

    /** Connects an in-process client of {@code tenant}; its results go to {@code listener}. */
    public InProcessClient newClient(final int tenant, final InProcessClient.ResponseListener listener)
    {
        return node.newClient(tenant, listener);
    }

    public ResultCode offer(final DirectBuffer operator, final int offset, final int length)
    {
        return node.offer(operator, offset, length);
    }

    public ResultCode querySession(final long clientId, final long correlationId, final int tenant, final long sessionId)
    {
        return node.querySession(clientId, correlationId, tenant, sessionId);
    }

    public void workerJoined(final long workerId, final int tenant, final int[] destinations, final int hands)
    {
        node.workerJoined(workerId, tenant, destinations, hands);
    }

    public void workerLeft(final long workerId)
    {
        node.workerLeft(workerId);
    }

    public DestinationFigures destinationFigures()
    {
        return node.destinationFigures();
    }

    public long publishedIndex()
    {
        return node.publishedIndex();
    }

    public long durableIndex()
    {
        return node.durableIndex();
    }

    public long appliedIndex()
    {
        return node.appliedIndex();
    }

    /** The last index the business logic may apply: synced, and released by the journal stage. */
    public long committedIndex()
    {
        return node.committedIndex();
    }

    public long lastCommitNs()
    {
        return node.lastCommitNs();
    }

    public long maxCommitNs()
    {
        return node.maxCommitNs();
    }

    public long dispatched()
    {
        return node.dispatched();
    }

    public long undeliverable()
    {
        return node.undeliverable();
    }

    public String storageFailure()
    {
        return node.storageFailure();
    }

    public Throwable fatalError()
    {
        return node.fatalError();
    }

    /**
     * The business logic. Its state belongs to the business-logic thread: read it only when the flow is idle
     * (for example after {@link #awaitApplied}) or after {@link #close()}.
     */
    public BusinessLogic logic()
    {
        return node.logic();
    }

    /** Saved-session storage: its readers may be used from any thread. */
    public SavedSessionStorage storage()
    {
        return node.storage();
    }

    public RepeatProcess repeatProcess()
    {
        return node.repeatProcess();
    }

    public SnapshotAgent snapshotAgent()
    {
        return node.snapshotAgent();
    }

    /** The node's membership of a cluster, or null standalone. It runs on a thread of its own: read it for tests. */
    public ClusterMember clusterMember()
    {
        return node.clusterMember();
    }

    /** Waits until everything published so far is applied; for tests and tools. */
    public boolean awaitApplied(final long timeoutMs) throws InterruptedException
    {
        final long target = node.publishedIndex();
        final long deadlineNs = context.nanoClock().nanoTime() + timeoutMs * 1_000_000L;
        while (node.appliedIndex() < target)
        {
            if (null != node.fatalError() || context.nanoClock().nanoTime() > deadlineNs)
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
        node.signalDone();
        listener.onStep("done-signalled");
        for (final AgentRunner runner : agentRunners)
        {
            final String name = runner.agent().roleName();
            runner.close();
            listener.onStep("agent-stopped " + name);
        }
        // The flush agent has stopped (joined): an append waiting for container space now flushes it itself, so the
        // stages drain every committed entry.
        node.beginClose();
        while (!node.drained())
        {
            Thread.onSpinWait();
        }
        stageRunners.forEach(AgentRunner::close);
        node.finishClose();
        listener.onStep("exited");
    }

    /** Releases whatever a failed start opened. */
    private void abandon()
    {
        closed = true;
        agentRunners.forEach(AgentRunner::close);
        stageRunners.forEach(AgentRunner::close);
        node.abandon();
    }
}
