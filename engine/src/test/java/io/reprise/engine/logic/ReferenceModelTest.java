package io.reprise.engine.logic;

import static io.reprise.engine.state.SessionTable.NULL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import io.reprise.engine.state.Destinations;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Feeds the business logic and the {@link ReferenceModel} the same seeded random operator streams and requires
 * them to agree on every result code and every event of every operator, and on the whole state (every field of
 * every session, timers, queues in order, destination figures, time and term) at frequent checkpoints.
 * <p>
 * System properties: {@code reprise.model.operators} (total over all seeds, default 10^6),
 * {@code reprise.model.seeds} (default 4), {@code reprise.model.seed} (run just this seed, to reproduce).
 * On a disagreement the test finds the shortest failing prefix of the stream, shrinks it further by deleting
 * operators, and prints both with the seed.
 */
class ReferenceModelTest
{
    static final long OPERATORS = Long.getLong("reprise.model.operators", 1_000_000);
    static final int SEEDS = Integer.getInteger("reprise.model.seeds", 4);
    static final String SEED_PROP_NAME = "reprise.model.seed";
    private static final int CHECK_STATE_EVERY = 16;
    private static final long SHRINK_BUDGET_NS = 60_000_000_000L;

    /**
     * Small limits so every path is reached often: few destinations and sessions (capacity runs out), short
     * retention, small in-flight limits, batches, payloads and error texts.
     */
    static BusinessRules modelRules()
    {
        return new BusinessRules()
            .maxSessions(24)
            .expectedSessions(0)
            .maxDestinations(5)
            .maxPayloadBytes(48)
            .maxErrorTextBytes(16)
            .terminalRetentionMs(3_000)
            .deadRetentionMs(12_000)
            .defaultInFlightLimit(2)
            .maxInFlightLimit(6)
            .maxBeginRepeatsBatch(4)
            .maxRedriveBatch(3)
            .maxLeaseMs(4_000)
            .maxInitialDelayMs(8_000)
            .maxTtlMs(30_000)
            .conclude();
    }

    @Test
    void shouldAgreeWithReferenceModelOnRandomOperatorStreams()
    {
        final long[] seeds;
        final String explicitSeed = System.getProperty(SEED_PROP_NAME);
        if (explicitSeed != null)
        {
            seeds = new long[] {Long.parseLong(explicitSeed.trim())};
        }
        else
        {
            final SplittableRandom seedSource = new SplittableRandom();
            seeds = new long[Math.max(1, SEEDS)];
            for (int i = 0; i < seeds.length; i++)
            {
                seeds[i] = seedSource.nextLong();
            }
        }
        final long perSeed = Math.max(1, (OPERATORS + seeds.length - 1) / seeds.length);

        final Coverage total = new Coverage();
        for (final long seed : seeds)
        {
            System.out.println("ReferenceModelTest: seed " + seed + ", " + perSeed + " operators (reproduce with -D" +
                SEED_PROP_NAME + "=" + seed + " -Dreprise.model.operators=" + perSeed + ")");
            final long start = System.nanoTime();
            final Coverage coverage = runSeed(seed, perSeed);
            System.out.printf("ReferenceModelTest: seed %d agreed on %d operators in %d ms%n", seed, perSeed,
                (System.nanoTime() - start) / 1_000_000);
            total.add(coverage);
        }
        total.print(seeds.length + " seed(s), " + perSeed * seeds.length + " operators");

        if (perSeed * seeds.length >= 100_000)
        {
            for (final ResultCode code : ResultCode.values())
            {
                if (code != ResultCode.NULL_VAL && !ErrorCodesTest.TRANSPORT_CODES.contains(code))
                {
                    assertTrue(total.codes.getOrDefault(code, 0L) > 0, "never produced: " + code);
                }
            }
            for (final String path : new String[] {
                "timer.due", "timer.leaseExpired", "timer.deadlineWhileReady", "timer.purge.COMPLETED",
                "timer.purge.CANCELLED", "timer.purge.DEAD", "fail.attemptsExhausted", "fail.backoff",
                "fail.readyAtOnce", "fail.deadlineBeforeNextAttempt", "report.retryAfter", "report.failedPermanently",
                "redrive.session", "redrive.destination.full", "redrive.destination.partial", "begin.noRoom",
                "begin.limited", "save.readyDueInPast", "save.dueAfterDeadline", "cancel.PENDING", "cancel.READY",
                "cancel.IN_FLIGHT", "configure.belowInFlight", "report.stale.IN_FLIGHT", "report.stale.COMPLETED",
                "report.otherDestination.IN_FLIGHT", "report.otherDestination.COMPLETED", "report.oldVersion"})
            {
                assertTrue(total.paths.getOrDefault(path, 0L) > 0, "path never taken: " + path);
            }
        }
    }

