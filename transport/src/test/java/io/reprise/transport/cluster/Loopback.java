package io.reprise.transport.cluster;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.RegistrationException;
import org.agrona.CloseHelper;

import static org.junit.jupiter.api.Assertions.fail;

/** An embedded media driver on a temporary directory, its clients, and members' links on free loopback ports. */
final class Loopback implements AutoCloseable
{
    private static final int BIND_TRIES = 5;

    private final MediaDriver driver;
    private final List<AutoCloseable> opened = new ArrayList<>();

    Loopback()
    {
        final Path dir = Path.of(System.getProperty("java.io.tmpdir"),
            "reprise-aeronlink-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        driver = MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir.toString())
            .threadingMode(ThreadingMode.SHARED)
            // 16 MiB terms per publication and image: only the pages written are taken.
            .termBufferSparseFile(true)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true));
    }

    /** A client of the driver, closed with it; errors are printed, never a reason to exit. */
    Aeron connect()
    {
        final Aeron aeron = Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(driver.aeronDirectoryName())
            .errorHandler(Throwable::printStackTrace));
        opened.add(aeron);
        return aeron;
    }

    /**
     * Links for members 0 to {@code clients.length - 1} on fresh ports, each on its client, connected to each other.
     * A port found free may be taken before the driver binds it: then all of them again on other ports.
     */
    AeronReplicaLink[] links(final Aeron... clients)
    {
        for (int tries = 1; ; tries++)
        {
            final String[] endpoints = freeEndpoints(clients.length);
            final AeronReplicaLink[] links = new AeronReplicaLink[clients.length];
            try
            {
                for (int m = 0; m < links.length; m++)
                {
                    links[m] = new AeronReplicaLink(clients[m], m, endpoints);
                }
            }
            catch (final RegistrationException ex)
            {
                CloseHelper.closeAll(links);
                if (tries == BIND_TRIES)
                {
                    throw ex;
                }
                continue;
            }
            opened.addAll(List.of(links));
            awaitConnected(links);
            return links;
        }
    }

    static void awaitConnected(final AeronReplicaLink... links)
    {
        await(5_000, "links connected to each other", () ->
        {
            for (int m = 0; m < links.length; m++)
            {
                for (int other = 0; other < links.length; other++)
                {
                    if (other != m && !links[m].isConnected(other))
                    {
                        return false;
                    }
                }
            }
            return true;
        });
    }

    /** {@code count} distinct {@code localhost} endpoints whose UDP ports were free a moment ago. */
    static String[] freeEndpoints(final int count)
    {
        final DatagramSocket[] sockets = new DatagramSocket[count];
        final String[] endpoints = new String[count];
        try
        {
            // All open at once, so that the ports differ.
            for (int i = 0; i < count; i++)
            {
                sockets[i] = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                endpoints[i] = "localhost:" + sockets[i].getLocalPort();
            }
        }
        catch (final SocketException ex)
        {
            throw new IllegalStateException("no free UDP port on loopback", ex);
        }
        finally
        {
            CloseHelper.closeAll(sockets);
        }
        return endpoints;
    }

    /** Waits for {@code condition} (polled every millisecond), failing with {@code what} after {@code timeoutMs}. */
    static void await(final long timeoutMs, final String what, final BooleanSupplier condition)
    {
        final long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("not within " + timeoutMs + " ms: " + what);
            }
            sleepMs(1);
        }
    }

    static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    public void close()
    {
        // Links before their clients, clients before the driver.
        for (int i = opened.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(opened.get(i));
        }
        CloseHelper.close(driver);
    }
}
