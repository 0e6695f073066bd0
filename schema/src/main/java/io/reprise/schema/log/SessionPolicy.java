package io.reprise.schema.log;

/**
 * The repeat policy of a session as a controller states it in {@code SaveSession}: when it is first due, how
 * retries back off, how long an attempt may take, and when to give up. A mutable holder meant to be reused,
 * so that encoding a save allocates nothing. Defaults are a sensible webhook policy.
 */
public final class SessionPolicy
{
    private long dueAtMs;
    private long initialDelayMs;
    private long backoffInitialMs = 1_000;
    private long backoffMaxMs = 60 * 60 * 1_000;
    private int backoffMultiplierPermille = 2_000;
    private int jitterPermille = 100;
    private int maxAttempts = 10;
    private long leaseMs = 30_000;
    private long ttlMs;

    /** Absolute first due time in epoch ms; 0 means "initialDelayMs after the save". */
    public long dueAtMs()
    {
        return dueAtMs;
    }

    public SessionPolicy dueAtMs(final long dueAtMs)
    {
        this.dueAtMs = dueAtMs;
        return this;
    }

    public long initialDelayMs()
    {
        return initialDelayMs;
    }

    public SessionPolicy initialDelayMs(final long initialDelayMs)
    {
        this.initialDelayMs = initialDelayMs;
        return this;
    }

    public long backoffInitialMs()
    {
        return backoffInitialMs;
    }

    public SessionPolicy backoffInitialMs(final long backoffInitialMs)
    {
        this.backoffInitialMs = backoffInitialMs;
        return this;
    }

    public long backoffMaxMs()
    {
        return backoffMaxMs;
    }

    public SessionPolicy backoffMaxMs(final long backoffMaxMs)
    {
        this.backoffMaxMs = backoffMaxMs;
        return this;
    }

    public int backoffMultiplierPermille()
    {
        return backoffMultiplierPermille;
    }

    public SessionPolicy backoffMultiplierPermille(final int backoffMultiplierPermille)
    {
        this.backoffMultiplierPermille = backoffMultiplierPermille;
        return this;
    }

    public int jitterPermille()
    {
        return jitterPermille;
    }

    public SessionPolicy jitterPermille(final int jitterPermille)
    {
        this.jitterPermille = jitterPermille;
        return this;
    }

    public int maxAttempts()
    {
        return maxAttempts;
    }

    public SessionPolicy maxAttempts(final int maxAttempts)
    {
        this.maxAttempts = maxAttempts;
        return this;
    }

    public long leaseMs()
    {
        return leaseMs;
    }

    public SessionPolicy leaseMs(final long leaseMs)
    {
        this.leaseMs = leaseMs;
        return this;
    }

    /** Time to live from the save (or redrive); 0 means no deadline. */
    public long ttlMs()
    {
        return ttlMs;
    }

    public SessionPolicy ttlMs(final long ttlMs)
    {
        this.ttlMs = ttlMs;
        return this;
    }
}
