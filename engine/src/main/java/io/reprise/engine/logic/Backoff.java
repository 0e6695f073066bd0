package io.reprise.engine.logic;

import io.reprise.engine.util.Mix64;

/**
 * Retry delays: {@code delay(n) = min(max, initial * multiplier^(n-1))}, then +- {@code jitterPermille} of it,
 * where the jitter comes from a fixed hash of {@code (sessionId, attempt)} so every replica computes the same
 * delay. {@link StrictMath} makes the power bit-identical on every JVM.
 */
public final class Backoff
{
    private Backoff()
    {
    }

    /**
     * @param attempt the attempt that just failed, from 1.
     * @return the delay in ms before the next attempt, never negative.
     */
    public static long delayMs(
        final long initialMs,
        final long maxMs,
        final int multiplierPermille,
        final int jitterPermille,
        final long sessionId,
        final int attempt)
    {
        final double raw = initialMs * StrictMath.pow(multiplierPermille / 1000.0, attempt - 1);
        final long base = raw >= maxMs ? maxMs : (long)raw;
        if (jitterPermille == 0 || base == 0)
        {
            return base;
        }
        final long span = base * jitterPermille / 1000;
        final long offset = Math.floorMod(jitterHash(sessionId, attempt), 2 * span + 1) - span;
        return base + offset;
    }

    static long jitterHash(final long sessionId, final int attempt)
    {
        return Mix64.mix(sessionId ^ ((long)attempt * 0x9E3779B97F4A7C15L));
    }
}
