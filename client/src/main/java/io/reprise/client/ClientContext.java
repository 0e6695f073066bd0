package io.reprise.client;

import java.util.ArrayList;
import java.util.List;

import io.aeron.Aeron;
import io.aeron.CommonContext;

/**
 * Settings of a {@link RepriseClient} or {@link RepriseWorker}: where the node's ingress is (or every cluster
 * member's), where responses come back, and who the client is (tenant and token). Defaults reach a node on this
 * machine over IPC.
 */
public final class ClientContext
{
    /** The media driver's directory, shared by the node and its clients on one machine. */
    public static final String AERON_DIR_PROP_NAME = "reprise.aeron.dir";
    public static final String AERON_DIR_DEFAULT = CommonContext.getAeronDirectoryName() + "-reprise";
    /** The node's ingress on this machine. */
    public static final String INGRESS_IPC_CHANNEL_DEFAULT = "aeron:ipc?term-length=4m";
    /** The node's UDP ingress when it is started with the defaults; from another machine, name the node's address. */
    public static final String INGRESS_UDP_CHANNEL_DEFAULT = "aeron:udp?endpoint=localhost:40456|term-length=4m";
    /** The stream of both ingress channels. */
    public static final int INGRESS_STREAM_ID_DEFAULT = 1001;
    /**
     * Every cluster member's UDP ingress, {@code HOST:PORT,HOST:PORT,...} in member id order: the node's key of the
     * same name. When set, the client connects to these members and follows the leader among them.
     */
    public static final String CLUSTER_INGRESS_ENDPOINTS_PROP_NAME = "reprise.cluster.ingress.endpoints";
    /**
     * What a client of a cluster's media driver should take as its publication connection timeout: a member that
     * died is noticed after it, and the client goes on at the next member (Aeron's default is 5 s).
     */
    public static final long CLUSTER_PUBLICATION_CONNECTION_TIMEOUT_NS = 1_000_000_000L;
    /**
     * A node that says it heartbeats (its ConnectResponse names an interval, 100 ms for a Reprise node) and is not
     * heard for this many of its intervals is taken as gone: the connection is lost, and a cluster client goes on at
     * another member. A killed member is noticed in about half a second this way, whatever the media driver's
     * publication timeout.
     */
    public static final int NODE_SILENT_INTERVALS = 5;
    /** A connect timeout for a client of a cluster: the search for the leader, an election included. */
    public static final long CLUSTER_CONNECT_TIMEOUT_MS = 1_500;
    /** Responses over IPC. */
    public static final String IPC_RESPONSE_CHANNEL = "aeron:ipc?term-length=4m";
    /** Responses over UDP to a port the system picks: for a client on another machine, name its address. */
    public static final String UDP_RESPONSE_CHANNEL = "aeron:udp?endpoint=localhost:0|term-length=4m";

