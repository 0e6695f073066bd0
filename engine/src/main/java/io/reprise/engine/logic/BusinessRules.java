package io.reprise.engine.logic;

import io.reprise.engine.state.TimerWheel;
import io.reprise.engine.util.SystemProperties;

/**
 * The limits and retention rules of the business logic. Every replica of a cluster must use equal rules: they
 * decide results and transitions. Defaults come from {@link Configuration} (system properties
 * {@code reprise.rules.*}); setters are fluent; {@link #conclude()} checks the rules against each other once.
 */
public final class BusinessRules
{
    /** Property names and defaults; see docs/state.md for what each one means. */
    public static final class Configuration
    {
        public static final String MAX_SESSIONS_PROP_NAME = "reprise.rules.max.sessions";
        public static final int MAX_SESSIONS_DEFAULT = 1 << 24;

        public static final String EXPECTED_SESSIONS_PROP_NAME = "reprise.rules.expected.sessions";
        public static final int EXPECTED_SESSIONS_DEFAULT = 1 << 16;

        public static final String MAX_DESTINATIONS_PROP_NAME = "reprise.rules.max.destinations";
        public static final int MAX_DESTINATIONS_DEFAULT = 1 << 16;

        public static final String MAX_PAYLOAD_BYTES_PROP_NAME = "reprise.rules.max.payload.bytes";
        public static final int MAX_PAYLOAD_BYTES_DEFAULT = 64 * 1024;
        /** No configuration may raise the payload limit beyond this. */
        public static final int MAX_PAYLOAD_BYTES_HARD_LIMIT = 1024 * 1024;

        public static final String MAX_ERROR_TEXT_BYTES_PROP_NAME = "reprise.rules.max.error.text.bytes";
        public static final int MAX_ERROR_TEXT_BYTES_DEFAULT = 1024;

        public static final String TERMINAL_RETENTION_MS_PROP_NAME = "reprise.rules.terminal.retention.ms";
        public static final long TERMINAL_RETENTION_MS_DEFAULT = 60L * 60 * 1000;

        public static final String DEAD_RETENTION_MS_PROP_NAME = "reprise.rules.dead.retention.ms";
        public static final long DEAD_RETENTION_MS_DEFAULT = 14L * 24 * 60 * 60 * 1000;

        public static final String DEFAULT_IN_FLIGHT_LIMIT_PROP_NAME = "reprise.rules.default.in.flight.limit";
        public static final int DEFAULT_IN_FLIGHT_LIMIT_DEFAULT = 1024;

        public static final String MAX_IN_FLIGHT_LIMIT_PROP_NAME = "reprise.rules.max.in.flight.limit";
        public static final int MAX_IN_FLIGHT_LIMIT_DEFAULT = 1 << 20;

        public static final String MAX_BEGIN_REPEATS_BATCH_PROP_NAME = "reprise.rules.max.begin.repeats.batch";
        public static final int MAX_BEGIN_REPEATS_BATCH_DEFAULT = 1024;

        public static final String MAX_REDRIVE_BATCH_PROP_NAME = "reprise.rules.max.redrive.batch";
        public static final int MAX_REDRIVE_BATCH_DEFAULT = 10_000;

        public static final String MAX_LEASE_MS_PROP_NAME = "reprise.rules.max.lease.ms";
        public static final long MAX_LEASE_MS_DEFAULT = 24L * 60 * 60 * 1000;

        public static final String MAX_INITIAL_DELAY_MS_PROP_NAME = "reprise.rules.max.initial.delay.ms";
        public static final long MAX_INITIAL_DELAY_MS_DEFAULT = 400L * 24 * 60 * 60 * 1000;

        public static final String MAX_TTL_MS_PROP_NAME = "reprise.rules.max.ttl.ms";
        public static final long MAX_TTL_MS_DEFAULT = 10L * 366 * 24 * 60 * 60 * 1000;

        /** Backoff delays are kept in 32-bit fields: at most ~24.8 days. */
        public static final long MAX_BACKOFF_MS = Integer.MAX_VALUE;
        /** Attempts and jitter are kept in 16-bit fields. */
        public static final int MAX_ATTEMPTS = 0xFFFF;
        public static final int MIN_MULTIPLIER_PERMILLE = 1000;
        /** Kept in 16 bits: x65.535 at most. */
        public static final int MAX_MULTIPLIER_PERMILLE = 0xFFFF;
        public static final int MAX_JITTER_PERMILLE = 1000;
        /** System time may not pass this, so that any bounded duration added to it stays inside the wheel. */
        public static final long MAX_SYSTEM_TIME_MS = TimerWheel.MAX_TIME_MS >>> 1;
        /** Every duration rule must stay below this for the same reason. */
        public static final long MAX_DURATION_MS = TimerWheel.MAX_TIME_MS >>> 2;

        private Configuration()
        {
        }
    }

    /** The index is one int[] kept at most half full, and an array holds at most 2^30 ints. */
    private static final int MAX_SESSIONS_LIMIT = 1 << 29;

