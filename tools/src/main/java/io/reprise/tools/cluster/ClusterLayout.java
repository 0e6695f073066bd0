package io.reprise.tools.cluster;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.zip.CRC32;

import io.reprise.engine.node.NodeContext;
import io.reprise.transport.TransportContext;

/**
 * Where the members of a local cluster live: in DIR, one {@code member-M} directory each, holding its
 * {@code node.properties}, its {@code data} directory and its {@code node.log}; its Aeron directory under
 * {@code /dev/shm} where that exists (named after DIR and M, so two clusters never share one), else in its member
 * directory. Every member is on loopback: member M receives replication on port P + M and client ingress on
 * P + {@value #INGRESS_PORT_OFFSET} + M, where P is the base port. {@code DIR/cluster.properties} records the layout
 * and the members' pids, so that a later {@code reprise cluster} command on DIR finds them.
 */
public final class ClusterLayout
{
    public static final String HOST = "localhost";
    /**
     * Below Linux's ephemeral range (32768-60999), from which Aeron's senders take their own ports: a member
     * started later could otherwise find its port taken by another member's sender.
     */
    public static final int BASE_PORT_DEFAULT = 20110;
    public static final int INGRESS_PORT_OFFSET = 10;
    public static final int MAX_MEMBERS = TransportContext.MAX_MEMBERS;
    public static final String LAYOUT_FILE = "cluster.properties";
    /** How a local member's ring stages idle ({@code reprise.ring.wait.strategy}): they share one machine. */
    public static final String LOCAL_WAIT_STRATEGY = "blocking";


    private static final Path SHM = Path.of("/dev/shm");

    private final Path dir;
    private final int members;
    private final int basePort;
    private final List<String> aeronDirs;
    /** Settings every member's configuration file adds to its own. */
    private final Map<String, String> extraSettings;

    private ClusterLayout(final Path dir, final int members, final int basePort, final List<String> aeronDirs)
    {
        this(dir, members, basePort, aeronDirs, Map.of());
    }

    private ClusterLayout(
        final Path dir, final int members, final int basePort, final List<String> aeronDirs,
        final Map<String, String> extraSettings)
    {
        this.dir = dir;
        this.members = members;
        this.basePort = basePort;
        this.aeronDirs = List.copyOf(aeronDirs);
        this.extraSettings = Map.copyOf(extraSettings);
    }

    /**
     * This layout with {@code settings} added to every member's configuration file when it is written (tests, the
     * demo): keys of the node's settings, checked when each member starts.
     */
    public ClusterLayout withSettings(final Map<String, String> settings)
    {
        final Map<String, String> all = new LinkedHashMap<>(extraSettings);
        all.putAll(settings);
        return new ClusterLayout(dir, members, basePort, aeronDirs, all);
    }

    /** A new layout of {@code members} members in {@code dir}, ports from {@code basePort}. */
    public static ClusterLayout of(final Path dir, final int members, final int basePort)
    {
        return of(dir, members, basePort, Files.isDirectory(SHM));
    }

    static ClusterLayout of(final Path dir, final int members, final int basePort, final boolean shm)
    {
        if (members < 1 || members > MAX_MEMBERS)
        {
            throw new IllegalArgumentException("members must be 1.." + MAX_MEMBERS + ": " + members);
        }
        if (basePort < 1024 || basePort + INGRESS_PORT_OFFSET + members - 1 > 65535)
        {
            throw new IllegalArgumentException("base port must be 1024.." +
                (65535 - INGRESS_PORT_OFFSET - members + 1) + ": " + basePort);
        }
        final Path absolute = dir.toAbsolutePath().normalize();
        final CRC32 crc = new CRC32();
        crc.update(absolute.toString().getBytes(StandardCharsets.UTF_8));
        final List<String> aeronDirs = new ArrayList<>();
        for (int m = 0; m < members; m++)
        {
            aeronDirs.add(shm ?
                SHM.resolve(String.format("reprise-cluster-%08x-%d", crc.getValue(), m)).toString() :
                absolute.resolve("member-" + m).resolve("aeron").toString());
        }
        return new ClusterLayout(absolute, members, basePort, aeronDirs);
    }

    /** Whether {@code dir} holds a cluster's layout file. */
    public static boolean exists(final Path dir)
    {
        return Files.isRegularFile(dir.resolve(LAYOUT_FILE));
    }

    /** A layout as {@code DIR/cluster.properties} records it, with each member's pid (-1: never started). */
    public record Recorded(ClusterLayout layout, long[] pids)
    {
    }

