package io.reprise.tools.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.transport.TransportContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code reprise node}: a configuration that cannot be served (an unknown key, a value out of range, a UDP endpoint
 * that does not resolve, a data directory that is a file) is a usage error, printed before anything starts.
 */
class NodeCommandTest
{
    /** A node that starts runs until interrupted: a test that expects a usage error must not wait for it. */
    private static final Duration AT_MOST = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void shouldRefuseABadUdpEndpointBeforeStartingAnything()
    {
        assertRefused("--udp: port is not a number: 'xyz' in 'no such host:xyz'", "--udp", "no such host:xyz");
        assertRefused("--udp: unknown host 'no-such-host.invalid' in 'no-such-host.invalid:40456'",
            "--udp", "no-such-host.invalid:40456");
        assertRefused("--udp: port must be 1..65535: 70000 in 'localhost:70000'", "--udp", "localhost:70000");
        assertRefused("--udp: port must be 1..65535: 0 in 'localhost:0'", "--udp", "localhost:0");
        assertRefused("--udp: not HOST:PORT: 'localhost'", "--udp", "localhost");
        assertRefused("--udp: no host in ':40456'", "--udp", ":40456");
        assertRefused("--udp: an IPv6 address needs brackets, [ADDRESS]:PORT: '::1:40456'", "--udp", "::1:40456");
        assertRefused("--udp: port is not a number: '40456|mtu' in 'localhost:40456|mtu'", "--udp",
            "localhost:40456|mtu");
    }

    @Test
    void shouldRefuseABadUdpChannelFromItsPropertyBeforeStartingAnything()
    {
        final String previous = System.getProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME);
        final String key = TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME;
        try
        {
            System.setProperty(key, "aeron:udp?endpoint=no-such-host.invalid:40456|term-length=4m");
            assertRefused(key + "=aeron:udp?endpoint=no-such-host.invalid:40456|term-length=4m (system property): " +
                "unknown host 'no-such-host.invalid' in 'no-such-host.invalid:40456'");
            System.setProperty(key, "aeron:udp?endpoint=localhost:40456|mtu");
            assertRefused(key + "=aeron:udp?endpoint=localhost:40456|mtu (system property): not a channel: " +
                "'aeron:udp?endpoint=localhost:40456|mtu': ");
            System.setProperty(key, "aeron:ipc?term-length=4m");
            assertRefused(key + "=aeron:ipc?term-length=4m (system property): not a UDP channel: " +
                "'aeron:ipc?term-length=4m'");
        }
        finally
        {
            if (null == previous)
            {
                System.clearProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME);
            }
            else
            {
                System.setProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME, previous);
            }
        }
    }

    /**
     * Every key of a configuration file is checked before anything starts: an unknown one names the nearest known
     * key, a value out of range names the key, the value and the range; all problems at once; exit 2.
     * (names unknown keys on purpose)
     */
    @Test
    void shouldRefuseAConfigurationFileWithAnUnknownKeyOrAValueOutOfRange() throws Exception
    {
        final Path file = dir.resolve("node.properties");
        Files.writeString(file, "reprise.snapshot.every.operator=5000\n");
        assertRefused("reprise.snapshot.every.operator (in " + file + "): unknown key; the nearest known key is " +
            "reprise.snapshot.every.operators", "--config", file.toString());

        Files.writeString(file, "# a comment\nreprise.ring.size = 100\n");
        assertRefused("reprise.ring.size=100 (in " + file + "): out of range: must be 64..16,777,216, a power of " +
            "two (slots)", "--config", file.toString());

        Files.writeString(file, "reprise.ring.size=4096\nreprise.rules.max.payload.bytes=2000000\n" +
            "reprise.auth.tokens=1=s3cret,1:boss=x\nreprise.tools.progress.records=10\n");
        final NodeFixture.Run run = assertRefused("3 problems:", "--config", file.toString());
        assertTrue(run.err().contains("\n  reprise.auth.tokens=(not shown) (in " + file + "): token entry 2 " +
            "(1:boss=...): unknown role 'boss'"), run.toString());
        assertTrue(run.err().contains("\n  reprise.rules.max.payload.bytes=2000000 (in " + file + "): out of range: " +
            "must be 0..1,048,576 (bytes)"), run.toString());
        assertTrue(run.err().contains("\n  reprise.tools.progress.records (in " + file + "): not a setting of the node"),
            run.toString());
        assertFalse(run.err().contains("ring.size"), "a valid value is no problem: " + run);
        assertFalse(run.err().contains("s3cret"), "a token is never shown: " + run);

        assertRefused("--config: " + dir.resolve("none.properties") + " does not exist",
            "--config", dir.resolve("none.properties").toString());
    }

    @Test
    void shouldRefuseAnUnknownSystemPropertyNamingTheNearestKey()
    {
        System.setProperty("reprise.snapshots.retain", "3");
        try
        {
            assertRefused("reprise.snapshots.retain (system property -Dreprise.snapshots.retain): unknown key; the " +
                "nearest known key is reprise.snapshots.retained");
        }
        finally
        {
            System.clearProperty("reprise.snapshots.retain");
        }
    }

    @Test
    void shouldSayThatADataDirectoryThatIsAFileIsNotADirectory() throws Exception
    {
        final Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        final String[] args = {"node", "--data-dir", file.toString(), "--aeron-dir", dir.resolve("aeron").toString()};
        final NodeFixture.Run run = assertTimeoutPreemptively(AT_MOST, () -> reprise(args));
        assertEquals(ExitCode.USAGE, run.exit(), run.toString());
        assertTrue(run.err().startsWith("reprise node: --data-dir: " + file + " is a file, not a directory" +
            System.lineSeparator()), run.toString());
        assertEquals("", run.out(), run.toString());
        assertFalse(Files.exists(dir.resolve("aeron")), "no media driver started");

        // The same from a configuration file.
        final Path config = Files.writeString(dir.resolve("node.properties"), "reprise.data.dir=" + file + "\n");
        assertRefused("reprise.data.dir=" + file + " (in " + config + "): " + file + " is a file, not a directory",
            "--config", config.toString());
    }

    /** Runs {@code reprise node} with {@code options}; its error message starts with {@code message}. */
    private NodeFixture.Run assertRefused(final String message, final String... options)
    {
        final Path dataDir = dir.resolve("data");
        final String[] args = new String[options.length + 5];
        args[0] = "node";
        args[1] = "--data-dir";
        args[2] = dataDir.toString();
        args[3] = "--aeron-dir";
        args[4] = dir.resolve("aeron").toString();
        System.arraycopy(options, 0, args, 5, options.length);
        final NodeFixture.Run run = assertTimeoutPreemptively(AT_MOST, () -> reprise(args),
            "the node started instead of refusing " + String.join(" ", options));
        assertEquals(ExitCode.USAGE, run.exit(), run.toString());
        assertTrue(run.err().startsWith("reprise node: " + message), run.toString());
        assertTrue(run.err().contains(System.lineSeparator() + "usage: reprise node "), run.toString());
        assertEquals("", run.out(), "nothing started: " + run);
        assertFalse(Files.exists(dataDir), "no data directory made");
        assertFalse(Files.exists(dir.resolve("aeron")), "no media driver started");
        return run;
    }
}
