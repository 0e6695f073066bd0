package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;

import io.reprise.engine.state.Destinations;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.MessageHeaderEncoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every error code the business logic produces, each from a named test that applies the bad operator to a state
 * holding sessions in every status and proves that nothing changed: same digest, same number of sessions, same
 * figures for every destination, and no event but the response.
 */
class ErrorCodesTest
{
    private static final int T1 = 1;
    private static final int T2 = 2;
    private static final int D1 = 0;
    private static final int D2 = 1;
    private static final int FREE_DESTINATION = 2;

    /** Codes only the transport produces: the business logic never returns them. */
    static final Set<ResultCode> TRANSPORT_CODES =
        EnumSet.of(ResultCode.BACK_PRESSURE, ResultCode.NOT_LEADER, ResultCode.AUTHENTICATION_FAILED,
            ResultCode.STORAGE_UNAVAILABLE, ResultCode.SHUTTING_DOWN, ResultCode.CLIENT_TOO_SLOW,
            ResultCode.CLIENT_SILENT);

    /** Which test proves which code; checked against the enum and the test methods below. */
    private static final Map<ResultCode, String> NAMED_TESTS = new EnumMap<>(ResultCode.class);

    static
    {
        NAMED_TESTS.put(ResultCode.MALFORMED_FRAME, "shouldRejectTruncatedFramesAndChangeNothing");
        NAMED_TESTS.put(ResultCode.UNKNOWN_TEMPLATE, "shouldRejectUnknownTemplateAndChangeNothing");
        NAMED_TESTS.put(ResultCode.UNSUPPORTED_SCHEMA, "shouldRejectAnotherSchemaAndChangeNothing");
        NAMED_TESTS.put(ResultCode.UNSUPPORTED_VERSION, "shouldRejectNewerSchemaVersionAndChangeNothing");
        NAMED_TESTS.put(ResultCode.INVALID_ARGUMENT, "shouldRejectInvalidArgumentsAndChangeNothing");
        NAMED_TESTS.put(ResultCode.INVALID_POLICY, "shouldRejectInvalidPolicyAndChangeNothing");
        NAMED_TESTS.put(ResultCode.PAYLOAD_TOO_LARGE, "shouldRejectOversizedPayloadAndChangeNothing");
        NAMED_TESTS.put(ResultCode.ERROR_TEXT_TOO_LARGE, "shouldRejectOversizedErrorTextAndChangeNothing");
        NAMED_TESTS.put(ResultCode.UNKNOWN_SESSION, "shouldRejectUnknownOrForeignSessionAndChangeNothing");
        NAMED_TESTS.put(ResultCode.DUPLICATE_SESSION, "shouldRejectDuplicateSaveWithItsStatusAndChangeNothing");
        NAMED_TESTS.put(ResultCode.STALE_ATTEMPT, "shouldRejectStaleAndDuplicateOutcomesAndChangeNothing");
        NAMED_TESTS.put(ResultCode.SESSION_FINISHED, "shouldRejectCancelOfFinishedSessionAndChangeNothing");
        NAMED_TESTS.put(ResultCode.NOT_DEAD, "shouldRejectRedriveOfSessionThatIsNotDeadAndChangeNothing");
        NAMED_TESTS.put(ResultCode.FOREIGN_DESTINATION, "shouldRejectForeignDestinationAndChangeNothing");
        NAMED_TESTS.put(ResultCode.CAPACITY_EXHAUSTED, "shouldRejectSaveBeyondCapacityAndChangeNothing");
        NAMED_TESTS.put(ResultCode.STALE_TIME, "shouldRejectTimeThatDoesNotAdvanceAndChangeNothing");
        NAMED_TESTS.put(ResultCode.STALE_TERM, "shouldRejectStaleLeaderTermAndChangeNothing");
        NAMED_TESTS.put(ResultCode.ROLE_NOT_ALLOWED, "shouldRejectReportNamingAnotherDestinationAndChangeNothing");
    }

