package io.reprise.tools.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import io.reprise.engine.cluster.Consensus;
import io.reprise.tools.Reprise;
import io.reprise.transport.NodeCounters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a local cluster's members are told: each member's configuration file (its id, every member's replica and
 * ingress endpoint, its own data and Aeron directories), the layout file a later command reads back, the command
 * that starts a member, and how a leader is recognised from the members' counters.
 */
class ClusterLayoutTest
{
    @TempDir
    Path dir;

    @Test
    void shouldGiveEachMemberItsIdEveryEndpointAndDirectoriesOfItsOwn()
    {
        final ClusterLayout layout = ClusterLayout.of(dir.resolve("c"), 3, 21000, true);
        final Map<String, String> settings = layout.nodeSettings(1);
        assertEquals(List.of("reprise.cluster.member.id", "reprise.cluster.replica.endpoints",
            "reprise.cluster.ingress.endpoints", "reprise.data.dir", "reprise.aeron.dir", "reprise.ring.wait.strategy"),
            List.copyOf(settings.keySet()));
        assertEquals("1", settings.get("reprise.cluster.member.id"));
        assertEquals("blocking", settings.get("reprise.ring.wait.strategy"), "members that share a machine's cores");
        assertEquals("sleeping", layout.withSettings(Map.of("reprise.ring.wait.strategy", "sleeping")).nodeSettings(1)
            .get("reprise.ring.wait.strategy"), "a layout's own settings come first");
        assertEquals("localhost:21000,localhost:21001,localhost:21002",
            settings.get("reprise.cluster.replica.endpoints"));
        assertEquals("localhost:21010,localhost:21011,localhost:21012",
            settings.get("reprise.cluster.ingress.endpoints"));
        assertEquals(dir.resolve("c").toAbsolutePath().resolve("member-1").resolve("data").toString(),
            settings.get("reprise.data.dir"));

        final Set<String> aeronDirs = new HashSet<>();
        for (int m = 0; m < 3; m++)
        {
            assertTrue(layout.aeronDir(m).startsWith("/dev/shm/reprise-cluster-") &&
                layout.aeronDir(m).endsWith("-" + m), layout.aeronDir(m));
            aeronDirs.add(layout.aeronDir(m));
        }
        assertEquals(3, aeronDirs.size(), "one Aeron directory per member: " + aeronDirs);
        assertNotEquals(layout.aeronDir(0), ClusterLayout.of(dir.resolve("other"), 3, 21000, true).aeronDir(0),
            "two clusters never share an Aeron directory");
        assertEquals(layout.aeronDir(2), ClusterLayout.of(dir.resolve("c/../c"), 3, 21000, true).aeronDir(2),
            "one DIR, however it is written, has the same Aeron directories");
        assertEquals(dir.resolve("c").toAbsolutePath().resolve("member-2").resolve("aeron").toString(),
            ClusterLayout.of(dir.resolve("c"), 3, 21000, false).aeronDir(2),
            "no /dev/shm: under the member's directory");
    }

    @Test
    void shouldRefuseLayoutsItCannotRun()
    {
        assertEquals("members must be 1..9: 0",
            assertThrows(IllegalArgumentException.class, () -> ClusterLayout.of(dir, 0, 21000)).getMessage());
        assertEquals("base port must be 1024..65521: 80",
            assertThrows(IllegalArgumentException.class, () -> ClusterLayout.of(dir, 5, 80)).getMessage());
        assertEquals("base port must be 1024..65523: 65524",
            assertThrows(IllegalArgumentException.class, () -> ClusterLayout.of(dir, 3, 65524)).getMessage());
        assertEquals("no member 3: the cluster in " + dir.toAbsolutePath() + " has members 0..2",
            assertThrows(IllegalArgumentException.class, () -> ClusterLayout.of(dir, 3, 21000).configFile(3))
            .getMessage());
    }

    @Test
    void shouldWriteAConfigurationTheNodeReadsOnceAndKeepKeysAddedToIt() throws IOException
    {
        final ClusterLayout layout = ClusterLayout.of(dir, 3, 21000, true);
        assertTrue(layout.writeConfigIfAbsent(0));
        assertEquals(layout.nodeSettings(0), load(layout.configFile(0)));

        Files.writeString(layout.configFile(0), "reprise.ring.size=4096\n", StandardOpenOption.APPEND);
        assertFalse(layout.writeConfigIfAbsent(0));
        assertEquals("4096", load(layout.configFile(0)).get("reprise.ring.size"), "an operator's key stays");
    }

