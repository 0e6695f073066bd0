package io.reprise.transport;

import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ResultCode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a connection remembers: the destinations its worker serves, and which result codes its client can read. */
class ConnectionTest
{
    @Test
    void shouldServeOnlyTheAnnouncedDestinations()
    {
        final Connection worker = connection(ClientRole.WORKER, 2);
        assertFalse(worker.serves(1), "nothing before the announcement");
        worker.announced(new int[] {1, 5});
        assertTrue(worker.announced);
        assertTrue(worker.serves(1));
        assertTrue(worker.serves(5));
        assertFalse(worker.serves(2));
        assertFalse(worker.serves(-1));
    }

    @Test
    void shouldGiveAClientOfAnOlderVersionACodeItCanDecode()
    {
        // Client schema version 1 has no ROLE_NOT_ALLOWED: its decoder would throw on it.
        final Connection old = connection(ClientRole.CONTROLLER, 1);
        assertEquals(ResultCode.INVALID_ARGUMENT, old.readable(ResultCode.ROLE_NOT_ALLOWED));
        assertEquals(ResultCode.STALE_ATTEMPT, old.readable(ResultCode.STALE_ATTEMPT));
        assertEquals(ResultCode.OK, old.readable(ResultCode.OK));

        final Connection current = connection(ClientRole.CONTROLLER, 2);
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, current.readable(ResultCode.ROLE_NOT_ALLOWED));
    }

    private static Connection connection(final ClientRole role, final int clientVersion)
    {
        return new Connection(4096 + 1, 1, role, null, null, null, 7, clientVersion);
    }
}