    /**
     * A stream that once split the engine from the model: an unknown enum value in an operator threw out of the
     * business logic instead of being rejected (fixed). Kept as a short fixed-seed run with an explicit check.
     */
    @Test
    void shouldAgreeWithReferenceModelOnFixedSeed()
    {
        final Coverage coverage = runSeed(0x5EEDL, 20_000);
        assertTrue(coverage.codes.getOrDefault(ResultCode.INVALID_ARGUMENT, 0L) > 0);
        assertTrue(coverage.codes.getOrDefault(ResultCode.OK, 0L) > 0);
    }

    // ------------------------------------------------------------------------------------------ one seed

    private static Coverage runSeed(final long seed, final long operators)
    {
        final BusinessRules rules = modelRules();
        final Harness harness = new Harness(rules);
        final RandomOperators stream = new RandomOperators(seed, harness.model, rules, operators)
            .handles(harness.logic.sessions()::find);
        for (long i = 0; i < operators; i++)
        {
            final byte[] frame = stream.next();
            String difference = harness.step(frame);
            if (difference == null && (i % CHECK_STATE_EVERY == 0 || i == operators - 1))
            {
                difference = compareState(harness.logic, harness.model);
            }
            if (difference != null)
            {
                reportFailure(seed, operators, i, difference);
            }
        }
        return harness.coverage;
    }

    /** Replays the seed checking everything after every operator, shrinks what fails, and fails the test. */
    private static void reportFailure(final long seed, final long operators, final long failedAt,
        final String difference)
    {
        final StringBuilder report = new StringBuilder();
        report.append("engine and model disagree, seed ").append(seed).append(" (reproduce with -D")
            .append(SEED_PROP_NAME).append('=').append(seed).append(" -Dreprise.model.operators=").append(operators)
            .append("), first seen at operator ").append(failedAt).append(": ").append(difference).append('\n');

        final BusinessRules rules = modelRules();
        final Harness harness = new Harness(rules);
        final RandomOperators stream = new RandomOperators(seed, harness.model, rules, operators)
            .handles(harness.logic.sessions()::find);
        final List<byte[]> prefix = new ArrayList<>();
        String firstDifference = null;
        for (long i = 0; i <= failedAt && firstDifference == null; i++)
        {
            final byte[] frame = stream.next();
            prefix.add(frame);
            firstDifference = harness.check(frame);
        }
        if (firstDifference == null)
        {
            report.append("(the replay did not fail again: nondeterminism in the test or the engine)\n");
            fail(report.toString());
        }
        report.append("shortest failing prefix: ").append(prefix.size()).append(" operators; the last fails with: ")
            .append(firstDifference).append('\n');

        final List<byte[]> shrunk = shrink(prefix);
        final Harness replay = new Harness(modelRules());
        String shrunkDifference = null;
        for (int i = 0; i < shrunk.size() && shrunkDifference == null; i++)
        {
            shrunkDifference = replay.check(shrunk.get(i));
        }
        report.append("shrunk to ").append(shrunk.size()).append(" operators (replay them in order; the last fails with: ")
            .append(shrunkDifference).append("):\n");
        final int from = Math.max(0, shrunk.size() - 300);
        if (from > 0)
        {
            report.append("  ... ").append(from).append(" earlier operators omitted\n");
        }
        for (int i = from; i < shrunk.size(); i++)
        {
            report.append(String.format("  %6d  %s%n", i, ReferenceModel.describe(shrunk.get(i), shrunk.get(i).length)));
        }
        report.append("model sessions at the failure:\n");
        for (final ReferenceModel.Session s : replay.model.sessions())
        {
            report.append("  ").append(s).append('\n');
        }
        fail(report.toString());
    }

