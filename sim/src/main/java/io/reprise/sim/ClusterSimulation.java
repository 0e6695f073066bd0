package io.reprise.sim;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import io.reprise.engine.cluster.ClusterMember;
import io.reprise.engine.cluster.Consensus;
import io.reprise.engine.cluster.RestartRequired;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.node.NodeAssembly;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.node.PlantedBug;
import io.reprise.engine.repeat.WorkerLink;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;

/**
 * A cluster of 3 or 5 nodes on the simulation runtime (docs/simulation.md, docs/cluster.md): every member a whole
 * node (its ring, journal, business logic, storage, snapshots and consensus), the controllers and workers of the
 * single-node simulator talking to whoever leads, a simulated network between the members, and each member's own
 * disk and clock; all driven by one seed in one thread.
 * <p>
 * The single-node checker judges the sessions, fed with the outputs of each log entry once (from the first member
 * that applies it). On top of it, the cluster's invariants: at most one leader per term; members that applied index
 * i have equal digests at i; no attempt dispatched by a member that does not lead, nor taken by a worker twice (the
 * same attempt handed out again, by the same leader or the next); and after the quiet time every
 * member holds the same state, every answered operator is in it, and a leader serves.
 */
public final class ClusterSimulation
{
    private static final Path DATA_DIRECTORY = Path.of("/sim/node");
    private static final long QUIET_TIME_NS = 120_000_000_000L;
    private static final long CATCH_UP_LIMIT_NS = 60_000_000_000L;
    private static final boolean TRACE = Boolean.getBoolean("reprise.sim.trace");

    private final long seed;
    private final long steps;
    private final int memberCount;
    private final Set<Simulation.Fault> faults;
    private final PlantedBug plant;
    private final Random random;
    private final VirtualClock clock = new VirtualClock();
    private final SimNetwork network;
    private final Member[] members;
    private final TreeMap<Long, SessionModel> sessions = new TreeMap<>();
    private final Checker checker = new Checker(sessions);
    private final Workload workload;
    private final Consensus.Settings settings = new Consensus.Settings(150_000_000L, 30_000_000L, 16 * 1024, 4096);

    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final Map<Long, Long> digestAt = new HashMap<>();
    /**
     * Every attempt a worker took, by "tenant:session" and attempt number, to who handed it out: none is handed out
     * twice. A session saved again under its id once purged starts its attempts from 1: its entry starts afresh.
     */
    private final Map<String, Map<Integer, String>> attemptsTaken = new HashMap<>();
    private long outputsThrough;
    private NodeAssembly outputsFrom;
    private Member connected;
    private String violation;
    private long stepsRun;
    private long crashes;
    private long faultsInjected;
    private long elections;
    private long starts;
    private long installs;
    private long snapshotEveryOperators = Long.getLong("reprise.cluster.snapshot.every", 500);
    private long electionsBeforeQuiet;

    public ClusterSimulation(
        final long seed, final long steps, final int memberCount, final Set<Simulation.Fault> faults,
        final PlantedBug plant)
    {
        this.seed = seed;
        this.steps = steps;
        this.memberCount = memberCount;
        this.faults = faults;
        this.plant = plant;
        this.random = new Random(seed);
        this.network = new SimNetwork(memberCount, new Random(random.nextLong()), clock);
        this.members = new Member[memberCount];
        for (int m = 0; m < memberCount; m++)
        {
            members[m] = new Member(m, random.nextLong());
        }
        this.workload = new Workload(new Random(random.nextLong()), clock, checker, sessions);
    }

    /** One member: its disk and clock survive its crashes; its node is rebuilt at each start. */
    private final class Member implements NanoClock, EpochClock, WorkerLink
    {
        final int id;
        final SimulatedDisk simulatedDisk;
        final PowerLossDisk disk;
        final Random random;
        final double rate;
        long wallOffsetMs;
        long diskFullUntilNs = -1;
        SimNode node;
        boolean up;
        long checkedIndex = -1;
        long installsTaken;
        long acknowledgedWhileInstalling;
        /** What earlier starts' consensus counted: entries held ahead of the log, and switches to them. */
        long heldAhead;
        long switches;