    private final LogicDriver driver = new LogicDriver(new BusinessRules()
        .maxSessions(7)
        .maxDestinations(4)
        .maxPayloadBytes(32)
        .maxErrorTextBytes(8)
        .terminalRetentionMs(10_000)
        .deadRetentionMs(50_000)
        .defaultInFlightLimit(4)
        .maxInFlightLimit(16)
        .maxBeginRepeatsBatch(8)
        .maxRedriveBatch(8)
        .maxLeaseMs(60_000)
        .maxInitialDelayMs(100_000)
        .maxTtlMs(1_000_000)
        .conclude());
    private final SessionPolicy policy = new SessionPolicy()
        .backoffInitialMs(1_000).backoffMaxMs(8_000).backoffMultiplierPermille(2_000).jitterPermille(0)
        .maxAttempts(3).leaseMs(5_000);
    private final UnsafeBuffer text = new UnsafeBuffer(new byte[64]);

    /**
     * Tenant 1 on destination 0: 1:1 PENDING, 1:2 READY, 1:3 IN_FLIGHT (attempt 1), 1:4 COMPLETED, 1:5 DEAD,
     * 1:6 CANCELLED; tenant 2 on destination 1: 2:1 READY with a deadline. Seven sessions: capacity is full.
     */
    @BeforeEach
    void populate()
    {
        assertEquals(ResultCode.OK, driver.time(1_000_000));
        assertEquals(ResultCode.OK, driver.newTerm(3, 1));
        assertEquals(ResultCode.OK, driver.configure(T1, D1, 6));
        for (long id = 3; id <= 5; id++)
        {
            assertEquals(ResultCode.OK, driver.save(T1, id, D1, policy, new byte[] {(byte)id}));
            assertEquals(ResultCode.OK, driver.begin(D1, 1));
        }
        assertEquals(ResultCode.OK, driver.report(T1, 4, 1, Outcome.SUCCEEDED));
        assertEquals(ResultCode.OK, driver.report(T1, 5, 1, Outcome.FAILED_PERMANENTLY, 410, 0, LogicDriver.EMPTY, 0));
        assertEquals(ResultCode.OK, driver.save(T1, 6, D1, policy, new byte[0]));
        assertEquals(ResultCode.OK, driver.cancel(T1, 6));
        assertEquals(ResultCode.OK, driver.save(T1, 2, D1, policy, new byte[] {2, 2}));
        assertEquals(ResultCode.OK, driver.save(T1, 1, D1, copy(policy).initialDelayMs(5_000), new byte[0]));
        assertEquals(ResultCode.OK, driver.save(T2, 1, D2, copy(policy).ttlMs(60_000), new byte[] {9}));

        assertEquals(SessionStatus.PENDING.value(), driver.status(T1, 1));
        assertEquals(SessionStatus.READY.value(), driver.status(T1, 2));
        assertEquals(SessionStatus.IN_FLIGHT.value(), driver.status(T1, 3));
        assertEquals(SessionStatus.COMPLETED.value(), driver.status(T1, 4));
        assertEquals(SessionStatus.DEAD.value(), driver.status(T1, 5));
        assertEquals(SessionStatus.CANCELLED.value(), driver.status(T1, 6));
        assertEquals(SessionStatus.READY.value(), driver.status(T2, 1));
        assertEquals(7, driver.logic.sessions().size());
    }

    private static SessionPolicy copy(final SessionPolicy p)
    {
        return new SessionPolicy().dueAtMs(p.dueAtMs()).initialDelayMs(p.initialDelayMs())
            .backoffInitialMs(p.backoffInitialMs()).backoffMaxMs(p.backoffMaxMs())
            .backoffMultiplierPermille(p.backoffMultiplierPermille()).jitterPermille(p.jitterPermille())
            .maxAttempts(p.maxAttempts()).leaseMs(p.leaseMs()).ttlMs(p.ttlMs());
    }

    // ------------------------------------------------------------------------------------------ the codes

