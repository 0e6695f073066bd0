package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@link BusinessLogic#prefetch} returns the index entry of the session an operator addresses, as the session
 * table's own look-up gives it ({@link SessionTable#homeEntry}; for a report that carries its dispatch's handle,
 * {@link SessionTable#handleEntry}), 0 for an operator that addresses no session or is cut short, and changes
 * nothing, whatever it is given.
 */
class PrefetchTest
{
    private static final int SESSIONS = 50;

    private final LogicDriver driver = new LogicDriver(LogicDriver.smallRules());
    private final SessionPolicy policy = new SessionPolicy().initialDelayMs(10).jitterPermille(0).leaseMs(100);
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
    private final UnsafeBuffer empty = new UnsafeBuffer(new byte[0]);

    private void saveAll()
    {
        driver.time(1_000);
        for (int i = 0; i < SESSIONS; i++)
        {
            assertEquals(ResultCode.OK, driver.save(1 + i % 3, i, i % 3, policy, new byte[] {(byte)i}));
        }
        driver.time(1_010);
        driver.begin(0, 5);
    }

    @Test
    void shouldReturnTheHomeEntryOfTheAddressedSession()
    {
        saveAll();
        final SessionTable sessions = driver.logic.sessions();
        int found = 0;
        for (int i = 0; i < SESSIONS + 10; i++) // and ten sessions never saved
        {
            final int tenant = 1 + i % 3;
            final int expected = sessions.homeEntry(tenant, i);
            found += expected != 0 ? 1 : 0;
            final String where = "tenant " + tenant + " session " + i;
            assertEquals(expected, prefetch(encoder.saveSession(buffer, 0, 1, 1, tenant, i, 0, policy, empty, 0, 0)),
                "SaveSession of " + where);
            assertEquals(expected, prefetch(encoder.cancelSession(buffer, 0, 1, 1, tenant, i)), "CancelSession of " + where);
            assertEquals(expected, prefetch(encoder.reportOutcome(buffer, 0, 1, 1, tenant, i, i % 3, 1,
                OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 200, 0, empty, 0, 0)), "ReportOutcome of " + where);
            if (i < SESSIONS)
            {
                assertTrue(sessions.find(tenant, i) >= 0, where);
            }
        }
        // Most saved sessions sit in their home slot, so a prefetch that returned 0 could not pass.
        assertTrue(found >= SESSIONS / 2, found + " of " + SESSIONS + " sessions in their home slot");
    }

    @Test
    void shouldReturnTheEntryOfTheRecordAReportsHandleNames()
    {
        saveAll();
        final SessionTable sessions = driver.logic.sessions();
        int checked = 0;
        for (int i = 0; i < SESSIONS; i++)
        {
            final int tenant = 1 + i % 3;
            final int record = sessions.find(tenant, i);
            final int expected = sessions.handleEntry(record);
            assertTrue(expected != 0, "a live record's handle names it: " + record);
            assertEquals(expected, prefetch(encoder.reportOutcome(buffer, 0, 1, 1, tenant, i, i % 3, 1, record,
                Outcome.SUCCEEDED, 200, 0, empty, 0, 0)), "report with handle " + record);
            checked++;
        }
        assertEquals(SESSIONS, checked);
        // A handle past every record names none.
        assertEquals(0, prefetch(encoder.reportOutcome(buffer, 0, 1, 1, 1, 0, 0, 1, 1 << 20, Outcome.SUCCEEDED, 200,
            0, empty, 0, 0)));
    }

    @Test
    void shouldReturnZeroForOperatorsThatAddressNoSessionOrAreCutShort()
    {
        saveAll();
        assertEquals(0, prefetch(encoder.setTime(buffer, 0, 5_000)));
        assertEquals(0, prefetch(encoder.beginRepeats(buffer, 0, 1, 10)));
        final int tenant = 2;
        final long sessionId = 1;
        final int expected = driver.logic.sessions().homeEntry(tenant, sessionId);
        assertTrue(expected != 0, "session 2:1 is in its home slot");
        final int length = encoder.cancelSession(buffer, 0, 1, 1, tenant, sessionId);
        for (int cut = 0; cut < length; cut++)
        {
            assertEquals(0, driver.logic.prefetch(buffer, 0, cut), "CancelSession cut to " + cut + " of " + length);
        }
        assertEquals(expected, driver.logic.prefetch(buffer, 0, length + 8), "a longer frame is read as far as needed");
    }

    @Test
    void shouldChangeNothing()
    {
        saveAll();
        final long digest = driver.logic.digest();
        final long index = driver.logic.appliedIndex();

        for (int kind = 0; kind < 6; kind++)
        {
            final int length = switch (kind)
            {
                case 0 -> encoder.saveSession(buffer, 0, 1, 1, 1, 7, 0, policy, empty, 0, 0);
                case 1 -> encoder.saveSession(buffer, 0, 2, 1, 2, 999, 1, policy, empty, 0, 0);
                case 2 -> encoder.reportOutcome(buffer, 0, 1, 1, 1, 0, 0, 1, OperatorEncoder.NO_HANDLE,
                    Outcome.SUCCEEDED, 0, 0, empty, 0, 0);
                case 3 -> encoder.cancelSession(buffer, 0, 3, 1, 3, 5);
                case 4 -> encoder.setTime(buffer, 0, 5_000);
                default -> encoder.beginRepeats(buffer, 0, 1, 10);
            };
            for (int cut = 0; cut <= length + 8; cut++)
            {
                driver.logic.prefetch(buffer, 0, cut);
            }
        }

        assertEquals(digest, driver.logic.digest());
        assertEquals(index, driver.logic.appliedIndex());
    }

    private int prefetch(final int length)
    {
        return driver.logic.prefetch(buffer, 0, length);
    }
}
