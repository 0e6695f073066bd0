package io.reprise.engine.repeat;

import org.agrona.DirectBuffer;

/** Hands an attempt to one connected worker: the transport implements it over the worker's connection. */
@FunctionalInterface
public interface WorkerLink
{
    /**
     * Sends one attempt with its payload to the worker; must not block.
     *
     * @return false when the worker's connection cannot take it now (back-pressured or gone): the attempt then
     * stays with nobody and returns to the schedule when its lease runs out.
     */
    boolean dispatch(
        long workerId, int tenant, long sessionId, int destination, int attempt, long leaseExpiresAtMs,
        DirectBuffer payload, int payloadOffset, int payloadLength);

    /** No workers anywhere: nothing is ever delivered. */
    WorkerLink NONE = (w, t, s, d, a, l, p, o, n) -> false;
}