    /** Deletes chunks of operators, halving the chunk size, while the rest still fails (within a time budget). */
    private static List<byte[]> shrink(final List<byte[]> failing)
    {
        final long deadline = System.nanoTime() + SHRINK_BUDGET_NS;
        List<byte[]> current = failing;
        for (int chunk = Math.max(1, current.size() / 2); chunk >= 1 && System.nanoTime() < deadline; chunk /= 2)
        {
            // keep the last operator: it is where the failure shows
            for (int start = current.size() - 1 - chunk; start >= 0 && System.nanoTime() < deadline; start -= chunk)
            {
                final List<byte[]> candidate = new ArrayList<>(current.subList(0, start));
                candidate.addAll(current.subList(start + chunk, current.size()));
                if (failsAtEnd(candidate))
                {
                    current = candidate;
                }
            }
        }
        return current;
    }

    /** True if replaying the frames fails, and fails first on the last one (so it stays a minimal prefix). */
    private static boolean failsAtEnd(final List<byte[]> frames)
    {
        final Harness harness = new Harness(modelRules());
        for (int i = 0; i < frames.size(); i++)
        {
            if (harness.check(frames.get(i)) != null)
            {
                return i == frames.size() - 1;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------ comparison

    /** The engine and the model side by side, fed the same frames. */
    static final class Harness
    {
        final ReferenceModel model;
        final RecordingSink sink = new RecordingSink();
        final BusinessLogic logic;
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
        final Coverage coverage = new Coverage();
        long index;
        long term = 1;

        Harness(final BusinessRules rules)
        {
            model = new ReferenceModel(rules);
            logic = new BusinessLogic(rules, sink);
        }

        /** Applies the frame to both; returns how their results or events differ, or null. */
        String step(final byte[] frame)
        {
            // frames sit at varying offsets, after bytes of earlier frames, to prove the length is respected
            final int offset = (int)(index & 15);
            buffer.putBytes(offset, frame);
            sink.events.clear();
            model.events.clear();
            term = ReferenceModel.entryTerm(frame, term);
            final ResultCode actual;
            try
            {
                actual = logic.apply(++index, term, buffer, offset, frame.length);
            }
            catch (final RuntimeException ex)
            {
                return "engine threw " + ex + " on " + ReferenceModel.describe(frame, frame.length);
            }
            final ResultCode expected = model.apply(frame, frame.length, term);
            coverage.count(actual, sink.events, model);
            if (actual != expected)
            {
                return "result of " + ReferenceModel.describe(frame, frame.length) + ": engine " + actual +
                    ", model " + expected + "; engine events " + sink.events;
            }
            if (!sink.events.equals(model.events))
            {
                return "events of " + ReferenceModel.describe(frame, frame.length) + ":\n  engine " + sink.events +
                    "\n  model  " + model.events;
            }
            return null;
        }

        /** {@link #step} and then the whole state. */
        String check(final byte[] frame)
        {
            final String difference = step(frame);
            return difference != null ? difference : compareState(logic, model);
        }
    }

    /** Compares the whole state of the engine with the model's; returns the first difference or null. */
    static String compareState(final BusinessLogic logic, final ReferenceModel model)
    {
        if (logic.systemTimeMs() != model.now())
        {
            return "system time: engine " + logic.systemTimeMs() + ", model " + model.now();
        }
        if (logic.leaderTerm() != model.leaderTerm() || logic.leaderMemberId() != model.leaderMemberId())
        {
            return "leader: engine " + logic.leaderTerm() + "/" + logic.leaderMemberId() + ", model " +
                model.leaderTerm() + "/" + model.leaderMemberId();
        }
        final SessionTable table = logic.sessions();
        if (table.size() != model.sessions().size())
        {
            return "session count: engine " + table.size() + ", model " + model.sessions().size();
        }
        int live = 0;
        for (int r = 0; r < table.highWater(); r++)
        {
            live += table.isLive(r) ? 1 : 0;
        }
        if (live != table.size())
        {
            return "engine has " + live + " live records but size " + table.size();
        }

        final int destinationCount = model.destinationCount();
        final int[][] counts = new int[destinationCount][7];
        for (final ReferenceModel.Session s : model.sessions())
        {
            counts[s.destination][s.status]++;
            final int r = table.find(s.tenant, s.sessionId);
            if (r == NULL)
            {
                return "engine lacks session " + s;
            }
            final String field =
                table.destination(r) != s.destination ? "destination " + table.destination(r) :
                table.status(r) != s.status ? "status " + table.status(r) :
                table.attempt(r) != s.attempt ? "attempt " + table.attempt(r) :
                table.lifeStartAttempt(r) != s.lifeStartAttempt ? "lifeStartAttempt " + table.lifeStartAttempt(r) :
                table.maxAttempts(r) != s.maxAttempts ? "maxAttempts " + table.maxAttempts(r) :
                table.jitterPermille(r) != s.jitterPermille ? "jitter " + table.jitterPermille(r) :
                table.backoffInitialMs(r) != s.backoffInitialMs ? "backoffInitial " + table.backoffInitialMs(r) :
                table.backoffMaxMs(r) != s.backoffMaxMs ? "backoffMax " + table.backoffMaxMs(r) :
                table.multiplierPermille(r) != s.multiplierPermille ? "multiplier " + table.multiplierPermille(r) :
                table.leaseMs(r) != s.leaseMs ? "lease " + table.leaseMs(r) :
                table.payloadSize(r) != s.payloadSize ? "payloadSize " + table.payloadSize(r) :
                table.payloadChecksum(r) != s.payloadChecksum ? "payloadChecksum " + table.payloadChecksum(r) :
                table.lastErrorCode(r) != s.lastErrorCode ? "lastError " + table.lastErrorCode(r) :
                table.timerAt(r) != s.timerAt ? "timerAt " + table.timerAt(r) :
                logic.timers().isScheduled(r) != (s.timer != null) ? "scheduled " + logic.timers().isScheduled(r) :
                table.deadline(r) != s.deadline ? "deadline " + table.deadline(r) :
                table.createdAt(r) != s.createdAt ? "createdAt " + table.createdAt(r) : null;
            if (field != null)
            {
                return "session " + s.name() + ": engine has " + field + "; model " + s;
            }
        }
        if (logic.timers().size() != model.timerCount())
        {
            return "timer count: engine " + logic.timers().size() + ", model " + model.timerCount();
        }

        final Destinations destinations = logic.destinations();
        for (int d = 0; d < destinationCount; d++)
        {
            final ReferenceModel.Destination md = model.destination(d);
            final int[] c = counts[d];
            final String figure =
                destinations.owner(d) != md.owner ? "owner " + destinations.owner(d) + " vs " + md.owner :
                destinations.inFlightLimit(d) != md.inFlightLimit ? "limit " + destinations.inFlightLimit(d) :
                destinations.pending(d) != c[ReferenceModel.PENDING] ? "pending " + destinations.pending(d) :
                destinations.ready(d) != c[ReferenceModel.READY] ? "ready " + destinations.ready(d) :
                destinations.inFlight(d) != c[ReferenceModel.IN_FLIGHT] ? "inFlight " + destinations.inFlight(d) :
                destinations.dead(d) != c[ReferenceModel.DEAD] ? "dead " + destinations.dead(d) :
                destinations.retained(d) != c[ReferenceModel.COMPLETED] + c[ReferenceModel.CANCELLED] ?
                    "retained " + destinations.retained(d) :
                !queue(table, destinations, destinations.readyHead(d)).equals(names(md.ready)) ?
                    "ready queue " + queue(table, destinations, destinations.readyHead(d)) + " vs " + names(md.ready) :
                !queue(table, destinations, destinations.deadHead(d)).equals(names(md.dead)) ?
                    "dead queue " + queue(table, destinations, destinations.deadHead(d)) + " vs " + names(md.dead) :
                null;
            if (figure != null)
            {
                return "destination " + d + ": engine " + figure;
            }
        }
        return null;
    }

    private static List<String> queue(final SessionTable table, final Destinations destinations, final int head)
    {
        final List<String> names = new ArrayList<>();
        for (int r = head; r != NULL && names.size() <= table.size(); r = destinations.queueNext(r))
        {
            names.add(table.tenant(r) + ":" + table.sessionId(r));
        }
        return names;
    }

    private static List<String> names(final Iterable<ReferenceModel.Session> sessions)
    {
        final List<String> names = new ArrayList<>();
        sessions.forEach((s) -> names.add(s.name()));
        return names;
    }

    // ------------------------------------------------------------------------------------------ coverage

    /** Histograms of result codes, event kinds and model paths: what a run exercised. */
    static final class Coverage
    {
        final Map<ResultCode, Long> codes = new EnumMap<>(ResultCode.class);
        final Map<String, Long> events = new TreeMap<>();
        final Map<String, Long> paths = new TreeMap<>();
        private ReferenceModel lastModel;

        void count(final ResultCode code, final List<String> emitted, final ReferenceModel model)
        {
            codes.merge(code, 1L, Long::sum);
            for (final String event : emitted)
            {
                final String[] words = event.split(" ");
                final String kind = words[0].equals("finished") ? "finished " + words[3] :
                    words[0].equals("response") ? "response " + words[4] : words[0];
                events.merge(kind, 1L, Long::sum);
            }
            lastModel = model;
        }

        void add(final Coverage other)
        {
            other.codes.forEach((k, v) -> codes.merge(k, v, Long::sum));
            other.events.forEach((k, v) -> events.merge(k, v, Long::sum));
            if (other.lastModel != null)
            {
                other.lastModel.paths.forEach((k, v) -> paths.merge(k, v, Long::sum));
            }
        }

        void print(final String title)
        {
            final StringBuilder out = new StringBuilder("ReferenceModelTest coverage over ").append(title).append('\n');
            out.append("  result codes:\n");
            codes.forEach((k, v) -> out.append(String.format("    %-22s %,12d%n", k, v)));
            out.append("  events:\n");
            events.forEach((k, v) -> out.append(String.format("    %-34s %,12d%n", k, v)));
            out.append("  model paths:\n");
            paths.forEach((k, v) -> out.append(String.format("    %-34s %,12d%n", k, v)));
            System.out.print(out);
        }
    }

    @Test
    void shouldCompareEveryFieldSoADifferenceIsSeen()
    {
        // the comparison itself must be able to fail: break one field of the model and expect a difference
        final Harness harness = new Harness(modelRules());
        final RandomOperators stream = new RandomOperators(42, harness.model, modelRules(), 2_000)
            .handles(harness.logic.sessions()::find);
        for (int i = 0; i < 2_000; i++)
        {
            assertEquals(null, harness.check(stream.next()));
        }
        final ReferenceModel.Session any = harness.model.sessions().iterator().next();
        any.lastErrorCode ^= 1;
        assertTrue(compareState(harness.logic, harness.model).contains("lastError"));
        any.lastErrorCode ^= 1;
        any.createdAt++;
        assertTrue(compareState(harness.logic, harness.model).contains("createdAt"));
        any.createdAt--;
        assertEquals(null, compareState(harness.logic, harness.model));
    }
}