    @Test
    void shouldRejectTruncatedFramesAndChangeNothing()
    {
        final int save = driver.encoder.saveSession(driver.buffer, 0, 1, 1, T1, 99, D1, policy, text, 0, 4);
        for (final int length : new int[] {0, 1, MessageHeaderEncoder.ENCODED_LENGTH - 1,
            MessageHeaderEncoder.ENCODED_LENGTH, MessageHeaderEncoder.ENCODED_LENGTH + 10, save - 5, save - 1})
        {
            driver.encoder.saveSession(driver.buffer, 0, 1, 1, T1, 99, D1, policy, text, 0, 4);
            assertRejectedSilently(ResultCode.MALFORMED_FRAME, () -> length);
        }
        // a fixed-size operator with bytes after its block, and a payload length that disagrees with the frame
        assertRejectedSilently(ResultCode.MALFORMED_FRAME, () -> driver.encoder.setTime(driver.buffer, 0, 2_000_000) + 1);
        assertRejectedSilently(ResultCode.MALFORMED_FRAME, () ->
        {
            final int length = driver.encoder.saveSession(driver.buffer, 0, 1, 1, T1, 99, D1, policy, text, 0, 4);
            driver.buffer.putInt(length - 8, 5);
            return length;
        });
        // a block length below the schema's
        assertRejectedSilently(ResultCode.MALFORMED_FRAME, () ->
        {
            final int length = driver.encoder.cancelSession(driver.buffer, 0, 1, 1, T1, 2);
            driver.buffer.putShort(0, (short)27);
            return length;
        });
    }

    @Test
    void shouldRejectUnknownTemplateAndChangeNothing()
    {
        for (final int template : new int[] {0, 1, 15, 23, 0xFFFF})
        {
            assertRejectedSilently(ResultCode.UNKNOWN_TEMPLATE, () ->
            {
                final int length = driver.encoder.cancelSession(driver.buffer, 0, 1, 1, T1, 2);
                driver.buffer.putShort(2, (short)template);
                return length;
            });
        }
    }

    @Test
    void shouldRejectAnotherSchemaAndChangeNothing()
    {
        for (final int schema : new int[] {0, 2, 0xFFFF})
        {
            assertRejectedSilently(ResultCode.UNSUPPORTED_SCHEMA, () ->
            {
                final int length = driver.encoder.cancelSession(driver.buffer, 0, 1, 1, T1, 2);
                driver.buffer.putShort(4, (short)schema);
                return length;
            });
        }
    }

    @Test
    void shouldRejectNewerSchemaVersionAndChangeNothing()
    {
        assertRejectedSilently(ResultCode.UNSUPPORTED_VERSION, () ->
        {
            final int length = driver.encoder.cancelSession(driver.buffer, 0, 1, 1, T1, 2);
            driver.buffer.putShort(6, (short)(MessageHeaderEncoder.SCHEMA_VERSION + 1));
            return length;
        });
    }

