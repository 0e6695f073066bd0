package io.reprise.transport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ConnectDecoder;
import io.reprise.schema.client.ConnectResponseEncoder;
import io.reprise.schema.client.HeartbeatEncoder;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.MessageHeaderEncoder;
import io.reprise.schema.client.NotLeaderEncoder;
import io.reprise.schema.client.ResponseEncoder;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.WorkerAnnounceDecoder;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A client given every member's UDP ingress ({@link ClientContext#ingressEndpoints(String)}) finds and follows the
 * leader: it asks every member at once, follows a NotLeader naming the leader, asks again a member that knew none,
 * goes on past a member that is not there, finds the new leader when its own dies, falls silent or stops leading, and
 * its waiting save is sent again there. The members are stand-ins made of raw Aeron publications and subscriptions on
 * a media driver of their own, each told how to answer; as in a cluster, one member at a time accepts.
 */
class ClusterClientFollowTest
{
    private static final String SEED_PROP_NAME = "reprise.cluster.client.seed";
    private static final int MEMBERS = 3;
    /** A member's client ids: member m gives {@code CLIENT_ID_BASE * (m + 1)}, so a client id names its member. */
    private static final long CLIENT_ID_BASE = 1_000;
    private static final long WAIT_NS = 20_000_000_000L;
    /** The client's wait before asking again a member that answered NotLeader (ClientConnection's, not public). */
    private static final long NO_LEADER_BACKOFF_NS = 50_000_000L;

    @TempDir
    Path dir;

    private long seed;
    private Random random;
    private MediaDriver clientDriver;
    private Aeron clientAeron;
    private MediaDriver membersDriver;
    private Aeron membersAeron;
    private FakeMember[] members;
    private Thread membersThread;
    private volatile boolean running = true;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<String> closes = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp()
    {
        seed = Long.getLong(SEED_PROP_NAME, System.nanoTime());
        System.out.println("ClusterClientFollowTest seed=" + seed + " (-D" + SEED_PROP_NAME + "=" + seed + ")");
        random = new Random(seed);
        clientDriver = launchDriver("client-aeron");
        clientAeron = ClientContext.connectAeron(clientDriver.aeronDirectoryName());
        membersDriver = launchDriver("members-aeron");
        membersAeron = ClientContext.connectAeron(membersDriver.aeronDirectoryName());
        final int basePort = 20_000 + random.nextInt(20_000);
        members = new FakeMember[MEMBERS];
        for (int m = 0; m < MEMBERS; m++)
        {
            members[m] = new FakeMember(m, "localhost:" + (basePort + m));
        }
        membersThread = new Thread(this::runMembers, "fake-members");
        membersThread.start();
    }

    @AfterEach
    void tearDown() throws InterruptedException
    {
        running = false;
        membersThread.join(10_000);
        for (final FakeMember member : members)
        {
            member.close();
        }
        CloseHelper.closeAll(membersAeron, membersDriver, clientAeron, clientDriver);
    }

