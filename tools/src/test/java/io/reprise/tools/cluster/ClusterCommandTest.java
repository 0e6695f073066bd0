package io.reprise.tools.cluster;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reprise cluster} and its verbs on what they cannot act on: every bad argument is a usage error that names
 * it and starts nothing; a DIR with no cluster, a cluster whose members do not run, a port another socket holds
 * and a cluster that runs already are failures (exit 1) that say so. None of these starts a member.
 */
class ClusterCommandTest
{
    @TempDir
    Path dir;

    @Test
    void shouldRefuseBadArgumentsNamingThem() throws IOException
    {
        final String data = dir.resolve("c").toString();
        assertUsage("reprise cluster: --nodes must be 3 or 5: 4", "cluster", "--nodes", "4", "--data-dir", data);
        assertUsage("reprise cluster: --nodes is not a number: 'three'", "cluster", "--nodes", "three");
        assertUsage("reprise cluster: --base-port must be 1024..65523: 80", "cluster", "--base-port", "80",
            "--data-dir", data);
        assertUsage("reprise cluster: unknown verb 'cluster start': cluster takes status, transfer-leadership, " +
            "snapshot, or the options below", "cluster", "start");
        assertUsage("reprise cluster: unknown option '--members' (it takes ", "cluster", "--members", "3");
        assertUsage("reprise cluster status: unexpected argument 'x'", "cluster", "status", "x");
        assertUsage("reprise cluster transfer-leadership: missing MEMBER", "cluster", "transfer-leadership");
        assertUsage("reprise cluster transfer-leadership: MEMBER must be 0..8: -1", "cluster", "transfer-leadership",
            "-1");
        assertUsage("reprise cluster snapshot: --timeout-ms must be 1..3600000: 0", "cluster", "snapshot",
            "--timeout-ms", "0");

        final Path file = Files.writeString(dir.resolve("file"), "x");
        assertUsage("reprise cluster: --data-dir: " + file + " is a file, not a directory", "cluster", "--data-dir",
            file.toString());
        Files.createDirectories(dir.resolve("busy/journal"));
        assertUsage("reprise cluster: --data-dir: " + dir.resolve("busy") + " holds no cluster.properties and is " +
            "not empty: give a new or empty directory for a new cluster", "cluster", "--data-dir",
            dir.resolve("busy").toString());
        assertFalse(Files.exists(dir.resolve("c")), "nothing was made");
    }

    @Test
    void shouldKeepTheLayoutOfTheClusterInDir() throws IOException
    {
        ClusterLayout.of(dir, 3, 21000).writeLayout(new long[3]);
        assertUsage("reprise cluster: --nodes 5: the cluster in " + dir + " has 3 members (cluster.properties); " +
            "give another --data-dir for a new cluster", "cluster", "--nodes", "5", "--data-dir", dir.toString());
        assertUsage("reprise cluster: --base-port 22000: the cluster in " + dir + " has base port 21000 " +
            "(cluster.properties); give another --data-dir for a new cluster", "cluster", "--base-port", "22000",
            "--data-dir", dir.toString());
        assertUsage("reprise cluster transfer-leadership: MEMBER must be 0..2 (the cluster in " + dir + " has 3 " +
            "members): 3", "cluster", "transfer-leadership", "3", "--data-dir", dir.toString());
    }

    @Test
    void shouldSayThereIsNoClusterOrThatItsMembersDoNotRun() throws IOException
    {
        final NodeFixture.Run none = reprise("cluster", "status", "--data-dir", dir.toString());
        assertEquals(ExitCode.FAILED, none.exit(), none.toString());
        assertEquals("reprise cluster: no cluster in " + dir + " (no " + dir.resolve("cluster.properties") + "); " +
            "reprise cluster --data-dir DIR starts one\n", none.err());

        // Member 1's pid is this JVM's: alive, but not member 1 (its arguments do not name member 1's file).
        ClusterLayout.of(dir, 3, 21000).writeLayout(new long[] {-1, ProcessHandle.current().pid(), -1});
        final NodeFixture.Run status = reprise("cluster", "status", "--data-dir", dir.toString());
        assertEquals(ExitCode.OK, status.exit(), status.toString());
        assertEquals("member 0  down\nmember 1  down\nmember 2  down\nno leader\n", status.out());

        final NodeFixture.Run snapshot = reprise("cluster", "snapshot", "--data-dir", dir.toString());
        assertEquals(ExitCode.FAILED, snapshot.exit(), snapshot.toString());
        assertTrue(snapshot.err().startsWith("reprise cluster snapshot: no member runs:\n  member 0  down"),
            snapshot.toString());

        final NodeFixture.Run transfer = reprise("cluster", "transfer-leadership", "1", "--data-dir", dir.toString(),
            "--timeout-ms", "200");
        assertEquals(ExitCode.FAILED, transfer.exit(), transfer.toString());
        assertTrue(transfer.err().startsWith("reprise cluster transfer-leadership: no leader within 200 ms:\n" +
            "  member 0  down"), transfer.toString());
    }

    @Test
    void shouldStartNothingWhenAPortIsTaken() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(ClusterLayout.HOST, 0)))
        {
            final int port = socket.getLocalPort();
            final Path data = dir.resolve("c");
            final NodeFixture.Run run = reprise("cluster", "--data-dir", data.toString(), "--base-port",
                Integer.toString(port - ClusterLayout.INGRESS_PORT_OFFSET));
            assertEquals(ExitCode.FAILED, run.exit(), run.toString());
            assertTrue(run.err().startsWith("reprise cluster: UDP port " + port + " (ingress endpoint of member 0) " +
                "is taken: "), run.toString());
            assertTrue(run.err().endsWith("nothing started; choose another --base-port\n"), run.toString());
            assertFalse(Files.exists(data), "nothing was made");
        }
    }

    @Test
    void shouldRefuseToStartAClusterThatRunsAlready() throws Exception
    {
        final ClusterLayout layout = ClusterLayout.of(dir, 3, 21000);
        // A process whose arguments name member 2's configuration file, as a running member's do (two commands:
        // bash does not exec into sleep).
        final Process member2 =
            new ProcessBuilder("bash", "-c", "sleep 60; exit 0", layout.configFile(2).toString()).start();
        try
        {
            layout.writeLayout(new long[] {-1, -1, member2.pid()});
            final NodeFixture.Run run = reprise("cluster", "--data-dir", dir.toString());
            assertEquals(ExitCode.FAILED, run.exit(), run.toString());
            assertEquals("reprise cluster: member 2 of the cluster in " + dir + " runs already (pid " + member2.pid() +
                "): stop that cluster first (SIGTERM or Ctrl-C to its reprise cluster, or SIGTERM to each member)\n",
                run.err());

            final NodeFixture.Run status = reprise("cluster", "status", "--data-dir", dir.toString());
            assertTrue(status.out().contains("\nmember 2  alive  pid " + member2.pid() +
                "  counters not readable yet (starting or stopping)\n"), status.toString());
        }
        finally
        {
            member2.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void assertUsage(final String expectedStart, final String... args)
    {
        final NodeFixture.Run run = reprise(args);
        assertEquals(ExitCode.USAGE, run.exit(), run.toString());
        assertTrue(run.err().startsWith(expectedStart), "expected '" + expectedStart + "' in:\n" + run);
        assertTrue(run.err().contains("\nusage: reprise cluster"), run.toString());
        assertEquals("", run.out());
    }
}
