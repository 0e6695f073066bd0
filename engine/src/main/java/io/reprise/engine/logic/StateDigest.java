package io.reprise.engine.logic;

import static io.reprise.engine.state.SessionTable.NULL;

import io.reprise.engine.state.Destinations;
import io.reprise.engine.state.SessionTable;
import io.reprise.engine.util.Mix64;

/**
 * Computes the state digest: sessions contribute an order-free sum of per-record hashes (so record placement in
 * memory does not matter), while queues and timer slots contribute ordered hashes (their order is behaviour).
 */
final class StateDigest
{
    private long orderedHash;

    private StateDigest()
    {
    }

    static long of(final BusinessLogic logic)
    {
        final SessionTable sessions = logic.sessions();
        long sessionSum = 0;
        for (int record = 0, end = sessions.highWater(); record < end; record++)
        {
            if (sessions.isLive(record))
            {
                sessionSum += mix(recordHash(sessions, record));
            }
        }

        long h = mix(logic.systemTimeMs());
        h = mix(h ^ logic.leaderTerm());
        h = mix(h ^ logic.leaderMemberId());
        h = mix(h ^ sessions.size());
        h = mix(h ^ sessionSum);

        final Destinations destinations = logic.destinations();
        // Destinations from used() on have only defaults, which the digest skips anyway (and a frozen view holds none).
        for (int d = 0; d < destinations.used(); d++)
        {
            if (destinations.owner(d) == Destinations.NO_OWNER &&
                destinations.inFlightLimit(d) == logic.rules().defaultInFlightLimit())
            {
                continue;
            }
            h = mix(h ^ d);
            h = mix(h ^ destinations.owner(d));
            h = mix(h ^ destinations.inFlightLimit(d));
            h = mix(h ^ destinations.pending(d));
            h = mix(h ^ destinations.ready(d));
            h = mix(h ^ destinations.inFlight(d));
            h = mix(h ^ destinations.dead(d));
            h = mix(h ^ destinations.retained(d));
            for (int r = destinations.readyHead(d); r != NULL; r = destinations.queueNext(r))
            {
                h = mix(h ^ keyHash(sessions, r));
            }
            h = mix(h ^ -1L);
            for (int r = destinations.deadHead(d); r != NULL; r = destinations.queueNext(r))
            {
                h = mix(h ^ keyHash(sessions, r));
            }
        }

        final StateDigest timerOrder = new StateDigest();
        timerOrder.orderedHash = h;
        logic.timers().forEachInOrder((record) -> timerOrder.orderedHash =
            mix(timerOrder.orderedHash ^ keyHash(sessions, record)));
        return mix(timerOrder.orderedHash ^ logic.timers().size());
    }

    private static long keyHash(final SessionTable sessions, final int record)
    {
        return mix(sessions.sessionId(record) ^ mix(sessions.tenant(record)));
    }

    private static long recordHash(final SessionTable s, final int r)
    {
        long h = keyHash(s, r);
        h = mix(h ^ s.destination(r));
        h = mix(h ^ s.status(r));
        h = mix(h ^ s.attempt(r));
        h = mix(h ^ s.lifeStartAttempt(r));
        h = mix(h ^ s.maxAttempts(r));
        h = mix(h ^ s.jitterPermille(r));
        h = mix(h ^ s.backoffInitialMs(r));
        h = mix(h ^ s.backoffMaxMs(r));
        h = mix(h ^ s.multiplierPermille(r));
        h = mix(h ^ s.leaseMs(r));
        h = mix(h ^ s.payloadSize(r));
        h = mix(h ^ s.payloadChecksum(r));
        h = mix(h ^ s.lastErrorCode(r));
        h = mix(h ^ s.timerAt(r));
        h = mix(h ^ s.deadline(r));
        h = mix(h ^ s.createdAt(r));
        return h;
    }

    /** Murmur3's 64-bit finaliser: every input bit affects every output bit. */
    static long mix(final long value)
    {
        return Mix64.mix(value + 0x9E3779B97F4A7C15L);
    }
}