        Member(final int id, final long seed)
        {
            this.id = id;
            this.random = new Random(seed);
            this.simulatedDisk = new SimulatedDisk(this.random.nextLong()).faults(Simulation.diskFaults(faults));
            simulatedDisk.ioListener((kind, path, bytes, nanos) -> clock.advanceNanos(nanos));
            this.disk = new PowerLossDisk(simulatedDisk);
            this.rate = 1.0 + (this.random.nextInt(2001) - 1000) / 1e6;
        }

        public long nanoTime()
        {
            return (long)(clock.nanoTime() * rate);
        }

        public long time()
        {
            return clock.time() + wallOffsetMs;
        }

        NodeAssembly assembly()
        {
            return node.node();
        }

        ClusterMember cluster()
        {
            return node.node().clusterMember();
        }

        boolean leads()
        {
            return up && cluster().consensus().role() == Consensus.Role.LEADER;
        }

        void start() throws Exception
        {
            node = SimNode.start(context(this));
            up = true;
            network.up(id);
        }

        void crash()
        {
            acknowledgedWhileInstalling += cluster().acknowledgedWhileInstalling();
            heldAhead += cluster().consensus().entriesHeldAhead();
            switches += cluster().consensus().switches();
            up = false;
            network.down(id);
            node.abandon();
            simulatedDisk.crash();
            disk.restore();
            simulatedDisk.failSyncs(0);
            if (connected == this)
            {
                connected = null;
            }
        }

        /** The repeat process hands an attempt out: only a leader may, and only the one the workers talk to is heard. */
        public boolean dispatch(
            final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int payloadOffset,
            final int payloadLength)
        {
            if (!up || cluster().consensus().role() != Consensus.Role.LEADER)
            {
                fail("dispatch-only-by-leader: member " + id + " (" + (up ? cluster().consensus().role() : "down") +
                    ", term " + (up ? cluster().consensus().term() : -1) + ") dispatched attempt " + attempt + " of " +
                    tenant + ":" + sessionId);
                return false;
            }
            // The lease is in this member's wall clock; the workers keep time by the simulation's.
            final boolean taken = connected == this && workload.dispatch(workerId, tenant, sessionId, destination,
                attempt, leaseExpiresAtMs - wallOffsetMs, handle, payload, payloadOffset, payloadLength);
            final String handedOutBy = "member " + id + " (term " + cluster().consensus().term() + ", step " +
                stepsRun + ", applied " + node.node().appliedIndex() + ")";
            final String before = taken ? attemptsTaken.computeIfAbsent(tenant + ":" + sessionId,
                (key) -> new HashMap<>()).putIfAbsent(attempt, handedOutBy) : null;
            if (null != before)
            {
                fail("attempt-dispatched-twice: " + handedOutBy + " dispatched attempt " + attempt + " of " + tenant +
                    ":" + sessionId + ", which " + before + " had handed out");
            }
            if (TRACE && !taken)
            {
                System.out.println("trace: step " + stepsRun + " member " + id + " dispatch to worker " + workerId + " refused" + (connected == this ? "" : " (users elsewhere)") + " " + tenant + ":" + sessionId + " a" + attempt);
            }
            return taken;
        }
    }

    /**
     * Each member's outputs reach the checker only for entries no member applied before: the checker sees the
     * committed log's outputs once each, in log order, whoever applies them.
     */
    private final class FirstApplierSink implements OutputSink
    {
        private final Member member;

        FirstApplierSink(final Member member)
        {
            this.member = member;
        }

        private boolean first()
        {
            final long index = member.assembly().logic().appliedIndex() + 1;
            // The same index again only from the same start of the same member: one entry has several outputs.
            if (index > outputsThrough || (index == outputsThrough && outputsFrom == member.assembly()))
            {
                outputsThrough = index;
                outputsFrom = member.assembly();
                checker.watch(member.assembly());
                return true;
            }
            return false;
        }

        public void onResponse(
            final long clientId, final long correlationId, final int operatorTemplateId, final ResultCode resultCode,
            final long value)
        {
            if (first())
            {
                checker.onResponse(clientId, correlationId, operatorTemplateId, resultCode, value);
            }
        }

