package io.reprise.tools.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import io.reprise.tools.Reprise;
import io.reprise.transport.NodeCounters;

/**
 * A cluster on loopback, one OS process per member, each {@code reprise node --config DIR/member-M/node.properties}
 * with its output in {@code DIR/member-M/node.log} ({@link ClusterLayout}). It starts, kills (SIGKILL) and stops
 * (SIGTERM, then a wait for the member's clean exit) members, and reads each one's counters into a
 * {@link MemberStatus}; it asks the leader for a leadership transfer and the members for snapshots through the
 * control-request counter. Multi-process tests, kill campaigns and {@code reprise cluster} use it.
 * <p>
 * {@link #attach(Path)} gives one over the members another process started (their pids are in
 * {@code DIR/cluster.properties}): it reads and controls them, and {@link #close()} leaves them running.
 * Methods are synchronized: a campaign may kill from one thread while another reads statuses.
 */
public final class LocalCluster implements AutoCloseable
{
    public static final long STOP_TIMEOUT_MS_DEFAULT = 60_000;
    private static final long POLL_NS = 50_000_000L;
    private static final long KILL_WAIT_MS = 10_000;
    private static final int LOG_TAIL_LINES = 20;
    private static final long CONTROL_WAIT_MS = 10_000;

    /**
     * How one member's stop went: clean when it exited within the timeout with status 0 (or a status not known: a
     * member this process did not start), or was not meant to run (never started, or killed or stopped before).
     */
    public record MemberStop(int member, boolean clean, String detail)
    {
    }

    private final ClusterLayout layout;
    private final List<String> launcher;
    private final Process[] processes;
    private final ProcessHandle[] handles;
    /** Members that should run: started and neither killed nor stopped since. */
    private final boolean[] expectedUp;

    /**
     * A cluster of {@code layout}'s members, none started yet, launched as {@code launcher} followed by
     * {@code node --config FILE}. A {@code -Dkey=value} of the launcher for a key that each member's configuration
     * file sets is left out: a system property would override the member's own value.
     */
    public LocalCluster(final ClusterLayout layout, final List<String> launcher)
    {
        this.layout = layout;
        this.launcher = List.copyOf(launcher);
        this.processes = new Process[layout.members()];
        this.handles = new ProcessHandle[layout.members()];
        this.expectedUp = new boolean[layout.members()];
    }

    /** The members recorded in {@code DIR/cluster.properties}, as another process started them. */
    public static LocalCluster attach(final Path dir) throws IOException
    {
        final ClusterLayout.Recorded recorded = ClusterLayout.read(dir);
        final LocalCluster cluster = new LocalCluster(recorded.layout(), launcherOfThisJvm());
        for (int m = 0; m < recorded.pids().length; m++)
        {
            final ProcessHandle handle = memberProcess(recorded.layout(), m, recorded.pids()[m]).orElse(null);
            cluster.handles[m] = handle;
            cluster.expectedUp[m] = null != handle;
        }
        return cluster;
    }

    /**
     * The live process of pid {@code pid} when it is member {@code member} of {@code layout}: its arguments name the
     * member's configuration file (where the system tells them), so a pid reused since is not taken for it.
     */
    static Optional<ProcessHandle> memberProcess(final ClusterLayout layout, final int member, final long pid)
    {
        if (pid <= 0)
        {
            return Optional.empty();
        }
        final String config = layout.configFile(member).toString();
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
            .filter((h) -> h.info().arguments().map((args) -> List.of(args).contains(config)).orElse(true));
    }

