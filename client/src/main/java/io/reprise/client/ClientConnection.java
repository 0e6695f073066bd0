package io.reprise.client;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.aeron.Aeron;
import io.aeron.ChannelUri;
import io.aeron.CommonContext;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.exceptions.AeronException;
import io.aeron.exceptions.DriverTimeoutException;
import io.aeron.exceptions.RegistrationException;
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
 * Given every cluster member's ingress ({@link ClientContext#memberIngressChannels()}), it looks for the leader by
 * asking every member at once, on one response subscription: the leader accepts, and the others answer
 * {@code NotLeader}, naming the leader (asked at once, if it was not already) or none while an election is on (a
 * member holds its answer until it knows a leader, so the one elected accepts what it held). A member that answered
 * {@code NotLeader} is asked again after {@value #NO_LEADER_BACKOFF_MS} ms; one not there is asked once it listens.
 * The first member to accept is kept, and every other channel closed. A member whose connection was lost is asked
 * too: it may have been lost for a moment and still lead, and if it died its channel never connects, costing
 * nothing. The whole search has one connect timeout.
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
    /** After a member answered NotLeader, the wait before asking it again. */
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
    /** The most channels one search asks: the members', and those NotLeader answers named that are not among them. */
    private final int maxCandidates;
    /** The channels asked in the search under way (empty when none is), in the order they were first asked. */
    private final List<Candidate> candidates = new ArrayList<>();
    private final UnsafeBuffer control = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
    private final FragmentAssembler assembler = new FragmentAssembler(this::onFragment);
    private final HeartbeatEncoder heartbeatEncoder = new HeartbeatEncoder();
    private final MessageHeaderEncoder heartbeatHeader = new MessageHeaderEncoder();
    private final UnsafeBuffer heartbeatBuffer = new UnsafeBuffer(new byte[64]);
    private Subscription subscription;
    private ExclusivePublication publication;
    /** The image the connected node's messages come on; everything else on the subscription is ignored. */
    private Image nodeImage;
    /** A fragment from the node was read in this poll. */
    private boolean heardFromNode;
    private long clientId;
    /** The leader's channel as the last member to stop leading named it: asked as well, if not a member's. */
    private String followedChannel;
    /** The member that accepted in the search under way, and the refusal that ended it, if any. */
    private Candidate accepted;
    private ConnectException refusal;
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
        this.maxCandidates = 2 * Math.max(1, memberChannels.length);
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
     * Asks every member (or the standalone node) at once, and follows what they answer, until one accepts: see the
     * class comment. Throws {@link ConnectException} when one refuses, or none accepts within the connect timeout.
     */
    private void connectToLeader()
    {
        final long deadlineNs = System.nanoTime() + context.connectTimeoutMs() * 1_000_000L;
        final int responseStreamId = ThreadLocalRandom.current().nextInt(10_000, Integer.MAX_VALUE);
        subscription = aeron.addSubscription(context.responseChannel(), responseStreamId);
        final String responseChannel = resolvedResponseChannel(deadlineNs);
        accepted = null;
        refusal = null;
        clientId = 0;
        redirectChannel = null;
        try
        {
            for (final String memberChannel : memberChannels)
            {
                addCandidate(memberChannel);
            }
            if (null != followedChannel && !List.of(memberChannels).contains(followedChannel))
            {
                addCandidate(followedChannel);
            }
            else if (memberChannels.length == 0)
            {
                addCandidate(context.ingressChannel());
            }
            while (true)
            {
                final long nowNs = System.nanoTime();
                boolean anyLeft = false;
                for (int i = 0; i < candidates.size(); i++)
                {
                    anyLeft |= ask(candidates.get(i), nowNs, responseStreamId, responseChannel);
                }
                subscription.poll(assembler, FRAGMENT_LIMIT);
                if (null != refusal)
                {
                    throw refusal;
                }
                if (null != accepted)
                {
                    keep(accepted);
                    return;
                }
                if (!anyLeft || nowNs - deadlineNs > 0)
                {
                    throw new ConnectException(null, searchFailure());
                }
                if (Thread.currentThread().isInterrupted())
                {
                    throw new ConnectException(null, "interrupted while connecting");
                }
                LockSupport.parkNanos(100_000);
            }
        }
        finally
        {
            for (int i = 0; i < candidates.size(); i++)
            {
                if (candidates.get(i) != accepted)
                {
                    aeron.asyncRemovePublication(candidates.get(i).registrationId);
                }
            }
            candidates.clear();
            accepted = null;
            refusal = null;
        }
    }

    private Candidate addCandidate(final String channel)
    {
        final Candidate candidate = new Candidate(channel,
            aeron.asyncAddExclusivePublication(channel, context.ingressStreamId()), System.nanoTime());
        candidates.add(candidate);
        return candidate;
    }

    /**
     * Sends the candidate a Connect when it is due one and listens.
     *
     * @return false when the candidate can never be asked (the media driver refused its channel).
     */
    private boolean ask(
        final Candidate candidate, final long nowNs, final int responseStreamId, final String responseChannel)
    {
        if (null == candidate.publication)
        {
            if (null != candidate.driverRefusal)
            {
                return false;
            }
            try
            {
                candidate.publication = aeron.getExclusivePublication(candidate.registrationId);
            }
            catch (final RegistrationException ex)
            {
                candidate.driverRefusal = ex.getMessage();
                return false;
            }
            if (null == candidate.publication)
            {
                return true;
            }
        }
        if (0 != candidate.correlationId || nowNs - candidate.askAtNs < 0 || !candidate.publication.isConnected())
        {
            return true;
        }
        final long correlationId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        final byte[] token = context.token().getBytes(StandardCharsets.UTF_8);
        final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(control, 0, headerEncoder)
            .correlationId(correlationId)
            .tenant(context.tenant())
            .responseStreamId(responseStreamId)
            .role(role)
            .responseChannel(responseChannel)
            .putToken(token, 0, token.length);
        if (candidate.publication.offer(control, 0, MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength()) > 0)
        {
            candidate.correlationId = correlationId;
        }
        return true;
    }

    /**
     * A ConnectResponse ({@code leaderChannel} null, the decoder wrapped) or a NotLeader answering a Connect of the
     * search under way.
     */
    private void onConnectAnswer(final long correlationId, final String leaderChannel, final Header fragmentHeader)
    {
        Candidate candidate = null;
        for (int i = 0; i < candidates.size(); i++)
        {
            if (candidates.get(i).correlationId == correlationId)
            {
                candidate = candidates.get(i);
            }
        }
        if (null == candidate || null != accepted || null != refusal)
        {
            return; // an answer to an earlier Connect, or one after the search was decided
        }
        candidate.correlationId = 0;
        if (null == leaderChannel)
        {
            final ResultCode code = connectResponse.resultCode();
            if (code != ResultCode.OK)
            {
                refusal = new ConnectException(code, "connect refused: " + code + " " + connectResponse.detail());
                return;
            }
            accepted = candidate;
            nodeImage = subscription.imageBySessionId(fragmentHeader.sessionId());
            clientId = connectResponse.clientId();
            final long intervalMs = connectResponse.heartbeatIntervalMs();
            heartbeatIntervalNs = intervalMs == ConnectResponseDecoder.heartbeatIntervalMsNullValue() ||
                intervalMs <= 0 ? 0 : intervalMs * 1_000_000L;
            final long nodeIntervalMs = connectResponse.nodeHeartbeatIntervalMs();
            nodeSilentNs = nodeIntervalMs == ConnectResponseDecoder.nodeHeartbeatIntervalMsNullValue() ||
                nodeIntervalMs <= 0 ? 0 : ClientContext.NODE_SILENT_INTERVALS * nodeIntervalMs * 1_000_000L;
            return;
        }
        final long nowNs = System.nanoTime();
        candidate.askAtNs = nowNs + NO_LEADER_BACKOFF_MS * 1_000_000L;
        if (leaderChannel.isEmpty())
        {
            candidate.lastAnswer = "NotLeader naming none";
            return;
        }
        candidate.lastAnswer = "NotLeader naming " + leaderChannel;
        Candidate leader = null;
        for (int i = 0; i < candidates.size(); i++)
        {
            if (candidates.get(i).channel.equals(leaderChannel))
            {
                leader = candidates.get(i);
            }
        }
        if (null == leader && candidates.size() < maxCandidates)
        {
            leader = addCandidate(leaderChannel);
        }
        if (null != leader && 0 == leader.correlationId)
        {
            leader.askAtNs = nowNs;
        }
    }

    /** The accepted candidate becomes the connection. */
    private void keep(final Candidate candidate)
    {
        publication = candidate.publication;
        lastSentNs = System.nanoTime();
        lastHeardNs = lastSentNs;
        closedByNode = false;
        closeReported = false;
    }

    /** Why no member accepted: what each channel asked answered last, or why it did not. */
    private String searchFailure()
    {
        final StringBuilder failure = new StringBuilder(memberChannels.length == 0 ? "no connection within " :
            "no leader among " + memberChannels.length + " members within ");
        failure.append(context.connectTimeoutMs()).append(" ms:");
        for (int i = 0; i < candidates.size(); i++)
        {
            final Candidate candidate = candidates.get(i);
            failure.append(i == 0 ? " " : "; ").append(candidate.channel).append(" stream ")
                .append(context.ingressStreamId()).append(": ");
            if (null != candidate.driverRefusal)
            {
                failure.append("the media driver refused the channel: ").append(candidate.driverRefusal);
            }
            else if (null == candidate.publication || !candidate.publication.isConnected())
            {
                failure.append("no node listening");
            }
            else if (null != candidate.lastAnswer)
            {
                failure.append(candidate.lastAnswer);
            }
            else if (0 != candidate.correlationId)
            {
                failure.append("no answer to the connect request");
            }
            else
            {
                failure.append("the ingress did not take the connect request");
            }
        }
        return failure.toString();
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
            followedChannel = leaderChannel.isEmpty() ? null : leaderChannel;
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
        heardFromNode = false;
        final int fragments = subscription.poll(assembler, fragmentLimit);
        if (heardFromNode)
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
        return null != publication && publication.isConnected() && !nodeImage.isClosed() &&
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
        final int templateId = header.templateId();
        if (!candidates.isEmpty() && null == accepted)
        {
            // A search is under way: only answers to its Connects count until one accepts.
            if (templateId == ConnectResponseDecoder.TEMPLATE_ID)
            {
                connectResponse.wrap(buffer, body, header.blockLength(), header.version());
                onConnectAnswer(connectResponse.correlationId(), null, fragmentHeader);
            }
            else if (templateId == NotLeaderDecoder.TEMPLATE_ID)
            {
                notLeader.wrap(buffer, body, header.blockLength(), header.version());
                onConnectAnswer(notLeader.correlationId(), notLeader.leaderChannel(), fragmentHeader);
            }
            return;
        }
        if (fragmentHeader.sessionId() != nodeImage.sessionId())
        {
            return; // another member's late answer to a Connect
        }
        heardFromNode = true;
        switch (templateId)
        {
            case ConnectResponseDecoder.TEMPLATE_ID:
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
                // A member that stops leading says so to its connected clients (correlation id 0), then drops them.
                if (0 == notLeader.correlationId())
                {
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
        nodeImage = null;
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

    /** A channel asked in a search for the leader: its publication, made asynchronously, and what it answered. */
    private static final class Candidate
    {
        final String channel;
        final long registrationId;
        ExclusivePublication publication;
        /** Why the media driver would not make its publication, if it would not. */
        String driverRefusal;
        /** The Connect awaiting an answer, 0 for none. */
        long correlationId;
        /** When it may be asked (again, after a NotLeader). */
        long askAtNs;
        String lastAnswer;

        Candidate(final String channel, final long registrationId, final long askAtNs)
        {
            this.channel = channel;
            this.askAtNs = askAtNs;
            this.registrationId = registrationId;
        }
    }
}
