package io.reprise.jmh.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The members of a cluster under {@code reprise bench aeron-cluster --members N}, each in a JVM of its own started as
 * this one is (its JVM options and class path) with {@code BenchSide member}. Each member's output is echoed, prefixed
 * with its id; a member prints {@value #READY} once started, and stops when its standard input ends, which
 * {@link #close()} does (and the end of this process does too).
 */
final class MemberProcesses implements AutoCloseable
{
    static final String READY = "member: ready";
    /** What a member is told once the client has connected: count CPU from now on. */
    static final String MEASURE = "measure";
    /** What a member is told last, before its input ends: {@code saves: N}, the saves acknowledged. */
    static final String ACKNOWLEDGED = "saves: ";
    private static final long STOP_TIMEOUT_S = 60;

    private final List<Process> processes = new ArrayList<>();
    private final List<Thread> readers = new ArrayList<>();
    private final CountDownLatch ready;
    private final PrintStream out;

    private MemberProcesses(final int members, final PrintStream out)
    {
        ready = new CountDownLatch(members);
        this.out = out;
    }

    /**
     * Starts member {@code i} with {@code memberArguments.get(i)} after {@code BenchSide member}, and waits until
     * every one is ready or one ended.
     */
    static MemberProcesses start(final List<List<String>> memberArguments, final long timeoutMs, final PrintStream out)
        throws IOException
    {
        final MemberProcesses members = new MemberProcesses(memberArguments.size(), out);
        try
        {
            for (int id = 0; id < memberArguments.size(); id++)
            {
                members.start(id, memberArguments.get(id));
            }
            if (!members.ready.await(timeoutMs, TimeUnit.MILLISECONDS))
            {
                throw new IOException("members not ready in " + timeoutMs + " ms");
            }
            for (final Process process : members.processes)
            {
                if (!process.isAlive())
                {
                    throw new IOException("a member ended with status " + process.exitValue());
                }
            }
            return members;
        }
        catch (final IOException | RuntimeException ex)
        {
            members.close();
            throw ex;
        }
        catch (final InterruptedException ex)
        {
            members.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
    }

    private void start(final int id, final List<String> arguments) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(BenchSide.class.getName());
        command.add("member");
        command.addAll(arguments);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        final Thread reader = new Thread(() ->
        {
            boolean isReady = false;
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = in.readLine()))
                {
                    out.println("member " + id + " | " + line);
                    if (!isReady && line.equals(READY))
                    {
                        isReady = true;
                        ready.countDown();
                    }
                }
            }
            catch (final IOException ex)
            {
                out.println("member " + id + ": reading its output: " + ex);
            }
            if (!isReady)
            {
                // Ended before it was ready: no need to wait for the others.
                while (ready.getCount() > 0)
                {
                    ready.countDown();
                }
            }
        }, "reprise-bench-member-" + id);
        reader.setDaemon(true);
        reader.start();
        readers.add(reader);
    }

    /** Tells each member that the client has connected: it counts its CPU from now on. */
    void measure()
    {
        tell(MEASURE);
    }

    /** Tells each member how many saves the load generator had acknowledged, for its CPU per save. */
    void acknowledged(final long saves)
    {
        tell(ACKNOWLEDGED + saves);
    }

    private void tell(final String line)
    {
        for (final Process process : processes)
        {
            try
            {
                process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                process.getOutputStream().flush();
            }
            catch (final IOException ignore)
            {
                // It has ended: close() says so.
            }
        }
    }

    /** Whether every member still runs. */
    boolean allAlive()
    {
        return processes.stream().allMatch(Process::isAlive);
    }

    /** Ends each member's standard input, then waits for each to stop (killing one that does not in time). */
    public void close()
    {
        for (final Process process : processes)
        {
            try
            {
                process.getOutputStream().close();
            }
            catch (final IOException ignore)
            {
                // It has ended already.
            }
        }
        final List<String> statuses = new ArrayList<>();
        for (final Process process : processes)
        {
            try
            {
                if (!process.waitFor(STOP_TIMEOUT_S, TimeUnit.SECONDS))
                {
                    process.destroyForcibly().waitFor();
                    statuses.add("killed");
                }
                else
                {
                    statuses.add(Integer.toString(process.exitValue()));
                }
            }
            catch (final InterruptedException ex)
            {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        for (final Thread reader : readers)
        {
            try
            {
                reader.join(STOP_TIMEOUT_S * 1000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        out.println("side: members stopped, exit statuses " + String.join(", ", statuses));
    }
}
