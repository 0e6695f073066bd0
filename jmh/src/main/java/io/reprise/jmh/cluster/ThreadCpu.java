package io.reprise.jmh.cluster;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process and of each of its threads over a load run, per save: on a machine with few cores the
 * maximum save rate is about the cores divided by the CPU one save costs, so this says where a side spends it. Also
 * per execution, for {@code reprise bench db-scheduler} ({@code io.reprise.jmh.dbscheduler}).
 */
public final class ThreadCpu
{
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();
    private final Map<Long, Long> startNsById = new TreeMap<>();
    private final Map<String, Long> usedNsByName = new TreeMap<>();
    private long processStartNs;
    private long processUsedNs;
    private long wallStartNs;
    private long wallNs;

    public void start()
    {
        wallStartNs = System.nanoTime();
        processStartNs = os.getProcessCpuTime();
        for (final long id : threads.getAllThreadIds())
        {
            startNsById.put(id, Math.max(0, threads.getThreadCpuTime(id)));
        }
    }

    public void stop()
    {
        processUsedNs = os.getProcessCpuTime() - processStartNs;
        wallNs = System.nanoTime() - wallStartNs;
        for (final ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds()))
        {
            if (null == info)
            {
                continue;
            }
            final long cpuNs = threads.getThreadCpuTime(info.getThreadId());
            if (cpuNs < 0)
            {
                continue;
            }
            // Aeron names a driver's directory into its thread's name; keep the role.
            final String name = info.getThreadName().replaceAll("^/\\S+ ", "").replaceAll("-\\d+$", "");
            usedNsByName.merge(name, cpuNs - startNsById.getOrDefault(info.getThreadId(), 0L), Long::sum);
        }
    }

    public void report(final PrintStream out, final String system, final long saves)
    {
        report(out, system, saves, "save");
    }

    /** As {@link #report(PrintStream, String, long)}, per {@code count} of {@code unit} ("execution"). */
    public void report(final PrintStream out, final String system, final long saves, final String unit)
    {
        final double perSave = saves > 0 ? processUsedNs / 1000.0 / saves : 0;
        final StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
            "cpu: system=%s process %.1f s of %.1f s (%.2f cores), %.2f us per %s", system, processUsedNs / 1e9,
            wallNs / 1e9, (double)processUsedNs / Math.max(1, wallNs), perSave, unit));
        usedNsByName.entrySet().stream()
            .filter((e) -> e.getValue() >= processUsedNs / 100)
            .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
            .forEach((e) -> line.append(String.format(Locale.ROOT, "; %s %.2f", e.getKey(),
                saves > 0 ? e.getValue() / 1000.0 / saves : 0)));
        // What no Java thread accounts for: garbage collection and the JIT compilers.
        final long javaThreadsNs = usedNsByName.values().stream().mapToLong(Long::longValue).sum();
        line.append(String.format(Locale.ROOT, "; gc+jit+other %.2f",
            saves > 0 ? (processUsedNs - javaThreadsNs) / 1000.0 / saves : 0));
        out.println(line);
    }
}
