package io.reprise.engine.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import io.reprise.engine.testing.TestSeeds;
import org.junit.jupiter.api.Test;

/**
 * {@link TimerWheel} against a {@link TreeMap} keyed by {@code (time, insertion sequence)}: random schedules,
 * cancels and advances, small and huge, with handlers that schedule again while the wheel fires.
 */
class TimerWheelTest
{
    private static final int RECORDS = 2_000;
    private static final long MAX = TimerWheel.MAX_TIME_MS;
    /** The span of a level-2 slot: 4.7 hours. */
    private static final long LEVEL_TWO_BLOCK = 1L << 24;

    private record Key(long at, long seq) implements Comparable<Key>
    {
        public int compareTo(final Key other)
        {
            return at != other.at ? Long.compare(at, other.at) : Long.compare(seq, other.seq);
        }
    }

    private final SessionTable table = new SessionTable(RECORDS, RECORDS);
    private final int[] records = new int[RECORDS];

    TimerWheelTest()
    {
        for (int i = 0; i < RECORDS; i++)
        {
            records[i] = table.allocate(1, i);
        }
    }

    @Test
    void shouldFireInTimeThenInsertionOrderLikeASortedMap() throws IOException
    {
        final long seed = TestSeeds.seed("TimerWheelTest#shouldFireInTimeThenInsertionOrderLikeASortedMap");
        final SplittableRandom random = new SplittableRandom(seed);
        long fired = 0;
        for (int round = 0; round < 50; round++)
        {
            // The default drain, and drains that move the next block ahead of time at every advance.
            final int[] drains = {TimerWheel.DRAIN_PER_MS, 1, 0};
            fired += runRound(random, seed, round, drains[round % drains.length]);
        }
        assertTrue(fired > 50_000, "seed " + seed + ": only " + fired + " timers fired");
    }

