package io.reprise.engine.logic;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A seeded stream of encoded operators for model and determinism tests: mostly meaningful (it looks at a
 * {@link ReferenceModel} to report the attempt really in flight, redrive what is dead, begin where work is
 * ready), with a steady share of everything that must be rejected: stale and duplicate reports, reports naming
 * another destination than the session's, unknown and foreign sessions and destinations, invalid policies,
 * oversized payloads and error texts, stale times and terms, and damaged frames (truncated, padded, wrong
 * schema, newer version, unknown template, bad lengths, unknown enum values). Keys come from a small range so
 * duplicates and collisions are frequent.
 * <p>
 * The stream depends only on the seed and on the model's state, so it is the same every time it is replayed
 * against a model fed with it.
 */
final class RandomOperators
{
    static final int TENANTS = 3;
    static final int SESSION_IDS = 20;
    private static final long[] ODD_SESSION_IDS = {-1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40};
    private static final long DAY_MS = 24L * 60 * 60 * 1000;

    private final SplittableRandom random;
    private static final int[] GARBAGE_HANDLES = {Integer.MIN_VALUE, -2, 1 << 20, Integer.MAX_VALUE};

    private final ReferenceModel model;
    private final BusinessRules rules;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer bytes = new UnsafeBuffer(new byte[1024]);
    private final SessionPolicy policy = new SessionPolicy();
    private final List<byte[]> recentSaves = new ArrayList<>();
    private final List<byte[]> recentReports = new ArrayList<>();
    private final long plannedOperators;
    private long produced;
    private long correlationId;
    private long nextLeaderTerm = 1;
    private Handles handles = (tenant, sessionId) -> OperatorEncoder.NO_HANDLE;

    /** Where reports get the handle a dispatch would have carried: the engine's record of the session, or -1. */
    @FunctionalInterface
    interface Handles
    {
        int of(int tenant, long sessionId);
    }

    /**
     * @param plannedOperators how long the stream will run; jumps to the very end of time happen only near its
     *                         end, since after one the clock can barely move.
     */
    RandomOperators(final long seed, final ReferenceModel model, final BusinessRules rules, final long plannedOperators)
    {
        this.random = new SplittableRandom(seed);
        this.model = model;
        this.rules = rules;
        this.plannedOperators = plannedOperators;
    }

    /**
     * Lets reports carry handles: the right one (from {@code handles}), another record's, garbage, or none. The model
     * ignores them, so the engine must give the same answers whatever handle a report carries.
     */
    RandomOperators handles(final Handles handles)
    {
        this.handles = handles;
        return this;
    }

    /** The next frame; call only after the model has applied the previous one. */
    byte[] next()
    {
        produced++;
        final int p = random.nextInt(1000);
        final byte[] frame;
        if (p < 200)
        {
            frame = save();
        }
        else if (p < 250)
        {
            frame = cancel();
        }
        else if (p < 470)
        {
            frame = report();
        }
        else if (p < 610)
        {
            frame = begin();
        }
        else if (p < 820)
        {
            frame = setTime();
        }
        else if (p < 880)
        {
            frame = redrive();
        }
        else if (p < 910)
        {
            frame = configure();
        }
        else if (p < 920)
        {
            frame = newLeaderTerm();
        }
        else if (p < 950)
        {
            frame = replay();
        }
        else
        {
            frame = damage(anyValid());
        }
        return frame;
    }

    private byte[] anyValid()
    {
        switch (random.nextInt(8))
        {
            case 0:
                return save();
            case 1:
                return cancel();
            case 2:
                return report();
            case 3:
                return begin();
            case 4:
                return setTime();
            case 5:
                return redrive();
            case 6:
                return configure();
            default:
                return newLeaderTerm();
        }
    }

    private static byte[] copy(final UnsafeBuffer buffer, final int length)
    {
        final byte[] frame = new byte[length];
        buffer.getBytes(0, frame);
        return frame;
    }

