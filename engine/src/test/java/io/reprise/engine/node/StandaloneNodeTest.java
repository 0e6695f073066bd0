package io.reprise.engine.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.testing.Snapshots;
import io.reprise.schema.client.ResultCode;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandaloneNodeTest
{
    private final List<String> steps = Collections.synchronizedList(new ArrayList<>());
    private final ConcurrentHashMap<Long, ResultCode> results = new ConcurrentHashMap<>();
    private final AtomicLong lastAckedIndex = new AtomicLong();
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[128]);
    private final SessionPolicy policy = new SessionPolicy().initialDelayMs(60_000);

    private NodeContext context(final Path dir)
    {
        return new NodeContext()
            .dataDirectory(dir)
            .rules(new BusinessRules().maxSessions(100_000).expectedSessions(1024).maxDestinations(16))
            .journalSegmentLength(4L * 1024 * 1024)
            .journalWriteBufferBytes(2 * 1024 * 1024)
            .ringSize(1024)
            .timeTickMs(1_000_000) // one SetTime at first start, then none: the state stays still to be compared
            .lifecycleListener(steps::add);
    }

    private InProcessClient client(final StandaloneNode node)
    {
        return node.newClient(1, (index, correlationId, templateId, code, value) ->
        {
            results.put(correlationId, code);
            if (code == ResultCode.OK)
            {
                lastAckedIndex.accumulateAndGet(index, Math::max);
            }
        });
    }

    private void saveAll(final InProcessClient client, final long fromId, final int count)
    {
        final long deadline = System.currentTimeMillis() + 30_000;
        for (long id = fromId; id < fromId + count; id++)
        {
            ResultCode code;
            // Back-pressure and a failing disk both mean "not taken, offer it again later".
            while ((code = client.save(id, 1, policy, payload, 0, payload.capacity())) == ResultCode.BACK_PRESSURE ||
                code == ResultCode.STORAGE_UNAVAILABLE)
            {
                assertTrue(System.currentTimeMillis() < deadline, "save " + id + " not taken: " + code);
                Thread.onSpinWait();
            }
            assertEquals(ResultCode.OK, code);
        }
    }

    private static List<String> names(final List<String> steps)
    {
        return steps.stream().map((s) -> s.split(" ")[0]).collect(Collectors.toList());
    }

    @Test
    void shouldStartAndShutDownInTheSeedsOrder(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = StandaloneNode.start(context(dir.resolve("node"))))
        {
            saveAll(client(node), 1, 10);
            assertTrue(node.awaitApplied(10_000));
        }
        assertEquals(List.of(
            "data-directory-initialised",
            "catalog-read",          // 1. the log of snapshot names
            "snapshot-none",         // 2. restore the state from the snapshot (none yet)
            "storage-opened",        //    and the saved-session sources it lists
            "journal-opened",        // 3. read the operation log to its end
            "journal-replayed",
            "flow-started",
            "agent-started",         // 4. time process
            "agent-started",         //    container flush
            "agent-started",         //    storage merger
            "agent-started",         //    repeat process
            "agent-started",         //    snapshot agent
            "started",
            "done-signalled",        // shutdown: close done
            "agent-stopped",         // wait for the background processes
            "agent-stopped",
            "agent-stopped",
            "agent-stopped",
            "agent-stopped",
            "flushed-and-synced",    // flush and sync
            "exited"), names(steps));
        assertTrue(steps.get(7).endsWith("time-process") && steps.get(8).endsWith("container-flush") &&
            steps.get(9).endsWith("storage-merger") && steps.get(10).endsWith("repeat-process") &&
            steps.get(11).endsWith("snapshot-agent"), steps.toString());
        assertTrue(steps.get(14).endsWith("time-process") && steps.get(15).endsWith("container-flush") &&
            steps.get(16).endsWith("storage-merger") && steps.get(17).endsWith("repeat-process") &&
            steps.get(18).endsWith("snapshot-agent"), steps.toString());
    }

    @Test
    void shouldRestartFromSnapshotAndJournalWithTheSameState(@TempDir final Path dir) throws Exception
    {
        final long digest;
        final long applied;
        try (StandaloneNode node = StandaloneNode.start(context(dir).snapshotEveryOperators(300)))
        {
            saveAll(client(node), 1, 1000);
            assertTrue(node.awaitApplied(10_000));
            waitFor(() -> node.snapshotAgent().lastSnapshotIndex() > node.appliedIndex() - 300);
            node.close();
            digest = node.logic().digest();
            applied = node.logic().appliedIndex();
        }
        assertTrue(steps.stream().anyMatch((s) -> s.startsWith("snapshot-taken")), steps.toString());
        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(applied, node.logic().appliedIndex());
            assertEquals(digest, node.logic().digest());
            assertTrue(steps.stream().anyMatch((s) -> s.startsWith("snapshot-restored")), steps.toString());
            assertTrue(lastAckedIndex.get() <= applied);
        }
    }

    @Test
    void shouldFallBackToAnOlderSnapshotWhenTheNewestIsCorrupt(@TempDir final Path dir) throws Exception
    {
        final long digest;
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            saveAll(client(node), 1, 500);
            assertTrue(node.awaitApplied(10_000));
            Snapshots.takeNow(node);
            saveAll(client(node), 501, 500);
            assertTrue(node.awaitApplied(10_000));
            Snapshots.takeNow(node);
            node.close();
            digest = node.logic().digest();
        }
        final SnapshotInfo newest;
        try (SnapshotCatalog catalog = SnapshotCatalog.open(new io.reprise.engine.disk.FileChannelDisk(),
            dir.resolve("snapshots")))
        {
            assertEquals(2, catalog.snapshots().size(), "retained snapshots");
            newest = catalog.snapshots().get(1);
        }
        final Path file = dir.resolve("snapshots").resolve(newest.fileName());
        try (DiskFile f = new io.reprise.engine.disk.FileChannelDisk().open(file, false))
        {
            final ByteBuffer b = ByteBuffer.allocate(1);
            f.read(b, 200);
            b.put(0, (byte)(b.get(0) ^ 1)).clear();
            f.write(b, 200);
        }
        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(digest, node.logic().digest());
            final String rejected = steps.stream().filter((s) -> s.startsWith("snapshot-rejected")).findFirst()
                .orElseThrow(() -> new AssertionError(steps.toString()));
            assertTrue(rejected.contains(newest.fileName()) && rejected.contains("checksum"), rejected);
            assertTrue(steps.stream().anyMatch((s) -> s.startsWith("snapshot-restored")), steps.toString());
        }
    }

    @Test
    void shouldRefuseWritesWhileTheDiskIsFullAndLoseNothingAcknowledged() throws Exception
    {
        final SimulatedDisk disk = new SimulatedDisk(7);
        final Path dir = Path.of("/sim/node");
        final long ackedBeforeFull;
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk)))
        {
            final InProcessClient client = client(node);
            saveAll(client, 1, 100);
            assertTrue(node.awaitApplied(10_000));
            disk.capacityBytes(disk.usedBytes());
            // Fill the segment until the journal needs a new one and cannot make it.
            long id = 1000;
            ResultCode code = ResultCode.OK;
            while (code != ResultCode.STORAGE_UNAVAILABLE)
            {
                code = client.save(id++, 1, policy, payload, 0, payload.capacity());
                if (code == ResultCode.BACK_PRESSURE)
                {
                    Thread.onSpinWait();
                }
            }
            assertTrue(node.storageFailure().contains("No space"), node.storageFailure());
            ackedBeforeFull = lastAckedIndex.get();
            disk.capacityBytes(Long.MAX_VALUE);
            waitFor(() -> node.storageFailure() == null);
            saveAll(client, id, 1);
            assertTrue(node.awaitApplied(10_000));
            assertNull(node.fatalError());
        }
        disk.crash();
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk)))
        {
            assertTrue(node.logic().appliedIndex() >= ackedBeforeFull);
            assertTrue(node.logic().appliedIndex() >= lastAckedIndex.get());
        }
    }

    @Test
    void shouldRetryAFailedSyncAndLoseNothingAcknowledged() throws Exception
    {
        final SimulatedDisk disk = new SimulatedDisk(9);
        final Path dir = Path.of("/sim/node");
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk)))
        {
            final InProcessClient client = client(node);
            saveAll(client, 1, 50);
            assertTrue(node.awaitApplied(10_000));
            disk.failSyncs(3);
            saveAll(client, 100, 50);
            assertTrue(node.awaitApplied(10_000));
        }
        final long acked = lastAckedIndex.get();
        disk.crash();
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk)))
        {
            assertTrue(node.logic().appliedIndex() >= acked, node.logic().appliedIndex() + " < " + acked);
            assertEquals(100, node.logic().sessions().size());
        }
    }

    @Test
    void shouldKeepServingWhenASnapshotCannotBeWrittenAndTakeItLater() throws Exception
    {
        final SimulatedDisk disk = new SimulatedDisk(11);
        final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        final Path dir = Path.of("/sim/node");
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk).snapshotEveryOperators(50)
            .snapshotEveryMs(100).errorHandler(errors::add)))
        {
            final InProcessClient client = client(node);
            saveAll(client, 5000, 1);
            assertTrue(node.awaitApplied(10_000));
            // The journal's segment exists and is preallocated; a snapshot needs new space, which there is none of.
            disk.capacityBytes(disk.usedBytes());
            saveAll(client, 1, 200);
            assertTrue(node.awaitApplied(10_000));
            // The snapshot, or the container flush it waits for, fails for lack of space; the node serves on.
            waitFor(() -> errors.stream().anyMatch((e) -> String.valueOf(e.getMessage()).contains("No space")));
            assertNull(node.fatalError());
            saveAll(client, 1000, 10);
            assertTrue(node.awaitApplied(10_000));

            disk.capacityBytes(Long.MAX_VALUE);
            waitFor(() -> steps.stream().anyMatch((s) -> s.startsWith("snapshot-taken")));
            assertNull(node.fatalError());
        }
    }

    /**
     * An idle business logic serves the snapshot agent's freeze between duty cycles that apply nothing, whatever the
     * ring stages' idle strategy: the snapshot is at the applied index, and no entry was journaled to get it. The
     * test waits until the business-logic stage has idled with nothing to do (observed through its idle strategy,
     * not slept for), and checks that the freeze was served in duty cycles that applied no entry.
     */
    @Test
    void shouldSnapshotAnIdleNodeWithoutAnEntryWhateverTheWaitStrategy(@TempDir final Path dir) throws Exception
    {
        for (final String name : new String[] {"sleeping", "yielding", "blocking", "busy-spin"})
        {
            final IdleObserver idle = new IdleObserver();
            try (StandaloneNode node = StandaloneNode.start(context(dir.resolve(name)).stageIdleStrategy(name)
                .stageIdleStrategies(() -> idle.observe(NodeContext.stageIdleStrategyNamed(name)))))
            {
                saveAll(client(node), 1, 20);
                assertTrue(node.awaitApplied(10_000));
                idle.awaitIdle(name);
                final long applied = node.appliedIndex();
                final long servingCycles = idle.workCycles.get();
                assertEquals(applied, Snapshots.takeNow(node), name);
                assertEquals(applied, node.publishedIndex(), name + ": nothing was journaled for the snapshot");
                assertTrue(idle.workCycles.get() > servingCycles, name + ": the freeze was served while idle");
                // A second one, after the view came back: still served, at a new index.
                saveAll(client(node), 100, 5);
                assertTrue(node.awaitApplied(10_000));
                idle.awaitIdle(name);
                assertEquals(node.appliedIndex(), Snapshots.takeNow(node), name);
            }
        }
    }

    /**
     * Watches the business-logic stage's duty cycles through the idle strategy its runner calls after each: how many
     * did nothing (idle), and how many did something (entries applied, or requests such as a freeze served).
     */
    private static final class IdleObserver
    {
        private static final String LOGIC_THREAD = "reprise-business-logic";
        final AtomicLong idleCycles = new AtomicLong();
        final AtomicLong workCycles = new AtomicLong();

        IdleStrategy observe(final IdleStrategy delegate)
        {
            return new IdleStrategy()
            {
                public void idle(final int workCount)
                {
                    if (LOGIC_THREAD.equals(Thread.currentThread().getName()))
                    {
                        (workCount > 0 ? workCycles : idleCycles).incrementAndGet();
                    }
                    delegate.idle(workCount);
                }

                public void idle()
                {
                    delegate.idle();
                }

                public void reset()
                {
                    delegate.reset();
                }
            };
        }

        /** Until the business logic has had two duty cycles with nothing to do since the call. */
        void awaitIdle(final String name) throws InterruptedException
        {
            final long target = idleCycles.get() + 2;
            final long deadline = System.currentTimeMillis() + 10_000;
            while (idleCycles.get() < target)
            {
                assertTrue(System.currentTimeMillis() < deadline, name + ": the business logic never idled");
                Thread.sleep(1);
            }
        }
    }

    /**
     * The business logic never waits for a snapshot: the snapshot agent writes a frozen view of the state, so with
     * the snapshot file's creation held for as long as the test likes, thousands of operators are still applied, and
     * the snapshot, once let go, holds the state at the index where it began.
     */
    @Test
    void shouldKeepApplyingWhileASnapshotIsHeldMidWrite(@TempDir final Path dir) throws Exception
    {
        final CountDownLatch snapshotWriting = new CountDownLatch(1);
        final CountDownLatch letGo = new CountDownLatch(1);
        final Disk disk = new ForwardingDisk(new FileChannelDisk())
        {
            public DiskFile open(final Path file, final boolean create) throws IOException
            {
                if (create && file.getFileName().toString().endsWith(".snapshot.tmp"))
                {
                    snapshotWriting.countDown();
                    try
                    {
                        letGo.await();
                    }
                    catch (final InterruptedException ex)
                    {
                        throw new IOException(ex);
                    }
                }
                return disk.open(file, create);
            }
        };
        final long begun;
        // Retain them all: the snapshots taken after the held one must not drop it from the catalog.
        try (StandaloneNode node = StandaloneNode.start(
            context(dir).disk(disk).snapshotEveryOperators(500).snapshotsRetained(100)))
        {
            final InProcessClient client = client(node);
            saveAll(client, 1, 1000);
            assertTrue(snapshotWriting.await(20, TimeUnit.SECONDS), "a snapshot began");
            begun = steps.stream().filter((s) -> s.startsWith("snapshot-starting index="))
                .mapToLong((s) -> Long.parseLong(s.substring("snapshot-starting index=".length()))).max().orElseThrow();

            saveAll(client, 1001, 3000);
            assertTrue(node.awaitApplied(20_000), "applied while the snapshot is held");
            assertTrue(node.appliedIndex() >= begun + 3000, node.appliedIndex() + " after " + begun);
            assertTrue(steps.stream().noneMatch((s) -> s.startsWith("snapshot-taken")), "the snapshot is still held");

            letGo.countDown();
            waitFor(() -> steps.stream().anyMatch((s) -> s.startsWith("snapshot-taken")));
            assertNull(node.fatalError());
        }
        try (SnapshotCatalog catalog = SnapshotCatalog.open(new FileChannelDisk(), dir.resolve("snapshots")))
        {
            assertTrue(catalog.snapshots().stream().anyMatch((info) -> info.index() == begun),
                "the held snapshot is of index " + begun + ": " + catalog.snapshots());
        }
    }

    @Test
    void shouldRefuseAnOperatorLargerThanTheRulesAllowBeforeItEntersTheRing(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            final InProcessClient client = client(node);
            final UnsafeBuffer big = new UnsafeBuffer(new byte[node.logic().rules().maxPayloadBytes() + 4096]);
            final long correlationId = client.nextCorrelationId();
            assertEquals(ResultCode.PAYLOAD_TOO_LARGE, client.save(1, 1, policy, big, 0, big.capacity()));
            assertEquals(correlationId, client.nextCorrelationId(), "a refused operator uses no correlation id");
            assertEquals(ResultCode.OK, client.save(2, 1, policy, payload, 0, payload.capacity()));
            assertEquals(correlationId + 1, client.nextCorrelationId());
            assertTrue(node.awaitApplied(10_000));
        }
    }

    private static void waitFor(final java.util.function.BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + 20_000;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out");
            Thread.sleep(1);
        }
    }

}