        public void onSessionSaved(
            final int tenant, final long sessionId, final int destination, final DirectBuffer payload, final int offset,
            final int length)
        {
            if (first())
            {
                attemptsTaken.remove(tenant + ":" + sessionId);
                checker.onSessionSaved(tenant, sessionId, destination, payload, offset, length);
            }
        }

        public void onRepeatStarted(
            final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle)
        {
            if (first())
            {
                checker.onRepeatStarted(tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle);
            }
        }

        public void onAttemptEnded(
            final int tenant, final long sessionId, final int destination, final int attempt, final int endedBy)
        {
            if (first())
            {
                checker.onAttemptEnded(tenant, sessionId, destination, attempt, endedBy);
            }
        }

        public void onSessionFinished(
            final int tenant, final long sessionId, final int destination, final SessionStatus status,
            final int attempt, final int errorCode)
        {
            if (first())
            {
                checker.onSessionFinished(tenant, sessionId, destination, status, attempt, errorCode);
            }
        }

        public void onSessionPurged(final int tenant, final long sessionId)
        {
            if (first())
            {
                checker.onSessionPurged(tenant, sessionId);
            }
        }
    }

    public Simulation.Result run()
    {
        final String failure = Simulation.failureOf(this::runPhases);
        final String head = "sim: seed=" + seed + " nodes=" + memberCount + " steps=" + stepsRun + " ops=" +
            workload.operatorsOffered() + " acked=" + checker.answeredCount() + " crashes=" + crashes + " faults=" +
            faultsInjected + " elections=" + elections + " installs=" + installs;
        if (null == failure)
        {
            return new Simulation.Result(true, head + String.format(" digest=0x%016x ok",
                members[0].assembly().logic().digest()), null, null, workload.operatorsOffered(), stepsRun);
        }
        return new Simulation.Result(false, head + " FAILED " + failure, failure,
            command(seed, steps, memberCount, faults, plant), workload.operatorsOffered(), stepsRun);
    }

    public static String command(
        final long seed, final long steps, final int nodes, final Set<Simulation.Fault> faults, final PlantedBug plant)
    {
        return Simulation.command(seed, steps, faults, plant) + " --nodes " + nodes;
    }

    private String runPhases() throws Exception
    {
        startAll();
        if (faults.contains(Simulation.Fault.NETWORK))
        {
            network.loss(random.nextInt(20_000)).duplication(random.nextInt(10_000))
                .delay(100_000, 200_000 + random.nextInt(3_000_000));
        }
        runSteps(steps);
        if (null != violation)
        {
            return violation;
        }
        return quietTimeAndEnd();
    }

    void startAll() throws Exception
    {
        network.delay(100_000, 500_000);
        for (final Member member : members)
        {
            member.start();
        }
    }

    /** {@code count} steps of the run: members' steps, users' actions, and the chosen faults. */
    void runSteps(final long count) throws Exception
    {
        for (long step = 0; step < count && null == violation; step++)
        {
            stepsRun++;
            passTime();
            final int pick = random.nextInt(100);
            if (pick < 65)
            {
                stepMember(members[random.nextInt(memberCount)]);
            }
            else if (pick < 95)
            {
                if (null != connected)
                {
                    workload.act(faults.contains(Simulation.Fault.WORKER_DEATH));
                }
            }
            else
            {
                injectFault();
            }
            afterStep();
        }
    }

    // ------------------------------------------------------------------------------ for scenario tests

    /** Runs the cluster's steps for {@code durationNs} of simulated time. */
    void runFor(final long durationNs) throws Exception
    {
        final long endNs = clock.nanoTime() + durationNs;
        while (clock.nanoTime() < endNs && null == violation)
        {
            runSteps(1);
        }
    }

