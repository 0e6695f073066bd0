package io.reprise.tools.cluster;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.Reprise;
import io.reprise.tools.cli.ExitCode;
import io.reprise.transport.NodeCounters;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three members, each {@code reprise node} in a process of its own on loopback, started by {@link LocalCluster}:
 * they elect one leader that a majority follows; {@code reprise cluster status} shows it; {@code cluster
 * transfer-leadership} moves it to the member named; {@code cluster snapshot} makes every member take one more
 * snapshot; SIGTERM stops each member cleanly (exit 0) and its media driver's directory goes with it. A client
 * that connects while no member leads is held, not turned away, and is taken by the member elected (or sent to it).
 */
class LocalClusterProcessTest
{
    /** Clear of the default (20110): a cluster someone runs on this machine does not fail the test. */
    private static final int BASE_PORT = 23110;
    /** Three JVMs starting on a loaded 2-core machine took 20 s and more; the test as a whole stays under 60 s. */
    private static final long START_MS = 30_000;
    private static final long WAIT_MS = 8_000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldElectTransferSnapshotAndStopCleanly() throws Exception
    {
        final ClusterLayout layout = ClusterLayout.of(dir.resolve("cluster"), 3, BASE_PORT);
        final LocalCluster cluster = new LocalCluster(layout, List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx512m",
            "-cp", System.getProperty("java.class.path"), Reprise.class.getName()));
        final String data = layout.dir().toString();
        boolean passed = false;
        try
        {
            assertEquals(List.of(), cluster.takenPorts(), "the test's ports");
            cluster.startAll();
            final int leader = cluster.awaitAllFollowing(START_MS);
            final List<MemberStatus> statuses = cluster.statuses();
            for (final MemberStatus status : statuses)
            {
                assertTrue(status.alive() && status.running(), status.line());
                assertEquals(leader, status.leader(), status.line());
                assertEquals(statuses.get(leader).term(), status.term(), status.line());
                assertEquals(status.member() == leader, status.leads(), status.line());
            }
            // What a failure report shows of a stuck member: its consensus thread among its threads.
            assertTrue(cluster.threadDump(leader).contains("\"reprise-consensus"), cluster.threadDump(leader));

            final NodeFixture.Run status = reprise("cluster", "status", "--data-dir", data);
            assertEquals(ExitCode.OK, status.exit(), status.toString());
            assertTrue(status.out().endsWith("leader: member " + leader + " (term " + statuses.get(leader).term() +
                ")\n"), status.toString());
            for (int m = 0; m < 3; m++)
            {
                assertTrue(status.out().contains("member " + m + "  alive  pid " + cluster.pid(m) + "  " +
                    (m == leader ? "leader  " : "follower")), status.toString());
            }

            final int target = (leader + 1) % 3;
            final NodeFixture.Run transfer = reprise("cluster", "transfer-leadership", Integer.toString(target),
                "--data-dir", data, "--timeout-ms", Long.toString(WAIT_MS));
            assertEquals(ExitCode.OK, transfer.exit(), transfer.toString());
            assertTrue(transfer.out().startsWith("member " + target + " leads (term "), transfer.toString());
            assertEquals(target, cluster.awaitAllFollowing(WAIT_MS));
            assertTrue(cluster.status(target).term() > statuses.get(leader).term(), "a transfer starts a new term");
            assertEquals(0, cluster.status(leader).controlRequest(), "the old leader took the request");

            final long[] before = new long[3];
            for (int m = 0; m < 3; m++)
            {
                before[m] = cluster.status(m).snapshotsTaken();
            }
            final NodeFixture.Run snapshot = reprise("cluster", "snapshot", "--data-dir", data, "--timeout-ms",
                Long.toString(WAIT_MS));
            assertEquals(ExitCode.OK, snapshot.exit(), snapshot.toString());
            for (int m = 0; m < 3; m++)
            {
                final MemberStatus after = cluster.status(m);
                assertTrue(after.snapshotsTaken() > before[m], before[m] + " then " + after.line());
                assertEquals(0, after.controlRequest(), after.line());
                assertTrue(snapshot.out().contains("member " + m + ": snapshot taken"), snapshot.toString());
                assertTrue(Files.list(layout.dataDir(m).resolve("snapshots")).anyMatch(
                    (f) -> f.toString().endsWith(".snapshot")), "member " + m + "'s snapshot file");
            }

            for (final LocalCluster.MemberStop stop : cluster.stopAll(WAIT_MS))
            {
                assertTrue(stop.clean(), stop.toString());
                assertEquals("stopped cleanly", stop.detail());
                assertEquals(0, cluster.exitStatus(stop.member()));
                assertFalse(Files.exists(Path.of(layout.aeronDir(stop.member()))), "the driver's directory is gone");
            }
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                for (int m = 0; m < 3; m++)
                {
                    System.err.println("member " + m + ": " + cluster.status(m).line() + "\n" + cluster.logTail(m));
                }
            }
            cluster.close();
        }
    }

    /**
     * One member up, so no leader: it holds the client's Connect unanswered (no NotLeader naming none, no Connect
     * asked again) until the others start and a leader is elected; then the client is connected to the leader, in the
     * same connect call.
     */
    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void shouldHoldAConnectWhileNoMemberLeadsAndConnectItOnceOneIs() throws Exception
    {
        final ClusterLayout layout = ClusterLayout.of(dir.resolve("cluster"), 3, BASE_PORT + 20);
        final LocalCluster cluster = new LocalCluster(layout, LocalCluster.launcherOfThisJvm());
        final MediaDriver driver = MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir.resolve("client-aeron").toString())
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true));
        final StringBuilder endpoints = new StringBuilder();
        for (int m = 0; m < 3; m++)
        {
            endpoints.append(m == 0 ? "" : ",").append("localhost:").append(layout.ingressPort(m));
        }
        final ClientContext context = new ClientContext().aeronDirectoryName(driver.aeronDirectoryName())
            .ingressEndpoints(endpoints.toString()).token("reprise-dev-token").tenant(1)
            .responseChannel(ClientContext.UDP_RESPONSE_CHANNEL).connectTimeoutMs(60_000);
        CompletableFuture<RepriseClient> connecting = null;
        boolean passed = false;
        try
        {
            assertEquals(List.of(), cluster.takenPorts(), "the test's ports");
            cluster.start(0);
            final long startDeadlineNs = System.nanoTime() + START_MS * 1_000_000L;
            while (!cluster.status(0).running())
            {
                assertTrue(System.nanoTime() < startDeadlineNs, "member 0 did not start");
                LockSupport.parkNanos(10_000_000L);
            }
            connecting = CompletableFuture.supplyAsync(() -> RepriseClient.connect(context, (c, t, r, v) -> { }));
            awaitCounter(layout, 0, NodeCounters.INGRESS_FRAMES, WAIT_MS);
            // Ten times the client's wait before asking a member again that answered NotLeader.
            LockSupport.parkNanos(500_000_000L);
            final long[] held = MemberCounters.read(layout.aeronDir(0));
            assertEquals(1, held[NodeCounters.INGRESS_FRAMES], "asked once");
            assertEquals(0, held[NodeCounters.INGRESS_REFUSED], "held, not answered");
            assertFalse(connecting.isDone(), "no member leads yet");

            cluster.start(1);
            cluster.start(2);
            final int leader = cluster.awaitAllFollowing(START_MS);
            try (RepriseClient client = connecting.get(WAIT_MS, TimeUnit.MILLISECONDS))
            {
                final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
                assertEquals(ResultCode.OK, client.saveAndAwait(1, 1, new SessionPolicy().initialDelayMs(3_600_000),
                    payload, 0, payload.capacity()), "the save went to the leader, member " + leader);
                assertEquals(0, client.reconnects(), "in the connect call that was held");
            }
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                for (int m = 0; m < 3; m++)
                {
                    System.err.println("member " + m + ": " + cluster.status(m).line() + "\n" + cluster.logTail(m));
                }
            }
            if (null != connecting)
            {
                connecting.cancel(true);
            }
            cluster.close();
            CloseHelper.close(driver);
        }
    }

    private static void awaitCounter(final ClusterLayout layout, final int member, final int counter,
        final long timeoutMs)
    {
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true)
        {
            final long[] counters = MemberCounters.read(layout.aeronDir(member));
            if (null != counters && counters[counter] > 0 && counters[counter] != MemberCounters.ABSENT)
            {
                return;
            }
            assertTrue(System.nanoTime() < deadlineNs, "member " + member + "'s counter " + counter);
            LockSupport.parkNanos(10_000_000L);
        }
    }
}
