package io.reprise.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.StandaloneNode;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The {@code PipelineBenchmark.pipeline} workload once, with CPU time per record for each thread of the JVM:
 * on a shared machine the throughput swings with the other tenants' load, the CPU a record costs much less.
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms6g -Xmx6g -cp jmh/target/benchmarks.jar \
 *     io.reprise.jmh.PipelineCpuProbe [records=3000000] [park|spin]
 * </pre>
 */
public final class PipelineCpuProbe
{
    public static void main(final String[] args) throws Exception
    {
        final int records = args.length > 0 ? Integer.parseInt(args[0]) : 3_000_000;
        final boolean park = args.length < 2 || args[1].equals("park");
        final Path directory = Files.createTempDirectory(
            Path.of(System.getProperty("reprise.bench.dir", System.getProperty("java.io.tmpdir"))), "pipeline-cpu");
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[PipelineBenchmark.PAYLOAD_BYTES]);
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(3_600_000);
        try (StandaloneNode node = StandaloneNode.start(new NodeContext()
            .dataDirectory(directory.resolve("node"))
            .rules(new BusinessRules().maxSessions(1 << 27).expectedSessions(records))
            .timeTickMs(1L << 40)
            .snapshotEveryOperators(Long.MAX_VALUE)
            .snapshotEveryMs(Long.MAX_VALUE)
            .snapshotEveryLogBytes(Long.MAX_VALUE)))
        {
            final InProcessClient client = node.newClient(1, (index, correlationId, templateId, code, value) -> { });
            final Map<String, Long> before = cpuByThread(threads);
            final long startNs = System.nanoTime();
            for (long id = 1; id <= records; id++)
            {
                ResultCode code;
                while ((code = client.save(id, 1, policy, payload, 0, PipelineBenchmark.PAYLOAD_BYTES)) != ResultCode.OK)
                {
                    if (code != ResultCode.BACK_PRESSURE)
                    {
                        throw new IllegalStateException("save refused: " + code);
                    }
                    if (park)
                    {
                        LockSupport.parkNanos(PipelineBenchmark.BACK_PRESSURE_WAIT_NS);
                    }
                    else
                    {
                        Thread.onSpinWait();
                    }
                }
            }
            if (!node.awaitApplied(600_000))
            {
                throw new IllegalStateException("flow did not drain: " + node.fatalError());
            }
            final double seconds = (System.nanoTime() - startNs) / 1e9;
            final Map<String, Long> after = cpuByThread(threads);
            long total = 0;
            final StringBuilder line = new StringBuilder();
            for (final Map.Entry<String, Long> entry : after.entrySet())
            {
                final long ns = entry.getValue() - before.getOrDefault(entry.getKey(), 0L);
                total += ns;
                if (ns * 100 > seconds * 1e9)
                {
                    line.append(String.format(" %s=%.2f", entry.getKey(), ns / (double)records / 1e3));
                }
            }
            System.out.printf("%s: %,d records in %.2f s = %,.0f records/s; CPU us/record: all=%.2f%s%n",
                park ? "park" : "spin", records, seconds, records / seconds, total / (double)records / 1e3, line);
        }
        finally
        {
            try (Stream<Path> files = Files.walk(directory))
            {
                files.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
            }
        }
    }

    /** CPU time of each live thread, summed by name with digits dropped (GC and compiler threads group). */
    private static Map<String, Long> cpuByThread(final ThreadMXBean threads)
    {
        final Map<String, Long> cpu = new TreeMap<>();
        for (final long id : threads.getAllThreadIds())
        {
            final long ns = threads.getThreadCpuTime(id);
            final var info = threads.getThreadInfo(id);
            if (ns > 0 && null != info)
            {
                cpu.merge(info.getThreadName().replaceAll("[0-9]", ""), ns, Long::sum);
            }
        }
        return cpu;
    }
}
