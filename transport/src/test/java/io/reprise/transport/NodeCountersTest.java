package io.reprise.transport;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.engine.node.Engine;
import io.reprise.engine.state.DestinationFigures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NodeCountersTest
{
    @TempDir
    Path dir;

    /**
     * The session counts are summed while the business logic runs: the figures index names the applied index only
     * when nothing was applied during the sum, so a reader (the cluster demo's drain) never takes a sum that straddles
     * entries for the state at one index.
     */
    @Test
    void shouldNameTheAppliedIndexOfTheSessionCountsOnlyWhenNothingWasAppliedWhileSumming() throws Exception
    {
        try (MediaDriver driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(dir.resolve("aeron").toString())
                .threadingMode(ThreadingMode.SHARED)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
            Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
            NodeCounters counters = new NodeCounters(aeron, null, null, null))
        {
            assertEquals(-1, counters.get(NodeCounters.FIGURES_INDEX).get(), "before any sum");

            final AtomicLong applied = new AtomicLong(41);
            counters.refreshSessionCounts(engine(applied::get), 41);
            assertEquals(41, counters.get(NodeCounters.FIGURES_INDEX).get(), "nothing applied while summing");

            // An entry applied between the caller's read of the index and the end of the sum.
            counters.refreshSessionCounts(engine(applied::incrementAndGet), 41);
            assertEquals(-1, counters.get(NodeCounters.FIGURES_INDEX).get(), "an entry applied while summing");
        }
    }

    /** An engine whose applied index is {@code applied} and whose destinations all count 0. */
    private static Engine engine(final LongSupplier applied)
    {
        final DestinationFigures figures = new DestinationFigures(4);
        return (Engine)Proxy.newProxyInstance(Engine.class.getClassLoader(), new Class<?>[] {Engine.class},
            (proxy, method, args) -> switch (method.getName())
            {
                case "appliedIndex" -> applied.getAsLong();
                case "destinationFigures" -> figures;
                default -> throw new UnsupportedOperationException(method.getName());
            });
    }
}
