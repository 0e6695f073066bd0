package io.reprise.transport.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

import io.aeron.Aeron;
import io.aeron.ChannelUri;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ConnectEncoder;
import io.reprise.schema.client.ConnectResponseDecoder;
import io.reprise.schema.client.ConnectionClosedDecoder;
import io.reprise.schema.client.DisconnectEncoder;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.NotLeaderDecoder;
import io.reprise.schema.client.ResultCode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One client's connection to a node, shared by {@link RepriseClient} and {@link RepriseWorker}: the response
 * subscription, the exclusive publication to the ingress, the connect handshake with the token, and the
 * follow-up when the node says another member leads (NotLeader), closes the connection (ConnectionClosed) or the
 * connection is lost. Single-threaded: the owning client's thread does everything.
 */
final class ClientConnection implements AutoCloseable
{
    private static final int FRAGMENT_LIMIT = 64;

    /** Told once per connection that ends other than by {@link #close()}. */
    @FunctionalInterface
    interface ClosedListener
    {
        /**
         * @param reason why the node closed it (ConnectionClosed), or null when it was lost without a word.
         * @param detail the node's detail, or "connection lost".
         */
        void onConnectionClosed(ResultCode reason, String detail);
    }

    private final ClientContext context;
    private final ClientRole role;
    private final FragmentHandler messages;
    private final Aeron aeron;
    private final boolean ownsAeron;
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ConnectResponseDecoder connectResponse = new ConnectResponseDecoder();
    private final NotLeaderDecoder notLeader = new NotLeaderDecoder();
    private final ConnectionClosedDecoder connectionClosed = new ConnectionClosedDecoder();
    private final ClosedListener closedListener;
    private final UnsafeBuffer control = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
    private final FragmentAssembler assembler = new FragmentAssembler(this::onFragment);
    private String ingressChannel;
    private Subscription subscription;
    private ExclusivePublication publication;
    private long clientId;
    private long connectCorrelationId;
    private ResultCode connectCode;
    private String connectDetail;
    private String redirectChannel;
    private long reconnects;
    /** The node closed this connection: reconnect on the next poll. */
    private boolean closedByNode;
    /** The end of the current connection was told to the listener. */
    private boolean closeReported;

    ClientConnection(final ClientContext context, final ClientRole role, final FragmentHandler messages)
    {
        this(context, role, messages, (reason, detail) -> { });
    }

    ClientConnection(
        final ClientContext context, final ClientRole role, final FragmentHandler messages,
        final ClosedListener closedListener)
    {
        this.closedListener = closedListener;
        this.context = context;
        this.role = role;
        this.messages = messages;
        this.ownsAeron = null == context.aeron();
        this.aeron = ownsAeron ?
            ClientContext.connectAeron(context.aeronDirectoryName()) : context.aeron();
        this.ingressChannel = context.ingressChannel();
    }

    /** Connects and authenticates; throws {@link ConnectException} when refused or not answered in time. */
    void connect()
    {
        closeChannels();
        final long deadlineNs = System.nanoTime() + context.connectTimeoutMs() * 1_000_000L;
        final int responseStreamId = ThreadLocalRandom.current().nextInt(10_000, Integer.MAX_VALUE);
        subscription = aeron.addSubscription(context.responseChannel(), responseStreamId);
        final String responseChannel = resolvedResponseChannel(deadlineNs);
        publication = aeron.addExclusivePublication(ingressChannel, context.ingressStreamId());
        while (!publication.isConnected())
        {
            awaitUntil(deadlineNs, "no node listening on " + ingressChannel + " stream " + context.ingressStreamId());
        }

        connectCorrelationId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        connectCode = null;
        final byte[] token = context.token().getBytes(StandardCharsets.UTF_8);
        final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(control, 0, headerEncoder)
            .correlationId(connectCorrelationId)
            .tenant(context.tenant())
            .responseStreamId(responseStreamId)
            .role(role)
            .responseChannel(responseChannel)
            .putToken(token, 0, token.length);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength();
        while (publication.offer(control, 0, length) < 0)
        {
            awaitUntil(deadlineNs, "ingress did not take the connect request");
        }
        while (null == connectCode)
        {
            subscription.poll(assembler, FRAGMENT_LIMIT);
            if (null == connectCode)
            {
                awaitUntil(deadlineNs, "no connect response from the node");
            }
        }
        if (connectCode != ResultCode.OK)
        {
            final ResultCode code = connectCode;
            closeChannels();
            throw new ConnectException(code, "connect refused: " + code + " " + connectDetail);
        }
        closedByNode = false;
        closeReported = false;
    }

