package io.reprise.tools.node;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.reprise.tools.NodeFixture;
import io.reprise.tools.Reprise;
import io.reprise.tools.cli.ExitCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reprise node} in a process of its own, as an operator runs it: its settings come from a configuration
 * file, overridden by a system property, overridden by the command line; it prints them (tokens masked) and
 * {@code reprise stat} shows them; a SIGTERM or a SIGINT shuts it down the seed's way and it exits 0.
 */
class NodeProcessTest
{
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path dir;

    @Test
    void shouldRunWithItsConfigurationShowItAndExitZeroOnSigtermAndSigint() throws Exception
    {
        final Path config = Files.writeString(dir.resolve("node.properties"),
            "# the node's configuration\n" +
            "reprise.ring.size=4096\n" +
            "reprise.snapshot.every.ms=60000\n" +
            "reprise.ingress.udp.channel=aeron:udp?endpoint=localhost:40999|term-length=4m\n" +
            "reprise.auth.tokens=1=s3cret-token,2:worker=w0rker-token\n");
        final String aeronDir = dir.resolve("aeron").toString();
        final String dataDir = dir.resolve("data").toString();
        for (final String signal : new String[] {"TERM", "INT"})
        {
            final List<String> lines = Collections.synchronizedList(new ArrayList<>());
            final Process process = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx256m",
                "-Dreprise.ring.size=2048",
                "-cp", System.getProperty("java.class.path"),
                Reprise.class.getName(), "node", "--config", config.toString(), "--data-dir", dataDir,
                "--aeron-dir", aeronDir, "--udp", "none")
                .redirectError(dir.resolve("stderr-" + signal).toFile()).start();
            final Thread reader = new Thread(() -> read(process, lines));
            reader.start();
            try
            {
                awaitLine(lines, "reprise node: serving", process);
                final String out = String.join("\n", lines);
                // Each value from where it was given: the file, overridden by -D, overridden by the command line.
                assertTrue(out.contains("\n  reprise.ring.size                       = 2048   (system property)\n"),
                    out);
                assertTrue(out.contains("\n  reprise.snapshot.every.ms               = 60000   (" + config + ")\n"),
                    out);
                assertTrue(out.contains("\n  reprise.ingress.udp.channel             = none   (command line)\n"), out);
                assertTrue(out.contains("\n  reprise.auth.tokens                     = 1=***,2:worker=***   (" +
                    config + ")\n"), out);
                assertTrue(out.contains("\n  reprise.ring.max.batch                  = 4096\n"), "a default: " + out);
                assertFalse(out.contains("s3cret") || out.contains("w0rker"), "tokens are masked: " + out);

                // reprise stat shows the same, from the file the node keeps beside its counters.
                final NodeFixture.Run settings = reprise("stat", "--aeron-dir", aeronDir, "--settings");
                assertEquals(ExitCode.OK, settings.exit(), settings.toString());
                for (final String key : new String[] {"reprise.ring.size ", "reprise.snapshot.every.ms ",
                    "reprise.auth.tokens ", "reprise.data.dir "})
                {
                    assertEquals(line(out, key), line(settings.out(), key), settings.toString());
                }
                assertFalse(settings.out().contains("s3cret"), settings.toString());
                final NodeFixture.Run errors = reprise("stat", "--aeron-dir", aeronDir, "--errors");
                assertEquals(ExitCode.OK, errors.exit(), errors.toString());
                assertTrue(errors.out().matches("errors: node on " + aeronDir + " \\(Aeron client \\d+\\): none\n"),
                    errors.toString());

                // (Process.destroy() sends SIGTERM too, but closes the streams this test reads.)
                assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor());
                assertTrue(process.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS), "the node did not stop on SIG" + signal);
                reader.join(TIMEOUT_MS);
                final String all = String.join("\n", lines);
                assertEquals(0, process.exitValue(), "exit status after SIG" + signal + ":\n" + all + "\n--- err:\n" +
                    Files.readString(dir.resolve("stderr-" + signal)));
                assertTrue(all.contains("reprise node: shutting down (SIG" + signal + ")\n"), all);
                assertTrue(all.contains("\n  flushed-and-synced durable="), "the seed's shutdown: " + all);
                assertEquals("reprise node: stopped after a clean shutdown", lines.get(lines.size() - 1), all);
                assertFalse(Files.exists(Path.of(aeronDir)), "the embedded driver's directory is gone");
            }
            finally
            {
                process.destroyForcibly();
            }
        }
    }

    private static void read(final Process process, final List<String> lines)
    {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                lines.add(line);
            }
        }
        catch (final IOException ex)
        {
            lines.add("(reading failed: " + ex + ")");
        }
    }

    private static void awaitLine(final List<String> lines, final String prefix, final Process process)
        throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (lines.stream().noneMatch((l) -> l.startsWith(prefix)))
        {
            if (!process.isAlive())
            {
                throw new AssertionError("the node exited " + process.exitValue() + ": " + lines);
            }
            assertTrue(System.currentTimeMillis() < deadline, "no '" + prefix + "' in " + lines);
            Thread.sleep(20);
        }
    }

    /** The line for {@code key} (with its trailing space), trimmed and with its padding folded. */
    private static String line(final String text, final String key)
    {
        for (final String line : text.split("\n"))
        {
            if (line.trim().startsWith(key))
            {
                return line.trim().replaceAll(" +", " ");
            }
        }
        return "(no " + key + ")";
    }
}
