package io.reprise.engine.testing;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A child driver's stdout, buffered, whole lines only, flushed when asked: what a {@link ChildProcess} reads.
 * When the parent has gone (the pipe is broken) it calls {@code onBroken} so the driver can stop.
 */
public final class DriverOutput
{
    private final OutputStream stream = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
    private final Runnable onBroken;

    public DriverOutput(final Runnable onBroken)
    {
        this.onBroken = onBroken;
    }

    public synchronized void line(final String line)
    {
        try
        {
            stream.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        catch (final IOException ex)
        {
            onBroken.run();
        }
    }

    public synchronized void flush()
    {
        try
        {
            stream.flush();
        }
        catch (final IOException ex)
        {
            onBroken.run();
        }
    }

    /**
     * Calls {@code stop} when the parent asks the child to stop ("stop" on stdin, see
     * {@link ChildProcess#stopGracefully()}) or goes away (end of stdin).
     */
    public static void onStopRequest(final Runnable stop)
    {
        final Thread watcher = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null && !line.equals("stop"))
                {
                    // wait for the end of input or "stop"
                }
            }
            catch (final IOException ignore)
            {
                // the test is gone: stop as well
            }
            stop.run();
        }, "stdin-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    public synchronized void lineNow(final String line)
    {
        line(line);
        flush();
    }
}
