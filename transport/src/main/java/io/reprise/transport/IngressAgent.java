package io.reprise.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import io.aeron.Aeron;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.ControlledFragmentHandler.Action;
import io.aeron.logbuffer.Header;
import io.reprise.engine.cluster.MemberView;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.Engine;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.state.Destinations;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ConnectDecoder;
import io.reprise.schema.client.ConnectResponseEncoder;
import io.reprise.schema.client.ConnectionClosedEncoder;
import io.reprise.schema.client.DisconnectDecoder;
import io.reprise.schema.client.HeartbeatDecoder;
import io.reprise.schema.client.HeartbeatEncoder;
import io.reprise.schema.client.NotLeaderEncoder;
import io.reprise.schema.client.QuerySessionDecoder;
import io.reprise.schema.client.ResponseEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.WorkerAnnounceDecoder;
import io.reprise.schema.log.CancelSessionDecoder;
import io.reprise.schema.log.CancelSessionEncoder;
import io.reprise.schema.log.ConfigureDestinationDecoder;
import io.reprise.schema.log.ConfigureDestinationEncoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.RedriveDeadDecoder;
import io.reprise.schema.log.RedriveDeadEncoder;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.ReportOutcomeEncoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SaveSessionEncoder;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The node's ingress (ARCHITECTURE §3, §4): polls the IPC and UDP ingress subscriptions, authenticates clients
 * at connect (the token names the tenant and the roles it may connect as), and checks every operator frame, and
 * that the connection's role may send it, before it goes into the ring. A frame that fails a check gets a
 * response with the precise error code and never reaches the ring; a frame that cannot be answered (no connection
 * to answer on) is dropped and counted. The ingress writes the connection's client id and tenant into every
 * operator, so a client acts only on its own tenant. It drops a worker that has sent nothing, not even a heartbeat,
 * for its liveness timeout. It also drives the Aeron client's conductor, so image events arrive on this thread too,
 * and drains the clients' backlogs ({@link BacklogDrainer}) in the same duty cycle. {@code QuerySession} frames go
 * to the business logic's queue of queries, not to the ring.
 * <p>
 * A member of a cluster takes clients only while it leads: any other member answers a connect with a
 * {@code NotLeader} naming the leader's ingress, and a member that stops leading sends each connected client one and
 * closes its connection. A member that knows no leader (an election is on) holds a connect until it knows one, or
 * admits it if it is elected itself; at the end of the connect timeout it answers {@code NotLeader} all the same.
 */
final class IngressAgent implements Agent
{
    private static final int FRAGMENT_LIMIT = 64;
    private static final int MAX_HANDS = 1 << 16;
    private static final int CORRELATION_OFFSET = MessageHeaderDecoder.ENCODED_LENGTH + 8;
    private static final long REFRESH_EVERY_NS = 10_000_000L;
    /** Refused connects waiting to be answered; more are dropped unanswered. */
    private static final int MAX_REFUSALS_PENDING = 16;

    private final Aeron aeron;
    private final AgentInvoker conductor;
    /** Publications of connections whose image went during the conductor's turn, closed after it. */
    private final ArrayList<Publication> publicationsToClose = new ArrayList<>();
    private final TransportContext context;
    private final Engine node;
    /** The node's membership of a cluster, null standalone; and each member's client ingress channel. */
    private final MemberView member;
    private final String[] memberChannels;
    private final BusinessRules rules;
    private final ClientRegistry registry;
    private final NodeCounters counters;
    private final NanoClock clock;
    private final List<Ingress> ingresses = new ArrayList<>();
    private final List<PendingConnect> pendingConnects = new ArrayList<>();
    private final List<PendingJoin> pendingJoins = new ArrayList<>();
    private final BacklogDrainer drainer;

    private final MessageHeaderDecoder logHeader = new MessageHeaderDecoder();
    private final io.reprise.schema.client.MessageHeaderDecoder clientHeader =
        new io.reprise.schema.client.MessageHeaderDecoder();
    private final io.reprise.schema.client.MessageHeaderEncoder clientHeaderEncoder =
        new io.reprise.schema.client.MessageHeaderEncoder();
    private final ConnectDecoder connect = new ConnectDecoder();
    private final WorkerAnnounceDecoder announce = new WorkerAnnounceDecoder();
    private final QuerySessionDecoder query = new QuerySessionDecoder();
    private final ConnectResponseEncoder connectResponse = new ConnectResponseEncoder();
    private final ConnectionClosedEncoder connectionClosed = new ConnectionClosedEncoder();
    private final NotLeaderEncoder notLeader = new NotLeaderEncoder();
    private final UnsafeBuffer heartbeat = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
    private final int heartbeatLength;
    private long heartbeatSentAtNs;
    private final List<Connection> leaving = new ArrayList<>();
    private final List<Connection> silentWorkers = new ArrayList<>();
    private final long workerLivenessTimeoutNs;
    /** The clock, read once per duty cycle. */
    private long nowNs;
    private final ResponseEncoder response = new ResponseEncoder();
    private final SaveSessionEncoder saveEncoder = new SaveSessionEncoder();
    private final CancelSessionEncoder cancelEncoder = new CancelSessionEncoder();
    private final ReportOutcomeEncoder reportEncoder = new ReportOutcomeEncoder();
    private final RedriveDeadEncoder redriveEncoder = new RedriveDeadEncoder();
    private final ConfigureDestinationEncoder configureEncoder = new ConfigureDestinationEncoder();
    private final ExpandableDirectByteBuffer operator = new ExpandableDirectByteBuffer(4096);
    private final UnsafeBuffer reply = new UnsafeBuffer(ByteBuffer.allocateDirect(512));
    private long refreshedAtNs;