    private long runRound(final SplittableRandom random, final long seed, final int round, final int drainPerMs)
        throws IOException
    {
        final String where = "seed " + seed + " round " + round + " drainPerMs " + drainPerMs;
        // Half the rounds on a wheel with chunks allocated up front (16 of them).
        final int expectedTimers = round % 2 == 0 ? 0 : 16 * 1024;
        final TimerWheel[] current = {new TimerWheel(table, drainPerMs, expectedTimers)};
        TimerWheel wheel = current[0];
        final long start = random.nextInt(4) == 0 ? 0 : random.nextLong(MAX >>> 1);
        wheel.resetTime(start);
        final TreeMap<Key, Integer> model = new TreeMap<>();
        final Map<Integer, Key> scheduled = new HashMap<>();
        final long[] hotTimes = new long[4];
        for (int i = 0; i < hotTimes.length; i++)
        {
            hotTimes[i] = start + delta(random, start);
        }
        final long[] seq = {0};
        final long[] firedCount = {0};

        for (int op = 0; op < 5_000; op++)
        {
            final long now = wheel.nowMs();
            final int kind = random.nextInt(100);
            if (kind < 50)
            {
                final int record = records[random.nextInt(RECORDS)];
                if (scheduled.containsKey(record) || now >= MAX)
                {
                    continue;
                }
                long at = random.nextInt(5) == 0 ? hotTimes[random.nextInt(hotTimes.length)] : now + delta(random, now);
                if (at <= now)
                {
                    at = now + 1;
                }
                wheel.schedule(record, at);
                final Key key = new Key(at, seq[0]++);
                model.put(key, record);
                scheduled.put(record, key);
            }
            else if (kind < 65)
            {
                if (scheduled.isEmpty())
                {
                    continue;
                }
                final int record = pickScheduled(random, scheduled);
                wheel.cancel(record);
                model.remove(scheduled.remove(record));
                assertFalse(wheel.isScheduled(record), where);
                wheel.cancel(record);
            }
            else
            {
                final long target = random.nextInt(10) == 0 ? now : Math.min(MAX, now + jump(random, now));
                final long firedBefore = firedCount[0];
                final int count = wheel.advance(target, (record, nowMs) ->
                {
                    final Map.Entry<Key, Integer> expected = model.pollFirstEntry();
                    assertTrue(expected != null && expected.getKey().at <= target, where + ": fired too many");
                    assertEquals(expected.getKey().at, nowMs, where + ": time of the firing timer");
                    assertEquals(expected.getValue().intValue(), record, where + ": order at " + nowMs);
                    assertEquals(nowMs, current[0].nowMs(), where);
                    assertEquals(nowMs, table.timerAt(record), where);
                    assertFalse(current[0].isScheduled(record), where);
                    scheduled.remove(record);
                    firedCount[0]++;
                    if (random.nextInt(3) == 0 && nowMs < MAX)
                    {
                        // schedule again from inside the handler, sometimes before the target
                        final long at = Math.min(MAX, nowMs + 1 + (random.nextBoolean() ?
                            random.nextInt(300) : delta(random, nowMs)));
                        current[0].schedule(record, at);
                        final Key key = new Key(at, seq[0]++);
                        model.put(key, record);
                        scheduled.put(record, key);
                    }
                });
                assertTrue(model.isEmpty() || model.firstKey().at > target, where + ": a due timer did not fire");
                assertEquals(target, wheel.nowMs(), where);
                assertEquals(firedCount[0] - firedBefore, count, where + ": fired count");
            }
            assertEquals(model.size(), wheel.size(), where);
            if (op % 500 == 250)
            {
                // A snapshot and a restore in the middle: the restored wheel, without forwards, goes on alike.
                final Image image = new Image();
                wheel.writeTo(image);
                wheel = new TimerWheel(table, drainPerMs, expectedTimers);
                wheel.readFrom(image);
                current[0] = wheel;
                assertEquals(model.size(), wheel.size(), where);
            }
            if (op % 500 == 0)
            {
                final Set<Integer> visited = new HashSet<>();
                wheel.forEachInOrder((record) -> assertTrue(visited.add(record), where + ": visited twice"));
                assertEquals(scheduled.keySet(), visited, where);
                for (final Map.Entry<Integer, Key> entry : scheduled.entrySet())
                {
                    assertTrue(wheel.isScheduled(entry.getKey()), where);
                    assertEquals(entry.getValue().at, table.timerAt(entry.getKey()), where);
                }
            }
        }

        // drain: everything fires, in order, at the end of time
        wheel.advance(MAX, (record, nowMs) ->
        {
            final Map.Entry<Key, Integer> expected = model.pollFirstEntry();
            assertEquals(expected.getKey().at, nowMs, where);
            assertEquals(expected.getValue().intValue(), record, where);
            scheduled.remove(record);
            firedCount[0]++;
        });
        assertTrue(model.isEmpty(), where);
        assertEquals(0, wheel.size(), where);
        assertEquals(0, wheel.chunksInUse(), where + ": chunks leaked (a forward never released?)");
        return firedCount[0];
    }

    /** A distance in time from every scale: ms, seconds, hours, years, and whatever is left to the end. */
    private static long delta(final SplittableRandom random, final long now)
    {
        final long room = MAX - now;
        if (room <= 1)
        {
            return 1;
        }
        final long d;
        switch (random.nextInt(8))
        {
            case 0:
                d = 1 + random.nextInt(3);
                break;
            case 1:
                d = 1 + random.nextInt(256);
                break;
            case 2:
                d = 1 + random.nextInt(65_536);
                break;
            case 3:
                d = 1 + random.nextInt(1 << 24);
                break;
            case 4:
                d = 1 + random.nextLong(1L << 32);
                break;
            case 5:
                d = 1 + random.nextLong(1L << 40);
                break;
            case 6:
                d = random.nextInt(50) == 0 ? room : 1 + random.nextLong(room);
                break;
            default:
                // just across a boundary of some level
                final int bits = 8 * (1 + random.nextInt(5));
                final long next = ((now >>> bits) + 1) << bits;
                d = next - now + random.nextInt(3) - 1;
                break;
        }
        return Math.max(1, Math.min(room, d));
    }

    /** How far time advances: mostly short, sometimes years, rarely to anywhere before the end. */
    private static long jump(final SplittableRandom random, final long now)
    {
        final int kind = random.nextInt(100);
        if (kind < 90)
        {
            final long d = delta(random, now);
            return Math.min(d, 1L << 24);
        }
        if (kind < 99)
        {
            return Math.min(MAX - now, 1 + random.nextLong(1L << (32 + random.nextInt(9))));
        }
        return delta(random, now);
    }

