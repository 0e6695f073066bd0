package io.reprise.engine.util;

/**
 * The one 64-bit mixer for every value replicas must compute alike (jitter, the session index's hash, the state
 * digest): MurmurHash3's 64-bit finalizer, fixed and seedless. Changing it changes what every replica and every
 * replay computes, so it never changes.
 */
public final class Mix64
{
    private Mix64()
    {
    }

    /** Spreads every bit of {@code value} over the result. */
    public static long mix(final long value)
    {
        long h = value;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }
}
