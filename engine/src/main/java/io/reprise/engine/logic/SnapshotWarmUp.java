package io.reprise.engine.logic;

import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Runs the snapshot path of the business logic on a small scratch state before a node serves: freeze, operators
 * that save blocks of the state the view shares, saving ahead between them, the view's image and digest, recycle.
 * A freeze runs once per snapshot, too seldom for the JIT: interpreted, it took milliseconds at 10^7 sessions where
 * compiled code takes under 0.1 ms. And the write path and the saving ahead, if compiled before any view was held,
 * are deoptimised and recompiled at the first snapshot (seen in {@code FreezeProbe}: a dozen deoptimisations of
 * the block save and of saving ahead right after the first freeze, and a 5 ms step). Run here, the one is compiled
 * and the others' profiles have seen views. Some rounds also check that
 * the view still has the digest of its freeze, so a node whose copy-on-write is broken refuses to start. Nothing of
 * the node's own state is touched. (What the snapshot agent does with a view, the digest and the image, runs on its
 * own thread, and its loops are long enough to be compiled as they run.)
 */
public final class SnapshotWarmUp
{
    private static final int SESSIONS = 1_000;
    private static final int OPERATORS_PER_ROUND = 16;
    /** The digest is O(sessions): the view is checked in one round of this many. */
    private static final int CHECK_EVERY = 64;

    private SnapshotWarmUp()
    {
    }

    /**
     * @param rounds freezes to run, each with {@value #OPERATORS_PER_ROUND} operators while the view is held.
     * @return the operators applied.
     * @throws IllegalStateException if a view does not keep the digest of its freeze.
     */
    public static long run(final int rounds)
    {
        final BusinessLogic logic = new BusinessLogic(new BusinessRules()
            .maxSessions(2 * SESSIONS)
            .expectedSessions(SESSIONS)
            .maxDestinations(4)
            .terminalRetentionMs(1_000)
            .deadRetentionMs(1_000)
            .conclude(), OutputSink.NONE);
        logic.reserveSnapshotCopies();
        final OperatorEncoder encoder = new OperatorEncoder();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[32]);
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(50).backoffInitialMs(100).backoffMaxMs(400)
            .maxAttempts(3).leaseMs(200);
        final SplittableRandom random = new SplittableRandom(1);
        long index = 0;
        long timeMs = 1_000_000;
        logic.apply(++index, 1, buffer, 0, encoder.setTime(buffer, 0, timeMs));
        for (int round = 0; round < rounds; round++)
        {
            final boolean check = round % CHECK_EVERY == 0;
            final long digest = check ? logic.digest() : 0;
            final BusinessLogic view = logic.freeze();
            for (int i = 0; i < OPERATORS_PER_ROUND; i++)
            {
                if (random.nextInt(4) == 0)
                {
                    logic.saveAhead(); // as the node does between batches
                }
                final long sessionId = random.nextInt(SESSIONS);
                final int length = switch (random.nextInt(8))
                {
                    case 0 -> encoder.cancelSession(buffer, 0, 1, index, 1, sessionId);
                    case 1 -> encoder.setTime(buffer, 0, timeMs += 20);
                    default -> encoder.saveSession(buffer, 0, 1, index, 1, sessionId, 0, policy, payload, 0, 32);
                };
                logic.apply(++index, 1, buffer, 0, length);
            }
            if (check && view.digest() != digest)
            {
                throw new IllegalStateException("copy-on-write broken: a view changed in warm-up round " + round);
            }
            logic.recycle(view);
        }
        return index;
    }
}
