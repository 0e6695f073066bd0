package io.reprise.jmh;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.state.SessionTable;
import io.reprise.engine.state.TimerWheel;

/**
 * What each part of a freeze costs at {@code sessions} live sessions (the rules' default destinations): the session
 * table's, the timer wheel's and the destinations' view, and the end of the views, averaged over 1,000 freezes
 * after 2,000 to warm up, with nothing applied in between.
 * <p>
 * {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms8g -Xmx8g -cp jmh/target/benchmarks.jar
 * io.reprise.jmh.FreezePartsProbe 10000000}
 */
public final class FreezePartsProbe
{
    private static final int WARM_UP = 2_000;
    private static final int MEASURED = 1_000;

    private FreezePartsProbe()
    {
    }

    public static void main(final String[] args)
    {
        final int sessions = Integer.parseInt(args[0]);
        final BusinessRules rules = new BusinessRules().maxSessions(sessions + 1_000).expectedSessions(sessions + 1_000)
            .conclude();
        final BusinessLogic logic = new BusinessLogic(rules, OutputSink.NONE);
        final SessionTable table = logic.sessions();
        for (int i = 0; i < sessions; i++)
        {
            table.allocate(1, i);
        }
        logic.reserveSnapshotCopies();
        final long[] ns = new long[4];
        for (int round = 0; round < WARM_UP + MEASURED; round++)
        {
            final long t0 = System.nanoTime();
            final SessionTable tableView = table.freeze();
            final long t1 = System.nanoTime();
            final TimerWheel wheelView = logic.timers().freeze(tableView);
            final long t2 = System.nanoTime();
            logic.destinations().freeze(tableView);
            final long t3 = System.nanoTime();
            table.endView();
            logic.timers().endView();
            final long t4 = System.nanoTime();
            if (round >= WARM_UP && wheelView.size() == logic.timers().size())
            {
                ns[0] += t1 - t0;
                ns[1] += t2 - t1;
                ns[2] += t3 - t2;
                ns[3] += t4 - t3;
            }
        }
        System.out.printf("sessions %,d, %,d destinations: per freeze, us: session table %.1f, timer wheel %.1f, " +
            "destinations %.1f; end of the views %.1f%n", sessions, rules.maxDestinations(), ns[0] / 1e3 / MEASURED,
            ns[1] / 1e3 / MEASURED, ns[2] / 1e3 / MEASURED, ns[3] / 1e3 / MEASURED);
    }
}
