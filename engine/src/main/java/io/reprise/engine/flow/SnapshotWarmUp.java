package io.reprise.engine.flow;

import java.util.SplittableRandom;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.engine.logic.OutputSink;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Runs the snapshot path of the business logic on a small scratch state before a node serves, through a
 * {@link StateHandOff} as the node's business-logic thread serves it: freeze, saving ahead, the view's digest,
 * recycle, and now and then a few operators while the view is held. A freeze runs once per snapshot, too seldom for
 * the JIT: interpreted, it took milliseconds at 10^7 sessions where compiled code takes under 0.1 ms. Through the
 * hand-off, because its branches are taken only at a snapshot: warmed on the logic alone, {@code StateHandOff.serve}
 * and {@code hasWork} were compiled without them and deoptimised on the business-logic thread at the first
 * snapshot (JIT log of {@code SnapshotProbe}). The checked rounds compare the view's digest with the state's at
 * its freeze, so a node whose copy-on-write is broken refuses to start. Nothing of the node's own state is touched.
 * (What the snapshot agent does with a view, the digest and the image, runs on its own thread, and its loops are
 * long enough to be compiled as they run.)
 */
public final class SnapshotWarmUp
{
    private static final int SESSIONS = 1_000;

    /** The digest is O(sessions): the view is checked in one round of this many. */
    static final int CHECK_EVERY = 64;
    /**
     * Operators applied before any view, and while a view is held in each checked round. The JIT compiles the write
     * path from the profiles the warm-up leaves, so they must look like a node's that snapshots now and then:
     * <ul>
     *   <li>with no write ever saving first, the save branch was "never taken", and the first snapshot deoptimised
     *       it everywhere: a 30 ms step in {@code FreezeProbe};</li>
     *   <li>with 16 operators in every round's view, saving looked common: the business logic of a node then took
     *       0.67-0.80 µs of CPU per saved record in {@code PipelineCpuProbe}, against 0.56-0.64 with no warm-up;
     *       20,000 more operators without a view did not bring it back (0.69-0.70);</li>
     *   <li>with these few, it took 0.60-0.63, and the first snapshot's longest step was 2.8 ms.</li>
     * </ul>
     */
    static final int OPERATORS_WITHOUT_VIEW = SESSIONS;
    static final int OPERATORS_WITH_VIEW = 2;

    private SnapshotWarmUp()
    {
    }

    /**
     * @param rounds freezes to run, {@value #OPERATORS_WITH_VIEW} operators applied while one in
     *               {@value #CHECK_EVERY} is held, after {@value #OPERATORS_WITHOUT_VIEW} without a view.
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
        final Operators operators = new Operators();
        operators.applySetTime(logic);
        for (int i = 0; i < OPERATORS_WITHOUT_VIEW; i++)
        {
            operators.applyOne(logic);
        }
        final StateHandOff handOff = new StateHandOff();
        for (int round = 0; round < rounds; round++)
        {
            final boolean check = round % CHECK_EVERY == 0;
            final long digest = check ? logic.digest() : 0;
            handOff.requestFreeze();
            handOff.serve(logic);
            final BusinessLogic view = handOff.takeFrozen();
            for (int i = 0; check && i < OPERATORS_WITH_VIEW; i++)
            {
                operators.applyOne(logic);
            }
            while (handOff.hasWork())
            {
                handOff.serve(logic); // saves ahead, as an idle node does while the view is out
            }
            if (check && view.digest() != digest)
            {
                throw new IllegalStateException("a frozen view differs from its state in warm-up round " + round);
            }
            handOff.giveBack(view);
            handOff.serve(logic); // recycles
        }
        return operators.index;
    }

    /** Random saves, cancels and time steps over {@link #SESSIONS} sessions, each at the next index. */
    private static final class Operators
    {
        private final OperatorEncoder encoder = new OperatorEncoder();
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
        private final UnsafeBuffer payload = new UnsafeBuffer(new byte[32]);
        private final SessionPolicy policy = new SessionPolicy().initialDelayMs(50).backoffInitialMs(100)
            .backoffMaxMs(400).maxAttempts(3).leaseMs(200);
        private final SplittableRandom random = new SplittableRandom(1);
        private long index;
        private long timeMs = 1_000_000;

        void applySetTime(final BusinessLogic logic)
        {
            logic.apply(++index, 1, buffer, 0, encoder.setTime(buffer, 0, timeMs));
        }

        void applyOne(final BusinessLogic logic)
        {
            final long sessionId = random.nextInt(SESSIONS);
            final int length = switch (random.nextInt(8))
            {
                case 0 -> encoder.cancelSession(buffer, 0, 1, index, 1, sessionId);
                case 1 -> encoder.setTime(buffer, 0, timeMs += 20);
                default -> encoder.saveSession(buffer, 0, 1, index, 1, sessionId, 0, policy, payload, 0, 32);
            };
            logic.apply(++index, 1, buffer, 0, length);
        }
    }
}
