package io.reprise.transport.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.aeron.Aeron;
import io.aeron.Subscription;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.schema.cluster.AppendEntriesDecoder;
import io.reprise.schema.cluster.AppendResponseDecoder;
import io.reprise.schema.cluster.InstallAckDecoder;
import io.reprise.schema.cluster.InstallSnapshotDecoder;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import io.reprise.schema.cluster.MessageHeaderEncoder;
import io.reprise.schema.cluster.RequestVoteDecoder;
import io.reprise.schema.cluster.TimeoutNowDecoder;
import io.reprise.schema.cluster.VoteDecoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.reprise.transport.cluster.AeronReplicaLink.APPEND_STREAM_ID;
import static io.reprise.transport.cluster.AeronReplicaLink.CATCH_UP_STREAM_ID;
import static io.reprise.transport.cluster.AeronReplicaLink.CONSENSUS_STREAM_ID;
import static io.reprise.transport.cluster.Loopback.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Links of three members on loopback, over one embedded media driver: each message reaches the member it is sent to,
 * whole and on the stream of its kind; a member that is not up, or a message too long, is refused at once; a poll
 * hands no more than its limit.
 */
class AeronReplicaLinkTest
{
    private static final int[] KINDS = {
        RequestVoteDecoder.TEMPLATE_ID, VoteDecoder.TEMPLATE_ID, AppendEntriesDecoder.TEMPLATE_ID,
        AppendResponseDecoder.TEMPLATE_ID, TimeoutNowDecoder.TEMPLATE_ID, InstallSnapshotDecoder.TEMPLATE_ID,
        InstallAckDecoder.TEMPLATE_ID, 6, 99};
    /** The longest message consensus sends: its send buffer, one maximal operator and room for the rest. */
    private static final int LONGEST_APPEND = JournalFormat.MAX_OPERATOR_LENGTH + 1024;

    private static Loopback loopback;
    private static Aeron aeron;

    private final Random random = new Random(42);

    @BeforeAll
    static void launch()
    {
        loopback = new Loopback();
        aeron = loopback.connect();
    }

    @AfterAll
    static void shutdown()
    {
        loopback.close();
    }

    @Test
    void shouldRouteEachKindToItsStream()
    {
        final MessageHeaderDecoder header = new MessageHeaderDecoder();
        final Map<Integer, Integer> expected = Map.of(
            RequestVoteDecoder.TEMPLATE_ID, CONSENSUS_STREAM_ID,
            VoteDecoder.TEMPLATE_ID, CONSENSUS_STREAM_ID,
            AppendEntriesDecoder.TEMPLATE_ID, APPEND_STREAM_ID,
            AppendResponseDecoder.TEMPLATE_ID, CONSENSUS_STREAM_ID,
            TimeoutNowDecoder.TEMPLATE_ID, CONSENSUS_STREAM_ID,
            InstallSnapshotDecoder.TEMPLATE_ID, CATCH_UP_STREAM_ID,
            InstallAckDecoder.TEMPLATE_ID, CONSENSUS_STREAM_ID,
            6, CONSENSUS_STREAM_ID,
            0xFFFF, CONSENSUS_STREAM_ID);
        expected.forEach((kind, stream) ->
        {
            final UnsafeBuffer message = message(kind, 64, 0);
            assertEquals(stream, AeronReplicaLink.streamIdOf(header, message, 0, 64), "template " + kind);
        });

        // At an offset, as a sender's buffer may hold it.
        final UnsafeBuffer shifted = new UnsafeBuffer(new byte[100]);
        shifted.putBytes(13, message(InstallSnapshotDecoder.TEMPLATE_ID, 32, 0), 0, 32);
        assertEquals(CATCH_UP_STREAM_ID, AeronReplicaLink.streamIdOf(header, shifted, 13, 32));

        final UnsafeBuffer otherSchema = message(AppendEntriesDecoder.TEMPLATE_ID, 64, 0);
        new MessageHeaderEncoder().wrap(otherSchema, 0).schemaId(MessageHeaderDecoder.SCHEMA_ID + 1);
        assertEquals(CONSENSUS_STREAM_ID, AeronReplicaLink.streamIdOf(header, otherSchema, 0, 64));
        final UnsafeBuffer cutShort = message(AppendEntriesDecoder.TEMPLATE_ID, 64, 0);
        assertEquals(CONSENSUS_STREAM_ID,
            AeronReplicaLink.streamIdOf(header, cutShort, 0, MessageHeaderDecoder.ENCODED_LENGTH - 1));
    }

