package io.reprise.sim;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.PlantedBug;

/**
 * One simulated run: a node on the simulation runtime, its controllers and workers, and the faults of the run, all
 * driven by one seed in one thread on virtual time, with the {@link Checker}'s invariants held after every step that
 * can break them. The same seed and options give the same run, and the same last line, byte for byte.
 * <p>
 * A run has two phases: {@code steps} steps with the chosen faults, then a quiet time (no faults, no new work,
 * healthy workers) in which every session must end; then a clean shutdown and a last restart, which must recover
 * the same state.
 */
public final class Simulation
{
    /** The faults a run may inject; {@code --faults} names them. */
    public enum Fault
    {
        /** The node is dropped between two steps and the disk keeps only what was synced (torn writes). */
        CRASH,
        /** The disk's power fails in the middle of a step, after a chosen number of writes; then a crash. */
        POWER_LOSS,
        /** Syncs fail, and the data they covered is dropped from the page cache's to-do list (Linux). */
        SYNC_FAIL,
        /** The disk is full for a while. */
        DISK_FULL,
        /** The wall clock jumps forward or back. */
        CLOCK_JUMP,
        /** A worker dies holding its attempts, and comes back later as a new worker. */
        WORKER_DEATH,
        /** Syncs take virtual time (50 µs and more, 500 µs on average), and one in a thousand 200 ms more. */
        SLOW_IO,
        /**
         * Clusters only: messages between members lost, delayed, reordered and duplicated; one-way partitions, isolated
         * members, and healing.
         */
        NETWORK,
        /**
         * Clusters only: a member's disk is wiped (journal, snapshots, sources; its term and vote are kept) and it
         * starts empty, to come back by a full install. Only while every other member is up and holds the same entries.
         */
        WIPE,
        /**
         * A synced sector reads back with a bit flipped (10 ppm of sector reads). Not in {@code all}: one node cannot
         * repair what it acknowledged, so the run ends at the first loss (docs/simulation.md).
         */
        CORRUPT_READ,
        /** A write lands at another offset of its file (10 ppm of writes). Not in {@code all}, as above. */
        MISDIRECTED_WRITE;

        /** What {@code --faults all} turns on: every fault a single node must survive without losing anything. */
        public static final Set<Fault> ALL = EnumSet.range(CRASH, WIPE);

        public String flag()
        {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** {@code all}, {@code none} or a comma-separated list of flags. */
        public static Set<Fault> parse(final String list)
        {
            if ("all".equals(list))
            {
                return EnumSet.copyOf(ALL);
            }
            final Set<Fault> faults = EnumSet.noneOf(Fault.class);
            if ("none".equals(list))
            {
                return faults;
            }
            for (final String name : list.split(","))
            {
                final String trimmed = name.trim();
                boolean found = false;
                if ("all".equals(trimmed))
                {
                    faults.addAll(ALL);
                    found = true;
                }
                for (final Fault fault : values())
                {
                    if (fault.flag().equals(trimmed))
                    {
                        faults.add(fault);
                        found = true;
                    }
                }
                if (!found)
                {
                    throw new IllegalArgumentException("unknown fault: " + trimmed + " (all, none, or a list of " +
                        "crash, power-loss, sync-fail, disk-full, clock-jump, worker-death, slow-io, network, wipe, " +
                        "corrupt-read, misdirected-write)");
                }
            }
            return faults;
        }

        /** The flags of {@code faults} as {@code --faults} takes them. */
        public static String format(final Set<Fault> faults)
        {
            if (faults.isEmpty())
            {
                return "none";
            }
            final boolean all = faults.containsAll(ALL);
            final StringBuilder text = new StringBuilder(all ? "all" : "");
            for (final Fault fault : faults)
            {
                if (!all || !ALL.contains(fault))
                {
                    text.append(text.length() == 0 ? "" : ",").append(fault.flag());
                }
            }
            return text.toString();
        }
    }