    /**
     * An Aeron client on the media driver in {@code aeronDirectoryName} whose errors are printed, never fatal:
     * Aeron's default handler exits the JVM when the driver goes away, and a node that stops must not take its
     * clients' processes with it.
     */
    public static Aeron connectAeron(final String aeronDirectoryName)
    {
        return Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(aeronDirectoryName)
            .errorHandler((ex) -> System.err.println("reprise client: aeron: " + ex)));
    }

    /**
     * The UDP ingress channel on {@code endpoint}, {@code HOST:PORT} or {@code [IPV6]:PORT}, with the default term
     * length: the channel a node listens on for that endpoint, and what a cluster member names in {@code NotLeader}.
     *
     * @throws IllegalArgumentException as {@link #udpEndpointHost(String)}.
     */
    public static String udpIngressChannel(final String endpoint)
    {
        udpEndpointHost(endpoint);
        return "aeron:udp?endpoint=" + endpoint + "|term-length=4m";
    }

    /**
     * Checks the form of an endpoint, {@code HOST:PORT} or {@code [IPV6]:PORT} with a port in 1..65535. The host is
     * not looked up: a client's member may not resolve yet when the client is configured.
     *
     * @return the host, without the brackets of an IPv6 address.
     * @throws IllegalArgumentException saying what is wrong.
     */
    public static String udpEndpointHost(final String endpoint)
    {
        final int colon = endpoint.lastIndexOf(':');
        if (colon < 0)
        {
            throw new IllegalArgumentException("not HOST:PORT: '" + endpoint + "'");
        }
        String host = endpoint.substring(0, colon);
        final String portText = endpoint.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        else if (host.indexOf(':') >= 0)
        {
            throw new IllegalArgumentException("an IPv6 address needs brackets, [ADDRESS]:PORT: '" + endpoint + "'");
        }
        if (host.isEmpty())
        {
            throw new IllegalArgumentException("no host in '" + endpoint + "'");
        }
        final int port;
        try
        {
            port = Integer.parseInt(portText);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("port is not a number: '" + portText + "' in '" + endpoint + "'");
        }
        if (port < 1 || port > 65_535)
        {
            throw new IllegalArgumentException("port must be 1..65535: " + port + " in '" + endpoint + "'");
        }
        return host;
    }

    /**
     * The ingress channels of a list of members' endpoints, {@code HOST:PORT,HOST:PORT,...} (spaces around an entry
     * ignored), in the order given.
     *
     * @return the channels; empty for null or a blank list.
     * @throws IllegalArgumentException naming the entry that is wrong, by position and text.
     */
    public static List<String> udpIngressChannels(final String endpoints)
    {
        if (null == endpoints || endpoints.isBlank())
        {
            return List.of();
        }
        final List<String> channels = new ArrayList<>();
        final String[] entries = endpoints.split(",", -1);
        for (int i = 0; i < entries.length; i++)
        {
            final String entry = entries[i].trim();
            try
            {
                if (entry.isEmpty())
                {
                    throw new IllegalArgumentException("empty");
                }
                channels.add(udpIngressChannel(entry));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException(CLUSTER_INGRESS_ENDPOINTS_PROP_NAME + ": entry " + (i + 1) +
                    " of " + entries.length + " ('" + entry + "'): " + ex.getMessage(), ex);
            }
        }
        return List.copyOf(channels);
    }

    private Aeron aeron;
    private String aeronDirectoryName = System.getProperty(AERON_DIR_PROP_NAME, AERON_DIR_DEFAULT);
    private String ingressChannel = INGRESS_IPC_CHANNEL_DEFAULT;
    private String ingressEndpoints = System.getProperty(CLUSTER_INGRESS_ENDPOINTS_PROP_NAME);
    private List<String> memberIngressChannels = udpIngressChannels(ingressEndpoints);
    private int ingressStreamId = INGRESS_STREAM_ID_DEFAULT;
    private String responseChannel = IPC_RESPONSE_CHANNEL;
    private int tenant = 1;
    private String token = "";
    private long connectTimeoutMs = 5_000;
    private long responseTimeoutMs = 5_000;

    public Aeron aeron()
    {
        return aeron;
    }

    /**
     * An Aeron client to share (several clients in one process). It stays the user's: the client neither closes nor
     * replaces it, and once it is closed the client's {@code poll()} throws {@link ConnectException} saying so.
     */
    public ClientContext aeron(final Aeron aeron)
    {
        this.aeron = aeron;
        return this;
    }

    public String aeronDirectoryName()
    {
        return aeronDirectoryName;
    }

    public ClientContext aeronDirectoryName(final String aeronDirectoryName)
    {
        this.aeronDirectoryName = aeronDirectoryName;
        return this;
    }

    public String ingressChannel()
    {
        return ingressChannel;
    }

    public ClientContext ingressChannel(final String ingressChannel)
    {
        this.ingressChannel = ingressChannel;
        return this;
    }

    /** Every cluster member's UDP ingress endpoint, {@code HOST:PORT,...} in member id order, or null for none. */
    public String ingressEndpoints()
    {
        return ingressEndpoints;
    }

    /**
     * Every cluster member's UDP ingress endpoint, {@code HOST:PORT,...} in member id order: the client then connects
     * to {@link #udpIngressChannel(String) these members' channels}, not to {@link #ingressChannel()}, and follows the
     * leader among them. Null or blank: a standalone node at {@link #ingressChannel()}.
     *
     * @throws IllegalArgumentException naming the entry that is not {@code HOST:PORT}.
     */
    public ClientContext ingressEndpoints(final String ingressEndpoints)
    {
        this.memberIngressChannels = udpIngressChannels(ingressEndpoints);
        this.ingressEndpoints = ingressEndpoints;
        return this;
    }

    /** The members' ingress channels from {@link #ingressEndpoints()}, in member id order; empty for none. */
    public List<String> memberIngressChannels()
    {
        return memberIngressChannels;
    }

    public int ingressStreamId()
    {
        return ingressStreamId;
    }

    public ClientContext ingressStreamId(final int ingressStreamId)
    {
        this.ingressStreamId = ingressStreamId;
        return this;
    }

    public String responseChannel()
    {
        return responseChannel;
    }

    public ClientContext responseChannel(final String responseChannel)
    {
        this.responseChannel = responseChannel;
        return this;
    }

    public int tenant()
    {
        return tenant;
    }

    public ClientContext tenant(final int tenant)
    {
        this.tenant = tenant;
        return this;
    }

    public String token()
    {
        return token;
    }

    public ClientContext token(final String token)
    {
        this.token = token;
        return this;
    }

    public long connectTimeoutMs()
    {
        return connectTimeoutMs;
    }

    public ClientContext connectTimeoutMs(final long connectTimeoutMs)
    {
        this.connectTimeoutMs = connectTimeoutMs;
        return this;
    }

    public long responseTimeoutMs()
    {
        return responseTimeoutMs;
    }

    /** How long the waiting ({@code ...AndAwait}) calls wait for their response. */
    public ClientContext responseTimeoutMs(final long responseTimeoutMs)
    {
        this.responseTimeoutMs = responseTimeoutMs;
        return this;
    }
}