    @Test
    void shouldSendEachKindOnItsStream()
    {
        final String[] endpoints = Loopback.freeEndpoints(2);
        final String channel = "aeron:udp?endpoint=" + endpoints[1];
        final int[] streams = {CONSENSUS_STREAM_ID, APPEND_STREAM_ID, CATCH_UP_STREAM_ID};
        final Subscription[] subscriptions = new Subscription[streams.length];
        for (int s = 0; s < streams.length; s++)
        {
            subscriptions[s] = aeron.addSubscription(channel, streams[s]);
        }
        try (AeronReplicaLink link = new AeronReplicaLink(aeron, 0, endpoints))
        {
            await(5_000, "member 1's streams subscribed", () -> link.isConnected(1));
            final Map<Integer, Integer> streamOfKind = new HashMap<>();
            for (final int kind : KINDS)
            {
                send(link, 1, message(kind, 100, kind));
            }
            await(5_000, "every kind received on some stream", () ->
            {
                for (int s = 0; s < streams.length; s++)
                {
                    final int stream = streams[s];
                    subscriptions[s].poll((buffer, offset, length, header) ->
                        streamOfKind.put(templateId(buffer, offset), stream), 10);
                }
                return streamOfKind.size() == KINDS.length;
            });
            final MessageHeaderDecoder header = new MessageHeaderDecoder();
            for (final int kind : KINDS)
            {
                assertEquals(AeronReplicaLink.streamIdOf(header, message(kind, 100, kind), 0, 100),
                    streamOfKind.get(kind), "template " + kind);
            }
            assertEquals(APPEND_STREAM_ID, streamOfKind.get(AppendEntriesDecoder.TEMPLATE_ID));
            assertEquals(CATCH_UP_STREAM_ID, streamOfKind.get(InstallSnapshotDecoder.TEMPLATE_ID));
            assertEquals(CONSENSUS_STREAM_ID, streamOfKind.get(VoteDecoder.TEMPLATE_ID));
        }
        finally
        {
            for (final Subscription subscription : subscriptions)
            {
                subscription.close();
            }
        }
    }

    @Test
    void shouldDeliverEachKindToTheMemberItIsSentTo()
    {
        final AeronReplicaLink[] links = loopback.links(aeron, aeron, aeron);
        final Map<String, byte[]> sent = new HashMap<>();
        for (int from = 0; from < 3; from++)
        {
            for (int to = 0; to < 3; to++)
            {
                for (final int kind : KINDS)
                {
                    if (from != to)
                    {
                        final UnsafeBuffer message = message(kind, 40 + random.nextInt(3000), from * 10 + to);
                        send(links[from], to, message);
                        sent.put(from + ">" + to + "#" + kind, message.byteArray());
                    }
                }
            }
        }

        final List<List<byte[]>> received = receiveAll(links, 2 * KINDS.length);
        for (int to = 0; to < 3; to++)
        {
            assertEquals(2 * KINDS.length, received.get(to).size(), "messages member " + to + " received");
            for (final byte[] message : received.get(to))
            {
                final UnsafeBuffer view = new UnsafeBuffer(message);
                final int tag = view.getByte(MessageHeaderDecoder.ENCODED_LENGTH);
                final int kind = templateId(view, 0);
                assertEquals(to, tag % 10, "member " + to + " received a message sent to " + tag % 10);
                final byte[] expected = sent.remove(tag / 10 + ">" + to + "#" + kind);
                assertArrayEquals(expected, message, "template " + kind + " from " + tag / 10 + " to " + to);
            }
        }
        assertTrue(sent.isEmpty(), "never received: " + sent.keySet());
    }

