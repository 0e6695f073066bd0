package io.reprise.transport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.ResponseEncoder;
import io.reprise.schema.client.ResultCode;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one response costs the business-logic thread in the egress (docs/client.md), over a real media driver and
 * an IPC publication with a 32 MiB window that the benchmark thread itself reads every 64 responses, so that it
 * does not fill (the {@code refused} counter says how many responses were not taken, and must be 0):
 * <ul>
 * <li>{@code offerDirect}: the publication's {@code offer}, as the egress did before client backlogs (baseline);</li>
 * <li>{@code backlogSend}: {@link ClientBacklog#send} with nothing waiting: the checks, then the same offer;</li>
 * <li>{@code egressOnResponse}: the whole {@link Egress#onResponse}: registry look-up, encoding, backlog send;</li>
 * <li>{@code backlogAppend}: a backlog that is not open yet, so every response is appended to its ring; the ring is
 * drained every 64 responses on the same thread (on a node the transport thread does that), so its cost is in the
 * score.</li>
 * </ul>
 * Run with {@code -prof gc}: none of them allocates.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class EgressBenchmark
{
    private static final int READ_EVERY = 64;
    private static final int BACKLOG_BYTES = 64 * 1024 * 1024;
    private static final int MIN_WINDOW_BYTES = 1024 * 1024;
    private static final String CHANNEL = "aeron:ipc?term-length=64m|sparse=true";
    private static final long CLIENT_ID = (1L << ClientRegistry.SLOT_BITS) | 1;

    private Path aeronDir;
    private MediaDriver driver;
    private Aeron aeron;
    private Subscription subscription;
    private Publication publication;
    private Connection connection;
    private ClientBacklog closedBacklog;
    private Egress egress;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
    private final FragmentHandler ignore = (b, o, l, h) -> { };
    private int length;
    private int sent;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        aeronDir = Files.createTempDirectory("reprise-egress-bench");
        driver = MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(aeronDir.resolve("aeron").toString())
            .threadingMode(ThreadingMode.SHARED)
            // Publisher limits move on the driver's duty cycle: a driver parked on a busy machine back-pressures.
            .sharedIdleStrategy(new YieldingIdleStrategy())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true));
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
        subscription = aeron.addSubscription(CHANNEL, 10);
        publication = aeron.addPublication(CHANNEL, 10);
        while (!publication.isConnected())
        {
            Thread.onSpinWait();
        }
        final ResponseEncoder response = new ResponseEncoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .correlationId(42).value(0).operatorTemplateId(10).resultCode(ResultCode.OK).detail("");
        length = MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength();
    }

    /** Fresh backlogs each iteration: one that overflowed in a stall of the driver takes nothing more. */
    @Setup(Level.Iteration)
    public void newBacklogs()
    {
        final ClientRegistry registry = new ClientRegistry(16, 0);
        final ClientBacklog backlog = new ClientBacklog(BACKLOG_BYTES);
        backlog.open();
        connection = new Connection(CLIENT_ID, 1, ClientRole.CONTROLLER, publication, backlog, subscription, 1,
            io.reprise.schema.client.MessageHeaderDecoder.SCHEMA_VERSION);
        registry.add(connection);
        closedBacklog = new ClientBacklog(BACKLOG_BYTES);
        egress = new Egress(registry, 1024);
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        CloseHelper.closeAll(publication, subscription, aeron, driver);
        IoUtil.delete(aeronDir.toFile(), true);
    }

    /**
     * {@code refused}: responses the publication or the backlog did not take (the measurement holds only when it is
     * 0); {@code stalls}: times the benchmark waited for the driver to give the publication room.
     */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Outcomes
    {
        public long refused;
        public long stalls;
    }

    @Benchmark
    public void offerDirect(final Outcomes outcomes)
    {
        outcomes.refused += Egress.offer(publication, buffer, length) ? 0 : 1;
        read(outcomes);
    }

    @Benchmark
    public void backlogSend(final Outcomes outcomes)
    {
        outcomes.refused += connection.backlog.send(publication, buffer, 0, length) ? 0 : 1;
        read(outcomes);
    }

    @Benchmark
    public void egressOnResponse(final Outcomes outcomes)
    {
        egress.onResponse(CLIENT_ID, 42, 10, ResultCode.OK, 0);
        outcomes.refused += connection.backlog.isOverflowed() ? 1 : 0;
        read(outcomes);
    }

    @Benchmark
    public void backlogAppend(final Outcomes outcomes)
    {
        outcomes.refused += closedBacklog.send(publication, buffer, 0, length) ? 0 : 1;
        if (++sent % READ_EVERY == 0)
        {
            catchUp(closedBacklog, outcomes);
        }
    }

    private void read(final Outcomes outcomes)
    {
        if (++sent % READ_EVERY == 0)
        {
            catchUp(connection.backlog, outcomes);
        }
    }

    /**
     * What a node's transport thread does (offer what waits) and what the client does (read). When the driver has
     * not moved the publisher's limit for a while (it shares 2 busy cores), waits for it, so that every variant runs
     * against a publication with room, and counts the wait.
     */
    private void catchUp(final ClientBacklog backlog, final Outcomes outcomes)
    {
        backlog.drain(publication, 4 * READ_EVERY);
        subscription.poll(ignore, 4 * READ_EVERY);
        if (!backlog.isEmpty() || publication.availableWindow() < MIN_WINDOW_BYTES)
        {
            outcomes.stalls++;
            while (!backlog.isEmpty() || publication.availableWindow() < MIN_WINDOW_BYTES)
            {
                backlog.drain(publication, 4 * READ_EVERY);
                subscription.poll(ignore, 4 * READ_EVERY);
                Thread.yield();
            }
        }
    }
}
