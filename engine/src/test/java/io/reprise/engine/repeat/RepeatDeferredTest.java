package io.reprise.engine.repeat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.schema.client.ResultCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker's connection that refuses attempts (back-pressure) does not cost them a lease: the repeat process offers
 * each refused attempt again until the connection takes it, and drops it once the attempt has ended.
 */
class RepeatDeferredTest
{
    private static final int TENANT = 3;
    private static final long WORKER = 11;
    /** Far longer than any wait here: an attempt that arrives came from a retried offer, not a lease expiry. */
    private static final SessionPolicy POLICY = new SessionPolicy().initialDelayMs(0).leaseMs(600_000);

    /** Dispatches the connection took, as "sessionId/attempt". */
    private final List<String> taken = new CopyOnWriteArrayList<>();
    private final AtomicInteger refusals = new AtomicInteger();
    private final AtomicBoolean open = new AtomicBoolean();

    private boolean link(
        final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int offset, final int length)
    {
        if (!open.get())
        {
            refusals.incrementAndGet();
            return false;
        }
        taken.add(sessionId + "/" + attempt);
        return true;
    }

    private StandaloneNode start(final Path dir) throws Exception
    {
        return StandaloneNode.start(new NodeContext()
            .dataDirectory(dir)
            .rules(new BusinessRules().maxSessions(1024).expectedSessions(64).maxDestinations(4))
            .ringSize(1024)
            .timeTickMs(1)
            .workerLink(this::link));
    }

    private static InProcessClient client(final StandaloneNode node)
    {
        return node.newClient(TENANT, (index, correlationId, templateId, code, value) -> { });
    }

    private static void save(final InProcessClient client, final long sessionId)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {1, 2, 3});
        assertEquals(ResultCode.OK, client.save(sessionId, 0, POLICY, payload, 0, 3));
    }

    @Test
    void shouldOfferRefusedAttemptsAgainUntilTheConnectionTakesThem(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = start(dir))
        {
            final InProcessClient client = client(node);
            node.repeatProcess().workerJoined(WORKER, TENANT, new int[] {0}, 8);
            for (long id = 1; id <= 3; id++)
            {
                save(client, id);
            }
            waitFor(() -> node.repeatProcess().deferred() == 3 && refusals.get() >= 10);
            assertEquals(0, node.repeatProcess().dispatched());

            open.set(true);
            waitFor(() -> taken.size() == 3);
            assertEquals(List.of("1/1", "2/1", "3/1"), taken, "each first attempt, in the order it started");
            waitFor(() -> node.repeatProcess().deferred() == 0);
            assertEquals(3, node.repeatProcess().dispatched());
            assertEquals(0, node.repeatProcess().undeliverable());
        }
    }

    @Test
    void shouldNotOfferARefusedAttemptAgainOnceItHasEnded(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = start(dir))
        {
            final InProcessClient client = client(node);
            node.repeatProcess().workerJoined(WORKER, TENANT, new int[] {0}, 8);
            save(client, 1);
            waitFor(() -> node.repeatProcess().deferred() == 1);
            assertEquals(ResultCode.OK, client.cancel(1));
            waitFor(() -> node.repeatProcess().deferred() == 0);

            open.set(true);
            save(client, 2);
            waitFor(() -> taken.size() == 1);
            assertEquals(List.of("2/1"), taken, "the cancelled session's attempt was not sent");
            assertEquals(1, node.repeatProcess().dispatched());
        }
    }

    private static void waitFor(final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + 20_000;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out");
            Thread.sleep(2);
        }
    }
}
