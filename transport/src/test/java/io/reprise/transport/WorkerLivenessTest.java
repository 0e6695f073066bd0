package io.reprise.transport;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import io.aeron.Aeron;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker's liveness is the node's own (docs/client.md, disconnect and liveness): a worker that sends nothing, not
 * even a heartbeat, for the liveness timeout is dropped and gets no attempt after it, whatever the media driver
 * thinks of its process; an idle worker that only polls stays connected by its heartbeats.
 */
class WorkerLivenessTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "liveness-token";
    private static final int DESTINATION = 3;
    private static final long LIVENESS_MS = 1_500;
    private static final int SESSIONS = 5;

    @TempDir
    Path dir;

    @Test
    void shouldDropASigkilledWorkerWithinItsLivenessAndHandItsAttemptsToTheNextWorker() throws Exception
    {
        final String aeronDir = SmallNode.aeronDir(dir);
        try (RepriseNode node = SmallNode.start(dir, new TransportContext()
                .workerLivenessTimeoutMs(LIVENESS_MS)
                .tokens(TENANT + "=" + TOKEN));
            Aeron aeron = ClientContext.connectAeron(aeronDir);
            RepriseClient client = RepriseClient.connect(
                new ClientContext().aeron(aeron).tenant(TENANT).token(TOKEN), (c, t, code, v) -> { }))
        {
            final Process child = startStuckWorker(aeronDir);
            try
            {
                final List<String> lines = new CopyOnWriteArrayList<>();
                final Thread reader = readLines(child, lines);
                waitFor(() -> lines.stream().anyMatch((line) -> line.startsWith("ready")), 30_000,
                    "the worker process announced itself: " + lines);

                final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {42});
                final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).leaseMs(1_000).maxAttempts(20)
                    .backoffInitialMs(50).backoffMaxMs(100);
                for (long id = 1; id <= SESSIONS; id++)
                {
                    assertEquals(ResultCode.OK, client.saveAndAwait(id, DESTINATION, policy, payload, 0, 1));
                }
                waitFor(() -> attempts(lines) == SESSIONS, 10_000, "the worker process took every first attempt");

                // Idle but polling: its heartbeats keep it connected well past its liveness timeout.
                Thread.sleep(3 * LIVENESS_MS);
                assertEquals(0, counter(aeron, NodeCounters.WORKERS_SILENT), "a polling worker was dropped: " + lines);
                assertEquals(2, counter(aeron, NodeCounters.CONNECTIONS));

                child.destroyForcibly(); // SIGKILL
                final long killedAtMs = System.currentTimeMillis();
                waitFor(() -> counter(aeron, NodeCounters.WORKERS_SILENT) == 1, 30_000, "the dead worker dropped");
                final long droppedAfterMs = System.currentTimeMillis() - killedAtMs;
                System.out.println("WorkerLivenessTest: SIGKILLed worker dropped " + droppedAfterMs + " ms after the " +
                    "kill (liveness timeout " + LIVENESS_MS + " ms)");
                assertTrue(droppedAfterMs <= LIVENESS_MS + 1_500, "dropped after " + droppedAfterMs + " ms");
                assertEquals(1, counter(aeron, NodeCounters.CONNECTIONS));

                // Dropped: nothing goes to it any more, though its sessions come back ready as their leases end.
                final long dispatchedAtDrop = node.node().repeatProcess().dispatched();
                Thread.sleep(2_000);
                assertEquals(dispatchedAtDrop, node.node().repeatProcess().dispatched(),
                    "attempts dispatched with no live worker");
                reader.interrupt();

                // A new worker gets the dead worker's sessions once their leases have run out, and completes them.
                final Set<Long> completed = ConcurrentHashMap.newKeySet();
                try (RepriseWorker worker = RepriseWorker.connect(
                    new ClientContext().aeron(aeron).tenant(TENANT).token(TOKEN), new int[] {DESTINATION}, 8, null))
                {
                    waitFor(() ->
                    {
                        worker.poll((tenant, sessionId, destination, attempt, lease, handle, buffer, offset, length) ->
                        {
                            assertTrue(attempt >= 2, "a second attempt at least: " + attempt);
                            worker.report(sessionId, destination, attempt, handle, Outcome.SUCCEEDED, 0, 0);
                            completed.add(sessionId);
                        });
                        client.poll();
                        return completed.size() == SESSIONS;
                    }, 20_000, "the next worker completed the dead worker's sessions: " + completed);
                }
                assertTrue(node.node().awaitApplied(10_000));
            }
            finally
            {
                child.destroyForcibly();
            }
        }
    }

    private static int attempts(final List<String> lines)
    {
        return (int)lines.stream().filter((line) -> line.startsWith("attempt ")).count();
    }

    private static long counter(final Aeron aeron, final int counter)
    {
        final CountersReader counters = aeron.countersReader();
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

    private static Process startStuckWorker(final String aeronDir) throws Exception
    {
        final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        return new ProcessBuilder(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx128m",
            "-cp", System.getProperty("java.class.path"), StuckWorkerMain.class.getName(),
            aeronDir, String.valueOf(TENANT), TOKEN, String.valueOf(DESTINATION), "16")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    }

    private static Thread readLines(final Process process, final List<String> lines)
    {
        final Thread thread = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = in.readLine()))
                {
                    lines.add(line);
                }
            }
            catch (final java.io.IOException ignored)
            {
                // The process was killed: its output ends here.
            }
        }, "stuck-worker-output");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void waitFor(final BooleanSupplier condition, final long timeoutMs, final String what)
        throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out: " + what);
            Thread.sleep(5);
        }
    }
}
