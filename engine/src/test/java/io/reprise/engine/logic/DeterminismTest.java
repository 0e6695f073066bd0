package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Replicas that apply the same log reach the same digest; and the digest sees every difference that matters:
 * any single field of any session, the order of a ready queue, time, term and destination figures.
 */
class DeterminismTest
{
    private static final int OPERATORS = 200_000;
    static final String SEED_PROP_NAME = "reprise.determinism.seed";

    /** The seed of a random run: {@code -Dreprise.determinism.seed=N} replays one. */
    private static long seed(final String test)
    {
        final long seed = Long.getLong(SEED_PROP_NAME, new SplittableRandom().nextLong());
        System.out.println("DeterminismTest." + test + " seed " + seed + " (reproduce with -D" + SEED_PROP_NAME + "=" +
            seed + ")");
        return seed;
    }

    // ------------------------------------------------------------------------------------------ same log, same digest

    @Test
    void shouldReachEqualDigestsFromTheSameLog()
    {
        final long seed = seed("shouldReachEqualDigestsFromTheSameLog");
        final List<byte[]> log = randomLog(seed, OPERATORS);

        final RecordingSink sinkA = new RecordingSink();
        final RecordingSink sinkB = new RecordingSink();
        final BusinessLogic a = new BusinessLogic(ReferenceModelTest.modelRules(), sinkA);
        final BusinessLogic b = new BusinessLogic(ReferenceModelTest.modelRules(), sinkB);
        final UnsafeBuffer bufferA = new UnsafeBuffer(new byte[4096]);
        final UnsafeBuffer bufferB = new UnsafeBuffer(new byte[8192]);
        final Set<Long> digests = new HashSet<>();
        final Map<ResultCode, Integer> results = new EnumMap<>(ResultCode.class);
        long term = 1;
        for (int i = 0; i < log.size(); i++)
        {
            final byte[] frame = log.get(i);
            bufferA.putBytes(0, frame);
            bufferB.putBytes(100, frame);
            term = ReferenceModel.entryTerm(frame, term);
            final ResultCode resultA = a.apply(i + 1, term, bufferA, 0, frame.length);
            final ResultCode resultB = b.apply(i + 1, term, bufferB, 100, frame.length);
            assertEquals(resultA, resultB, "seed " + seed + " operator " + i);
            results.merge(resultA, 1, Integer::sum);
            if (i % 1_000 == 0 || i == log.size() - 1)
            {
                assertEquals(a.digest(), b.digest(), "seed " + seed + " operator " + i);
                assertEquals(sinkA.events, sinkB.events, "seed " + seed + " operator " + i);
                digests.add(a.digest());
                sinkA.events.clear();
                sinkB.events.clear();
            }
        }
        // the digest follows the state: the run passed through many different states
        assertTrue(digests.size() > OPERATORS / 2_000, "seed " + seed + ": " + digests.size() + " digests");
        // the log held refusals of every kind, reports from another destination's worker among them
        for (final ResultCode code : new ResultCode[] {ResultCode.OK, ResultCode.ROLE_NOT_ALLOWED,
            ResultCode.STALE_ATTEMPT, ResultCode.INVALID_ARGUMENT, ResultCode.MALFORMED_FRAME})
        {
            assertTrue(results.getOrDefault(code, 0) > 0, "seed " + seed + ": no " + code + " in " + results);
        }
    }

    /** A log from the model-guided stream: meaningful operators with all kinds of bad ones among them. */
    static List<byte[]> randomLog(final long seed, final int operators)
    {
        final BusinessRules rules = ReferenceModelTest.modelRules();
        final ReferenceModel model = new ReferenceModel(rules);
        final RandomOperators stream = new RandomOperators(seed, model, rules, operators);
        final List<byte[]> log = new ArrayList<>(operators);
        long term = 1;
        for (int i = 0; i < operators; i++)
        {
            final byte[] frame = stream.next();
            term = ReferenceModel.entryTerm(frame, term);
            model.apply(frame, frame.length, term);
            model.events.clear();
            log.add(frame);
        }
        return log;
    }

    // ------------------------------------------------------------------------------------------ one field, other digest

