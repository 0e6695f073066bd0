package io.reprise.transport;

import java.util.HashMap;
import java.util.Map;

import io.aeron.CommonContext;
import io.reprise.engine.util.SystemProperties;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * Settings of a node's transport (docs/client.md): where the media driver lives, the ingress channels clients
 * send to, the tokens that authenticate them, and how the transport's threads wait. Every setting has a default
 * that works on a small machine and a system property that overrides it.
 */
public final class TransportContext
{
    public static final String AERON_DIR_PROP_NAME = "reprise.aeron.dir";
    public static final String AERON_DIR_DEFAULT = CommonContext.getAeronDirectoryName() + "-reprise";
    public static final String EMBEDDED_DRIVER_PROP_NAME = "reprise.aeron.embedded.driver";
    public static final String INGRESS_IPC_CHANNEL_PROP_NAME = "reprise.ingress.ipc.channel";
    public static final String INGRESS_IPC_CHANNEL_DEFAULT = "aeron:ipc?term-length=4m";
    /** The UDP ingress; the word {@code none} turns it off. */
    public static final String INGRESS_UDP_CHANNEL_PROP_NAME = "reprise.ingress.udp.channel";
    public static final String INGRESS_UDP_CHANNEL_DEFAULT = "aeron:udp?endpoint=localhost:40456|term-length=4m";
    public static final String INGRESS_STREAM_ID_PROP_NAME = "reprise.ingress.stream.id";
    public static final int INGRESS_STREAM_ID_DEFAULT = 1001;
    /** Comma-separated {@code tenant=token} pairs. */
    public static final String TOKENS_PROP_NAME = "reprise.auth.tokens";
    public static final String TOKENS_DEFAULT = "1=reprise-dev-token";
    /** {@code backoff} (spins a little, then parks up to 1 ms: right for 2 cores) or {@code busy-spin}. */
    public static final String IDLE_STRATEGY_PROP_NAME = "reprise.transport.idle.strategy";
    public static final String IDLE_STRATEGY_DEFAULT = "backoff";
    public static final String CONNECT_TIMEOUT_MS_PROP_NAME = "reprise.connect.timeout.ms";
    public static final long CONNECT_TIMEOUT_MS_DEFAULT = 5_000;
    /** How long a silent client's connection lives on: the media driver's image liveness timeout. */
    public static final String CLIENT_LIVENESS_MS_PROP_NAME = "reprise.client.liveness.timeout.ms";
    public static final long CLIENT_LIVENESS_MS_DEFAULT = 10_000;
    public static final String MAX_CONNECTIONS_PROP_NAME = "reprise.max.connections";
    public static final int MAX_CONNECTIONS_DEFAULT = 1024;
    /**
     * Each connection's backlog: what its client is still to receive beyond what its response publication holds
     * (docs/client.md). A power of two in [4,096, 64 MiB]; a client whose backlog overflows is disconnected.
     */
    public static final String CLIENT_BACKLOG_BYTES_PROP_NAME = "reprise.client.backlog.bytes";
    public static final int CLIENT_BACKLOG_BYTES_DEFAULT = 64 * 1024;

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
    private int maxConnections = SystemProperties.intValue(MAX_CONNECTIONS_PROP_NAME, MAX_CONNECTIONS_DEFAULT);
    private int clientBacklogBytes = SystemProperties.intValue(CLIENT_BACKLOG_BYTES_PROP_NAME,
        CLIENT_BACKLOG_BYTES_DEFAULT);
    private Map<String, Integer> tenantByToken = parseTokens(System.getProperty(TOKENS_PROP_NAME, TOKENS_DEFAULT));

    /** Parses {@code tenant=token,tenant=token}; a token names exactly one tenant. */
    public static Map<String, Integer> parseTokens(final String spec)
    {
        final Map<String, Integer> tokens = new HashMap<>();
        for (final String pair : spec.split(","))
        {
            final String trimmed = pair.trim();
            if (trimmed.isEmpty())
            {
                continue;
            }
            final int equals = trimmed.indexOf('=');
            if (equals < 1 || equals == trimmed.length() - 1)
            {
                throw new IllegalArgumentException("token entry is not tenant=token: " + trimmed);
            }
            final int tenant = Integer.parseInt(trimmed.substring(0, equals));
            if (tenant <= 0)
            {
                throw new IllegalArgumentException("tenant must be > 0: " + trimmed);
            }
            if (null != tokens.put(trimmed.substring(equals + 1), tenant))
            {
                throw new IllegalArgumentException("token given twice: " + trimmed);
            }
        }
        return tokens;
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

    public TransportContext ingressUdpChannel(final String ingressUdpChannel)
    {
        this.ingressUdpChannel = null == ingressUdpChannel ? "none" : ingressUdpChannel;
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

    /** The tenant a token authenticates, or null. */
    public Integer tenantOf(final String token)
    {
        return tenantByToken.get(token);
    }

    public TransportContext tokens(final String spec)
    {
        this.tenantByToken = parseTokens(spec);
        return this;
    }
}
