package io.reprise.engine.disk;

import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.NanoClock;

/**
 * The clock and the wait that {@link BackgroundSync} paces a write with: the node's clock and a park in the
 * production runtime, since it paces real disk writes; virtual time in the simulation; a test passes its own, to
 * check the pace without waiting for it.
 */
public interface Pace
{
    /** {@code clock} and {@code parkNanos}: the production runtime's wiring, with the node's clock. */
    static Pace parking(final NanoClock clock)
    {
        return new Pace()
        {
            public long nanoTime()
            {
                return clock.nanoTime();
            }

            public void waitNanos(final long nanos)
            {
                LockSupport.parkNanos(nanos);
            }
        };
    }

    long nanoTime();

    /** Waits about {@code nanos} (less if interrupted). */
    void waitNanos(long nanos);
}