    @Test
    void shouldRefuseAMalformedEndpointNamingTheEntry()
    {
        final IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
            () -> new ClientContext().ingressEndpoints("a:1, b:x ,c:3"));
        assertEquals("reprise.cluster.ingress.endpoints: entry 2 of 3 ('b:x'): port is not a number: 'x' in 'b:x'",
            port.getMessage());
        final IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
            () -> new ClientContext().ingressEndpoints("a:1,,c:3"));
        assertEquals("reprise.cluster.ingress.endpoints: entry 2 of 3 (''): empty", empty.getMessage());
        final IllegalArgumentException ipv6 = assertThrows(IllegalArgumentException.class,
            () -> new ClientContext().ingressEndpoints("::1:40456"));
        assertTrue(ipv6.getMessage().startsWith("reprise.cluster.ingress.endpoints: entry 1 of 1 ('::1:40456'): " +
            "an IPv6 address needs brackets"), ipv6.getMessage());

        final ClientContext context = new ClientContext().ingressEndpoints(" a:1,[::1]:2 ");
        assertEquals(List.of("aeron:udp?endpoint=a:1|term-length=4m", "aeron:udp?endpoint=[::1]:2|term-length=4m"),
            context.memberIngressChannels());
        assertEquals(List.of(), context.ingressEndpoints(null).memberIngressChannels(), "none: standalone");
        assertEquals(TransportContext.udpIngressChannel("localhost:40456"),
            ClientContext.udpIngressChannel("localhost:40456"), "the node names the channel the client builds");
    }

    @Test
    void shouldConnectToTheMemberANotLeaderNames() throws Exception
    {
        members[0].notLeader(2);
        members[1].notLeader(2);
        members[2].accept();
        try (RepriseClient client = RepriseClient.connect(context(), (c, t, r, v) -> { }))
        {
            assertEquals(clientIdOf(2), client.clientId(), "connected to member 2, which leads");
            assertEquals(1, members[2].connects.get(), "asked once: a NotLeader naming it while asked asks nothing");
            assertTrue(members[0].connects.get() >= 1 && members[1].connects.get() >= 1, "every member was asked");
            final byte[] payload = randomPayload();
            members[2].answerSaves(ResultCode.OK, 0);
            assertEquals(ResultCode.OK, save(client, 7, payload));
            assertArrayEquals(payload, members[2].savedPayloads.get(0));
            assertEquals(0, client.reconnects());
        }
    }

    /** An election is on: no member knows a leader; the one elected accepts when asked again. */
    @Test
    void shouldAskAgainAMemberThatKnewNoLeader() throws Exception
    {
        members[0].notLeader(-1);
        members[1].notLeader(-1);
        members[2].notLeaderOnce();
        final long startNs = System.nanoTime();
        try (RepriseClient client = RepriseClient.connect(context(), (c, t, r, v) -> { }))
        {
            final long tookNs = System.nanoTime() - startNs;
            assertEquals(clientIdOf(2), client.clientId(), "the member elected");
            assertEquals(2, members[2].connects.get(), "asked again after it knew no leader");
            assertTrue(tookNs >= NO_LEADER_BACKOFF_NS, "asked again after the backoff: " + tookNs + " ns");
        }
    }

    @Test
    void shouldFindTheLeaderPastAMemberThatIsNotThere() throws Exception
    {
        onMembersThread(members[0]::kill);
        members[1].notLeader(2);
        members[2].accept();
        try (RepriseClient client = RepriseClient.connect(context(), (c, t, r, v) -> { }))
        {
            assertEquals(clientIdOf(2), client.clientId(), "member 0 is down: member 2 leads");
        }
    }

    @Test
    void shouldGiveUpWhenNoMemberAnswersWithinTheConnectTimeout() throws Exception
    {
        for (final FakeMember member : members)
        {
            onMembersThread(member::kill);
        }
        final long startNs = System.nanoTime();
        final ConnectException ex = assertThrows(ConnectException.class,
            () -> RepriseClient.connect(context().connectTimeoutMs(1_500), (c, t, r, v) -> { }));
        final long tookMs = (System.nanoTime() - startNs) / 1_000_000;
        assertEquals("no leader among 3 members within 1500 ms: " + members[0].channel + " stream " +
            ClientContext.INGRESS_STREAM_ID_DEFAULT + ": no node listening; " + members[1].channel + " stream " +
            ClientContext.INGRESS_STREAM_ID_DEFAULT + ": no node listening; " + members[2].channel + " stream " +
            ClientContext.INGRESS_STREAM_ID_DEFAULT + ": no node listening", ex.getMessage());
        assertNull(ex.code());
        assertTrue(tookMs >= 1_400 && tookMs < 5_000, "the connect timeout bounds the whole attempt: " + tookMs + " ms");
    }

    /** No leader is ever found: the error says what each member answered last. */
    @Test
    void shouldSayWhatEachMemberAnsweredWhenNoneLeads() throws Exception
    {
        members[0].notLeader(-1);
        members[1].notLeader(2);
        onMembersThread(members[2]::kill);
        final ConnectException ex = assertThrows(ConnectException.class,
            () -> RepriseClient.connect(context().connectTimeoutMs(1_000), (c, t, r, v) -> { }));
        final String stream = " stream " + ClientContext.INGRESS_STREAM_ID_DEFAULT + ": ";
        assertEquals("no leader among 3 members within 1000 ms: " + members[0].channel + stream +
            "NotLeader naming none; " + members[1].channel + stream + "NotLeader naming " + members[2].channel + "; " +
            members[2].channel + stream + "no node listening", ex.getMessage());
        assertTrue(members[0].connects.get() > 2, "asked again and again: " + members[0].connects.get());
    }

    @Test
    void shouldReconnectToTheNewLeaderWhenItsMemberDies() throws Exception
    {
        electedAfterDeathOf(0, 1);
        try (RepriseClient client = RepriseClient.connect(context(), listenerRecordingCloses()))
        {
            assertEquals(clientIdOf(0), client.clientId());
            onMembersThread(members[0]::kill);
            pollUntil(client, () -> client.reconnects() == 1);
            assertEquals(clientIdOf(1), client.clientId(), "the member elected");
            assertEquals(List.of("null: connection lost"), closes);
            members[1].answerSaves(ResultCode.OK, 0);
            assertEquals(ResultCode.OK, save(client, 8, randomPayload()));
        }
    }

    /** The connection to the leader is lost without a word, but the leader still leads: it takes the client back. */
    @Test
    void shouldReconnectToAMemberLostForAMomentThatStillLeads() throws Exception
    {
        electedAfterDeathOf(0, 1);
        try (RepriseClient client = RepriseClient.connect(context(), listenerRecordingCloses()))
        {
            assertEquals(clientIdOf(0), client.clientId());
            onMembersThread(members[0]::dropClient);
            pollUntil(client, () -> client.reconnects() == 1);
            assertEquals(clientIdOf(0), client.clientId(), "member 0 still leads");
            assertEquals(2, members[0].connects.get());
            assertEquals(List.of("null: connection lost"), closes);
        }
    }

    /**
     * A member that stops without a word and whose publications stay up (a process stopped, or its machine gone while
     * a shared driver lives on): only its silence tells. The client takes it as lost after NODE_SILENT_INTERVALS of its heartbeat
     * intervals and finds the new leader.
     */
    @Test
    void shouldTakeAMemberThatFallsSilentAsLostAndFindTheNewLeader() throws Exception
    {
        electedAfterDeathOf(0, 1);
        for (final FakeMember member : members)
        {
            member.heartbeat();
        }
        try (RepriseClient client = RepriseClient.connect(context(), listenerRecordingCloses()))
        {
            assertEquals(clientIdOf(0), client.clientId());
            onMembersThread(members[0]::freeze);
            final long frozenNs = System.nanoTime();
            pollUntil(client, () -> client.reconnects() == 1);
            final long tookMs = (System.nanoTime() - frozenNs) / 1_000_000;
            assertEquals(clientIdOf(1), client.clientId());
            assertEquals(List.of("null: connection lost"), closes);
            // The last heartbeat came at most one interval before the freeze.
            final long silentMs = (ClientContext.NODE_SILENT_INTERVALS - 1) * FakeMember.HEARTBEAT_INTERVAL_MS;
            assertTrue(tookMs >= silentMs && tookMs < 5_000, "lost after its silence: " + tookMs + " ms");
        }
    }

    @Test
    void shouldFollowANotLeaderWhileConnected() throws Exception
    {
        electedAfterDeathOf(0, 2);
        try (RepriseClient client = RepriseClient.connect(context(), listenerRecordingCloses()))
        {
            assertEquals(clientIdOf(0), client.clientId());
            onMembersThread(() -> members[0].stepDown(2));
            pollUntil(client, () -> client.reconnects() == 1);
            assertEquals(clientIdOf(2), client.clientId(), "the member the NotLeader named");
            assertEquals(List.of("NOT_LEADER: the member stopped leading; member 2 leads at " +
                members[2].channel), closes);
        }
    }

    @Test
    void shouldTakeDuplicateSessionAsTheAnswerToASaveSentAgainAfterAFailover() throws Exception
    {
        electedAfterDeathOf(0, 1);
        members[0].dieOnSave();
        members[1].answerSaves(ResultCode.DUPLICATE_SESSION, 1);
        final long sessionId = 1 + random.nextInt(1 << 30);
        final byte[] payload = randomPayload();
        try (RepriseClient client = RepriseClient.connect(context().responseTimeoutMs(20_000), (c, t, r, v) -> { }))
        {
            assertEquals(ResultCode.DUPLICATE_SESSION, save(client, sessionId, payload),
                "the answer to the save sent again");
            assertEquals(1, client.awaitedValue(), "the status of the session the first save made (PENDING)");
            assertEquals(1, client.awaitedResends());
            assertEquals(1, client.reconnects());
            assertEquals(clientIdOf(1), client.clientId());
            assertEquals(List.of(sessionId), members[0].savedSessionIds, "member 0 took the save and died");
            assertEquals(List.of(sessionId), members[1].savedSessionIds, "member 1 got the same save once");
            assertArrayEquals(payload, members[1].savedPayloads.get(0));
        }
    }

    @Test
    void shouldSendAgainAfterANotLeaderAnswer() throws Exception
    {
        electedAfterDeathOf(0, 1);
        members[0].refuseSavesAndStepDown(1);
        members[1].answerSaves(ResultCode.OK, 0);
        final long sessionId = 1 + random.nextInt(1 << 30);
        try (RepriseClient client = RepriseClient.connect(context().responseTimeoutMs(20_000), (c, t, r, v) -> { }))
        {
            assertEquals(ResultCode.OK, save(client, sessionId, randomPayload()));
            assertEquals(1, client.awaitedResends());
            assertEquals(clientIdOf(1), client.clientId());
            assertEquals(List.of(sessionId), members[1].savedSessionIds);
        }
    }

    @Test
    void shouldReconnectAndAnnounceAWorkerToTheNewLeaderAndReportThere() throws Exception
    {
        electedAfterDeathOf(1, 2);
        try (RepriseWorker worker = RepriseWorker.connect(context(), new int[] {3}, 4, null))
        {
            assertEquals(clientIdOf(1), worker.clientId());
            assertEquals(1, members[1].announces.get());
            onMembersThread(members[1]::kill);
            final long deadline = System.nanoTime() + WAIT_NS;
            while (worker.reconnects() == 0)
            {
                assertTrue(System.nanoTime() < deadline, "the worker did not reconnect");
                pollQuietly(() -> worker.poll((t, s, d, a, l, h, p, o, n) -> { }));
            }
            assertEquals(clientIdOf(2), worker.clientId(), "the member elected after the one that died");
            assertEquals(1, members[2].announces.get(), "announced again to the new leader");
            final long sessionId = 1 + random.nextInt(1 << 30);
            assertTrue(worker.report(sessionId, 3, 1, OperatorEncoder.NO_HANDLE, Outcome.SUCCEEDED, 200, 0) > 0);
            while (members[2].reportedSessionIds.isEmpty())
            {
                assertTrue(System.nanoTime() < deadline, "the report did not reach member 2");
                worker.poll((t, s, d, a, l, h, p, o, n) -> { });
            }
            assertEquals(List.of(sessionId), members[2].reportedSessionIds);
        }
    }

    private RepriseClient.Listener listenerRecordingCloses()
    {
        return new RepriseClient.Listener()
        {
            public void onResponse(final long correlationId, final int templateId, final ResultCode code,
                final long value)
            {
            }

            public void onConnectionClosed(final ResultCode reason, final String detail)
            {
                closes.add(reason + ": " + detail);
            }
        };
    }

    private ResultCode save(final RepriseClient client, final long sessionId, final byte[] payload)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(payload);
        return client.saveAndAwait(sessionId, 1, new SessionPolicy().initialDelayMs(3_600_000), buffer, 0,
            payload.length);
    }

    private byte[] randomPayload()
    {
        final byte[] payload = new byte[1 + random.nextInt(64)];
        random.nextBytes(payload);
        return payload;
    }

    private static void pollUntil(final RepriseClient client, final BooleanSupplier done)
    {
        final long deadline = System.nanoTime() + WAIT_NS;
        while (!done.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "timed out");
            pollQuietly(client::poll);
        }
    }

    /** A failed attempt to reconnect is a step on the way here: the next poll after the backoff tries again. */
    private static void pollQuietly(final Runnable poll)
    {
        try
        {
            poll.run();
        }
        catch (final ConnectException ex)
        {
            System.out.println("ClusterClientFollowTest: an attempt failed: " + ex.getMessage());
        }
        Thread.onSpinWait();
    }

    private void onMembersThread(final Runnable task) throws InterruptedException
    {
        final boolean[] done = new boolean[1];
        tasks.add(() ->
        {
            task.run();
            synchronized (done)
            {
                done[0] = true;
                done.notifyAll();
            }
        });
        synchronized (done)
        {
            while (!done[0])
            {
                done.wait(10_000);
                if (!done[0] && !membersThread.isAlive())
                {
                    fail("the members' thread died");
                }
            }
        }
    }

    private ClientContext context()
    {
        final StringBuilder endpoints = new StringBuilder();
        for (final FakeMember member : members)
        {
            endpoints.append(endpoints.length() == 0 ? "" : ",").append(member.endpoint);
        }
        return new ClientContext().aeron(clientAeron).ingressEndpoints(endpoints.toString())
            .responseChannel(ClientContext.UDP_RESPONSE_CHANNEL).tenant(1).token("token").connectTimeoutMs(5_000)
            .responseTimeoutMs(10_000);
    }

    /**
     * Member {@code leader} leads until it dies, falls silent or steps down; then member {@code successor} does. The
     * others name the one that leads.
     */
    private void electedAfterDeathOf(final int leader, final int successor)
    {
        for (final FakeMember member : members)
        {
            member.accept();
            if (member.id != leader)
            {
                member.notLeader(leader);
                member.afterLeaderGone(leader, member.id == successor ? -2 : successor);
            }
        }
    }

    private static long clientIdOf(final int member)
    {
        return CLIENT_ID_BASE * (member + 1);
    }

    private MediaDriver launchDriver(final String name)
    {
        return MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir.resolve(name).toString())
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true));
    }

    private void runMembers()
    {
        try
        {
            loopMembers();
        }
        catch (final RuntimeException ex)
        {
            ex.printStackTrace();
            throw ex;
        }
    }

    private void loopMembers()
    {
        while (running)
        {
            Runnable task;
            while (null != (task = tasks.poll()))
            {
                task.run();
            }
            int work = 0;
            for (final FakeMember member : members)
            {
                work += member.poll();
            }
            if (0 == work)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            }
        }
    }

    /** A member's ingress and its answers, as told; everything but the setters runs on the members' thread. */
    private final class FakeMember implements AutoCloseable
    {
        static final long HEARTBEAT_INTERVAL_MS = 100;

        final int id;
        final String endpoint;
        final String channel;
        final AtomicInteger connects = new AtomicInteger();
        final AtomicInteger announces = new AtomicInteger();
        final List<Long> savedSessionIds = new CopyOnWriteArrayList<>();
        final List<byte[]> savedPayloads = new CopyOnWriteArrayList<>();
        final List<Long> reportedSessionIds = new CopyOnWriteArrayList<>();
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();
        private final ConnectDecoder connect = new ConnectDecoder();
        private final WorkerAnnounceDecoder announce = new WorkerAnnounceDecoder();
        private final SaveSessionDecoder saveSession = new SaveSessionDecoder();
        private final ReportOutcomeDecoder report = new ReportOutcomeDecoder();
        private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
        private final UnsafeBuffer out = new UnsafeBuffer(new byte[1024]);
        private final FragmentHandler handler = this::onFragment;
        private final List<Publication> publications = new ArrayList<>();
        private Subscription ingress;
        private Publication toClient;
        /** How it answers a Connect: -2 accepts, -1 NotLeader naming none, M NotLeader naming member M. */
        private volatile int connectAnswer = -2;
        /** Once member {@code leaderWatched} is gone (see {@link #leads()}), it answers {@code answerAfter}. */
        private volatile int leaderWatched = -1;
        private volatile int answerAfter = -2;
        private volatile boolean steppedDown;
        private volatile ResultCode saveCode;
        private volatile long saveValue;
        private volatile boolean dieOnSave;
        private volatile int stepDownOnSaveTo = -1;
        private volatile boolean noLeaderOnce;
        private volatile boolean heartbeats;
        private volatile boolean frozen;
        private long heartbeatSentNs;

        FakeMember(final int id, final String endpoint)
        {
            this.id = id;
            this.endpoint = endpoint;
            this.channel = ClientContext.udpIngressChannel(endpoint);
            this.ingress = membersAeron.addSubscription(channel, ClientContext.INGRESS_STREAM_ID_DEFAULT);
        }

        void accept()
        {
            connectAnswer = -2;
        }

        void notLeader(final int leaderMemberId)
        {
            connectAnswer = leaderMemberId;
        }

        /** Answers as told until member {@code leader} is gone, then {@code answer} (as {@link #connectAnswer}). */
        void afterLeaderGone(final int leader, final int answer)
        {
            answerAfter = answer;
            leaderWatched = leader;
        }

        /** Alive, answering, and not stepped down. */
        boolean leads()
        {
            return null != ingress && !frozen && !steppedDown && connectAnswer == -2;
        }

        /** Answers the first Connect with NotLeader naming none, and accepts the next ones. */
        void notLeaderOnce()
        {
            noLeaderOnce = true;
        }

        /** Says in its ConnectResponse that it heartbeats, and sends its client a Heartbeat every interval. */
        void heartbeat()
        {
            heartbeats = true;
        }

        /** Stops doing anything, as a stopped process would; its publications stay up. */
        void freeze()
        {
            frozen = true;
        }

        void answerSaves(final ResultCode code, final long value)
        {
            saveValue = value;
            saveCode = code;
        }

        /** Takes the first save without answering it, and dies: its answer is lost in the failover. */
        void dieOnSave()
        {
            dieOnSave = true;
        }

        /** Answers the first save NOT_LEADER, then says member {@code leader} leads and drops the client. */
        void refuseSavesAndStepDown(final int leader)
        {
            stepDownOnSaveTo = leader;
        }

        /** The member process goes away: nothing listens on its ingress, its publications end. */
        void kill()
        {
            CloseHelper.closeAll(publications);
            publications.clear();
            toClient = null;
            CloseHelper.close(ingress);
            ingress = null;
        }

        /** Closes its publication to the client: the client's connection is lost without a word. */
        void dropClient()
        {
            CloseHelper.close(toClient);
            publications.remove(toClient);
            toClient = null;
        }

        /** Stops leading as the contract says: NotLeader (correlation id 0) to its client, then drops it. */
        void stepDown(final int leader)
        {
            steppedDown = true;
            connectAnswer = leader;
            sendNotLeader(toClient, 0, leader);
            dropClient();
        }

        int poll()
        {
            if (frozen || null == ingress)
            {
                return 0;
            }
            final long nowNs = System.nanoTime();
            if (heartbeats && null != toClient && nowNs - heartbeatSentNs >= HEARTBEAT_INTERVAL_MS * 1_000_000L)
            {
                heartbeatSentNs = nowNs;
                final HeartbeatEncoder heartbeat = new HeartbeatEncoder().wrapAndApplyHeader(out, 0, headerEncoder)
                    .correlationId(0);
                toClient.offer(out, 0, MessageHeaderEncoder.ENCODED_LENGTH + heartbeat.encodedLength());
            }
            return ingress.poll(handler, 10);
        }

        private void onFragment(final DirectBuffer buffer, final int offset, final int length,
            final io.aeron.logbuffer.Header fragmentHeader)
        {
            header.wrap(buffer, offset);
            final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
            if (header.schemaId() == MessageHeaderDecoder.SCHEMA_ID)
            {
                switch (header.templateId())
                {
                    case ConnectDecoder.TEMPLATE_ID:
                        connect.wrap(buffer, body, header.blockLength(), header.version());
                        onConnect(connect.correlationId(), connect.responseStreamId(), connect.responseChannel());
                        break;
                    case WorkerAnnounceDecoder.TEMPLATE_ID:
                        announce.wrap(buffer, body, header.blockLength(), header.version());
                        announces.incrementAndGet();
                        respond(announce.correlationId(), WorkerAnnounceDecoder.TEMPLATE_ID, ResultCode.OK, 1);
                        break;
                    default:
                        break;
                }
            }
            else if (header.templateId() == SaveSessionDecoder.TEMPLATE_ID)
            {
                saveSession.wrap(buffer, body, header.blockLength(), header.version());
                final long correlationId = saveSession.correlationId();
                final long sessionId = saveSession.sessionId();
                final byte[] payload = new byte[saveSession.payloadLength()];
                saveSession.getPayload(payload, 0, payload.length);
                savedSessionIds.add(sessionId);
                savedPayloads.add(payload);
                if (dieOnSave)
                {
                    kill();
                }
                else if (stepDownOnSaveTo >= 0)
                {
                    respond(correlationId, SaveSessionDecoder.TEMPLATE_ID, ResultCode.NOT_LEADER, 0);
                    stepDown(stepDownOnSaveTo);
                }
                else if (null != saveCode)
                {
                    respond(correlationId, SaveSessionDecoder.TEMPLATE_ID, saveCode, saveValue);
                }
            }
            else if (header.templateId() == ReportOutcomeDecoder.TEMPLATE_ID)
            {
                report.wrap(buffer, body, header.blockLength(), header.version());
                reportedSessionIds.add(report.sessionId());
            }
        }

        private void onConnect(final long correlationId, final int streamId, final String responseChannel)
        {
            connects.incrementAndGet();
            // Exclusive: each answer on an image of its own, as from members with drivers of their own.
            final Publication publication = membersAeron.addExclusivePublication(responseChannel, streamId);
            publications.add(publication);
            int answer = connectAnswer;
            if (leaderWatched >= 0 && !members[leaderWatched].leads())
            {
                answer = answerAfter;
            }
            if (noLeaderOnce)
            {
                noLeaderOnce = false;
                answer = -1;
            }
            if (answer != -2)
            {
                sendNotLeader(publication, correlationId, answer);
                return;
            }
            toClient = publication;
            final ConnectResponseEncoder response = new ConnectResponseEncoder()
                .wrapAndApplyHeader(out, 0, headerEncoder)
                .correlationId(correlationId)
                .clientId(clientIdOf(id))
                .leaderMemberId(id)
                .resultCode(ResultCode.OK)
                .heartbeatIntervalMs(ConnectResponseEncoder.heartbeatIntervalMsNullValue())
                .nodeHeartbeatIntervalMs(heartbeats ? HEARTBEAT_INTERVAL_MS :
                    ConnectResponseEncoder.nodeHeartbeatIntervalMsNullValue())
                .detail("");
            offer(publication, MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength());
        }

        private void sendNotLeader(final Publication publication, final long correlationId, final int leader)
        {
            final NotLeaderEncoder notLeader = new NotLeaderEncoder()
                .wrapAndApplyHeader(out, 0, headerEncoder)
                .correlationId(correlationId)
                .leaderMemberId(leader)
                .leaderChannel(leader < 0 ? "" : members[leader].channel);
            offer(publication, MessageHeaderEncoder.ENCODED_LENGTH + notLeader.encodedLength());
        }

        private void respond(final long correlationId, final int templateId, final ResultCode code, final long value)
        {
            final ResponseEncoder response = new ResponseEncoder()
                .wrapAndApplyHeader(out, 0, headerEncoder)
                .correlationId(correlationId)
                .value(value)
                .operatorTemplateId(templateId)
                .resultCode(code)
                .detail("");
            offer(toClient, MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength());
        }

        /** Waits for the client's response channel to connect: the members' thread answers one thing at a time. */
        private void offer(final Publication publication, final int length)
        {
            final long deadline = System.nanoTime() + WAIT_NS;
            long result;
            while ((result = publication.offer(out, 0, length)) < 0)
            {
                if (!running)
                {
                    return; // the test is over: a client that went away does not hold up its end
                }
                if (result == Publication.CLOSED || System.nanoTime() > deadline)
                {
                    throw new IllegalStateException("member " + id + " could not answer on " + publication.channel() +
                        ": " + result);
                }
                Thread.onSpinWait();
            }
        }

        public void close()
        {
            kill();
        }
    }
}