    /** The layout recorded in {@code dir}; an {@link IOException} that names the file and the key when it is wrong. */
    public static Recorded read(final Path dir) throws IOException
    {
        final Path file = dir.resolve(LAYOUT_FILE);
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            properties.load(reader);
        }
        final long members = number(properties, file, "cluster.members");
        final long basePort = number(properties, file, "cluster.base.port");
        if (members < 1 || members > MAX_MEMBERS || basePort < 1024 || basePort > 65535)
        {
            throw new IOException(file + ": cluster.members=" + members + " and cluster.base.port=" + basePort +
                " are not a layout this tool writes");
        }
        final List<String> aeronDirs = new ArrayList<>();
        final long[] pids = new long[(int)members];
        for (int m = 0; m < members; m++)
        {
            final String aeronDir = properties.getProperty("member." + m + ".aeron.dir");
            if (null == aeronDir || aeronDir.isBlank())
            {
                throw new IOException(file + ": member." + m + ".aeron.dir is missing");
            }
            aeronDirs.add(aeronDir);
            final String pidKey = "member." + m + ".pid";
            pids[m] = properties.containsKey(pidKey) ? number(properties, file, pidKey) : -1;
        }
        return new Recorded(
            new ClusterLayout(dir.toAbsolutePath().normalize(), (int)members, (int)basePort, aeronDirs), pids);
    }

    private static long number(final Properties properties, final Path file, final String key) throws IOException
    {
        final String value = properties.getProperty(key);
        try
        {
            return Long.parseLong(null == value ? "" : value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IOException(file + ": " + key + (null == value ? " is missing" : " is not a number: '" + value +
                "'"));
        }
    }

    public Path dir()
    {
        return dir;
    }

    public int members()
    {
        return members;
    }

    public int basePort()
    {
        return basePort;
    }

    public int replicaPort(final int member)
    {
        return basePort + check(member);
    }

    public int ingressPort(final int member)
    {
        return basePort + INGRESS_PORT_OFFSET + check(member);
    }

    public String replicaEndpoint(final int member)
    {
        return HOST + ":" + replicaPort(member);
    }

    public String ingressEndpoint(final int member)
    {
        return HOST + ":" + ingressPort(member);
    }

    public Path memberDir(final int member)
    {
        return dir.resolve("member-" + check(member));
    }

    public Path configFile(final int member)
    {
        return memberDir(member).resolve("node.properties");
    }

    public Path dataDir(final int member)
    {
        return memberDir(member).resolve("data");
    }

    public Path logFile(final int member)
    {
        return memberDir(member).resolve("node.log");
    }

    public String aeronDir(final int member)
    {
        return aeronDirs.get(check(member));
    }

    /** The keys of member {@code member}'s configuration file, in the order written. */
    public Map<String, String> nodeSettings(final int member)
    {
        final List<String> replicas = new ArrayList<>();
        final List<String> ingresses = new ArrayList<>();
        for (int m = 0; m < members; m++)
        {
            replicas.add(replicaEndpoint(m));
            ingresses.add(ingressEndpoint(m));
        }
        final Map<String, String> settings = new LinkedHashMap<>();
        settings.put(TransportContext.CLUSTER_MEMBER_ID_PROP_NAME, Integer.toString(check(member)));
        settings.put(TransportContext.CLUSTER_REPLICA_ENDPOINTS_PROP_NAME, String.join(",", replicas));
        settings.put(TransportContext.CLUSTER_INGRESS_ENDPOINTS_PROP_NAME, String.join(",", ingresses));
        settings.put(NodeContext.DATA_DIR_PROP_NAME, dataDir(member).toString());
        settings.put(TransportContext.AERON_DIR_PROP_NAME, aeronDir(member));
        new TreeMap<>(extraSettings).forEach(settings::putIfAbsent);
        // The members share this machine's cores: idle ring stages park, growing to 1 ms, rather than wake every
        // 50 us, so that the members at work get the cores (a busy stage does not park at all).
        settings.putIfAbsent(NodeContext.WAIT_STRATEGY_PROP_NAME, LOCAL_WAIT_STRATEGY);
        return settings;
    }

    /**
     * Writes member {@code member}'s configuration file unless it exists: an operator may add keys of their own
     * to it, and they apply at the member's next start. Returns whether it wrote it.
     */
    public boolean writeConfigIfAbsent(final int member) throws IOException
    {
        final Path file = configFile(member);
        if (Files.exists(file))
        {
            return false;
        }
        Files.createDirectories(memberDir(member));
        final StringBuilder text = new StringBuilder("# Member " + member + " of the local cluster in " + dir +
            " (written by reprise cluster). Keys: docs/configuration.md; keys added here apply at the next start.\n");
        nodeSettings(member).forEach((key, value) -> text.append(key).append('=').append(escape(value)).append('\n'));
        write(file, text.toString());
        return true;
    }

    /** Writes {@code DIR/cluster.properties}: the layout, and each member's pid ({@code pids[m]} -1: none yet). */
    public void writeLayout(final long[] pids) throws IOException
    {
        final StringBuilder text = new StringBuilder("# The local cluster in " + dir + ", written by reprise " +
            "cluster at each member's start; reprise cluster status reads it.\n");
        text.append("cluster.members=").append(members).append('\n');
        text.append("cluster.base.port=").append(basePort).append('\n');
        for (int m = 0; m < members; m++)
        {
            final String prefix = "member." + m + ".";
            text.append(prefix).append("replica.endpoint=").append(replicaEndpoint(m)).append('\n');
            text.append(prefix).append("ingress.endpoint=").append(ingressEndpoint(m)).append('\n');
            text.append(prefix).append("aeron.dir=").append(escape(aeronDir(m))).append('\n');
            text.append(prefix).append("config=").append(escape(configFile(m).toString())).append('\n');
            text.append(prefix).append("log=").append(escape(logFile(m).toString())).append('\n');
            if (null != pids && pids[m] > 0)
            {
                text.append(prefix).append("pid=").append(pids[m]).append('\n');
            }
        }
        Files.createDirectories(dir);
        write(dir.resolve(LAYOUT_FILE), text.toString());
    }

    private int check(final int member)
    {
        if (member < 0 || member >= members)
        {
            throw new IllegalArgumentException("no member " + member + ": the cluster in " + dir + " has members 0.." +
                (members - 1));
        }
        return member;
    }

    private static String escape(final String value)
    {
        return value.replace("\\", "\\\\");
    }

    /** Whole or not at all: a reader never sees half a file. */
    private static void write(final Path file, final String text) throws IOException
    {
        final Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, text, StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