    /**
     * What a run did: its last line, and on failure the violated invariant with its detail ({@code failure}) and the
     * command that replays it.
     */
    public record Result(boolean ok, String lastLine, String failure, String replayCommand, long operators, long steps)
    {
        /**
         * The run ended because damage on the disk was found, not absorbed: the node refused to start on a precise
         * corruption error, or the checker's independent read met damage the node's start-up did not need to read
         * (after checking that everything answered was recovered). With media faults, the outcome a single node
         * must reach when it cannot repair.
         */
        public boolean endedOnDetectedDamage()
        {
            return null != failure &&
                (failure.startsWith("restart-after-crash: ") && failure.contains("corrupt") ||
                failure.startsWith("recovery-equals-replay: ") && failure.contains("independent read finds damaged"));
        }
    }

    private static final Path DATA_DIRECTORY = Path.of("/sim/node");
    /** The quiet time's limit, in virtual time: every session's whole life fits in it many times over. */
    private static final long QUIET_TIME_NS = 120_000_000_000L;
    private static final int CLOSE_STEPS = 100_000;
    /** {@code -Dreprise.sim.trace=true}: print each start-up and shutdown step of the node, and simulator errors. */
    private static final boolean TRACE = Boolean.getBoolean("reprise.sim.trace");

    private final long seed;
    private final long steps;
    private final Set<Fault> faults;
    private final PlantedBug plant;
    private final Random random;
    private final VirtualClock clock = new VirtualClock();
    private final SimulatedDisk simulatedDisk;
    private final PowerLossDisk disk;
    private final TreeMap<Long, SessionModel> sessions = new TreeMap<>();
    private final Checker checker = new Checker(sessions);
    private final Workload workload;
    private SimNode node;
    private long crashes;
    private long faultsInjected;
    private long diskFullUntilNs = -1;
    private long stepsRun;
    private long starts;

    public Simulation(final long seed, final long steps, final Set<Fault> faults, final PlantedBug plant)
    {
        this.seed = seed;
        this.steps = steps;
        this.faults = faults;
        this.plant = plant;
        this.random = new Random(seed);
        this.simulatedDisk = new SimulatedDisk(random.nextLong()).faults(diskFaults(faults));
        // A sync that takes virtual time holds up the step that made it, as a real one holds up its thread.
        simulatedDisk.ioListener((kind, path, bytes, nanos) -> clock.advanceNanos(nanos));
        this.disk = new PowerLossDisk(simulatedDisk);
        this.workload = new Workload(new Random(random.nextLong()), clock, checker, sessions);
    }

    static SimulatedDisk.Faults diskFaults(final Set<Fault> faults)
    {
        final SimulatedDisk.Faults recommended = SimulatedDisk.Faults.all();
        SimulatedDisk.Faults chosen = SimulatedDisk.Faults.none();
        if (faults.contains(Fault.SLOW_IO))
        {
            chosen = chosen.syncLatencyNanos(recommended.syncLatencyMinNanos(), recommended.syncLatencyMeanNanos())
                .slowSync(recommended.slowSyncPpm(), recommended.slowSyncNanos());
        }
        if (faults.contains(Fault.CORRUPT_READ))
        {
            chosen = chosen.corruptReadPpm(recommended.corruptReadPpm());
        }
        if (faults.contains(Fault.MISDIRECTED_WRITE))
        {
            chosen = chosen.misdirectedWritePpm(recommended.misdirectedWritePpm());
        }
        return chosen;
    }

    /** Faults injected so far: the simulator's own, and those the disk's fault model drew. */
    private long faultsInjected()
    {
        return faultsInjected + simulatedDisk.faultsInjected(SimulatedDisk.Fault.CORRUPT_SECTOR) +
            simulatedDisk.faultsInjected(SimulatedDisk.Fault.MISDIRECTED_WRITE) +
            simulatedDisk.faultsInjected(SimulatedDisk.Fault.SLOW_SYNC);
    }

    /** The command that replays a run of these options. */
    public static String command(final long seed, final long steps, final Set<Fault> faults, final PlantedBug plant)
    {
        return "./reprise sim --seed " + seed + " --steps " + steps + " --faults " + Fault.format(faults) +
            (plant == PlantedBug.NONE ? "" : " --plant " + plant.flag());
    }

