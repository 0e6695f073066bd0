package io.reprise.tools.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.client.ClientContext;
import io.reprise.tools.cluster.ClusterException;
import io.reprise.tools.cluster.ClusterLayout;
import io.reprise.tools.cluster.KillCampaign;
import io.reprise.tools.cluster.LocalCluster;
import io.reprise.tools.cluster.MemberCounters;
import io.reprise.tools.cluster.MemberState;
import io.reprise.tools.cluster.MemberStatus;
import io.reprise.transport.NodeCounters;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * {@code reprise demo}: a three-member cluster on loopback, one process per member, and the population of the
 * standalone demo ({@link AeronDemo}): controllers of two tenants, workers that succeed, retry, fail for good and
 * die, all in this process, over UDP through a media driver of its own, following the leader. Half-way through the
 * saves the leader is SIGKILLed; a new leader takes over, the killed member is started again and catches up. When
 * everything that can finish has, the cluster stops, and every saved session is looked up in the state the members'
 * data directories hold (rebuilt as {@code reprise log replay} does), at the index every member reaches: the members
 * must agree there, and {@code lost} counts the saved sessions that are nowhere.
 */
final class ClusterDemo
{
    static final int MEMBERS = 3;
    private static final long LEADER_WAIT_MS = 30_000;

    private ClusterDemo()
    {
    }

