package io.reprise.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import io.aeron.ChannelUri;
import io.aeron.CommonContext;
import io.reprise.client.ClientContext;
import io.reprise.engine.util.SystemProperties;
import io.reprise.schema.client.ClientRole;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * Settings of a node's transport (docs/client.md): where the media driver lives, the ingress channels clients
 * send to, the tokens that authenticate them, and how the transport's threads wait. Every setting has a default
 * that works on a small machine and a system property that overrides it. {@link #conclude()} checks them before a
 * node starts anything.
 */
public final class TransportContext
{
    // The defaults a client shares with the node live in the client's module, which never depends on the node.
    public static final String AERON_DIR_PROP_NAME = ClientContext.AERON_DIR_PROP_NAME;
    public static final String AERON_DIR_DEFAULT = ClientContext.AERON_DIR_DEFAULT;
    public static final String EMBEDDED_DRIVER_PROP_NAME = "reprise.aeron.embedded.driver";
    public static final String INGRESS_IPC_CHANNEL_PROP_NAME = "reprise.ingress.ipc.channel";
    public static final String INGRESS_IPC_CHANNEL_DEFAULT = ClientContext.INGRESS_IPC_CHANNEL_DEFAULT;
    /** The UDP ingress; the word {@code none} turns it off. */
    public static final String INGRESS_UDP_CHANNEL_PROP_NAME = "reprise.ingress.udp.channel";
    public static final String INGRESS_UDP_CHANNEL_DEFAULT = ClientContext.INGRESS_UDP_CHANNEL_DEFAULT;
    public static final String INGRESS_STREAM_ID_PROP_NAME = "reprise.ingress.stream.id";
    public static final int INGRESS_STREAM_ID_DEFAULT = ClientContext.INGRESS_STREAM_ID_DEFAULT;
    /**
     * Comma-separated {@code T=TOKEN} (tenant T, both roles) and {@code T:ROLE=TOKEN} (ROLE {@code controller} or
     * {@code worker} only) entries: {@link #parseTokens}.
     */
    public static final String TOKENS_PROP_NAME = "reprise.auth.tokens";
    public static final String TOKENS_DEFAULT = "1=reprise-dev-token";
    /** The role names of a token spec. */
    public static final String CONTROLLER_ROLE = "controller";
    public static final String WORKER_ROLE = "worker";
    /** {@code backoff} (spins a little, then parks up to 1 ms: right for 2 cores) or {@code busy-spin}. */
    public static final String IDLE_STRATEGY_PROP_NAME = "reprise.transport.idle.strategy";
    public static final String IDLE_STRATEGY_DEFAULT = "backoff";
    public static final String CONNECT_TIMEOUT_MS_PROP_NAME = "reprise.connect.timeout.ms";
    public static final long CONNECT_TIMEOUT_MS_DEFAULT = 5_000;
    /** How long a silent client's connection lives on: the media driver's image liveness timeout. */
    public static final String CLIENT_LIVENESS_MS_PROP_NAME = "reprise.client.liveness.timeout.ms";
    public static final long CLIENT_LIVENESS_MS_DEFAULT = 10_000;
    /**
     * A worker that sends nothing for this long is dropped: its connection closes and no attempt goes to it again.
     * Workers are told to send a {@code Heartbeat} every third of it when they have nothing else to say.
     */
    public static final String WORKER_LIVENESS_MS_PROP_NAME = "reprise.worker.liveness.timeout.ms";
    public static final long WORKER_LIVENESS_MS_DEFAULT = 3_000;
    /**
     * The node sends each connected client something at least this often (a {@code Heartbeat} when it has nothing
     * else): a client that hears nothing for several intervals takes the node as gone.
     */
    public static final long NODE_HEARTBEAT_INTERVAL_MS = 100;
    /** The shortest worker liveness timeout: a heartbeat every 100 ms. */
    public static final long WORKER_LIVENESS_MS_MIN = 300;
    public static final String MAX_CONNECTIONS_PROP_NAME = "reprise.max.connections";
    public static final int MAX_CONNECTIONS_DEFAULT = 1024;
    /**
     * Each connection's backlog: what its client is still to receive beyond what its response publication holds
     * (docs/client.md). A power of two in [4,096, 64 MiB]; a client whose backlog overflows is disconnected.
     */
    public static final String CLIENT_BACKLOG_BYTES_PROP_NAME = "reprise.client.backlog.bytes";
    /** About 50,000 responses: a controller saving at 25,000/s with notices on can stall a second without loss. */
    public static final int CLIENT_BACKLOG_BYTES_DEFAULT = 2 * 1024 * 1024;

    /** This member's id in a cluster, 0 to members - 1; {@link #STANDALONE} (the default) for a standalone node. */
    public static final String CLUSTER_MEMBER_ID_PROP_NAME = "reprise.cluster.member.id";
    public static final int STANDALONE = -1;
    /**
     * {@code HOST:PORT,...}, one per member in id order: where each receives consensus messages, AppendEntries and
     * catch-up transfers (three streams on one UDP endpoint, docs/cluster.md).
     */
    public static final String CLUSTER_REPLICA_ENDPOINTS_PROP_NAME = "reprise.cluster.replica.endpoints";
    /**
     * {@code HOST:PORT,...}, one per member in id order: each member's UDP client ingress. A member's own entry is its
     * UDP ingress; a member that does not lead names the leader's to clients. Clients read the same key.
     */
    public static final String CLUSTER_INGRESS_ENDPOINTS_PROP_NAME = ClientContext.CLUSTER_INGRESS_ENDPOINTS_PROP_NAME;
    /** A follower that hears no leader for this long (to 1.5 times it, drawn at random) stands for election. */
    public static final String ELECTION_TIMEOUT_MS_PROP_NAME = "reprise.cluster.election.timeout.ms";
    public static final long ELECTION_TIMEOUT_MS_DEFAULT = 400;
    /** How often a leader with nothing to send tells its followers it is there. */
    public static final String HEARTBEAT_INTERVAL_MS_PROP_NAME = "reprise.cluster.heartbeat.interval.ms";
    public static final long HEARTBEAT_INTERVAL_MS_DEFAULT = 50;
    /** The most members a cluster has. */
    public static final int MAX_MEMBERS = 9;

    private String aeronDirectoryName = System.getProperty(AERON_DIR_PROP_NAME, AERON_DIR_DEFAULT);
    private boolean embeddedDriver = !"false".equals(System.getProperty(EMBEDDED_DRIVER_PROP_NAME));
    private String ingressIpcChannel = System.getProperty(INGRESS_IPC_CHANNEL_PROP_NAME, INGRESS_IPC_CHANNEL_DEFAULT);
    private String ingressUdpChannel = System.getProperty(INGRESS_UDP_CHANNEL_PROP_NAME, INGRESS_UDP_CHANNEL_DEFAULT);
    private int ingressStreamId = SystemProperties.intValue(INGRESS_STREAM_ID_PROP_NAME, INGRESS_STREAM_ID_DEFAULT);
    private String idleStrategyName = System.getProperty(IDLE_STRATEGY_PROP_NAME, IDLE_STRATEGY_DEFAULT);
    private long connectTimeoutMs = SystemProperties.longValue(CONNECT_TIMEOUT_MS_PROP_NAME,
        CONNECT_TIMEOUT_MS_DEFAULT);
    private long clientLivenessTimeoutMs = SystemProperties.longValue(CLIENT_LIVENESS_MS_PROP_NAME,
        CLIENT_LIVENESS_MS_DEFAULT);
    private long workerLivenessTimeoutMs = SystemProperties.longValue(WORKER_LIVENESS_MS_PROP_NAME,
        WORKER_LIVENESS_MS_DEFAULT);
    private int maxConnections = SystemProperties.intValue(MAX_CONNECTIONS_PROP_NAME, MAX_CONNECTIONS_DEFAULT);
    private int clientBacklogBytes = SystemProperties.intValue(CLIENT_BACKLOG_BYTES_PROP_NAME,
        CLIENT_BACKLOG_BYTES_DEFAULT);
    private int clusterMemberId = SystemProperties.intValue(CLUSTER_MEMBER_ID_PROP_NAME, STANDALONE);
    private String replicaEndpoints = System.getProperty(CLUSTER_REPLICA_ENDPOINTS_PROP_NAME, "");
    private String clusterIngressEndpoints = System.getProperty(CLUSTER_INGRESS_ENDPOINTS_PROP_NAME, "");
    private long electionTimeoutMs = SystemProperties.longValue(ELECTION_TIMEOUT_MS_PROP_NAME,
        ELECTION_TIMEOUT_MS_DEFAULT);
    private long heartbeatIntervalMs = SystemProperties.longValue(HEARTBEAT_INTERVAL_MS_PROP_NAME,
        HEARTBEAT_INTERVAL_MS_DEFAULT);
    private Map<String, TokenGrant> grantByToken = parseTokens(System.getProperty(TOKENS_PROP_NAME, TOKENS_DEFAULT));
    private boolean concluded;

    /**
     * The UDP ingress channel on {@code endpoint}, {@code HOST:PORT} or {@code [IPV6]:PORT}, with the default term
     * length: {@link ClientContext#udpIngressChannel(String)}, once the host resolves.
     *
     * @throws IllegalArgumentException as {@link #checkUdpEndpoint(String)}.
     */
    public static String udpIngressChannel(final String endpoint)
    {
        checkUdpEndpoint(endpoint);
        return ClientContext.udpIngressChannel(endpoint);
    }

    /**
     * Checks a UDP ingress channel: it parses, is UDP, and has an endpoint that {@link #checkUdpEndpoint(String)}
     * accepts.
     *
     * @throws IllegalArgumentException saying what is wrong.
     */
    public static void checkUdpIngressChannel(final String channel)
    {
        final ChannelUri uri;
        try
        {
            uri = ChannelUri.parse(channel);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("not a channel: '" + channel + "': " + ex.getMessage(), ex);
        }
        if (!CommonContext.UDP_MEDIA.equals(uri.media()))
        {
            throw new IllegalArgumentException("not a UDP channel: '" + channel + "'");
        }
        final String endpoint = uri.get(CommonContext.ENDPOINT_PARAM_NAME);
        if (null == endpoint)
        {
            throw new IllegalArgumentException("no endpoint in '" + channel + "'");
        }
        checkUdpEndpoint(endpoint);
    }

    /**
     * Checks an endpoint to listen on, {@code HOST:PORT} or {@code [IPV6]:PORT}: the port is 1..65535 and the host
     * resolves (looked up once, here, so that a wrong name is refused before a node starts rather than failing in
     * its ingress thread).
     *
     * @return the address the host resolves to.
     * @throws IllegalArgumentException saying what is wrong.
     */
    public static InetAddress checkUdpEndpoint(final String endpoint)
    {
        final String host = ClientContext.udpEndpointHost(endpoint);
        try
        {
            return InetAddress.getByName(host);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("unknown host '" + host + "' in '" + endpoint + "'", ex);
        }
    }

    /**
     * Parses a token spec: comma-separated entries {@code T=TOKEN} (the token grants tenant T both roles) or
     * {@code T:ROLE=TOKEN} with ROLE {@code controller} or {@code worker} (that role only). The token is everything
     * after the first {@code =}; spaces around an entry and its parts are ignored. A token names exactly one tenant
     * and one grant: a token given in two entries is refused, whatever their tenants and roles (for both roles of
     * one tenant write {@code T=TOKEN}), so a token pasted twice by mistake never grants more than was meant.
     * Error messages name entries by position, tenant and role, never by token.
     *
     * @return the grant of each token, in the order given.
     * @throws IllegalArgumentException for an empty spec or a malformed entry, with what is wrong and where.
     */
    public static Map<String, TokenGrant> parseTokens(final String spec)
    {
        if (null == spec || spec.isBlank())
        {
            throw new IllegalArgumentException("no tokens: give T=TOKEN or T:ROLE=TOKEN entries, comma-separated");
        }
        final Map<String, TokenGrant> grants = new LinkedHashMap<>();
        final Map<String, String> entryOfToken = new HashMap<>();
        final String[] entries = spec.split(",", -1);
        for (int i = 0; i < entries.length; i++)
        {
            final String entry = entries[i].trim();
            final String where = "token entry " + (i + 1);
            if (entry.isEmpty())
            {
                throw new IllegalArgumentException(where + " is empty (two commas in a row, or one at an end)");
            }
            final int equals = entry.indexOf('=');
            if (equals < 0)
            {
                // No '=': the entry may be a bare token, so it is not shown.
                throw new IllegalArgumentException(where + " has no '=': give T=TOKEN or T:ROLE=TOKEN");
            }
            final String grantPart = entry.substring(0, equals).trim();
            final String token = entry.substring(equals + 1).trim();
            final String named = where + " (" + grantPart + "=...)";
            final int colon = grantPart.indexOf(':');
            final String tenantText = (colon < 0 ? grantPart : grantPart.substring(0, colon)).trim();
            final String role = colon < 0 ? null : grantPart.substring(colon + 1).trim();
            final int tenant = parseTenant(tenantText, named);
            if (null != role && !CONTROLLER_ROLE.equals(role) && !WORKER_ROLE.equals(role))
            {
                throw new IllegalArgumentException(named + ": " + (role.isEmpty() ? "no role after ':'" :
                    "unknown role '" + role + "'") + ": give " + CONTROLLER_ROLE + " or " + WORKER_ROLE +
                    ", or T=TOKEN for both");
            }
            if (token.isEmpty())
            {
                throw new IllegalArgumentException(named + ": empty token");
            }
            final String earlier = entryOfToken.putIfAbsent(token, named);
            if (null != earlier)
            {
                throw new IllegalArgumentException(named + ": its token is already given in " + earlier +
                    "; a token names one tenant and one grant: write T=TOKEN for both roles of a tenant");
            }
            grants.put(token, new TokenGrant(tenant, null == role || CONTROLLER_ROLE.equals(role),
                null == role || WORKER_ROLE.equals(role)));
        }
        return Collections.unmodifiableMap(grants);
    }

    private static int parseTenant(final String text, final String named)
    {
        int tenant = 0;
        try
        {
            tenant = Integer.parseInt(text);
        }
        catch (final NumberFormatException ex)
        {
            // below: the same message
        }
        if (tenant <= 0)
        {
            throw new IllegalArgumentException(named + ": " + (text.isEmpty() ? "no tenant" :
                "tenant '" + text + "' is not a whole number in 1.." + Integer.MAX_VALUE));
        }
        return tenant;
    }

    /** The idle strategy named by a setting: {@code backoff} or {@code busy-spin}. */
    public static IdleStrategy idleStrategy(final String name)
    {
        switch (name)
        {
            case "backoff":
                return new BackoffIdleStrategy(10, 20, 1_000, 1_000_000);
            case "busy-spin":
                return new BusySpinIdleStrategy();
            default:
                throw new IllegalArgumentException("unknown idle strategy: " + name + " (backoff, busy-spin)");
        }
    }

    public String aeronDirectoryName()
    {
        return aeronDirectoryName;
    }

    public TransportContext aeronDirectoryName(final String aeronDirectoryName)
    {
        this.aeronDirectoryName = aeronDirectoryName;
        return this;
    }

    public boolean embeddedDriver()
    {
        return embeddedDriver;
    }

    /** True (the default): the node starts its own media driver; false: it uses one already running. */
    public TransportContext embeddedDriver(final boolean embeddedDriver)
    {
        this.embeddedDriver = embeddedDriver;
        return this;
    }

    public String ingressIpcChannel()
    {
        return ingressIpcChannel;
    }

    public TransportContext ingressIpcChannel(final String ingressIpcChannel)
    {
        this.ingressIpcChannel = ingressIpcChannel;
        return this;
    }

    /** The UDP ingress channel, or null when there is none. */
    public String ingressUdpChannel()
    {
        return "none".equals(ingressUdpChannel) ? null : ingressUdpChannel;
    }

    /** The UDP ingress channel; null or {@code none} turns it off. {@link #conclude()} checks it. */
    public TransportContext ingressUdpChannel(final String ingressUdpChannel)
    {
        this.ingressUdpChannel = null == ingressUdpChannel ? "none" : ingressUdpChannel;
        concluded = false;
        return this;
    }

    public int ingressStreamId()
    {
        return ingressStreamId;
    }

    public TransportContext ingressStreamId(final int ingressStreamId)
    {
        this.ingressStreamId = ingressStreamId;
        return this;
    }

    public String idleStrategyName()
    {
        return idleStrategyName;
    }

    public TransportContext idleStrategyName(final String idleStrategyName)
    {
        idleStrategy(idleStrategyName);
        this.idleStrategyName = idleStrategyName;
        return this;
    }

    public long connectTimeoutMs()
    {
        return connectTimeoutMs;
    }

    public TransportContext connectTimeoutMs(final long connectTimeoutMs)
    {
        this.connectTimeoutMs = connectTimeoutMs;
        return this;
    }

    public long clientLivenessTimeoutMs()
    {
        return clientLivenessTimeoutMs;
    }

    public TransportContext clientLivenessTimeoutMs(final long clientLivenessTimeoutMs)
    {
        this.clientLivenessTimeoutMs = clientLivenessTimeoutMs;
        return this;
    }

    public long workerLivenessTimeoutMs()
    {
        return workerLivenessTimeoutMs;
    }

    /** How long a worker may send nothing before the node drops it; at least {@link #WORKER_LIVENESS_MS_MIN}. */
    public TransportContext workerLivenessTimeoutMs(final long workerLivenessTimeoutMs)
    {
        this.workerLivenessTimeoutMs = workerLivenessTimeoutMs;
        concluded = false;
        return this;
    }

    /** How often a worker is asked to send something: a third of its liveness timeout. */
    public long workerHeartbeatIntervalMs()
    {
        return workerLivenessTimeoutMs / 3;
    }

    public int maxConnections()
    {
        return maxConnections;
    }

    public TransportContext maxConnections(final int maxConnections)
    {
        this.maxConnections = maxConnections;
        return this;
    }

    public int clientBacklogBytes()
    {
        return clientBacklogBytes;
    }

    /** Each connection's backlog, allocated at connect: a power of two in [4,096, 64 MiB]. */
    public TransportContext clientBacklogBytes(final int clientBacklogBytes)
    {
        this.clientBacklogBytes = ClientBacklog.checkCapacity(clientBacklogBytes);
        return this;
    }

    /** This member's id, or {@link #STANDALONE}. */
    public int clusterMemberId()
    {
        return clusterMemberId;
    }

    /** Makes the node member {@code memberId} of the cluster the endpoints name; {@link #STANDALONE} for none. */
    public TransportContext clusterMemberId(final int memberId)
    {
        this.clusterMemberId = memberId;
        concluded = false;
        return this;
    }

    public boolean clustered()
    {
        return clusterMemberId != STANDALONE;
    }

    /** The replica endpoints as given, {@code HOST:PORT,...}; "" standalone. */
    public String replicaEndpoints()
    {
        return replicaEndpoints;
    }

    public TransportContext replicaEndpoints(final String endpoints)
    {
        this.replicaEndpoints = endpoints;
        concluded = false;
        return this;
    }

    /** The members' client ingress endpoints as given, {@code HOST:PORT,...}; "" standalone. */
    public String clusterIngressEndpoints()
    {
        return clusterIngressEndpoints;
    }

    public TransportContext clusterIngressEndpoints(final String endpoints)
    {
        this.clusterIngressEndpoints = endpoints;
        concluded = false;
        return this;
    }

    public long electionTimeoutMs()
    {
        return electionTimeoutMs;
    }

    public TransportContext electionTimeoutMs(final long electionTimeoutMs)
    {
        this.electionTimeoutMs = electionTimeoutMs;
        concluded = false;
        return this;
    }

    public long heartbeatIntervalMs()
    {
        return heartbeatIntervalMs;
    }

    public TransportContext heartbeatIntervalMs(final long heartbeatIntervalMs)
    {
        this.heartbeatIntervalMs = heartbeatIntervalMs;
        concluded = false;
        return this;
    }

    /**
     * Splits a list of endpoints, {@code HOST:PORT,...}, checking each ({@link #checkUdpEndpoint}) and that none is
     * given twice.
     *
     * @param key the setting it comes from, for the messages.
     * @throws IllegalArgumentException naming the setting, the entry and what is wrong.
     */
    public static String[] parseEndpoints(final String key, final String list)
    {
        if (null == list || list.isBlank())
        {
            throw new IllegalArgumentException(key + " is not set: give HOST:PORT,... one per member in id order");
        }
        final String[] endpoints = list.split(",", -1);
        for (int i = 0; i < endpoints.length; i++)
        {
            endpoints[i] = endpoints[i].trim();
            try
            {
                checkUdpEndpoint(endpoints[i]);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException(key + ", member " + i + ": " + ex.getMessage(), ex);
            }
            for (int j = 0; j < i; j++)
            {
                if (endpoints[j].equals(endpoints[i]))
                {
                    throw new IllegalArgumentException(key + ": members " + j + " and " + i + " are both given " +
                        endpoints[i]);
                }
            }
        }
        if (endpoints.length > MAX_MEMBERS)
        {
            throw new IllegalArgumentException(key + ": " + endpoints.length + " members, at most " + MAX_MEMBERS);
        }
        return endpoints;
    }

    /** Each member's replica endpoint, in id order; after {@link #conclude()}, for a member of a cluster. */
    public String[] replicaEndpointList()
    {
        return parseEndpoints(CLUSTER_REPLICA_ENDPOINTS_PROP_NAME, replicaEndpoints);
    }

    /** Each member's client ingress channel, in id order; after {@link #conclude()}, for a member of a cluster. */
    public String[] clusterIngressChannels()
    {
        final String[] endpoints = parseEndpoints(CLUSTER_INGRESS_ENDPOINTS_PROP_NAME, clusterIngressEndpoints);
        final String[] channels = new String[endpoints.length];
        for (int m = 0; m < endpoints.length; m++)
        {
            channels[m] = udpIngressChannel(endpoints[m]);
        }
        return channels;
    }

    /**
     * Checks the settings before a node starts anything; {@link RepriseNode#start} calls it. A second call checks
     * nothing unless a checked setting changed: the UDP ingress host is looked up once.
     *
     * @throws IllegalArgumentException naming the setting and what is wrong with it.
     */
    public TransportContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (workerLivenessTimeoutMs < WORKER_LIVENESS_MS_MIN)
        {
            throw new IllegalArgumentException(WORKER_LIVENESS_MS_PROP_NAME + " must be >= " + WORKER_LIVENESS_MS_MIN +
                " ms: " + workerLivenessTimeoutMs);
        }
        if (clustered())
        {
            concludeMembership();
        }
        final String udpChannel = ingressUdpChannel();
        if (null != udpChannel)
        {
            try
            {
                checkUdpIngressChannel(udpChannel);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("UDP ingress (" + INGRESS_UDP_CHANNEL_PROP_NAME + "): " +
                    ex.getMessage(), ex);
            }
        }
        concluded = true;
        return this;
    }

    /**
     * A member's settings: both endpoint lists name the same members, this member among them, and the timeouts leave
     * room for heartbeats. A member's UDP ingress is its own entry of the ingress endpoints.
     */
    private void concludeMembership()
    {
        final String[] replicas = parseEndpoints(CLUSTER_REPLICA_ENDPOINTS_PROP_NAME, replicaEndpoints);
        final String[] ingresses = parseEndpoints(CLUSTER_INGRESS_ENDPOINTS_PROP_NAME, clusterIngressEndpoints);
        if (replicas.length != ingresses.length)
        {
            throw new IllegalArgumentException(CLUSTER_REPLICA_ENDPOINTS_PROP_NAME + " names " + replicas.length +
                " members and " + CLUSTER_INGRESS_ENDPOINTS_PROP_NAME + " " + ingresses.length + ": give one of each " +
                "per member");
        }
        if (clusterMemberId < 0 || clusterMemberId >= replicas.length)
        {
            throw new IllegalArgumentException(CLUSTER_MEMBER_ID_PROP_NAME + " must be 0.." + (replicas.length - 1) +
                " for the " + replicas.length + " members of " + CLUSTER_REPLICA_ENDPOINTS_PROP_NAME + ": " +
                clusterMemberId);
        }
        for (final String replica : replicas)
        {
            for (final String ingress : ingresses)
            {
                if (replica.equals(ingress))
                {
                    throw new IllegalArgumentException(replica + " is both a replica and an ingress endpoint");
                }
            }
        }
        if (electionTimeoutMs < 10 || heartbeatIntervalMs < 1 || heartbeatIntervalMs * 2 > electionTimeoutMs)
        {
            throw new IllegalArgumentException(HEARTBEAT_INTERVAL_MS_PROP_NAME + " (" + heartbeatIntervalMs +
                " ms) must be at least 1 ms and at most half of " + ELECTION_TIMEOUT_MS_PROP_NAME + " (" +
                electionTimeoutMs + " ms, at least 10)");
        }
        ingressUdpChannel = udpIngressChannel(ingresses[clusterMemberId]);
    }

    /**
     * A token that the node's tokens as this process sees them ({@value #TOKENS_PROP_NAME}, or the default) give
     * {@code tenant} for {@code role}, or "" when none does: what a tool connects with when it is given no token.
     */
    public static String defaultToken(final int tenant, final ClientRole role)
    {
        final String spec = System.getProperty(TOKENS_PROP_NAME, TOKENS_DEFAULT);
        for (final Map.Entry<String, TokenGrant> entry : parseTokens(spec).entrySet())
        {
            if (entry.getValue().tenant() == tenant && entry.getValue().grants(role))
            {
                return entry.getKey();
            }
        }
        return "";
    }

    /** The tokens as {@link #parseTokens} reads them, each shown as {@code ***}: {@code 1=***,2:worker=***}. */
    public String maskedTokens()
    {
        return maskTokens(grantByToken);
    }

    /** Whether the tokens are exactly those of {@code spec}, each with the same grant. */
    public boolean hasTokens(final String spec)
    {
        return parseTokens(spec).equals(grantByToken);
    }

    /** A token spec with each token shown as {@code ***}, for printing. */
    public static String maskTokens(final String spec)
    {
        return maskTokens(parseTokens(spec));
    }

    private static String maskTokens(final Map<String, TokenGrant> grants)
    {
        final StringBuilder text = new StringBuilder();
        for (final TokenGrant grant : grants.values())
        {
            final boolean controller = grant.grants(ClientRole.CONTROLLER);
            final boolean worker = grant.grants(ClientRole.WORKER);
            text.append(text.length() == 0 ? "" : ",").append(grant.tenant())
                .append(controller && worker ? "" : controller ? ":" + CONTROLLER_ROLE : ":" + WORKER_ROLE)
                .append("=***");
        }
        return text.toString();
    }

    /** What a token grants (its tenant and roles), or null for a token that is not given. */
    public TokenGrant grantOf(final String token)
    {
        return grantByToken.get(token);
    }

    /**
     * Replaces the tokens with those of {@code spec} ({@link #parseTokens}).
     *
     * @throws IllegalArgumentException when the spec is malformed; the tokens are then unchanged.
     */
    public TransportContext tokens(final String spec)
    {
        this.grantByToken = parseTokens(spec);
        return this;
    }
}