    /** Runs members' steps until every member has applied the leader's commit index, or {@code limitNs} passed. */
    boolean runUntilCaughtUp(final long limitNs) throws Exception
    {
        final long endNs = clock.nanoTime() + limitNs;
        while (clock.nanoTime() < endNs && null == violation)
        {
            if (null != connected && connected.up)
            {
                final long commit = connected.cluster().consensus().commitIndex();
                boolean all = commit > 0;
                for (final Member member : members)
                {
                    all &= member.up && member.assembly().appliedIndex() >= commit;
                }
                if (all)
                {
                    return true;
                }
            }
            passTime();
            stepMember(members[random.nextInt(memberCount)]);
            afterStep();
        }
        traceMembers();
        return false;
    }

    /** The member the users talk to (the leader), or -1. */
    int leader()
    {
        return null == connected ? -1 : connected.id;
    }

    /** Members started from now on take a snapshot every {@code operators} operators. */
    void snapshotEvery(final long operators)
    {
        snapshotEveryOperators = operators;
    }

    /** Has the member take a snapshot now, and runs the cluster until it has. */
    void snapshot(final int member) throws Exception
    {
        final long taken = members[member].assembly().snapshotAgent().taken();
        members[member].assembly().snapshotAgent().requestSnapshot();
        while (members[member].assembly().snapshotAgent().taken() == taken && null == violation)
        {
            runSteps(1);
        }
    }

    void isolate(final int member)
    {
        network.isolate(member);
    }

    void heal()
    {
        network.heal();
    }

    void restart(final int member) throws Exception
    {
        members[member].assembly().fail(new IllegalStateException("restart (scenario)"));
        crashAndRestart(members[member]);
    }

    void wipe(final int member) throws Exception
    {
        wipe(members[member]);
    }

    long installsTaken(final int member)
    {
        return members[member].installsTaken;
    }

    /** Full installs the member started sending while it led, in its current start. */
    long installsSent(final int member)
    {
        return members[member].cluster().installsSent();
    }

    long acknowledgedWhileInstalling(final int member)
    {
        return members[member].acknowledgedWhileInstalling + members[member].cluster().acknowledgedWhileInstalling();
    }

    /** Entries the member held ahead of its log while catching up, over all its starts. */
    long entriesHeldAhead(final int member)
    {
        return members[member].heldAhead + members[member].cluster().consensus().entriesHeldAhead();
    }

    /** Times the member's log reached the entries it held ahead, and took them, over all its starts. */
    long switches(final int member)
    {
        return members[member].switches + members[member].cluster().consensus().switches();
    }

    long lastIndex(final int member)
    {
        return members[member].cluster().log().lastIndex();
    }

    long baseIndex(final int member)
    {
        return members[member].cluster().log().baseIndex();
    }

    /** Whether the member's log can still send the entry at {@code index}: not rotated away. */
    boolean holds(final int member, final long index)
    {
        return members[member].cluster().log().holds(index);
    }

    long appliedIndex(final int member)
    {
        return members[member].assembly().appliedIndex();
    }

    long digest(final int member)
    {
        return members[member].assembly().logic().digest();
    }

    String violation()
    {
        return null != violation ? violation : checker.violation();
    }

    private void passTime()
    {
        clock.advanceNanos(random.nextInt(10) == 0 ? random.nextInt(20_000_000) : random.nextInt(1_000_000));
        for (final Member member : members)
        {
            if (member.diskFullUntilNs >= 0 && clock.nanoTime() >= member.diskFullUntilNs)
            {
                member.simulatedDisk.capacityBytes(Long.MAX_VALUE);
                member.diskFullUntilNs = -1;
            }
        }
    }

    /**
     * One step of a member: a third of the time its consensus (on the threaded runtime it has a thread of its own and
     * runs all the time; here it must run often enough to keep its heartbeats), else any of its steps.
     */
    private void stepMember(final Member member)
    {
        if (member.up)
        {
            if (random.nextInt(3) == 0)
            {
                member.node.runStep(member.cluster());
            }
            else
            {
                member.node.step(random);
            }
        }
    }