    /**
     * How this JVM was launched, to launch members the same way: its java binary and JVM options (the
     * {@code reprise} script's, with {@code JAVA_OPTS}), then {@code -jar} and the running jar, or {@code -cp} and
     * the class path and {@link Reprise} when the classes are not in a jar (tests).
     */
    public static List<String> launcherOfThisJvm()
    {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (final String option : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            // A debugger's agent listens on a port: a second JVM with it fails to start.
            if (!option.startsWith("-agentlib:jdwp"))
            {
                command.add(option);
            }
        }
        final Path code;
        try
        {
            code = Path.of(Reprise.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalStateException("where the tools' classes are: " + ex.getMessage(), ex);
        }
        if (Files.isRegularFile(code))
        {
            command.add("-jar");
            command.add(code.toString());
        }
        else
        {
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(Reprise.class.getName());
        }
        return command;
    }

    public ClusterLayout layout()
    {
        return layout;
    }

    /** The command that starts member {@code member}. */
    public List<String> command(final int member)
    {
        final List<String> command = new ArrayList<>();
        final Map<String, String> settings = layout.nodeSettings(member);
        for (final String part : launcher)
        {
            final int equals = part.indexOf('=');
            if (!(part.startsWith("-D") && equals > 2 && settings.containsKey(part.substring(2, equals))))
            {
                command.add(part);
            }
        }
        command.add("node");
        command.add("--config");
        command.add(layout.configFile(member).toString());
        return command;
    }

    /** The ports of the cluster that another socket holds, each named: empty when every one is free. */
    public List<String> takenPorts()
    {
        final List<String> taken = new ArrayList<>();
        for (int m = 0; m < layout.members(); m++)
        {
            takenPorts(m, taken);
        }
        return taken;
    }

    private void takenPorts(final int member, final List<String> into)
    {
        for (final int port : new int[] {layout.replicaPort(member), layout.ingressPort(member)})
        {
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(ClusterLayout.HOST, port)))
            {
                socket.getLocalPort();
            }
            catch (final SocketException ex)
            {
                into.add("UDP port " + port + " (" + (port == layout.replicaPort(member) ? "replica" : "ingress") +
                    " endpoint of member " + member + ") is taken: " + ex.getMessage());
            }
        }
    }

    /** Starts every member; see {@link #start(int)}. */
    public synchronized void startAll() throws IOException
    {
        final List<String> taken = takenPorts();
        if (!taken.isEmpty())
        {
            throw new IOException(String.join("; ", taken));
        }
        for (int m = 0; m < layout.members(); m++)
        {
            start(m);
        }
    }

    /**
     * Starts member {@code member}: writes its configuration file unless it exists, appends a header line to its
     * log, launches it and records its pid in {@code DIR/cluster.properties}. Refused when it runs already (its
     * embedded media driver would delete the Aeron directory of the one running) or one of its ports is taken.
     */
    public synchronized void start(final int member) throws IOException
    {
        if (isAlive(member))
        {
            throw new IllegalStateException("member " + member + " runs already (pid " + handles[member].pid() + ")");
        }
        final List<String> taken = new ArrayList<>();
        takenPorts(member, taken);
        if (!taken.isEmpty())
        {
            throw new IOException(String.join("; ", taken));
        }
        layout.writeConfigIfAbsent(member);
        final List<String> command = command(member);
        final Path log = layout.logFile(member);
        Files.writeString(log, "--- " + Instant.now() + " starting member " + member + ": " +
            String.join(" ", command) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        final Process process = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
        processes[member] = process;
        handles[member] = process.toHandle();
        expectedUp[member] = true;
        writeLayout();
    }

    /** Starts a member again after {@link #kill} or {@link #terminate}: the same configuration, data and ports. */
    public void restart(final int member) throws IOException
    {
        start(member);
    }

    /** SIGKILL to member {@code member}, and a wait for its end. Nothing when it does not run. */
    public synchronized void kill(final int member)
    {
        final ProcessHandle handle = handles[checked(member)];
        expectedUp[member] = false;
        if (null == handle || !handle.isAlive())
        {
            return;
        }
        handle.destroyForcibly();
        await(handle, KILL_WAIT_MS);
    }

    /** SIGTERM to member {@code member} and a wait for its exit: SIGKILL if it does not exit in {@code timeoutMs}. */
    public synchronized MemberStop terminate(final int member, final long timeoutMs)
    {
        return stop(List.of(checked(member)), timeoutMs).get(0);
    }

    /**
     * SIGTERM to every member that runs, all at once (each shuts down the seed's way), then a wait for each; a member
     * not gone after {@code timeoutMs} gets SIGKILL. One {@link MemberStop} per member; a member killed or stopped
     * on purpose before counts as clean.
     */
    public synchronized List<MemberStop> stopAll(final long timeoutMs)
    {
        final List<Integer> all = new ArrayList<>();
        for (int m = 0; m < layout.members(); m++)
        {
            all.add(m);
        }
        return stop(all, timeoutMs);
    }

    private List<MemberStop> stop(final List<Integer> members, final long timeoutMs)
    {
        final boolean[] wasRunning = new boolean[layout.members()];
        for (final int m : members)
        {
            wasRunning[m] = null != handles[m] && handles[m].isAlive();
            if (wasRunning[m])
            {
                handles[m].destroy();
            }
        }
        final long deadlineMs = System.currentTimeMillis() + timeoutMs;
        final List<MemberStop> stops = new ArrayList<>();
        for (final int m : members)
        {
            final boolean expected = expectedUp[m];
            expectedUp[m] = false;
            if (!wasRunning[m])
            {
                final Integer status = exitStatus(m);
                stops.add(expected ?
                    new MemberStop(m, false, "had exited already" + (null == status ? "" : " with status " + status) +
                    " (" + layout.logFile(m) + ")") : new MemberStop(m, true, "not running"));
                continue;
            }
            if (!await(handles[m], Math.max(0, deadlineMs - System.currentTimeMillis())))
            {
                handles[m].destroyForcibly();
                await(handles[m], KILL_WAIT_MS);
                stops.add(new MemberStop(m, false, "did not exit within " + timeoutMs + " ms of SIGTERM: killed (" +
                    layout.logFile(m) + ")"));
                continue;
            }
            final Integer status = exitStatus(m);
            stops.add(null == status ? new MemberStop(m, true, "stopped (exit status not known: not started here)") :
                status == 0 ? new MemberStop(m, true, "stopped cleanly") :
                new MemberStop(m, false, "exited with status " + status + " (" + layout.logFile(m) + ")"));
        }
        return stops;
    }

    /** The exit status of a member this process started, once it has ended; null otherwise. */
    public synchronized Integer exitStatus(final int member)
    {
        final Process process = processes[checked(member)];
        return null == process || process.isAlive() ? null : process.exitValue();
    }

    public synchronized boolean isAlive(final int member)
    {
        final ProcessHandle handle = handles[checked(member)];
        return null != handle && handle.isAlive();
    }

    /** The pid of the member's process, -1 when it was never started. */
    public synchronized long pid(final int member)
    {
        final ProcessHandle handle = handles[checked(member)];
        return null == handle ? -1 : handle.pid();
    }

    /** The member's counters now; a member whose process is gone is "down" whatever its CnC file still says. */
    public synchronized MemberStatus status(final int member)
    {
        final long pid = pid(member);
        if (!isAlive(member))
        {
            return MemberStatus.notRunning(member, pid, false);
        }
        final long[] counters = MemberCounters.read(layout.aeronDir(member));
        return null == counters ? MemberStatus.notRunning(member, pid, true) : MemberStatus.of(member, pid, counters);
    }

    public synchronized List<MemberStatus> statuses()
    {
        final List<MemberStatus> statuses = new ArrayList<>();
        for (int m = 0; m < layout.members(); m++)
        {
            statuses.add(status(m));
        }
        return statuses;
    }

    /**
     * The leader once one leads with a majority of the members following it in its term; a
     * {@link ClusterException} with every member's status after {@code timeoutMs}, or at once when a member that
     * should run has exited.
     */
    public int awaitLeader(final long timeoutMs) throws ClusterException
    {
        return awaitLeader(timeoutMs, false);
    }

    /** As {@link #awaitLeader}, until every member that should run follows the leader (or is it). */
    public int awaitAllFollowing(final long timeoutMs) throws ClusterException
    {
        return awaitLeader(timeoutMs, true);
    }

    private int awaitLeader(final long timeoutMs, final boolean all) throws ClusterException
    {
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true)
        {
            final List<MemberStatus> statuses;
            int required = layout.members() / 2 + 1;
            synchronized (this)
            {
                checkNoneExited("while waiting for a leader");
                statuses = statuses();
                if (all)
                {
                    required = 0;
                    for (final boolean up : expectedUp)
                    {
                        required += up ? 1 : 0;
                    }
                }
            }
            final int leader = leader(statuses, required);
            if (leader >= 0)
            {
                return leader;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new ClusterException("no leader " + (all ? "followed by every member that runs " : "") +
                    "within " + timeoutMs + " ms:\n" + lines(statuses));
            }
            LockSupport.parkNanos(POLL_NS);
        }
    }

    /** The member that leads with a majority following it in its term, or -1. */
    public static int leader(final List<MemberStatus> statuses)
    {
        return leader(statuses, statuses.size() / 2 + 1);
    }

    /** The member that leads with at least {@code required} members (itself included) following it in its term. */
    private static int leader(final List<MemberStatus> statuses, final int required)
    {
        for (final MemberStatus candidate : statuses)
        {
            if (!candidate.leads())
            {
                continue;
            }
            int following = 1;
            for (final MemberStatus other : statuses)
            {
                if (other != candidate && other.running() && other.leader() == candidate.member() &&
                    other.term() == candidate.term() && !other.leads())
                {
                    following++;
                }
            }
            if (following >= required)
            {
                return candidate.member();
            }
        }
        return -1;
    }

    /**
     * Asks the leader to hand leadership to {@code target}, and waits until {@code target} leads with a majority
     * following it. Returns the member that led before (or {@code target} when it led already: nothing asked).
     * The request is withdrawn when the leader does not take it in time.
     */
    public int transferLeadership(final int target, final long timeoutMs) throws ClusterException
    {
        checked(target);
        final long startNs = System.nanoTime();
        final int leader = awaitLeader(timeoutMs);
        if (leader == target)
        {
            return leader;
        }
        final MemberStatus targetStatus = status(target);
        if (!targetStatus.running())
        {
            throw new ClusterException("member " + target + " cannot take the leadership: " + targetStatus.line());
        }
        final long request = NodeCounters.CONTROL_TRANSFER_BASE + target;
        request(leader, request);
        final long remainingMs = timeoutMs - (System.nanoTime() - startNs) / 1_000_000;
        if (!awaitControlTaken(leader, request, remainingMs))
        {
            throw new ClusterException("member " + leader + " (the leader) did not take the transfer request " +
                "(control request " + request + ") within " + timeoutMs + " ms; withdrawn:\n" + lines(statuses()));
        }
        while (true)
        {
            final List<MemberStatus> statuses = statuses();
            if (leader(statuses) == target)
            {
                return leader;
            }
            if ((System.nanoTime() - startNs) / 1_000_000 > timeoutMs)
            {
                throw new ClusterException("member " + leader + " took the transfer request, but member " + target +
                    " does not lead with a majority following it within " + timeoutMs + " ms:\n" + lines(statuses));
            }
            LockSupport.parkNanos(POLL_NS);
        }
    }

    /**
     * Asks every member whose counters can be read to take a snapshot now, and waits until each has taken the
     * request and counts one snapshot more. Returns, per member asked, its snapshots taken before and after;
     * members not running are not asked.
     */
    public Map<Integer, long[]> snapshot(final long timeoutMs) throws ClusterException
    {
        final long startNs = System.nanoTime();
        final Map<Integer, long[]> taken = new LinkedHashMap<>();
        final List<MemberStatus> before = statuses();
        for (final MemberStatus status : before)
        {
            if (status.running())
            {
                if (status.controlRequest() != 0)
                {
                    throw new ClusterException("member " + status.member() + " has a control request pending (" +
                        status.controlRequest() + "): nothing asked; try again once it is 0");
                }
                taken.put(status.member(), new long[] {status.snapshotsTaken(), -1});
            }
        }
        if (taken.isEmpty())
        {
            throw new ClusterException("no member runs:\n" + lines(before));
        }
        for (final int m : taken.keySet())
        {
            request(m, NodeCounters.CONTROL_SNAPSHOT);
        }
        final List<Integer> waiting = new ArrayList<>(taken.keySet());
        while (!waiting.isEmpty())
        {
            for (final Iterator<Integer> i = waiting.iterator(); i.hasNext(); )
            {
                final int m = i.next();
                final MemberStatus status = status(m);
                if (status.running() && status.controlRequest() == 0 && status.snapshotsTaken() > taken.get(m)[0])
                {
                    taken.get(m)[1] = status.snapshotsTaken();
                    i.remove();
                }
            }
            if (!waiting.isEmpty() && (System.nanoTime() - startNs) / 1_000_000 > timeoutMs)
            {
                final StringBuilder text = new StringBuilder("no snapshot within " + timeoutMs + " ms from member" +
                    (waiting.size() > 1 ? "s " : " ") + waiting + ":");
                for (final int m : waiting)
                {
                    final MemberStatus status = status(m);
                    text.append("\n  member ").append(m).append(": ");
                    if (!status.running())
                    {
                        text.append("not running any more");
                    }
                    else if (status.controlRequest() == NodeCounters.CONTROL_SNAPSHOT)
                    {
                        final boolean withdrawn = MemberCounters.compareAndSetControl(layout.aeronDir(m),
                            NodeCounters.CONTROL_SNAPSHOT, 0) == NodeCounters.CONTROL_SNAPSHOT;
                        text.append("did not take the request").append(withdrawn ? " (withdrawn)" : "");
                    }
                    else
                    {
                        text.append("took the request; snapshots taken still ").append(status.snapshotsTaken());
                    }
                }
                throw new ClusterException(text.toString());
            }
            if (!waiting.isEmpty())
            {
                LockSupport.parkNanos(POLL_NS);
            }
        }
        return taken;
    }

    /** Writes {@code value} into member {@code member}'s control-request counter, from 0. */
    private void request(final int member, final long value) throws ClusterException
    {
        final long was = MemberCounters.compareAndSetControl(layout.aeronDir(member), 0, value);
        if (was == MemberCounters.ABSENT)
        {
            throw new ClusterException("member " + member + " has no control-request counter to write (not " +
                "running, or a node without cluster counters): " + status(member).line());
        }
        if (was != 0)
        {
            throw new ClusterException("member " + member + " has a control request pending (" + was + "): " +
                "nothing asked; try again once it is 0");
        }
    }

    /** Waits for the member to set its control request back to 0; withdraws it and says false on timeout. */
    private boolean awaitControlTaken(final int member, final long request, final long timeoutMs)
    {
        final long deadlineNs = System.nanoTime() + Math.max(0, timeoutMs) * 1_000_000L;
        while (true)
        {
            final long[] counters = MemberCounters.read(layout.aeronDir(member));
            if (null != counters && counters[NodeCounters.CONTROL_REQUEST] != request)
            {
                return true;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                MemberCounters.compareAndSetControl(layout.aeronDir(member), request, 0);
                return false;
            }
            LockSupport.parkNanos(POLL_NS);
        }
    }

    /** Fails when a member that should run has exited: its status and the end of its log say why. */
    private void checkNoneExited(final String when) throws ClusterException
    {
        for (int m = 0; m < layout.members(); m++)
        {
            if (expectedUp[m] && !isAlive(m))
            {
                final Integer status = exitStatus(m);
                throw new ClusterException("member " + m + " exited" + (null == status ? "" : " with status " +
                    status) + " " + when + "; the end of " + layout.logFile(m) + ":\n" + logTail(m));
            }
        }
    }

    /**
     * Cuts member {@code member} off from the others, as a network partition would, or heals it (its link drops
     * everything while cut off: docs/cluster.md), and waits until it took the request.
     */
    public void cutOff(final int member, final boolean cutOff) throws ClusterException
    {
        final long request = cutOff ? NodeCounters.CONTROL_CUT_OFF : NodeCounters.CONTROL_HEAL;
        request(member, request);
        if (!awaitControlTaken(member, request, CONTROL_WAIT_MS))
        {
            throw new ClusterException("member " + member + " did not take the request to be " +
                (cutOff ? "cut off" : "healed") + " within " + CONTROL_WAIT_MS + " ms: " + status(member).line());
        }
    }

    /** How many lines the member's log has now: with {@link #logSince}, what it wrote after. */
    public long logLines(final int member) throws IOException
    {
        return Files.exists(layout.logFile(member)) ? readLog(member).size() : 0;
    }

    /** The member's log after its first {@code lines} lines. */
    public String logSince(final int member, final long lines) throws IOException
    {
        final List<String> all = readLog(member);
        return String.join("\n", all.subList((int)Math.min(lines, all.size()), all.size()));
    }

    private List<String> readLog(final int member) throws IOException
    {
        // A member killed mid-line may leave bytes that are not UTF-8: read leniently.
        return new String(Files.readAllBytes(layout.logFile(member)), StandardCharsets.UTF_8).lines().toList();
    }

    /** The last lines of the member's log. */
    /**
     * The member's threads as {@code jcmd PID Thread.print} shows them, for a failure report: where a member that
     * stopped making progress is stuck. Empty when it is not running or the JDK has no jcmd.
     */
    public String threadDump(final int member)
    {
        final long pid = pid(member);
        final Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (pid <= 0 || !isAlive(member) || !Files.isExecutable(jcmd))
        {
            return "";
        }
        try
        {
            final Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.print")
                .redirectErrorStream(true).start();
            final String dump = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(30, TimeUnit.SECONDS);
            return dump;
        }
        catch (final IOException ex)
        {
            return "(jcmd failed: " + ex.getMessage() + ")";
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    public String logTail(final int member)
    {
        try
        {
            final List<String> lines = Files.readAllLines(layout.logFile(member), StandardCharsets.UTF_8);
            return "  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES),
                lines.size()));
        }
        catch (final IOException | UncheckedIOException ex)
        {
            return "  (cannot read it: " + ex.getMessage() + ")";
        }
    }

    static String lines(final List<MemberStatus> statuses)
    {
        final StringBuilder text = new StringBuilder();
        for (final MemberStatus status : statuses)
        {
            text.append("  ").append(status.line()).append('\n');
        }
        return text.toString();
    }

    /** Stops the members this instance started (see {@link #stopAll}); those of {@link #attach} keep running. */
    @Override
    public synchronized void close()
    {
        final List<Integer> started = new ArrayList<>();
        for (int m = 0; m < layout.members(); m++)
        {
            if (null != processes[m])
            {
                started.add(m);
            }
        }
        stop(started, STOP_TIMEOUT_MS_DEFAULT);
    }

    private void writeLayout() throws IOException
    {
        final long[] pids = new long[layout.members()];
        for (int m = 0; m < pids.length; m++)
        {
            pids[m] = null == handles[m] ? -1 : handles[m].pid();
        }
        layout.writeLayout(pids);
    }

    private int checked(final int member)
    {
        layout.memberDir(member);
        return member;
    }

    private static boolean await(final ProcessHandle handle, final long timeoutMs)
    {
        try
        {
            handle.onExit().get(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        }
        catch (final TimeoutException ex)
        {
            return false;
        }
        catch (final ExecutionException ex)
        {
            return !handle.isAlive();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return !handle.isAlive();
        }
    }
}
