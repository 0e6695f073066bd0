package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

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
 * {@code ReportOutcome.destination} (log schema version 2): a report names the destination of the attempt's
 * dispatch, and the business logic takes it only when that is the session's destination, so a worker of one
 * destination cannot finish a session of another destination of its tenant. A report of version 0 or 1 names no
 * destination and is applied exactly as before.
 */
class ReportDestinationTest
{
    private static final int TENANT = 7;
    private static final int DESTINATION = 3;
    private static final int OTHER_DESTINATION = 4;

    private final LogicDriver driver = new LogicDriver(LogicDriver.smallRules());

    /** Tenant 7 owns destinations 3 and 4; 7:1 and 7:2 are in flight (attempt 1) on 3, 7:3 on 4. */
    @BeforeEach
    void sessionsInFlightOnTwoDestinations()
    {
        setUp(driver);
    }

    private static void setUp(final LogicDriver driver)
    {
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).backoffInitialMs(1_000).jitterPermille(0)
            .maxAttempts(3).leaseMs(5_000);
        assertEquals(ResultCode.OK, driver.time(1_000));
        assertEquals(ResultCode.OK, driver.save(TENANT, 1, DESTINATION, policy, new byte[] {1}));
        assertEquals(ResultCode.OK, driver.save(TENANT, 2, DESTINATION, policy, new byte[] {2}));
        assertEquals(ResultCode.OK, driver.save(TENANT, 3, OTHER_DESTINATION, policy, new byte[] {3}));
        assertEquals(ResultCode.OK, driver.begin(DESTINATION, 2));
        assertEquals(ResultCode.OK, driver.begin(OTHER_DESTINATION, 1));
        driver.sink.events.clear();
    }

    @Test
    void shouldApplyAReportNamingTheSessionsDestination()
    {
        assertEquals(ResultCode.OK, driver.reportAt(DESTINATION, TENANT, 1, 1, Outcome.SUCCEEDED));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 1));
        assertEquals(ResultCode.OK, driver.reportAt(OTHER_DESTINATION, TENANT, 3, 1, Outcome.SUCCEEDED));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 3));
    }

    @Test
    void shouldRefuseAReportNamingAnotherDestinationOfTheTenantAndChangeNothing()
    {
        final long digest = driver.logic.digest();
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, driver.reportAt(OTHER_DESTINATION, TENANT, 1, 1, Outcome.SUCCEEDED));
        assertEquals(ResultCode.ROLE_NOT_ALLOWED,
            driver.reportAt(DESTINATION, TENANT, 3, 1, Outcome.FAILED_PERMANENTLY));
        // a destination nobody owns, and a wrong attempt: the answer says nothing of the session's attempt
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, driver.reportAt(0, TENANT, 2, 5, Outcome.RETRY));
        assertEquals(digest, driver.logic.digest());
        assertEquals(List.of(
            "response client=7 corr=4 template=12 ROLE_NOT_ALLOWED value=0",
            "response client=7 corr=5 template=12 ROLE_NOT_ALLOWED value=0",
            "response client=7 corr=6 template=12 ROLE_NOT_ALLOWED value=0"), driver.sink.events);
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 1));

        // the worker of the session's destination still completes it
        assertEquals(ResultCode.OK, driver.reportAt(DESTINATION, TENANT, 1, 1, Outcome.SUCCEEDED));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(TENANT, 1));
    }

    @Test
    void shouldRefuseAReportNamingAnotherDestinationWhateverHandleItCarries()
    {
        final int handle = driver.sink.handles.get(1L);
        final long digest = driver.logic.digest();
        assertEquals(ResultCode.ROLE_NOT_ALLOWED, driver.apply(driver.encoder.reportOutcome(driver.buffer, 0, TENANT,
            1, TENANT, 1, OTHER_DESTINATION, 1, handle, Outcome.SUCCEEDED, 200, 0, LogicDriver.EMPTY, 0, 0)));
        assertEquals(digest, driver.logic.digest());
    }

    @Test
    void shouldRefuseAReportNamingNoDestinationThereIs()
    {
        final long digest = driver.logic.digest();
        for (final int destination : new int[] {-1, Integer.MIN_VALUE, driver.logic.rules().maxDestinations(),
            Integer.MAX_VALUE})
        {
            assertEquals(ResultCode.INVALID_ARGUMENT, driver.reportAt(destination, TENANT, 1, 1, Outcome.SUCCEEDED));
        }
        assertEquals(digest, driver.logic.digest());
    }

    @Test
    void shouldRefuseAVersion2ReportWithTheShorterBlockOfVersion1()
    {
        final int length = asVersion(1, driver.encoder.reportOutcome(driver.buffer, 0, TENANT, 1, TENANT, 1,
            DESTINATION, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 200, 0, LogicDriver.EMPTY, 0, 0));
        driver.buffer.putShort(6, (short)2);
        assertEquals(ResultCode.MALFORMED_FRAME, driver.apply(length));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(TENANT, 1));
    }

    /**
     * A log written before the field existed replays as it did then: its reports are taken from whoever sent them,
     * so each gets the result, the events and the state that a report naming the session's destination gets now.
     */
    @Test
    void shouldReplayReportsOfVersions0And1AsBefore()
    {
        for (final int version : new int[] {0, 1})
        {
            final LogicDriver old = new LogicDriver(LogicDriver.smallRules());
            final LogicDriver now = new LogicDriver(LogicDriver.smallRules());
            setUp(old);
            setUp(now);
            // {session, attempt, outcome}: retried, stale, succeeded, failed for good, of an unknown session
            final int[][] reports = {{1, 1, 2}, {1, 1, 1}, {2, 1, 1}, {3, 1, 3}, {3, 1, 1}, {9, 1, 1}};
            for (final int[] r : reports)
            {
                final Outcome outcome = Outcome.get((short)r[2]);
                // The old report is cut from one naming a wrong destination: what it no longer carries cannot count.
                final int oldLength = asVersion(old, version, old.encoder.reportOutcome(old.buffer, 0, TENANT, r[0],
                    TENANT, r[0], OTHER_DESTINATION + 1, r[1], OperatorEncoder.NO_HANDLE, outcome, 500, 0,
                    LogicDriver.EMPTY, 0, 0));
                final int nowLength = now.encoder.reportOutcome(now.buffer, 0, TENANT, r[0], TENANT, r[0],
                    now.destinationOf(TENANT, r[0]), r[1], OperatorEncoder.NO_HANDLE, outcome, 500, 0,
                    LogicDriver.EMPTY, 0, 0);
                assertEquals(now.apply(nowLength), old.apply(oldLength), "version " + version + " report " + r[0]);
            }
            assertEquals(now.sink.events, old.sink.events, "version " + version);
            assertEquals(now.logic.digest(), old.logic.digest(), "version " + version);
            assertEquals(SessionStatus.PENDING.value(), old.status(TENANT, 1));
            assertEquals(SessionStatus.COMPLETED.value(), old.status(TENANT, 2));
            assertEquals(SessionStatus.DEAD.value(), old.status(TENANT, 3));
        }
    }

    /**
     * Rewrites the version-2 report of {@code length} bytes at the start of the driver's buffer as {@code version}
     * wrote it: without {@code destination} (version 1), and without {@code handle} too (version 0).
     */
    private int asVersion(final int version, final int length)
    {
        return asVersion(driver, version, length);
    }

    private static int asVersion(final LogicDriver driver, final int version, final int length)
    {
        final int block = version == 0 ? ReportOutcomeEncoder.handleEncodingOffset() :
            ReportOutcomeEncoder.destinationEncodingOffset();
        final int oldEnd = MessageHeaderEncoder.ENCODED_LENGTH + block;
        final int newEnd = MessageHeaderEncoder.ENCODED_LENGTH + ReportOutcomeEncoder.BLOCK_LENGTH;
        driver.buffer.putBytes(oldEnd, driver.buffer, newEnd, length - newEnd);
        driver.buffer.putShort(0, (short)block);
        driver.buffer.putShort(6, (short)version);
        return length - (newEnd - oldEnd);
    }
}
