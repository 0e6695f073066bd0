package io.reprise.jmh.cluster;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import io.aeron.Aeron;
import io.aeron.cluster.ConsensusModule;
import io.aeron.driver.MediaDriver;
import io.aeron.exceptions.TimeoutException;
import io.reprise.engine.cluster.RestartRequired;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ResultCode;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.load.LoadCommand;
import io.reprise.tools.load.LoadOptions;
import io.reprise.tools.load.LoadRun;
import io.reprise.tools.load.SaveClient;
import io.reprise.transport.RepriseNode;
import io.reprise.transport.TransportContext;
import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One side of {@code reprise bench aeron-cluster}, in a JVM of its own: a Reprise node ({@link RepriseNode}) or a
 * one-member Aeron Cluster ({@link AeronClusterMember}) around the same business logic, driven by the same load
 * generator ({@link LoadRun}) over IPC; or, with {@code --members N} above 1, a cluster of N Reprise nodes or N Aeron
 * Cluster members, each in a JVM that this one starts ({@link MemberProcesses}), the load generator's client in this
 * JVM with a media driver of its own, over loopback UDP. The command runs the two sides one after the other and
 * compares what each prints last (docs/benchmarks.md).
 * <pre>
 * BenchSide load    --system reprise|aeron-cluster --fsync on|off [--members N] [reprise load options, --workers 0]
 * BenchSide member  --system S --fsync on|off --member-id I --ports P,P,... --data-dir DIR --aeron-dir DIR
 * BenchSide fill    --system S --fsync on|off --data-dir DIR --saves N --payload-bytes B
 * BenchSide restart --system S --fsync on|off --data-dir DIR --payload-bytes B
 * </pre>
 * {@code load} starts the system on a fresh temporary directory, measures, prints the load generator's report and
 * its {@code result:} line, and deletes the directory. {@code member} is one member of such a cluster, started by
 * {@code load}: the UDP ports of every member (Aeron Cluster: client ingress, consensus, log, catch-up, archive
 * control; Reprise: client ingress, replication), in member order. {@code fill} saves N sessions as fast as a
 * window of 4096 allows, with one snapshot after the first N/2, then stops the system without another.
 * {@code restart} starts the system on that directory and prints {@code restart: ... recovery_ms=T}: from the start
 * call to the first save acknowledged.
 */
public final class BenchSide
{
    public static final String REPRISE = "reprise";
    public static final String AERON_CLUSTER = "aeron-cluster";
    private static final String TOKEN = "bench-token";
    private static final int TENANT = 1;
    private static final int FILL_WINDOW = 4096;
    private static final long TIMEOUT_MS = 30 * 60 * 1000;
    private static final long MEMBERS_READY_TIMEOUT_MS = 120_000;
    /** How often a member's process looks whether its member failed or must restart. */
    private static final long MEMBER_CHECK_MS = 100;
    /** UDP ports of each Reprise member: client ingress, replication. */
    private static final int REPRISE_PORTS_PER_MEMBER = 2;
    private static final int REPRISE_INGRESS_PORT = 0;
    private static final int REPRISE_REPLICA_PORT = 1;

    private final String system;
    private final boolean fsync;
    private final int members;
    private final PrintStream out;
    private SessionService service;

    private BenchSide(final String system, final boolean fsync, final int members, final PrintStream out)
    {
        this.system = system;
        this.fsync = fsync;
        this.members = members;
        this.out = out;
    }

