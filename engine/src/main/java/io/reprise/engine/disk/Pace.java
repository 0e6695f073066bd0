package io.reprise.engine.disk;

import java.util.concurrent.locks.LockSupport;

/**
 * The clock and the wait that {@link BackgroundSync} paces a write with: real time in production, since it paces
 * real disk writes; a test passes its own, to check the pace without waiting for it.
 */
public interface Pace
{
    /** Real time: {@code System.nanoTime} and {@code parkNanos}. This is the production runtime's wiring. */
    Pace REAL = new Pace()
    {
        public long nanoTime()
        {
            return System.nanoTime();
        }

        public void waitNanos(final long nanos)
        {
            LockSupport.parkNanos(nanos);
        }
    };

    long nanoTime();

    /** Waits about {@code nanos} (less if interrupted). */
    void waitNanos(long nanos);
}
