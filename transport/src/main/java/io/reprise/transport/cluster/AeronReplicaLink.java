package io.reprise.transport.cluster;

import io.aeron.Aeron;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.reprise.engine.cluster.ReplicaLink;
import io.reprise.schema.cluster.AppendEntriesDecoder;
import io.reprise.schema.cluster.InstallSnapshotDecoder;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;

/**
 * A member's {@link ReplicaLink} over Aeron UDP, for a static membership. Each member receives on one endpoint on
 * three streams, and holds three exclusive publications to each other member's endpoint:
 * <pre>
 *   consensus  RequestVote, Vote, AppendResponse, TimeoutNow, InstallAck, anything else
 *   append     AppendEntries
 *   catch-up   InstallSnapshot
 * </pre>
 * Messages are routed by the template id of their SBE header, so the protocol above does not know of streams; a
 * full install on its own stream never delays live replication, and votes never wait behind entries.
 * <p>
 * {@link #send} makes one offer: false when the member is not connected, pushes back, or the message is too long
 * for its stream. {@link #poll} reassembles fragmented messages. Neither allocates. One thread sends and polls.
 */
public final class AeronReplicaLink implements ReplicaLink, AutoCloseable
{
    public static final int CONSENSUS_STREAM_ID = 1101;
    public static final int APPEND_STREAM_ID = 1102;
    public static final int CATCH_UP_STREAM_ID = 1103;

    /**
     * Aeron takes messages up to an eighth of a term. AppendEntries and InstallSnapshot carry up to one maximal
     * operator or chunk, just over 1 MiB: 16 MiB terms take 2 MiB messages, 8 MiB ones stop at exactly 1 MiB. It is
     * the driver's default too, set on the channel so that a driver configured otherwise does not change it.
     * The cost: 3 terms, 48 MiB of log buffer, per publication and per image.
     */
    static final int ENTRIES_TERM_LENGTH = 16 * 1024 * 1024;
    /** Consensus messages are under 100 bytes: 1 MiB terms take 128 KiB, room for new ones at 3 MiB a log. */
    static final int CONSENSUS_TERM_LENGTH = 1024 * 1024;

    private static final int CONSENSUS = 0;
    private static final int APPEND = 1;
    private static final int CATCH_UP = 2;
    private static final int STREAMS = 3;
    private static final int[] STREAM_IDS = {CONSENSUS_STREAM_ID, APPEND_STREAM_ID, CATCH_UP_STREAM_ID};

    private final int memberId;
    private final int memberCount;
    /** To member m on stream s at m * STREAMS + s; null for this member. */
    private final ExclusivePublication[] publications;
    /** Polled in this order: consensus first, so that votes and acknowledgements are never starved. */
    private final Subscription[] subscriptions = new Subscription[STREAMS];
    private final FragmentAssembler[] assemblers = new FragmentAssembler[STREAMS];
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();

    // The caller's handler during a poll and the messages handed to it: the assemblers' own handler is made once.
    private MessageHandler handler;
    private int received;
    /** Cut off from the others (an operator's fault drill): nothing goes out, and what comes in is dropped. */
    private volatile boolean cutOff;

