package io.reprise.engine.storage;

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
import java.util.concurrent.locks.LockSupport;

import io.reprise.engine.testing.DriverOutput;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.ForwardingDisk;
import io.reprise.engine.disk.ForwardingDiskFile;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.engine.state.SessionTable;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The process that {@link StorageCrashTest} kills with SIGKILL while saved-session storage flushes and merges: a
 * standalone node on a real data directory with a tiny flush size (sources every few dozen payloads, size-tiered
 * merges with fan-in 3 every few flushes, snapshots every 1 500 operators) driven by one thread that saves
 * sessions and cancels some of them.
 * <p>
 * Every payload is a function of its session id ({@link #payload}), so whoever recovers the directory can check
 * the bytes of every live session, acknowledged or not. Arguments: {@code dataDirectory run seed opsPerSecond
 * slowIoMs}. Lines on stdout (A lines end with {@code #} so a line the kill cut is recognised):
 * <pre>
 *   R appliedIndex sessions                 recovered, before anything new was offered
 *   A index SAVE|CANCEL sid code #          acknowledged (applied, hence durable)
 *   F phase / M phase                       a file operation of a flush (container-flush thread) or of a merge
 *                                           or deletion of retired sources (storage-merger thread) in sources/,
 *                                           printed before it is done; "F end" / "M end" after the directory sync
 *                                           that closes the step
 *   N phase                                 a snapshot manifest being written in sources/
 *   Q                                       closed gracefully
 * </pre>
 * {@code slowIoMs} &gt; 0 delays each announced operation a random 0..n ms after announcing it, which only widens
 * the windows the test aims its kills at.
 */
public final class StorageCrashDriverMain
{
    static final int TENANT = 3;
    static final long SESSION_ID_STRIDE = 1_000_000_000L;
    static final int MAX_PAYLOAD = 2048;

    private StorageCrashDriverMain()
    {
    }

    /** The payload of a session: its length and bytes follow from the id alone. */
    static byte[] payload(final long sessionId)
    {
        final Random random = new Random(sessionId * 0x9E3779B97F4A7C15L);
        final byte[] bytes = new byte[1 + random.nextInt(MAX_PAYLOAD)];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Rules and storage settings of every run and of the test's own restarts. */
    static NodeContext context(final Path dataDirectory, final Disk disk)
    {
        return new NodeContext()
            .dataDirectory(dataDirectory)
            .disk(disk)
            .rules(new BusinessRules().maxSessions(1 << 20).expectedSessions(1 << 16).maxDestinations(4)
                .maxPayloadBytes(MAX_PAYLOAD).terminalRetentionMs(365L * 24 * 3600 * 1000))
            .journalSegmentLength(4L * 1024 * 1024)
            .journalWriteBufferBytes(2 * 1024 * 1024)
            .ringSize(1024)
            .timeTickMs(1_000_000) // no time operators: the session table only changes through the driver
            .snapshotEveryOperators(1_500)
            .snapshotEveryMs(Long.MAX_VALUE)
            .snapshotsRetained(2)
            .storagePageBytes(64 * 1024)
            .storageContainerMaxBytes(64L * 1024 * 1024)
            .storageFlushBytes(48 * 1024)
            .storageFlushAgeMs(50)
            .storageMergeFanIn(3);
    }

    public static void main(final String[] args) throws Exception
    {
        final Path dataDirectory = Path.of(args[0]);
        final int run = Integer.parseInt(args[1]);
        final long seed = Long.parseLong(args[2]);
        final int operatorsPerSecond = Integer.parseInt(args[3]);
        final int slowIoMs = Integer.parseInt(args[4]);
        final DriverOutput out = new DriverOutput(() -> Driver.stop = true);
        final Random random = new Random(seed * 1_000_003L + run);
        final Disk disk = new AnnouncingDisk(new FileChannelDisk(), dataDirectory.resolve("sources"), out,
            new Random(random.nextLong()), slowIoMs);
        final NodeContext context = context(dataDirectory, disk)
            .errorHandler((ex) ->
            {
                out.lineNow("E " + (ex.getClass().getSimpleName() + ": " + ex.getMessage()).replace('\n', ' '));
                ex.printStackTrace();
            });
        final StandaloneNode node;
        try
        {
            node = StandaloneNode.start(context);
        }
        catch (final IOException | RuntimeException ex)
        {
            out.lineNow("X " + (ex.getClass().getSimpleName() + ": " + ex.getMessage()).replace('\n', ' '));
            ex.printStackTrace();
            System.exit(3);
            return;
        }
        out.lineNow("R " + node.logic().appliedIndex() + " " + node.logic().sessions().size());

        final List<Long> live = new ArrayList<>();
        final SessionTable sessions = node.logic().sessions();
        for (int record = 0; record < sessions.highWater(); record++)
        {
            if (sessions.isLive(record) && sessions.status(record) != SessionStatus.CANCELLED.value() &&
                sessions.status(record) != SessionStatus.COMPLETED.value())
            {
                live.add(sessions.sessionId(record));
            }
        }

        DriverOutput.onStopRequest(() -> Driver.stop = true);

        new Driver(node, out, random, run, operatorsPerSecond, live).drive();
        node.close();
        out.lineNow("Q");
        System.exit(null == node.fatalError() ? 0 : 4);
    }

    private static final class Driver
    {
        static volatile boolean stop;

        private final DriverOutput out;
        private final Random random;
        private final InProcessClient client;
        private final Queue<long[]> responses = new ConcurrentLinkedQueue<>();
        private final Map<Long, String> pending = new HashMap<>();
        private final SessionPolicy policy = new SessionPolicy().initialDelayMs(3_600_000).maxAttempts(3);
        private final List<Long> live;
        private final long nanosPerOperator;
        private long nextSessionId;

        Driver(final StandaloneNode node, final DriverOutput out, final Random random, final int run,
            final int operatorsPerSecond, final List<Long> live)
        {
            this.out = out;
            this.random = random;
            this.live = live;
            this.nanosPerOperator = 1_000_000_000L / operatorsPerSecond;
            this.nextSessionId = run * SESSION_ID_STRIDE + 1;
            this.client = node.newClient(TENANT, (index, correlationId, templateId, code, value) ->
                responses.add(new long[] {index, correlationId, code.ordinal()}));
        }

        void drive()
        {
            long dueNs = System.nanoTime();
            while (!stop)
            {
                printResponses();
                final long now = System.nanoTime();
                if (dueNs - now > 1_000_000)
                {
                    LockSupport.parkNanos(dueNs - now);
                    continue;
                }
                dueNs = Math.max(dueNs, now - 50_000_000) + nanosPerOperator;
                // Saves outnumber cancels so the live set grows slowly; cancels pick live sessions at random,
                // old (in sources, perhaps merged) and young (still in the container) alike.
                if (live.isEmpty() || random.nextInt(100) < 60)
                {
                    final long sessionId = nextSessionId++;
                    final UnsafeBuffer bytes = new UnsafeBuffer(payload(sessionId));
                    offer("SAVE " + sessionId, () -> client.save(sessionId, 1 + random.nextInt(4), policy, bytes, 0,
                        bytes.capacity()));
                    live.add(sessionId);
                }
                else
                {
                    final int at = random.nextInt(live.size());
                    final long sessionId = live.get(at);
                    live.set(at, live.get(live.size() - 1));
                    live.remove(live.size() - 1);
                    offer("CANCEL " + sessionId, () -> client.cancel(sessionId));
                }
            }
        }

        private void offer(final String operator, final java.util.function.Supplier<ResultCode> offer)
        {
            while (!stop)
            {
                final long correlationId = client.nextCorrelationId();
                final ResultCode code = offer.get();
                if (code == ResultCode.OK)
                {
                    pending.put(correlationId, operator);
                    return;
                }
                if (code != ResultCode.BACK_PRESSURE && code != ResultCode.STORAGE_UNAVAILABLE)
                {
                    out.lineNow("E refused " + operator + ": " + code);
                    stop = true;
                    return;
                }
                printResponses();
                LockSupport.parkNanos(100_000);
            }
        }

        private void printResponses()
        {
            long[] response;
            boolean printed = false;
            while ((response = responses.poll()) != null)
            {
                final String operator = pending.remove(response[1]);
                if (null == operator)
                {
                    out.line("E response without an operator: correlation " + response[1]);
                    continue;
                }
                out.line("A " + response[0] + " " + operator + " " + ResultCode.values()[(int)response[2]] + " #");
                printed = true;
            }
            if (printed)
            {
                out.flush();
            }
        }
    }

    /**
     * A real disk that announces each operation on {@code sources/} with the thread doing it (F: the flush agent,
     * M: the merger, N: the snapshot agent writing a manifest, O: anyone else, e.g. start-up deleting orphans),
     * then sleeps a random 0..maxDelayMs ms before doing it; a directory sync is also announced once done
     * ("F end", "M end"), closing the window. Writes are announced once per file.
     */
    static final class AnnouncingDisk extends ForwardingDisk
    {
        private final Path sources;
        private final DriverOutput out;
        private final Random random;
        private final int maxDelayMs;

        AnnouncingDisk(final Disk disk, final Path sources, final DriverOutput out, final Random random, final int maxDelayMs)
        {
            super(disk);
            this.sources = sources;
            this.out = out;
            this.random = random;
            this.maxDelayMs = maxDelayMs;
        }

        private static String who()
        {
            final String thread = Thread.currentThread().getName();
            return thread.equals("container-flush") ? "F" : thread.equals("storage-merger") ? "M" :
                thread.equals("snapshot-agent") ? "N" : "O";
        }

        void announce(final String phase)
        {
            out.lineNow(who() + " " + phase);
            if (maxDelayMs > 0)
            {
                final int ms;
                synchronized (random)
                {
                    ms = random.nextInt(maxDelayMs + 1);
                }
                if (ms > 0)
                {
                    LockSupport.parkNanos(ms * 1_000_000L);
                }
            }
        }

        private boolean ours(final Path path)
        {
            return sources.equals(path.getParent());
        }

        public DiskFile open(final Path file, final boolean create) throws IOException
        {
            if (!ours(file) || !create)
            {
                return disk.open(file, create);
            }
            announce("create " + file.getFileName());
            return new AnnouncingFile(this, disk.open(file, create));
        }

        public void delete(final Path file) throws IOException
        {
            if (ours(file))
            {
                announce("delete " + file.getFileName());
            }
            disk.delete(file);
        }

        public void rename(final Path source, final Path target) throws IOException
        {
            if (ours(target))
            {
                announce("rename " + target.getFileName());
            }
            disk.rename(source, target);
        }

        public void syncDirectory(final Path directory) throws IOException
        {
            if (!sources.equals(directory))
            {
                disk.syncDirectory(directory);
                return;
            }
            announce("dirsync");
            disk.syncDirectory(directory);
            out.lineNow(who() + " end");
        }
    }

    private static final class AnnouncingFile extends ForwardingDiskFile
    {
        private final AnnouncingDisk disk;
        private boolean written;

        AnnouncingFile(final AnnouncingDisk disk, final DiskFile file)
        {
            super(file);
            this.disk = disk;
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            if (!written)
            {
                disk.announce("write");
                written = true;
            }
            file.write(source, position);
        }

        public void writeFrom(final DiskFile source, final long sourcePosition, final long count, final long position)
            throws IOException
        {
            if (!written)
            {
                disk.announce("write");
                written = true;
            }
            super.writeFrom(source, sourcePosition, count, position);
        }

        public void sync() throws IOException
        {
            disk.announce("sync");
            file.sync();
        }
    }
}
