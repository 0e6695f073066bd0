package io.reprise.engine.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import io.reprise.engine.testing.ChildProcess;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.SessionStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at random moments loses nothing acknowledged (ARCHITECTURE §10), with real processes and real files.
 * <p>
 * Each cycle starts {@link CrashDriverMain} as a separate JVM on the same data directory, lets it recover and
 * work, and kills it with SIGKILL: at a random time, right after a snapshot starts (so the kill lands inside the
 * snapshot's writes, its catalog append, retention or log rotation), right after a rotation starts deleting
 * segments, right after a segment is created, or during start-up itself. After each kill, with no process
 * running, a copy of the data directory is rebuilt in this JVM through a path independent of the node's (the
 * oldest retained snapshot, or no snapshot when the journal still starts at index 1; every newer snapshot met on
 * the way must have the digest of the replayed log), and it must hold every acknowledged operator: index at
 * least the highest acknowledged, every acknowledged save present, every acknowledged cancel / success /
 * permanent failure in its status, every started attempt at least that far. The next run must then recover to
 * exactly that index and digest. Each directory ends with a graceful shutdown checked the same way.
 * <p>
 * System properties: {@code reprise.crash.kills} (30; 300 under {@code -Plong}), {@code reprise.crash.seed},
 * {@code reprise.crash.kills.per.directory} (30), {@code reprise.crash.ops.per.second} (6000),
 * {@code reprise.crash.slow.io.ms} (8). The seed fixes the operators each run offers and where each kill is
 * aimed; thread timing, and so the exact kill point, cannot be replayed.
 */
class CrashRecoveryTest
{
    private static final int KILLS = Integer.getInteger("reprise.crash.kills", 30);
    private static final int KILLS_PER_DIRECTORY = Integer.getInteger("reprise.crash.kills.per.directory", 30);
    private static final int OPERATORS_PER_SECOND = Integer.getInteger("reprise.crash.ops.per.second", 6000);
    private static final int SLOW_IO_MS = Integer.getInteger("reprise.crash.slow.io.ms", 8);
    private static final long START_TIMEOUT_MS = 90_000;
    private static final long EVENT_TIMEOUT_MS = 10_000;

    private enum Aim
    {
        START_UP, TIME, SNAPSHOT, ROTATION, SEGMENT
    }

    private static final String[] START_UP_STEPS = {
        "L data-directory", "L catalog-read", "L snapshot-", "L journal-opened", "L journal-replayed",
        "L flow-started", "L agent-started", "L started", "R "};

    private static final String[] SEGMENT_PHASES = {"D seg-create", "D seg-write", "D seg-sync", "D seg-dirsync"};

    private final Map<String, Integer> landings = new TreeMap<>();
    private final Map<String, Integer> recoveries = new TreeMap<>();
    private long snapshotsChecked;