    /** Failed members restart; the workload follows the leader; the cluster's invariants are checked. */
    private void afterStep() throws Exception
    {
        for (final Member member : members)
        {
            if (member.up && (member.disk.powerLost() || null != member.assembly().fatalError()))
            {
                crashAndRestart(member);
            }
        }
        for (final Member member : members)
        {
            if (member.leads())
            {
                final long term = member.cluster().consensus().term();
                final Integer other = leaderOfTerm.putIfAbsent(term, member.id);
                if (null == other)
                {
                    elections++;
                }
                else if (other != member.id)
                {
                    fail("one-leader-per-term: members " + other + " and " + member.id + " both lead term " + term);
                }
            }
            if (member.up && member.cluster().acknowledgedWhileInstalling() > 0)
            {
                fail("no-ack-while-installing: member " + member.id + " acknowledged entries while it was taking " +
                    "a full install");
            }
            if (member.up && member.cluster().consensus().acknowledgedAhead() > 0)
            {
                fail("no-ack-while-held-ahead: member " + member.id + " acknowledged entries it held ahead of its " +
                    "log, before the entries before them arrived");
            }
            if (member.up && member.assembly().appliedIndex() != member.checkedIndex && random.nextInt(8) == 0)
            {
                // A digest costs a walk of the whole state: taken at one in eight of the indexes a member stops at,
                // where other members' digests are met often enough (and all of them are compared at the end).
                final long applied = member.assembly().appliedIndex();
                member.checkedIndex = applied;
                final long digest = member.assembly().logic().digest();
                final Long known = digestAt.putIfAbsent(applied, digest);
                if (null != known && known != digest)
                {
                    fail(String.format("equal-digests: member %d has digest 0x%016x at index %d, another member " +
                        "had 0x%016x there", member.id, digest, applied, known));
                }
            }
        }
        followLeader();
        if (null == violation && null != checker.violation())
        {
            violation = checker.violation();
        }
    }

    /** The controllers and workers talk to the member that takes clients' entries, when there is one. */
    private void followLeader()
    {
        if (null != connected && connected.up && connected.cluster().acceptsClients())
        {
            return;
        }
        for (final Member member : members)
        {
            if (member.up && member.cluster().acceptsClients())
            {
                if (null != connected && connected.up)
                {
                    workload.disconnect();
                }
                connected = member;
                workload.follow(member.assembly());
                return;
            }
        }
    }

    private void injectFault() throws Exception
    {
        final int pick = random.nextInt(1000);
        final Member member = members[random.nextInt(memberCount)];
        if (pick < 10 && faults.contains(Simulation.Fault.CRASH))
        {
            faultsInjected++;
            if (member.up)
            {
                member.assembly().fail(new IllegalStateException("crash (simulated)"));
            }
        }
        else if (pick < 20 && faults.contains(Simulation.Fault.POWER_LOSS))
        {
            faultsInjected++;
            member.disk.failAfter(1 + random.nextInt(40));
        }
        else if (pick < 30 && faults.contains(Simulation.Fault.SYNC_FAIL))
        {
            faultsInjected++;
            member.simulatedDisk.failSyncs(1 + random.nextInt(3));
        }
        else if (pick < 40 && faults.contains(Simulation.Fault.DISK_FULL) && member.diskFullUntilNs < 0)
        {
            faultsInjected++;
            member.simulatedDisk.capacityBytes(member.simulatedDisk.usedBytes() + random.nextInt(64 * 1024));
            member.diskFullUntilNs = clock.nanoTime() + 1_000_000L * (1 + random.nextInt(3000));
        }
        else if (pick < 60 && faults.contains(Simulation.Fault.CLOCK_JUMP))
        {
            faultsInjected++;
            member.wallOffsetMs += random.nextInt(10) < 7 ? random.nextInt(5_000) : -random.nextInt(3_000);
        }
        else if (pick < 200 && faults.contains(Simulation.Fault.NETWORK))
        {
            faultsInjected++;
            network.partition(member.id, (member.id + 1 + random.nextInt(memberCount - 1)) % memberCount, true);
        }
        else if (pick < 260 && faults.contains(Simulation.Fault.NETWORK))
        {
            faultsInjected++;
            network.isolate(member.id);
        }
        else if (pick < 500 && faults.contains(Simulation.Fault.NETWORK))
        {
            network.heal();
        }
        else if (pick < 503 && faults.contains(Simulation.Fault.WIPE) && mayWipe(member))
        {
            faultsInjected++;
            wipe(member);
        }
        else if (pick < 520 && !faults.isEmpty() && member.leads())
        {
            faultsInjected++;
            member.cluster().consensus().transferLeadership(
                (member.id + 1 + random.nextInt(memberCount - 1)) % memberCount);
        }
    }