    private static int pickScheduled(final SplittableRandom random, final Map<Integer, Key> scheduled)
    {
        final List<Integer> keys = new ArrayList<>(scheduled.keySet());
        keys.sort(null);
        return keys.get(random.nextInt(keys.size()));
    }

    @Test
    void shouldPlaceEveryTimerAtTheSamePositionWithOrWithoutChunksAllocatedUpFront()
    {
        final SessionTable otherTable = new SessionTable(RECORDS, RECORDS);
        for (int i = 0; i < RECORDS; i++)
        {
            assertEquals(records[i], otherTable.allocate(1, i));
        }
        final TimerWheel lazy = new TimerWheel(table, 0);
        final TimerWheel preallocated = new TimerWheel(otherTable, 40 * 1024);
        final SplittableRandom random = new SplittableRandom(11);
        for (int op = 0; op < 20_000; op++)
        {
            final int record = records[random.nextInt(RECORDS)];
            final int kind = random.nextInt(10);
            if (kind < 6 && !lazy.isScheduled(record))
            {
                final long at = lazy.nowMs() + 1 + random.nextInt(kind < 3 ? 300 : 5_000_000);
                lazy.schedule(record, at);
                preallocated.schedule(record, at);
            }
            else if (kind < 8)
            {
                lazy.cancel(record);
                preallocated.cancel(record);
            }
            else
            {
                final long target = lazy.nowMs() + random.nextInt(100_000);
                assertEquals(lazy.advance(target, (r, t) -> { }), preallocated.advance(target, (r, t) -> { }));
            }
            for (final int r : records)
            {
                assertEquals(table.timerPosition(r), otherTable.timerPosition(r), "op " + op + " record " + r);
            }
        }
        assertTrue(lazy.size() > 20, "timers left: " + lazy.size());
        assertEquals(lazy.chunksInUse(), preallocated.chunksInUse());
    }

    @Test
    void shouldKeepInsertionOrderForEqualTimesAcrossCascades()
    {
        final TimerWheel wheel = new TimerWheel(table, 0);
        final List<Integer> fired = new ArrayList<>();
        wheel.schedule(records[0], 300);          // placed one level up, from time 0
        wheel.advance(255, (r, t) -> fired.add(r));
        wheel.schedule(records[1], 300);          // still one level up, behind the first
        wheel.advance(260, (r, t) -> fired.add(r)); // cascades both down
        wheel.schedule(records[2], 300);          // straight onto level 0, behind both
        wheel.schedule(records[3], 299);
        wheel.schedule(records[4], 1L << 40);     // far up, same time as the next
        wheel.advance((1L << 40) - 5, (r, t) -> fired.add(r));
        wheel.schedule(records[5], 1L << 40);
        wheel.advance(MAX, (r, t) -> fired.add(r));
        assertEquals(List.of(records[3], records[0], records[1], records[2], records[4], records[5]), fired);
    }

    @Test
    void shouldMoveTheNextLevelTwoBlockDownAheadOfTimeAndFireItInOrder()
    {
        final TimerWheel wheel = new TimerWheel(table, TimerWheel.DRAIN_PER_MS, 0);
        final long start = 1_700_000_000_000L & ~(LEVEL_TWO_BLOCK - 1);
        wheel.resetTime(start + 100);
        // 1,500 timers two level-2 blocks ahead, a few per level-1 slot and several at the same time, spread over
        // the block's whole span: on level 2. Record ids shuffled, so that FIFO order is not id order.
        final TreeMap<Key, Integer> model = new TreeMap<>();
        for (int i = 0; i < 1_500; i++)
        {
            final long at = start + 2 * LEVEL_TWO_BLOCK + ((i * 7919L) % 4096) * 4096 + (i % 5) * 3;
            final int record = records[(i * 37) % 1_500];
            wheel.schedule(record, at);
            model.put(new Key(at, i), record);
        }
        assertEquals(1_500, wheel.timersOnLevel(2));
        // A timer of the very next level-2 block goes straight to its bank of level 1 (its level-2 slot is empty).
        wheel.schedule(records[1_500], start + LEVEL_TWO_BLOCK + 4096 * 7 + 2);
        model.put(new Key(start + LEVEL_TWO_BLOCK + 4096 * 7 + 2, 1_500), records[1_500]);
        assertEquals(1, wheel.timersOnLevel(1));

        // Once theirs is the next block, 64 per millisecond to go stay on level 2: 10 ms before it, at most 640.
        final List<Integer> fired = new ArrayList<>();
        wheel.advance(start + 2 * LEVEL_TWO_BLOCK - 10, (r, t) -> fired.add(r));
        assertEquals(1, fired.size());
        assertTrue(wheel.timersOnLevel(2) <= 640, "level 2 holds " + wheel.timersOnLevel(2));
        assertTrue(wheel.timersOnLevel(2) < 1_500, "nothing moved ahead");
        wheel.advance(start + 2 * LEVEL_TWO_BLOCK - 1, (r, t) -> fired.add(r));
        assertEquals(0, wheel.timersOnLevel(2), "all moved ahead: a chunk moves whole");
        // Now a timer of the next level-2 block joins its bank of level 1 directly, behind those moved there.
        final long late = start + 2 * LEVEL_TWO_BLOCK + 4096 * 2 + 1;
        wheel.schedule(records[1_600], late);
        model.put(new Key(late, 1_600), records[1_600]);
        assertEquals(0, wheel.timersOnLevel(2));

        wheel.advance(start + 3 * LEVEL_TWO_BLOCK, (r, t) -> fired.add(r));
        assertEquals(new ArrayList<>(model.values()), fired);
        assertEquals(0, wheel.size());
        assertEquals(0, wheel.chunksInUse());
    }