    @Test
    void shouldLoseNothingAcknowledgedWhenKilledAtAnyMoment(@TempDir final Path tmp) throws Exception
    {
        final long seed = Long.getLong("reprise.crash.seed", System.nanoTime());
        System.out.println("CrashRecoveryTest seed " + seed + " kills " + KILLS + " (rerun with -Dreprise.crash.seed=" +
            seed + ")");
        final Random random = new Random(seed);
        final long startNs = System.nanoTime();
        int kills = 0;
        int snapshotWindowKills = 0;
        int rotationKills = 0;
        long acknowledged = 0;
        for (int directory = 0; kills < KILLS; directory++)
        {
            final Path dataDirectory = tmp.resolve("data-" + directory);
            final Path copy = tmp.resolve("copy");
            final Model model = new Model();
            Expected expected = verifyOffline(dataDirectory, copy, model, "directory " + directory + " before run 1");
            final int cycles = Math.min(KILLS_PER_DIRECTORY, KILLS - kills);
            for (int run = 1; run <= cycles; run++, kills++)
            {
                final String where = "seed " + seed + ", directory " + directory + ", run " + run;
                final Aim aim = aim(random);
                try (Driver driver = new Driver(dataDirectory, tmp.resolve("stderr-" + directory + "-" + run),
                    run, seed + 7919L * directory, expected, model, where))
                {
                    aimAndKill(driver, aim, random);
                    final String landing = landing(driver.lines, aim);
                    landings.merge(landing, 1, Integer::sum);
                    if (landing.startsWith("snapshot") || landing.startsWith("retention") ||
                        landing.startsWith("rotation"))
                    {
                        snapshotWindowKills++;
                    }
                    if (landing.startsWith("rotation"))
                    {
                        rotationKills++;
                    }
                    countRecoveryEvidence(driver.lines);
                }
                expected = verifyOffline(dataDirectory, copy, model, where + " after the kill");
            }

            final String where = "seed " + seed + ", directory " + directory + ", final run";
            try (Driver driver = new Driver(dataDirectory, tmp.resolve("stderr-" + directory + "-final"),
                cycles + 1, seed + 7919L * directory, expected, model, where))
            {
                driver.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
                Thread.sleep(300);
                driver.stopGracefully();
                countRecoveryEvidence(driver.lines);
                final String closed = driver.lines.stream().filter((l) -> l.startsWith("Q ")).findFirst()
                    .orElseThrow(() -> new AssertionError(where + ": no graceful close: " + driver.tail()));
                final Expected after = verifyOffline(dataDirectory, copy, model, where + " after close");
                final String[] q = closed.split(" ");
                assertEquals(after.index, Long.parseLong(q[1]), where + ": closed at another index than its data");
                assertEquals(after.digest, Long.parseLong(q[2]), where + ": closed with another state than its data");
                assertTrue(driver.lines.contains("L exited"), where);
            }
            acknowledged += model.acknowledged;
        }

        final long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs);
        System.out.println("CrashRecoveryTest seed " + seed + ": " + kills + " kills in " + seconds + " s, " +
            acknowledged + " acknowledged operators checked, " + snapshotsChecked +
            " snapshot digests checked against the replayed log");
        System.out.println("  kills landed: " + landings);
        System.out.println("  in a snapshot/retention/rotation window: " + snapshotWindowKills +
            " (deleting segments: " + rotationKills + ")");
        System.out.println("  restarts found: " + recoveries);
        assertEquals(KILLS, kills);
        if (KILLS >= 20) // about a third of the kills are aimed at snapshots; a handful may all miss
        {
            assertTrue(snapshotWindowKills > 0, "seed " + seed + ": no kill landed while a snapshot was being taken: " +
                landings);
        }
    }

    private static Aim aim(final Random random)
    {
        final int pick = random.nextInt(100);
        return pick < 10 ? Aim.START_UP : pick < 35 ? Aim.TIME : pick < 70 ? Aim.SNAPSHOT : pick < 90 ? Aim.ROTATION :
            Aim.SEGMENT;
    }

    private static void aimAndKill(final Driver driver, final Aim aim, final Random random) throws Exception
    {
        switch (aim)
        {
            case START_UP:
            {
                final String step = START_UP_STEPS[random.nextInt(START_UP_STEPS.length)];
                driver.await((line) -> line.startsWith(step) || line.startsWith("R "), START_TIMEOUT_MS);
                break;
            }
            case TIME:
                driver.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
                Thread.sleep(50 + random.nextInt(1450));
                break;
            case SNAPSHOT:
            {
                driver.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
                final int nth = 1 + random.nextInt(2);
                for (int i = 0; i < nth; i++)
                {
                    driver.awaitEvent((line) -> line.startsWith("S start"), EVENT_TIMEOUT_MS);
                }
                Thread.sleep(random.nextInt(60));
                break;
            }
            case ROTATION:
                driver.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
                driver.awaitEvent((line) -> line.startsWith("D seg-delete "), EVENT_TIMEOUT_MS);
                Thread.sleep(random.nextInt(4));
                break;
            default:
            {
                // Before the file exists, before its header, before its sync, before its directory's sync.
                final String phase = SEGMENT_PHASES[random.nextInt(SEGMENT_PHASES.length)];
                driver.await((line) -> line.startsWith("R "), START_TIMEOUT_MS);
                driver.awaitEvent((line) -> line.startsWith(phase), EVENT_TIMEOUT_MS);
                Thread.sleep(random.nextInt(3));
                break;
            }
        }
        driver.kill();
    }

    /** Where the kill landed, from what the process printed before it died. */
    private static String landing(final List<String> lines, final Aim aim)
    {
        if (lines.stream().noneMatch((l) -> l.startsWith("R ")))
        {
            String last = "spawned";
            for (final String line : lines)
            {
                if (line.startsWith("L "))
                {
                    last = line.substring(2).split(" ")[0];
                }
            }
            return "start-up, after " + last;
        }
        final int start = lastIndexOf(lines, "S start");
        final int taken = lastIndexOf(lines, "S taken");
        final int rotated = lastIndexOf(lines, "S rotated");
        if (start >= 0 && start > rotated)
        {
            String phase = null;
            for (int i = start + 1; i < lines.size(); i++)
            {
                final String line = lines.get(i);
                if (line.startsWith("D snap-") || line.startsWith("D catalog-") || line.startsWith("D seg-delete"))
                {
                    phase = line.substring(2).split(" ")[0];
                }
            }
            if (taken > start)
            {
                if (null != phase && phase.startsWith("seg-delete"))
                {
                    return "rotation: deleting journal segments";
                }
                return null != phase && (phase.startsWith("snap-") || phase.startsWith("catalog")) ?
                    "retention: dropping old snapshots" : "snapshot: recorded, before retention";
            }
            if (null == phase)
            {
                return "snapshot: serializing the state";
            }
            if (phase.startsWith("catalog"))
            {
                return "snapshot: appending to the catalog";
            }
            if (phase.equals("snap-create") || phase.equals("snap-write"))
            {
                return "snapshot: writing the temporary file";
            }
            return phase.equals("snap-sync") ? "snapshot: syncing the file" : "snapshot: renaming it into place";
        }
        String segmentPhase = null;
        for (final String line : lines)
        {
            for (final String phase : SEGMENT_PHASES)
            {
                if (line.startsWith(phase))
                {
                    segmentPhase = phase.substring(6);
                }
            }
        }
        if (null != segmentPhase && !segmentPhase.equals("dirsync"))
        {
            return "segment creation: before its " + segmentPhase;
        }
        if (null != segmentPhase && aim == Aim.SEGMENT)
        {
            return "segment creation: at its directory sync or just after";
        }
        return "running, aimed at " + aim.name().toLowerCase();
    }

    private static int lastIndexOf(final List<String> lines, final String prefix)
    {
        for (int i = lines.size() - 1; i >= 0; i--)
        {
            if (lines.get(i).startsWith(prefix))
            {
                return i;
            }
        }
        return -1;
    }

    private void countRecoveryEvidence(final List<String> lines)
    {
        for (final String line : lines)
        {
            if (line.startsWith("L orphan-deleted"))
            {
                recoveries.merge("orphan snapshot deleted", 1, Integer::sum);
            }
            else if (line.contains("truncated torn tail"))
            {
                recoveries.merge("torn journal tail truncated", 1, Integer::sum);
            }
            else if (line.contains("deleted blank last segment"))
            {
                recoveries.merge("blank last segment deleted", 1, Integer::sum);
            }
            else if (line.contains("truncated torn catalog entry"))
            {
                recoveries.merge("torn catalog entry cut", 1, Integer::sum);
            }
            else if (line.startsWith("L snapshot-restored"))
            {
                recoveries.merge("started from a snapshot", 1, Integer::sum);
            }
            else if (line.startsWith("L snapshot-none"))
            {
                recoveries.merge("started without a snapshot", 1, Integer::sum);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ offline check

    /** What the next run must recover: the last valid index of the data directory and the digest there. */
    private record Expected(long index, long digest)
    {
    }

    /**
     * Rebuilds the state of a copy of {@code dataDirectory} (taken while no process runs) without the node's
     * path: from the oldest retained snapshot, or from nothing when the journal still holds index 1; checks
     * every newer snapshot's digest on the way, and everything the model knows was acknowledged.
     */
    private Expected verifyOffline(final Path dataDirectory, final Path copy, final Model model, final String where)
        throws IOException
    {
        copyTree(dataDirectory, copy);
        final Disk disk = new FileChannelDisk();
        final Path journalDirectory = copy.resolve("journal");
        long last = 0;
        final List<Long> segments;
        try (JournalReader reader = new JournalReader(disk, journalDirectory))
        {
            segments = new ArrayList<>(reader.segments());
            long records = 0;
            JournalReader.Status status;
            while ((status = reader.next()) == JournalReader.Status.RECORD)
            {
                last = reader.index();
                records++;
            }
            if (status == JournalReader.Status.CORRUPT)
            {
                fail(where + ": the journal does not validate: " + reader.describeProblem());
            }
            if (records == 0)
            {
                last = segments.isEmpty() ? 0 : segments.get(0) - 1;
            }
        }

        final BusinessLogic logic;
        final String state;
        try (SnapshotCatalog catalog = SnapshotCatalog.open(disk, copy.resolve("snapshots")))
        {
            final Recovery.Start start = segments.isEmpty() || segments.get(0) == 1 ? Recovery.Start.NONE :
                Recovery.Start.OLDEST;
            state = " (journal segments " + segments + " valid to " + last + ", snapshots " +
                catalog.snapshots().stream().map(SnapshotInfo::index).toList() + ", replayed from " + start + ")";
            logic = Recovery.restoreSnapshot(disk, catalog, CrashDriverMain.rules(), OutputSink.NONE, start,
                (step) -> { });
            for (final SnapshotInfo info : catalog.snapshots())
            {
                assertTrue(info.index() <= last, where + ": snapshot " + info.fileName() +
                    " is ahead of the journal, which ends at " + last);
                if (info.index() > logic.appliedIndex())
                {
                    Recovery.replay(disk, journalDirectory, logic, info.index(), (step) -> { });
                    assertEquals(info.index(), logic.appliedIndex(), where);
                    assertEquals(info.stateDigest(), logic.digest(), where + ": snapshot " + info.fileName() +
                        " does not hold the state the log gives at its index");
                    snapshotsChecked++;
                }
            }
        }
        Recovery.replay(disk, journalDirectory, logic, last, (step) -> { });
        assertEquals(last, logic.appliedIndex(), where + ": replay did not reach the journal's end" + state);
        model.check(logic, where + state);
        return new Expected(last, logic.digest());
    }

    private static void copyTree(final Path from, final Path to) throws IOException
    {
        if (Files.exists(to))
        {
            try (Stream<Path> paths = Files.walk(to))
            {
                for (final Path path : paths.sorted(Comparator.reverseOrder()).toList())
                {
                    Files.delete(path);
                }
            }
        }
        Files.createDirectories(to);
        if (!Files.exists(from))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(from))
        {
            for (final Path path : paths.toList())
            {
                final Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(path, target);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the model

    /** What was acknowledged, and so must hold in every later state (nothing is purged under these rules). */
    private static final class Model
    {
        private final Map<Long, Long> saved = new HashMap<>();
        private final Map<Long, long[]> finalStatus = new HashMap<>();
        private final Map<Long, long[]> startedAttempt = new HashMap<>();
        private long maxIndex;
        private long maxIndexLine;
        long acknowledged;

        /** Takes an A or B line; a line the kill cut short does not end with "#" and is ignored. */
        void accept(final String line)
        {
            if (!line.endsWith(" #") || !(line.startsWith("A ") || line.startsWith("B ")))
            {
                return;
            }
            final String[] f = line.split(" ");
            final long index = Long.parseLong(f[1]);
            acknowledged++;
            if (index > maxIndex)
            {
                maxIndex = index;
            }
            if (f[0].equals("B"))
            {
                startedAttempt.merge(Long.parseLong(f[2]), new long[] {Long.parseLong(f[3]), index},
                    (a, b) -> a[0] >= b[0] ? a : b);
                return;
            }
            final long sessionId = Long.parseLong(f[3]);
            if (!f[4].equals("OK"))
            {
                return;
            }
            switch (f[2])
            {
                case "SAVE":
                    saved.put(sessionId, index);
                    break;
                case "CANCEL":
                    finalStatus.put(sessionId, new long[] {SessionStatus.CANCELLED.value(), index});
                    break;
                case "OUTCOME":
                    if (f[6].equals("SUCCEEDED"))
                    {
                        finalStatus.put(sessionId, new long[] {SessionStatus.COMPLETED.value(), index});
                    }
                    else if (f[6].equals("FAILED_PERMANENTLY"))
                    {
                        finalStatus.put(sessionId, new long[] {SessionStatus.DEAD.value(), index});
                    }
                    break;
                default:
                    throw new AssertionError("unknown acknowledgement: " + line);
            }
        }

        void check(final BusinessLogic logic, final String where)
        {
            assertTrue(logic.appliedIndex() >= maxIndex, where + ": operator " + maxIndex +
                " was acknowledged but the state ends at " + logic.appliedIndex());
            final SessionTable sessions = logic.sessions();
            saved.forEach((sessionId, index) -> assertTrue(sessions.find(CrashDriverMain.TENANT, sessionId) !=
                SessionTable.NULL, where + ": session " + sessionId + " saved and acknowledged at " + index +
                " is gone"));
            finalStatus.forEach((sessionId, status) ->
            {
                final int record = sessions.find(CrashDriverMain.TENANT, sessionId);
                assertTrue(record != SessionTable.NULL, where + ": session " + sessionId + " is gone");
                assertEquals(status[0], sessions.status(record), where + ": session " + sessionId +
                    " lost the status acknowledged at " + status[1]);
            });
            startedAttempt.forEach((sessionId, attempt) ->
            {
                final int record = sessions.find(CrashDriverMain.TENANT, sessionId);
                assertTrue(record != SessionTable.NULL, where + ": session " + sessionId + " is gone");
                assertTrue(sessions.attempt(record) >= attempt[0], where + ": session " + sessionId +
                    " is at attempt " + sessions.attempt(record) + ", attempt " + attempt[0] + " began at " +
                    attempt[1]);
            });
        }
    }

    // ------------------------------------------------------------------------------------------ the process

    /** One run of {@link CrashDriverMain}: its stdout, checked as it comes, and how it ends. */
    private static final class Driver implements AutoCloseable
    {
        final List<String> lines;
        private final ChildProcess child;
        private final Expected expected;
        private final Model model;
        private final String where;
        private boolean recovered;

        Driver(
            final Path dataDirectory,
            final Path stderr,
            final int run,
            final long seed,
            final Expected expected,
            final Model model,
            final String where) throws IOException
        {
            this.expected = expected;
            this.model = model;
            this.where = where;
            child = new ChildProcess(CrashDriverMain.class, List.of(dataDirectory.toString(), Integer.toString(run),
                Long.toString(seed), Integer.toString(OPERATORS_PER_SECOND), Integer.toString(SLOW_IO_MS)),
                "384m", stderr, where, this::check);
            lines = child.lines;
        }

        private void check(final String line)
        {
            if (line.startsWith("R ") && !recovered)
            {
                recovered = true;
                final String[] f = line.split(" ");
                assertEquals(expected.index, Long.parseLong(f[1]), where +
                    ": recovered to another index than the data directory holds");
                assertEquals(expected.digest, Long.parseLong(f[2]), where +
                    ": recovered state differs from the independent replay");
            }
        }

        void awaitEvent(final Predicate<String> wanted, final long timeoutMs) throws Exception
        {
            child.awaitEvent(wanted, timeoutMs);
        }

        String await(final Predicate<String> wanted, final long timeoutMs) throws Exception
        {
            return child.await(wanted, timeoutMs);
        }

        void kill() throws Exception
        {
            child.kill();
            feedModel();
        }

        void stopGracefully() throws Exception
        {
            child.stopGracefully();
            feedModel();
        }

        private void feedModel()
        {
            synchronized (lines)
            {
                for (final String l : lines)
                {
                    model.accept(l);
                }
            }
        }

        String tail()
        {
            return child.tail();
        }

        public void close()
        {
            child.close();
        }
    }
}