    /**
     * A member's disk may be wiped when every other member is up and holds durably the same entries it held (its
     * last entry, at the same index in the same term): what it had acknowledged is then on a majority without it. (Losing acknowledged entries on more members than that would
     * lose committed ones, which no replication can prevent.)
     */
    private boolean mayWipe(final Member member)
    {
        if (!member.up)
        {
            return false;
        }
        final long held = member.cluster().log().durableIndex();
        final long heldTerm = member.cluster().log().termAt(held);
        for (final Member other : members)
        {
            // The same index in the same term: by log matching, the same entries up to it.
            if (other != member && (!other.up || null != other.assembly().fatalError() ||
                other.cluster().log().durableIndex() < held || other.cluster().log().termAt(held) != heldTerm))
            {
                return false;
            }
        }
        return true;
    }

    /** The member crashes and its disk loses everything but its term and vote; it starts empty. */
    private void wipe(final Member member) throws Exception
    {
        crashes++;
        member.crash();
        for (final String directory : new String[] {"journal", "snapshots", "sources", "install"})
        {
            final Path path = DATA_DIRECTORY.resolve(directory);
            if (member.simulatedDisk.exists(path))
            {
                for (final String name : member.simulatedDisk.list(path))
                {
                    member.simulatedDisk.delete(path.resolve(name));
                }
                member.simulatedDisk.syncDirectory(path);
            }
        }
        try
        {
            member.start();
        }
        catch (final Exception ex)
        {
            fail("restart-after-crash: member " + member.id + " refused to start after a wipe: " + ex.getMessage());
        }
    }

    private void crashAndRestart(final Member member) throws Exception
    {
        if (member.up && member.assembly().fatalError() instanceof RestartRequired restart && restart.afterInstall())
        {
            installs++;
            member.installsTaken++;
        }
        crashes++;
        member.crash();
        try
        {
            member.start();
        }
        catch (final Exception ex)
        {
            fail("restart-after-crash: member " + member.id + " refused to start: " + ex.getMessage());
        }
    }

    /**
     * No more faults or new work, the network healed, every member up and its workers healthy: a leader must serve,
     * every session must end, and every member must reach the same state; every answered operator must be in it.
     */
    private String quietTimeAndEnd() throws Exception
    {
        network.heal();
        network.loss(0).duplication(0).delay(100_000, 500_000);
        for (final Member member : members)
        {
            member.simulatedDisk.faults(SimulatedDisk.Faults.none());
            member.simulatedDisk.capacityBytes(Long.MAX_VALUE);
            member.diskFullUntilNs = -1;
            member.simulatedDisk.failSyncs(0);
            member.disk.restore();
            if (!member.up || null != member.assembly().fatalError())
            {
                crashAndRestart(member);
            }
        }
        workload.quiet();
        electionsBeforeQuiet = elections;
        final long endNs = clock.nanoTime() + QUIET_TIME_NS;
        while (clock.nanoTime() < endNs && null == violation)
        {
            passTime();
            if (random.nextInt(4) == 0)
            {
                if (null != connected)
                {
                    workload.act(false);
                }
            }
            else
            {
                stepMember(members[random.nextInt(memberCount)]);
            }
            for (final Member member : members)
            {
                if (member.up && null != member.assembly().fatalError() &&
                    !(member.assembly().fatalError() instanceof RestartRequired))
                {
                    if (TRACE)
                    {
                        member.assembly().fatalError().printStackTrace(System.out);
                    }
                    return "node-keeps-running: member " + member.id + " failed with no fault injected: " +
                        member.assembly().fatalError();
                }
            }
            afterStep();
        }
        if (null != violation)
        {
            return violation;
        }
        if (null == connected)
        {
            traceMembers();
            return "liveness: healed, with every member up, no leader took clients' entries within the quiet time";
        }
        checker.checkAllEnded(connected.assembly().logic());
        if (null != checker.violation())
        {
            traceMembers();
            return checker.violation();
        }
        return sameStateEverywhere();
    }

