package io.reprise.transport;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client ids are unique across the members of a cluster and across starts of one member: an operator's answer goes
 * to the client whose id it carries, on whichever member applies it.
 */
class ClientRegistryTest
{
    private static final long START_MS = 1_796_000_000_000L;

    private static Set<Long> ids(final int memberId, final long startMs, final int count)
    {
        final ClientRegistry registry = new ClientRegistry(16, ClientRegistry.sequenceBase(memberId, startMs));
        final Set<Long> ids = new HashSet<>();
        for (int i = 0; i < count; i++)
        {
            final long id = registry.nextClientId();
            assertTrue(id > ClientRegistry.SLOTS, "above the in-process clients' ids: " + id);
            ids.add(id);
        }
        assertEquals(count, ids.size(), "all different");
        return ids;
    }

    @Test
    void membersAndStartsNeverShareAnId()
    {
        final Set<Long> all = new HashSet<>();
        int expected = 0;
        for (int member = 0; member < 5; member++)
        {
            for (final long startMs : new long[] {START_MS, START_MS + 1_000, START_MS + 3_600_000})
            {
                all.addAll(ids(member, startMs, 10_000));
                expected += 10_000;
            }
        }
        assertEquals(expected, all.size(), "no id given twice by 5 members started 3 times each");
    }

    @Test
    void theHighestMemberAndTheLatestStartStayPositive()
    {
        assertTrue(ids(7, (ClientRegistry.SLOTS + 1_577_836_800L + (1L << 30)) * 1000, 10).stream()
            .allMatch((id) -> id > 0));
        assertThrows(IllegalArgumentException.class, () -> ClientRegistry.sequenceBase(8, START_MS));
    }
}
