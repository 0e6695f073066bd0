package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** {@link BusinessLogic#prefetch} reads and never changes anything, whatever it is given. */
class PrefetchTest
{
    private final LogicDriver driver = new LogicDriver(LogicDriver.smallRules());
    private final SessionPolicy policy = new SessionPolicy().initialDelayMs(10).jitterPermille(0).leaseMs(100);

    @Test
    void shouldChangeNothing()
    {
        driver.time(1_000);
        for (int i = 0; i < 50; i++)
        {
            assertEquals(ResultCode.OK, driver.save(1 + i % 3, i, i % 3, policy, new byte[] {(byte)i}));
        }
        driver.time(1_010);
        driver.begin(0, 5);
        final long digest = driver.logic.digest();
        final long index = driver.logic.appliedIndex();

        final OperatorEncoder encoder = new OperatorEncoder();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
        final UnsafeBuffer empty = new UnsafeBuffer(new byte[0]);
        for (int kind = 0; kind < 6; kind++)
        {
            final int length = switch (kind)
            {
                case 0 -> encoder.saveSession(buffer, 0, 1, 1, 1, 7, 0, policy, empty, 0, 0);
                case 1 -> encoder.saveSession(buffer, 0, 2, 1, 2, 999, 1, policy, empty, 0, 0);
                case 2 -> encoder.reportOutcome(buffer, 0, 1, 1, 1, 0, 0, 1, OperatorEncoder.NO_HANDLE,
                    Outcome.SUCCEEDED, 0, 0, empty, 0, 0);
                case 3 -> encoder.cancelSession(buffer, 0, 3, 1, 3, 5);
                case 4 -> encoder.setTime(buffer, 0, 5_000);
                default -> encoder.beginRepeats(buffer, 0, 1, 10);
            };
            for (int cut = 0; cut <= length + 8; cut++)
            {
                driver.logic.prefetch(buffer, 0, cut);
            }
        }

        assertEquals(digest, driver.logic.digest());
        assertEquals(index, driver.logic.appliedIndex());
    }
}