    public static void main(final String[] args)
    {
        int status;
        try
        {
            status = run(List.of(args), System.out);
        }
        catch (final UsageException ex)
        {
            System.err.println("bench side: " + ex.getMessage());
            status = 2;
        }
        catch (final Exception ex)
        {
            ex.printStackTrace(System.err);
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }

    static int run(final List<String> args, final PrintStream out) throws Exception
    {
        if (args.isEmpty())
        {
            throw new UsageException("give a mode: load, fill or restart");
        }
        final String mode = args.get(0);
        final List<String> rest = new ArrayList<>(args.subList(1, args.size()));
        final String system = take(rest, "--system");
        if (!REPRISE.equals(system) && !AERON_CLUSTER.equals(system))
        {
            throw new UsageException("--system must be " + REPRISE + " or " + AERON_CLUSTER + ": " + system);
        }
        final String fsync = take(rest, "--fsync");
        if (!"on".equals(fsync) && !"off".equals(fsync))
        {
            throw new UsageException("--fsync must be on or off: " + fsync);
        }
        final int members = rest.contains("--members") ? Integer.parseInt(take(rest, "--members")) : 1;
        final BenchSide side = new BenchSide(system, "on".equals(fsync), members, out);
        switch (mode)
        {
            case "load":
                return side.load(LoadOptions.parse(with(rest, "--embedded", "--workers", "0", "--tenant", "1",
                    "--token", TOKEN)));
            case "member":
                return side.member(Integer.parseInt(take(rest, "--member-id")), ports(take(rest, "--ports")),
                    Path.of(take(rest, "--data-dir")), take(rest, "--aeron-dir"));
            case "fill":
                return side.fill(Path.of(take(rest, "--data-dir")), Long.parseLong(take(rest, "--saves")),
                    Integer.parseInt(take(rest, "--payload-bytes")));
            case "restart":
                return side.restart(Path.of(take(rest, "--data-dir")), Integer.parseInt(take(rest, "--payload-bytes")));
            default:
                throw new UsageException("unknown mode: " + mode);
        }
    }

    private static String take(final List<String> args, final String name) throws UsageException
    {
        final int at = args.indexOf(name);
        if (at < 0 || at + 1 >= args.size())
        {
            throw new UsageException("missing " + name);
        }
        final String value = args.get(at + 1);
        args.remove(at + 1);
        args.remove(at);
        return value;
    }

    private static List<Integer> ports(final String list)
    {
        final List<Integer> ports = new ArrayList<>();
        for (final String port : list.split(","))
        {
            ports.add(Integer.parseInt(port));
        }
        return ports;
    }

    private static List<String> with(final List<String> args, final String... more)
    {
        final List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all;
    }

    // ------------------------------------------------------------------------------------------ the two systems

    /** One system, started on a directory, with the client connector the load generator uses. */
    private interface Running extends AutoCloseable
    {
        SaveClient.Connector connector();

        void takeSnapshot() throws InterruptedException;

        /** The saves the load generator had acknowledged when it ended, warm-up included. */
        default void acknowledged(final long saves)
        {
        }

        void close();
    }

    private static String aeronDirectory(final String system)
    {
        final File shm = new File("/dev/shm");
        return new File(shm.isDirectory() ? shm : new File(System.getProperty("java.io.tmpdir")),
            "reprise-bench-" + system + "-" + ProcessHandle.current().pid() + "-" +
            Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16)).getAbsolutePath();
    }

