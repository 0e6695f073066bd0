package io.reprise.transport;

import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;

import io.aeron.Aeron;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client whose stream to the node ends without a Disconnect (its process died, its Aeron client closed): the node
 * closes the connection when the stream's image goes, from within the Aeron client's callback, with no error.
 */
class ClientStreamGoneTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "gone-token";

    @TempDir
    Path dir;

    @Test
    void shouldCloseTheConnectionOfAClientWhoseStreamWentWithoutAnError() throws Exception
    {
        try (RepriseNode node = RepriseNode.start(
                new NodeContext()
                    .dataDirectory(dir.resolve("data"))
                    .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 8).maxDestinations(8))
                    .journalSegmentLength(8L * 1024 * 1024)
                    .ringSize(1024),
                new TransportContext()
                    .aeronDirectoryName(dir.resolve("aeron").toString())
                    .ingressUdpChannel(null)
                    // Longer than the test: the connection goes with its stream, not for its silence.
                    .clientLivenessTimeoutMs(600_000)
                    .tokens(TENANT + "=" + TOKEN));
            Aeron observer = Aeron.connect(new Aeron.Context().aeronDirectoryName(node.aeronDirectoryName())))
        {
            final Aeron clientAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(node.aeronDirectoryName()));
            RepriseClient.connect(
                new ClientContext().aeron(clientAeron).tenant(TENANT).token(TOKEN), (c, t, r, v) -> { });
            final CountersReader counters = observer.countersReader();
            awaitTrue(() -> counter(counters, NodeCounters.CONNECTIONS) == 1, "connected");
            final long errorsBefore = counter(counters, NodeCounters.ERRORS);

            // No Disconnect: its publication closes with its Aeron client, and the node's image of it goes.
            clientAeron.close();
            awaitTrue(() -> counter(counters, NodeCounters.CONNECTIONS) == 0, "the connection closed");
            assertEquals(errorsBefore, counter(counters, NodeCounters.ERRORS), "errors of the node");
        }
    }

    private static void awaitTrue(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadlineNs, "timed out waiting: " + what);
            LockSupport.parkNanos(10_000_000L);
        }
    }

    private static long counter(final CountersReader counters, final int counter)
    {
        final long[] value = {-1};
        counters.forEach((counterId, typeId, keyBuffer, label) ->
        {
            if (typeId == NodeCounters.TYPE_ID_BASE + counter)
            {
                value[0] = counters.getCounterValue(counterId);
            }
        });
        return value[0];
    }
}
