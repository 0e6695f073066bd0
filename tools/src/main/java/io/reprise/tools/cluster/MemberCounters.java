package io.reprise.tools.cluster;

import java.util.Arrays;

import io.reprise.tools.stat.DriverCnc;
import io.reprise.transport.NodeCounters;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersReader;

/**
 * A cluster member's counters, read from another process in its media driver's CnC file as {@code reprise stat}
 * reads them, and its control-request counter written with compare-and-set from 0
 * ({@link NodeCounters#CONTROL_REQUEST}). Each call maps the CnC file afresh and unmaps it: a member that restarts has
 * a new one.
 */
public final class MemberCounters
{
    /** Counter slots read: every index of {@link NodeCounters}, and room for counters a newer node adds. */
    static final int SLOTS = 64;

    /** Not a value of any counter here: the counter is not there. */
    public static final long ABSENT = Long.MIN_VALUE;

    private MemberCounters()
    {
    }

    /**
     * The Reprise counters of the node on {@code aeronDir}, by index ({@link #ABSENT} where a counter is not
     * there), or null when no node runs there: no CnC file, a driver still starting or not heard of for the
     * driver timeout (a file left by a killed member), or no Reprise counters yet.
     */
    public static long[] read(final String aeronDir)
    {
        return withCounters(aeronDir, (counters) ->
        {
            final long[] values = new long[SLOTS];
            Arrays.fill(values, ABSENT);
            final boolean[] any = new boolean[1];
            counters.forEach((counterId, typeId, keyBuffer, label) ->
            {
                final int index = typeId - NodeCounters.TYPE_ID_BASE;
                if (index >= 0 && index < SLOTS)
                {
                    values[index] = counters.getCounterValue(counterId);
                    any[0] = true;
                }
            });
            return any[0] ? values : null;
        });
    }

    /**
     * Sets the control-request counter of the node on {@code aeronDir} from {@code expected} to {@code value}.
     * Returns the value it held when that failed, or {@code expected} when it succeeded; {@link #ABSENT} when no
     * node runs there or it has no such counter.
     */
    public static long compareAndSetControl(final String aeronDir, final long expected, final long value)
    {
        final Long result = withCounters(aeronDir, (counters) ->
        {
            final int[] found = {-1};
            counters.forEach((counterId, typeId, keyBuffer, label) ->
            {
                if (typeId == NodeCounters.TYPE_ID_BASE + NodeCounters.CONTROL_REQUEST && found[0] < 0)
                {
                    found[0] = counterId;
                }
            });
            if (found[0] < 0)
            {
                return null;
            }
            final AtomicCounter control = new AtomicCounter(counters.valuesBuffer(), found[0]);
            return control.compareAndSet(expected, value) ? expected : control.get();
        });
        return null == result ? ABSENT : result;
    }

    private interface CountersFunction<T>
    {
        T apply(CountersReader counters);
    }

    private static <T> T withCounters(final String aeronDir, final CountersFunction<T> function)
    {
        try (DriverCnc cnc = DriverCnc.map(aeronDir))
        {
            return cnc.state() == DriverCnc.State.READY && cnc.driverAlive() ? function.apply(cnc.counters()) : null;
        }
    }
}