    private boolean chance(final int perMille)
    {
        return random.nextInt(1000) < perMille;
    }

    private long clientId()
    {
        return chance(900) ? 1 + random.nextInt(4) : random.nextLong();
    }

    private int tenant()
    {
        if (chance(15))
        {
            final int[] bad = {0, -1, Integer.MIN_VALUE};
            return bad[random.nextInt(bad.length)];
        }
        return 1 + random.nextInt(TENANTS);
    }

    private long sessionId()
    {
        return chance(20) ? ODD_SESSION_IDS[random.nextInt(ODD_SESSION_IDS.length)] : random.nextInt(SESSION_IDS);
    }

    private int destination(final int tenant)
    {
        if (chance(15))
        {
            final int[] bad = {-1, rules.maxDestinations(), Integer.MAX_VALUE, Integer.MIN_VALUE};
            return bad[random.nextInt(bad.length)];
        }
        if (chance(900))
        {
            final List<Integer> own = new ArrayList<>();
            for (int d = 0; d < model.destinationCount(); d++)
            {
                if (model.destination(d).owner == tenant || model.destination(d).owner == 0)
                {
                    own.add(d);
                }
            }
            if (!own.isEmpty())
            {
                return own.get(random.nextInt(own.size()));
            }
        }
        return random.nextInt(rules.maxDestinations());
    }

    private ReferenceModel.Session anySession(final int status)
    {
        ReferenceModel.Session chosen = null;
        int seen = 0;
        for (final ReferenceModel.Session s : model.sessions())
        {
            if (status == 0 || s.status == status)
            {
                // reservoir sampling; a HashMap's order is a fixed function of its keys and of the history of puts
                // and removes, so the choice is the same on every replay of the seed
                if (random.nextInt(++seen) == 0)
                {
                    chosen = s;
                }
            }
        }
        return chosen;
    }

    /** A session with a timer, preferring the next ones to fire. */
    private ReferenceModel.Session anyTimed()
    {
        ReferenceModel.Session chosen = null;
        int seen = 0;
        for (final ReferenceModel.Session s : model.sessions())
        {
            if (s.timer != null && s.timer.at() - model.now() <= 30_000 && random.nextInt(++seen) == 0)
            {
                chosen = s;
            }
        }
        return chosen;
    }

    private void remember(final List<byte[]> recent, final byte[] frame)
    {
        if (recent.size() == 16)
        {
            recent.remove(random.nextInt(16));
        }
        recent.add(frame);
    }

    // ------------------------------------------------------------------------------------------ operators