    IngressAgent(
        final Aeron aeron,
        final TransportContext context,
        final Engine node,
        final MemberView member,
        final BusinessRules rules,
        final ClientRegistry registry,
        final NodeCounters counters,
        final NanoClock clock)
    {
        this.aeron = aeron;
        this.conductor = aeron.conductorAgentInvoker();
        this.context = context;
        this.node = node;
        this.member = member;
        this.memberChannels = null == member ? null : context.clusterIngressChannels();
        this.rules = rules;
        this.registry = registry;
        this.counters = counters;
        this.clock = clock;
        this.workerLivenessTimeoutNs = context.workerLivenessTimeoutMs() * 1_000_000L;
        this.drainer = new BacklogDrainer(counters, context.connectTimeoutMs() * 1_000_000L, this::onClientTooSlow);
        this.heartbeatLength = io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + new HeartbeatEncoder()
            .wrapAndApplyHeader(heartbeat, 0, new io.reprise.schema.client.MessageHeaderEncoder())
            .correlationId(0).encodedLength();
    }

    public void onStart()
    {
        addIngress(context.ingressIpcChannel());
        if (null != context.ingressUdpChannel())
        {
            addIngress(context.ingressUdpChannel());
        }
    }

    private void addIngress(final String channel)
    {
        final Ingress ingress = new Ingress();
        ingress.subscription = aeron.addSubscription(channel, context.ingressStreamId(), null,
            (image) -> onImageGone(ingress, image));
        ingress.assembler = new ControlledFragmentAssembler((buffer, offset, length, header) ->
            onFragment(ingress, buffer, offset, length, header));
        ingresses.add(ingress);
    }

    public int doWork()
    {
        if (aeron.isClosed())
        {
            // Its buffers are unmapped: touching a publication or counter now would crash the JVM.
            throw new org.agrona.concurrent.AgentTerminationException("the node's Aeron client closed");
        }
        nowNs = clock.nanoTime();
        int work = null == conductor ? 0 : conductor.invoke();
        if (!publicationsToClose.isEmpty())
        {
            work += closePublicationsOfGoneClients();
        }
        for (int i = 0; i < ingresses.size(); i++)
        {
            final Ingress ingress = ingresses.get(i);
            work += ingress.subscription.controlledPoll(ingress.assembler, FRAGMENT_LIMIT);
        }
        if (!pendingConnects.isEmpty())
        {
            work += answerConnects(nowNs);
        }
        work += drainer.doWork(nowNs);
        if (!pendingJoins.isEmpty())
        {
            work += joinAnnouncedWorkers();
        }
        if (nowNs - refreshedAtNs >= REFRESH_EVERY_NS)
        {
            refreshedAtNs = nowNs;
            counters.refresh(node, nowNs);
            work += dropSilentWorkers();
            if (null != member && !member.acceptsClients() && registry.connected() > 0)
            {
                work += sendClientsToLeader();
            }
        }
        if (nowNs - heartbeatSentAtNs >= TransportContext.NODE_HEARTBEAT_INTERVAL_MS * 1_000_000L)
        {
            heartbeatSentAtNs = nowNs;
            work += heartbeatClients();
        }
        return work;
    }

    /**
     * Every connected client hears from the node at least every {@link TransportContext#NODE_HEARTBEAT_INTERVAL_MS}:
     * one that hears nothing for several intervals knows the node is gone (a member killed, a machine lost) without
     * waiting for its media driver's publication timeout, and goes on at another member.
     */
    private int heartbeatClients()
    {
        int sent = 0;
        for (int i = 0; i < ingresses.size(); i++)
        {
            for (final Connection connection : ingresses.get(i).bySession.values())
            {
                // A full backlog means the connection is being closed for it; nothing more is needed then.
                if (connection.hearsHeartbeats() &&
                    connection.backlog.send(connection.publication, heartbeat, 0, heartbeatLength))
                {
                    sent++;
                }
            }
        }
        return sent;
    }