    /** A run's phases, which return the invariant they broke, or null. */
    @FunctionalInterface
    interface Phases
    {
        String run() throws Exception;
    }

    /** Runs {@code phases}; what escapes the simulator itself fails the run as {@code simulator-error}. */
    static String failureOf(final Phases phases)
    {
        try
        {
            return phases.run();
        }
        catch (final Exception | AssertionError ex)
        {
            if (TRACE)
            {
                ex.printStackTrace();
            }
            return "simulator-error: " + ex;
        }
    }

    public Result run()
    {
        final String failure = failureOf(this::runPhases);
        final String head = "sim: seed=" + seed + " nodes=1 steps=" + stepsRun + " ops=" +
            workload.operatorsOffered() + " acked=" + checker.answeredCount() + " crashes=" + crashes + " faults=" +
            faultsInjected();
        if (null == failure)
        {
            return new Result(true, head + String.format(" digest=0x%016x ok", node.node().logic().digest()), null,
                null, workload.operatorsOffered(), stepsRun);
        }
        return new Result(false, head + " FAILED " + failure, failure, command(seed, steps, faults, plant),
            workload.operatorsOffered(), stepsRun);
    }

    private String runPhases() throws Exception
    {
        node = SimNode.start(context());
        checker.watch(node.node());
        workload.connect(node.node());

        for (long step = 0; step < steps; step++)
        {
            stepsRun++;
            passTime();
            final int pick = random.nextInt(100);
            if (pick < 60)
            {
                node.step(random);
            }
            else if (pick < 95)
            {
                workload.act(faults.contains(Fault.WORKER_DEATH));
            }
            else
            {
                maybeInjectFault();
            }
            if (disk.powerLost() || null != node.node().fatalError())
            {
                final String failure = crashAndRestart();
                if (null != failure)
                {
                    return failure;
                }
            }
            if (null != checker.violation())
            {
                return checker.violation();
            }
        }
        return quietTimeAndShutdown();
    }

    /** Virtual time passes between steps: mostly a fraction of a millisecond, sometimes tens of them. */
    private void passTime()
    {
        clock.advanceNanos(random.nextInt(10) == 0 ? random.nextInt(20_000_000) : random.nextInt(1_000_000));
        if (diskFullUntilNs >= 0 && clock.nanoTime() >= diskFullUntilNs)
        {
            simulatedDisk.capacityBytes(Long.MAX_VALUE);
            diskFullUntilNs = -1;
        }
    }

    private void maybeInjectFault()
    {
        final int pick = random.nextInt(1000);
        if (pick < 4 && faults.contains(Fault.CRASH))
        {
            faultsInjected++;
            node.node().fail(new IllegalStateException("crash (simulated)"));
        }
        else if (pick < 8 && faults.contains(Fault.POWER_LOSS))
        {
            faultsInjected++;
            disk.failAfter(1 + random.nextInt(40));
        }
        else if (pick < 14 && faults.contains(Fault.SYNC_FAIL))
        {
            faultsInjected++;
            simulatedDisk.failSyncs(1 + random.nextInt(3));
        }
        else if (pick < 17 && faults.contains(Fault.DISK_FULL) && diskFullUntilNs < 0)
        {
            faultsInjected++;
            simulatedDisk.capacityBytes(simulatedDisk.usedBytes() + random.nextInt(64 * 1024));
            diskFullUntilNs = clock.nanoTime() + 1_000_000L * (1 + random.nextInt(3000));
        }
        else if (pick < 27 && faults.contains(Fault.CLOCK_JUMP))
        {
            faultsInjected++;
            clock.jumpWallClock(random.nextInt(10) < 7 ? random.nextInt(5_000) : -random.nextInt(3_000));
        }
    }

    /**
     * The node is dropped (nothing closed, flushed or synced), the disk crashes (keeping only what was synced, and
     * tearing unsynced sectors), the power comes back, and the node restarts through the real start-up.
     *
     * @return the violation, or null.
     */
    private String crashAndRestart() throws Exception
    {
        crashes++;
        node.abandon();
        simulatedDisk.crash();
        disk.restore();
        simulatedDisk.failSyncs(0);
        try
        {
            node = SimNode.start(context());
        }
        catch (final Exception ex)
        {
            return "restart-after-crash: the node refused to start: " + ex.getMessage();
        }
        checker.afterRestart(node.node(), disk, DATA_DIRECTORY);
        workload.connect(node.node());
        return checker.violation();
    }