    @Test
    void shouldRejectInvalidArgumentsAndChangeNothing()
    {
        final ResultCode code = ResultCode.INVALID_ARGUMENT;
        assertRejected(code, () -> encodeSave(0, 50, D1, policy, 0));
        assertRejected(code, () -> encodeSave(T1, 50, -1, policy, 0));
        assertRejected(code, () -> encodeSave(T1, 50, 4, policy, 0));
        assertRejected(code, () -> driver.encoder.cancelSession(driver.buffer, 0, 1, 1, -1, 2));
        assertRejected(code, () -> encodeReport(0, 3, 1, Outcome.SUCCEEDED, 0, 0, 0));
        assertRejected(code, () -> encodeReport(T1, 3, 0, Outcome.SUCCEEDED, 0, 0, 0));
        assertRejected(code, () -> encodeReport(T1, 3, 1, Outcome.NULL_VAL, 0, 0, 0));
        assertRejected(code, () -> encodeReport(T1, 3, 1, Outcome.RETRY, -1, 0, 0));
        assertRejected(code, () -> encodeReport(T1, 3, 1, Outcome.RETRY, 0, -1, 0));
        assertRejected(code, () -> encodeReport(T1, 3, 1, Outcome.SUCCEEDED, 0, 100, 0));
        assertRejected(code, () -> encodeReport(T1, 3, 1, Outcome.FAILED_PERMANENTLY, 0, 100, 0));
        assertRejected(code, () -> encodeReportAt(-1, T1, 3, 1, Outcome.SUCCEEDED));
        assertRejected(code, () -> encodeReportAt(4, T1, 3, 1, Outcome.SUCCEEDED));
        assertRejected(code, () -> driver.encoder.redriveSession(driver.buffer, 0, 1, 1, 0, 5));
        assertRejected(code, () -> driver.encoder.redriveDestination(driver.buffer, 0, 1, 1, T1, 4, 1));
        assertRejected(code, () -> driver.encoder.redriveDestination(driver.buffer, 0, 1, 1, T1, D1, 0));
        assertRejected(code, () -> driver.encoder.redriveDestination(driver.buffer, 0, 1, 1, T1, D1, 9));
        assertRejected(code, () -> driver.encoder.configureDestination(driver.buffer, 0, 1, 1, 0, D1, 1));
        assertRejected(code, () -> driver.encoder.configureDestination(driver.buffer, 0, 1, 1, T1, -1, 1));
        assertRejected(code, () -> driver.encoder.configureDestination(driver.buffer, 0, 1, 1, T1, D1, 0));
        assertRejected(code, () -> driver.encoder.configureDestination(driver.buffer, 0, 1, 1, T1, D1, 17));
        assertRejectedSilently(code, () -> driver.encoder.beginRepeats(driver.buffer, 0, 4, 1));
        assertRejectedSilently(code, () -> driver.encoder.beginRepeats(driver.buffer, 0, D1, 0));
        assertRejectedSilently(code, () -> driver.encoder.beginRepeats(driver.buffer, 0, D1, 9));
        assertRejectedSilently(code, () -> driver.encoder.setTime(driver.buffer, 0,
            BusinessRules.Configuration.MAX_SYSTEM_TIME_MS + 1));
        assertRejectedSilently(code, () -> driver.encoder.newLeaderTerm(driver.buffer, 0, 4, -1));
    }

    /** Regression: an outcome byte the schema does not define threw out of the business logic. */
    @Test
    void shouldRejectUnknownOutcomeValueAndChangeNothing()
    {
        for (final int raw : new int[] {0, 4, 100, 254})
        {
            assertRejected(ResultCode.INVALID_ARGUMENT, () ->
            {
                final int length = encodeReport(T1, 3, 1, Outcome.SUCCEEDED, 0, 0, 0);
                driver.buffer.putByte(MessageHeaderEncoder.ENCODED_LENGTH + 44, (byte)raw);
                return length;
            });
        }
    }

    /** Regression: a redrive scope byte the schema does not define threw out of the business logic. */
    @Test
    void shouldRejectUnknownRedriveScopeAndChangeNothing()
    {
        for (final int raw : new int[] {0, 3, 200, 255})
        {
            assertRejected(ResultCode.INVALID_ARGUMENT, () ->
            {
                final int length = driver.encoder.redriveSession(driver.buffer, 0, 1, 1, T1, 5);
                driver.buffer.putByte(MessageHeaderEncoder.ENCODED_LENGTH + 36, (byte)raw);
                return length;
            });
        }
    }

    @Test
    void shouldRejectInvalidPolicyAndChangeNothing()
    {
        final List<SessionPolicy> invalid = new ArrayList<>();
        invalid.add(copy(policy).maxAttempts(0));
        invalid.add(copy(policy).maxAttempts(0x10000));
        invalid.add(copy(policy).backoffInitialMs(-1));
        invalid.add(copy(policy).backoffInitialMs(9_000));
        invalid.add(copy(policy).backoffMaxMs(Integer.MAX_VALUE + 1L));
        invalid.add(copy(policy).backoffMultiplierPermille(999));
        invalid.add(copy(policy).backoffMultiplierPermille(0x10000));
        invalid.add(copy(policy).jitterPermille(-1));
        invalid.add(copy(policy).jitterPermille(1001));
        invalid.add(copy(policy).leaseMs(0));
        invalid.add(copy(policy).leaseMs(60_001));
        invalid.add(copy(policy).initialDelayMs(-1));
        invalid.add(copy(policy).initialDelayMs(100_001));
        invalid.add(copy(policy).dueAtMs(-1));
        invalid.add(copy(policy).dueAtMs(BusinessRules.Configuration.MAX_SYSTEM_TIME_MS + 1));
        invalid.add(copy(policy).dueAtMs(2_000_000).initialDelayMs(1));
        invalid.add(copy(policy).ttlMs(-1));
        invalid.add(copy(policy).ttlMs(1_000_001));
        // first due at or after the deadline
        invalid.add(copy(policy).initialDelayMs(1_000).ttlMs(1_000));
        invalid.add(copy(policy).dueAtMs(1_000_000 + 500).ttlMs(400));
        for (final SessionPolicy p : invalid)
        {
            // a new key on the tenant's own destination: only the policy is wrong
            assertRejected(ResultCode.INVALID_POLICY, () -> encodeSave(T1, 50, D1, p, 0));
        }
    }