    /**
     * Drops every worker that has sent nothing for its liveness timeout: the repeat process hears it left, so no
     * attempt goes to it again and those it holds return when their leases run out. It is told why, if it still
     * listens.
     */
    private int dropSilentWorkers()
    {
        for (int i = 0; i < ingresses.size(); i++)
        {
            for (final Connection connection : ingresses.get(i).bySession.values())
            {
                if (connection.role == ClientRole.WORKER && nowNs - connection.lastHeardNs > workerLivenessTimeoutNs)
                {
                    silentWorkers.add(connection);
                }
            }
        }
        final int dropped = silentWorkers.size();
        for (int i = 0; i < dropped; i++)
        {
            final Connection connection = silentWorkers.get(i);
            connectionClosed.wrapAndApplyHeader(reply, 0, clientHeaderEncoder)
                .clientId(connection.clientId)
                .reason(ResultCode.CLIENT_SILENT)
                .detail("nothing heard for " + (nowNs - connection.lastHeardNs) / 1_000_000 + " ms; liveness timeout " +
                    context.workerLivenessTimeoutMs() + " ms");
            Egress.offer(connection.publication, reply,
                io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + connectionClosed.encodedLength());
            counters.get(NodeCounters.WORKERS_SILENT).increment();
            closeConnection(ingressOf(connection), connection);
        }
        silentWorkers.clear();
        return dropped;
    }

    /**
     * This member does not lead (it stepped down, or is handing its leadership over): every client is told where the
     * leader is, after what its backlog holds, and its connection closes. Workers leave the repeat process here; the
     * attempts they hold stay theirs on the new leader until their leases run out.
     */
    private int sendClientsToLeader()
    {
        for (int i = 0; i < ingresses.size(); i++)
        {
            leaving.addAll(ingresses.get(i).bySession.values());
        }
        final int count = leaving.size();
        for (int i = 0; i < count; i++)
        {
            final Connection connection = leaving.get(i);
            final int length = encodeNotLeader(0);
            if (!connection.backlog.send(connection.publication, reply, 0, length))
            {
                counters.get(NodeCounters.RESPONSES_DROPPED).increment();
            }
            detach(ingressOf(connection), connection);
            drainer.closeAfterBacklog(connection, nowNs);
        }
        leaving.clear();
        return count;
    }

    /**
     * A {@code NotLeader} in {@link #reply}: the leader this member knows and its ingress channel, or -1 and "" while
     * none is known or this member is still becoming the leader (the client then tries again).
     *
     * @return its length.
     */
    private int encodeNotLeader(final long correlationId)
    {
        final int leader = member.leaderId();
        final boolean elsewhere = leader >= 0 && leader < memberChannels.length && leader != member.memberId();
        notLeader.wrapAndApplyHeader(reply, 0, clientHeaderEncoder)
            .correlationId(correlationId)
            .leaderMemberId(elsewhere ? leader : MemberView.NONE)
            .leaderChannel(elsewhere ? memberChannels[leader] : "");
        return io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + notLeader.encodedLength();
    }

    private Ingress ingressOf(final Connection connection)
    {
        for (int i = 0; i < ingresses.size(); i++)
        {
            if (ingresses.get(i).subscription == connection.source)
            {
                return ingresses.get(i);
            }
        }
        throw new IllegalStateException("no ingress for " + connection);
    }

    public void onClose()
    {
        for (final Ingress ingress : ingresses)
        {
            for (final Connection connection : ingress.bySession.values())
            {
                registry.remove(connection);
                connection.publication.close();
            }
            ingress.subscription.close();
        }
        drainer.close();
        for (final PendingConnect pending : pendingConnects)
        {
            if (null == pending.connection)
            {
                pending.publication.close();
            }
        }
    }

    public String roleName()
    {
        return "ingress";
    }

    // ------------------------------------------------------------------------------------------ frames

