package io.reprise.engine.state;

import static io.reprise.engine.state.SessionTable.NULL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import io.reprise.engine.testing.TestSeeds;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionTable} against a {@link HashMap}: random allocate, find and free over a key range that makes
 * probe runs collide, through several index growths, up to the record limit and back; and every field keeps
 * its value beside its packed neighbours.
 */
class SessionTableTest
{
    private record Key(int tenant, long sessionId)
    {
    }

    /** The values a record should hold, written at random and checked against the table. */
    private static final class Fields
    {
        int destination;
        int status;
        int attempt;
        int maxAttempts;
        int jitter;
        int backoffInitial;
        int backoffMax;
        int multiplier;
        int lifeStart;
        int lease;
        int payloadSize;
        int payloadChecksum;
        int lastError;
        long timerAt;
        long deadline;
        long createdAt;
        int record;
    }

    @Test
    void shouldBehaveLikeAHashMapUnderRandomAllocateFindAndFree()
    {
        final long seed = TestSeeds.seed("SessionTableTest#shouldBehaveLikeAHashMapUnderRandomAllocateFindAndFree");
        final SplittableRandom random = new SplittableRandom(seed);
        final int maxRecords = 5_000;
        final SessionTable table = new SessionTable(maxRecords, 0);
        final Map<Key, Fields> model = new HashMap<>();
        final List<Key> live = new ArrayList<>();
        final long indexBytesAtStart = table.footprintBytes();
        int lastFreed = NULL;
        int refusals = 0;

        for (int op = 0; op < 300_000; op++)
        {
            final String where = "seed " + seed + " op " + op;
            // phases: fill to the limit, churn, drain, churn again
            final int phase = (op / 50_000) % 4;
            final int allocateShare = phase == 0 ? 80 : phase == 2 ? 20 : 50;
            final Key key = new Key(1 + random.nextInt(4), random.nextInt(4) == 0 ?
                random.nextLong() : random.nextInt(maxRecords * 2));
            final int kind = random.nextInt(100);
            if (kind < allocateShare)
            {
                if (model.containsKey(key))
                {
                    assertEquals(model.get(key).record, table.find(key.tenant, key.sessionId), where);
                    continue;
                }
                assertEquals(NULL, table.find(key.tenant, key.sessionId), where);
                final int record = table.allocate(key.tenant, key.sessionId);
                if (model.size() == maxRecords)
                {
                    assertEquals(NULL, record, where + ": allocated beyond the limit");
                    refusals++;
                    continue;
                }
                assertTrue(record >= 0 && record < maxRecords, where + ": record " + record);
                if (lastFreed != NULL)
                {
                    assertEquals(lastFreed, record, where + ": freed records are reused last in, first out");
                }
                assertFresh(table, record, key, where);
                final Fields fields = new Fields();
                fields.record = record;
                write(table, random, fields);
                model.put(key, fields);
                live.add(key);
                lastFreed = NULL;
            }
            else if (kind < allocateShare + 25)
            {
                if (live.isEmpty())
                {
                    continue;
                }
                final int at = random.nextInt(live.size());
                final Key victim = live.get(at);
                live.set(at, live.get(live.size() - 1));
                live.remove(live.size() - 1);
                final Fields fields = model.remove(victim);
                table.free(fields.record);
                assertFalse(table.isLive(fields.record), where);
                assertEquals(NULL, table.find(victim.tenant, victim.sessionId), where);
                lastFreed = fields.record;
            }
            else if (!live.isEmpty())
            {
                final Key present = live.get(random.nextInt(live.size()));
                final Fields fields = model.get(present);
                assertEquals(fields.record, table.find(present.tenant, present.sessionId), where);
                check(table, fields, present, where);
                if (random.nextBoolean())
                {
                    write(table, random, fields);
                }
                assertEquals(model.containsKey(key) ? model.get(key).record : NULL,
                    table.find(key.tenant, key.sessionId), where);
            }
            assertEquals(model.size(), table.size(), where);

            if (op % 25_000 == 0)
            {
                int liveRecords = 0;
                for (int r = 0; r < table.highWater(); r++)
                {
                    liveRecords += table.isLive(r) ? 1 : 0;
                }
                assertEquals(model.size(), liveRecords, where);
                for (final Map.Entry<Key, Fields> entry : model.entrySet())
                {
                    assertEquals(entry.getValue().record, table.find(entry.getKey().tenant, entry.getKey().sessionId));
                    check(table, entry.getValue(), entry.getKey(), where);
                }
            }
        }
        assertTrue(refusals > 0, "seed " + seed + ": the limit was never reached");
        assertTrue(table.footprintBytes() > indexBytesAtStart, "seed " + seed + ": the index never grew");
        assertTrue(table.highWater() <= maxRecords, "seed " + seed);
    }

    private static void assertFresh(final SessionTable t, final int r, final Key key, final String where)
    {
        assertTrue(t.isLive(r), where);
        assertEquals(key.tenant, t.tenant(r), where);
        assertEquals(key.sessionId, t.sessionId(r), where);
        assertEquals(0, t.destination(r) | t.status(r) | t.attempt(r) | t.maxAttempts(r) | t.jitterPermille(r) |
            t.backoffInitialMs(r) | t.backoffMaxMs(r) | t.multiplierPermille(r) | t.lifeStartAttempt(r) | t.leaseMs(r) |
            t.payloadSize(r) |
            t.payloadChecksum(r) | t.lastErrorCode(r) | t.timerBucket(r), where + ": fields not zeroed");
        assertEquals(0L, t.timerAt(r) | t.deadline(r) | t.createdAt(r), where);
        assertEquals(NULL, t.timerPosition(r), where);
        assertEquals(NULL, t.queuePrev(r), where);
        assertEquals(NULL, t.queueNext(r), where);
    }

