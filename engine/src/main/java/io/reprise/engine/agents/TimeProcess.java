package io.reprise.engine.agents;

import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.logic.OperatorEncoder;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The time process (ARCHITECTURE §7, seed start-up step 4, "setting the current astronomical time of the
 * system"): proposes {@code SetTime} with the wall clock whenever it has moved at least a tick since the last
 * proposal. A wall clock that steps back is ignored, so system time never goes back. Leader only in a cluster.
 */
public final class TimeProcess implements Agent
{
    private final OperationPublisher publisher;
    private final EpochClock clock;
    private final long tickMs;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
    private long lastProposedMs;
    private long proposals;

    /**
     * @param systemTimeMs the state's system time at start: nothing at or before it is proposed.
     */
    public TimeProcess(
        final OperationPublisher publisher, final EpochClock clock, final long tickMs, final long systemTimeMs)
    {
        if (tickMs < 1)
        {
            throw new IllegalArgumentException("tickMs must be >= 1: " + tickMs);
        }
        this.publisher = publisher;
        this.clock = clock;
        this.tickMs = tickMs;
        this.lastProposedMs = systemTimeMs;
    }

    public int doWork()
    {
        final long nowMs = clock.time();
        if (nowMs - lastProposedMs < tickMs)
        {
            return 0;
        }
        final int length = encoder.setTime(buffer, 0, nowMs);
        if (!publisher.tryPublish(buffer, 0, length))
        {
            return 0;
        }
        lastProposedMs = nowMs;
        proposals++;
        return 1;
    }

    public long proposals()
    {
        return proposals;
    }

    public String roleName()
    {
        return "time-process";
    }
}