    private byte[] save()
    {
        final int tenant = tenant();
        final long sessionId = sessionId();
        final int destination = destination(tenant);
        final long now = model.now();

        policy.maxAttempts(chance(800) ? 1 + random.nextInt(4) : 1 + random.nextInt(20));
        final long initial = chance(200) ? 0 : chance(500) ? 1 + random.nextInt(50) : random.nextInt(2000);
        policy.backoffInitialMs(initial);
        policy.backoffMaxMs(initial + (chance(200) ? 0 : random.nextInt(3000)));
        policy.backoffMultiplierPermille(chance(300) ? 1000 : 1000 + random.nextInt(2001));
        policy.jitterPermille(chance(400) ? 0 : chance(100) ? 1000 : random.nextInt(1001));
        policy.leaseMs(chance(50) ? rules.maxLeaseMs() : 1 + random.nextInt(3000));
        policy.dueAtMs(0).initialDelayMs(0);
        final int due = random.nextInt(100);
        if (due < 25)
        {
            policy.initialDelayMs(1 + random.nextInt(2000));
        }
        else if (due < 35)
        {
            policy.dueAtMs(Math.max(1, now - random.nextInt(5000)));
        }
        else if (due < 45)
        {
            policy.dueAtMs(now + 1 + random.nextInt(3000));
        }
        else if (due < 47)
        {
            policy.initialDelayMs(rules.maxInitialDelayMs());
        }
        policy.ttlMs(chance(500) ? 0 : chance(20) ? rules.maxTtlMs() : 1 + random.nextInt(8000));
        if (chance(250))
        {
            // round numbers: delays, leases and deadlines line up, so boundaries (due exactly at the deadline,
            // lease ending as the next attempt would start) are met exactly
            final long[] round = {0, 100, 500, 1000};
            policy.backoffInitialMs(round[random.nextInt(round.length)]);
            policy.backoffMaxMs(policy.backoffInitialMs() * (1 + random.nextInt(4)));
            policy.backoffMultiplierPermille(random.nextBoolean() ? 1000 : 2000).jitterPermille(0);
            policy.leaseMs(100L * (1 + random.nextInt(10)));
            policy.ttlMs(random.nextInt(4) == 0 ? 0 : 500L * (1 + random.nextInt(8)));
            policy.dueAtMs(0).initialDelayMs(random.nextBoolean() ? 0 : 100L * random.nextInt(10));
        }
        if (chance(30) && policy.ttlMs() > 0)
        {
            // first due just before, at, or just after the deadline
            final long at = policy.ttlMs() + random.nextInt(3) - 1;
            if (random.nextBoolean())
            {
                policy.dueAtMs(0).initialDelayMs(Math.max(0, at));
            }
            else
            {
                policy.initialDelayMs(0).dueAtMs(Math.max(1, now + at));
            }
        }
        if (due == 47)
        {
            // far in the future, so timers sit on the high levels of the wheel until a large jump
            policy.initialDelayMs(0).dueAtMs(now + 1 + random.nextLong(2 * 365 * DAY_MS)).ttlMs(0);
        }
        if (chance(60))
        {
            breakPolicy(now);
        }

        int payloadLength = random.nextInt(13);
        if (chance(20))
        {
            payloadLength = rules.maxPayloadBytes() + 1 + random.nextInt(20);
        }
        else if (chance(20))
        {
            payloadLength = rules.maxPayloadBytes();
        }
        fill(payloadLength);
        final byte[] frame = copy(buffer, encoder.saveSession(buffer, 0, clientId(), ++correlationId, tenant,
            sessionId, destination, policy, bytes, 0, payloadLength));
        remember(recentSaves, frame);
        return frame;
    }

    private void breakPolicy(final long now)
    {
        switch (random.nextInt(14))
        {
            case 0:
                policy.maxAttempts(random.nextBoolean() ? 0 : random.nextBoolean() ? -1 : 0x10000);
                break;
            case 1:
                policy.backoffInitialMs(-1 - random.nextInt(10));
                break;
            case 2:
                policy.backoffMaxMs(policy.backoffInitialMs() - 1 - random.nextInt(10));
                break;
            case 3:
                policy.backoffMaxMs(Integer.MAX_VALUE + 1L);
                break;
            case 4:
                policy.backoffMultiplierPermille(random.nextBoolean() ? 999 : 100_001);
                break;
            case 5:
                policy.jitterPermille(random.nextBoolean() ? -1 : 1001);
                break;
            case 6:
                policy.leaseMs(random.nextBoolean() ? 0 : rules.maxLeaseMs() + 1);
                break;
            case 7:
                policy.dueAtMs(0).initialDelayMs(random.nextBoolean() ? -1 : rules.maxInitialDelayMs() + 1);
                break;
            case 8:
                policy.initialDelayMs(0).dueAtMs(random.nextBoolean() ? -1 - random.nextInt(5) :
                    BusinessRules.Configuration.MAX_SYSTEM_TIME_MS + 1);
                break;
            case 9:
                policy.dueAtMs(now + 10).initialDelayMs(10);
                break;
            case 10:
                policy.ttlMs(random.nextBoolean() ? -1 : rules.maxTtlMs() + 1);
                break;
            case 11:
                // due at or after the deadline
                policy.dueAtMs(0).ttlMs(1 + random.nextInt(100)).initialDelayMs(policy.ttlMs() + random.nextInt(3));
                break;
            case 12:
                policy.backoffMaxMs(Integer.MAX_VALUE).backoffInitialMs(Integer.MAX_VALUE)
                    .backoffMultiplierPermille(100_000);
                break;
            default:
                policy.maxAttempts(0xFFFF).jitterPermille(1000);
                break;
        }
    }

