package io.reprise.engine.agents;

import java.util.function.LongSupplier;

import io.reprise.engine.flow.OperationPublisher;
import io.reprise.schema.log.OperatorEncoder;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The time process (ARCHITECTURE §7, seed start-up step 4, "setting the current astronomical time of the
 * system"): proposes {@code SetTime} with the wall clock when it has moved at least a tick since the last
 * proposal and either a timer is due (the business logic publishes when its next timer can fire) or a heartbeat
 * has passed. So an idle node journals a SetTime per heartbeat, not per millisecond, while timers still fire
 * within a tick of their time. A wall clock that steps back is ignored, so system time never goes back. Leader
 * only in a cluster.
 */
public final class TimeProcess implements Agent
{
    private final OperationPublisher publisher;
    private final EpochClock clock;
    private final long tickMs;
    private final long heartbeatMs;
    private final LongSupplier nextTimerMs;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
    private long lastProposedMs;
    private long proposals;

    /**
     * @param nextTimerMs  no timer fires before this time (the business logic's published lower bound).
     * @param heartbeatMs  at most this long without a proposal, so system time follows the wall clock even when
     *                     nothing is due (relative delays of new sessions count from system time).
     * @param systemTimeMs the state's system time at start: nothing at or before it is proposed.
     */
    public TimeProcess(
        final OperationPublisher publisher,
        final EpochClock clock,
        final long tickMs,
        final long heartbeatMs,
        final LongSupplier nextTimerMs,
        final long systemTimeMs)
    {
        if (tickMs < 1 || heartbeatMs < tickMs)
        {
            throw new IllegalArgumentException("need 1 <= tickMs <= heartbeatMs: " + tickMs + ", " + heartbeatMs);
        }
        this.publisher = publisher;
        this.clock = clock;
        this.tickMs = tickMs;
        this.heartbeatMs = heartbeatMs;
        this.nextTimerMs = nextTimerMs;
        this.lastProposedMs = systemTimeMs;
    }

    public int doWork()
    {
        final long nowMs = clock.time();
        final long sinceLastMs = nowMs - lastProposedMs;
        if (sinceLastMs < tickMs || (nowMs < nextTimerMs.getAsLong() && sinceLastMs < heartbeatMs))
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
