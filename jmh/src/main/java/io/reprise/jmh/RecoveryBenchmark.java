package io.reprise.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.Recovery;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
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
 * Recovery replay rate: a journal of {@link #RECORDS} records of a realistic mix (saves with 128-byte payloads,
 * BeginRepeats, outcomes of every kind, 1 ms SetTime ticks) is written once; {@code replay} restores it into a
 * fresh business logic the way start-up does ({@link Recovery#replay}), {@code scanOnly} only reads and checks
 * it (I/O and checksums, no apply) as the baseline of the same run. Scores are records/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseTransparentHugePages",
    "-Xms4g", "-Xmx4g"})
@State(Scope.Benchmark)
public class RecoveryBenchmark
{
    static final int RECORDS = 2_000_000;

    private final FileChannelDisk disk = new FileChannelDisk();
    private Path directory;
    private BusinessRules rules;

    @Setup(Level.Trial)
    public void writeJournal() throws IOException
    {
        directory = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "recovery");
        rules = new BusinessRules().maxSessions(1 << 22).expectedSessions(1 << 21).terminalRetentionMs(60_000)
            .conclude();
        final ArrayDeque<long[]> started = new ArrayDeque<>();
        final OutputSink sink = new OutputSink()
        {
            public void onResponse(final long c, final long r, final int t, final ResultCode code, final long v)
            {
            }

            public void onSessionSaved(final int t, final long s, final int d, final DirectBuffer p, final int o,
                final int l)
            {
            }

            public void onRepeatStarted(final int tenant, final long sessionId, final int d, final int attempt,
                final long lease, final int handle)
            {
                started.add(new long[] {tenant, sessionId, attempt, d});
            }

            public void onSessionFinished(final int t, final long s, final int d, final SessionStatus st,
                final int a, final int e)
            {
            }

            public void onSessionPurged(final int t, final long s)
            {
            }
        };
        final BusinessLogic generator = new BusinessLogic(rules, sink);
        final OperatorEncoder encoder = new OperatorEncoder();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[128]);
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(5).backoffInitialMs(20).jitterPermille(100)
            .maxAttempts(4);
        long timeMs = 1_700_000_000_000L;
        long sessionId = 0;
        try (Journal journal = Journal.open(disk, directory, 256L * 1024 * 1024, 4 * 1024 * 1024, 1))
        {
            for (long index = 1; index <= RECORDS; index++)
            {
                final int kind = (int)(index % 8);
                final int length;
                if (kind == 0)
                {
                    length = encoder.setTime(buffer, 0, ++timeMs);
                }
                else if (kind == 1)
                {
                    length = encoder.beginRepeats(buffer, 0, (int)(index % 16), 64);
                }
                else if ((kind == 2 || kind == 3) && !started.isEmpty())
                {
                    final long[] attempt = started.poll();
                    final Outcome outcome = index % 10 == 3 ? Outcome.RETRY :
                        index % 50 == 2 ? Outcome.FAILED_PERMANENTLY : Outcome.SUCCEEDED;
                    length = encoder.reportOutcome(buffer, 0, 1, index, (int)attempt[0], attempt[1],
                        (int)attempt[3], (int)attempt[2], OperatorEncoder.NO_HANDLE, outcome, 0, 0, payload, 0, 0);
                }
                else
                {
                    sessionId++;
                    length = encoder.saveSession(buffer, 0, 1, index, 1 + (int)(sessionId % 4), sessionId,
                        (int)(sessionId % 16), policy, payload, 0, payload.capacity());
                }
                generator.apply(index, 1, buffer, 0, length);
                journal.append(index, 1, timeMs, buffer, 0, length);
                if (index % 4096 == 0)
                {
                    journal.commit();
                }
            }
            journal.commit();
        }
    }

    @TearDown(Level.Trial)
    public void deleteJournal() throws IOException
    {
        try (Stream<Path> files = Files.walk(directory))
        {
            files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long replay() throws IOException
    {
        final BusinessLogic logic = new BusinessLogic(rules, OutputSink.NONE);
        Recovery.replay(disk, directory, logic, Long.MAX_VALUE, (step) -> { });
        if (logic.appliedIndex() != RECORDS)
        {
            throw new IllegalStateException("replayed to " + logic.appliedIndex());
        }
        return logic.systemTimeMs();
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long scanOnly() throws IOException
    {
        long records = 0;
        try (JournalReader reader = new JournalReader(disk, directory))
        {
            while (reader.next() == JournalReader.Status.RECORD)
            {
                records++;
            }
        }
        if (records != RECORDS)
        {
            throw new IllegalStateException("scanned " + records);
        }
        return records;
    }
}