    private static void write(final SessionTable t, final SplittableRandom random, final Fields f)
    {
        final int r = f.record;
        f.destination = random.nextInt();
        f.status = 1 + random.nextInt(15);
        f.attempt = random.nextInt();
        f.maxAttempts = random.nextInt(0x10000);
        f.jitter = random.nextInt(0x800);
        f.backoffInitial = random.nextInt();
        f.backoffMax = random.nextInt();
        f.multiplier = random.nextInt(0x10000);
        f.lifeStart = random.nextInt();
        f.lease = random.nextInt();
        f.payloadSize = random.nextInt();
        f.payloadChecksum = random.nextInt();
        f.lastError = random.nextInt();
        f.timerAt = random.nextLong();
        f.deadline = random.nextLong();
        f.createdAt = random.nextLong();
        t.destination(r, f.destination);
        t.status(r, f.status);
        t.attempt(r, f.attempt);
        t.maxAttemptsAndJitter(r, f.maxAttempts, f.jitter);
        t.backoff(r, f.backoffInitial, f.backoffMax, f.multiplier);
        t.lifeStartAttempt(r, f.lifeStart);
        t.leaseMs(r, f.lease);
        t.payload(r, f.payloadSize, f.payloadChecksum);
        t.lastErrorCode(r, f.lastError);
        t.timerAt(r, f.timerAt);
        t.deadline(r, f.deadline);
        t.createdAt(r, f.createdAt);
    }

    private static void check(final SessionTable t, final Fields f, final Key key, final String where)
    {
        final int r = f.record;
        assertEquals(key.tenant, t.tenant(r), where);
        assertEquals(key.sessionId, t.sessionId(r), where);
        assertEquals(f.destination, t.destination(r), where);
        assertEquals(f.status, t.status(r), where);
        assertEquals(0, t.timerBucket(r), where);
        assertEquals(f.attempt, t.attempt(r), where);
        assertEquals(f.maxAttempts, t.maxAttempts(r), where);
        assertEquals(f.jitter, t.jitterPermille(r), where);
        assertEquals(f.backoffInitial, t.backoffInitialMs(r), where);
        assertEquals(f.backoffMax, t.backoffMaxMs(r), where);
        assertEquals(f.multiplier, t.multiplierPermille(r), where);
        assertEquals(f.lifeStart, t.lifeStartAttempt(r), where);
        assertEquals(f.lease, t.leaseMs(r), where);
        assertEquals(f.payloadSize, t.payloadSize(r), where);
        assertEquals(f.payloadChecksum, t.payloadChecksum(r), where);
        assertEquals(f.lastError, t.lastErrorCode(r), where);
        assertEquals(f.timerAt, t.timerAt(r), where);
        assertEquals(f.deadline, t.deadline(r), where);
        assertEquals(f.createdAt, t.createdAt(r), where);
    }

    @Test
    void shouldKeepStatusAndTimerBucketApartInTheirSharedWord()
    {
        final SessionTable table = new SessionTable(4, 4);
        final int r = table.allocate(3, 9);
        final int lastBucketPlusOne = 5 * 4096; // the wheel's last bucket (5 rows of 4,096 slots), + 1
        table.maxAttemptsAndJitter(r, 7, 2000);
        table.timerBucket(r, lastBucketPlusOne);
        table.status(r, 6);
        assertEquals(6, table.status(r));
        assertEquals(lastBucketPlusOne, table.timerBucket(r));
        assertEquals(2000, table.jitterPermille(r));
        table.timerBucket(r, 0);
        assertEquals(6, table.status(r));
        assertEquals(2000, table.jitterPermille(r));
        table.status(r, 1);
        assertEquals(0, table.timerBucket(r));
        assertEquals(2000, table.jitterPermille(r));
    }

    @Test
    void shouldRefuseTenantZeroWhichMarksFreeRecords()
    {
        final SessionTable table = new SessionTable(4, 4);
        assertThrows(IllegalArgumentException.class, () -> table.allocate(0, 1));
        assertEquals(0, table.size());
    }

    @Test
    void shouldGrowTheIndexPastItsInitialSizeAndStillFindEverything()
    {
        final SessionTable table = new SessionTable(100_000, 0);
        for (int i = 0; i < 100_000; i++)
        {
            assertEquals(i, table.allocate(1 + (i & 3), i >>> 2));
        }
        assertEquals(NULL, table.allocate(9, 9));
        for (int i = 0; i < 100_000; i++)
        {
            assertEquals(i, table.find(1 + (i & 3), i >>> 2));
        }
        for (int i = 0; i < 100_000; i += 2)
        {
            table.free(i);
        }
        for (int i = 0; i < 100_000; i++)
        {
            assertEquals((i & 1) == 0 ? NULL : i, table.find(1 + (i & 3), i >>> 2));
        }
        assertEquals(50_000, table.size());
    }
}