    @Test
    void shouldRejectOversizedPayloadAndChangeNothing()
    {
        assertRejected(ResultCode.PAYLOAD_TOO_LARGE, () -> encodeSave(T1, 50, D1, policy, 33));
        // checked before the policy and before the duplicate
        assertRejected(ResultCode.PAYLOAD_TOO_LARGE, () -> encodeSave(T1, 2, D1, copy(policy).maxAttempts(0), 64));
    }

    @Test
    void shouldRejectOversizedErrorTextAndChangeNothing()
    {
        assertRejected(ResultCode.ERROR_TEXT_TOO_LARGE, () -> encodeReport(T1, 3, 1, Outcome.RETRY, 500, 0, 9));
        // checked before the session is looked up
        assertRejected(ResultCode.ERROR_TEXT_TOO_LARGE, () -> encodeReport(T1, 77, 1, Outcome.RETRY, 500, 0, 64));
    }

    @Test
    void shouldRejectUnknownOrForeignSessionAndChangeNothing()
    {
        final ResultCode code = ResultCode.UNKNOWN_SESSION;
        assertRejected(code, () -> driver.encoder.cancelSession(driver.buffer, 0, 1, 1, T1, 77));
        // tenant 2 has no session 3: tenant 1's is invisible to it
        assertRejected(code, () -> driver.encoder.cancelSession(driver.buffer, 0, 2, 1, T2, 3));
        assertRejected(code, () -> encodeReport(T2, 3, 1, Outcome.SUCCEEDED, 0, 0, 0));
        assertRejected(code, () -> encodeReport(T1, 77, 1, Outcome.SUCCEEDED, 0, 0, 0));
        assertRejected(code, () -> driver.encoder.redriveSession(driver.buffer, 0, 1, 1, T2, 5));
    }

    @Test
    void shouldRejectDuplicateSaveWithItsStatusAndChangeNothing()
    {
        for (long id = 1; id <= 6; id++)
        {
            final long sessionId = id;
            assertRejected(ResultCode.DUPLICATE_SESSION, () -> encodeSave(T1, sessionId, D1, policy, 1));
            assertEquals(driver.status(T1, sessionId), responseValue());
        }
        // the duplicate is recognised before the destination's owner is checked
        assertRejected(ResultCode.DUPLICATE_SESSION, () -> encodeSave(T2, 1, D1, policy, 1));
    }

    @Test
    void shouldRejectStaleAndDuplicateOutcomesAndChangeNothing()
    {
        final ResultCode code = ResultCode.STALE_ATTEMPT;
        assertRejected(code, () -> encodeReport(T1, 3, 2, Outcome.SUCCEEDED, 0, 0, 0));
        assertEquals(1, responseValue());
        for (long id : new long[] {1, 2, 4, 5, 6})
        {
            assertRejected(code, () -> encodeReport(T1, id, 1, Outcome.RETRY, 0, 0, 0));
        }
        // a report repeated after it was applied moves nothing a second time
        assertEquals(ResultCode.OK, driver.report(T1, 3, 1, Outcome.RETRY));
        assertRejected(code, () -> encodeReport(T1, 3, 1, Outcome.RETRY, 0, 0, 0));
        assertEquals(1, responseValue());
    }

