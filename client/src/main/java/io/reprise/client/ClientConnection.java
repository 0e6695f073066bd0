package io.reprise.client;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.aeron.Aeron;
import io.aeron.ChannelUri;
import io.aeron.CommonContext;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.exceptions.AeronException;
import io.aeron.exceptions.DriverTimeoutException;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ConnectEncoder;
import io.reprise.schema.client.ConnectResponseDecoder;
import io.reprise.schema.client.ConnectionClosedDecoder;
import io.reprise.schema.client.DisconnectEncoder;
import io.reprise.schema.client.HeartbeatDecoder;
import io.reprise.schema.client.HeartbeatEncoder;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.NotLeaderDecoder;
import io.reprise.schema.client.ResultCode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One client's connection to a node, shared by {@link RepriseClient} and {@link RepriseWorker}: the response
 * subscription, the exclusive publication to the ingress, the connect handshake with the token, and the
 * follow-up when the node says another member leads (NotLeader), closes the connection (ConnectionClosed) or the
 * connection is lost, and the heartbeat the node asks for (a worker is dropped when it sends nothing for its
 * liveness timeout). Single-threaded: the owning client's thread does everything.
 * <p>
 * Given every cluster member's ingress ({@link ClientContext#memberIngressChannels()}), it looks for the leader: a
 * member that does not lead answers the Connect with NotLeader, naming the leader's channel (followed at once, at
 * most {@code 2 * members} times in one attempt, so two members naming each other cannot hold it) or none while an
 * election is on (the next member is asked after {@value #NO_LEADER_BACKOFF_MS} ms). A member that does not answer
 * gets its share of the connect timeout, then the next one is tried. A connection lost without a word goes on at the
 * next member, round-robin: the member that died is the least likely to lead.
 * <p>
 * An Aeron client of its own (none given in the context) is made when the connection is made, and made anew when
 * it closed: Aeron closes a client whose media driver stopped heartbeating (the node's embedded driver dies with
 * the node). Attempts to connect again are spaced out, {@value #RECONNECT_BACKOFF_INITIAL_MS} ms doubling up to
 * {@value #RECONNECT_BACKOFF_MAX_MS} ms, and every failure, Aeron's included, is a {@link ConnectException}.
 */
final class ClientConnection implements AutoCloseable
{
    /** The wait after the first failed attempt to connect again; it doubles with each failure after. */
    static final long RECONNECT_BACKOFF_INITIAL_MS = 100;
    /** The longest wait between two attempts to connect again. */
    static final long RECONNECT_BACKOFF_MAX_MS = 2_000;
    /** After a NotLeader that names no leader (an election is on), the wait before asking the next member. */
    static final long NO_LEADER_BACKOFF_MS = 50;
    /** At most this many errors of one Aeron client of its own are printed, apart from its driver going away. */
    private static final int AERON_ERRORS_PRINTED_MAX = 10;
    private static final int FRAGMENT_LIMIT = 64;
    private static final Consumer<String> NO_LOG = (message) -> { };

    /** Runs right after the handshake, as part of the same attempt: a worker announces itself there. */
    @FunctionalInterface
    interface ConnectedHandler
    {
        /** Throws {@link ConnectException} when what it needs from the new connection fails. */
        void onConnected();
    }

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
    private final ConnectedHandler connectedHandler;
    private final boolean ownsAeron;
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ConnectResponseDecoder connectResponse = new ConnectResponseDecoder();
    private final NotLeaderDecoder notLeader = new NotLeaderDecoder();
    private final ConnectionClosedDecoder connectionClosed = new ConnectionClosedDecoder();
    private final ClosedListener closedListener;
    /** Every member's ingress channel in member id order; empty for a standalone node. */
    private final String[] memberChannels;
    /** The most NotLeader redirects one attempt to connect follows. */
    private final int maxRedirects;
    private final UnsafeBuffer control = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
    private final FragmentAssembler assembler = new FragmentAssembler(this::onFragment);
    private final HeartbeatEncoder heartbeatEncoder = new HeartbeatEncoder();
    private final MessageHeaderEncoder heartbeatHeader = new MessageHeaderEncoder();
    private final UnsafeBuffer heartbeatBuffer = new UnsafeBuffer(new byte[64]);
    private String ingressChannel;
    /** The member {@link #ingressChannel} belongs to, or the last one tried when a redirect named another channel. */
    private int memberIndex;
    /**
     * The member whose connection was lost: the round-robin skips it, and a NotLeader naming it counts as naming none,
     * until a connection is made or the attempt fails; -1 for none.
     */
    private int lostMember = -1;
    private Subscription subscription;
    private ExclusivePublication publication;
    private long clientId;
    private long connectCorrelationId;
    private ResultCode connectCode;
    private String connectDetail;
    /** The leader's channel ("" for none known) from a NotLeader answering the Connect under way, else null. */
    private String handshakeLeaderChannel;
    /** The leader's channel ("" for none known) from a NotLeader while connected, until the next poll follows it. */
    private String redirectChannel;
    private int redirectLeaderMemberId;
    private long reconnects;
    /** Send something at least this often (0: the node does not ask); from the connect response. */
    private long heartbeatIntervalNs;
    private long lastSentNs;
    /** Silence after which the node is taken as gone (0: the node does not heartbeat); from the connect response. */
    private long nodeSilentNs;
    private long lastHeardNs;
    private long reconnectBackoffMs = RECONNECT_BACKOFF_INITIAL_MS;
    private long nextReconnectNs;
    private Aeron aeron;
    /** The last error of an Aeron client of its own, set on that client's conductor thread. */
    private volatile Throwable aeronError;
    private volatile int aeronErrorsPrinted;
    /** The node closed this connection: reconnect on the next poll. */
    private boolean closedByNode;
    /** The end of the current connection was told to the listener. */
    private boolean closeReported;

    ClientConnection(
        final ClientContext context,
        final ClientRole role,
        final FragmentHandler messages,
        final ConnectedHandler connectedHandler,
        final ClosedListener closedListener)
    {
        this.closedListener = closedListener;
        this.context = context;
        this.role = role;
        this.messages = messages;
        this.connectedHandler = connectedHandler;
        this.ownsAeron = null == context.aeron();
        this.aeron = context.aeron();
        this.memberChannels = context.memberIngressChannels().toArray(new String[0]);
        this.maxRedirects = 2 * Math.max(1, memberChannels.length);
        this.ingressChannel = memberChannels.length > 0 ? memberChannels[0] : context.ingressChannel();
    }

    /**
     * Connects and authenticates, to the leader when given the members, then runs the connected handler; throws
     * {@link ConnectException} when refused, not answered in time, or when Aeron fails (no media driver, a closed
     * Aeron client).
     */
    void connect()
    {
        closeChannels();
        try
        {
            ensureAeron();
            connectToLeader();
            connectedHandler.onConnected();
        }
        catch (final ConnectException ex)
        {
            closeChannels();
            // The next attempt starts elsewhere: this member did not answer in time, or no longer leads. The member
            // lost is skipped for one attempt only: it may have been lost for a moment, and still lead.
            nextMember();
            lostMember = -1;
            throw ex;
        }
        catch (final AeronException ex)
        {
            closeChannels();
            throw new ConnectException(null, "Aeron failed while connecting: " + ex + aeronErrorText(), ex);
        }
    }

    /**
     * An Aeron client that is open: the shared one, or one of its own, made anew when the last one closed. The media
     * driver is checked first, because {@link Aeron#connect} waits for a driver up to the driver timeout.
     */
    private void ensureAeron()
    {
        if (null != aeron && !aeron.isClosed())
        {
            return;
        }
        if (!ownsAeron)
        {
            throw new ConnectException(null, "the shared Aeron client (ClientContext.aeron) is closed: " +
                "the client cannot connect with it; give it an open one, or none to have it make its own");
        }
        CloseHelper.quietClose(aeron);
        aeron = null;
        final String aeronDirectoryName = context.aeronDirectoryName();
        try
        {
            if (!CommonContext.isDriverActive(new File(aeronDirectoryName), CommonContext.DRIVER_TIMEOUT_MS, NO_LOG))
            {
                throw new ConnectException(null, "no media driver active in " + aeronDirectoryName + aeronErrorText());
            }
            final Aeron.Context aeronContext = new Aeron.Context()
                .aeronDirectoryName(aeronDirectoryName)
                .errorHandler(this::onAeronError);
            aeronError = null;
            aeronErrorsPrinted = 0;
            aeron = Aeron.connect(aeronContext);
        }
        catch (final ConnectException ex)
        {
            throw ex;
        }
        catch (final Exception ex)
        {
            // The driver's files can vanish or be half made while a node restarts.
            throw new ConnectException(null, "could not connect to the media driver in " + aeronDirectoryName +
                ": " + ex, ex);
        }
    }

    /**
     * The error handler of an Aeron client of its own, on that client's conductor thread. Aeron's default handler
     * would exit the JVM when the driver goes away. A driver that went away is expected (the node stopped): the next
     * {@link #poll()} reports it as a {@link ConnectException}. Anything else is printed, a few times at most.
     */
    private void onAeronError(final Throwable ex)
    {
        if (ex instanceof AgentTerminationException)
        {
            return; // the conductor stopping after the error that says why
        }
        aeronError = ex;
        if (ex instanceof DriverTimeoutException)
        {
            return;
        }
        final int printed = aeronErrorsPrinted;
        if (printed < AERON_ERRORS_PRINTED_MAX)
        {
            aeronErrorsPrinted = printed + 1;
            System.err.println("reprise client: aeron: " + ex +
                (printed + 1 == AERON_ERRORS_PRINTED_MAX ? " (further errors of this Aeron client not printed)" : ""));
        }
    }

    private String aeronErrorText()
    {
        final Throwable error = aeronError;
        return null == error ? "" : " (the last Aeron error: " + error.getMessage() + ")";
    }

    /**
     * Handshakes with the member at {@link #ingressChannel}, then, in a cluster, with the one a NotLeader names, or
     * the next one, until one accepts, within one connect timeout.
     */
    private void connectToLeader()
    {
        final long timeoutNs = context.connectTimeoutMs() * 1_000_000L;
        final long deadlineNs = System.nanoTime() + timeoutNs;
        int redirects = 0;
        while (true)
        {
            final long memberDeadlineNs = memberChannels.length == 0 ? deadlineNs :
                Math.min(deadlineNs, System.nanoTime() + timeoutNs / memberChannels.length);
            try
            {
                if (handshake(memberDeadlineNs))
                {
                    lostMember = -1;
                    return;
                }
            }
            catch (final ConnectException ex)
            {
                // A refusal would be the same at any member; no node or no answer here may be a member that is down.
                if (null != ex.code() || memberChannels.length == 0 || Thread.currentThread().isInterrupted())
                {
                    throw ex;
                }
                if (System.nanoTime() - deadlineNs >= 0)
                {
                    throw new ConnectException(null, "no leader among " + memberChannels.length + " members within " +
                        context.connectTimeoutMs() + " ms; the last tried: " + ex.getMessage(), ex);
                }
                closeChannels();
                nextMember();
                continue;
            }
            closeChannels();
            final String leaderChannel = handshakeLeaderChannel;
            // A member that has not yet noticed the death of the member just lost still names it: no leader yet.
            if (leaderChannel.isEmpty() || (lostMember >= 0 && leaderChannel.equals(memberChannels[lostMember])))
            {
                if (deadlineNs - System.nanoTime() < NO_LEADER_BACKOFF_MS * 1_000_000L)
                {
                    throw new ConnectException(null, "no leader within " + context.connectTimeoutMs() +
                        " ms: " + ingressChannel + " answered NotLeader naming none (an election is on)");
                }
                LockSupport.parkNanos(NO_LEADER_BACKOFF_MS * 1_000_000L);
                nextMember();
            }
            else if (++redirects > maxRedirects)
            {
                throw new ConnectException(null, "followed " + maxRedirects + " NotLeader redirects without " +
                    "reaching a leader; the last named " + leaderChannel);
            }
            else
            {
                follow(leaderChannel);
            }
        }
    }

    /**
     * The next member round-robin, past the one whose connection was just lost (it most likely died, and a member that
     * does not answer costs a share of the connect timeout); a standalone node's channel stays.
     */
    private void nextMember()
    {
        if (memberChannels.length > 0)
        {
            memberIndex = (memberIndex + 1) % memberChannels.length;
            if (memberIndex == lostMember && memberChannels.length > 1)
            {
                memberIndex = (memberIndex + 1) % memberChannels.length;
            }
            ingressChannel = memberChannels[memberIndex];
        }
    }

    /** The leader's channel, as a NotLeader named it; the member it is, when it is one of the list. */
    private void follow(final String leaderChannel)
    {
        ingressChannel = leaderChannel;
        for (int i = 0; i < memberChannels.length; i++)
        {
            if (memberChannels[i].equals(leaderChannel))
            {
                memberIndex = i;
            }
        }
    }

    /**
     * One handshake with the member at {@link #ingressChannel}.
     *
     * @return true when connected, false when the member answered NotLeader ({@link #handshakeLeaderChannel}).
     * @throws ConnectException when refused, or not answered by {@code deadlineNs}.
     */
    private boolean handshake(final long deadlineNs)
    {
        clientId = 0;
        handshakeLeaderChannel = null;
        redirectChannel = null;
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
        while (null == connectCode && null == handshakeLeaderChannel)
        {
            subscription.poll(assembler, FRAGMENT_LIMIT);
            if (null == connectCode && null == handshakeLeaderChannel)
            {
                awaitUntil(deadlineNs, "no connect response from the node");
            }
        }
        if (null == connectCode)
        {
            return false;
        }
        if (connectCode != ResultCode.OK)
        {
            throw new ConnectException(connectCode, "connect refused: " + connectCode + " " + connectDetail);
        }
        lastSentNs = System.nanoTime();
        lastHeardNs = lastSentNs;
        closedByNode = false;
        closeReported = false;
        return true;
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

    private static void awaitUntil(final long deadlineNs, final String failure)
    {
        if (System.nanoTime() > deadlineNs)
        {
            throw new ConnectException(null, failure);
        }
        if (Thread.currentThread().isInterrupted())
        {
            throw new ConnectException(null, "interrupted while connecting");
        }
        LockSupport.parkNanos(100_000);
    }

    /** Polls responses; follows a redirect or reconnects when the node went away. */
    int poll()
    {
        return poll(FRAGMENT_LIMIT);
    }

    /**
     * Reconnects if needed, then hands at most {@code fragmentLimit} fragments to the message handler.
     *
     * @return the fragments read; 0 while it waits to try connecting again.
     * @throws ConnectException when an attempt to connect again failed.
     */
    int poll(final int fragmentLimit)
    {
        if (null != redirectChannel)
        {
            final String leaderChannel = redirectChannel;
            redirectChannel = null;
            closeChannels();
            reportClosed(ResultCode.NOT_LEADER, leaderChannel.isEmpty() ?
                "the member stopped leading; no leader known" :
                "the member stopped leading; member " + redirectLeaderMemberId + " leads at " + leaderChannel);
            if (leaderChannel.isEmpty())
            {
                nextMember();
            }
            else
            {
                follow(leaderChannel);
            }
        }
        int work = 0;
        if (nodeSilentNs > 0 && null != subscription && System.nanoTime() - lastHeardNs > nodeSilentNs)
        {
            // What already waits is heard first: a client that did not poll for a while has not lost its node.
            work += receive(fragmentLimit);
        }
        if (closedByNode || !isConnected())
        {
            if (closedByNode)
            {
                closeChannels();
            }
            else if (!closeReported)
            {
                reportClosed(null, "connection lost");
                // The member went away: in a cluster, another one leads or soon will.
                lostMember = memberIndex;
                nextMember();
            }
            if (!reconnect())
            {
                return 0;
            }
        }
        return work + receive(fragmentLimit) + heartbeat();
    }

    /** Sends a heartbeat when nothing else went to the node for the interval it asked for. */
    private int heartbeat()
    {
        if (heartbeatIntervalNs > 0 && System.nanoTime() - lastSentNs >= heartbeatIntervalNs)
        {
            final int length = MessageHeaderEncoder.ENCODED_LENGTH +
                heartbeatEncoder.wrapAndApplyHeader(heartbeatBuffer, 0, heartbeatHeader).correlationId(0).encodedLength();
            return offer(heartbeatBuffer, 0, length) > 0 ? 1 : 0;
        }
        return 0;
    }

    /** Hands at most {@code fragmentLimit} fragments to the message handler; never reconnects. */
    int receive(final int fragmentLimit)
    {
        if (null == subscription)
        {
            return 0;
        }
        final int fragments = subscription.poll(assembler, fragmentLimit);
        if (fragments > 0)
        {
            lastHeardNs = System.nanoTime();
        }
        return fragments;
    }

    /**
     * One attempt to connect again, when the backoff since the last failed one has passed.
     *
     * @return true when connected, false while backing off.
     */
    private boolean reconnect()
    {
        final long nowNs = System.nanoTime();
        if (nowNs - nextReconnectNs < 0)
        {
            return false;
        }
        try
        {
            connect();
        }
        catch (final ConnectException ex)
        {
            backOff(nowNs);
            throw ex;
        }
        reconnects++;
        reconnectBackoffMs = RECONNECT_BACKOFF_INITIAL_MS;
        nextReconnectNs = nowNs;
        return true;
    }

    private void backOff(final long nowNs)
    {
        nextReconnectNs = nowNs + reconnectBackoffMs * 1_000_000L;
        reconnectBackoffMs = Math.min(reconnectBackoffMs * 2, RECONNECT_BACKOFF_MAX_MS);
    }

    /** A NotLeader arrived on this connection: the next {@link #poll()} leaves it for the leader. */
    boolean isLeaving()
    {
        return null != redirectChannel;
    }

    /** Open, and the node heard from within its heartbeat's silence limit (when it heartbeats). */
    boolean isConnected()
    {
        return null != publication && publication.isConnected() && subscription.isConnected() &&
            (0 == nodeSilentNs || System.nanoTime() - lastHeardNs <= nodeSilentNs);
    }

    /**
     * Offers a message to the ingress.
     *
     * @return a positive position, or Aeron's negative reason ({@link Publication#BACK_PRESSURED} and others).
     */
    long offer(final DirectBuffer buffer, final int offset, final int length)
    {
        if (null == publication)
        {
            return Publication.NOT_CONNECTED;
        }
        final long result = publication.offer(buffer, offset, length);
        if (result > 0)
        {
            lastSentNs = System.nanoTime();
        }
        return result;
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
                    final long intervalMs = connectResponse.heartbeatIntervalMs();
                    heartbeatIntervalNs = intervalMs == ConnectResponseDecoder.heartbeatIntervalMsNullValue() ||
                        intervalMs <= 0 ? 0 : intervalMs * 1_000_000L;
                    final long nodeIntervalMs = connectResponse.nodeHeartbeatIntervalMs();
                    nodeSilentNs = nodeIntervalMs == ConnectResponseDecoder.nodeHeartbeatIntervalMsNullValue() ||
                        nodeIntervalMs <= 0 ? 0 : ClientContext.NODE_SILENT_INTERVALS * nodeIntervalMs * 1_000_000L;
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
            case HeartbeatDecoder.TEMPLATE_ID:
                // Heard: that is all the node's heartbeat says.
                break;
            case NotLeaderDecoder.TEMPLATE_ID:
                notLeader.wrap(buffer, body, header.blockLength(), header.version());
                if (null == connectCode && notLeader.correlationId() == connectCorrelationId)
                {
                    handshakeLeaderChannel = notLeader.leaderChannel();
                }
                else
                {
                    // A member that stops leading says so to its connected clients (correlation id 0), then drops them.
                    redirectLeaderMemberId = notLeader.leaderMemberId();
                    redirectChannel = notLeader.leaderChannel();
                }
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
            CloseHelper.close(aeron);
            aeron = null;
        }
    }
}
