package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.junit.jupiter.api.Test;

class BusinessLogicTest
{
    private final LogicDriver driver = new LogicDriver(LogicDriver.smallRules());
    private final SessionPolicy policy = new SessionPolicy()
        .initialDelayMs(100).backoffInitialMs(1_000).backoffMaxMs(8_000).backoffMultiplierPermille(2_000)
        .jitterPermille(0).maxAttempts(3).leaseMs(500);

    @Test
    void shouldRepeatUntilSuccess()
    {
        assertEquals(ResultCode.OK, driver.time(1_000));
        assertEquals(ResultCode.OK, driver.save(7, 42, 3, policy, new byte[] {1, 2, 3}));
        assertEquals(SessionStatus.PENDING.value(), driver.status(7, 42));

        assertEquals(ResultCode.OK, driver.time(1_099));
        assertEquals(SessionStatus.PENDING.value(), driver.status(7, 42));
        assertEquals(ResultCode.OK, driver.time(1_100));
        assertEquals(SessionStatus.READY.value(), driver.status(7, 42));

        assertEquals(ResultCode.OK, driver.begin(3, 10));
        assertEquals("started 7:42 dest=3 attempt=1 lease=1600", driver.sink.last());
        assertEquals(ResultCode.OK, driver.report(7, 42, 1, Outcome.RETRY));
        assertEquals(SessionStatus.PENDING.value(), driver.status(7, 42));
        assertEquals(1_100 + 1_000, driver.logic.sessions().timerAt(driver.logic.sessions().find(7, 42)));

        assertEquals(ResultCode.OK, driver.time(2_100));
        assertEquals(ResultCode.OK, driver.begin(3, 10));
        assertEquals(ResultCode.STALE_ATTEMPT, driver.report(7, 42, 1, Outcome.SUCCEEDED));
        assertEquals(ResultCode.OK, driver.report(7, 42, 2, Outcome.SUCCEEDED));
        assertEquals("finished 7:42 dest=3 COMPLETED attempt=2 error=0", driver.sink.events.get(
            driver.sink.events.size() - 2));
        assertEquals(ResultCode.DUPLICATE_SESSION, driver.save(7, 42, 3, policy, new byte[0]));

        assertEquals(ResultCode.OK, driver.time(2_100 + 10_000));
        assertEquals(0, driver.status(7, 42));
        assertTrue(driver.sink.events.contains("purged 7:42"));
        assertEquals(ResultCode.OK, driver.save(7, 42, 3, policy, new byte[0]));
    }

    @Test
    void shouldExpireLeaseAndDieAfterMaxAttempts()
    {
        driver.time(1);
        driver.save(1, 1, 0, policy, new byte[0]);
        driver.time(101);
        driver.begin(0, 1);
        driver.time(601);
        assertEquals(SessionStatus.PENDING.value(), driver.status(1, 1));
        driver.time(1_601);
        driver.begin(0, 1);
        driver.time(2_101);
        driver.time(4_101);
        driver.begin(0, 1);
        assertEquals(ResultCode.OK, driver.time(4_601));
        assertEquals(SessionStatus.DEAD.value(), driver.status(1, 1));
        assertEquals(1, driver.logic.destinations().dead(0));
        assertEquals(ResultCode.OK, driver.redriveDestination(1, 0, 10));
        assertEquals(SessionStatus.READY.value(), driver.status(1, 1));
        final int record = driver.logic.sessions().find(1, 1);
        // A fresh life of three attempts; the attempt number goes on, so a late report of attempt 3 is stale.
        assertEquals(3, driver.logic.sessions().attempt(record));
        assertEquals(3, driver.logic.sessions().lifeStartAttempt(record));
        driver.begin(0, 1);
        assertEquals(ResultCode.STALE_ATTEMPT, driver.report(1, 1, 3, Outcome.SUCCEEDED));
        assertEquals(ResultCode.OK, driver.report(1, 1, 4, Outcome.RETRY));
        assertEquals(SessionStatus.PENDING.value(), driver.status(1, 1), "attempt 4 is the first of the new life");
    }
}