    @Test
    void shouldRejectReportNamingAnotherDestinationAndChangeNothing()
    {
        final ResultCode code = ResultCode.ROLE_NOT_ALLOWED;
        // 1:3 is in flight on D1: a worker of another destination of the tenant may not report it
        assertRejected(code, () -> encodeReportAt(D2, T1, 3, 1, Outcome.SUCCEEDED));
        assertRejected(code, () -> encodeReportAt(FREE_DESTINATION, T1, 3, 1, Outcome.FAILED_PERMANENTLY));
        // checked before the attempt, so the answer tells nothing of the session's attempt
        assertRejected(code, () -> encodeReportAt(D2, T1, 3, 2, Outcome.SUCCEEDED));
        assertEquals(0, responseValue());
        for (final long id : new long[] {1, 2, 4, 5, 6})
        {
            assertRejected(code, () -> encodeReportAt(FREE_DESTINATION, T1, id, 1, Outcome.RETRY));
            assertEquals(0, responseValue());
        }
        // the session's own destination: the report is taken
        assertEquals(ResultCode.OK, driver.reportAt(D1, T1, 3, 1, Outcome.SUCCEEDED));
    }

    @Test
    void shouldRejectCancelOfFinishedSessionAndChangeNothing()
    {
        for (long id = 4; id <= 6; id++)
        {
            final long sessionId = id;
            assertRejected(ResultCode.SESSION_FINISHED, () ->
                driver.encoder.cancelSession(driver.buffer, 0, 1, 1, T1, sessionId));
            assertEquals(driver.status(T1, sessionId), responseValue());
        }
    }

    @Test
    void shouldRejectRedriveOfSessionThatIsNotDeadAndChangeNothing()
    {
        for (final long id : new long[] {1, 2, 3, 4, 6})
        {
            assertRejected(ResultCode.NOT_DEAD, () -> driver.encoder.redriveSession(driver.buffer, 0, 1, 1, T1, id));
            assertEquals(driver.status(T1, id), responseValue());
        }
    }

    @Test
    void shouldRejectForeignDestinationAndChangeNothing()
    {
        final ResultCode code = ResultCode.FOREIGN_DESTINATION;
        assertRejected(code, () -> encodeSave(T2, 50, D1, policy, 0));
        assertRejected(code, () -> encodeSave(T1, 50, D2, policy, 0));
        assertRejected(code, () -> driver.encoder.configureDestination(driver.buffer, 0, 2, 1, T2, D1, 3));
        assertRejected(code, () -> driver.encoder.redriveDestination(driver.buffer, 0, 2, 1, T2, D1, 1));
    }

    @Test
    void shouldRejectSaveBeyondCapacityAndChangeNothing()
    {
        assertRejected(ResultCode.CAPACITY_EXHAUSTED, () -> encodeSave(T1, 50, D1, policy, 0));
        // a free destination is not claimed by a save that failed
        assertRejected(ResultCode.CAPACITY_EXHAUSTED, () -> encodeSave(3, 50, FREE_DESTINATION, policy, 0));
        assertEquals(Destinations.NO_OWNER, driver.logic.destinations().owner(FREE_DESTINATION));
    }

    @Test
    void shouldRejectTimeThatDoesNotAdvanceAndChangeNothing()
    {
        assertRejectedSilently(ResultCode.STALE_TIME, () -> driver.encoder.setTime(driver.buffer, 0, 1_000_000));
        assertRejectedSilently(ResultCode.STALE_TIME, () -> driver.encoder.setTime(driver.buffer, 0, 999_999));
        assertRejectedSilently(ResultCode.STALE_TIME, () -> driver.encoder.setTime(driver.buffer, 0, -1));
    }

    @Test
    void shouldRejectStaleLeaderTermAndChangeNothing()
    {
        assertRejectedSilently(ResultCode.STALE_TERM, () -> driver.encoder.newLeaderTerm(driver.buffer, 0, 3, 2));
        // A NewLeaderTerm must announce the term of its own entry.
        assertRejectedSilently(ResultCode.INVALID_ARGUMENT,
            () -> driver.encoder.newLeaderTerm(driver.buffer, 0, 0, 2));
    }