    private void fill(final int length)
    {
        for (int i = 0; i < length; i++)
        {
            bytes.putByte(i, (byte)random.nextInt(256));
        }
    }

    private byte[] cancel()
    {
        int tenant = tenant();
        long sessionId = sessionId();
        if (chance(700))
        {
            final ReferenceModel.Session s = anySession(chance(600) ? 0 : ReferenceModel.IN_FLIGHT);
            if (s != null)
            {
                sessionId = s.sessionId;
                tenant = chance(100) ? 1 + (s.tenant % TENANTS) : s.tenant;
            }
        }
        return copy(buffer, encoder.cancelSession(buffer, 0, clientId(), ++correlationId, tenant, sessionId));
    }

    private byte[] report()
    {
        int tenant = 1 + random.nextInt(TENANTS);
        long sessionId = sessionId();
        int attempt = 1 + random.nextInt(3);
        int destination = random.nextInt(rules.maxDestinations());
        final int kind = random.nextInt(100);
        if (kind < 70)
        {
            ReferenceModel.Session s = anySession(ReferenceModel.IN_FLIGHT);
            s = s != null ? s : anySession(0);
            if (s != null)
            {
                tenant = s.tenant;
                sessionId = s.sessionId;
                attempt = Math.max(1, s.attempt);
                destination = s.destination;
            }
        }
        else if (kind < 85)
        {
            final ReferenceModel.Session s = anySession(0);
            if (s != null)
            {
                tenant = chance(150) ? 1 + (s.tenant % TENANTS) : s.tenant;
                sessionId = s.sessionId;
                attempt = Math.max(1, s.attempt + random.nextInt(3) - 1);
                destination = s.destination;
            }
        }
        if (chance(40))
        {
            // a worker of another destination, maybe of the same tenant, reporting the session
            destination = (destination + 1 + random.nextInt(rules.maxDestinations() - 1)) % rules.maxDestinations();
        }

        final int o = random.nextInt(100);
        Outcome outcome = o < 35 ? Outcome.SUCCEEDED : o < 85 ? Outcome.RETRY : Outcome.FAILED_PERMANENTLY;
        long retryAfterMs = outcome == Outcome.RETRY && chance(300) ?
            (chance(100) ? Long.MAX_VALUE : 1 + random.nextInt(3000)) : 0;
        if (outcome == Outcome.RETRY && chance(250) && kind < 70)
        {
            final ReferenceModel.Session s = model.session(tenant, sessionId);
            if (s != null)
            {
                // retry-after landing just before, at or after the deadline, or around the policy's cap
                final long target = s.deadline != ReferenceModel.NO_DEADLINE && random.nextBoolean() ?
                    s.deadline - model.now() : s.backoffMaxMs;
                retryAfterMs = Math.max(1, target + random.nextInt(3) - 1);
            }
        }
        int errorCode = random.nextInt(600);
        int textLength = random.nextInt(rules.maxErrorTextBytes() + 1);
        int rawOutcome = -1;
        if (chance(30))
        {
            textLength = rules.maxErrorTextBytes() + 1 + random.nextInt(10);
        }
        if (chance(60))
        {
            switch (random.nextInt(8))
            {
                case 0:
                    tenant = random.nextBoolean() ? 0 : -7;
                    break;
                case 1:
                    attempt = random.nextBoolean() ? 0 : Integer.MIN_VALUE;
                    break;
                case 2:
                    outcome = Outcome.NULL_VAL;
                    break;
                case 3:
                    final int[] unknown = {0, 4, 77, 254};
                    rawOutcome = unknown[random.nextInt(unknown.length)];
                    break;
                case 4:
                    errorCode = -1 - random.nextInt(5);
                    break;
                case 5:
                    retryAfterMs = -1 - random.nextInt(5);
                    break;
                case 6:
                    final int[] invalid = {-1, rules.maxDestinations(), Integer.MIN_VALUE, Integer.MAX_VALUE};
                    destination = invalid[random.nextInt(invalid.length)];
                    break;
                default:
                    outcome = random.nextBoolean() ? Outcome.SUCCEEDED : Outcome.FAILED_PERMANENTLY;
                    retryAfterMs = 1 + random.nextInt(100);
                    break;
            }
        }
        final int handle;
        switch (random.nextInt(8))
        {
            case 0, 1, 2 -> handle = handles.of(tenant, sessionId);
            case 3, 4 -> handle = random.nextInt(64); // mostly another session's record, or a free one
            case 5 -> handle = GARBAGE_HANDLES[random.nextInt(GARBAGE_HANDLES.length)];
            default -> handle = OperatorEncoder.NO_HANDLE;
        }
        fill(textLength);
        final int length = encoder.reportOutcome(buffer, 0, clientId(), ++correlationId, tenant, sessionId,
            destination, attempt, handle, outcome, errorCode, retryAfterMs, bytes, 0, textLength);
        if (rawOutcome >= 0)
        {
            buffer.putByte(ReferenceModel.HEADER_LENGTH + 44, (byte)rawOutcome);
        }
        final int p = random.nextInt(100);
        final byte[] frame = p == 0 ? asOldReport(copy(buffer, length), 0) :
            p < 3 ? asOldReport(copy(buffer, length), 1) : copy(buffer, length);
        remember(recentReports, frame);
        return frame;
    }