    /**
     * Starts the system on {@code dataDirectory}. {@code fresh}: the directory is new; {@code snapshotsOnRequest}:
     * Reprise takes no snapshot by its own triggers (Aeron Cluster never does).
     */
    private Running start(final Path dataDirectory, final boolean fresh, final boolean snapshotsOnRequest)
        throws IOException
    {
        if (members > 1)
        {
            return startCluster(dataDirectory);
        }
        final String aeronDirectory = aeronDirectory(system);
        final long startNs = System.nanoTime();
        if (REPRISE.equals(system))
        {
            final AtomicLong snapshots = new AtomicLong();
            final NodeContext nodeContext = new NodeContext()
                .dataDirectory(dataDirectory)
                .journalSkipFsync(!fsync)
                .lifecycleListener((step) ->
                {
                    if (step.startsWith("snapshot-taken"))
                    {
                        snapshots.incrementAndGet();
                    }
                    if (step.startsWith("snapshot-") || step.startsWith("journal-") || step.startsWith("catalog-read") ||
                        step.startsWith("flow-started") || step.equals("started"))
                    {
                        out.println("side: reprise node: +" + (System.nanoTime() - startNs) / 1_000_000 + " ms " + step);
                    }
                });
            if (snapshotsOnRequest)
            {
                nodeContext.snapshotEveryOperators(Long.MAX_VALUE).snapshotEveryLogBytes(Long.MAX_VALUE)
                    .snapshotEveryMs(Long.MAX_VALUE / 4);
            }
            final TransportContext transport = new TransportContext()
                .aeronDirectoryName(aeronDirectory)
                .embeddedDriver(true)
                .ingressUdpChannel(null)
                .tokens(TENANT + "=" + TOKEN);
            final RepriseNode node = RepriseNode.start(nodeContext, transport);
            out.println("side: reprise node: transport idle " + transport.idleStrategyName() + ", ring wait " +
                System.getProperty(NodeContext.WAIT_STRATEGY_PROP_NAME, NodeContext.WAIT_STRATEGY_DEFAULT) +
                ", journal fsync " + (fsync ? "on every commit" : "skipped") + ", ingress " +
                transport.ingressIpcChannel() + ", responses " + ClientContext.IPC_RESPONSE_CHANNEL);
            final Aeron aeron = ClientContext.connectAeron(aeronDirectory);
            return new Running()
            {
                public SaveClient.Connector connector()
                {
                    return SaveClient.reprise(new ClientContext()
                        .aeron(aeron)
                        .ingressChannel(transport.ingressIpcChannel())
                        .tenant(TENANT)
                        .token(TOKEN)
                        .connectTimeoutMs(30_000));
                }

                public void takeSnapshot() throws InterruptedException
                {
                    final long before = snapshots.get();
                    node.node().snapshotAgent().requestSnapshot();
                    final long deadlineNs = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
                    while (snapshots.get() == before && System.nanoTime() < deadlineNs)
                    {
                        Thread.sleep(1);
                    }
                }

                public void close()
                {
                    out.println("side: reprise snapshots taken " + snapshots.get());
                    CloseHelper.closeAll(aeron, node);
                }
            };
        }

        final SessionService service = new SessionService(new BusinessRules().conclude());
        this.service = service;
        final AeronClusterMember member = AeronClusterMember.launch(dataDirectory, aeronDirectory, fsync, fresh, service);
        out.println("side: aeron-cluster member: " + member.describe());
        final Aeron aeron = ClientContext.connectAeron(aeronDirectory);
        return new Running()
        {
            public SaveClient.Connector connector()
            {
                return ClusterSaveClient.connector(aeron, TENANT, 10_000);
            }

            public void takeSnapshot()
            {
                member.takeSnapshot(TIMEOUT_MS);
            }

            public void close()
            {
                CloseHelper.closeAll(aeron, member);
                out.println("side: aeron-cluster service: responses dropped " + service.responsesDropped() +
                    (service.responsesDropped() > 0 ? " (last offer result " + service.lastRefusal() + ")" : ""));
            }
        };
    }

