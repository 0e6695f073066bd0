package io.reprise.sim;

import io.reprise.schema.log.SessionPolicy;

/** What the simulator knows of one session it saved: what it asked for, and what the node has said about it. */
final class SessionModel
{
    final int tenant;
    final long sessionId;
    final int destination;
    final SessionPolicy policy;
    /** The node answered the save OK: from then on the session must exist until it finishes. */
    boolean acknowledged;
    /** The highest attempt the node started; attempt numbers never repeat. */
    int lastStarted;
    /** The attempt in flight, 0 when none. */
    int inFlight;
    /** The first attempt of the current life (after a redrive), for the backoff's lower bound. */
    int lifeStart;
    /** No attempt may start before this system time (ms). */
    long earliestStartMs;
    /** COMPLETED, CANCELLED or DEAD (schema values), 0 while the session lives. */
    int finishedStatus;
    boolean purged;

    SessionModel(final int tenant, final long sessionId, final int destination, final SessionPolicy policy)
    {
        this.tenant = tenant;
        this.sessionId = sessionId;
        this.destination = destination;
        this.policy = policy;
    }

    /** A key that orders sessions by tenant, then id. */
    static long key(final int tenant, final long sessionId)
    {
        return ((long)tenant << 48) | sessionId;
    }

    long key()
    {
        return key(tenant, sessionId);
    }

    /**
     * The least delay the node may wait before the next attempt after attempt {@code failedAttempt} failed without a
     * Retry-After: the backoff's base for that attempt of this life, less its jitter, rounded down.
     */
    long leastBackoffMs(final int failedAttempt)
    {
        final int attemptsThisLife = failedAttempt - lifeStart;
        double base = policy.backoffInitialMs();
        for (int i = 1; i < attemptsThisLife && base < policy.backoffMaxMs(); i++)
        {
            base = base * policy.backoffMultiplierPermille() / 1000.0;
        }
        final long capped = (long)Math.min(base, policy.backoffMaxMs());
        return capped - capped * policy.jitterPermille() / 1000 - 1;
    }

    String describe()
    {
        return "session " + tenant + ":" + sessionId;
    }
}
