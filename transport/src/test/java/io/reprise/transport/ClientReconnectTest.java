package io.reprise.transport;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ConnectDecoder;
import io.reprise.schema.client.ConnectResponseEncoder;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.NotLeaderEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client on its own media driver talks to nodes over UDP: it reconnects by itself when its node restarts, and
 * follows a NotLeader redirect to the node that leads. Without a media driver, or with a shared Aeron client that is
 * closed, it says so with a {@link ConnectException}.
 */
class ClientReconnectTest
{
    private static final String TOKEN = "token";
    private static final UnsafeBuffer PAYLOAD = new UnsafeBuffer(new byte[16]);

    @TempDir
    Path dir;

    private MediaDriver clientDriver;
    private Aeron clientAeron;
    private RepriseNode node;
    private int port;

    @BeforeEach
    void setUp()
    {
        clientDriver = MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir.resolve("client-aeron").toString())
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true));
        clientAeron = ClientContext.connectAeron(clientDriver.aeronDirectoryName());
        port = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.closeAll(node, clientAeron, clientDriver);
    }

    @Test
    void shouldReconnectByItselfWhenItsNodeRestarts() throws Exception
    {
        node = startNode("first");
        try (RepriseClient client = RepriseClient.connect(clientContext(ingress(port)), (c, t, r, v) -> { }))
        {
            assertEquals(ResultCode.OK, client.saveAndAwait(1, 1, new SessionPolicy().initialDelayMs(3_600_000),
                PAYLOAD, 0, PAYLOAD.capacity()));
            node.close();
            node = startNode("second");

            // The first calls may meet the old connection; the client notices, reconnects and goes on.
            ResultCode code = null;
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (code != ResultCode.DUPLICATE_SESSION && System.nanoTime() < deadline)
            {
                code = client.saveAndAwait(1, 1, new SessionPolicy().initialDelayMs(3_600_000), PAYLOAD, 0,
                    PAYLOAD.capacity());
            }
            assertEquals(ResultCode.DUPLICATE_SESSION, code, "the session saved before the restart is there");
            assertTrue(client.reconnects() >= 1, "reconnected " + client.reconnects() + " times");
            assertEquals(ResultCode.OK, client.saveAndAwait(2, 1, new SessionPolicy().initialDelayMs(3_600_000),
                PAYLOAD, 0, PAYLOAD.capacity()));
        }
    }

    @Test
    void shouldFollowANotLeaderRedirect() throws Exception
    {
        node = startNode("leader");
        // A stand-in for a follower: it accepts the connection, then says where the leader is.
        final int followerPort = port + 1;
        try (Subscription follower = clientAeron.addSubscription(ingress(followerPort), 1001))
        {
            final RepriseClient[] client = new RepriseClient[1];
            final Thread connecting = new Thread(() -> client[0] = RepriseClient.connect(
                clientContext(ingress(followerPort)), (c, t, r, v) -> { }));
            connecting.start();
            final Publication toClient = answerConnect(follower);
            connecting.join(10_000);
            try (RepriseClient redirected = client[0])
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[512]);
                final NotLeaderEncoder notLeader = new NotLeaderEncoder()
                    .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                    .correlationId(0)
                    .leaderMemberId(1)
                    .leaderChannel(ingress(port));
                while (toClient.offer(buffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + notLeader.encodedLength()) < 0)
                {
                    Thread.onSpinWait();
                }
                toClient.close();
                final long deadline = System.nanoTime() + 10_000_000_000L;
                while (redirected.reconnects() == 0 && System.nanoTime() < deadline)
                {
                    redirected.poll();
                }
                assertEquals(1, redirected.reconnects());
                assertEquals(ResultCode.OK, redirected.saveAndAwait(5, 1, new SessionPolicy().initialDelayMs(1_000),
                    PAYLOAD, 0, PAYLOAD.capacity()), "the save reached the leader");
                assertTrue(redirected.clientId() >= 4096, "a client id of the leader: " + redirected.clientId());
            }
        }
    }

    @Test
    void shouldSaySoWhenItsSharedAeronClientIsClosed() throws Exception
    {
        node = startNode("only");
        try (RepriseClient client = RepriseClient.connect(clientContext(ingress(port)), (c, t, r, v) -> { }))
        {
            assertEquals(ResultCode.OK, client.saveAndAwait(1, 1, new SessionPolicy().initialDelayMs(3_600_000),
                PAYLOAD, 0, PAYLOAD.capacity()));
            clientAeron.close();

            assertEquals(RepriseClient.NOT_CONNECTED, client.cancel(1), "an offer on the closed Aeron client");
            final ConnectException polled = assertThrows(ConnectException.class, client::poll);
            assertTrue(polled.getMessage().contains("shared Aeron client (ClientContext.aeron) is closed"),
                polled.getMessage());
            assertNull(polled.code());
            // Within the backoff after that attempt, poll waits and the waiting calls time out or throw the same.
            assertEquals(0, client.poll());
            try
            {
                assertNull(client.cancelAndAwait(1));
            }
            catch (final ConnectException ex)
            {
                assertTrue(ex.getMessage().contains("shared Aeron client"), ex.getMessage());
            }
        }
    }

    @Test
    void shouldRefuseToConnectWithoutAMediaDriver()
    {
        final String nowhere = dir.resolve("no-driver").toString();
        final long startNs = System.nanoTime();
        final ConnectException client = assertThrows(ConnectException.class, () -> RepriseClient.connect(
            new ClientContext().aeronDirectoryName(nowhere).token(TOKEN), (c, t, r, v) -> { }));
        assertEquals("no media driver active in " + nowhere, client.getMessage());
        final ConnectException worker = assertThrows(ConnectException.class, () -> RepriseWorker.connect(
            new ClientContext().aeronDirectoryName(nowhere).token(TOKEN), new int[] {1}, 1, null));
        assertEquals("no media driver active in " + nowhere, worker.getMessage());
        assertTrue(System.nanoTime() - startNs < 5_000_000_000L, "at once, not after Aeron's driver timeout");
    }

    private Publication answerConnect(final Subscription follower)
    {
        final MessageHeaderDecoder header = new MessageHeaderDecoder();
        final ConnectDecoder connect = new ConnectDecoder();
        final String[] channel = new String[1];
        final int[] stream = new int[1];
        final long[] correlation = new long[1];
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (null == channel[0])
        {
            assertTrue(System.nanoTime() < deadline, "no Connect arrived");
            follower.poll((buffer, offset, length, h) ->
            {
                header.wrap(buffer, offset);
                if (header.templateId() == ConnectDecoder.TEMPLATE_ID)
                {
                    connect.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(),
                        header.version());
                    correlation[0] = connect.correlationId();
                    stream[0] = connect.responseStreamId();
                    channel[0] = connect.responseChannel();
                }
            }, 10);
        }
        final Publication publication = clientAeron.addPublication(channel[0], stream[0]);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        final ConnectResponseEncoder response = new ConnectResponseEncoder()
            .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .correlationId(correlation[0])
            .clientId(42)
            .leaderMemberId(1)
            .resultCode(ResultCode.OK)
            .detail("");
        while (publication.offer(buffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength()) < 0)
        {
            assertTrue(System.nanoTime() < deadline, "could not answer the Connect");
            Thread.onSpinWait();
        }
        return publication;
    }

    private RepriseNode startNode(final String name) throws java.io.IOException
    {
        return RepriseNode.start(
            new NodeContext()
                .dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 16).expectedSessions(1 << 10).maxDestinations(16))
                .journalSegmentLength(4L * 1024 * 1024),
            new TransportContext()
                .aeronDirectoryName(dir.resolve("node-aeron-" + name).toString())
                .ingressUdpChannel(ingress(port))
                .clientLivenessTimeoutMs(2_000)
                .tokens("1=" + TOKEN));
    }

    private static String ingress(final int port)
    {
        return "aeron:udp?endpoint=localhost:" + port + "|term-length=4m";
    }

    private ClientContext clientContext(final String ingressChannel)
    {
        return new ClientContext().aeron(clientAeron).ingressChannel(ingressChannel)
            .responseChannel(ClientContext.UDP_RESPONSE_CHANNEL).tenant(1).token(TOKEN).connectTimeoutMs(10_000)
            .responseTimeoutMs(5_000);
    }
}
