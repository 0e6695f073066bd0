package io.reprise.tools;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Builds a real data directory for the tools' tests: a {@link StandaloneNode} on the file system (the default
 * {@code FileChannelDisk}) with a simulated clock, driven through {@link InProcessClient}s, then closed.
 * <p>
 * The story, tenant {@value #TENANT}, destination {@value #DESTINATION}: sessions 1..n are saved and started;
 * session {@value #SUCCEEDS} succeeds, {@value #RETRIED} asks for a retry and succeeds at attempt 2,
 * {@value #FAILS} fails permanently, {@value #LEASE_EXPIRES}'s worker never reports (its lease runs out and it
 * succeeds at attempt 2), {@value #CANCELLED} is cancelled while in flight, and every other one succeeds. The
 * last operator is one more save ({@link #lastSessionId()}), so the journal ends with a record whose payload fills
 * whole sectors.
 */
public final class NodeFixture
{
    public static final int TENANT = 1;
    public static final int DESTINATION = 1;
    public static final long SUCCEEDS = 1;
    public static final long RETRIED = 2;
    public static final long FAILS = 3;
    public static final long LEASE_EXPIRES = 4;
    public static final long CANCELLED = 5;
    public static final long START_MS = 1_767_225_600_000L;
    /** The smallest segment the journal accepts (two maximal records and the header) is about 2 MiB. */
    public static final long SMALL_SEGMENT = 2_200_000;

    private static final long TIMEOUT_MS = 30_000;

    private final Path dir;
    private final int sessions;
    private final int payloadBytes;
    private long segmentLength = 64L * 1024 * 1024;
    private long snapshotEveryOperators = 10_000_000;
    private BusinessRules rules;

    private final AtomicLong clock = new AtomicLong(START_MS);
    private final Map<Long, Integer> attempts = new ConcurrentHashMap<>();
    private final List<String> steps = Collections.synchronizedList(new ArrayList<>());
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private StandaloneNode node;
    private long appliedIndex;
    private long digest;
    private int liveSessions;

    public NodeFixture(final Path dir, final int sessions, final int payloadBytes)
    {
        if (sessions < CANCELLED || sessions > 1000)
        {
            throw new IllegalArgumentException("one BeginRepeats starts them all: 5..1000 sessions");
        }
        this.dir = dir;
        this.sessions = sessions;
        this.payloadBytes = payloadBytes;
    }

    public NodeFixture segmentLength(final long segmentLength)
    {
        this.segmentLength = segmentLength;
        return this;
    }

    public NodeFixture snapshotEveryOperators(final long snapshotEveryOperators)
    {
        this.snapshotEveryOperators = snapshotEveryOperators;
        return this;
    }

    /** Business rules other than the defaults (which the tools use). */
    public NodeFixture rules(final BusinessRules rules)
    {
        this.rules = rules;
        return this;
    }

    public Path dir()
    {
        return dir;
    }

    /** The applied index when the node closed: the journal's last index. */
    public long appliedIndex()
    {
        return appliedIndex;
    }

    /** The state digest when the node closed. */
    public long digest()
    {
        return digest;
    }

    public int liveSessions()
    {
        return liveSessions;
    }

    public long lastSessionId()
    {
        return sessions + 1;
    }

    public List<String> steps()
    {
        return steps;
    }

    public NodeFixture build() throws Exception
    {
        final NodeContext context = new NodeContext()
            .dataDirectory(dir)
            .epochClock(clock::get)
            .timeHeartbeatMs(1) // every tick() gets its SetTime, which it waits for
            .journalSegmentLength(segmentLength)
            .journalWriteBufferBytes(2 * 1024 * 1024)
            .snapshotEveryOperators(snapshotEveryOperators)
            .ringSize(1024)
            .outputObserver(new Observer())
            .lifecycleListener(steps::add);
        if (null != rules)
        {
            context.rules(rules);
        }
        try (StandaloneNode node = StandaloneNode.start(context))
        {
            this.node = node;
            final InProcessClient controller = node.newClient(TENANT, (i, c, t, code, v) -> { });
            final InProcessClient worker = node.newClient(TENANT, (i, c, t, code, v) -> { });
            final InProcessClient repeater = node.newClient(TENANT, (i, c, t, code, v) -> { });
            tick(10);
            offer(() -> controller.configureDestination(DESTINATION, 10_000));
            final SessionPolicy policy = new SessionPolicy().backoffInitialMs(1_000).backoffMaxMs(1_000)
                .jitterPermille(0).maxAttempts(3).leaseMs(5_000);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[payloadBytes]);
            for (int i = 0; i < payloadBytes; i++)
            {
                payload.putByte(i, (byte)('a' + i % 26));
            }
            for (long id = 1; id <= sessions; id++)
            {
                final long sessionId = id;
                offer(() -> controller.save(sessionId, DESTINATION, policy, payload, 0, payloadBytes));
            }
            tick(10);
            beginRepeats(repeater);
            for (long id = 1; id <= sessions; id++)
            {
                final long sessionId = id;
                final int attempt = attempts.getOrDefault(id, 0);
                if (id == RETRIED)
                {
                    offer(() -> worker.reportOutcome(sessionId, DESTINATION, attempt, Outcome.RETRY, 503, 0));
                }
                else if (id == FAILS)
                {
                    offer(() -> worker.reportOutcome(sessionId, DESTINATION, attempt, Outcome.FAILED_PERMANENTLY, 410,
                        0));
                }
                else if (id == CANCELLED)
                {
                    offer(() -> controller.cancel(sessionId));
                }
                else if (id != LEASE_EXPIRES)
                {
                    offer(() -> worker.reportOutcome(sessionId, DESTINATION, attempt, Outcome.SUCCEEDED, 200, 0));
                }
            }
            tick(6_000); // the lease of LEASE_EXPIRES runs out
            tick(2_000); // both retries are due
            beginRepeats(repeater);
            for (final long id : new long[] {RETRIED, LEASE_EXPIRES})
            {
                final int attempt = attempts.get(id);
                offer(() -> worker.reportOutcome(id, DESTINATION, attempt, Outcome.SUCCEEDED, 200, 0));
            }
            tick(10);
            final long last = lastSessionId();
            offer(() -> controller.save(last, DESTINATION, policy, payload, 0, payloadBytes));
            awaitApplied();
            // No snapshot left due by operator count: the agent has taken what it will.
            waitFor(() -> node.snapshotAgent().lastSnapshotIndex() > node.appliedIndex() - snapshotEveryOperators);
            node.close();
            appliedIndex = node.logic().appliedIndex();
            digest = node.logic().digest();
            liveSessions = node.logic().sessions().size();
        }
        finally
        {
            node = null;
        }
        return this;
    }

    private void tick(final long ms)
    {
        clock.addAndGet(ms);
        final long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (node.logic().systemTimeMs() < clock.get())
        {
            awaitApplied();
            if (System.currentTimeMillis() > deadline)
            {
                throw new IllegalStateException("no SetTime applied");
            }
            LockSupport.parkNanos(50_000);
        }
        awaitApplied();
    }

    private void beginRepeats(final InProcessClient repeater)
    {
        final int length = encoder.beginRepeats(buffer, 0, DESTINATION, 1024);
        offer(() -> repeater.offer(buffer, 0, length));
        awaitApplied();
    }

    private void awaitApplied()
    {
        try
        {
            if (!node.awaitApplied(TIMEOUT_MS))
            {
                throw new IllegalStateException("not applied: " + node.fatalError());
            }
        }
        catch (final InterruptedException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private void offer(final java.util.function.Supplier<ResultCode> operator)
    {
        ResultCode code;
        while ((code = operator.get()) == ResultCode.BACK_PRESSURE || code == ResultCode.STORAGE_UNAVAILABLE)
        {
            LockSupport.parkNanos(100_000);
        }
        if (code != ResultCode.OK)
        {
            throw new IllegalStateException("refused: " + code);
        }
        // A snapshot is due every snapshotEveryOperators: let the agent take it before going on, so that the
        // history has a snapshot about every that many operators however fast this loop runs.
        final long published = node.publishedIndex();
        waitFor(() -> node.snapshotAgent().lastSnapshotIndex() > published - snapshotEveryOperators);
    }

    private static void waitFor(final java.util.function.BooleanSupplier condition)
    {
        final long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (!condition.getAsBoolean())
        {
            if (System.currentTimeMillis() > deadline)
            {
                throw new IllegalStateException("timed out");
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** Remembers the attempt each session is on. */
    private final class Observer implements OutputSink
    {
        public void onResponse(
            final long clientId, final long correlationId, final int templateId, final ResultCode code,
            final long value)
        {
        }

        public void onSessionSaved(
            final int tenant, final long sessionId, final int destination, final DirectBuffer payload,
            final int offset, final int length)
        {
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt, final long leaseMs,
            final int handle)
        {
            attempts.put(sessionId, attempt);
        }

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
        }
    }

    // ------------------------------------------------------------------------------------------ helpers for tests

    /** Copies a data directory (to damage the copy). */
    public static Path copy(final Path from, final Path to)
    {
        try (Stream<Path> paths = Files.walk(from))
        {
            for (final Path path : (Iterable<Path>)paths::iterator)
            {
                final Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(path, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return to;
    }

    /** What one {@code reprise} command printed and returned. */
    public record Run(int exit, String out, String err)
    {
        public String lastLine()
        {
            final String[] lines = out.strip().split("\\R");
            return lines[lines.length - 1];
        }

        @Override
        public String toString()
        {
            return "exit " + exit + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    public static Run reprise(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit = Reprise.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