    @Test
    void shouldReadBackTheLayoutAndPidsItWrote() throws IOException
    {
        final ClusterLayout layout = ClusterLayout.of(dir, 5, 22000, false);
        layout.writeLayout(new long[] {101, -1, 103, 104, 105});
        final ClusterLayout.Recorded recorded = ClusterLayout.read(dir);
        assertEquals(5, recorded.layout().members());
        assertEquals(22000, recorded.layout().basePort());
        for (int m = 0; m < 5; m++)
        {
            assertEquals(layout.aeronDir(m), recorded.layout().aeronDir(m));
            assertEquals(layout.nodeSettings(m), recorded.layout().nodeSettings(m));
        }
        assertEquals(List.of(101L, -1L, 103L, 104L, 105L), List.of(recorded.pids()[0], recorded.pids()[1],
            recorded.pids()[2], recorded.pids()[3], recorded.pids()[4]), "member 1 never started: no pid");

        final Path file = dir.resolve(ClusterLayout.LAYOUT_FILE);
        Files.writeString(file, Files.readString(file).replace("member.2.pid=103", "member.2.pid=x"));
        assertEquals(file + ": member.2.pid is not a number: 'x'",
            assertThrows(IOException.class, () -> ClusterLayout.read(dir)).getMessage());
        Files.writeString(file, "cluster.members=3\n");
        assertEquals(file + ": cluster.base.port is missing",
            assertThrows(IOException.class, () -> ClusterLayout.read(dir)).getMessage());
    }

    @Test
    void shouldStartMembersWithTheLauncherLessTheSystemPropertiesTheirFilesSet()
    {
        final ClusterLayout layout = ClusterLayout.of(dir, 3, 21000, true);
        final LocalCluster cluster = new LocalCluster(layout, List.of("/jdk/bin/java", "-Xmx1g",
            "-Dreprise.data.dir=/elsewhere", "-Dreprise.aeron.dir=/dev/shm/x", "-Dreprise.cluster.member.id=2",
            "-Dreprise.ring.size=4096", "-jar", "reprise-tools.jar"));
        assertEquals(List.of("/jdk/bin/java", "-Xmx1g", "-Dreprise.ring.size=4096", "-jar", "reprise-tools.jar",
            "node", "--config", layout.configFile(1).toString()), cluster.command(1));
    }

    @Test
    void shouldLaunchMembersAsThisJvmWasLaunched()
    {
        final List<String> launcher = LocalCluster.launcherOfThisJvm();
        assertTrue(Files.isExecutable(Path.of(launcher.get(0))), launcher.toString());
        // The tests' classes are in directories, not a jar: the class path and the main class.
        assertEquals(Reprise.class.getName(), launcher.get(launcher.size() - 1), launcher.toString());
        assertEquals("-cp", launcher.get(launcher.size() - 3), launcher.toString());
        assertTrue(launcher.stream().anyMatch((o) -> o.contains("jdk.internal.misc=ALL-UNNAMED")),
            "the JVM options of this JVM (surefire's argLine): " + launcher);
    }

    @Test
    void shouldNameEachTakenPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(ClusterLayout.HOST, 0)))
        {
            final int port = socket.getLocalPort();
            final LocalCluster cluster = new LocalCluster(ClusterLayout.of(dir, 3, port - 11, true), List.of("java"));
            final List<String> taken = cluster.takenPorts();
            assertEquals(1, taken.size(), taken.toString());
            assertTrue(taken.get(0).startsWith("UDP port " + port + " (ingress endpoint of member 1) is taken: "),
                taken.toString());
        }
    }

    @Test
    void shouldRecogniseALeaderOnlyWithAMajorityFollowingItInItsTerm()
    {
        final MemberStatus leader0 = running(0, Consensus.Role.LEADER.ordinal(), 3, 0);
        final MemberStatus follower1 = running(1, Consensus.Role.FOLLOWER.ordinal(), 3, 0);
        final MemberStatus follower2 = running(2, Consensus.Role.FOLLOWER.ordinal(), 3, 0);
        final MemberStatus down2 = MemberStatus.notRunning(2, 42, false);
        assertEquals(0, LocalCluster.leader(List.of(leader0, follower1, follower2)));
        assertEquals(0, LocalCluster.leader(List.of(leader0, follower1, down2)), "two of three");
        assertEquals(-1,
            LocalCluster.leader(List.of(leader0, running(1, Consensus.Role.FOLLOWER.ordinal(), 4, -1), down2)),
            "its follower moved on to a later term");
        assertEquals(-1, LocalCluster.leader(List.of(leader0, running(1, Consensus.Role.CANDIDATE.ordinal(), 4, -1),
            running(2, Consensus.Role.FOLLOWER.ordinal(), 2, 0))), "the only member naming it is in an earlier term");
        assertEquals(2, LocalCluster.leader(List.of(leader0, running(1, Consensus.Role.FOLLOWER.ordinal(), 5, 2),
            running(2, Consensus.Role.LEADER.ordinal(), 5, 2))), "a deposed leader that does not know it yet");
    }

    private static MemberStatus running(final int member, final int role, final long term, final int leader)
    {
        final long[] counters = new long[MemberCounters.SLOTS];
        Arrays.fill(counters, MemberCounters.ABSENT);
        counters[NodeCounters.ROLE] = role;
        counters[NodeCounters.TERM] = term;
        counters[NodeCounters.LEADER_ID] = leader;
        return MemberStatus.of(member, 100 + member, counters);
    }

    private static Map<String, String> load(final Path file) throws IOException
    {
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            properties.load(reader);
        }
        final Map<String, String> map = new HashMap<>();
        properties.forEach((k, v) -> map.put((String)k, (String)v));
        return map;
    }
}
