package io.reprise.transport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The delays a policy states, as a worker sees them against the wall clock (docs/state.md, system time): the next
 * attempt after a RETRY comes no sooner than the backoff after the report was sent, one after a Retry-After no
 * sooner than that, and a lease ends its stated length after the attempt began; each within a few milliseconds.
 * <p>
 * An attempt is never early: that bound is checked on every sample. How late it may be depends on the machine's
 * thread wake-ups: each of the four delays must have its median over a round's sessions within
 * {@link #MEDIAN_LATE_MS} in some round, and a loaded machine gets up to {@link #ROUNDS} rounds to show it (a delay
 * the node keeps late by design is late in every round); no sample may be later than {@link #MAX_LATE_MS}.
 */
class PolicyTimingTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "timing-token";
    private static final int DESTINATION = 2;
    private static final int SESSIONS = 8;
    private static final long BACKOFF_MS = 400;
    private static final long RETRY_AFTER_MS = 1_500;
    private static final long LEASE_MS = 1_000;
    private static final long MEDIAN_LATE_MS = 20;
    private static final long MAX_LATE_MS = 1_000;
    private static final int ROUNDS = 5;

    @TempDir
    Path dir;

    @Test
    void shouldKeepBackoffRetryAfterAndLeaseToTheMillisecondOfTheWallClock() throws Exception
    {
        final String aeronDir = SmallNode.aeronDir(dir);
        try (RepriseNode node = SmallNode.start(dir, new TransportContext().tokens(TENANT + "=" + TOKEN));
            RepriseClient client = RepriseClient.connect(
                new ClientContext().aeronDirectoryName(aeronDir).tenant(TENANT).token(TOKEN), (c, t, code, v) -> { });
            RepriseWorker worker = RepriseWorker.connect(
                new ClientContext().aeronDirectoryName(aeronDir).tenant(TENANT).token(TOKEN),
                new int[] {DESTINATION}, 64, null))
        {
            // Per delay (backoff, Retry-After, lease, after the lease): its best round's median so far.
            final long[] best = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
            for (int round = 0; round < ROUNDS; round++)
            {
                final long[] medians = round(client, worker, round);
                boolean allWithin = true;
                for (int i = 0; i < best.length; i++)
                {
                    best[i] = Math.min(best[i], medians[i]);
                    allWithin &= best[i] <= MEDIAN_LATE_MS;
                }
                if (allWithin)
                {
                    return;
                }
            }
            throw new AssertionError("a delay whose median was never within " + MEDIAN_LATE_MS + " ms in " + ROUNDS +
                " rounds; the best medians (backoff, Retry-After, lease, after the lease): " + Arrays.toString(best));
        }
    }

    /** @return the medians of how late the four delays were: backoff, Retry-After, lease, after the lease. */
    private long[] round(final RepriseClient client, final RepriseWorker worker, final int round)
    {
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).leaseMs(LEASE_MS).maxAttempts(10)
            .backoffInitialMs(BACKOFF_MS).backoffMaxMs(60_000).backoffMultiplierPermille(1_000).jitterPermille(0);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {7});
        final long firstId = 1 + round * 100L;
        for (long id = firstId; id < firstId + SESSIONS; id++)
        {
            assertEquals(ResultCode.OK, client.saveAndAwait(id, DESTINATION, policy, payload, 0, 1));
        }

        // Per session: when it reported (or the lease it held ends), and what the next attempt should wait.
        final Map<Long, long[]> previous = new HashMap<>();
        final List<Long> backoffLate = new ArrayList<>();
        final List<Long> retryAfterLate = new ArrayList<>();
        final List<Long> leaseShort = new ArrayList<>();
        final List<Long> afterLeaseLate = new ArrayList<>();
        final long deadlineMs = System.currentTimeMillis() + 30_000;
        while (afterLeaseLate.size() < SESSIONS)
        {
            assertTrue(System.currentTimeMillis() < deadlineMs, "attempts stopped coming: " + previous);
            client.poll();
            worker.poll((tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle, buffer, offset, length) ->
            {
                final long receivedMs = System.currentTimeMillis();
                final long[] before = previous.get(sessionId);
                if (null != before)
                {
                    // Never early: every sample, whatever the machine.
                    final long lateMs = receivedMs - before[0] - before[1];
                    assertTrue(lateMs >= 0, "attempt " + attempt + " of session " + sessionId + " came " + -lateMs +
                        " ms before its time");
                    assertTrue(lateMs <= MAX_LATE_MS, "attempt " + attempt + " came " + lateMs + " ms late");
                    (attempt == 2 ? backoffLate : attempt == 3 ? retryAfterLate : afterLeaseLate).add(lateMs);
                }
                switch (attempt)
                {
                    case 1:
                        previous.put(sessionId, new long[] {System.currentTimeMillis(), BACKOFF_MS});
                        worker.report(sessionId, destination, attempt, handle, Outcome.RETRY, 500, 0);
                        break;
                    case 2:
                        previous.put(sessionId, new long[] {System.currentTimeMillis(), RETRY_AFTER_MS});
                        worker.report(sessionId, destination, attempt, handle, Outcome.RETRY, 503, RETRY_AFTER_MS);
                        break;
                    case 3:
                        // Not reported: the lease runs out, and the next attempt waits the backoff after that.
                        leaseShort.add(LEASE_MS - (leaseExpiresAtMs - receivedMs));
                        previous.put(sessionId, new long[] {leaseExpiresAtMs, BACKOFF_MS});
                        break;
                    default:
                        worker.report(sessionId, destination, attempt, handle, Outcome.SUCCEEDED, 0, 0);
                        break;
                }
            });
        }
        final long backoff = median(backoffLate);
        final long retryAfter = median(retryAfterLate);
        final long lease = median(leaseShort);
        final long afterLease = median(afterLeaseLate);
        System.out.println("PolicyTimingTest: round " + round + ", medians over " + SESSIONS + " sessions: backoff " +
            BACKOFF_MS + " ms +" + backoff + ", Retry-After " + RETRY_AFTER_MS + " ms +" + retryAfter + ", lease " +
            LEASE_MS + " ms -" + lease + " by the time it arrived, next attempt after the lease +" + afterLease);
        assertTrue(leaseShort.stream().allMatch((shortMs) -> shortMs >= 0), "a lease longer than stated: " + leaseShort);
        return new long[] {backoff, retryAfter, lease, afterLease};
    }

    private static long median(final List<Long> values)
    {
        final List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