    private byte[] begin()
    {
        int destination = random.nextInt(rules.maxDestinations());
        if (chance(800))
        {
            final ReferenceModel.Session s = anySession(ReferenceModel.READY);
            if (s != null)
            {
                destination = s.destination;
            }
        }
        int maxCount = 1 + random.nextInt(rules.maxBeginRepeatsBatch());
        if (chance(30))
        {
            if (random.nextBoolean())
            {
                destination = random.nextBoolean() ? -1 : rules.maxDestinations();
            }
            else
            {
                maxCount = random.nextBoolean() ? 0 : rules.maxBeginRepeatsBatch() + 1;
            }
        }
        return copy(buffer, encoder.beginRepeats(buffer, 0, destination, maxCount));
    }

    private byte[] setTime()
    {
        final long now = model.now();
        final long max = BusinessRules.Configuration.MAX_SYSTEM_TIME_MS;
        final int kind = random.nextInt(1000);
        long t;
        if (produced == 1)
        {
            t = 1_600_000_000_000L + random.nextLong(3650 * DAY_MS);
        }
        else if (kind < 3)
        {
            t = now + 1 + random.nextLong(365 * DAY_MS);
        }
        else if (kind < 200)
        {
            // exactly at (or a ms either side of) a timer: where due, lease, deadline and retention meet
            t = now + 1 + random.nextInt(50);
            final ReferenceModel.Session s = anyTimed();
            if (s != null)
            {
                t = s.timer.at() + (chance(600) ? 0 : random.nextInt(3) - 1);
            }
        }
        else if (kind < 600)
        {
            t = now + 1 + random.nextInt(50);
        }
        else if (kind < 850)
        {
            t = now + 1 + random.nextInt(1000);
        }
        else if (kind < 940)
        {
            t = now + 1000 + random.nextInt(20_000);
        }
        else if (kind < 950)
        {
            t = now + DAY_MS + random.nextLong(5 * DAY_MS);
        }
        else if (kind < 975)
        {
            t = now - random.nextInt(100);
        }
        else if (kind < 985)
        {
            t = random.nextBoolean() ? Long.MIN_VALUE : -1;
        }
        else if (kind < 995)
        {
            t = random.nextBoolean() ? Long.MAX_VALUE : max + 1 + random.nextInt(1000);
        }
        else
        {
            // the very end of time, only near the end of the stream
            t = produced > plannedOperators - plannedOperators / 200 ? max - random.nextInt(100_000) : now + 1;
        }
        if (t > now && t > max && kind < 975)
        {
            t = max;
        }
        return copy(buffer, encoder.setTime(buffer, 0, t));
    }

