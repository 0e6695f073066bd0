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

    /** Asks the node's snapshot agent for a snapshot now and waits until one newer than the last is in the catalog. */
    public static long takeNow(final StandaloneNode node) throws InterruptedException
    {
        final SnapshotAgent agent = node.snapshotAgent();
        final long before = agent.lastSnapshotIndex();
        agent.requestSnapshot();
        final long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (agent.lastSnapshotIndex() == before)
        {
            if (System.currentTimeMillis() > deadline)
            {
                throw new AssertionError("no snapshot after " + TIMEOUT_MS + " ms: last at " + before);
            }
            Thread.sleep(1);
        }
        return agent.lastSnapshotIndex();
    }
}
