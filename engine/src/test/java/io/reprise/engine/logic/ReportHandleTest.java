package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.MessageHeaderEncoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ReportOutcome.handle} is only a hint: a report is applied to the session its key names whatever handle it
 * carries, and a report written before the field existed (log schema version 0) is applied as before.
 */
class ReportHandleTest
{
    private static final int TENANT = 7;
    private static final int DESTINATION = 3;

    private final LogicDriver driver = new LogicDriver(LogicDriver.smallRules());
    private final SessionPolicy policy = new SessionPolicy().initialDelayMs(100).jitterPermille(0).leaseMs(5_000);

    @BeforeEach
    void twoSessionsInFlight()
    {
        driver.time(1_000);
        assertEquals(ResultCode.OK, driver.save(TENANT, 1, DESTINATION, policy, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.save(TENANT, 2, DESTINATION, policy, new byte[] {2}));
        driver.time(1_100);
        assertEquals(ResultCode.OK, driver.begin(DESTINATION, 2));
        assertNotEquals(handle(1), handle(2));
    }

    @Test
    void shouldApplyAReportCarryingItsDispatchHandle()
    {
        assertEquals(ResultCode.OK, driver.report(TENANT, 1, 1, handle(1), Outcome.SUCCEEDED));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 1));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 2));
    }

    @Test
    void shouldApplyAReportToTheSessionOfItsKeyWhenTheHandleNamesAnotherSession()
    {
        assertEquals(ResultCode.OK, driver.report(TENANT, 1, 1, handle(2), Outcome.SUCCEEDED));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 1));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 2));
    }

    @Test
    void shouldFindTheSessionByKeyWhateverTheHandleHolds()
    {
        for (final int handle : new int[] {OperatorEncoder.NO_HANDLE, Integer.MIN_VALUE, 5_000, Integer.MAX_VALUE})
        {
            assertEquals(ResultCode.STALE_ATTEMPT, driver.report(TENANT, 1, 2, handle, Outcome.SUCCEEDED));
        }
        assertEquals(ResultCode.UNKNOWN_SESSION, driver.report(TENANT, 99, 1, handle(1), Outcome.SUCCEEDED));
        assertEquals(ResultCode.UNKNOWN_SESSION, driver.report(TENANT + 1, 1, 1, handle(1), Outcome.SUCCEEDED));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 1));
        assertEquals(ResultCode.OK, driver.report(TENANT, 1, 1, 5_000, Outcome.SUCCEEDED));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 1));
    }

    @Test
    void shouldApplyAReportOfLogSchemaVersion0WithoutAHandle()
    {
        final int length = driver.encoder.reportOutcome(driver.buffer, 0, TENANT, 1, TENANT, 2, DESTINATION, 1,
            handle(1), Outcome.SUCCEEDED, 200, 0, LogicDriver.EMPTY, 0, 0);
        assertEquals(ResultCode.OK, driver.apply(asVersion0(length)));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 2));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 1));
    }

    @Test
    void shouldRefuseAVersion1ReportWithTheShorterBlockOfVersion0()
    {
        final int length = driver.encoder.reportOutcome(driver.buffer, 0, TENANT, 1, TENANT, 2, DESTINATION, 1,
            handle(2), Outcome.SUCCEEDED, 200, 0, LogicDriver.EMPTY, 0, 0);
        final int v1Length = asVersion0(length);
        driver.buffer.putShort(6, (short)1);
        assertEquals(ResultCode.MALFORMED_FRAME, driver.apply(v1Length));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 2));
    }

    private int handle(final long sessionId)
    {
        return driver.sink.handles.get(sessionId);
    }

    /**
     * Rewrites the encoded report in the driver's buffer as version 0 wrote it: no handle (and no destination, which
     * came later). Returns its length.
     */
    private int asVersion0(final int length)
    {
        final int v0End = MessageHeaderEncoder.ENCODED_LENGTH + ReportOutcomeEncoder.handleEncodingOffset();
        final int v1End = MessageHeaderEncoder.ENCODED_LENGTH + ReportOutcomeEncoder.BLOCK_LENGTH;
        driver.buffer.putBytes(v0End, driver.buffer, v1End, length - v1End);
        driver.buffer.putShort(0, (short)ReportOutcomeEncoder.handleEncodingOffset());
        driver.buffer.putShort(6, (short)0);
        return length - (v1End - v0End);
    }
}