    /**
     * Starts {@link #members} members, each in a JVM of its own ({@link MemberProcesses}) on a directory under
     * {@code dataDirectory}, and a media driver in this process for the load generator's client, which reaches them
     * over loopback UDP. The client connects once a leader takes it (a Reprise client given every member's ingress
     * finds the leader itself); then the members start counting their CPU.
     */
    private Running startCluster(final Path dataDirectory) throws IOException
    {
        final int portsPerMember = AERON_CLUSTER.equals(system) ? AeronClusterMember.PORTS_PER_MEMBER :
            REPRISE_PORTS_PER_MEMBER;
        final List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < members * portsPerMember; i++)
        {
            ports.add(AeronClusterMember.freeUdpPort());
        }
        final List<List<String>> arguments = new ArrayList<>();
        for (int id = 0; id < members; id++)
        {
            arguments.add(List.of("--system", system, "--fsync", fsync ? "on" : "off", "--member-id",
                Integer.toString(id), "--ports", ports.stream().map(String::valueOf).collect(Collectors.joining(",")),
                "--data-dir", dataDirectory.resolve("member-" + id).toString(), "--aeron-dir",
                aeronDirectory(system + "-member-" + id)));
        }
        final MemberProcesses processes = MemberProcesses.start(arguments, MEMBERS_READY_TIMEOUT_MS, out);
        final String aeronDirectory = aeronDirectory(system + "-client");
        MediaDriver driver = null;
        Aeron aeron = null;
        try
        {
            driver = MediaDriver.launch(AeronClusterMember.driverContext(aeronDirectory));
            aeron = ClientContext.connectAeron(aeronDirectory);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(aeron, driver, processes);
            throw ex;
        }
        final SaveClient.Connector connector = AERON_CLUSTER.equals(system) ?
            ClusterSaveClient.udpConnector(aeron, TENANT, 10_000, AeronClusterMember.ingressEndpoints(ports)) :
            SaveClient.reprise(new ClientContext()
                .aeron(aeron)
                .ingressEndpoints(String.join(",", repriseEndpoints(ports, REPRISE_INGRESS_PORT)))
                .responseChannel(ClientContext.UDP_RESPONSE_CHANNEL)
                .tenant(TENANT)
                .token(TOKEN)
                .connectTimeoutMs(30_000));
        out.println("side: " + system + ": " + members + " members, a JVM each; the client's own media driver " +
            driver.context().threadingMode() + ", over loopback UDP");
        final MediaDriver clientDriver = driver;
        final Aeron clientAeron = aeron;
        return new Running()
        {
            public SaveClient.Connector connector()
            {
                return (listener) ->
                {
                    final long deadlineNs = System.nanoTime() + MEMBERS_READY_TIMEOUT_MS * 1_000_000L;
                    while (true)
                    {
                        try
                        {
                            final SaveClient client = connector.connect(listener);
                            processes.measure();
                            return client;
                        }
                        catch (final TimeoutException | ConnectException ex)
                        {
                            // No leader yet, or it changed: the members are still electing one.
                            if (System.nanoTime() > deadlineNs || !processes.allAlive())
                            {
                                throw ex;
                            }
                        }
                    }
                };
            }

            public void takeSnapshot()
            {
                // Only a fill takes one, and reprise bench refuses --recovery-saves with more than one member.
                throw new IllegalStateException("a fill (--recovery-saves) runs with --members 1 only");
            }

            public void acknowledged(final long saves)
            {
                processes.acknowledged(saves);
            }

            public void close()
            {
                CloseHelper.closeAll(clientAeron, clientDriver, processes);
            }
        };
    }

    /** Each Reprise member's {@code localhost:PORT} of one kind, in member order, from the ports of all members. */
    private static List<String> repriseEndpoints(final List<Integer> ports, final int kind)
    {
        final List<String> endpoints = new ArrayList<>();
        for (int id = 0; id < ports.size() / REPRISE_PORTS_PER_MEMBER; id++)
        {
            endpoints.add("localhost:" + ports.get(id * REPRISE_PORTS_PER_MEMBER + kind));
        }
        return endpoints;
    }

    private AutoCloseable startMember(
        final int memberId, final List<Integer> ports, final Path dataDirectory, final String aeronDirectory)
        throws IOException
    {
        if (AERON_CLUSTER.equals(system))
        {
            final SessionService service = new SessionService(new BusinessRules().conclude());
            final AeronClusterMember member = AeronClusterMember.launchMember(dataDirectory, aeronDirectory, fsync,
                service, memberId, ports);
            out.println("side: aeron-cluster " + member.describe());
            return member;
        }
        final List<String> replicas = repriseEndpoints(ports, REPRISE_REPLICA_PORT);
        final NodeContext nodeContext = new NodeContext()
            .dataDirectory(dataDirectory)
            .journalSkipFsync(!fsync);
        final TransportContext transport = new TransportContext()
            .aeronDirectoryName(aeronDirectory)
            .embeddedDriver(true)
            .tokens(TENANT + "=" + TOKEN)
            .clusterMemberId(memberId)
            .replicaEndpoints(String.join(",", replicas))
            .clusterIngressEndpoints(String.join(",", repriseEndpoints(ports, REPRISE_INGRESS_PORT)));
        // Aeron Cluster's failure detection: a follower that hears nothing from its leader for its leader heartbeat
        // timeout (10 s by default) starts an election; the leader's heartbeats every 200 ms. On 2 shared cores
        // Reprise's own defaults (400 and 50 ms) elected anew under load, and so did 2 s.
        if (null == System.getProperty(TransportContext.ELECTION_TIMEOUT_MS_PROP_NAME))
        {
            transport.electionTimeoutMs(ConsensusModule.Configuration.leaderHeartbeatTimeoutNs() / 1_000_000);
        }
        if (null == System.getProperty(TransportContext.HEARTBEAT_INTERVAL_MS_PROP_NAME))
        {
            transport.heartbeatIntervalMs(ConsensusModule.Configuration.leaderHeartbeatIntervalNs() / 1_000_000);
        }
        final RepriseNode node = RepriseNode.start(nodeContext, transport);
        out.println("side: reprise member " + memberId + " of " + replicas.size() + ", replica endpoints " +
            transport.replicaEndpoints() + ", ingress " + transport.ingressUdpChannel() + ", election timeout " +
            transport.electionTimeoutMs() + " ms, heartbeat " + transport.heartbeatIntervalMs() + " ms, transport " +
            "idle " + transport.idleStrategyName() + ", journal fsync " + (fsync ? "on every commit" : "skipped"));
        return node;
    }

    // ------------------------------------------------------------------------------------------ modes

    private int load(final LoadOptions options) throws IOException
    {
        final Path dataDirectory = Files.createTempDirectory("reprise-bench-" + system + "-");
        out.println("side: " + system + " fsync=" + (fsync ? "on" : "off") + " data " + dataDirectory +
            " (deleted after)");
        out.println("side: load: " + options.describe());
        final LoadRun.Result result;
        final ThreadCpu cpu = new ThreadCpu();
        try (Running running = start(dataDirectory, true, false))
        {
            cpu.start();
            result = new LoadRun(options, running.connector()).run();
            cpu.stop();
            running.acknowledged(result.acked());
        }
        finally
        {
            IoUtil.delete(dataDirectory.toFile(), true);
        }
        LoadCommand.report(options, result, out, null);
        cpu.report(out, system, result.acked());
        return result.errors() == 0 ? 0 : 1;
    }

    /**
     * One member of a cluster: starts it on a new {@code dataDirectory}, says {@value MemberProcesses#READY}, and
     * runs until its standard input ends; then prints the CPU it used from the client's connection on (its input
     * says when), per save the load generator had acknowledged (as its input said last). A Reprise member that must restart from its disk (a new leader
     * overrode entries in its ring) is restarted in this process, as {@code reprise node} does; a member that failed
     * otherwise ends the process with status 1.
     */
    private int member(
        final int memberId, final List<Integer> ports, final Path dataDirectory, final String aeronDirectory)
        throws Exception
    {
        Files.createDirectories(dataDirectory);
        final AtomicLong saves = new AtomicLong();
        final CountDownLatch measure = new CountDownLatch(1);
        final CountDownLatch inputEnded = new CountDownLatch(1);
        final Thread input = new Thread(() ->
        {
            try
            {
                final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while (null != (line = in.readLine()))
                {
                    if (line.equals(MemberProcesses.MEASURE))
                    {
                        measure.countDown();
                    }
                    else if (line.startsWith(MemberProcesses.ACKNOWLEDGED))
                    {
                        saves.set(Long.parseLong(line.substring(MemberProcesses.ACKNOWLEDGED.length())));
                    }
                }
            }
            catch (final IOException ex)
            {
                out.println("side: member input: " + ex);
            }
            inputEnded.countDown();
        }, "reprise-bench-member-input");
        input.setDaemon(true);

        final ThreadCpu cpu = new ThreadCpu();
        AutoCloseable member = startMember(memberId, ports, dataDirectory, aeronDirectory);
        try
        {
            out.println(MemberProcesses.READY);
            out.flush();
            input.start();
            boolean measuring = false;
            while (!inputEnded.await(MEMBER_CHECK_MS, TimeUnit.MILLISECONDS))
            {
                if (!measuring && measure.getCount() == 0)
                {
                    cpu.start();
                    measuring = true;
                }
                final Throwable fatal =
                    member instanceof RepriseNode ? ((RepriseNode)member).node().fatalError() : null;
                if (fatal instanceof RestartRequired)
                {
                    out.println("side: reprise member " + memberId + " restarts: " + fatal.getMessage());
                    final AutoCloseable stopped = member;
                    member = null;
                    stopped.close();
                    member = startMember(memberId, ports, dataDirectory, aeronDirectory);
                }
                else if (null != fatal)
                {
                    out.println("side: reprise member " + memberId + " failed: " + fatal);
                    return 1;
                }
            }
            if (measuring)
            {
                cpu.stop();
                cpu.report(out, system + "-member-" + memberId, saves.get());
            }
            return 0;
        }
        finally
        {
            if (null != member)
            {
                member.close();
            }
        }
    }

    private int fill(final Path dataDirectory, final long saves, final int payloadBytes) throws Exception
    {
        Files.createDirectories(dataDirectory);
        final long startNs = System.nanoTime();
        try (Running running = start(dataDirectory, true, true))
        {
            final Saver saver = new Saver(running.connector(), payloadBytes);
            try
            {
                saver.saveAndAwait(saves / 2);
                final long snapshotStartNs = System.nanoTime();
                running.takeSnapshot();
                out.printf("fill: %s snapshot after %,d saves took %,d ms%n", system, saves / 2,
                    (System.nanoTime() - snapshotStartNs) / 1_000_000);
                saver.saveAndAwait(saves - saves / 2);
            }
            finally
            {
                saver.client.close();
            }
            if (saver.failures > 0)
            {
                out.println("fill: " + saver.failures + " saves failed");
                return 1;
            }
        }
        out.printf("fill: system=%s saves=%d seconds=%.1f%n", system, saves, (System.nanoTime() - startNs) / 1e9);
        return 0;
    }

    private int restart(final Path dataDirectory, final int payloadBytes) throws Exception
    {
        final long startNs = System.nanoTime();
        try (Running running = start(dataDirectory, false, true))
        {
            final long startedNs = System.nanoTime();
            final long deadlineNs = startNs + TIMEOUT_MS * 1_000_000L;
            Saver saver = null;
            while (null == saver)
            {
                try
                {
                    saver = new Saver(running.connector(), payloadBytes);
                }
                catch (final TimeoutException ex)
                {
                    // Aeron Cluster takes clients only once it has replayed its log and elected itself leader.
                    if (System.nanoTime() > deadlineNs)
                    {
                        throw ex;
                    }
                }
            }
            try
            {
                saver.saveAndAwait(1);
            }
            finally
            {
                saver.client.close();
            }
            final long ackedNs = System.nanoTime();
            if (null != service)
            {
                out.printf("side: aeron-cluster service: snapshot restored at index %,d, applied %,d%n",
                    service.restoredIndex(), service.appliedIndex());
            }
            out.printf("restart: system=%s recovery_ms=%d start_returned_ms=%d failures=%d%n", system,
                (ackedNs - startNs) / 1_000_000, (startedNs - startNs) / 1_000_000, saver.failures);
            return saver.failures == 0 ? 0 : 1;
        }
    }

    /** Saves as fast as a window of unanswered saves allows, until a count is acknowledged. */
    private static final class Saver implements RepriseClient.Listener
    {
        private final SaveClient client;
        private final SessionPolicy policy = new SessionPolicy().initialDelayMs(3_600_000).maxAttempts(10);
        private final UnsafeBuffer payload;
        private final int payloadBytes;
        // As the load generator's own threads wait: spin a little, then park 1 to 50 us (2 cores shared with the node).
        private final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1_000, 50_000);
        private long nextSessionId = ThreadLocalRandom.current().nextLong(1, 1L << 62);
        private long outstanding;
        private long acked;
        private long failures;

        Saver(final SaveClient.Connector connector, final int payloadBytes)
        {
            this.payloadBytes = payloadBytes;
            payload = new UnsafeBuffer(new byte[payloadBytes]);
            for (int i = 0; i < payloadBytes; i++)
            {
                payload.putByte(i, (byte)('a' + i % 26));
            }
            client = connector.connect(this);
        }

        void saveAndAwait(final long count)
        {
            final long target = acked + count;
            long toSend = count;
            final long deadlineNs = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
            while (acked < target)
            {
                int work = client.poll();
                while (toSend > 0 && outstanding < FILL_WINDOW)
                {
                    final long correlationId =
                        client.save(nextSessionId, 1, policy, payload, 0, payloadBytes);
                    if (correlationId < 0)
                    {
                        break;
                    }
                    nextSessionId++;
                    outstanding++;
                    toSend--;
                    work++;
                }
                if (0 == work)
                {
                    if (System.nanoTime() > deadlineNs)
                    {
                        throw new IllegalStateException("saves unanswered: " + outstanding);
                    }
                    idle.idle();
                }
                else
                {
                    idle.reset();
                }
            }
        }

        public void onResponse(
            final long correlationId, final int operatorTemplateId, final ResultCode code, final long value)
        {
            outstanding--;
            acked++;
            if (code != ResultCode.OK)
            {
                failures++;
            }
        }
    }
}