    private int maxSessions = SystemProperties.intValue(
        Configuration.MAX_SESSIONS_PROP_NAME, Configuration.MAX_SESSIONS_DEFAULT);
    private int expectedSessions = SystemProperties.intValue(
        Configuration.EXPECTED_SESSIONS_PROP_NAME, Configuration.EXPECTED_SESSIONS_DEFAULT);
    private int maxDestinations = SystemProperties.intValue(
        Configuration.MAX_DESTINATIONS_PROP_NAME, Configuration.MAX_DESTINATIONS_DEFAULT);
    private int maxPayloadBytes = SystemProperties.intValue(
        Configuration.MAX_PAYLOAD_BYTES_PROP_NAME, Configuration.MAX_PAYLOAD_BYTES_DEFAULT);
    private int maxErrorTextBytes = SystemProperties.intValue(
        Configuration.MAX_ERROR_TEXT_BYTES_PROP_NAME, Configuration.MAX_ERROR_TEXT_BYTES_DEFAULT);
    private long terminalRetentionMs = SystemProperties.longValue(
        Configuration.TERMINAL_RETENTION_MS_PROP_NAME, Configuration.TERMINAL_RETENTION_MS_DEFAULT);
    private long deadRetentionMs = SystemProperties.longValue(
        Configuration.DEAD_RETENTION_MS_PROP_NAME, Configuration.DEAD_RETENTION_MS_DEFAULT);
    private int defaultInFlightLimit = SystemProperties.intValue(
        Configuration.DEFAULT_IN_FLIGHT_LIMIT_PROP_NAME, Configuration.DEFAULT_IN_FLIGHT_LIMIT_DEFAULT);
    private int maxInFlightLimit = SystemProperties.intValue(
        Configuration.MAX_IN_FLIGHT_LIMIT_PROP_NAME, Configuration.MAX_IN_FLIGHT_LIMIT_DEFAULT);
    private int maxBeginRepeatsBatch = SystemProperties.intValue(
        Configuration.MAX_BEGIN_REPEATS_BATCH_PROP_NAME, Configuration.MAX_BEGIN_REPEATS_BATCH_DEFAULT);
    private int maxRedriveBatch = SystemProperties.intValue(
        Configuration.MAX_REDRIVE_BATCH_PROP_NAME, Configuration.MAX_REDRIVE_BATCH_DEFAULT);
    private long maxLeaseMs = SystemProperties.longValue(
        Configuration.MAX_LEASE_MS_PROP_NAME, Configuration.MAX_LEASE_MS_DEFAULT);
    private long maxInitialDelayMs = SystemProperties.longValue(
        Configuration.MAX_INITIAL_DELAY_MS_PROP_NAME, Configuration.MAX_INITIAL_DELAY_MS_DEFAULT);
    private long maxTtlMs = SystemProperties.longValue(
        Configuration.MAX_TTL_MS_PROP_NAME, Configuration.MAX_TTL_MS_DEFAULT);
    private boolean concluded;

    /**
     * Checks every rule and their relations; call once before use.
     *
     * @throws IllegalArgumentException naming the first rule that does not hold.
     */
    public BusinessRules conclude()
    {
        if (concluded)
        {
            throw new IllegalStateException("already concluded");
        }
        require(maxSessions >= 1 && maxSessions <= MAX_SESSIONS_LIMIT, "1 <= maxSessions <= 2^29", maxSessions);
        require(expectedSessions >= 0, "expectedSessions >= 0", expectedSessions);
        require(maxDestinations >= 1, "maxDestinations >= 1", maxDestinations);
        require(maxPayloadBytes >= 0 && maxPayloadBytes <= Configuration.MAX_PAYLOAD_BYTES_HARD_LIMIT,
            "0 <= maxPayloadBytes <= 1 MiB", maxPayloadBytes);
        require(maxErrorTextBytes >= 0 && maxErrorTextBytes <= 65536, "0 <= maxErrorTextBytes <= 65536",
            maxErrorTextBytes);
        require(terminalRetentionMs >= 1 && terminalRetentionMs <= Configuration.MAX_DURATION_MS,
            "1 <= terminalRetentionMs <= MAX_DURATION_MS", terminalRetentionMs);
        require(deadRetentionMs >= 1 && deadRetentionMs <= Configuration.MAX_DURATION_MS,
            "1 <= deadRetentionMs <= MAX_DURATION_MS", deadRetentionMs);
        require(maxInFlightLimit >= 1, "maxInFlightLimit >= 1", maxInFlightLimit);
        require(defaultInFlightLimit >= 1 && defaultInFlightLimit <= maxInFlightLimit,
            "1 <= defaultInFlightLimit <= maxInFlightLimit", defaultInFlightLimit);
        require(maxBeginRepeatsBatch >= 1, "maxBeginRepeatsBatch >= 1", maxBeginRepeatsBatch);
        require(maxRedriveBatch >= 1, "maxRedriveBatch >= 1", maxRedriveBatch);
        require(maxLeaseMs >= 1 && maxLeaseMs <= Integer.MAX_VALUE, "1 <= maxLeaseMs <= 2^31-1", maxLeaseMs);
        require(maxInitialDelayMs >= 0 && maxInitialDelayMs <= Configuration.MAX_DURATION_MS,
            "0 <= maxInitialDelayMs <= MAX_DURATION_MS", maxInitialDelayMs);
        require(maxTtlMs >= 1 && maxTtlMs <= Configuration.MAX_DURATION_MS, "1 <= maxTtlMs <= MAX_DURATION_MS",
            maxTtlMs);
        concluded = true;
        return this;
    }

