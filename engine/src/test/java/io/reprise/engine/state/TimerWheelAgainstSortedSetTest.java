package io.reprise.engine.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The wheel against a sorted set of (at, insertion), through cascades, cancels, compaction and re-scheduling. */
class TimerWheelAgainstSortedSetTest
{
    private record Timer(long atMs, long seq, int record) implements Comparable<Timer>
    {
        public int compareTo(final Timer other)
        {
            final int byTime = Long.compare(atMs, other.atMs);
            return byTime != 0 ? byTime : Long.compare(seq, other.seq);
        }
    }

    private final SessionTable table = new SessionTable(1 << 14, 0);
    private final TimerWheel wheel = new TimerWheel(table, 0);
    private final TreeSet<Timer> expected = new TreeSet<>();
    private final Timer[] byRecord = new Timer[1 << 14];
    private final SplittableRandom random = new SplittableRandom(7);
    private long seq;

    private boolean crowded;

    /** Spread: timers over every level. Crowded: most timers in a few slots, thousands each (many chunks). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void shouldFireInTimeThenInsertionOrder(final boolean crowded)
    {
        this.crowded = crowded;
        final int records = 12_000;
        for (int i = 0; i < records; i++)
        {
            table.allocate(1, i);
        }
        wheel.resetTime(1_000_000);
        final List<String> fired = new ArrayList<>();
        final List<String> wanted = new ArrayList<>();
        for (int step = 0; step < 300_000; step++)
        {
            final int record = random.nextInt(records);
            // Crowded: long runs of schedules and cancels between advances, so that slots hold thousands.
            final int choice = random.nextInt(crowded ? 4000 : 100);
            if (choice < (crowded ? 2600 : 55))
            {
                if (!wheel.isScheduled(record))
                {
                    schedule(record, wheel.nowMs() + delay());
                }
            }
            else if (choice < (crowded ? 3990 : 85))
            {
                wheel.cancel(record);
                if (byRecord[record] != null)
                {
                    expected.remove(byRecord[record]);
                    byRecord[record] = null;
                }
            }
            else
            {
                final long target = wheel.nowMs() + (random.nextInt(10) == 0 ? random.nextInt(1 << 18) :
                    random.nextInt(300));
                fired.clear();
                wanted.clear();
                wheel.advance(target, (r, nowMs) ->
                {
                    fired.add(r + "@" + nowMs);
                    final Timer first = expected.pollFirst();
                    byRecord[first.record()] = null;
                    wanted.add(first.record() + "@" + first.atMs());
                    if (random.nextInt(3) == 0)
                    {
                        schedule(r, nowMs + 1 + random.nextInt(70_000));
                    }
                });
                assertEquals(wanted, fired);
                assertEquals(target, wheel.nowMs());
                assertTrue(expected.isEmpty() || expected.first().atMs() > target);
            }
            assertEquals(expected.size(), wheel.size());
        }

        final List<Integer> inOrder = new ArrayList<>();
        wheel.forEachInOrder(inOrder::add);
        assertEquals(expected.size(), inOrder.size());
    }

    private long delay()
    {
        if (crowded && random.nextInt(10) < 8)
        {
            // The next whole second or the millisecond after: thousands of timers at the same time.
            return ((wheel.nowMs() / 1000) + 1) * 1000 + random.nextInt(2) - wheel.nowMs();
        }
        final int kind = random.nextInt(10);
        return 1 + (kind < 5 ? random.nextInt(256) : kind < 8 ? random.nextInt(1 << 16) : random.nextInt(1 << 24));
    }

    private void schedule(final int record, final long atMs)
    {
        wheel.schedule(record, atMs);
        assertEquals(atMs, table.timerAt(record));
        final Timer timer = new Timer(atMs, seq++, record);
        expected.add(timer);
        byRecord[record] = timer;
    }
}
