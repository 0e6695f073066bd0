package io.reprise.engine.repeat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.InProcessClient;
import io.reprise.engine.node.NodeAssembly;
import io.reprise.engine.node.NodeContext;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node that stops being leader dispatches nothing more: not the attempts whose start it had already taken in, nor
 * those a worker's connection refused and that wait for another offer. The node's steps run by hand, in one thread,
 * so the order of events is exact.
 */
class RepeatStepDownTest
{
    private static final int TENANT = 2;
    private static final long WORKER = 5;
    private static final SessionPolicy POLICY = new SessionPolicy().leaseMs(600_000);

    private final AtomicLong clockMs = new AtomicLong(1_000_000);
    private final List<String> dispatched = new ArrayList<>();
    private boolean accepting = true;
    private NodeAssembly node;

    private boolean link(
        final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handle, final DirectBuffer payload, final int offset, final int length)
    {
        if (accepting)
        {
            dispatched.add(sessionId + "/" + attempt);
        }
        return accepting;
    }

    private void start() throws Exception
    {
        node = NodeAssembly.assemble(new NodeContext()
            .dataDirectory(Path.of("/node"))
            .disk(new SimulatedDisk(1))
            .epochClock(clockMs::get)
            .nanoClock(() -> clockMs.get() * 1_000_000)
            .rules(new BusinessRules().maxSessions(1024).expectedSessions(64).maxDestinations(4))
            .ringSize(64)
            .workerLink(this::link)
            .lifecycleListener((step) -> { }));
        node.live(true);
        for (final Agent step : node.stages())
        {
            step.onStart();
        }
        for (final Agent step : node.backgroundAgents())
        {
            step.onStart();
        }
        node.workerJoined(WORKER, TENANT, new int[] {0}, 8);
    }

    /** Runs the ring's stages until everything published is applied. */
    private void applyAll() throws Exception
    {
        for (int i = 0; i < 100 && !node.drained(); i++)
        {
            for (final Agent stage : node.stages())
            {
                stage.doWork();
            }
        }
        assertTrue(node.drained());
    }

    /** Saves {@code count} sessions due now and lets the repeat process start their first attempts. */
    private void startAttempts(final int count) throws Exception
    {
        final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) -> { });
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {1, 2, 3});
        for (long id = 1; id <= count; id++)
        {
            assertEquals(ResultCode.OK, client.save(id, 0, POLICY, payload, 0, 3));
        }
        applyAll();
        final RepeatProcess repeats = node.repeatProcess();
        repeats.doWork(); // takes the worker in, proposes a round of BeginRepeats
        applyAll();       // the attempts start: their events wait in the repeat process's event ring
    }

    @Test
    void attemptsStartedBeforeAStepDownAreNotDispatchedAfterIt() throws Exception
    {
        start();
        startAttempts(3);
        node.repeatProcess().leader(false);
        node.repeatProcess().doWork();
        node.repeatProcess().doWork();
        assertEquals(List.of(), dispatched, "a follower dispatches nothing");
    }

    @Test
    void refusedAttemptsWaitingForAnotherOfferAreDroppedAtAStepDown() throws Exception
    {
        start();
        accepting = false;
        startAttempts(3);
        node.repeatProcess().doWork();
        assertEquals(3, node.repeatProcess().deferred(), "the connection refused all three");
        node.repeatProcess().leader(false);
        accepting = true;
        node.repeatProcess().doWork();
        node.repeatProcess().doWork();
        assertEquals(List.of(), dispatched, "a follower dispatches nothing");
        assertEquals(0, node.repeatProcess().deferred());
    }

    @Test
    void aNewLeaderHandsOutNoAttemptBegunByAnEarlierLeadersEntry() throws Exception
    {
        start();
        final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) -> { });
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {1, 2, 3});
        for (long id = 1; id <= 3; id++)
        {
            assertEquals(ResultCode.OK, client.save(id, 0, POLICY, payload, 0, 3));
        }
        applyAll();
        final RepeatProcess repeats = node.repeatProcess();
        repeats.doWork(); // proposes a BeginRepeats, not yet applied: as if an earlier leader had
        // Leading from after that entry, as a member that applies it only once it leads.
        repeats.leader(true, node.publishedIndex());
        applyAll();
        repeats.doWork();
        assertEquals(List.of(), dispatched, "the attempts an earlier leader's entry began are not handed out");

        assertEquals(ResultCode.OK, client.save(4, 0, POLICY, payload, 0, 3));
        applyAll();
        repeats.doWork(); // this leader's own BeginRepeats
        applyAll();
        repeats.doWork();
        assertEquals(List.of("4/1"), dispatched, "an attempt this leader's entry began is");
    }

    @Test
    void aLeaderDispatchesThem() throws Exception
    {
        start();
        startAttempts(3);
        node.repeatProcess().doWork();
        assertEquals(List.of("1/1", "2/1", "3/1"), dispatched);
    }
}
