package io.reprise.client;

import io.aeron.Aeron;
import io.aeron.CommonContext;

/**
 * Settings of a {@link RepriseClient} or {@link RepriseWorker}: where the node's ingress is, where responses come
 * back, and who the client is (tenant and token). Defaults reach a node on this machine over IPC.
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

    private Aeron aeron;
    private String aeronDirectoryName = System.getProperty(AERON_DIR_PROP_NAME, AERON_DIR_DEFAULT);
    private String ingressChannel = INGRESS_IPC_CHANNEL_DEFAULT;
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