    @Test
    void shouldNameATestForEveryResultCodeOfTheBusinessLogic() throws NoSuchMethodException
    {
        for (final ResultCode code : ResultCode.values())
        {
            if (code == ResultCode.OK || code == ResultCode.NULL_VAL ||
                TRANSPORT_CODES.contains(code))
            {
                continue;
            }
            final String name = NAMED_TESTS.get(code);
            assertNotNull(name, "no named test for " + code);
            final Method method = ErrorCodesTest.class.getDeclaredMethod(name);
            assertNotNull(method.getAnnotation(Test.class), name + " is not a test");
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private int encodeSave(final int tenant, final long sessionId, final int destination, final SessionPolicy p,
        final int payloadLength)
    {
        return driver.encoder.saveSession(driver.buffer, 0, tenant, 1, tenant, sessionId, destination, p,
            text, 0, payloadLength);
    }

    /** A report naming the session's destination, as its worker sends it. */
    private int encodeReport(final int tenant, final long sessionId, final int attempt, final Outcome outcome,
        final int errorCode, final long retryAfterMs, final int textLength)
    {
        return driver.encoder.reportOutcome(driver.buffer, 0, tenant, 1, tenant, sessionId,
            driver.destinationOf(tenant, sessionId), attempt, OperatorEncoder.NO_HANDLE, outcome, errorCode,
            retryAfterMs, text, 0, textLength);
    }

    private int encodeReportAt(final int destination, final int tenant, final long sessionId, final int attempt,
        final Outcome outcome)
    {
        return driver.encoder.reportOutcome(driver.buffer, 0, tenant, 1, tenant, sessionId, destination, attempt,
            OperatorEncoder.NO_HANDLE, outcome, 0, 0, text, 0, 0);
    }

    private long responseValue()
    {
        final String last = driver.sink.last();
        return Long.parseLong(last.substring(last.indexOf("value=") + 6));
    }

    /** A client operator: rejected with one response carrying the code, and nothing else changes. */
    private void assertRejected(final ResultCode expected, final IntSupplier encode)
    {
        final int events = driver.sink.events.size();
        assertUnchanged(expected, encode);
        assertEquals(events + 1, driver.sink.events.size(), "one response and no other event");
        assertTrue(driver.sink.last().startsWith("response ") && driver.sink.last().contains(" " + expected + " "),
            driver.sink.last());
    }

    /** A frame that cannot be decoded, or an operator with no client: rejected without any event. */
    private void assertRejectedSilently(final ResultCode expected, final IntSupplier encode)
    {
        final int events = driver.sink.events.size();
        assertUnchanged(expected, encode);
        assertEquals(events, driver.sink.events.size(), "no event: " + driver.sink.last());
    }

    private void assertUnchanged(final ResultCode expected, final IntSupplier encode)
    {
        final String before = figures();
        final long digest = driver.logic.digest();
        final int size = driver.logic.sessions().size();
        final long index = driver.logic.appliedIndex();
        assertEquals(expected, driver.apply(encode.getAsInt()));
        assertEquals(digest, driver.logic.digest(), "digest changed by a rejected operator");
        assertEquals(size, driver.logic.sessions().size());
        assertEquals(before, figures());
        assertEquals(index + 1, driver.logic.appliedIndex(), "a rejected entry is still applied in log order");
    }

    private String figures()
    {
        final Destinations d = driver.logic.destinations();
        final StringBuilder out = new StringBuilder("time=").append(driver.logic.systemTimeMs())
            .append(" term=").append(driver.logic.leaderTerm()).append(" timers=").append(driver.logic.timers().size());
        for (int i = 0; i < d.count(); i++)
        {
            out.append(" [").append(i).append(" owner=").append(d.owner(i)).append(" limit=")
                .append(d.inFlightLimit(i)).append(" pending=").append(d.pending(i)).append(" ready=")
                .append(d.ready(i)).append(" inFlight=").append(d.inFlight(i)).append(" dead=").append(d.dead(i))
                .append(" retained=").append(d.retained(i)).append(']');
        }
        return out.toString();
    }
}
