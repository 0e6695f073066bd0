package io.reprise.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.storage.Container;
import io.reprise.engine.storage.SavedSessionStorage;
import io.reprise.engine.storage.SourceFile;
import io.reprise.engine.storage.StorageRecord;
import io.reprise.schema.client.SessionStatus;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Disk use of saved-session storage under sustained churn, on a real directory (issue 4): {@code sessions}
 * sessions with {@code payloadBytes} payloads are saved, each completed {@code window} saves later (so
 * {@code window} are live at any time); the container is flushed whenever it holds {@code containerBytes}, after
 * which the size-tiered merge policy (fan-in 4) runs to quiescence and retired sources are deleted, as the
 * agents would, but inline so the measurement is exact. After every such step the bytes of all files in
 * {@code sources/} are summed and compared with 2 x live record bytes + one container; the worst ratio and the
 * write amplification (bytes flushed + merged over bytes saved) are printed.
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g -cp jmh/target/benchmarks.jar \
 *     io.reprise.jmh.StorageChurnProbe [sessions=10000000] [window=1000] [containerBytes=262144] [payloadBytes=1024]
 * </pre>
 * Directory: under {@code -Dreprise.bench.dir} (default the temp dir), deleted at the end. Exits 1 if the bound
 * is ever exceeded.
 */
public final class StorageChurnProbe
{
    private StorageChurnProbe()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final long sessions = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        final int window = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        final long containerBytes = args.length > 2 ? Long.parseLong(args[2]) : 256 * 1024;
        final int payloadBytes = args.length > 3 ? Integer.parseInt(args[3]) : 1024;
        final Path base = Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir")));
        final Path directory = Files.createTempDirectory(base, "storage-churn");
        final FileChannelDisk disk = new FileChannelDisk();
        final long[] applied = new long[1];
        final int pageBytes = (int)Math.max(1 << 20, Long.highestOneBit(containerBytes) * 2);
        final SavedSessionStorage storage = SavedSessionStorage.open(disk, directory.resolve("sources"),
            new Container(pageBytes, Math.max(64L << 20, 4 * containerBytes)), new long[0], 0,
            () -> applied[0], (event) -> { });
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[payloadBytes]);
        final long recordBytes = StorageRecord.recordLength(payloadBytes);
        long index = 0;
        long worst = 0;
        long worstLive = 0;
        double worstRatio = 0;
        long steps = 0;
        long violations = 0;
        final long startNs = System.nanoTime();
        long reportNs = startNs;
        for (long id = 1; id <= sessions; id++)
        {
            payload.putLong(0, id);
            storage.onSessionSaved(++index, 1, id, payload, 0, payloadBytes);
            if (id > window)
            {
                storage.onSessionFinished(++index, 1, id - window, SessionStatus.COMPLETED);
            }
            applied[0] = index;
            if (storage.container().unflushedBytes() >= containerBytes || id == sessions)
            {
                storage.flush();
                SourceFile[] plan;
                while ((plan = storage.plan(false, 4, containerBytes)) != null)
                {
                    storage.merge(plan);
                }
                storage.deleteRetired();
                final long used = bytesIn(directory.resolve("sources"));
                final long live = Math.min(id, window) * recordBytes;
                final long bound = 2 * live + containerBytes;
                steps++;
                if (used > bound)
                {
                    violations++;
                    System.out.println("OVER: after " + id + " sessions disk " + used + " > bound " + bound);
                }
                if (used > worst)
                {
                    worst = used;
                    worstLive = live;
                }
                worstRatio = Math.max(worstRatio, (double)used / live);
                final long now = System.nanoTime();
                if (now - reportNs > 10_000_000_000L)
                {
                    reportNs = now;
                    System.out.printf("  %,d sessions, %.0f s, disk %,d bytes, live %,d%n", id,
                        (now - startNs) / 1e9, used, live);
                }
            }
        }
        final double seconds = (System.nanoTime() - startNs) / 1e9;
        final double saved = (double)sessions * recordBytes;
        System.out.printf("StorageChurnProbe: %,d sessions x %d B payload, %d live, container %,d B: %.0f s%n",
            sessions, payloadBytes, window, containerBytes, seconds);
        System.out.printf("  disk use checked after %,d flush+merge steps; largest %,d bytes with %,d live " +
            "(%.2f x live; bound 2 x live + container = %,d); worst ratio to live %.2f; over the bound %d times%n",
            steps, worst, worstLive, (double)worst / Math.max(1, worstLive), 2 * worstLive + containerBytes,
            worstRatio, violations);
        System.out.printf("  payload record bytes saved %,.0f; flushed %,d; merged %,d; write amplification " +
            "(flushed+merged)/saved %.3f; flushes %,d merges %,d%n", saved, storage.bytesFlushed(),
            storage.bytesMerged(), (storage.bytesFlushed() + storage.bytesMerged()) / saved, storage.flushes(),
            storage.merges());
        storage.close();
        try (Stream<Path> files = Files.walk(directory))
        {
            files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
        System.exit(violations == 0 ? 0 : 1);
    }

    private static long bytesIn(final Path directory) throws IOException
    {
        long used = 0;
        try (Stream<Path> files = Files.list(directory))
        {
            for (final Path file : files.toList())
            {
                used += Files.size(file);
            }
        }
        return used;
    }
}