    /**
     * A full ring leaves the frame where it is ({@code ABORT}): it is polled again later, and meanwhile the
     * client's own publication fills and its offers report back-pressure. Nothing is refused for being early.
     */
    private Action onFragment(
        final Ingress ingress, final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final Connection connection = ingress.bySession.get(header.sessionId());
        if (null != connection)
        {
            connection.lastHeardNs = nowNs;
        }
        final int schemaId = length < MessageHeaderDecoder.ENCODED_LENGTH ? -1 :
            buffer.getShort(offset + 4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        if (schemaId == MessageHeaderDecoder.SCHEMA_ID && !onOperator(connection, buffer, offset, length))
        {
            return Action.ABORT;
        }
        counters.get(NodeCounters.INGRESS_FRAMES).increment();
        if (schemaId == -1)
        {
            refuse(connection, 0, 0, ResultCode.MALFORMED_FRAME);
        }
        else if (schemaId == io.reprise.schema.client.MessageHeaderDecoder.SCHEMA_ID)
        {
            onClientMessage(ingress, connection, buffer, offset, length, header);
        }
        else if (schemaId != MessageHeaderDecoder.SCHEMA_ID)
        {
            refuse(connection, 0, 0, ResultCode.UNSUPPORTED_SCHEMA);
        }
        return Action.CONTINUE;
    }

    /** @return false when the ring is full and the frame must wait; true when it was dealt with. */
    private boolean onOperator(final Connection connection, final DirectBuffer buffer, final int offset, final int length)
    {
        logHeader.wrap(buffer, offset);
        final int templateId = logHeader.templateId();
        final long correlationId = length >= CORRELATION_OFFSET + 8 ?
            buffer.getLong(offset + CORRELATION_OFFSET, ByteOrder.LITTLE_ENDIAN) : 0;
        if (null == connection)
        {
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return true;
        }
        final ResultCode frameCheck = check(buffer, offset, length);
        final ResultCode check = frameCheck != ResultCode.OK ? frameCheck : checkRole(connection, buffer, offset);
        if (check != ResultCode.OK)
        {
            refuse(connection, correlationId, templateId, check);
            return true;
        }
        operator.putBytes(0, buffer, offset, length);
        stamp(templateId, connection);
        final ResultCode offered = node.offer(operator, 0, length);
        if (offered == ResultCode.BACK_PRESSURE)
        {
            return false;
        }
        if (offered != ResultCode.OK)
        {
            refuse(connection, correlationId, templateId, offered);
        }
        return true;
    }

    /**
     * Everything about a client operator frame that can be checked without the state: header, template, lengths
     * and limits. What needs the state (unknown session, invalid policy) the business logic answers.
     */
    private ResultCode check(final DirectBuffer buffer, final int offset, final int length)
    {
        if (logHeader.version() > MessageHeaderDecoder.SCHEMA_VERSION)
        {
            return ResultCode.UNSUPPORTED_VERSION;
        }
        final int blockLength = logHeader.blockLength();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int end = offset + length;
        switch (logHeader.templateId())
        {
            case SaveSessionDecoder.TEMPLATE_ID:
                return checkVarData(buffer, SaveSessionDecoder.BLOCK_LENGTH, blockLength, body, end,
                    rules.maxPayloadBytes(), ResultCode.PAYLOAD_TOO_LARGE);
            case ReportOutcomeDecoder.TEMPLATE_ID:
                return checkVarData(buffer, BusinessLogic.reportBlockLength(logHeader.version()), blockLength, body, end,
                    rules.maxErrorTextBytes(), ResultCode.ERROR_TEXT_TOO_LARGE);
            case CancelSessionDecoder.TEMPLATE_ID:
                return checkFixed(CancelSessionDecoder.BLOCK_LENGTH, blockLength, body, end);
            case RedriveDeadDecoder.TEMPLATE_ID:
                return checkFixed(RedriveDeadDecoder.BLOCK_LENGTH, blockLength, body, end);
            case ConfigureDestinationDecoder.TEMPLATE_ID:
                return checkFixed(ConfigureDestinationDecoder.BLOCK_LENGTH, blockLength, body, end);
            default:
                // The system operators (BeginRepeats, SetTime, NewLeaderTerm) come only from the node itself.
                return ResultCode.UNKNOWN_TEMPLATE;
        }
    }

    /**
     * What the connection's role may send (docs/client.md): a worker reports, a controller does everything else. A
     * report must be of log schema version 2 on, whose destination can be checked, and name a destination the
     * worker announced; the business logic then checks that it is the session's. Reads a well-formed frame.
     */
    private ResultCode checkRole(final Connection connection, final DirectBuffer buffer, final int offset)
    {
        final boolean report = logHeader.templateId() == ReportOutcomeDecoder.TEMPLATE_ID;
        if (report != (connection.role == ClientRole.WORKER))
        {
            return ResultCode.ROLE_NOT_ALLOWED;
        }
        if (!report)
        {
            return ResultCode.OK;
        }
        if (!BusinessLogic.reportNamesDestination(logHeader.version()))
        {
            return ResultCode.UNSUPPORTED_VERSION;
        }
        final int destination = buffer.getInt(offset + MessageHeaderDecoder.ENCODED_LENGTH +
            ReportOutcomeDecoder.destinationEncodingOffset(), ByteOrder.LITTLE_ENDIAN);
        return connection.serves(destination) ? ResultCode.OK : ResultCode.ROLE_NOT_ALLOWED;
    }

    private static ResultCode checkFixed(final int minBlockLength, final int blockLength, final int body, final int end)
    {
        return blockLength >= minBlockLength && body + blockLength == end ? ResultCode.OK : ResultCode.MALFORMED_FRAME;
    }

    /** A fixed block followed by exactly one var-data field that ends the frame. */
    private static ResultCode checkVarData(
        final DirectBuffer buffer, final int minBlockLength, final int blockLength, final int body, final int end,
        final int maxVarLength, final ResultCode tooLarge)
    {
        final int lengthAt = body + blockLength;
        if (blockLength < minBlockLength || lengthAt + Integer.BYTES > end)
        {
            return ResultCode.MALFORMED_FRAME;
        }
        final long varLength = buffer.getInt(lengthAt, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (lengthAt + Integer.BYTES + varLength != end)
        {
            return ResultCode.MALFORMED_FRAME;
        }
        return varLength > maxVarLength ? tooLarge : ResultCode.OK;
    }

    /** Overwrites client id and tenant with the connection's: what a client claims there does not count. */
    private void stamp(final int templateId, final Connection connection)
    {
        final int body = MessageHeaderDecoder.ENCODED_LENGTH;
        switch (templateId)
        {
            case SaveSessionDecoder.TEMPLATE_ID:
                saveEncoder.wrap(operator, body).clientId(connection.clientId).tenant(connection.tenant);
                break;
            case ReportOutcomeDecoder.TEMPLATE_ID:
                reportEncoder.wrap(operator, body).clientId(connection.clientId).tenant(connection.tenant);
                break;
            case CancelSessionDecoder.TEMPLATE_ID:
                cancelEncoder.wrap(operator, body).clientId(connection.clientId).tenant(connection.tenant);
                break;
            case RedriveDeadDecoder.TEMPLATE_ID:
                redriveEncoder.wrap(operator, body).clientId(connection.clientId).tenant(connection.tenant);
                break;
            default:
                configureEncoder.wrap(operator, body).clientId(connection.clientId).tenant(connection.tenant);
                break;
        }
    }

    private void onClientMessage(
        final Ingress ingress, final Connection connection, final DirectBuffer buffer, final int offset,
        final int length, final Header header)
    {
        clientHeader.wrap(buffer, offset);
        final int templateId = clientHeader.templateId();
        final int blockLength = clientHeader.blockLength();
        final int body = offset + clientHeader.encodedLength();
        final long correlationId = length >= clientHeader.encodedLength() + 8 ?
            buffer.getLong(offset + clientHeader.encodedLength(), ByteOrder.LITTLE_ENDIAN) : 0;
        if (clientHeader.version() > io.reprise.schema.client.MessageHeaderDecoder.SCHEMA_VERSION)
        {
            refuse(connection, correlationId, templateId, ResultCode.UNSUPPORTED_VERSION);
            return;
        }
        switch (templateId)
        {
            case ConnectDecoder.TEMPLATE_ID:
                onConnect(ingress, buffer, body, blockLength, offset + length, header.sessionId());
                break;
            case WorkerAnnounceDecoder.TEMPLATE_ID:
                onAnnounce(connection, buffer, body, blockLength, offset + length, correlationId);
                break;
            case HeartbeatDecoder.TEMPLATE_ID:
                // Heard: that is all a heartbeat says. Only a malformed one gets an answer.
                if (blockLength < HeartbeatDecoder.BLOCK_LENGTH || body + blockLength != offset + length)
                {
                    refuse(connection, correlationId, templateId, ResultCode.MALFORMED_FRAME);
                }
                break;
            case QuerySessionDecoder.TEMPLATE_ID:
                onQuery(connection, buffer, body, blockLength, offset + length, correlationId);
                break;
            case DisconnectDecoder.TEMPLATE_ID:
                if (null != connection && blockLength >= DisconnectDecoder.BLOCK_LENGTH &&
                    body + blockLength == offset + length)
                {
                    closeConnection(ingress, connection);
                }
                else
                {
                    refuse(connection, correlationId, templateId, ResultCode.MALFORMED_FRAME);
                }
                break;
            default:
                refuse(connection, correlationId, templateId, ResultCode.UNKNOWN_TEMPLATE);
                break;
        }
    }

    private void onConnect(
        final Ingress ingress, final DirectBuffer buffer, final int body, final int blockLength, final int end,
        final int imageSessionId)
    {
        if (blockLength < ConnectDecoder.BLOCK_LENGTH || body + blockLength > end)
        {
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }
        connect.wrap(buffer, body, blockLength, clientHeader.version());
        final String channel;
        final byte[] token;
        try
        {
            final int channelLength = varLength(buffer, connect.limit(), end, 4096);
            channel = connect.responseChannel();
            final int tokenLength = varLength(buffer, connect.limit(), end, 4096);
            token = new byte[tokenLength];
            connect.getToken(token, 0, tokenLength);
            if (connect.limit() != end || channelLength == 0)
            {
                throw new IllegalArgumentException("trailing bytes or empty channel");
            }
        }
        catch (final RuntimeException ex)
        {
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }

        final TokenGrant grant = context.grantOf(new String(token, java.nio.charset.StandardCharsets.UTF_8));
        final short rawRole = connect.roleRaw();
        final ClientRole role = rawRole == ClientRole.CONTROLLER.value() ? ClientRole.CONTROLLER :
            rawRole == ClientRole.WORKER.value() ? ClientRole.WORKER : null;
        final String refusal = authenticationRefusal(grant, connect.tenant(), role);
        if (null != refusal && refusalsPending() >= MAX_REFUSALS_PENDING)
        {
            // An answer needs a publication to the sender's channel: unauthenticated senders get only a few.
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }
        final Publication publication;
        try
        {
            publication = aeron.addPublication(channel, connect.responseStreamId());
        }
        catch (final RuntimeException ex)
        {
            // Nowhere to answer: a channel the driver refuses.
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }
        final PendingConnect pending = new PendingConnect(publication, connect.correlationId(),
            clock.nanoTime() + context.connectTimeoutMs() * 1_000_000L, ingress, imageSessionId,
            null == grant ? 0 : grant.tenant(), role, clientHeader.version());
        if (null != refusal)
        {
            pending.code = ResultCode.AUTHENTICATION_FAILED;
            pending.detail = refusal;
        }
        else if (null == role)
        {
            pending.code = ResultCode.INVALID_ARGUMENT;
            pending.detail = "unknown role " + rawRole;
        }
        else if (null != member && !member.acceptsClients())
        {
            // Answered with a NotLeader naming the leader as it is known when the answer goes.
            pending.code = ResultCode.NOT_LEADER;
            pending.detail = "";
        }
        else
        {
            admit(pending);
        }
        pendingConnects.add(pending);
    }

    /** The client of an accepted connect gets its connection, unless the connections are full. */
    private void admit(final PendingConnect pending)
    {
        final Ingress ingress = pending.ingress;
        final Connection old = ingress.bySession.get(pending.imageSessionId);
        if (null != old)
        {
            closeConnection(ingress, old);
        }
        final long clientId = registry.nextClientId();
        if (clientId < 0)
        {
            pending.code = ResultCode.CAPACITY_EXHAUSTED;
            pending.detail = "connections full: " + context.maxConnections();
            return;
        }
        final Connection connection = new Connection(clientId, pending.tenant, pending.role, pending.publication,
            new ClientBacklog(context.clientBacklogBytes()), ingress.subscription, pending.imageSessionId,
            pending.clientVersion);
        connection.lastHeardNs = nowNs;
        registry.add(connection);
        drainer.add(connection);
        ingress.bySession.put(pending.imageSessionId, connection);
        counters.get(NodeCounters.CONNECTIONS).setOrdered(registry.connected());
        pending.connection = connection;
        pending.code = ResultCode.OK;
        pending.detail = "";
    }

    /**
     * Whether this member knows no leader to send a client to: an election is on, it is becoming the leader, or its
     * leader has been silent for two heartbeats (it may have died: the client that asks has most likely lost it). A
     * connect to be answered NotLeader waits meanwhile, so that its client hears of the leader at once, or is accepted
     * here if this member is elected, without asking again.
     */
    private boolean knowsNoLeader()
    {
        final int leader = member.leaderId();
        return leader < 0 || leader == member.memberId() || !member.hearsLeader();
    }

    /**
     * Why a connect with this token may not have this tenant and role, or null when it may (an unknown role is
     * answered after this, as an invalid argument). The reason names the tenant and role asked for, never a token.
     */
    private static String authenticationRefusal(final TokenGrant grant, final int tenant, final ClientRole role)
    {
        if (null == grant || grant.tenant() != tenant)
        {
            return "token not valid for tenant " + tenant;
        }
        if (null != role && !grant.grants(role))
        {
            return "token of tenant " + tenant + " does not grant the role " + role;
        }
        return null;
    }

    private int refusalsPending()
    {
        int refusals = 0;
        for (int i = 0; i < pendingConnects.size(); i++)
        {
            final PendingConnect pending = pendingConnects.get(i);
            refusals += null == pending.connection && pending.code != ResultCode.NOT_LEADER ? 1 : 0;
        }
        return refusals;
    }

    /** The length of the var-data field at the decoder's limit, checked against the frame end and a bound. */
    private static int varLength(final DirectBuffer buffer, final int limit, final int end, final int max)
    {
        if (limit + Integer.BYTES > end)
        {
            throw new IllegalArgumentException("var data header past the end");
        }
        final long length = buffer.getInt(limit, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (length > max || limit + Integer.BYTES + length > end)
        {
            throw new IllegalArgumentException("var data past the end");
        }
        return (int)length;
    }

    /** Connect responses wait until the client's response subscription is there to receive them. */
    private int answerConnects(final long nowNs)
    {
        int answered = 0;
        for (int i = pendingConnects.size() - 1; i >= 0; i--)
        {
            final PendingConnect pending = pendingConnects.get(i);
            boolean expired = nowNs > pending.deadlineNs;
            if (pending.code == ResultCode.NOT_LEADER && !expired)
            {
                if (member.acceptsClients())
                {
                    // Elected while it held the connect: the client is taken here, if it is still there.
                    if (null != pending.ingress.subscription.imageBySessionId(pending.imageSessionId))
                    {
                        admit(pending);
                    }
                    else
                    {
                        expired = true;
                    }
                }
                else if (knowsNoLeader())
                {
                    continue;
                }
            }
            if (!pending.publication.isConnected() && !expired)
            {
                continue;
            }
            // A NotLeader held to the end still goes, naming the leader as known then (mostly none): the client asks again.
            final boolean sent = (!expired || pending.code == ResultCode.NOT_LEADER) &&
                pending.publication.isConnected() && sendConnectResponse(pending);
            if (sent && null != pending.connection)
            {
                // What waits for this client may follow its connect response now.
                pending.connection.backlog.open();
            }
            if (sent || expired)
            {
                pendingConnects.remove(i);
                answered++;
                if (null == pending.connection)
                {
                    pending.publication.close();
                    counters.get(NodeCounters.INGRESS_REFUSED).increment();
                }
            }
        }
        return answered;
    }

    private boolean sendConnectResponse(final PendingConnect pending)
    {
        if (pending.code == ResultCode.NOT_LEADER)
        {
            return Egress.offer(pending.publication, reply, encodeNotLeader(pending.correlationId));
        }
        connectResponse.wrapAndApplyHeader(reply, 0, clientHeaderEncoder)
            .correlationId(pending.correlationId)
            .clientId(null == pending.connection ? 0 : pending.connection.clientId)
            .leaderMemberId(0)
            .resultCode(pending.code)
            .heartbeatIntervalMs(null != pending.connection && pending.connection.role == ClientRole.WORKER ?
                context.workerHeartbeatIntervalMs() : ConnectResponseEncoder.heartbeatIntervalMsNullValue())
            .nodeHeartbeatIntervalMs(TransportContext.NODE_HEARTBEAT_INTERVAL_MS)
            .detail(pending.detail);
        return Egress.offer(pending.publication, reply,
            io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + connectResponse.encodedLength());
    }

    private void onAnnounce(
        final Connection connection, final DirectBuffer buffer, final int body, final int blockLength, final int end,
        final long correlationId)
    {
        if (null == connection)
        {
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }
        if (connection.role != ClientRole.WORKER)
        {
            refuse(connection, correlationId, WorkerAnnounceDecoder.TEMPLATE_ID, ResultCode.ROLE_NOT_ALLOWED);
            return;
        }
        final int groupHeader = 4;
        if (blockLength < WorkerAnnounceDecoder.BLOCK_LENGTH || body + blockLength + groupHeader > end)
        {
            refuse(connection, correlationId, WorkerAnnounceDecoder.TEMPLATE_ID, ResultCode.MALFORMED_FRAME);
            return;
        }
        announce.wrap(buffer, body, blockLength, clientHeader.version());
        final int hands = announce.attemptsInHand();
        final int groupBlock = buffer.getShort(body + blockLength, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        final int count = buffer.getShort(body + blockLength + 2, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        if (groupBlock < 4 || body + blockLength + groupHeader + (long)groupBlock * count != end)
        {
            refuse(connection, correlationId, WorkerAnnounceDecoder.TEMPLATE_ID, ResultCode.MALFORMED_FRAME);
            return;
        }
        final int[] destinations = new int[count];
        final WorkerAnnounceDecoder.DestinationsDecoder group = announce.destinations();
        for (int i = 0; i < count; i++)
        {
            destinations[i] = group.next().destination();
        }
        final DestinationFigures figures = node.destinationFigures();
        ResultCode code = hands < 1 || hands > MAX_HANDS || count == 0 ? ResultCode.INVALID_ARGUMENT : ResultCode.OK;
        for (int i = 0; i < count && code == ResultCode.OK; i++)
        {
            if (destinations[i] < 0 || destinations[i] >= figures.count())
            {
                code = ResultCode.INVALID_ARGUMENT;
            }
            else
            {
                final int owner = figures.get(destinations[i], DestinationFigures.OWNER);
                if (owner != Destinations.NO_OWNER && owner != connection.tenant)
                {
                    code = ResultCode.FOREIGN_DESTINATION;
                }
            }
        }
        if (connection.announced)
        {
            // A second announcement would forget what the worker holds and overfill its hands.
            code = ResultCode.INVALID_ARGUMENT;
        }
        respond(connection, correlationId, WorkerAnnounceDecoder.TEMPLATE_ID, code, count);
        if (code == ResultCode.OK)
        {
            connection.announced(destinations);
            joinOnceAnswered(connection, destinations, hands);
        }
        else
        {
            counters.get(NodeCounters.INGRESS_REFUSED).increment();
        }
    }

    /**
     * Called by the Aeron client's conductor, which this thread runs: a publication cannot be closed inside its
     * callbacks (Aeron refuses reentrant calls), so the connection's is closed once the conductor's turn is over.
     */
    private void onImageGone(final Ingress ingress, final Image image)
    {
        final Connection connection = ingress.bySession.get(image.sessionId());
        if (null != connection)
        {
            drainer.remove(connection);
            detach(ingress, connection);
            publicationsToClose.add(connection.publication);
        }
    }

    private int closePublicationsOfGoneClients()
    {
        final int count = publicationsToClose.size();
        for (int i = 0; i < count; i++)
        {
            publicationsToClose.get(i).close();
        }
        publicationsToClose.clear();
        return count;
    }

    private void closeConnection(final Ingress ingress, final Connection connection)
    {
        drainer.remove(connection);
        detach(ingress, connection);
        connection.publication.close();
    }

    /** Removes the connection everywhere but leaves its publication open. */
    private void detach(final Ingress ingress, final Connection connection)
    {
        connection.closed = true;
        ingress.bySession.remove(connection.imageSessionId);
        registry.remove(connection);
        counters.get(NodeCounters.CONNECTIONS).setOrdered(registry.connected());
        if (connection.role == ClientRole.WORKER)
        {
            node.workerLeft(connection.clientId);
        }
    }

    /**
     * The client's backlog overflowed: it is closed as a disconnect closes it, except for its publication, which
     * the drainer keeps to deliver what the backlog holds and why the connection closed.
     */
    private void onClientTooSlow(final Connection connection)
    {
        for (int i = 0; i < ingresses.size(); i++)
        {
            final Ingress ingress = ingresses.get(i);
            if (ingress.subscription == connection.source && ingress.bySession.get(connection.imageSessionId) ==
                connection)
            {
                detach(ingress, connection);
                return;
            }
        }
    }

    // ------------------------------------------------------------------------------------------ queries

    /**
     * {@code QuerySession}: the business logic answers it from the applied state with a {@code SessionState}, for
     * the connection's own tenant. Not journaled. A full queue of queries is answered {@code BACK_PRESSURE}.
     */
    private void onQuery(
        final Connection connection, final DirectBuffer buffer, final int body, final int blockLength, final int end,
        final long correlationId)
    {
        if (null == connection)
        {
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }
        if (blockLength < QuerySessionDecoder.BLOCK_LENGTH || body + blockLength != end)
        {
            refuse(connection, correlationId, QuerySessionDecoder.TEMPLATE_ID, ResultCode.MALFORMED_FRAME);
            return;
        }
        query.wrap(buffer, body, blockLength, clientHeader.version());
        final ResultCode code = node.querySession(connection.clientId, correlationId, connection.tenant,
            query.sessionId());
        if (code != ResultCode.OK)
        {
            refuse(connection, correlationId, QuerySessionDecoder.TEMPLATE_ID, code);
        }
    }

    // ------------------------------------------------------------------------------------------ workers

    /**
     * The repeat process hears of an announced worker only once the answer is out of its backlog: its attempts go to
     * the publication directly, and the worker must read the answer first.
     */
    private void joinOnceAnswered(final Connection connection, final int[] destinations, final int hands)
    {
        final PendingJoin join = new PendingJoin(connection, destinations, hands, connection.backlog.appended());
        if (!join(join))
        {
            pendingJoins.add(join);
        }
    }

    private int joinAnnouncedWorkers()
    {
        int joined = 0;
        for (int i = pendingJoins.size() - 1; i >= 0; i--)
        {
            if (join(pendingJoins.get(i)))
            {
                pendingJoins.remove(i);
                joined++;
            }
        }
        return joined;
    }

    /** @return true when the worker joined, or never will (its connection closed). */
    private boolean join(final PendingJoin join)
    {
        final Connection connection = join.connection;
        if (connection.closed || connection.backlog.isOverflowed())
        {
            return true;
        }
        if (connection.backlog.drained() < join.answeredAt)
        {
            return false;
        }
        node.workerJoined(connection.clientId, connection.tenant, join.destinations, join.hands);
        return true;
    }

    /** Answers a refused frame, or counts it dropped when there is no connection to answer on. */
    private void refuse(
        final Connection connection, final long correlationId, final int templateId, final ResultCode code)
    {
        if (null == connection)
        {
            counters.get(NodeCounters.INGRESS_DROPPED).increment();
            return;
        }
        counters.get(NodeCounters.INGRESS_REFUSED).increment();
        respond(connection, correlationId, templateId, code, 0);
    }

    private void respond(
        final Connection connection, final long correlationId, final int templateId, final ResultCode code,
        final long value)
    {
        response.wrapAndApplyHeader(reply, 0, clientHeaderEncoder)
            .correlationId(correlationId)
            .value(value)
            .operatorTemplateId(templateId & 0xFFFF)
            .resultCode(connection.readable(code))
            .detail("");
        if (!connection.backlog.send(connection.publication, reply, 0,
            io.reprise.schema.client.MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength()))
        {
            counters.get(NodeCounters.RESPONSES_DROPPED).increment();
        }
    }

    private static final class Ingress
    {
        Subscription subscription;
        ControlledFragmentAssembler assembler;
        final Int2ObjectHashMap<Connection> bySession = new Int2ObjectHashMap<>();
    }

    /** An announced worker the repeat process hears of once its answer is out. */
    private static final class PendingJoin
    {
        final Connection connection;
        final int[] destinations;
        final int hands;
        /** The backlog's append position just after the answer. */
        final long answeredAt;

        PendingJoin(final Connection connection, final int[] destinations, final int hands, final long answeredAt)
        {
            this.connection = connection;
            this.destinations = destinations;
            this.hands = hands;
            this.answeredAt = answeredAt;
        }
    }

    private static final class PendingConnect
    {
        final Publication publication;
        final long correlationId;
        final long deadlineNs;
        final Ingress ingress;
        final int imageSessionId;
        final int tenant;
        final ClientRole role;
        final int clientVersion;
        Connection connection;
        ResultCode code;
        String detail;

        PendingConnect(
            final Publication publication, final long correlationId, final long deadlineNs, final Ingress ingress,
            final int imageSessionId, final int tenant, final ClientRole role, final int clientVersion)
        {
            this.publication = publication;
            this.correlationId = correlationId;
            this.deadlineNs = deadlineNs;
            this.ingress = ingress;
            this.imageSessionId = imageSessionId;
            this.tenant = tenant;
            this.role = role;
            this.clientVersion = clientVersion;
        }
    }
}
