package io.reprise.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Saves with 128-byte payloads through the whole standalone flow: ring, journal with group commit (one fsync
 * per batch), business logic. Every score is in journal records per second, each record being one SaveSession
 * of {@link #RECORD_BYTES} bytes on disk, so the three methods compare directly and MB/s = score x 272 / 10^6:
 * <ul>
 *   <li>{@code pipeline}: the node, end to end (a record counts once applied, i.e. durable);</li>
 *   <li>{@code rawSequentialWrite}: the disk's own sequential bandwidth with an fsync every 4 MiB, no engine;</li>
 *   <li>{@code fsyncPerEntry}: the journal alone, syncing after every record, as a system without group
 *       commit would.</li>
 * </ul>
 * Each iteration starts a fresh node on a fresh directory (under {@code -Dreprise.bench.dir}, default the
 * temp dir) so the session table does not grow without end.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseTransparentHugePages",
    "-Xms6g", "-Xmx6g"})
@State(Scope.Benchmark)
public class PipelineBenchmark
{
    static final int PAYLOAD_BYTES = 128;
    static final int BATCH = 1024;
    /** On-disk size of one SaveSession record with a 128-byte payload: 40 record overhead + 232 operator. */
    static final int RECORD_BYTES = 272;
    static final int RAW_CHUNK = 4 * 1024 * 1024;
    static final long BACK_PRESSURE_WAIT_NS = 20_000;

    /** What the producer does when the ring is full: {@code park} 20 us, or {@code spin} (as before). */
    @Param({"park"})
    public String backPressure;
    private boolean parkOnBackPressure;

    private Path directory;
    private StandaloneNode node;
    private InProcessClient client;
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
    private final SessionPolicy policy = new SessionPolicy().initialDelayMs(3_600_000);
    private long nextSessionId;

    private FileChannel rawFile;
    private ByteBuffer rawChunk;
    private long rawPosition;

    private Journal journal;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer operator = new UnsafeBuffer(new byte[512]);
    private int operatorLength;
    private long journalIndex;

    @Setup(Level.Iteration)
    public void setUp() throws IOException
    {
        parkOnBackPressure = switch (backPressure)
        {
            case "park" -> true;
            case "spin" -> false;
            default -> throw new IllegalArgumentException("backPressure: park or spin, not " + backPressure);
        };
        directory = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "pipeline");
        node = StandaloneNode.start(new NodeContext()
            .dataDirectory(directory.resolve("node"))
            .rules(new BusinessRules().maxSessions(1 << 27).expectedSessions(1 << 22))
            .timeTickMs(1L << 40)
            .snapshotEveryOperators(Long.MAX_VALUE)
            .snapshotEveryMs(Long.MAX_VALUE)
            .snapshotEveryLogBytes(Long.MAX_VALUE));
        client = node.newClient(1, (index, correlationId, templateId, code, value) -> { });
        nextSessionId = 1;

        rawFile = FileChannel.open(directory.resolve("raw"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        rawChunk = ByteBuffer.allocateDirect(RAW_CHUNK);
        rawPosition = 0;

        Files.createDirectories(directory.resolve("journal"));
        journal = Journal.open(new FileChannelDisk(), directory.resolve("journal"), 256L * 1024 * 1024,
            4 * 1024 * 1024, 1);
        operatorLength = encoder.saveSession(operator, 0, 1, 1, 1, 1, 1, policy, payload, 0, PAYLOAD_BYTES);
        if (JournalFormat.align(JournalFormat.RECORD_OVERHEAD + operatorLength) != RECORD_BYTES)
        {
            throw new IllegalStateException("record size changed: " + (JournalFormat.RECORD_OVERHEAD + operatorLength));
        }
        journalIndex = 0;
    }

    @TearDown(Level.Iteration)
    public void tearDown() throws Exception
    {
        if (!node.awaitApplied(60_000))
        {
            throw new IllegalStateException("flow did not drain: " + node.fatalError());
        }
        node.close();
        rawFile.close();
        journal.close();
        try (Stream<Path> files = Files.walk(directory))
        {
            files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void pipeline()
    {
        for (int i = 0; i < BATCH; i++)
        {
            ResultCode code;
            while ((code = client.save(nextSessionId, 1, policy, payload, 0, PAYLOAD_BYTES)) != ResultCode.OK)
            {
                if (code != ResultCode.BACK_PRESSURE)
                {
                    throw new IllegalStateException("save refused: " + code);
                }
                if (parkOnBackPressure)
                {
                    // The ring is full: wait for the node instead of spinning, which takes a core from it.
                    LockSupport.parkNanos(BACK_PRESSURE_WAIT_NS);
                }
                else
                {
                    Thread.onSpinWait();
                }
            }
            nextSessionId++;
        }
    }

    @Benchmark
    @OperationsPerInvocation(RAW_CHUNK / RECORD_BYTES)
    public void rawSequentialWrite() throws IOException
    {
        rawChunk.clear();
        while (rawChunk.hasRemaining())
        {
            rawPosition += rawFile.write(rawChunk, rawPosition);
        }
        rawFile.force(false);
    }

    @Benchmark
    public void fsyncPerEntry() throws IOException
    {
        journal.append(++journalIndex, 1, journalIndex, operator, 0, operatorLength);
        journal.commit();
    }
}