    /**
     * Aeron's image catches what a fragment handler throws: the link must hand it to the member's step (a member
     * that must restart, or whose disk failed, stops), and hand nothing more on in that poll.
     */
    @Test
    void shouldThrowWhatTheHandlerThrewAndHandNothingMoreOnInThatPoll()
    {
        final AeronReplicaLink[] links = loopback.links(aeron, aeron);
        for (int i = 0; i < 3; i++)
        {
            send(links[0], 1, message(KINDS[0], 64, i));
        }
        final List<Integer> handled = new ArrayList<>();
        final IllegalStateException thrown = new IllegalStateException("the member must restart");
        final long deadlineNs = System.nanoTime() + 10_000_000_000L;
        IllegalStateException caught = null;
        while (null == caught && System.nanoTime() < deadlineNs)
        {
            try
            {
                links[1].poll((buffer, offset, length) ->
                {
                    handled.add((int)buffer.getByte(offset + MessageHeaderDecoder.ENCODED_LENGTH));
                    throw thrown;
                }, 10);
            }
            catch (final IllegalStateException ex)
            {
                caught = ex;
            }
        }
        assertSame(thrown, caught, "the handler's exception reaches the caller of poll");
        assertEquals(List.of(0), handled, "nothing handed on after the exception");
        final List<byte[]> rest = receiveAll(links, 0, 2).get(1);
        assertEquals(2, rest.size(), "the messages after it come at the next polls");
    }

    @Test
    void shouldDeliverTheLongestMessagesWhole()
    {
        final AeronReplicaLink[] links = loopback.links(aeron, aeron, aeron);
        final UnsafeBuffer append = message(AppendEntriesDecoder.TEMPLATE_ID, LONGEST_APPEND, 2);
        final UnsafeBuffer chunk = message(InstallSnapshotDecoder.TEMPLATE_ID, (1 << 20) + 512, 2);
        send(links[0], 2, append);
        send(links[0], 2, chunk);

        final List<byte[]> received = receiveAll(links, 0, 0, 2).get(2);
        assertEquals(2, received.size());
        // On two streams: either may come first.
        final boolean appendFirst =
            templateId(new UnsafeBuffer(received.get(0)), 0) == AppendEntriesDecoder.TEMPLATE_ID;
        assertArrayEquals(append.byteArray(), received.get(appendFirst ? 0 : 1),
            "AppendEntries of " + LONGEST_APPEND + " bytes");
        assertArrayEquals(chunk.byteArray(), received.get(appendFirst ? 1 : 0),
            "InstallSnapshot of " + chunk.capacity() + " bytes");
    }

    @Test
    void shouldRefuseAMessageLongerThanItsStreamTakes()
    {
        final AeronReplicaLink[] links = loopback.links(aeron, aeron);
        final int appendMax = AeronReplicaLink.ENTRIES_TERM_LENGTH / 8;
        final int consensusMax = AeronReplicaLink.CONSENSUS_TERM_LENGTH / 8;
        assertFalse(links[0].send(1, message(AppendEntriesDecoder.TEMPLATE_ID, appendMax + 1, 0), 0, appendMax + 1));
        assertFalse(links[0].send(1, message(VoteDecoder.TEMPLATE_ID, consensusMax + 1, 0), 0, consensusMax + 1));
        send(links[0], 1, message(VoteDecoder.TEMPLATE_ID, consensusMax, 0));
        assertEquals(consensusMax, receiveAll(links, 0, 1).get(1).get(0).length);
    }

