package io.reprise.engine.testing;

import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.node.StandaloneNode;

/** Snapshots on demand, for tests that need a snapshot at a known point of their history. */
public final class Snapshots
{
    private static final long TIMEOUT_MS = 30_000;

    private Snapshots()
    {
    }

    /**
     * Asks the node's snapshot agent for a snapshot now and waits until the catalog holds one at or after the index
     * applied when it asked. (Not merely a newer one: a snapshot the triggers started earlier may finish first.)
     */
    public static long takeNow(final StandaloneNode node) throws InterruptedException
    {
        final SnapshotAgent agent = node.snapshotAgent();
        final long applied = node.appliedIndex();
        agent.requestSnapshot();
        final long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (agent.lastSnapshotIndex() < applied)
        {
            if (System.currentTimeMillis() > deadline)
            {
                throw new AssertionError("no snapshot at " + applied + " or later after " + TIMEOUT_MS +
                    " ms: last at " + agent.lastSnapshotIndex());
            }
            Thread.sleep(1);
        }
        return agent.lastSnapshotIndex();
    }
}
