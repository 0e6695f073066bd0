package io.reprise.transport;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A client and a worker that own their Aeron clients, on the media driver that a node embeds, as users run them: the
 * node runs in a process of its own ({@link NodeMain}), is killed with SIGKILL (its driver dies with it) and, once
 * both have noticed, restarted on the same data and Aeron directories. Kept and polled through the outage, both
 * carry on by themselves, nothing but {@link ConnectException} comes out of them meanwhile, and their attempts to
 * reconnect back off.
 */
class NodeRestartTest
{
    private static final int TENANT = 1;
    private static final String TOKEN = "restart-token";
    private static final int DESTINATION = 3;
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer("restart".getBytes(StandardCharsets.US_ASCII));
    private static final SessionPolicy POLICY = new SessionPolicy().initialDelayMs(0).backoffInitialMs(100)
        .backoffMaxMs(100).jitterPermille(0).maxAttempts(10).leaseMs(5_000);
    private static final long START_TIMEOUT_MS = 20_000;
    /** Aeron's client notices its driver is gone after the driver timeout (10 s); then the node restarts. */
    private static final long RECOVERY_TIMEOUT_MS = 35_000;
    private static final String AERON_ERROR_PREFIX = "reprise client: aeron:";

    @TempDir
    Path dir;

    private NodeProcess node;
    private RepriseClient client;
    private RepriseWorker worker;
    private PrintStream originalErr;

    @AfterEach
    void tearDown()
    {
        CloseHelper.closeAll(client, worker, node);
        if (null != originalErr)
        {
            System.setErr(originalErr);
        }
    }

    @Test
    void shouldCarryOnByThemselvesAfterTheNodeIsKilledAndRestarted() throws Exception
    {
        final Path dataDir = dir.resolve("data");
        final String aeronDir = dir.resolve("aeron").toString();
        final AeronErrorLines aeronErrors = captureAeronErrors();
        node = NodeProcess.start(dataDir, aeronDir, dir.resolve("node-1.stderr"));
        node.awaitServing(START_TIMEOUT_MS);

        final ClientContext context = new ClientContext().aeronDirectoryName(aeronDir).tenant(TENANT).token(TOKEN)
            .connectTimeoutMs(2_000).responseTimeoutMs(2_000);
        final Notices notices = new Notices();
        client = RepriseClient.connect(context, notices);
        final Map<Long, Integer> dispatched = new ConcurrentHashMap<>();
        final ArrayDeque<long[]> unreported = new ArrayDeque<>();
        worker = RepriseWorker.connect(context, new int[] {DESTINATION}, 4, null);
        final RepriseWorker.AttemptHandler handler =
            (tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle, payload, offset, length) ->
            {
                dispatched.put(sessionId, attempt);
                unreported.add(new long[] {sessionId, attempt, handle});
            };
        final Thrown thrown = new Thrown();

        // Before the kill, one session goes round: the worker serves, the controller hears of the end.
        assertEquals(ResultCode.OK, client.saveAndAwait(1, DESTINATION, POLICY, PAYLOAD, 0, PAYLOAD.capacity()));
        pollUntil(() -> notices.finished.get(1L) == SessionStatus.COMPLETED, handler, unreported, thrown,
            "session 1 completed before the kill");
        assertTrue(thrown.unexpected.isEmpty() && 0 == thrown.connectExceptions(""), thrown.summary());

        node.kill();
        final long killedAtNs = System.nanoTime();
        boolean restarted = false;

        final long deadlineNs = killedAtNs + TimeUnit.MILLISECONDS.toNanos(RECOVERY_TIMEOUT_MS);
        long nextSessionId = 100;
        long pendingCorrelationId = 0;
        long pendingSessionId = 0;
        long pendingUntilNs = 0;
        long savedSessionId = 0;
        long nextAwaitingCallNs = killedAtNs;
        final List<String> awaitingCalls = new ArrayList<>();
        while (0 == savedSessionId || notices.finished.get(savedSessionId) != SessionStatus.COMPLETED)
        {
            final long nowNs = System.nanoTime();
            if (nowNs > deadlineNs)
            {
                fail("not carried on " + RECOVERY_TIMEOUT_MS + " ms after the kill: node restarted " + restarted +
                    ", serving again " + (restarted && node.serving()) + ", session saved after the restart " +
                    savedSessionId + ", dispatched " + dispatched + ", finished " + notices.finished +
                    ", client reconnects " + client.reconnects() + ", worker reconnects " + worker.reconnects() +
                    ", waiting calls " + awaitingCalls + "; " + thrown.summary() + "\nnode: " + node.describe());
            }
            int work = pollBoth(handler, unreported, thrown);
            if (!restarted && thrown.connectExceptions("client") >= 3 && thrown.connectExceptions("worker") >= 3)
            {
                // Both noticed the node is gone (their Aeron clients closed after Aeron's driver timeout) and
                // failed to reconnect a few times: now the node comes back, on the same directories.
                restarted = true;
                node = NodeProcess.start(dataDir, aeronDir, dir.resolve("node-2.stderr"));
            }
            if (0 == savedSessionId)
            {
                final ResultCode answer = notices.responses.get(pendingCorrelationId);
                if (0 != pendingCorrelationId && null != answer)
                {
                    assertEquals(ResultCode.OK, answer, "the save of session " + pendingSessionId +
                        " after the restart");
                    savedSessionId = pendingSessionId;
                }
                else if (0 == pendingCorrelationId || nowNs > pendingUntilNs)
                {
                    // No answer yet, or none coming (it went to the connection that died): a new session each
                    // time, so that the one answered is plainly OK.
                    final long sessionId = nextSessionId;
                    final long correlationId = thrown.callLong("client.save",
                        () -> client.save(sessionId, DESTINATION, POLICY, PAYLOAD, 0, PAYLOAD.capacity()));
                    if (correlationId > 0)
                    {
                        pendingCorrelationId = correlationId;
                        pendingSessionId = nextSessionId++;
                        pendingUntilNs = nowNs + TimeUnit.SECONDS.toNanos(3);
                        work++;
                    }
                }
                if (nowNs > nextAwaitingCallNs)
                {
                    // The waiting forms in the outage: an answer, null, or a ConnectException.
                    nextAwaitingCallNs = nowNs + TimeUnit.SECONDS.toNanos(3);
                    awaitingCalls.add(String.valueOf(thrown.call("client.cancelAndAwait",
                        () -> client.cancelAndAwait(1))));
                }
            }
            if (0 == work)
            {
                LockSupport.parkNanos(1_000_000);
            }
        }
        final long outageMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs);

