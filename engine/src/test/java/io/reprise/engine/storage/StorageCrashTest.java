package io.reprise.engine.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import io.reprise.engine.testing.ChildProcess;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.SessionStatus;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 while saved-session storage flushes and merges, with real processes and real files (issue 4).
 * <p>
 * Each cycle starts {@link StorageCrashDriverMain} as a separate JVM on the same data directory, lets it recover
 * and save / cancel sessions, and kills it with SIGKILL: right after a flush announced one of its file operations
 * (create, first write, sync, rename, directory sync of a new source), right after a merge announced one of its
 * (the same, or deleting a retired source), or at a random time. Then, with no process running, this JVM restarts
 * the node on the directory and checks:
 * <ul>
 *   <li>right after storage opened (before any agent runs): no {@code *.tmp} in {@code sources/} or
 *   {@code snapshots/}; every source is listed by the manifest of a catalog snapshot; every manifest belongs to a
 *   catalog snapshot and every catalog snapshot has one; {@code snapshots/} holds the catalog and its snapshots
 *   only;</li>
 *   <li>every live session (acknowledged or not) reads back byte-identical (CRC32C of what was read = CRC32C of
 *   the payload its id defines), every cancelled one reads NOT_FOUND; every acknowledged save is in the state,
 *   every acknowledged cancel is CANCELLED;</li>
 *   <li>after a flush and full merges (three rounds of request-and-wait, so that at least two full merges ran
 *   after the flush), no live source holds a payload record of a cancelled session, and every live payload still
 *   reads back byte-identical.</li>
 * </ul>
 * The kills are counted by where they landed (the last F / M line the process printed); at least one must land in
 * a flush window and one in a merge window.
 * <p>
 * System properties: {@code reprise.storage.crash.kills} (20; 200 under {@code -Plong}),
 * {@code reprise.storage.crash.seed}, {@code reprise.storage.crash.ops.per.second} (3000),
 * {@code reprise.storage.crash.slow.io.ms} (4). The seed fixes the operators and the aims; thread timing, and so
 * the exact kill point, cannot be replayed.
 */
class StorageCrashTest
{
    private static final int KILLS = Integer.getInteger("reprise.storage.crash.kills", 20);
    private static final int KILLS_PER_DIRECTORY = 10;
    private static final int OPERATORS_PER_SECOND = Integer.getInteger("reprise.storage.crash.ops.per.second", 3000);
    private static final int SLOW_IO_MS = Integer.getInteger("reprise.storage.crash.slow.io.ms", 4);
    private static final long START_TIMEOUT_MS = 60_000;
    private static final long EVENT_TIMEOUT_MS = 10_000;
    private static final String[] FLUSH_PHASES = {"create", "write", "sync", "rename", "dirsync"};
    private static final String[] MERGE_PHASES = {"create", "write", "sync", "rename", "dirsync", "delete"};

    private final Map<String, Integer> landings = new TreeMap<>();
    private long payloadsVerified;
    private long payloadBytesVerified;
    private long cancelledVerified;
    private long orphansDeleted;