    /**
     * No more faults or new work, and healthy workers: every session must end within the quiet time. Then the seed's
     * shutdown, and a restart that must recover the very state the node had.
     */
    private String quietTimeAndShutdown() throws Exception
    {
        simulatedDisk.faults(SimulatedDisk.Faults.none());
        simulatedDisk.capacityBytes(Long.MAX_VALUE);
        diskFullUntilNs = -1;
        simulatedDisk.failSyncs(0);
        if (disk.powerLost() || null != node.node().fatalError())
        {
            final String failure = crashAndRestart();
            if (null != failure)
            {
                return failure;
            }
        }
        disk.restore();
        workload.quiet();
        final long endNs = clock.nanoTime() + QUIET_TIME_NS;
        while (clock.nanoTime() < endNs)
        {
            passTime();
            if (random.nextInt(4) == 0)
            {
                workload.act(false);
            }
            else
            {
                node.step(random);
            }
            if (null != node.node().fatalError())
            {
                return "node-keeps-running: a step failed with no fault injected: " + node.node().fatalError();
            }
            if (null != checker.violation())
            {
                return checker.violation();
            }
        }
        checker.checkAllEnded(node.node().logic());
        if (null != checker.violation())
        {
            return checker.violation();
        }

        if (!node.close(CLOSE_STEPS))
        {
            return "clean-shutdown: the stages did not drain (" + node.node().fatalError() + ")";
        }
        final long digest = node.node().logic().digest();
        final long applied = node.node().appliedIndex();
        node = SimNode.start(context());
        checker.afterRestart(node.node(), disk, DATA_DIRECTORY);
        if (null != checker.violation())
        {
            return checker.violation();
        }
        if (node.node().appliedIndex() != applied || node.node().logic().digest() != digest)
        {
            return String.format("restart-after-shutdown: the node stopped at index %d digest 0x%016x and " +
                "restarted at index %d digest 0x%016x", applied, digest, node.node().appliedIndex(),
                node.node().logic().digest());
        }
        return null;
    }

    private NodeContext context()
    {
        return sizedForSimulation(new NodeContext())
            .dataDirectory(DATA_DIRECTORY)
            .disk(disk)
            .epochClock(clock)
            .nanoClock(clock)
            .plantedBug(plant)
            // Client ids no earlier start gave: an answer the crash lost is never taken for a new client's.
            .clientIdBase(++starts << 20)
            .workerLink(workload)
            .outputObserver(checker)
            .lifecycleListener(TRACE ? (step) -> System.out.println("trace: step " + stepsRun + ": " + step) : (step) -> { });
    }

    /**
     * The sizes of a simulated node: small tables, rings, files and thresholds, so that a run meets their limits
     * (a full ring, a full container, snapshots and flushes) often.
     */
    static NodeContext sizedForSimulation(final NodeContext context)
    {
        return context
            .rules(new BusinessRules().maxSessions(4096).expectedSessions(512).maxDestinations(16).maxPayloadBytes(256)
                .terminalRetentionMs(30_000).deadRetentionMs(60_000))
            .ringSize(256)
            .maxBatchSize(32)
            // Near the journal's least: a record of the largest operator must fit twice in a segment, once in the
            // write buffer.
            .journalSegmentLength(2560 * 1024)
            .journalWriteBufferBytes(1280 * 1024)
            .snapshotEveryOperators(3_000)
            .snapshotEveryMs(20_000)
            .snapshotEveryLogBytes(1024 * 1024)
            .snapshotsRetained(2)
            .storagePageBytes(16 * 1024)
            .storageContainerMaxBytes(512 * 1024)
            .storageFlushBytes(32 * 1024)
            .storageFlushAgeMs(500)
            .repeatEventBytes(16 * 1024)
            // Failures the faults cause are the point of the run; the checker judges what they lead to.
            .errorHandler((ex) -> { });
    }
}
