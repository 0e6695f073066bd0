package io.reprise.engine.repeat;

import org.agrona.DirectBuffer;

/** Hands an attempt to one connected worker: the transport implements it over the worker's connection. */
@FunctionalInterface
public interface WorkerLink
{
    /**
     * Sends one attempt with its payload to the worker; must not block. {@code handle} goes with it, for the worker
     * to echo in its report ({@code RepeatDispatch.handle}).
     *
     * @return false when the worker's connection cannot take it now (back-pressured or gone): the repeat process
     * offers it again on its next duty cycles, until it is taken, the attempt ends, or the worker leaves (then it
     * returns to the schedule when its lease runs out).
     */
    boolean dispatch(
        long workerId, int tenant, long sessionId, int destination, int attempt, long leaseExpiresAtMs, int handle,
        DirectBuffer payload, int payloadOffset, int payloadLength);

    /** No workers anywhere: nothing is ever delivered. */
    WorkerLink NONE = (w, t, s, d, a, l, h, p, o, n) -> false;
}
