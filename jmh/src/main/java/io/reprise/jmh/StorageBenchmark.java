package io.reprise.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.storage.Container;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.engine.storage.SourceFile;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Saved-session storage against the disk, on a real directory (under {@code -Dreprise.bench.dir}, default the
 * temp dir). Every score is in MiB per second, so the three compare directly:
 * <ul>
 *   <li>{@code rawSequentialWrite}: the disk's own sequential bandwidth, 4 MiB chunks each followed by an fsync,
 *       to a FileChannel, no engine;</li>
 *   <li>{@code flush}: {@link SavedSessionStorage#flush()} of a container holding 8 MiB of records (1 KiB
 *       payloads): write records, index, footer, header, fsync, rename, directory fsync, open and publish; the
 *       container is refilled outside the measurement;</li>
 *   <li>{@code merge}: {@link SavedSessionStorage#merge} of four 4 MiB sources of live 1 KiB payloads into one
 *       (16 MiB read, checksums verified, written, synced, swapped in); the inputs are flushed outside the
 *       measurement and the previous round's retired inputs deleted there too.</li>
 * </ul>
 * Payload lookup latency with 10^7 live payloads is {@link StorageLookupProbe}: building 10^7 payloads per JMH
 * trial would dominate the run.
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar jmh/target/benchmarks.jar StorageBenchmark -f 1
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseTransparentHugePages",
    "-Xmx2g"})
@State(Scope.Benchmark)
public class StorageBenchmark
{
    static final int MIB = 1024 * 1024;
    static final int PAYLOAD_BYTES = 1024;
    static final int FLUSH_MIB = 8;
    static final int MERGE_INPUTS = 4;
    static final int MERGE_INPUT_MIB = 4;

    private Path root;
    private Path directory;
    private SavedSessionStorage storage;
    private final long[] applied = new long[1];
    private long nextSessionId;
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
    private SourceFile[] mergeInputs;

    private FileChannel rawFile;
    private ByteBuffer rawChunk;
    private long rawPosition;

    @Setup(Level.Trial)
    public void setUpTrial() throws IOException
    {
        root = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "storage-bench");
        ThreadLocalRandom.current().nextBytes(payload.byteArray());
        rawChunk = ByteBuffer.allocateDirect(4 * MIB);
        while (rawChunk.hasRemaining())
        {
            rawChunk.put((byte)ThreadLocalRandom.current().nextInt());
        }
    }

    @Setup(Level.Iteration)
    public void setUpIteration() throws IOException
    {
        directory = Files.createTempDirectory(root, "it");
        storage = SavedSessionStorage.open(new FileChannelDisk(), directory.resolve("sources"),
            new Container(MIB, 64L * MIB), new long[0], 0, () -> applied[0], (event) -> { });
        rawFile = FileChannel.open(directory.resolve("raw.bin"), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        rawPosition = 0;
    }

    @TearDown(Level.Iteration)
    public void tearDownIteration() throws IOException
    {
        storage.close();
        rawFile.close();
        delete(directory);
    }

    @TearDown(Level.Trial)
    public void tearDownTrial() throws IOException
    {
        delete(root);
    }

    private static void delete(final Path path) throws IOException
    {
        try (Stream<Path> files = Files.walk(path))
        {
            files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
    }

    private void fill(final long bytes)
    {
        while (storage.container().unflushedBytes() < bytes)
        {
            final long sessionId = ++nextSessionId;
            payload.putLong(0, sessionId);
            storage.onSessionSaved(++applied[0], 1, sessionId, payload, 0, PAYLOAD_BYTES);
        }
    }

    /** Flush: fill the container (not measured). Merge: retire last round's inputs, flush four new sources. */
    @Setup(Level.Invocation)
    public void setUpInvocation(final org.openjdk.jmh.infra.BenchmarkParams params) throws IOException
    {
        if (params.getBenchmark().endsWith("flush"))
        {
            fill(FLUSH_MIB * (long)MIB);
        }
        else if (params.getBenchmark().endsWith("merge"))
        {
            storage.deleteRetired();
            final List<Path> before = storage.liveSources();
            for (int i = 0; i < MERGE_INPUTS; i++)
            {
                fill(MERGE_INPUT_MIB * (long)MIB);
                storage.flush();
            }
            final SourceFile[] all = storage.plan(true, 2, 1);
            mergeInputs = java.util.Arrays.stream(all).filter((s) -> !before.contains(s.path()))
                .toArray(SourceFile[]::new);
            if (mergeInputs.length != MERGE_INPUTS)
            {
                throw new IllegalStateException("expected " + MERGE_INPUTS + " new sources: " + mergeInputs.length);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(4)
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
    @OperationsPerInvocation(FLUSH_MIB)
    public int flush() throws IOException
    {
        return storage.flush();
    }

    @Benchmark
    @OperationsPerInvocation(MERGE_INPUTS * MERGE_INPUT_MIB)
    public int merge() throws IOException
    {
        final int written = storage.merge(mergeInputs);
        if (written == 0)
        {
            throw new IllegalStateException("nothing merged");
        }
        return written;
    }
}
