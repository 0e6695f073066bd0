package io.reprise.sim;

import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;

/**
 * The simulation's time: a monotonic clock that only the simulator moves, and a wall clock on top of it that can
 * jump either way by a fault, as NTP or an operator can move a real one. Every component of a simulated node reads
 * these, so a run depends on its seed alone.
 */
final class VirtualClock implements NanoClock, EpochClock
{
    /** 2026-01-01T00:00:00Z: the wall clock at the start of every run. */
    private static final long START_EPOCH_MS = 1_767_225_600_000L;

    private long nanos;
    private long wallOffsetMs;

    public long nanoTime()
    {
        return nanos;
    }

    public long time()
    {
        return START_EPOCH_MS + nanos / 1_000_000 + wallOffsetMs;
    }

    void advanceNanos(final long delta)
    {
        nanos += delta;
    }

    /** The wall clock jumps by {@code deltaMs} (negative: back); the monotonic clock does not. */
    void jumpWallClock(final long deltaMs)
    {
        wallOffsetMs += deltaMs;
    }
}
