package io.reprise.engine.node;

import io.reprise.engine.state.DestinationFigures;
import io.reprise.schema.client.ResultCode;
import org.agrona.DirectBuffer;

/**
 * What the transport needs of a running node, whatever runs it: put operators in, ask about sessions, tell the
 * repeat process which workers are there, and read the figures the node's counters show. Every method may be
 * called from any thread and never blocks.
 */
public interface Engine
{
    /**
     * Puts an encoded operator into the ring.
     *
     * @return OK, or why not: BACK_PRESSURE, STORAGE_UNAVAILABLE, SHUTTING_DOWN, PAYLOAD_TOO_LARGE.
     */
    ResultCode offer(DirectBuffer operator, int offset, int length);

    /**
     * Asks for the applied state of one session of {@code tenant}, read-only and not journaled: answered between two
     * batches with {@code OutputSink.onSessionState} to the output observer, for {@code clientId}.
     *
     * @return OK, or why not: BACK_PRESSURE (the queue of queries is full), SHUTTING_DOWN.
     */
    ResultCode querySession(long clientId, long correlationId, int tenant, long sessionId);

    /** A worker connected and serves {@code destinations} of its tenant, taking up to {@code hands} at once. */
    void workerJoined(long workerId, int tenant, int[] destinations, int hands);

    /** A worker disconnected or timed out. */
    void workerLeft(long workerId);

    /** Each destination's counts. */
    DestinationFigures destinationFigures();

    /** The index of the last operator put into the ring. */
    long publishedIndex();

    /** The last index known durable in the journal. */
    long durableIndex();

    /** The last applied index. */
    long appliedIndex();

    /** How long the last group commit (write and fsync) took. */
    long lastCommitNs();

    /** The longest group commit since start. */
    long maxCommitNs();

    /** Attempts handed to workers. */
    long dispatched();

    /** Attempts started that no worker took. */
    long undeliverable();

    /** Why the journal cannot write now, or null. */
    String storageFailure();

    /** The failure that stopped a stage or an agent, or null. */
    Throwable fatalError();
}