    @Test
    void shouldRefuseAMemberThatIsNotUpAtOnce()
    {
        final String[] endpoints = Loopback.freeEndpoints(2);
        try (AeronReplicaLink link = new AeronReplicaLink(aeron, 0, endpoints))
        {
            final UnsafeBuffer message = message(AppendEntriesDecoder.TEMPLATE_ID, 200, 1);
            final long startNs = System.nanoTime();
            final boolean sent = link.send(1, message, 0, 200);
            final long tookNs = System.nanoTime() - startNs;
            assertFalse(sent, "sent to a member nobody receives for");
            assertTrue(tookNs < 50_000_000L, "one refused send took " + tookNs / 1000 + " us");

            assertFalse(link.send(0, message, 0, 200), "sent to itself");
            assertFalse(link.send(2, message, 0, 200), "sent to a member not in the membership");
            assertFalse(link.send(-1, message, 0, 200), "sent to member -1");
        }
    }

    @Test
    void shouldNeverHandMoreThanTheLimit()
    {
        final AeronReplicaLink[] links = loopback.links(aeron, aeron);
        final int count = 30;
        for (int i = 0; i < count; i++)
        {
            final int kind = KINDS[i % KINDS.length];
            // One long AppendEntries among them: its fragments come in several polls.
            send(links[0], 1, message(kind, i == 2 ? 300_000 : 64, i));
        }
        final int limit = 4;
        final int[] handed = new int[1];
        final int[] total = new int[1];
        await(5_000, count + " messages in polls of at most " + limit, () ->
        {
            handed[0] = 0;
            final int polled = links[1].poll((buffer, offset, length) -> handed[0]++, limit);
            assertTrue(polled <= limit, "a poll of limit " + limit + " handed " + polled);
            assertEquals(handed[0], polled, "messages handed and the count returned");
            total[0] += polled;
            return total[0] == count;
        });
        assertEquals(0, links[1].poll((buffer, offset, length) -> handed[0]++, 0), "a poll of limit 0");
    }

    /** Sends until the link takes it: a publication just connected may push back for a moment. */
    private static void send(final AeronReplicaLink link, final int to, final DirectBuffer message)
    {
        await(5_000, "message taken by the link", () -> link.send(to, message, 0, message.capacity()));
    }

    /** Polls every link until member m has received {@code expected[m]} messages (each the same if one is given). */
    private static List<List<byte[]>> receiveAll(final AeronReplicaLink[] links, final int... expected)
    {
        final List<List<byte[]>> received = new ArrayList<>();
        for (int m = 0; m < links.length; m++)
        {
            received.add(new ArrayList<>());
        }
        await(10_000, "messages received " + Arrays.toString(expected), () ->
        {
            boolean all = true;
            for (int m = 0; m < links.length; m++)
            {
                final List<byte[]> into = received.get(m);
                links[m].poll((buffer, offset, length) ->
                {
                    final byte[] copy = new byte[length];
                    buffer.getBytes(offset, copy);
                    into.add(copy);
                }, 16);
                all &= into.size() >= expected[expected.length == 1 ? 0 : m];
            }
            return all;
        });
        return received;
    }

    /** A message of the cluster schema: its header, then {@code tag}, then random bytes. */
    private UnsafeBuffer message(final int templateId, final int length, final int tag)
    {
        final byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        final UnsafeBuffer message = new UnsafeBuffer(bytes);
        new MessageHeaderEncoder().wrap(message, 0)
            .blockLength(0)
            .templateId(templateId)
            .schemaId(MessageHeaderEncoder.SCHEMA_ID)
            .version(MessageHeaderEncoder.SCHEMA_VERSION);
        message.putByte(MessageHeaderEncoder.ENCODED_LENGTH, (byte)tag);
        return message;
    }

    private static int templateId(final DirectBuffer buffer, final int offset)
    {
        return new MessageHeaderDecoder().wrap(buffer, offset).templateId();
    }
}
