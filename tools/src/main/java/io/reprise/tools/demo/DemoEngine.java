package io.reprise.tools.demo;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;

/**
 * What the demo's simulated population talks to: the business logic applied in-process ({@link InProcessDemo})
 * or a real standalone node ({@link NodeDemo}). The scenario calls these on one thread, a tick at a time; the
 * engine delivers the business logic's events to the scenario's sink synchronously (in-process) or at
 * {@link #endTick()} (node, where they arrive on the business-logic thread).
 */
interface DemoEngine
{
    /** Moves time: in-process a {@code SetTime} operator, on a node the simulated clock its time process reads. */
    void setTime(long nowMs);

    /** A new leader's first entry; a standalone node has no terms to begin, so it does nothing there. */
    void beginTerm();

    void configure(int tenant, int destination, int inFlightLimit);

    void save(int tenant, long sessionId, int destination, SessionPolicy policy, DirectBuffer payload, int length);

    void cancel(int tenant, long sessionId);

    void report(
        int destination, int tenant, long sessionId, int attempt, Outcome outcome, int errorCode, long retryAfterMs,
        DirectBuffer errorText);

    /** The correlation id the next operator of {@code tenant}'s controller will carry. */
    long nextCorrelationId(int tenant);

    void redriveSession(int tenant, long sessionId);

    /** What the repeat process sees of a destination: sessions ready, and room under its in-flight limit. */
    int ready(int destination);

    int room(int destination);

    void beginRepeats(int destination, int maxCount);

    /** Ends a tick: on a node, waits until everything offered and the tick's SetTime are applied. */
    void endTick();

    /** The state; the scenario reads it only between ticks (after {@link #endTick()}) and at the end. */
    BusinessLogic logic();
}
