package io.reprise.engine.node;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.testing.DriverOutput;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.ForwardingDiskFile;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.engine.logic.OutputSink;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The process that {@link CrashRecoveryTest} kills with SIGKILL: a standalone node on a real data directory (real
 * {@link FileChannelDisk}, small segments, frequent snapshots) driven through the in-process API by one driver
 * thread, which prints to stdout, flushed, every acknowledged operator with its log index.
 * <p>
 * Arguments: {@code dataDirectory run seed operatorsPerSecond slowSnapshotIoMs}. Lines on stdout (the test parses
 * them; A and B lines end with {@code #} so a line cut by the kill is recognised):
 * <pre>
 *   L step                                    a lifecycle step (start-up, shutdown)
 *   R appliedIndex digest sessions systemTime the state recovered at start, before anything new was offered
 *   A index SAVE|CANCEL sid code #            a client operator acknowledged (applied, so durable)
 *   A index OUTCOME sid code attempt outcome #
 *   B index sid attempt #                     an applied BeginRepeats started this attempt
 *   S start|taken|rotated ...                 the snapshot agent, printed on its thread before it goes on
 *   D phase [file]                            a durable-file operation of a snapshot, the catalog, a rotation or a
 *                                             segment creation, printed just before it is done
 *   Q applied digest                          closed gracefully (stdin reached its end or said "stop")
 *   X failure                                 the node refused to start
 * </pre>
 * Time is the driver's: the node's epoch clock reads an {@link AtomicLong} that is 0 until the recovered state is
 * printed (so the time process proposes nothing before), then moves only when the driver advances it. The
 * state right after start is therefore exactly the recovered one.
 * <p>
 * {@code slowSnapshotIoMs} &gt; 0 wraps the disk so that each durable-file operation of a snapshot, the catalog, a
 * rotation or a segment creation is announced and then delayed a random 0..n ms: this only widens the windows in
 * which the test's kill can land; what the files go through is unchanged.
 */
public final class CrashDriverMain
{
    static final int TENANT = 7;
    static final int DESTINATIONS = 4;
    static final long SESSION_ID_STRIDE = 1_000_000_000L;
    static final long CLOCK_BASE_MS = 1_700_000_000_000L;
    static final long SEGMENT_LENGTH = 4L * 1024 * 1024;
    static final long SNAPSHOT_EVERY_OPERATORS = 2_500;
    static final int SNAPSHOTS_RETAINED = 2;
    private static final long YEAR_MS = 365L * 24 * 60 * 60 * 1000;

    private CrashDriverMain()
    {
    }

    /**
     * The rules of every run and of the test's offline replay (a snapshot records their digest). Terminal and
     * dead sessions are kept a year of system time, far more than a campaign advances it, so no session is
     * ever purged and every acknowledged save must stay visible.
     */
    static BusinessRules rules()
    {
        return new BusinessRules()
            .maxSessions(1 << 21)
            .expectedSessions(1 << 16)
            .maxDestinations(16)
            .terminalRetentionMs(YEAR_MS)
            .deadRetentionMs(YEAR_MS)
            .conclude();
    }

    public static void main(final String[] args) throws Exception
    {
        final Path dataDirectory = Path.of(args[0]);
        final int run = Integer.parseInt(args[1]);
        final long seed = Long.parseLong(args[2]);
        final int operatorsPerSecond = Integer.parseInt(args[3]);
        final int slowSnapshotIoMs = Integer.parseInt(args[4]);

        final DriverOutput out = new DriverOutput(() -> Driver.stop = true);
        final AtomicLong clock = new AtomicLong();
        final Random random = new Random(seed * 1_000_003L + run);
        final Disk disk = slowSnapshotIoMs > 0 ?
            new ReportingDisk(new FileChannelDisk(), dataDirectory, out, new Random(random.nextLong()),
            slowSnapshotIoMs) : new FileChannelDisk();
        final Queue<Object[]> events = new ConcurrentLinkedQueue<>();
        final Observer observer = new Observer(events);

        final NodeContext context = new NodeContext()
            .dataDirectory(dataDirectory)
            .disk(disk)
            .rules(rules())
            .journalSegmentLength(SEGMENT_LENGTH)
            .journalWriteBufferBytes(2 * 1024 * 1024)
            .ringSize(4096)
            .timeTickMs(1)
            .epochClock(clock::get)
            .snapshotEveryOperators(SNAPSHOT_EVERY_OPERATORS)
            .snapshotEveryMs(Long.MAX_VALUE) // the clock leaps at start: only the operator count triggers
            .snapshotsRetained(SNAPSHOTS_RETAINED)
            .outputObserver(observer)
            .lifecycleListener((step) -> out.lineNow("L " + step))
            .errorHandler((ex) ->
            {
                out.lineNow("E " + oneLine(ex));
                ex.printStackTrace();
            })
            .snapshotListener(new SnapshotAgent.Listener()
            {
                public void onSnapshotStarting(final long index)
                {
                    out.lineNow("S start " + index);
                }

                public void onSnapshot(final SnapshotInfo info, final long writeNs)
                {
                    out.lineNow("S taken " + info.index() + " " + writeNs / 1_000_000 + "ms");
                }

                public void onRotation(final int segmentsDeleted, final int snapshotsDeleted)
                {
                    out.lineNow("S rotated " + segmentsDeleted + " " + snapshotsDeleted);
                }
            });

        final StandaloneNode node;
        try
        {
            node = StandaloneNode.start(context);
        }
        catch (final IOException | RuntimeException ex)
        {
            out.lineNow("X " + oneLine(ex));
            ex.printStackTrace();
            System.exit(3);
            return;
        }

        // Nothing has been offered and the clock reads 0: the state is exactly what recovery built.
        final BusinessLogic logic = node.logic();
        out.lineNow("R " + logic.appliedIndex() + " " + logic.digest() + " " + logic.sessions().size() + " " +
            logic.systemTimeMs());
        final List<long[]> inFlight = new ArrayList<>();
        final List<Long> saved = new ArrayList<>();
        final SessionTable sessions = logic.sessions();
        for (int record = 0; record < sessions.highWater(); record++)
        {
            if (sessions.isLive(record))
            {
                saved.add(sessions.sessionId(record));
                if (sessions.status(record) == SessionStatus.IN_FLIGHT.value())
                {
                    inFlight.add(new long[] {sessions.sessionId(record), sessions.attempt(record),
                        sessions.destination(record)});
                }
            }
        }
        observer.logic = logic;
        // The first operator sets the time, so that no session is saved at the system time of a fresh state (0)
        // and purged when time then leaps to the base: every acknowledged save must stay visible.
        clock.set(Math.max(CLOCK_BASE_MS, logic.systemTimeMs()) + 1);
        final UnsafeBuffer setTime = new UnsafeBuffer(new byte[64]);
        final int setTimeLength = new OperatorEncoder().setTime(setTime, 0, clock.get());
        final InProcessClient timeSetter = node.newClient(TENANT, (index, correlationId, templateId, code, value) -> { });
        while (timeSetter.offer(setTime, 0, setTimeLength) == ResultCode.BACK_PRESSURE)
        {
            LockSupport.parkNanos(100_000);
        }

        DriverOutput.onStopRequest(() -> Driver.stop = true);

        new Driver(node, out, events, clock, random, run, operatorsPerSecond, inFlight, saved).drive();

        node.close();
        out.lineNow("Q " + node.logic().appliedIndex() + " " + node.logic().digest());
        System.exit(null == node.fatalError() ? 0 : 4);
    }

    static String oneLine(final Throwable ex)
    {
        return (ex.getClass().getSimpleName() + ": " + ex.getMessage()).replace('\n', ' ');
    }

    /** The one thread that offers operators, and prints what was acknowledged. */
    private static final class Driver
    {
        static volatile boolean stop;

        private final StandaloneNode node;
        private final DriverOutput out;
        private final Queue<Object[]> events;
        private final AtomicLong clock;
        private final Random random;
        private final InProcessClient client;
        private final OperatorEncoder encoder = new OperatorEncoder();
        private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
        private final UnsafeBuffer payload = new UnsafeBuffer(new byte[1500]);
        private final SessionPolicy policy = new SessionPolicy();
        private final Map<Long, Object[]> pending = new HashMap<>();
        private final List<long[]> inFlight;
        private final List<Long> saved;
        private final long nanosPerOperator;
        private long nextSessionId;

        Driver(
            final StandaloneNode node,
            final DriverOutput out,
            final Queue<Object[]> events,
            final AtomicLong clock,
            final Random random,
            final int run,
            final int operatorsPerSecond,
            final List<long[]> inFlight,
            final List<Long> saved)
        {
            this.node = node;
            this.out = out;
            this.events = events;
            this.clock = clock;
            this.random = random;
            this.inFlight = inFlight;
            this.saved = saved;
            this.nanosPerOperator = 1_000_000_000L / operatorsPerSecond;
            this.nextSessionId = run * SESSION_ID_STRIDE + 1;
            this.client = node.newClient(TENANT, (index, correlationId, templateId, code, value) ->
                events.add(new Object[] {"A", index, correlationId, code}));
            random.nextBytes(payload.byteArray());
        }

        void drive()
        {
            long dueNs = System.nanoTime();
            while (!stop)
            {
                printEvents();
                final long now = System.nanoTime();
                if (dueNs - now > 1_000_000)
                {
                    LockSupport.parkNanos(dueNs - now);
                    continue;
                }
                dueNs = Math.max(dueNs, now - 50_000_000) + nanosPerOperator;
                if (!offerOne())
                {
                    return;
                }
            }
        }

        private boolean offerOne()
        {
            final int choice = random.nextInt(100);
            ResultCode code;
            if (choice < 45 || (choice < 80 && choice >= 58 && inFlight.isEmpty()))
            {
                final long sessionId = nextSessionId++;
                policy.initialDelayMs(random.nextInt(200))
                    .maxAttempts(1 + random.nextInt(5))
                    .leaseMs(20 + random.nextInt(300))
                    .backoffInitialMs(10 + random.nextInt(90))
                    .backoffMaxMs(1_000)
                    .ttlMs(random.nextInt(4) == 0 ? 2_000 + random.nextInt(20_000) : 0);
                final int length = random.nextInt(payload.capacity());
                final int offset = random.nextInt(payload.capacity() - length + 1);
                final int destination = 1 + random.nextInt(DESTINATIONS);
                code = retry(new Object[] {"SAVE", sessionId},
                    () -> client.save(sessionId, destination, policy, payload, offset, length));
                saved.add(sessionId);
            }
            else if (choice < 58)
            {
                final int length = encoder.beginRepeats(buffer, 0, 1 + random.nextInt(DESTINATIONS),
                    1 + random.nextInt(32));
                code = retry(null, () -> client.offer(buffer, 0, length));
            }
            else if (choice < 80)
            {
                final int at = random.nextInt(inFlight.size());
                final long[] attempt = inFlight.get(at);
                inFlight.set(at, inFlight.get(inFlight.size() - 1));
                inFlight.remove(inFlight.size() - 1);
                final int pick = random.nextInt(100);
                final Outcome outcome = pick < 55 ? Outcome.SUCCEEDED : pick < 85 ? Outcome.RETRY :
                    Outcome.FAILED_PERMANENTLY;
                final long retryAfterMs = outcome == Outcome.RETRY && random.nextBoolean() ? 1 + random.nextInt(200) : 0;
                code = retry(new Object[] {"OUTCOME", attempt[0], attempt[1], outcome},
                    () -> client.reportOutcome(attempt[0], (int)attempt[2], (int)attempt[1], outcome, 0, retryAfterMs));
            }
            else if (choice < 88)
            {
                final long sessionId = saved.isEmpty() || random.nextInt(20) == 0 ? nextSessionId + 1_000_000 :
                    saved.get(random.nextInt(saved.size()));
                code = retry(new Object[] {"CANCEL", sessionId}, () -> client.cancel(sessionId));
            }
            else
            {
                clock.addAndGet(1 + random.nextInt(30));
                return true;
            }
            return code == ResultCode.OK;
        }

        /** Offers until taken; a refused offer used up its correlation id, so the taken one is remembered. */
        private ResultCode retry(final Object[] operator, final java.util.function.Supplier<ResultCode> offer)
        {
            while (true)
            {
                final long correlationId = client.nextCorrelationId();
                final ResultCode code = offer.get();
                if (code != ResultCode.BACK_PRESSURE && code != ResultCode.STORAGE_UNAVAILABLE)
                {
                    if (code == ResultCode.OK && null != operator)
                    {
                        pending.put(correlationId, operator);
                    }
                    return code;
                }
                printEvents();
                if (stop)
                {
                    return ResultCode.SHUTTING_DOWN;
                }
                LockSupport.parkNanos(100_000);
            }
        }

        private void printEvents()
        {
            Object[] event;
            boolean printed = false;
            while ((event = events.poll()) != null)
            {
                printed = true;
                if (event[0].equals("B"))
                {
                    inFlight.add(new long[] {(Long)event[2], (Integer)event[3], (Integer)event[4]});
                    out.line("B " + event[1] + " " + event[2] + " " + event[3] + " #");
                    continue;
                }
                final Object[] operator = pending.remove((Long)event[2]);
                if (null == operator)
                {
                    out.line("E response without an operator: correlation " + event[2]);
                    continue;
                }
                final StringBuilder line = new StringBuilder("A ").append(event[1]).append(' ').append(operator[0])
                    .append(' ').append(operator[1]).append(' ').append(event[3]);
                if (operator[0].equals("OUTCOME"))
                {
                    line.append(' ').append(operator[2]).append(' ').append(operator[3]);
                }
                out.line(line.append(" #").toString());
            }
            if (printed)
            {
                out.flush();
            }
        }
    }

    /** Sees the outputs of the business logic on its thread: the repeats that applied BeginRepeats started. */
    private static final class Observer implements OutputSink
    {
        private final Queue<Object[]> events;
        volatile BusinessLogic logic;

        Observer(final Queue<Object[]> events)
        {
            this.events = events;
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt, final long leaseMs,
            final int handle)
        {
            final BusinessLogic logic = this.logic;
            if (null != logic) // null while start-up replays the journal: those were reported by an earlier run
            {
                events.add(new Object[] {"B", logic.appliedIndex() + 1, sessionId, attempt, destination});
            }
        }

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

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
        }
    }

    /**
     * A real disk that announces each durable-file operation of snapshots, the catalog, rotation and segment
     * creation ("D phase file", flushed) and then sleeps a random 0..maxDelayMs ms before doing it, so the test
     * can see where its kill landed and has time to land it there.
     */
    static final class ReportingDisk extends ForwardingDisk
    {
        private final Path snapshots;
        private final Path journal;
        private final DriverOutput out;
        private final Random random;
        private final int maxDelayMs;

        ReportingDisk(final Disk disk, final Path dataDirectory, final DriverOutput out, final Random random, final int maxDelayMs)
        {
            super(disk);
            this.snapshots = dataDirectory.resolve("snapshots");
            this.journal = dataDirectory.resolve("journal");
            this.out = out;
            this.random = random;
            this.maxDelayMs = maxDelayMs;
        }

        void announce(final String phase, final int maxMs)
        {
            out.lineNow("D " + phase);
            final int ms;
            synchronized (random)
            {
                ms = random.nextInt(maxMs + 1);
            }
            if (ms > 0)
            {
                LockSupport.parkNanos(ms * 1_000_000L);
            }
        }

        private static boolean rotating()
        {
            return Thread.currentThread().getName().equals("snapshot-agent");
        }

        public DiskFile open(final Path file, final boolean create) throws IOException
        {
            final Path parent = file.getParent();
            final String name = file.getFileName().toString();
            if (snapshots.equals(parent))
            {
                final boolean catalog = name.equals(SnapshotCatalog.FILE_NAME);
                if (!catalog && create)
                {
                    announce("snap-create " + name, maxDelayMs);
                }
                return new ReportingFile(this, disk.open(file, create), catalog ? "catalog" : "snap", maxDelayMs,
                    false);
            }
            if (journal.equals(parent) && create)
            {
                announce("seg-create " + name, maxDelayMs);
                return new ReportingFile(this, disk.open(file, create), "seg", maxDelayMs, true);
            }
            return disk.open(file, create);
        }

        public void delete(final Path file) throws IOException
        {
            if (snapshots.equals(file.getParent()))
            {
                announce("snap-delete " + file.getFileName(), maxDelayMs);
            }
            else if (journal.equals(file.getParent()))
            {
                announce((rotating() ? "seg-delete " : "seg-drop ") + file.getFileName(), maxDelayMs);
            }
            disk.delete(file);
        }

        public void rename(final Path source, final Path target) throws IOException
        {
            if (snapshots.equals(target.getParent()))
            {
                announce("snap-rename " + target.getFileName(), maxDelayMs);
            }
            disk.rename(source, target);
        }

        public void syncDirectory(final Path directory) throws IOException
        {
            if (snapshots.equals(directory))
            {
                announce("snap-dirsync", maxDelayMs);
            }
            else if (journal.equals(directory))
            {
                if (rotating())
                {
                    announce("seg-delete-dirsync", maxDelayMs);
                }
                else
                {
                    announce("seg-dirsync", maxDelayMs);
                }
            }
            disk.syncDirectory(directory);
        }
    }

    /** A file of a {@link ReportingDisk}: announces writes and syncs (of a segment, only the first of each). */
    private static final class ReportingFile extends ForwardingDiskFile
    {
        private final ReportingDisk disk;
        private final String kind;
        private final int maxDelayMs;
        private boolean quietWrites;
        private boolean quietSyncs;
        private final boolean firstOnly;

        ReportingFile(
            final ReportingDisk disk, final DiskFile file, final String kind, final int maxDelayMs,
            final boolean firstOnly)
        {
            super(file);
            this.disk = disk;
            this.kind = kind;
            this.maxDelayMs = maxDelayMs;
            this.firstOnly = firstOnly;
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            if (!quietWrites)
            {
                disk.announce(kind + "-write", maxDelayMs);
                quietWrites = firstOnly;
            }
            file.write(source, position);
        }

        public void writeFrom(final DiskFile source, final long sourcePosition, final long count, final long position)
            throws IOException
        {
            if (!quietWrites)
            {
                disk.announce(kind + "-write", maxDelayMs);
                quietWrites = firstOnly;
            }
            super.writeFrom(source, sourcePosition, count, position);
        }

        public void sync() throws IOException
        {
            if (!quietSyncs)
            {
                disk.announce(kind + "-sync", maxDelayMs);
                quietSyncs = firstOnly;
            }
            file.sync();
        }
    }
}
