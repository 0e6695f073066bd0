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

/** {@code reprise node}: a UDP endpoint that cannot be served is a usage error, printed before anything starts. */
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
        final String prefix = "UDP ingress (" + TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME + "): ";
        try
        {
            System.setProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME,
                "aeron:udp?endpoint=no-such-host.invalid:40456|term-length=4m");
            assertRefused(prefix + "unknown host 'no-such-host.invalid' in 'no-such-host.invalid:40456'");
            System.setProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME, "aeron:udp?endpoint=localhost:40456|mtu");
            assertRefused(prefix + "not a channel: 'aeron:udp?endpoint=localhost:40456|mtu': ");
            System.setProperty(TransportContext.INGRESS_UDP_CHANNEL_PROP_NAME, "aeron:ipc?term-length=4m");
            assertRefused(prefix + "not a UDP channel: 'aeron:ipc?term-length=4m'");
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

    /** Runs {@code reprise node} with {@code options}; its error message starts with {@code message}. */
    private void assertRefused(final String message, final String... options)
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
    }
}
