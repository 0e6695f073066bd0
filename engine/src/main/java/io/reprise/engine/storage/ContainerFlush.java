package io.reprise.engine.storage;

import java.io.IOException;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;

/**
 * The container-flush agent (on every node): writes the container as a new source when it holds
 * {@code flushBytes}, when its oldest unflushed record has waited {@code flushAgeMs}, or when the snapshot agent
 * asks. A failed flush is reported and retried after {@code retryMs}; the records stay in the container (and in
 * the journal) meanwhile.
 */
public final class ContainerFlush implements Agent
{
    private final SavedSessionStorage storage;
    private final EpochClock clock;
    private final long flushBytes;
    private final long flushAgeMs;
    private final long retryMs;
    private final ErrorHandler errorHandler;
    private long pendingSinceMs = -1;
    private long retryAtMs;
    private long failures;

    public ContainerFlush(
        final SavedSessionStorage storage, final EpochClock clock, final long flushBytes, final long flushAgeMs,
        final long retryMs, final ErrorHandler errorHandler)
    {
        if (flushBytes < 1 || flushAgeMs < 1 || retryMs < 1)
        {
            throw new IllegalArgumentException("flush triggers must be >= 1");
        }
        this.storage = storage;
        this.clock = clock;
        this.flushBytes = flushBytes;
        this.flushAgeMs = flushAgeMs;
        this.retryMs = retryMs;
        this.errorHandler = errorHandler;
    }

    public int doWork()
    {
        final long nowMs = clock.time();
        if (nowMs < retryAtMs)
        {
            return 0;
        }
        final long unflushed = storage.container().unflushedBytes();
        if (unflushed > 0 && pendingSinceMs < 0)
        {
            pendingSinceMs = nowMs;
        }
        final boolean requested = storage.takeFlushRequest();
        if (!requested && unflushed < flushBytes && (pendingSinceMs < 0 || nowMs - pendingSinceMs < flushAgeMs))
        {
            return 0;
        }
        try
        {
            storage.flush();
            pendingSinceMs = -1;
        }
        catch (final IOException ex)
        {
            failures++;
            retryAtMs = nowMs + retryMs;
            if (requested)
            {
                storage.requestFlush();
            }
            errorHandler.onError(ex);
        }
        return 1;
    }

    public long failures()
    {
        return failures;
    }

    public String roleName()
    {
        return "container-flush";
    }
}