    /** Runs the demo; {@code dataDirectory} null means a temporary one, deleted after. */
    static boolean run(final int sessions, final Path dataDirectory, final PrintStream out)
        throws IOException, ClusterException
    {
        final long startNs = System.nanoTime();
        final Path dir = null == dataDirectory ? Files.createTempDirectory("reprise-demo") : dataDirectory;
        final ClusterLayout layout = ClusterLayout.of(dir, MEMBERS, ClusterLayout.BASE_PORT_DEFAULT)
            .withSettings(Map.of("reprise.auth.tokens", AeronDemo.tokens()));
        final String clientAeronDir = AeronDemo.aeronDirectory();
        out.println("reprise demo: a cluster of " + MEMBERS + " members on loopback, one process each, data in " +
            dir + (null == dataDirectory ? " (temporary)" : "") + "; clients over UDP (media driver in " +
            clientAeronDir + ")");
        out.println("  " + sessions + " sessions from 2 controllers (tenants 1 and 2) to 6 destinations; workers " +
            "succeed, retry (destinations 2, 3, 5, 6), fail for good (destination 4), and one dies holding " +
            "attempts; the leader is killed half-way through the saves");
        final LocalCluster cluster = new LocalCluster(layout, LocalCluster.launcherOfThisJvm());
        MediaDriver driver = null;
        try
        {
            cluster.startAll();
            final int first = cluster.awaitLeader(LEADER_WAIT_MS);
            out.println("  member " + first + " leads term " + cluster.status(first).term());
            driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(clientAeronDir)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(10, 20, 1_000, 1_000_000))
                .termBufferSparseFile(true)
                // A client of a cluster learns that its member died when its ingress publication loses the member's
            // status messages (every 200 ms): after 1 s here, not Aeron's default 5 s (docs/client.md).
            .publicationConnectionTimeoutNs(ClientContext.CLUSTER_PUBLICATION_CONNECTION_TIMEOUT_NS)
            .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
            final String endpoints = KillCampaign.endpoints(layout);
            final AeronDemo.Plan plan =
                new AeronDemo.Plan(sessions, ThreadLocalRandom.current().nextLong(1, 1L << 40) << 22);
            final AeronDemo.Run run = new AeronDemo.Run(plan, () -> new ClientContext()
                .aeronDirectoryName(clientAeronDir).ingressEndpoints(endpoints)
                .responseChannel(ClientContext.UDP_RESPONSE_CHANNEL)
                .connectTimeoutMs(ClientContext.CLUSTER_CONNECT_TIMEOUT_MS));
            final Failover failover = new Failover(cluster, plan, sessions / 2);
            final Thread killer = new Thread(failover::run, "demo-failover");
            killer.setDaemon(true);
            killer.start();
            run.execute(new LeaderFigures(cluster), out);
            killer.join(LEADER_WAIT_MS);
            final List<String> problems = new java.util.ArrayList<>();
            final MemberState state = KillCampaign.stopAndRebuild(cluster, problems, out);
            final boolean consistent = AeronDemo.account(plan, run, state.logic().sessions(), out);
            out.printf("  took %.1f s%n", (System.nanoTime() - startNs) / 1e9);
            problems.forEach((problem) -> out.println("  PROBLEM: " + problem));
            out.println(null == failover.line ? "failover: did not happen: " + failover.problem : failover.line);
            out.println(plan.summaryLine());
            return consistent && problems.isEmpty() && null != failover.line;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted");
        }
        finally
        {
            cluster.close();
            CloseHelper.quietClose(driver);
            if (null == dataDirectory)
            {
                AeronDemo.deleteRecursively(dir);
            }
        }
    }

    /** The leader's figures, from its counters: exact once the member summed them with nothing applied since. */
    private static final class LeaderFigures implements AeronDemo.Watched
    {
        private final LocalCluster cluster;

        LeaderFigures(final LocalCluster cluster)
        {
            this.cluster = cluster;
        }

        public AeronDemo.Figures read()
        {
            final int leader = LocalCluster.leader(cluster.statuses());
            final long[] counters = leader < 0 ? null : MemberCounters.read(cluster.layout().aeronDir(leader));
            if (null == counters)
            {
                return null;
            }
            return new AeronDemo.Figures(
                counters[NodeCounters.PENDING] + counters[NodeCounters.READY] + counters[NodeCounters.IN_FLIGHT],
                counters[NodeCounters.DEAD],
                counters[NodeCounters.FIGURES_INDEX] == counters[NodeCounters.APPLIED_INDEX]);
        }

        public long pollMs()
        {
            return 600;
        }
    }

    /** Kills the leader once half the sessions are saved, restarts it, and words what happened. */
    private static final class Failover
    {
        private final LocalCluster cluster;
        private final AeronDemo.Plan plan;
        private final long savedBeforeKill;
        volatile String line;
        volatile String problem = "the saves did not reach half-way";

        Failover(final LocalCluster cluster, final AeronDemo.Plan plan, final long savedBeforeKill)
        {
            this.cluster = cluster;
            this.plan = plan;
            this.savedBeforeKill = savedBeforeKill;
        }

        void run()
        {
            try
            {
                while (plan.savedCount() < savedBeforeKill)
                {
                    LockSupport.parkNanos(10_000_000L);
                }
                final int killed = cluster.awaitLeader(LEADER_WAIT_MS);
                final MemberStatus before = cluster.status(killed);
                final long killNs = System.nanoTime();
                cluster.kill(killed);
                int leader;
                while ((leader = LocalCluster.leader(cluster.statuses())) < 0 || leader == killed)
                {
                    if (System.nanoTime() - killNs > LEADER_WAIT_MS * 1_000_000L)
                    {
                        problem = "no new leader within " + LEADER_WAIT_MS + " ms of killing member " + killed;
                        return;
                    }
                    LockSupport.parkNanos(1_000_000L);
                }
                final long tookMs = (System.nanoTime() - killNs) / 1_000_000;
                final long term = cluster.status(leader).term();
                final long logLines = cluster.logLines(killed);
                cluster.start(killed);
                if (KillCampaign.awaitCaughtUp(cluster, killed) < 0)
                {
                    problem = "member " + killed + " did not catch up after its restart: " + cluster.status(killed);
                    return;
                }
                final boolean installed = cluster.logSince(killed, logLines).contains("installed the snapshot");
                line = "failover: leader " + killed + " killed at index " + before.commitIndex() + "; member " +
                    leader + " leads term " + term + " after " + tookMs + " ms; member " + killed + " caught up by " +
                    (installed ? "install" : "log");
            }
            catch (final IOException | ClusterException ex)
            {
                problem = ex.toString();
            }
        }
    }
}
