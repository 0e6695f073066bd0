package io.reprise.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test driver's main class running in a JVM of its own, so that a test can kill it with SIGKILL: its stdout
 * is read line by line as it comes, each line is checked as it is consumed, and the process ends by
 * {@link #kill()} or by {@link #stopGracefully()} ("stop" on its stdin).
 */
public final class ChildProcess implements AutoCloseable
{
    /** Checks one line of the child's output; throws (or fails) when it reports a problem. */
    @FunctionalInterface
    public interface LineCheck
    {
        void check(String line) throws IOException;
    }

    private static final String END = "\u0000end";

    /** Every line the child printed so far, in order. */
    public final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Process process;
    private final Thread reader;
    private final Path stderr;
    private final String where;
    private final LineCheck check;

    /**
     * @param heap  the child's -Xmx value, e.g. "384m".
     * @param check applied to every line, after a built-in check that fails on lines starting "X " or "E ".
     */
    public ChildProcess(
        final Class<?> mainClass,
        final List<String> arguments,
        final String heap,
        final Path stderr,
        final String where,
        final LineCheck check) throws IOException
    {
        this.stderr = stderr;
        this.where = where;
        this.check = check;
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx" + heap,
            "-XX:+UseSerialGC",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"),
            mainClass.getName()));
        command.addAll(arguments);
        process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    lines.add(line);
                    queue.add(line);
                }
            }
            catch (final IOException ignore)
            {
                // the process is gone
            }
            queue.add(END);
        }, mainClass.getSimpleName() + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Like {@link #await} but time running out is no failure: a kill then lands wherever the run is. */
    public void awaitEvent(final Predicate<String> wanted, final long timeoutMs) throws Exception
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        String line;
        while ((line = queue.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)) !=
            null)
        {
            if (line.equals(END))
            {
                queue.add(END);
                await((l) -> false, 1);
            }
            checkLine(line);
            if (wanted.test(line))
            {
                return;
            }
        }
    }

    /** Consumes lines, checking each, until one matches; fails if the process ends or time runs out. */
    public String await(final Predicate<String> wanted, final long timeoutMs) throws Exception
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (true)
        {
            final String line = queue.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            if (null == line)
            {
                fail(where + ": waited " + timeoutMs + " ms in vain; last lines: " + tail());
            }
            if (line.equals(END))
            {
                process.waitFor(10, TimeUnit.SECONDS);
                fail(where + ": the node process ended by itself; last lines: " + tail() + "\nstderr: " +
                    Files.readString(stderr));
            }
            checkLine(line);
            if (wanted.test(line))
            {
                return line;
            }
        }
    }

    private void checkLine(final String line) throws IOException
    {
        if (line.startsWith("X ") || line.startsWith("E "))
        {
            fail(where + ": " + line + "\nstderr: " + Files.readString(stderr));
        }
        check.check(line);
    }

    /** SIGKILL, then the rest of its output is read and checked. */
    public void kill() throws Exception
    {
        process.destroyForcibly();
        finish();
    }

    /** Asks the child to stop (the seed's shutdown) and checks it exits cleanly. */
    public void stopGracefully() throws Exception
    {
        try (OutputStream in = process.getOutputStream())
        {
            in.write("stop\n".getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), where + ": did not stop");
        finish();
        assertEquals(0, process.exitValue(), where + ": exit code; stderr: " + Files.readString(stderr));
    }

    private void finish() throws Exception
    {
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), where + ": still running after SIGKILL");
        reader.join(10_000);
        String line;
        while ((line = queue.poll()) != null)
        {
            if (!line.equals(END))
            {
                checkLine(line);
            }
        }
    }

    /** The last lines of output, for failure messages. */
    public String tail()
    {
        synchronized (lines)
        {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        }
    }

    public void close()
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
        }
    }
}