    private static SessionPolicy policy()
    {
        return new SessionPolicy().initialDelayMs(500).backoffInitialMs(1_000).backoffMaxMs(8_000)
            .backoffMultiplierPermille(2_000).jitterPermille(0).maxAttempts(3).leaseMs(500).ttlMs(0);
    }

    private static final byte[] PAYLOAD = {1, 2, 3};

    private static long digestOf(final Consumer<LogicDriver> log)
    {
        final LogicDriver driver = new LogicDriver(LogicDriver.smallRules());
        log.accept(driver);
        for (final String event : driver.sink.events)
        {
            assertTrue(!event.startsWith("response") || event.contains(" OK "), event);
        }
        return driver.logic.digest();
    }

    /** The base log: at t=1,000,000 tenant 1 saves session 7 on destination 0. */
    private static void saveOne(final LogicDriver d, final int tenant, final long sessionId, final int destination,
        final SessionPolicy policy, final byte[] payload)
    {
        d.time(1_000_000);
        d.save(tenant, sessionId, destination, policy, payload);
    }

    @Test
    void shouldChangeDigestWhenAnySingleSessionFieldDiffersInTheLog()
    {
        final long base = digestOf((d) -> saveOne(d, 1, 7, 0, policy(), PAYLOAD));
        assertEquals(base, digestOf((d) -> saveOne(d, 1, 7, 0, policy(), PAYLOAD)), "same log, same digest");

        final List<String> same = new ArrayList<>();
        final Object[][] variants = {
            {"tenant", (Consumer<LogicDriver>)(d) -> saveOne(d, 2, 7, 0, policy(), PAYLOAD)},
            {"sessionId", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 8, 0, policy(), PAYLOAD)},
            {"destination", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 1, policy(), PAYLOAD)},
            {"maxAttempts", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy().maxAttempts(4), PAYLOAD)},
            {"jitter", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy().jitterPermille(1), PAYLOAD)},
            {"backoffInitial", (Consumer<LogicDriver>)(d) ->
                saveOne(d, 1, 7, 0, policy().backoffInitialMs(1_001), PAYLOAD)},
            {"backoffMax", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy().backoffMaxMs(8_001), PAYLOAD)},
            {"multiplier", (Consumer<LogicDriver>)(d) ->
                saveOne(d, 1, 7, 0, policy().backoffMultiplierPermille(2_001), PAYLOAD)},
            {"lease", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy().leaseMs(501), PAYLOAD)},
            {"payload byte", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy(), new byte[] {1, 2, 4})},
            {"payload size", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy(), new byte[] {1, 2, 3, 0})},
            {"timer (due time)", (Consumer<LogicDriver>)(d) ->
                saveOne(d, 1, 7, 0, policy().initialDelayMs(501), PAYLOAD)},
            {"deadline", (Consumer<LogicDriver>)(d) -> saveOne(d, 1, 7, 0, policy().ttlMs(100_000), PAYLOAD)},
        };
        for (final Object[] variant : variants)
        {
            @SuppressWarnings("unchecked") final Consumer<LogicDriver> log = (Consumer<LogicDriver>)variant[1];
            if (digestOf(log) == base)
            {
                same.add((String)variant[0]);
            }
        }
        assertEquals(List.of(), same, "fields whose difference the digest did not see");
    }

    @Test
    void shouldChangeDigestWhenOnlyTheDeadlineDiffers()
    {
        assertNotEquals(
            digestOf((d) -> saveOne(d, 1, 7, 0, policy().ttlMs(100_000), PAYLOAD)),
            digestOf((d) -> saveOne(d, 1, 7, 0, policy().ttlMs(100_001), PAYLOAD)));
    }

    @Test
    void shouldChangeDigestWhenOnlyCreationTimeDiffers()
    {
        // both end at t=1,000,001 with session 1:7 pending until 1,000,500; only its creation time differs
        final SessionPolicy dueAt = policy().initialDelayMs(0).dueAtMs(1_000_500);
        final long early = digestOf((d) ->
        {
            d.time(1_000_000);
            d.save(1, 7, 0, dueAt, PAYLOAD);
            d.time(1_000_001);
        });
        final long late = digestOf((d) ->
        {
            d.time(1_000_000);
            d.time(1_000_001);
            d.save(1, 7, 0, dueAt, PAYLOAD);
        });
        assertNotEquals(early, late);
    }

    @Test
    void shouldChangeDigestWhenOnlyTheAttemptDiffers()
    {
        // both end with 1:7 pending until now + 5000 after a worker's retry-after; one took an extra attempt
        final SessionPolicy immediate = policy().initialDelayMs(0).backoffInitialMs(0).maxAttempts(5);
        final long one = digestOf((d) ->
        {
            saveOne(d, 1, 7, 0, immediate, PAYLOAD);
            d.begin(0, 1);
            d.report(1, 7, 1, Outcome.RETRY, 0, 5_000, LogicDriver.EMPTY, 0);
        });
        final long two = digestOf((d) ->
        {
            saveOne(d, 1, 7, 0, immediate, PAYLOAD);
            d.begin(0, 1);
            d.report(1, 7, 1, Outcome.RETRY, 0, 0, LogicDriver.EMPTY, 0);
            d.begin(0, 1);
            d.report(1, 7, 2, Outcome.RETRY, 0, 5_000, LogicDriver.EMPTY, 0);
        });
        assertNotEquals(one, two);
    }

    @Test
    void shouldChangeDigestWhenOnlyTheLastErrorDiffers()
    {
        final SessionPolicy immediate = policy().initialDelayMs(0);
        final long[] digests = new long[2];
        final int[] codes = {500, 503};
        for (int i = 0; i < 2; i++)
        {
            final int code = codes[i];
            digests[i] = digestOf((d) ->
            {
                saveOne(d, 1, 7, 0, immediate, PAYLOAD);
                d.begin(0, 1);
                d.report(1, 7, 1, Outcome.RETRY, code, 5_000, LogicDriver.EMPTY, 0);
            });
        }
        assertNotEquals(digests[0], digests[1]);
    }

    @Test
    void shouldChangeDigestWhenOnlyTheOrderOfAReadyQueueDiffers()
    {
        final SessionPolicy now = policy().initialDelayMs(0);
        final long oneFirst = digestOf((d) ->
        {
            d.time(1_000_000);
            d.save(1, 1, 0, now, PAYLOAD);
            d.save(1, 2, 0, now, PAYLOAD);
        });
        final long twoFirst = digestOf((d) ->
        {
            d.time(1_000_000);
            d.save(1, 2, 0, now, PAYLOAD);
            d.save(1, 1, 0, now, PAYLOAD);
        });
        assertNotEquals(oneFirst, twoFirst);
    }

    @Test
    void shouldNotDependOnWhichRecordHoldsASession()
    {
        // the same sessions saved in the other order sit in other records, but every queue and timer slot
        // holds them in the same order: the digest must be equal
        final long oneFirst = digestOf((d) ->
        {
            d.time(1_000_000);
            d.save(1, 1, 0, policy().initialDelayMs(100), PAYLOAD);
            d.save(1, 2, 0, policy().initialDelayMs(200), PAYLOAD);
        });
        final long twoFirst = digestOf((d) ->
        {
            d.time(1_000_000);
            d.save(1, 2, 0, policy().initialDelayMs(200), PAYLOAD);
            d.save(1, 1, 0, policy().initialDelayMs(100), PAYLOAD);
        });
        assertEquals(oneFirst, twoFirst);
    }

    @Test
    void shouldChangeDigestWithTimeTermAndDestinationFigures()
    {
        final long base = digestOf((d) -> saveOne(d, 1, 7, 0, policy(), PAYLOAD));
        assertNotEquals(base, digestOf((d) ->
        {
            saveOne(d, 1, 7, 0, policy(), PAYLOAD);
            d.time(1_000_001);
        }));
        assertNotEquals(base, digestOf((d) ->
        {
            saveOne(d, 1, 7, 0, policy(), PAYLOAD);
            d.newTerm(1, 0);
        }));
        assertNotEquals(base, digestOf((d) ->
        {
            saveOne(d, 1, 7, 0, policy(), PAYLOAD);
            d.configure(1, 0, 5);
        }));
        assertNotEquals(base, digestOf((d) ->
        {
            saveOne(d, 1, 7, 0, policy(), PAYLOAD);
            d.configure(2, 9, LogicDriver.smallRules().defaultInFlightLimit());
        }));
    }

    /**
     * After a random run, alters each field of each live session in place (one at a time, then restores it)
     * and requires the digest to change and then to come back.
     */
    @Test
    void shouldChangeDigestWhenAnyFieldOfAnySessionIsAltered()
    {
        final long seed = seed("shouldChangeDigestWhenAnyFieldOfAnySessionIsAltered");
        final BusinessLogic logic = new BusinessLogic(ReferenceModelTest.modelRules(), OutputSink.NONE);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final List<byte[]> log = randomLog(seed, 20_000);
        int checkedRecords = 0;
        long term = 1;
        for (int i = 0; i < log.size(); i++)
        {
            buffer.putBytes(0, log.get(i));
            term = ReferenceModel.entryTerm(log.get(i), term);
            logic.apply(i + 1, term, buffer, 0, log.get(i).length);
            if (i % 2_000 == 1_999)
            {
                checkedRecords += alterEveryField(logic, seed);
            }
        }
        assertTrue(checkedRecords > 20, "seed " + seed + ": only " + checkedRecords + " sessions checked");
    }

    private static int alterEveryField(final BusinessLogic logic, final long seed)
    {
        final SessionTable t = logic.sessions();
        final long base = logic.digest();
        int checked = 0;
        for (int r = 0; r < t.highWater(); r++)
        {
            if (!t.isLive(r))
            {
                continue;
            }
            final int record = r;
            final int destination = t.destination(r);
            final int status = t.status(r);
            final int attempt = t.attempt(r);
            final int lifeStart = t.lifeStartAttempt(r);
            final int maxAttempts = t.maxAttempts(r);
            final int jitter = t.jitterPermille(r);
            final int initial = t.backoffInitialMs(r);
            final int max = t.backoffMaxMs(r);
            final int multiplier = t.multiplierPermille(r);
            final int lease = t.leaseMs(r);
            final int size = t.payloadSize(r);
            final int checksum = t.payloadChecksum(r);
            final int error = t.lastErrorCode(r);
            final long timerAt = t.timerAt(r);
            final long deadline = t.deadline(r);
            final long createdAt = t.createdAt(r);
            final Runnable[][] alterations = {
                {() -> t.destination(record, destination + 1), () -> t.destination(record, destination)},
                {() -> t.status(record, status % 6 + 1), () -> t.status(record, status)},
                {() -> t.attempt(record, attempt + 1), () -> t.attempt(record, attempt)},
                {() -> t.lifeStartAttempt(record, lifeStart + 1), () -> t.lifeStartAttempt(record, lifeStart)},
                {() -> t.maxAttemptsAndJitter(record, maxAttempts ^ 1, jitter),
                    () -> t.maxAttemptsAndJitter(record, maxAttempts, jitter)},
                {() -> t.maxAttemptsAndJitter(record, maxAttempts, jitter ^ 1),
                    () -> t.maxAttemptsAndJitter(record, maxAttempts, jitter)},
                {() -> t.backoff(record, initial ^ 1, max, multiplier), () -> t.backoff(record, initial, max, multiplier)},
                {() -> t.backoff(record, initial, max ^ 1, multiplier), () -> t.backoff(record, initial, max, multiplier)},
                {() -> t.backoff(record, initial, max, multiplier ^ 1), () -> t.backoff(record, initial, max, multiplier)},
                {() -> t.leaseMs(record, lease ^ 1), () -> t.leaseMs(record, lease)},
                {() -> t.payload(record, size ^ 1, checksum), () -> t.payload(record, size, checksum)},
                {() -> t.payload(record, size, checksum ^ 1 << 31), () -> t.payload(record, size, checksum)},
                {() -> t.lastErrorCode(record, error ^ 1), () -> t.lastErrorCode(record, error)},
                {() -> t.timerAt(record, timerAt ^ 1), () -> t.timerAt(record, timerAt)},
                {() -> t.deadline(record, deadline ^ 1), () -> t.deadline(record, deadline)},
                {() -> t.createdAt(record, createdAt ^ 1 << 40), () -> t.createdAt(record, createdAt)},
            };
            for (int f = 0; f < alterations.length; f++)
            {
                alterations[f][0].run();
                assertNotEquals(base, logic.digest(), "seed " + seed + ": field " + f + " of record " + r);
                alterations[f][1].run();
                assertEquals(base, logic.digest(), "seed " + seed + ": field " + f + " of record " + r + " restored");
            }
            checked++;
        }
        return checked;
    }
}
