package io.reprise.engine.storage;

import java.util.Arrays;

/**
 * A map from a session key (tenant, session id) to a long, open addressing with linear probing, primitive arrays
 * only. Used by the flush and the merge (background threads) to remember the newest tombstone of each key.
 * Not thread-safe.
 */
final class KeyMap
{
    static final long MISSING = Long.MIN_VALUE;

    private int[] tenants;
    private long[] sessionIds;
    private long[] values;
    private int size;
    private int mask;

    KeyMap(final int expected)
    {
        allocate(capacityFor(expected));
    }

    private static int capacityFor(final int expected)
    {
        int capacity = 16;
        while (capacity < expected * 2L && capacity < (1 << 30))
        {
            capacity <<= 1;
        }
        return capacity;
    }

    private void allocate(final int capacity)
    {
        tenants = new int[capacity];
        sessionIds = new long[capacity];
        values = new long[capacity];
        Arrays.fill(values, MISSING);
        mask = capacity - 1;
        size = 0;
    }

    static int hash(final int tenant, final long sessionId)
    {
        long h = sessionId * 0x9E3779B97F4A7C15L + tenant * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int)(h ^ (h >>> 32));
    }

    long get(final int tenant, final long sessionId)
    {
        int i = hash(tenant, sessionId) & mask;
        while (values[i] != MISSING)
        {
            if (tenants[i] == tenant && sessionIds[i] == sessionId)
            {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return MISSING;
    }

    /** Keeps the larger of the present value and {@code value}. */
    void putMax(final int tenant, final long sessionId, final long value)
    {
        if (value == MISSING)
        {
            throw new IllegalArgumentException("reserved value");
        }
        int i = hash(tenant, sessionId) & mask;
        while (values[i] != MISSING)
        {
            if (tenants[i] == tenant && sessionIds[i] == sessionId)
            {
                values[i] = Math.max(values[i], value);
                return;
            }
            i = (i + 1) & mask;
        }
        tenants[i] = tenant;
        sessionIds[i] = sessionId;
        values[i] = value;
        if (++size * 2 > values.length)
        {
            rehash();
        }
    }

    int size()
    {
        return size;
    }

    private void rehash()
    {
        final int[] oldTenants = tenants;
        final long[] oldIds = sessionIds;
        final long[] oldValues = values;
        allocate(oldValues.length * 2);
        for (int i = 0; i < oldValues.length; i++)
        {
            if (oldValues[i] != MISSING)
            {
                putMax(oldTenants[i], oldIds[i], oldValues[i]);
            }
        }
    }
}