    /**
     * Time jumps over a level-2 boundary while the next block's slot is only partly moved ahead: the timers of its
     * first level-1 slot already moved, then those still on level 2 (some scheduled after the move began) come down
     * together at the boundary, in FIFO order.
     */
    @Test
    void shouldKeepFifoOrderWhenAJumpCrossesAPartlyMovedLevelTwoBlock()
    {
        final TimerWheel wheel = new TimerWheel(table, TimerWheel.DRAIN_PER_MS, 0);
        final long start = 1_700_000_000_000L & ~(LEVEL_TWO_BLOCK - 1);
        wheel.resetTime(start + 100);
        final long target = start + 2 * LEVEL_TWO_BLOCK;
        final TreeMap<Key, Integer> model = new TreeMap<>();
        long seq = 0;
        // 900 timers of the target block's first 40 ms (its first level-1 slot), then 900 spread over the block.
        for (int i = 0; i < 1_800; i++)
        {
            final long at = i < 900 ? target + i % 40 : target + ((i * 7919L) % 4096) * 4096 + i % 7;
            wheel.schedule(records[i], at);
            model.put(new Key(at, seq++), records[i]);
        }
        // 20 ms before the target block at most 1,280 stay on level 2: the first chunk (1,024 timers, the 900 of
        // the first level-1 slot among them) has moved to the next bank of level 1, the rest has not.
        final List<Integer> fired = new ArrayList<>();
        wheel.advance(target - 20, (r, t) -> fired.add(r));
        assertEquals(1_800 - 1_024, wheel.timersOnLevel(2));
        assertEquals(1_024, wheel.timersOnLevel(1));
        // More of the first level-1 slot: behind everything still on level 2.
        for (int i = 1_800; i < 1_850; i++)
        {
            final long at = target + i % 40;
            wheel.schedule(records[i], at);
            model.put(new Key(at, seq++), records[i]);
        }
        assertEquals(1_800 - 1_024 + 50, wheel.timersOnLevel(2));
        wheel.advance(target + LEVEL_TWO_BLOCK, (r, t) -> fired.add(r));
        assertEquals(new ArrayList<>(model.values()), fired);
        assertEquals(0, wheel.size());
    }

