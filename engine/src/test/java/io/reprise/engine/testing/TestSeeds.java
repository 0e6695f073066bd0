package io.reprise.engine.testing;

import java.util.SplittableRandom;

/**
 * The seed of a randomized test: {@value #PROP_NAME} when given, a fresh random one otherwise; printed either way,
 * with how to run the test again on it.
 */
public final class TestSeeds
{
    public static final String PROP_NAME = "reprise.test.seed";

    private TestSeeds()
    {
    }

    /** @param test the test's name, {@code Class#method}, as {@code -Dtest=} takes it. */
    public static long seed(final String test)
    {
        final long seed = Long.getLong(PROP_NAME, new SplittableRandom().nextLong());
        System.out.println(test + " seed " + seed + " (reproduce with -Dtest=" + test + " -D" + PROP_NAME + "=" +
            seed + ")");
        return seed;
    }
}
