package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import io.reprise.engine.testing.TestSeeds;
import org.junit.jupiter.api.Test;

/** {@link Backoff} against delays worked out by hand, and the jitter's bounds and spread. */
class BackoffTest
{
    @Test
    void shouldDoubleUpToTheMaximum()
    {
        final long[] expected = {1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000};
        for (int attempt = 1; attempt <= expected.length; attempt++)
        {
            assertEquals(expected[attempt - 1], Backoff.delayMs(1_000, 60_000, 2_000, 0, 42, attempt), "attempt " + attempt);
        }
    }

    @Test
    void shouldTruncateFractionalDelaysToWholeMilliseconds()
    {
        // 1000 x 1.5^(n-1) = 1000, 1500, 2250, 3375, 5062.5, 7593.75, 11390.625
        final long[] expected = {1_000, 1_500, 2_250, 3_375, 5_062, 7_593, 11_390};
        for (int attempt = 1; attempt <= expected.length; attempt++)
        {
            assertEquals(expected[attempt - 1], Backoff.delayMs(1_000, 1_000_000, 1_500, 0, 7, attempt));
        }
        // 7 x 1.001^(n-1) stays 7 for a long time
        assertEquals(7, Backoff.delayMs(7, 100, 1_001, 0, 7, 100));
    }

    @Test
    void shouldKeepAConstantDelayWithMultiplierOne()
    {
        for (int attempt = 1; attempt < 1_000; attempt += 37)
        {
            assertEquals(250, Backoff.delayMs(250, 10_000, 1_000, 0, 3, attempt));
        }
    }

    @Test
    void shouldStayAtZeroOrTheMaximumWhenThePowerOverflows()
    {
        // 100^(n-1) overflows a double past n = 155: 0 x infinity must still be 0, and anything else the maximum
        assertEquals(0, Backoff.delayMs(0, 5_000, 100_000, 0, 1, 60_000));
        assertEquals(0, Backoff.delayMs(0, 5_000, 100_000, 1_000, 1, 60_000));
        assertEquals(Integer.MAX_VALUE, Backoff.delayMs(1, Integer.MAX_VALUE, 100_000, 0, 1, 60_000));
        assertEquals(Integer.MAX_VALUE, Backoff.delayMs(Integer.MAX_VALUE, Integer.MAX_VALUE, 100_000, 0, 1, 2));
        assertEquals(0, Backoff.delayMs(0, 0, 2_000, 500, 1, 3));
    }

    @Test
    void shouldNotJitterWhenTheSpanRoundsToZero()
    {
        // span = 9 x 100 / 1000 = 0
        for (long sessionId = 0; sessionId < 100; sessionId++)
        {
            assertEquals(9, Backoff.delayMs(9, 100, 1_000, 100, sessionId, 1));
        }
    }

    @Test
    void shouldJitterWithinTheSpanAndSpreadOverIt()
    {
        // base 1000, jitter 10% -> [900, 1100]; full jitter -> [0, 2000]
        final Set<Long> seen = new HashSet<>();
        long sum = 0;
        for (long sessionId = 0; sessionId < 20_000; sessionId++)
        {
            final long delay = Backoff.delayMs(1_000, 60_000, 1_000, 100, sessionId, 1);
            assertTrue(delay >= 900 && delay <= 1_100, "delay " + delay);
            seen.add(delay);
            sum += delay;
            assertEquals(delay, Backoff.delayMs(1_000, 60_000, 1_000, 100, sessionId, 1), "same inputs, same delay");

            final long full = Backoff.delayMs(1_000, 60_000, 1_000, 1_000, sessionId, 3);
            assertTrue(full >= 0 && full <= 2_000, "delay " + full);
        }
        assertEquals(201, seen.size(), "every value of [900, 1100] occurs");
        assertEquals(1_000, sum / 20_000.0, 5.0);
    }

    @Test
    void shouldJitterDifferentlyPerAttempt()
    {
        final Set<Long> seen = new HashSet<>();
        for (int attempt = 1; attempt <= 50; attempt++)
        {
            seen.add(Backoff.delayMs(1_000, 1_000, 2_000, 200, 12345, attempt));
        }
        assertTrue(seen.size() > 30, "attempts share delays: " + seen);
    }

    @Test
    void shouldAgreeWithTheReferenceModelsDerivation()
    {
        final long seed = TestSeeds.seed("BackoffTest#shouldAgreeWithTheReferenceModelsDerivation");
        final SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++)
        {
            final long initial = random.nextInt(3) == 0 ? random.nextInt(100) : random.nextInt(Integer.MAX_VALUE);
            final long max = initial + random.nextInt((int)Math.min(Integer.MAX_VALUE - initial, 1 << 30) + 1);
            final int multiplier = 1_000 + random.nextInt(99_001);
            final int jitter = random.nextInt(1_001);
            final long sessionId = random.nextLong();
            final int attempt = 1 + random.nextInt(random.nextBoolean() ? 10 : 0xFFFF);
            assertEquals(ReferenceModel.backoffMs(initial, max, multiplier, jitter, sessionId, attempt),
                Backoff.delayMs(initial, max, multiplier, jitter, sessionId, attempt),
                "seed " + seed + " case " + i);
        }
    }
}
