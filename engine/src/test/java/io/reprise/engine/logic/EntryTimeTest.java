package io.reprise.engine.logic;

import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Each entry's timestamp moves system time before the entry is applied (docs/state.md, system time): every delay a
 * policy states counts from when its operator was sequenced, not from the last {@code SetTime}.
 */
class EntryTimeTest
{
    private static final int TENANT = 1;
    private static final int DESTINATION = 2;
    private static final SessionPolicy POLICY = new SessionPolicy().initialDelayMs(0).leaseMs(10_000)
        .backoffInitialMs(400).backoffMaxMs(60_000).jitterPermille(0).maxAttempts(5);

    private LogicDriver driver;

    @BeforeEach
    void setUp()
    {
        driver = new LogicDriver(LogicDriver.smallRules());
        driver.entryTimeMs = 1_000;
    }

    private long timerAt(final long sessionId)
    {
        final SessionTable sessions = driver.logic.sessions();
        return sessions.timerAt(sessions.find(TENANT, sessionId));
    }

    @Test
    void shouldCountLeaseAndBackoffFromTheTimeTheirOperatorWasSequenced()
    {
        driver.entryTimeMs = 5_000;
        assertEquals(ResultCode.OK, driver.save(TENANT, 7, DESTINATION, POLICY, new byte[] {1}));
        driver.entryTimeMs = 5_250;
        assertEquals(ResultCode.OK, driver.begin(DESTINATION, 1));
        assertEquals(5_250 + 10_000, timerAt(7), "the lease counts from the BeginRepeats entry's time");

        driver.entryTimeMs = 6_123;
        assertEquals(ResultCode.OK, driver.report(TENANT, 7, 1, Outcome.RETRY));
        assertEquals(6_123, driver.logic.systemTimeMs());
        assertEquals(6_123 + 400, timerAt(7), "the backoff counts from the report entry's time");

        driver.entryTimeMs = 6_123 + 399;
        assertEquals(ResultCode.OK, driver.configure(TENANT, 9, 4));
        assertEquals(SessionStatus.PENDING.value(), driver.status(TENANT, 7), "not due a millisecond early");
        driver.entryTimeMs = 6_123 + 400;
        assertEquals(ResultCode.OK, driver.configure(TENANT, 9, 4), "any entry moves time, not only SetTime");
        assertEquals(SessionStatus.READY.value(), driver.status(TENANT, 7));
    }

    @Test
    void shouldHonourRetryAfterFromTheReportsTime()
    {
        assertEquals(ResultCode.OK, driver.save(TENANT, 8, DESTINATION, POLICY, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.begin(DESTINATION, 1));
        driver.entryTimeMs = 3_777;
        assertEquals(ResultCode.OK, driver.report(TENANT, 8, 1, Outcome.RETRY, 503, 1_500, LogicDriver.EMPTY, 0));
        assertEquals(3_777 + 1_500, timerAt(8));
    }

    @Test
    void shouldEndALeaseThatRanOutBeforeTheReportWasSequenced()
    {
        assertEquals(ResultCode.OK, driver.save(TENANT, 9, DESTINATION, POLICY, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.begin(DESTINATION, 1));
        driver.entryTimeMs = 1_000 + 10_000;
        assertEquals(ResultCode.STALE_ATTEMPT, driver.report(TENANT, 9, 1, Outcome.SUCCEEDED),
            "the lease's timer fires first, at the report's time");
        assertEquals(SessionStatus.PENDING.value(), driver.status(TENANT, 9));
        assertEquals(BusinessLogic.LEASE_EXPIRED_ERROR,
            driver.logic.sessions().lastErrorCode(driver.logic.sessions().find(TENANT, 9)));
    }

    @Test
    void shouldNeverMoveSystemTimeBack()
    {
        driver.entryTimeMs = 9_000;
        assertEquals(ResultCode.OK, driver.save(TENANT, 10, DESTINATION, POLICY, new byte[] {1}));
        driver.entryTimeMs = 8_000;
        assertEquals(ResultCode.OK, driver.save(TENANT, 11, DESTINATION, POLICY, new byte[] {1}));
        assertEquals(9_000, driver.logic.systemTimeMs());
        driver.entryTimeMs = 0;
        assertEquals(ResultCode.STALE_TIME, driver.time(8_500));
        assertEquals(9_000, driver.logic.systemTimeMs());
        driver.entryTimeMs = 9_700;
        assertEquals(ResultCode.OK, driver.time(9_500), "a SetTime whose own entry moved time further is not stale");
        assertEquals(9_700, driver.logic.systemTimeMs());
    }

    @Test
    void shouldTellTheEndedAttemptsCause()
    {
        assertEquals(ResultCode.OK, driver.save(TENANT, 1, DESTINATION, POLICY, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.save(TENANT, 2, DESTINATION, POLICY, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.save(TENANT, 3, DESTINATION, POLICY, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.begin(DESTINATION, 3));
        assertEquals(ResultCode.OK, driver.report(TENANT, 1, 1, Outcome.SUCCEEDED));
        assertEquals(ResultCode.OK, driver.cancel(TENANT, 2));
        driver.entryTimeMs = 1_000 + 10_000;
        assertEquals(ResultCode.OK, driver.configure(TENANT, 9, 4));
        assertEquals(java.util.List.of(OutputSink.ENDED_BY_REPORT, OutputSink.ENDED_BY_CANCEL,
            OutputSink.ENDED_BY_LEASE), driver.sink.endedBy);
    }
}