    /**
     * Subscribes on this member's endpoint and publishes to every other's; the Aeron client stays the caller's.
     *
     * @param endpoints for each member (index = member id), the {@code host:port} where it receives.
     */
    public AeronReplicaLink(final Aeron aeron, final int memberId, final String... endpoints)
    {
        if (memberId < 0 || memberId >= endpoints.length)
        {
            throw new IllegalArgumentException("member " + memberId + " of " + endpoints.length);
        }
        this.memberId = memberId;
        this.memberCount = endpoints.length;
        this.publications = new ExclusivePublication[memberCount * STREAMS];
        final FragmentHandler onMessage = this::onMessage;
        try
        {
            final String own = new ChannelUriStringBuilder().media("udp").endpoint(endpoints[memberId]).build();
            for (int s = 0; s < STREAMS; s++)
            {
                subscriptions[s] = aeron.addSubscription(own, STREAM_IDS[s]);
                assemblers[s] = new FragmentAssembler(onMessage);
            }
            for (int m = 0; m < memberCount; m++)
            {
                for (int s = 0; s < STREAMS; s++)
                {
                    if (m != memberId)
                    {
                        final String channel = new ChannelUriStringBuilder().media("udp").endpoint(endpoints[m])
                            .termLength(s == CONSENSUS ? CONSENSUS_TERM_LENGTH : ENTRIES_TERM_LENGTH).build();
                        publications[m * STREAMS + s] = aeron.addExclusivePublication(channel, STREAM_IDS[s]);
                    }
                }
            }
        }
        catch (final RuntimeException ex)
        {
            close();
            throw ex;
        }
    }

    /**
     * The stream a message goes on, by the template id of its cluster-schema header: anything else, and anything
     * too short to have a header, goes on the consensus stream.
     */
    static int streamIdOf(
        final MessageHeaderDecoder header, final DirectBuffer buffer, final int offset, final int length)
    {
        return STREAM_IDS[stream(header, buffer, offset, length)];
    }

    private static int stream(
        final MessageHeaderDecoder header, final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return CONSENSUS;
        }
        header.wrap(buffer, offset);
        if (header.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            return CONSENSUS;
        }
        return switch (header.templateId())
        {
            case AppendEntriesDecoder.TEMPLATE_ID -> APPEND;
            case InstallSnapshotDecoder.TEMPLATE_ID -> CATCH_UP;
            default -> CONSENSUS;
        };
    }

    /**
     * @return false for this member or one not in the membership, and when the message cannot go now: not
     * connected, back-pressure, an admin action, or longer than its stream takes. The protocol sends again.
     */
    public boolean send(final int member, final DirectBuffer buffer, final int offset, final int length)
    {
        if (member < 0 || member >= memberCount || member == memberId || cutOff)
        {
            return false;
        }
        final ExclusivePublication publication =
            publications[member * STREAMS + stream(header, buffer, offset, length)];
        return length <= publication.maxMessageLength() && publication.offer(buffer, offset, length) > 0;
    }

    /** Consensus messages first, then AppendEntries, then catch-up: at most {@code limit} in all. */
    public int poll(final MessageHandler handler, final int limit)
    {
        this.handler = handler;
        received = 0;
        for (int s = 0; s < STREAMS; s++)
        {
            drain(s, limit);
        }
        this.handler = null;
        return received;
    }

    /**
     * Polls no more fragments than messages are still allowed (each is one or more), again while fragments come: a
     * long message takes many.
     */
    private void drain(final int stream, final int limit)
    {
        int fragments = 1;
        while (fragments > 0 && received < limit)
        {
            fragments = subscriptions[stream].poll(assemblers[stream], limit - received);
        }
    }

    private void onMessage(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        received++;
        if (!cutOff)
        {
            handler.onMessage(buffer, offset, length);
        }
    }

    /**
     * Cuts this member off from the others, as a network partition would, or heals it: while cut off it sends nothing
     * and drops what it receives. Any thread may call it; the link's thread sees it at its next send or poll.
     */
    public void cutOff(final boolean cutOff)
    {
        this.cutOff = cutOff;
    }

    public boolean isCutOff()
    {
        return cutOff;
    }

    /** Whether {@code member} receives on every stream: a host may wait for it before it starts. */
    public boolean isConnected(final int member)
    {
        if (member < 0 || member >= memberCount || member == memberId)
        {
            return false;
        }
        for (int s = 0; s < STREAMS; s++)
        {
            if (!publications[member * STREAMS + s].isConnected())
            {
                return false;
            }
        }
        return true;
    }

    public void close()
    {
        CloseHelper.closeAll(publications);
        CloseHelper.closeAll(subscriptions);
    }
}