    @Test
    void shouldMoveTheNextBlockDownAheadOfTimeAndFireItInOrder()
    {
        final TimerWheel wheel = new TimerWheel(table, 2, 0);
        final long block = 4096;
        final long start = 1_700_000_000_000L & ~(block - 1);
        wheel.resetTime(start + 100);
        // 1,000 timers two level-1 blocks ahead, a few per millisecond, several at the same time: on level 1.
        final TreeMap<Key, Integer> model = new TreeMap<>();
        for (int i = 0; i < 1_000; i++)
        {
            final long at = start + 2 * block + (i * 7L) % 300;
            wheel.schedule(records[i], at);
            model.put(new Key(at, i), records[i]);
        }
        assertEquals(1_000, wheel.timersOnLevel(1));
        // A timer of the very next block goes straight to level 0 (its level-1 slot is empty).
        wheel.schedule(records[1_000], start + block + 5);
        model.put(new Key(start + block + 5, 1_000), records[1_000]);
        assertEquals(1, wheel.timersOnLevel(0));

        // Once theirs is the next block, within 500 ms of its start at most 2 per ms to go stay on level 1.
        final List<Integer> fired = new ArrayList<>();
        wheel.advance(start + 2 * block - 500, (r, t) -> fired.add(r));
        assertTrue(wheel.timersOnLevel(1) <= 2 * 500, "level 1 holds " + wheel.timersOnLevel(1));
        wheel.advance(start + 2 * block - 1, (r, t) -> fired.add(r));
        assertEquals(0, wheel.timersOnLevel(1)); // a chunk (1,024 entries) moves whole: all of them by now
        assertEquals(1_000, wheel.timersOnLevel(0));
        final long late = start + 2 * block + 150;
        wheel.schedule(records[1_001], late); // the next block's level-1 slot is empty: straight to level 0
        model.put(new Key(late, 1_001), records[1_001]);
        assertEquals(0, wheel.timersOnLevel(1));

        wheel.advance(start + 2 * block + 400, (r, t) -> fired.add(r));
        assertEquals(new ArrayList<>(model.values()), fired);
        assertEquals(0, wheel.size());
        assertEquals(0, wheel.chunksInUse());
    }

    @Test
    void shouldFireAcrossAHugeJumpInOrderAndLandOnTheTarget()
    {
        final TimerWheel wheel = new TimerWheel(table, 0);
        wheel.resetTime(1_700_000_000_000L);
        final long[] times = {1_700_000_000_001L, 1_700_000_000_001L + (1L << 33), 1_700_086_400_000L,
            1_700_000_000_256L, MAX};
        for (int i = 0; i < times.length; i++)
        {
            wheel.schedule(records[i], times[i]);
        }
        final List<Long> fired = new ArrayList<>();
        assertEquals(4, wheel.advance(MAX - 1, (r, t) -> fired.add(t)));
        assertEquals(List.of(times[0], times[3], times[2], times[1]), fired);
        assertEquals(MAX - 1, wheel.nowMs());
        assertEquals(1, wheel.size());
        assertEquals(1, wheel.advance(MAX, (r, t) -> fired.add(t)));
        assertEquals(0, wheel.advance(MAX, (r, t) -> fired.add(t)));
    }

    @Test
    void shouldRefuseTimersNotAfterNowOrBeyondTheEndAndTimeGoingBack()
    {
        final TimerWheel wheel = new TimerWheel(table, 0);
        wheel.advance(1_000, (r, t) -> { });
        assertThrows(IllegalStateException.class, () -> wheel.schedule(records[0], 1_000));
        assertThrows(IllegalStateException.class, () -> wheel.schedule(records[0], MAX + 1));
        wheel.schedule(records[0], 1_001);
        assertThrows(IllegalStateException.class, () -> wheel.schedule(records[0], 2_000));
        assertThrows(IllegalStateException.class, () -> wheel.advance(999, (r, t) -> { }));
        assertThrows(IllegalStateException.class, () -> wheel.resetTime(5));
        assertEquals(1, wheel.size());
    }

    /** An in-memory snapshot image. */
    private static final class Image implements StateOutput, StateInput
    {
        private final ArrayDeque<Long> values = new ArrayDeque<>();

        public void putLong(final long value)
        {
            values.add(value);
        }

        public void putInt(final int value)
        {
            values.add((long)value);
        }

        public void putLongs(final long[] array, final int offset, final int length)
        {
            for (int i = 0; i < length; i++)
            {
                values.add(array[offset + i]);
            }
        }

        public void putInts(final int[] array, final int offset, final int length)
        {
            for (int i = 0; i < length; i++)
            {
                values.add((long)array[offset + i]);
            }
        }

        public long getLong()
        {
            return values.remove();
        }

        public int getInt()
        {
            return (int)(long)values.remove();
        }

        public void getLongs(final long[] array, final int offset, final int length)
        {
            for (int i = 0; i < length; i++)
            {
                array[offset + i] = values.remove();
            }
        }

        public void getInts(final int[] array, final int offset, final int length)
        {
            for (int i = 0; i < length; i++)
            {
                array[offset + i] = (int)(long)values.remove();
            }
        }
    }
}