    private static void require(final boolean condition, final String rule, final long value)
    {
        if (!condition)
        {
            throw new IllegalArgumentException("rule " + rule + " does not hold: " + value);
        }
    }

    private void checkNotConcluded()
    {
        if (concluded)
        {
            throw new IllegalStateException("rules are fixed once concluded");
        }
    }

    /** A digest of every rule: a snapshot taken under other rules must not be restored under these. */
    public long digest()
    {
        final long[] values = {
            maxSessions, maxDestinations, maxPayloadBytes, maxErrorTextBytes, terminalRetentionMs, deadRetentionMs,
            defaultInFlightLimit, maxInFlightLimit, maxBeginRepeatsBatch, maxRedriveBatch, maxLeaseMs,
            maxInitialDelayMs, maxTtlMs };
        long h = 0x5EED;
        for (final long value : values)
        {
            h = (h ^ value) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        return h;
    }

    public boolean isConcluded()
    {
        return concluded;
    }

    public int maxSessions()
    {
        return maxSessions;
    }

    public BusinessRules maxSessions(final int maxSessions)
    {
        checkNotConcluded();
        this.maxSessions = maxSessions;
        return this;
    }

    public int expectedSessions()
    {
        return expectedSessions;
    }

    public BusinessRules expectedSessions(final int expectedSessions)
    {
        checkNotConcluded();
        this.expectedSessions = expectedSessions;
        return this;
    }

    public int maxDestinations()
    {
        return maxDestinations;
    }

    public BusinessRules maxDestinations(final int maxDestinations)
    {
        checkNotConcluded();
        this.maxDestinations = maxDestinations;
        return this;
    }

    public int maxPayloadBytes()
    {
        return maxPayloadBytes;
    }

    public BusinessRules maxPayloadBytes(final int maxPayloadBytes)
    {
        checkNotConcluded();
        this.maxPayloadBytes = maxPayloadBytes;
        return this;
    }

    public int maxErrorTextBytes()
    {
        return maxErrorTextBytes;
    }

    public BusinessRules maxErrorTextBytes(final int maxErrorTextBytes)
    {
        checkNotConcluded();
        this.maxErrorTextBytes = maxErrorTextBytes;
        return this;
    }

    public long terminalRetentionMs()
    {
        return terminalRetentionMs;
    }

    public BusinessRules terminalRetentionMs(final long terminalRetentionMs)
    {
        checkNotConcluded();
        this.terminalRetentionMs = terminalRetentionMs;
        return this;
    }

    public long deadRetentionMs()
    {
        return deadRetentionMs;
    }

    public BusinessRules deadRetentionMs(final long deadRetentionMs)
    {
        checkNotConcluded();
        this.deadRetentionMs = deadRetentionMs;
        return this;
    }

    public int defaultInFlightLimit()
    {
        return defaultInFlightLimit;
    }

    public BusinessRules defaultInFlightLimit(final int defaultInFlightLimit)
    {
        checkNotConcluded();
        this.defaultInFlightLimit = defaultInFlightLimit;
        return this;
    }

    public int maxInFlightLimit()
    {
        return maxInFlightLimit;
    }

    public BusinessRules maxInFlightLimit(final int maxInFlightLimit)
    {
        checkNotConcluded();
        this.maxInFlightLimit = maxInFlightLimit;
        return this;
    }

    public int maxBeginRepeatsBatch()
    {
        return maxBeginRepeatsBatch;
    }

    public BusinessRules maxBeginRepeatsBatch(final int maxBeginRepeatsBatch)
    {
        checkNotConcluded();
        this.maxBeginRepeatsBatch = maxBeginRepeatsBatch;
        return this;
    }

    public int maxRedriveBatch()
    {
        return maxRedriveBatch;
    }

    public BusinessRules maxRedriveBatch(final int maxRedriveBatch)
    {
        checkNotConcluded();
        this.maxRedriveBatch = maxRedriveBatch;
        return this;
    }

    public long maxLeaseMs()
    {
        return maxLeaseMs;
    }

    public BusinessRules maxLeaseMs(final long maxLeaseMs)
    {
        checkNotConcluded();
        this.maxLeaseMs = maxLeaseMs;
        return this;
    }

    public long maxInitialDelayMs()
    {
        return maxInitialDelayMs;
    }

    public BusinessRules maxInitialDelayMs(final long maxInitialDelayMs)
    {
        checkNotConcluded();
        this.maxInitialDelayMs = maxInitialDelayMs;
        return this;
    }

    public long maxTtlMs()
    {
        return maxTtlMs;
    }

    public BusinessRules maxTtlMs(final long maxTtlMs)
    {
        checkNotConcluded();
        this.maxTtlMs = maxTtlMs;
        return this;
    }
}