    private byte[] redrive()
    {
        int tenant = tenant();
        if (random.nextBoolean())
        {
            long sessionId = sessionId();
            if (chance(700))
            {
                final ReferenceModel.Session s = anySession(chance(800) ? ReferenceModel.DEAD : 0);
                if (s != null)
                {
                    sessionId = s.sessionId;
                    tenant = chance(50) ? 1 + (s.tenant % TENANTS) : s.tenant;
                }
            }
            return withScope(encoder.redriveSession(buffer, 0, clientId(), ++correlationId, tenant, sessionId));
        }
        int destination = destination(tenant);
        if (chance(600))
        {
            final ReferenceModel.Session s = anySession(ReferenceModel.DEAD);
            if (s != null)
            {
                destination = s.destination;
                tenant = model.destination(destination).owner;
            }
        }
        int maxCount = 1 + random.nextInt(rules.maxRedriveBatch());
        if (chance(30))
        {
            maxCount = random.nextBoolean() ? 0 : rules.maxRedriveBatch() + 1;
        }
        return withScope(encoder.redriveDestination(buffer, 0, clientId(), ++correlationId, tenant, destination,
            maxCount));
    }

    private byte[] withScope(final int length)
    {
        if (chance(30))
        {
            final int[] unknown = {0, 3, 99, 255};
            buffer.putByte(ReferenceModel.HEADER_LENGTH + 36, (byte)unknown[random.nextInt(unknown.length)]);
        }
        return copy(buffer, length);
    }

    private byte[] configure()
    {
        int tenant = tenant();
        final int destination = destination(tenant);
        if (chance(500) && destination >= 0 && destination < rules.maxDestinations() &&
            model.destination(destination).owner != 0)
        {
            tenant = model.destination(destination).owner;
        }
        int limit = 1 + random.nextInt(rules.maxInFlightLimit());
        if (chance(30))
        {
            limit = random.nextBoolean() ? 0 : rules.maxInFlightLimit() + 1;
        }
        return copy(buffer, encoder.configureDestination(buffer, 0, clientId(), ++correlationId, tenant,
            destination, limit));
    }

    private byte[] newLeaderTerm()
    {
        final int kind = random.nextInt(10);
        long term = nextLeaderTerm;
        int member = random.nextInt(5);
        if (kind < 1)
        {
            term = model.leaderTerm(); // the term already started: STALE_TERM
        }
        else if (kind < 2)
        {
            term = model.leaderTerm() - 1 - random.nextInt(3); // not the term of its entry: INVALID_ARGUMENT
        }
        else if (kind < 3)
        {
            member = -1 - random.nextInt(3);
        }
        else
        {
            nextLeaderTerm += 1 + random.nextInt(3);
        }
        return copy(buffer, encoder.newLeaderTerm(buffer, 0, term, member));
    }

    /** A duplicate of a recent save or report, exactly as sent before. */
    private byte[] replay()
    {
        final List<byte[]> recent = random.nextBoolean() ? recentSaves : recentReports;
        return recent.isEmpty() ? anyValid() : recent.get(random.nextInt(recent.size())).clone();
    }

    // ------------------------------------------------------------------------------------------ damage

