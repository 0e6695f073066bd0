package io.reprise.jmh;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.schema.client.ResultCode;
import org.agrona.DirectBuffer;

/** What the workload drives: the real business logic, or the hand-written baseline. */
interface Engine
{
    ResultCode apply(long index, long term, DirectBuffer buffer, int offset, int length);

    /** Sessions READY at a destination: what the leader's repeat process looks at before a BeginRepeats. */
    int ready(int destination);

    /** Hint that an operator further on will be applied: see {@link BusinessLogic#prefetch}. */
    default void prefetch(final DirectBuffer buffer, final int offset, final int length)
    {
    }

    static Engine of(final BusinessLogic logic)
    {
        return new Engine()
        {
            public ResultCode apply(
                final long index, final long term, final DirectBuffer buffer, final int offset, final int length)
            {
                return logic.apply(index, term, buffer, offset, length);
            }

            public int ready(final int destination)
            {
                return logic.destinations().ready(destination);
            }

            public void prefetch(final DirectBuffer buffer, final int offset, final int length)
            {
                logic.prefetch(buffer, offset, length);
            }
        };
    }
}
