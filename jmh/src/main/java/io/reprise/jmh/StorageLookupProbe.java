package io.reprise.jmh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.storage.Container;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.engine.storage.SourceFile;
import io.reprise.engine.storage.StorageReader;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Payload lookup latency of the read path ({@link StorageReader#read}, the API of the repeat process) with
 * {@code live} live payloads in sources on a real directory: the payloads are saved through the container,
 * flushed every {@code flushMiB} MiB and merged by the size-tiered policy (fan-in 4) as the agents would; then one
 * thread reads uniformly random sessions, each read verified (checksum by the reader, session id in the payload by
 * the probe), and HdrHistogram records each read's latency. Sources are as freshly written, so mostly in the
 * page cache: this is the index search plus a pread from memory, not a cold disk read.
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx3g -cp jmh/target/benchmarks.jar \
 *     io.reprise.jmh.StorageLookupProbe [live=10000000] [payloadBytes=64] [reads=2000000] [flushMiB=16]
 * </pre>
 */
public final class StorageLookupProbe
{
    private StorageLookupProbe()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int live = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        final int payloadBytes = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        final int reads = args.length > 2 ? Integer.parseInt(args[2]) : 2_000_000;
        final long flushBytes = (args.length > 3 ? Long.parseLong(args[3]) : 16) << 20;
        final Path directory = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "storage-lookup");
        final long[] applied = new long[1];
        final SavedSessionStorage storage = SavedSessionStorage.open(new FileChannelDisk(),
            directory.resolve("sources"), new Container(1 << 20, 8 * flushBytes), new long[0], 0,
            () -> applied[0], (event) -> { });
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[payloadBytes]);
        final long buildStart = System.nanoTime();
        for (long id = 1; id <= live; id++)
        {
            payload.putLong(0, id);
            storage.onSessionSaved(++applied[0], 1, id, payload, 0, payloadBytes);
            if (storage.container().unflushedBytes() >= flushBytes || id == live)
            {
                storage.flush();
                SourceFile[] plan;
                while ((plan = storage.plan(false, 4, flushBytes)) != null)
                {
                    storage.merge(plan);
                }
                storage.deleteRetired();
            }
        }
        final double buildSeconds = (System.nanoTime() - buildStart) / 1e9;
        final int sources = storage.liveSources().size();
        System.out.printf("StorageLookupProbe: %,d live payloads of %d B in %d sources (built in %.0f s, " +
            "flushed %,d B, merged %,d B)%n", live, payloadBytes, sources, buildSeconds, storage.bytesFlushed(),
            storage.bytesMerged());

        final StorageReader reader = storage.newReader(payloadBytes);
        final UnsafeBuffer out = new UnsafeBuffer(new byte[payloadBytes]);
        final SplittableRandom random = new SplittableRandom(42);
        final Histogram histogram = new Histogram(10_000_000_000L, 3);
        for (int round = 0; round < 2; round++)
        {
            histogram.reset();
            final long start = System.nanoTime();
            for (int i = 0; i < reads; i++)
            {
                final long id = 1 + random.nextLong(live);
                final long t0 = System.nanoTime();
                final int length = reader.read(1, id, out, 0);
                final long t1 = System.nanoTime();
                if (length != payloadBytes || out.getLong(0) != id)
                {
                    throw new IllegalStateException("session " + id + " read " + length + " bytes, id " +
                        out.getLong(0));
                }
                histogram.recordValue(t1 - t0);
            }
            final double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("  %s: %,d random reads, %.0f reads/s; latency ns p50 %d p90 %d p99 %d p99.9 %d " +
                "p99.99 %d max %d mean %.0f%n", round == 0 ? "warm-up" : "measured", reads, reads / seconds,
                histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(90),
                histogram.getValueAtPercentile(99), histogram.getValueAtPercentile(99.9),
                histogram.getValueAtPercentile(99.99), histogram.getMaxValue(), histogram.getMean());
        }
        storage.close();
        try (Stream<Path> files = Files.walk(directory))
        {
            files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
    }
}
