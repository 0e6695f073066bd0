package io.reprise.engine.testing;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
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

    public synchronized void lineNow(final String line)
    {
        line(line);
        flush();
    }
}