    private byte[] damage(final byte[] frame)
    {
        final int blockLength = (frame[0] & 0xFF) | (frame[1] & 0xFF) << 8;
        switch (random.nextInt(10))
        {
            case 0:
                return Arrays.copyOf(frame, random.nextInt(frame.length));
            case 1:
            {
                final byte[] longer = Arrays.copyOf(frame, frame.length + 1 + random.nextInt(8));
                for (int i = frame.length; i < longer.length; i++)
                {
                    longer[i] = (byte)random.nextInt(256);
                }
                return longer;
            }
            case 2:
                putU16(frame, 4, chance(300) ? 0 : chance(500) ? 2 : 2 + random.nextInt(65534));
                return frame;
            case 3:
                putU16(frame, 6, 1 + random.nextInt(65535));
                return frame;
            case 4:
            {
                final int[] unknown = {0, 1, 2, 9, 15, 19, 23, 255, 65535};
                putU16(frame, 2, unknown[random.nextInt(unknown.length)]);
                return frame;
            }
            case 5:
                putU16(frame, 0, random.nextInt(blockLength));
                return frame;
            case 6:
                putU16(frame, 0, blockLength + 1 + random.nextInt(200));
                return frame;
            case 7:
            {
                // var-data length that disagrees with the frame (fixed-only operators get a wrong block instead)
                final int at = ReferenceModel.HEADER_LENGTH + blockLength;
                if (at + 4 <= frame.length)
                {
                    final int length = getInt(frame, at);
                    putInt(frame, at, random.nextBoolean() ? length + 1 + random.nextInt(5) :
                        random.nextBoolean() ? -1 : Math.max(0, length - 1 - random.nextInt(5)));
                    if (getInt(frame, at) == length)
                    {
                        putInt(frame, at, length + 1);
                    }
                }
                else
                {
                    putU16(frame, 0, blockLength - 1);
                }
                return frame;
            }
            case 8:
                return new byte[random.nextInt(ReferenceModel.HEADER_LENGTH)];
            default:
            {
                // a newer sender's longer fixed block at the same version: must be accepted as usual
                final int extra = 1 + random.nextInt(16);
                final byte[] padded = new byte[frame.length + extra];
                final int at = ReferenceModel.HEADER_LENGTH + blockLength;
                System.arraycopy(frame, 0, padded, 0, at);
                for (int i = 0; i < extra; i++)
                {
                    padded[at + i] = (byte)random.nextInt(256);
                }
                System.arraycopy(frame, at, padded, at + extra, frame.length - at);
                putU16(padded, 0, blockLength + extra);
                return padded;
            }
        }
    }

    /**
     * The same report as a sender of an older log schema version wrote it: version 0 had no {@code handle} and no
     * {@code destination}, version 1 no {@code destination}, so a shorter fixed block. Old logs must replay
     * (docs/schema_versioning.md, rule 5): such a report is taken whatever destination the session has.
     */
    private static byte[] asOldReport(final byte[] frame, final int version)
    {
        final int oldBlock = version == 0 ? ReportOutcomeEncoder.handleEncodingOffset() :
            ReportOutcomeEncoder.destinationEncodingOffset();
        final int newEnd = ReferenceModel.HEADER_LENGTH + ReportOutcomeEncoder.BLOCK_LENGTH;
        final int oldEnd = ReferenceModel.HEADER_LENGTH + oldBlock;
        final byte[] old = new byte[frame.length - (newEnd - oldEnd)];
        System.arraycopy(frame, 0, old, 0, oldEnd);
        System.arraycopy(frame, newEnd, old, oldEnd, frame.length - newEnd);
        putU16(old, 0, oldBlock);
        putU16(old, 6, version);
        return old;
    }

    private static void putU16(final byte[] frame, final int at, final int value)
    {
        frame[at] = (byte)value;
        frame[at + 1] = (byte)(value >>> 8);
    }

    private static int getInt(final byte[] frame, final int at)
    {
        return (frame[at] & 0xFF) | (frame[at + 1] & 0xFF) << 8 | (frame[at + 2] & 0xFF) << 16 |
            (frame[at + 3] & 0xFF) << 24;
    }

    private static void putInt(final byte[] frame, final int at, final int value)
    {
        frame[at] = (byte)value;
        frame[at + 1] = (byte)(value >>> 8);
        frame[at + 2] = (byte)(value >>> 16);
        frame[at + 3] = (byte)(value >>> 24);
    }
}