        final String seen = "carried on after " + outageMs + " ms; " + thrown.summary() + "; waiting calls " +
            awaitingCalls + "; Aeron errors printed " + aeronErrors.lines;
        System.out.println("NodeRestartTest: " + seen);
        assertTrue(thrown.unexpected.isEmpty(), "thrown besides ConnectException: " + seen);
        assertTrue(dispatched.containsKey(savedSessionId), "dispatched to the kept worker: " + dispatched);
        assertTrue(client.reconnects() >= 1 && worker.reconnects() >= 1, "reconnects: the client's " +
            client.reconnects() + ", the worker's " + worker.reconnects() + "; " + seen);
        // Reconnect attempts back off (100 ms doubling to 2 s): a handful each, not one per poll.
        final long attemptsBound = 10 + outageMs / 1_000;
        assertTrue(thrown.connectExceptions("client") <= attemptsBound &&
            thrown.connectExceptions("worker") <= attemptsBound, "at most " + attemptsBound + " failed " +
            "attempts each: " + seen);
        assertTrue(aeronErrors.lines.size() <= 2, "the Aeron clients' errors printed: " + seen);

        CloseHelper.closeAll(client, worker);
        client = null;
        worker = null;
        node.stop();
    }

    private int pollBoth(
        final RepriseWorker.AttemptHandler handler, final ArrayDeque<long[]> unreported, final Thrown thrown)
    {
        int work = (int)thrown.callLong("client.poll", client::poll);
        work += (int)thrown.callLong("worker.poll", () -> worker.poll(handler));
        while (!unreported.isEmpty())
        {
            final long[] attempt = unreported.peek();
            final long result = thrown.callLong("worker.report", () -> worker.report(attempt[0], DESTINATION,
                (int)attempt[1], (int)attempt[2], Outcome.SUCCEEDED, 200, 0));
            if (result <= 0)
            {
                break;
            }
            unreported.poll();
            work++;
        }
        return work;
    }

    private void pollUntil(
        final BooleanSupplier done, final RepriseWorker.AttemptHandler handler, final ArrayDeque<long[]> unreported,
        final Thrown thrown, final String what)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                fail("timed out waiting for " + what + "; " + thrown.summary() + "\nnode: " + node.describe());
            }
            if (0 == pollBoth(handler, unreported, thrown))
            {
                LockSupport.parkNanos(100_000);
            }
        }
    }

    /** Lines the clients' Aeron error handlers print, still passed on to stderr. */
    private AeronErrorLines captureAeronErrors()
    {
        originalErr = System.err;
        final AeronErrorLines lines = new AeronErrorLines(originalErr);
        System.setErr(new PrintStream(lines, true, StandardCharsets.UTF_8));
        return lines;
    }

    private static final class AeronErrorLines extends OutputStream
    {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        private final PrintStream target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        AeronErrorLines(final PrintStream target)
        {
            this.target = target;
        }

        public synchronized void write(final int b)
        {
            target.write(b);
            if (b == '\n')
            {
                final String text = line.toString(StandardCharsets.UTF_8);
                if (text.startsWith(AERON_ERROR_PREFIX))
                {
                    lines.add(text);
                }
                line.reset();
            }
            else
            {
                line.write(b);
            }
        }
    }

    /** What the client's and the worker's calls threw: ConnectExceptions counted, anything else kept. */
    private static final class Thrown
    {
        /** The first few of what was thrown besides ConnectException. */
        final List<String> unexpected = new ArrayList<>();
        private int unexpectedCount;
        private final Map<String, Integer> connectExceptions = new ConcurrentHashMap<>();
        private final Map<String, String> lastConnectMessage = new ConcurrentHashMap<>();

        <T> T call(final String where, final java.util.function.Supplier<T> call)
        {
            try
            {
                return call.get();
            }
            catch (final ConnectException ex)
            {
                connectExceptions.merge(where, 1, Integer::sum);
                lastConnectMessage.put(where, ex.getMessage());
            }
            catch (final RuntimeException ex)
            {
                if (unexpectedCount++ < 5)
                {
                    unexpected.add(where + ": " + ex);
                }
            }
            return null;
        }

        long callLong(final String where, final java.util.function.LongSupplier call)
        {
            final Long result = call(where, () -> (Long)call.getAsLong());
            return null == result ? 0 : result;
        }

        int connectExceptions(final String whose)
        {
            int count = 0;
            for (final Map.Entry<String, Integer> entry : connectExceptions.entrySet())
            {
                if (entry.getKey().startsWith(whose))
                {
                    count += entry.getValue();
                }
            }
            return count;
        }

        String summary()
        {
            return (unexpected.isEmpty() ? "" : unexpectedCount + " unexpected, the first " + unexpected + ", ") +
                "ConnectExceptions " +
                connectExceptions + ", the last of each " + lastConnectMessage;
        }
    }

    private static final class Notices implements RepriseClient.Listener
    {
        final Map<Long, ResultCode> responses = new ConcurrentHashMap<>();
        final Map<Long, SessionStatus> finished = new ConcurrentHashMap<>();

        public void onResponse(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            responses.put(correlationId, code);
        }

        public void onSessionFinished(
            final long sessionId, final int destination, final SessionStatus status, final int attempt,
            final int errorCode)
        {
            finished.put(sessionId, status);
        }
    }

    /** {@link NodeMain} in a JVM of its own; its stdout is read as it comes, for waits and failure messages. */
    private static final class NodeProcess implements AutoCloseable
    {
        private final Process process;
        private final Path stderr;
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        private NodeProcess(final Process process, final Path stderr)
        {
            this.process = process;
            this.stderr = stderr;
            final Thread reader = new Thread(() ->
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
                catch (final IOException ignore)
                {
                    // the process is gone
                }
            }, "node-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        static NodeProcess start(final Path dataDir, final String aeronDir, final Path stderr) throws IOException
        {
            final List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                NodeMain.class.getName(),
                dataDir.toString(), aeronDir, TENANT + "=" + TOKEN);
            return new NodeProcess(new ProcessBuilder(command).redirectError(stderr.toFile()).start(), stderr);
        }

        boolean serving()
        {
            return lines.contains(NodeMain.SERVING);
        }

        void awaitServing(final long timeoutMs)
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (!serving())
            {
                if (!process.isAlive() || System.nanoTime() > deadlineNs)
                {
                    fail("the node does not serve (alive " + process.isAlive() + "): " + describe());
                }
                LockSupport.parkNanos(10_000_000);
            }
        }

        /** SIGKILL. */
        void kill() throws InterruptedException
        {
            process.destroyForcibly();
            assertTrue(process.waitFor(10, TimeUnit.SECONDS), "still running after SIGKILL");
        }

        void stop() throws Exception
        {
            try (OutputStream in = process.getOutputStream())
            {
                in.write("stop\n".getBytes(StandardCharsets.UTF_8));
            }
            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "did not stop: " + describe());
            assertEquals(0, process.exitValue(), "exit status: " + describe());
        }

        String describe()
        {
            final String err;
            try
            {
                err = Files.readString(stderr);
            }
            catch (final IOException ex)
            {
                return lines + "; stderr not readable: " + ex;
            }
            synchronized (lines)
            {
                return "stdout " + lines.subList(Math.max(0, lines.size() - 20), lines.size()) + "; stderr: " + err;
            }
        }

        public void close()
        {
            if (process.isAlive())
            {
                process.destroyForcibly();
            }
        }
    }
}