    @Test
    void shouldKeepEveryLivePayloadAndNoOrphanWhenKilledDuringFlushesAndMerges(@TempDir final Path tmp)
        throws Exception
    {
        final long seed = Long.getLong("reprise.storage.crash.seed", System.nanoTime());
        System.out.println("StorageCrashTest seed " + seed + " kills " + KILLS +
            " (rerun with -Dreprise.storage.crash.seed=" + seed + ")");
        final Random random = new Random(seed);
        final long startNs = System.nanoTime();
        int kills = 0;
        int flushKills = 0;
        int mergeKills = 0;
        for (int directory = 0; kills < KILLS; directory++)
        {
            final Path dataDirectory = tmp.resolve("data-" + directory);
            final Model model = new Model();
            final int cycles = Math.min(KILLS_PER_DIRECTORY, KILLS - kills);
            for (int run = 1; run <= cycles; run++, kills++)
            {
                final String where = "seed " + seed + ", directory " + directory + ", run " + run;
                try (ChildProcess child = child(dataDirectory, tmp.resolve("stderr-" + directory + "-" + run), run,
                    seed + 7919L * directory, where))
                {
                    final String aim = aimAndKill(child, random);
                    final String landing = landing(child.lines);
                    landings.merge(aim + " -> " + landing, 1, Integer::sum);
                    flushKills += landing.contains("flush:") ? 1 : 0;
                    mergeKills += landing.contains("merge:") ? 1 : 0;
                    child.lines.forEach(model::accept);
                }
                try
                {
                    restartAndVerify(dataDirectory, model, where + " after the kill");
                }
                catch (final AssertionError ex)
                {
                    throw new AssertionError(ex.getMessage() + " (data directory kept in " +
                        keep(dataDirectory, seed, directory, run) + ")", ex);
                }
            }
            final String where = "seed " + seed + ", directory " + directory + ", final run";
            try (ChildProcess child = child(dataDirectory, tmp.resolve("stderr-" + directory + "-final"), cycles + 1,
                seed + 7919L * directory, where))
            {
                child.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
                Thread.sleep(300);
                child.stopGracefully();
                child.lines.forEach(model::accept);
                assertTrue(child.lines.contains("Q"), where + ": no graceful close: " + child.tail());
            }
            restartAndVerify(dataDirectory, model, where + " after close");
        }
        final long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs);
        System.out.println("StorageCrashTest seed " + seed + ": " + kills + " kills in " + seconds + " s; " +
            payloadsVerified + " live payloads (" + payloadBytesVerified + " bytes) read back byte-identical, " +
            cancelledVerified + " cancelled sessions read NOT_FOUND, " + orphansDeleted +
            " orphans deleted at restarts");
        System.out.println("  kills (aim -> landing): " + landings);
        System.out.println("  in a flush window: " + flushKills + ", in a merge window: " + mergeKills);
        assertEquals(KILLS, kills);
        assertTrue(flushKills > 0, "seed " + seed + ": no kill landed inside a flush: " + landings);
        assertTrue(mergeKills > 0, "seed " + seed + ": no kill landed inside a merge: " + landings);
    }

    private static String aimAndKill(final ChildProcess child, final Random random) throws Exception
    {
        child.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
        final int pick = random.nextInt(100);
        final String aim;
        if (pick < 40)
        {
            final String phase = FLUSH_PHASES[random.nextInt(FLUSH_PHASES.length)];
            aim = "F " + phase;
            child.awaitEvent((line) -> line.startsWith(aim), EVENT_TIMEOUT_MS);
            Thread.sleep(random.nextInt(3));
        }
        else if (pick < 80)
        {
            final String phase = MERGE_PHASES[random.nextInt(MERGE_PHASES.length)];
            aim = "M " + phase;
            child.awaitEvent((line) -> line.startsWith(aim), EVENT_TIMEOUT_MS);
            Thread.sleep(random.nextInt(3));
        }
        else
        {
            aim = "time";
            Thread.sleep(50 + random.nextInt(1500));
        }
        child.kill();
        return aim;
    }

    /**
     * Where the kill landed: inside a flush (its last F line is not "F end" nor the abandoning of its temporary
     * file), inside a merge or deletion of retired sources (likewise for M), or neither.
     */
    static String landing(final List<String> lines)
    {
        String flush = null;
        String merge = null;
        synchronized (lines)
        {
            for (final String line : lines)
            {
                if (line.startsWith("F "))
                {
                    flush = line.substring(2);
                }
                else if (line.startsWith("M "))
                {
                    merge = line.substring(2);
                }
            }
        }
        final StringBuilder landing = new StringBuilder();
        if (open(flush))
        {
            landing.append("flush:").append(flush.split(" ")[0]).append(' ');
        }
        if (open(merge))
        {
            landing.append("merge:").append(merge.split(" ")[0]).append(' ');
        }
        return landing.length() == 0 ? "between" : landing.toString().trim();
    }

    private static boolean open(final String last)
    {
        return null != last && !last.equals("end") && !(last.startsWith("delete ") && last.endsWith(".tmp"));
    }

    // ------------------------------------------------------------------------------------------ restart and check

    /** Copies a failing run's data directory out of the temporary one, for inspection after the test. */
    private static Path keep(final Path dataDirectory, final long seed, final int directory, final int run)
        throws java.io.IOException
    {
        final Path kept = Path.of(System.getProperty("java.io.tmpdir"),
            "storage-crash-" + seed + "-" + directory + "-" + run);
        try (var paths = java.nio.file.Files.walk(dataDirectory))
        {
            for (final Path path : paths.toList())
            {
                final Path target = kept.resolve(dataDirectory.relativize(path).toString());
                if (java.nio.file.Files.isDirectory(path))
                {
                    java.nio.file.Files.createDirectories(target);
                }
                else
                {
                    java.nio.file.Files.copy(path, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return kept;
    }

    private void restartAndVerify(final Path dataDirectory, final Model model, final String where) throws Exception
    {
        final List<String> steps = Collections.synchronizedList(new ArrayList<>());
        final List<String> fileProblems = Collections.synchronizedList(new ArrayList<>());
        final FileChannelDisk disk = new FileChannelDisk();
        try (StandaloneNode node = StandaloneNode.start(StorageCrashDriverMain.context(dataDirectory, disk)
            .lifecycleListener((step) ->
            {
                steps.add(step);
                if (step.startsWith("storage-opened"))
                {
                    // Synchronous, in start-up, before any agent runs: the directory as recovery left it.
                    fileProblems.addAll(checkFiles(dataDirectory, steps));
                }
            })))
        {
            assertTrue(fileProblems.isEmpty(), where + ": files after restart: " + fileProblems + "; steps " + steps);
            orphansDeleted += count(steps, "storage-orphan-deleted");
            assertTrue(node.awaitApplied(30_000), where);
            final SavedSessionStorage storage = node.storage();
            final StorageReader reader = storage.newReader(StorageCrashDriverMain.MAX_PAYLOAD);
            final Set<Long> cancelled = new HashSet<>();
            final List<Long> live = new ArrayList<>();
            final SessionTable sessions = node.logic().sessions();
            for (int record = 0; record < sessions.highWater(); record++)
            {
                if (!sessions.isLive(record))
                {
                    continue;
                }
                assertEquals(StorageCrashDriverMain.TENANT, sessions.tenant(record), where);
                final int status = sessions.status(record);
                if (status == SessionStatus.CANCELLED.value() || status == SessionStatus.COMPLETED.value())
                {
                    cancelled.add(sessions.sessionId(record));
                }
                else
                {
                    live.add(sessions.sessionId(record));
                }
            }
            model.check(sessions, where);
            verifyPayloads(reader, live, cancelled, where);

            // Flush everything, then merge fully: at least two full merges after the flush (see the class doc).
            storage.requestFlush();
            final long applied = node.appliedIndex();
            waitFor(() -> storage.coversThrough(applied), where + ": flush");
            for (int round = 0; round < 3 && !storage.liveSources().isEmpty(); round++)
            {
                final long merged = count(steps, "storage-merged");
                storage.requestFullMerge();
                waitFor(() -> count(steps, "storage-merged") > merged, where + ": full merge " + round);
            }
            for (final Path path : storage.liveSources())
            {
                final SourceFile source = SourceFile.open(disk, path);
                try
                {
                    for (int e = 0; e < source.entries(); e++)
                    {
                        if (source.entryPayloadLength(e) >= 0)
                        {
                            assertTrue(!cancelled.contains(source.entrySessionId(e)), where + ": " + path +
                                " still holds the payload of cancelled session " + source.entrySessionId(e) +
                                " after two full merges");
                        }
                    }
                }
                finally
                {
                    source.close();
                }
            }
            verifyPayloads(reader, live, cancelled, where + " after merges");
            assertNull(node.fatalError(), where);
        }
    }

    private void verifyPayloads(
        final StorageReader reader, final List<Long> live, final Set<Long> cancelled, final String where)
        throws IOException
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[StorageCrashDriverMain.MAX_PAYLOAD]);
        final CRC32C crc = new CRC32C();
        for (final long sessionId : live)
        {
            final byte[] expected = StorageCrashDriverMain.payload(sessionId);
            final int length = reader.read(StorageCrashDriverMain.TENANT, sessionId, out, 0);
            assertEquals(expected.length, length, where + ": payload length of live session " + sessionId);
            final byte[] back = new byte[length];
            out.getBytes(0, back);
            crc.reset();
            crc.update(expected);
            final long expectedCrc = crc.getValue();
            crc.reset();
            crc.update(back);
            assertEquals(expectedCrc, crc.getValue(), where + ": checksum of the payload of session " + sessionId);
            assertArrayEquals(expected, back, where + ": payload of session " + sessionId);
            payloadsVerified++;
            payloadBytesVerified += length;
        }
        for (final long sessionId : cancelled)
        {
            assertEquals(StorageReader.NOT_FOUND, reader.read(StorageCrashDriverMain.TENANT, sessionId, out, 0),
                where + ": cancelled session " + sessionId + " still has a payload");
            cancelledVerified++;
        }
    }

    /** The directory right after storage opened at start-up: only what a catalog snapshot's manifest lists. */
    private static List<String> checkFiles(final Path dataDirectory, final List<String> steps)
    {
        final List<String> problems = new ArrayList<>();
        try
        {
            final int catalogSnapshots;
            synchronized (steps)
            {
                catalogSnapshots = steps.stream().filter((s) -> s.startsWith("catalog-read snapshots="))
                    .mapToInt((s) -> Integer.parseInt(s.split(" ")[1].substring("snapshots=".length()))).findFirst()
                    .orElse(-1);
            }
            final Set<Long> snapshotIndices = new HashSet<>();
            for (final String name : list(dataDirectory.resolve("snapshots")))
            {
                if (name.endsWith(SnapshotFile.SUFFIX))
                {
                    snapshotIndices.add(Long.parseLong(name.substring(0, name.length() -
                        SnapshotFile.SUFFIX.length())));
                }
                else if (!name.equals(SnapshotCatalog.FILE_NAME))
                {
                    problems.add("snapshots/" + name + " is not the catalog's");
                }
            }
            if (snapshotIndices.size() != catalogSnapshots)
            {
                problems.add("snapshots/ holds " + snapshotIndices + ", the catalog " + catalogSnapshots);
            }
            final Path sources = dataDirectory.resolve("sources");
            final Set<Long> manifests = new HashSet<>();
            final Set<Long> listed = new HashSet<>();
            final List<Long> sourceIds = new ArrayList<>();
            for (final String name : list(sources))
            {
                if (name.startsWith(SavedSessionStorage.MANIFEST_PREFIX) &&
                    name.endsWith(SavedSessionStorage.MANIFEST_SUFFIX))
                {
                    final long index = Long.parseLong(name.substring(SavedSessionStorage.MANIFEST_PREFIX.length(),
                        name.length() - SavedSessionStorage.MANIFEST_SUFFIX.length()));
                    manifests.add(index);
                    // Layout (docs/saved_sessions_storage.md): count i32 at 12, source ids i64 from 32.
                    final ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(sources.resolve(name)))
                        .order(ByteOrder.LITTLE_ENDIAN);
                    final int count = bytes.getInt(12);
                    for (int i = 0; i < count; i++)
                    {
                        listed.add(bytes.getLong(32 + 8 * i));
                    }
                }
                else if (SourceFile.idOf(name) >= 0)
                {
                    sourceIds.add(SourceFile.idOf(name));
                }
                else
                {
                    problems.add("sources/" + name + " is neither a source nor a manifest");
                }
            }
            if (!manifests.equals(snapshotIndices))
            {
                problems.add("manifests " + manifests + " but snapshots " + snapshotIndices);
            }
            for (final long id : sourceIds)
            {
                if (!listed.contains(id))
                {
                    problems.add("orphan " + SourceFile.nameFor(id) + ": no manifest lists it");
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            problems.add(ex.toString());
        }
        return problems;
    }

    private static List<String> list(final Path directory) throws IOException
    {
        if (!Files.isDirectory(directory))
        {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory))
        {
            return files.map((f) -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static long count(final List<String> steps, final String prefix)
    {
        synchronized (steps)
        {
            return steps.stream().filter((s) -> s.startsWith(prefix)).count();
        }
    }

    private static void waitFor(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out: " + what);
            Thread.sleep(2);
        }
    }

    // ------------------------------------------------------------------------------------------ the model

    /** Acknowledged saves and cancels: every later state holds them (nothing is purged within a year). */
    private static final class Model
    {
        private final Set<Long> saved = new HashSet<>();
        private final Set<Long> cancelled = new HashSet<>();

        void accept(final String line)
        {
            if (!line.startsWith("A ") || !line.endsWith(" #"))
            {
                return;
            }
            final String[] f = line.split(" ");
            if (!f[4].equals("OK"))
            {
                return;
            }
            (f[2].equals("SAVE") ? saved : cancelled).add(Long.parseLong(f[3]));
        }

        void check(final SessionTable sessions, final String where)
        {
            for (final long sessionId : saved)
            {
                assertTrue(sessions.find(StorageCrashDriverMain.TENANT, sessionId) != SessionTable.NULL,
                    where + ": acknowledged save of " + sessionId + " lost");
            }
            for (final long sessionId : cancelled)
            {
                final int record = sessions.find(StorageCrashDriverMain.TENANT, sessionId);
                assertTrue(record != SessionTable.NULL, where + ": session " + sessionId + " gone");
                assertEquals(SessionStatus.CANCELLED.value(), sessions.status(record),
                    where + ": acknowledged cancel of " + sessionId + " lost");
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the process

    /** One run of {@link StorageCrashDriverMain} in a JVM of its own. */
    private static ChildProcess child(
        final Path dataDirectory, final Path stderr, final int run, final long seed, final String where)
        throws IOException
    {
        return new ChildProcess(StorageCrashDriverMain.class, List.of(dataDirectory.toString(), Integer.toString(run),
            Long.toString(seed), Integer.toString(OPERATORS_PER_SECOND), Integer.toString(SLOW_IO_MS)), "256m",
            stderr, where, (line) -> { });
    }
}
