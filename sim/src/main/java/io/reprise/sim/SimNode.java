package io.reprise.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.reprise.engine.node.NodeAssembly;
import io.reprise.engine.node.NodeContext;
import org.agrona.concurrent.Agent;

/**
 * The simulation runtime of one node: the {@link NodeAssembly}'s steps (its two ring stages and five background
 * processes), each called from the simulator's one thread when the seed picks it. A step that throws is a failure
 * of the node ({@link NodeAssembly#fail}), as on the threaded runtime; the simulator then crashes it.
 */
final class SimNode
{
    private final NodeAssembly node;
    private final List<Agent> steps = new ArrayList<>();

    private SimNode(final NodeAssembly node)
    {
        this.node = node;
        steps.addAll(node.stages());
        steps.addAll(node.backgroundAgents());
    }

    /** The seed's start-up, up to running the steps: the same code the threaded runtime starts with. */
    static SimNode start(final NodeContext context) throws Exception
    {
        final SimNode started = new SimNode(NodeAssembly.assemble(context));
        // No flush agent runs beside the business logic here: a full container is flushed where it fills.
        started.node.live(true);
        for (final Agent step : started.steps)
        {
            step.onStart();
        }
        return started;
    }

    NodeAssembly node()
    {
        return node;
    }

    /** Runs one step the random source picks; the ring's stages are picked as often as all the others together. */
    int step(final Random random)
    {
        final int stages = node.stages().size();
        final int pick = random.nextBoolean() ? random.nextInt(stages) : stages + random.nextInt(steps.size() - stages);
        return runStep(steps.get(pick));
    }

    int runStep(final Agent step)
    {
        if (null != node.fatalError())
        {
            return 0;
        }
        try
        {
            return step.doWork();
        }
        catch (final Exception | AssertionError ex)
        {
            node.fail(ex);
            return 0;
        }
    }

    /**
     * The seed's shutdown: stop the background processes, run the stages until all that was put in the ring is
     * applied, flush and sync.
     *
     * @return false when the stages could not drain within {@code maxSteps} (a failure of the node).
     */
    boolean close(final int maxSteps) throws IOException
    {
        node.signalDone();
        for (final Agent agent : node.backgroundAgents())
        {
            agent.onClose();
        }
        node.beginClose();
        int left = maxSteps;
        while (!node.drained() && left-- > 0)
        {
            for (final Agent stage : node.stages())
            {
                runStep(stage);
            }
        }
        final boolean drained = node.drained() && null == node.fatalError();
        node.finishClose();
        return drained;
    }

    /** Drops the node as a crash does: nothing is closed, flushed or synced. */
    void abandon()
    {
        node.signalDone();
    }
}