    /** A UDP response channel on port 0 gets a port from the system: tell the node the resolved one. */
    private String resolvedResponseChannel(final long deadlineNs)
    {
        final ChannelUri uri = ChannelUri.parse(context.responseChannel());
        if (!"udp".equals(uri.media()))
        {
            return context.responseChannel();
        }
        String resolved;
        while (null == (resolved = subscription.tryResolveChannelEndpointPort()))
        {
            awaitUntil(deadlineNs, "response channel did not resolve: " + context.responseChannel());
        }
        return resolved;
    }

    private void awaitUntil(final long deadlineNs, final String failure)
    {
        if (System.nanoTime() > deadlineNs)
        {
            closeChannels();
            throw new ConnectException(null, failure);
        }
        if (Thread.currentThread().isInterrupted())
        {
            closeChannels();
            throw new ConnectException(null, "interrupted while connecting");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }

    /** Polls responses; follows a redirect or reconnects when the node went away. */
    int poll()
    {
        return poll(FRAGMENT_LIMIT);
    }

    /** Reconnects if needed, then hands at most {@code fragmentLimit} fragments to the message handler. */
    int poll(final int fragmentLimit)
    {
        if (null != redirectChannel)
        {
            ingressChannel = redirectChannel;
            redirectChannel = null;
            reconnect();
        }
        else if (closedByNode || !isConnected())
        {
            reportClosed(null, "connection lost");
            reconnect();
        }
        return subscription.poll(assembler, fragmentLimit);
    }

    private void reconnect()
    {
        reconnects++;
        connect();
    }

    boolean isConnected()
    {
        return null != publication && publication.isConnected() && subscription.isConnected();
    }

    /**
     * Offers a message to the ingress.
     *
     * @return a positive position, or Aeron's negative reason ({@link Publication#BACK_PRESSURED} and others).
     */
    long offer(final DirectBuffer buffer, final int offset, final int length)
    {
        return null == publication ? Publication.NOT_CONNECTED : publication.offer(buffer, offset, length);
    }

    long clientId()
    {
        return clientId;
    }

    /** How many times the connection was made again after it was lost or redirected. */
    long reconnects()
    {
        return reconnects;
    }

    private void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header fragmentHeader)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return;
        }
        header.wrap(buffer, offset);
        if (header.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            return;
        }
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (header.templateId())
        {
            case ConnectResponseDecoder.TEMPLATE_ID:
                connectResponse.wrap(buffer, body, header.blockLength(), header.version());
                if (connectResponse.correlationId() == connectCorrelationId)
                {
                    clientId = connectResponse.clientId();
                    connectDetail = connectResponse.detail();
                    connectCode = connectResponse.resultCode();
                }
                break;
            case ConnectionClosedDecoder.TEMPLATE_ID:
                connectionClosed.wrap(buffer, body, header.blockLength(), header.version());
                if (connectionClosed.clientId() == clientId)
                {
                    final ResultCode reason = connectionClosed.reason();
                    final String detail = connectionClosed.detail();
                    // The node has closed it already: no Disconnect on the way out.
                    clientId = 0;
                    closedByNode = true;
                    reportClosed(reason, detail);
                }
                break;
            case NotLeaderDecoder.TEMPLATE_ID:
                notLeader.wrap(buffer, body, header.blockLength(), header.version());
                redirectChannel = notLeader.leaderChannel();
                break;
            default:
                messages.onFragment(buffer, offset, length, fragmentHeader);
                break;
        }
    }

    private void reportClosed(final ResultCode reason, final String detail)
    {
        if (!closeReported)
        {
            closeReported = true;
            closedListener.onConnectionClosed(reason, detail);
        }
    }

    private void closeChannels()
    {
        if (null != publication && publication.isConnected() && clientId != 0)
        {
            final DisconnectEncoder disconnect = new DisconnectEncoder().wrapAndApplyHeader(control, 0, headerEncoder)
                .correlationId(0);
            publication.offer(control, 0, MessageHeaderEncoder.ENCODED_LENGTH + disconnect.encodedLength());
        }
        CloseHelper.closeAll(publication, subscription);
        publication = null;
        subscription = null;
    }

    public void close()
    {
        closeChannels();
        if (ownsAeron)
        {
            aeron.close();
        }
    }
}
