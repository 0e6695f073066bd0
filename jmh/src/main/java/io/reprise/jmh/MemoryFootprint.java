package io.reprise.jmh;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;

/**
 * Memory of N live sessions: builds the business logic with rules sized for N, populates N sessions through
 * {@link BusinessLogic#apply} (real SaveSession operators, each leaving a PENDING session with its timer on the
 * wheel), forces GC several times and reports the used heap delta, the off-heap (direct and mapped buffer pools)
 * delta, {@code SessionTable.footprintBytes()} and bytes per session.
 * <p>
 * Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms4g -Xmx4g
 * -cp jmh/target/benchmarks.jar io.reprise.jmh.MemoryFootprint [sessions] [naive]}; with {@code naive} it measures
 * the java.util baseline ({@link NaiveScheduler}) instead.
 */
public final class MemoryFootprint
{
    private MemoryFootprint()
    {
    }

    public static void main(final String[] args)
    {
        final int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        final boolean naive = args.length > 1 && "naive".equals(args[1]);
        final BusinessRules rules = new BusinessRules()
            .maxSessions(sessions)
            .expectedSessions(sessions)
            .maxDestinations(SteadyStateMix.DESTINATIONS)
            .conclude();
        final CountingSink sink = new CountingSink();

        final long heapBefore = usedHeapAfterGc();
        final long offHeapBefore = offHeap();

        final long start = System.nanoTime();
        final Object engine;
        final SteadyStateMix mix;
        if (naive)
        {
            final NaiveScheduler scheduler = new NaiveScheduler(rules, sink);
            mix = new SteadyStateMix(scheduler, sink, sessions);
            engine = scheduler;
        }
        else
        {
            final BusinessLogic logic = new BusinessLogic(rules, sink);
            mix = new SteadyStateMix(Engine.of(logic), sink, sessions);
            engine = logic;
        }
        mix.populate(sessions);
        final long populateMs = (System.nanoTime() - start) / 1_000_000;

        final long heapAfter = usedHeapAfterGc();
        final long offHeapAfter = offHeap();
        final long heapDelta = heapAfter - heapBefore;
        final long offHeapDelta = offHeapAfter - offHeapBefore;
        final double gib = 1024.0 * 1024 * 1024;

        System.out.printf("engine:            %s%n", naive ? "NaiveScheduler (java.util baseline)" : "BusinessLogic");
        System.out.printf("jvm:               %s %s, max heap %d MiB, gc %s%n", System.getProperty("java.vm.name"),
            System.getProperty("java.vm.version"), Runtime.getRuntime().maxMemory() >> 20, gcNames());
        System.out.printf("live sessions:     %,d (populated in %,d ms, %s)%n", mix.live(), populateMs, mix.describe());
        if (engine instanceof BusinessLogic logic)
        {
            final long footprint = logic.sessions().footprintBytes();
            final long wheel = logic.timers().footprintBytes();
            System.out.printf("timers scheduled:  %,d%n", logic.timers().size());
            System.out.printf("footprintBytes():  %,d B = %.3f GiB = %.1f B/session (SessionTable: records + index)%n",
                footprint, footprint / gib, (double)footprint / sessions);
            System.out.printf("                   %,d B = %.1f B/session (TimerWheel: id chunks, used and free)%n",
                wheel, (double)wheel / sessions);
        }
        else
        {
            System.out.printf("timers scheduled:  %,d%n", ((NaiveScheduler)engine).scheduledTimers());
        }
        System.out.printf("used heap delta:   %,d B = %.3f GiB = %.1f B/session%n",
            heapDelta, heapDelta / gib, (double)heapDelta / sessions);
        System.out.printf("off-heap delta:    %,d B (direct + mapped buffer pools)%n", offHeapDelta);
        System.out.printf("total:             %.3f GiB = %.1f B/session%n",
            (heapDelta + offHeapDelta) / gib, (double)(heapDelta + offHeapDelta) / sessions);
    }

    private static long usedHeapAfterGc()
    {
        final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++)
        {
            System.gc();
            try
            {
                Thread.sleep(100);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static long offHeap()
    {
        long bytes = 0;
        for (final BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class))
        {
            bytes += pool.getMemoryUsed();
        }
        return bytes;
    }

    private static String gcNames()
    {
        final StringBuilder names = new StringBuilder();
        ManagementFactory.getGarbageCollectorMXBeans().forEach((gc) -> names.append(names.length() > 0 ? "/" : "")
            .append(gc.getName()));
        return names.toString();
    }
}
