package io.reprise.engine.state;

import static io.reprise.engine.state.SessionTable.NULL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The index against a HashMap, through growth, reuse and deletion, with and without escaped displacements. */
class SessionTableIndexTest
{
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, Integer.MAX_VALUE})
    void shouldFindExactlyWhatIsLive(final int escapeLimit)
    {
        final SessionTable table = new SessionTable(1 << 14, 0, escapeLimit);
        final Map<Long, Integer> live = new HashMap<>();
        final List<Long> keys = new ArrayList<>();
        final SplittableRandom random = new SplittableRandom(42 + escapeLimit);

        for (int step = 0; step < 200_000; step++)
        {
            final int tenant = 1 + random.nextInt(3);
            final long sessionId = random.nextInt(6_000);
            final long key = ((long)tenant << 48) | sessionId;
            final Integer record = live.get(key);
            assertEquals(record == null ? NULL : record.intValue(), table.find(tenant, sessionId));
            // Fill up to ~9000 live, then hover there: the index grows and then churns.
            if (record == null && (live.size() < 9_000 || random.nextBoolean()))
            {
                final int allocated = table.allocate(tenant, sessionId);
                assertNotEquals(NULL, allocated);
                live.put(key, allocated);
                keys.add(key);
            }
            else if (!keys.isEmpty())
            {
                final int victim = random.nextInt(keys.size());
                final long victimKey = keys.get(victim);
                keys.set(victim, keys.get(keys.size() - 1));
                keys.remove(keys.size() - 1);
                final int freed = live.remove(victimKey);
                table.free(freed);
                assertEquals(NULL, table.find((int)(victimKey >>> 48), victimKey & 0xFFFF_FFFFFFFFL));
            }
            assertEquals(live.size(), table.size());
        }
        for (final Map.Entry<Long, Integer> entry : live.entrySet())
        {
            final long key = entry.getKey();
            assertEquals(entry.getValue().intValue(), table.find((int)(key >>> 48), key & 0xFFFF_FFFFFFFFL));
            assertEquals(key & 0xFFFF_FFFFFFFFL, table.sessionId(entry.getValue()));
        }
    }
}