    private void traceMembers()
    {
        if (!TRACE)
        {
            return;
        }
        System.out.println("trace: elections " + elections + ", in the quiet time " + (elections - electionsBeforeQuiet));
        for (final Member member : members)
        {
            final NodeAssembly node = member.assembly();
            final StringBuilder figures = new StringBuilder();
            for (int d = 1; d <= Workload.DESTINATIONS; d++)
            {
                figures.append(" d").append(d).append("[ready=")
                    .append(node.destinationFigures().get(d, DestinationFigures.READY)).append(" inflight=")
                    .append(node.destinationFigures().get(d, DestinationFigures.IN_FLIGHT)).append('/')
                    .append(node.destinationFigures().get(d, DestinationFigures.IN_FLIGHT_LIMIT)).append(']');
            }
            System.out.println("trace: " + member.cluster().consensus().describe() + " accepts=" +
                member.cluster().acceptsClients() + " applied=" + node.appliedIndex() + " proposals=" +
                node.repeatProcess().proposals() + " dispatched=" + node.dispatched() + " undeliverable=" +
                node.undeliverable() + figures + (member == connected ? " (users connected)" : "") +
                " installing=" + member.cluster().installing() + " installsSent=" + member.cluster().installsSent() +
                " base=" + member.cluster().log().baseIndex() + " published=" + node.publishedIndex() + " fatal=" +
                node.fatalError());
        }
    }

    /** Every member applies what the leader committed, and all hold the same state at the same index. */
    private String sameStateEverywhere() throws Exception
    {
        final long endNs = clock.nanoTime() + CATCH_UP_LIMIT_NS;
        while (clock.nanoTime() < endNs && null == violation)
        {
            // A leader's commit index is the cluster's once an entry of its own term is committed; before that
            // (just elected) it may lag what the members applied under the leader before.
            final long target = connected.cluster().consensus().commitIndex();
            boolean all = connected.cluster().log().termAt(target) == connected.cluster().consensus().term();
            for (final Member member : members)
            {
                all &= member.assembly().appliedIndex() >= target;
            }
            if (all && connected.assembly().appliedIndex() == target)
            {
                break;
            }
            passTime();
            stepMember(members[random.nextInt(memberCount)]);
            // A member may still have to restart (a new leader overrode entries its ring held).
            afterStep();
        }
        if (null != violation)
        {
            return violation;
        }
        final long index = connected.assembly().appliedIndex();
        final long digest = connected.assembly().logic().digest();
        for (final Member member : members)
        {
            if (member.assembly().appliedIndex() != index || member.assembly().logic().digest() != digest)
            {
                traceMembers();
                return String.format("every-member-applies: member %d is at index %d digest 0x%016x, the leader " +
                    "(member %d) at index %d digest 0x%016x", member.id, member.assembly().appliedIndex(),
                    member.assembly().logic().digest(), connected.id, index, digest);
            }
        }
        if (checker.answeredCount() > 0 && checker.lastAnswered() > index)
        {
            return "answered-survives: operator answered at index " + checker.lastAnswered() + ", state at " + index;
        }
        return null;
    }

    private void fail(final String failure)
    {
        if (null == violation)
        {
            violation = failure;
        }
    }

    private NodeContext context(final Member member)
    {
        return Simulation.sizedForSimulation(new NodeContext())
            .dataDirectory(DATA_DIRECTORY)
            .disk(member.disk)
            .epochClock(member)
            .nanoClock(member)
            .plantedBug(plant)
            .clientIdBase(++starts << 20)
            .membership(new NodeContext.Membership(member.id, memberCount, network.link(member.id), settings,
                new Random(member.random.nextLong())))
            .replicationWindowBytes(256 * 1024)
            .snapshotEveryOperators(snapshotEveryOperators)
            .workerLink(member)
            .outputObserver(new FirstApplierSink(member))
            .lifecycleListener((step) -> { });
    }
}
