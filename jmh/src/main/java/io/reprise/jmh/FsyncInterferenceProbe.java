package io.reprise.jmh;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import io.reprise.engine.disk.BackgroundSync;
import io.reprise.engine.disk.Pace;
import org.agrona.concurrent.SystemNanoClock;
import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.SessionPolicy;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * How a large background write (a snapshot) lengthens the journal's commits, for several ways of syncing it,
 * without the rest of the node (so the CPU load of other tenants matters less). A thread commits the real
 * {@link Journal} every millisecond (batches of {@code batch} 272-byte records, one write and one fsync each) and
 * times every commit; meanwhile the main thread writes a file of {@code mib} MiB in 1 MiB writes through
 * {@link BackgroundSync} with the given step and pace (the settings of snapshot writes). Each configuration runs once per round, in turn; a
 * window with no background write comes first in each round.
 * <pre>
 * java -cp jmh/target/benchmarks.jar io.reprise.jmh.FsyncInterferenceProbe [mib=1024] [rounds=2] [batch=256] \
 *     [step:bytesPerSecond ...]      (default 8388608:0 1048576:0 1048576:200000000 262144:100000000)
 * </pre>
 */
public final class FsyncInterferenceProbe
{
    private static final long MAX_NS = 10_000_000_000L;

    private volatile boolean running;

    public static void main(final String[] args) throws Exception
    {
        final int mib = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        final int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        final int batch = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        final String[] configs = args.length > 3 ? java.util.Arrays.copyOfRange(args, 3, args.length) :
            new String[] {"8388608:0", "1048576:0", "1048576:200000000", "262144:100000000"};
        new FsyncInterferenceProbe().run(mib, rounds, batch, configs);
    }

    private void run(final int mib, final int rounds, final int batch, final String[] configs) throws Exception
    {
        final Path directory = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "fsync-probe");
        final Disk disk = new FileChannelDisk();
        try
        {
            for (int round = 1; round <= rounds; round++)
            {
                final Histogram quiet = new Histogram(MAX_NS, 3);
                final Journal quietJournal = Journal.open(disk, directory.resolve("j0-" + round), 64L << 20, 4 << 20, 1);
                final Thread quietCommitter = committer(quietJournal, batch, quiet);
                LockSupport.parkNanos(5_000_000_000L);
                stop(quietCommitter);
                quietJournal.close();
                print(round, "no background write", quiet, 0);
                for (final String config : configs)
                {
                    final long step = Long.parseLong(config.split(":")[0]);
                    final long rate = Long.parseLong(config.split(":")[1]);
                    final Histogram commits = new Histogram(MAX_NS, 3);
                    final Journal journal = Journal.open(disk, directory.resolve("j-" + round + "-" + config.replace(':', '-')),
                        64L << 20, 4 << 20, 1);
                    final Thread committer = committer(journal, batch, commits);
                    final long startNs = System.nanoTime();
                    final Path file = directory.resolve("background");
                    try (DiskFile out = disk.open(file, true))
                    {
                        out.setLength(0);
                        final BackgroundSync sync = new BackgroundSync(out, step, rate, Pace.parking(SystemNanoClock.INSTANCE));
                        final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
                        final int stepChunk = (int)Math.min(chunk.capacity(), step);
                        for (long at = 0; at < (long)mib << 20; at += stepChunk)
                        {
                            chunk.clear().limit(stepChunk);
                            chunk.putLong(0, at);
                            out.write(chunk, at);
                            sync.written(stepChunk);
                        }
                        out.sync();
                    }
                    final long writeNs = System.nanoTime() - startNs;
                    stop(committer);
                    journal.close();
                    disk.delete(file);
                    print(round, "step " + step + " B, pace " + (rate == 0 ? "none" : rate / 1_000_000 + " MB/s"),
                        commits, writeNs);
                }
            }
        }
        finally
        {
            try (Stream<Path> files = Files.walk(directory))
            {
                files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
            }
        }
    }

    private Thread committer(final Journal journal, final int batch, final Histogram commits)
    {
        running = true;
        final Thread thread = new Thread(() ->
        {
            final OperatorEncoder encoder = new OperatorEncoder();
            final UnsafeBuffer operator = new UnsafeBuffer(new byte[512]);
            final int length = encoder.saveSession(operator, 0, 1, 1, 1, 1, 1, new SessionPolicy(),
                new UnsafeBuffer(new byte[PipelineBenchmark.PAYLOAD_BYTES]), 0, PipelineBenchmark.PAYLOAD_BYTES);
            long index = 0;
            try
            {
                while (running)
                {
                    for (int i = 0; i < batch; i++)
                    {
                        journal.append(++index, 1, index, operator, 0, length);
                    }
                    final long startNs = System.nanoTime();
                    journal.commit();
                    commits.recordValue(Math.min(System.nanoTime() - startNs, MAX_NS));
                    LockSupport.parkNanos(1_000_000);
                }
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException(ex);
            }
        }, "committer");
        thread.start();
        return thread;
    }

    private void stop(final Thread committer) throws InterruptedException
    {
        running = false;
        committer.join();
    }

    private static void print(final int round, final String what, final Histogram commits, final long writeNs)
    {
        System.out.printf("round %d, %-34s journal commit us: n=%,d p50=%.0f p99=%.0f p99.9=%.0f max=%.0f%s%n",
            round, what + ":", commits.getTotalCount(), commits.getValueAtPercentile(50) / 1e3,
            commits.getValueAtPercentile(99) / 1e3, commits.getValueAtPercentile(99.9) / 1e3,
            commits.getMaxValue() / 1e3, writeNs == 0 ? "" : String.format("; background write %.2f s", writeNs / 1e9));
    }
}
