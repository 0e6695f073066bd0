package io.reprise.engine.repeat;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import io.reprise.engine.flow.OperationPublisher;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.state.DestinationFigures;
import io.reprise.engine.storage.StorageReader;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The repeat process (ARCHITECTURE §7, leader only): hands due sessions to the workers of their destination.
 * <p>
 * It proposes {@code BeginRepeats} without waiting for earlier ones: for every destination that has live workers
 * with free hands it takes the smallest of the destination's ready count and in-flight room (both from
 * {@link DestinationFigures}, less what its proposals not yet applied may start) and the workers' free hands, and
 * proposes one {@code BeginRepeats}, planning which worker takes how many. A planned hand counts as taken until the
 * proposal is applied, so hands are never promised twice; a destination has at most a few proposals in the ring.
 * The business logic starts attempts in ready order, which is due order, and only once the entry is committed;
 * each started attempt comes back here as an event, is read from saved-session storage and sent to the worker its
 * proposal planned. When a proposal is applied, the hands it planned but did not use are free again. A backlog
 * drains at the pace workers take it, never faster.
 * <p>
 * A worker's hand is freed when the business logic says its attempt ended (reported, lease expired, cancelled).
 * A worker that vanishes keeps nothing: its attempts stay in flight until their leases run out and then return
 * to the schedule. An attempt the worker's connection cannot take now (back-pressured) keeps its hand and is
 * offered again on every duty cycle, oldest first, until it is taken, the attempt ends, or the worker leaves.
 * Events arrive from the business-logic thread through a one-to-one ring; workers join and leave through a queue
 * from the transport's thread; everything else runs on this agent's thread.
 */
public final class RepeatProcess implements Agent
{
    private static final int STARTED = 1;
    private static final int ENDED = 2;
    private static final int EVENT_LENGTH = 32;
    /** Proposals of one destination in the ring at once: enough to cover a commit's latency, few enough to waste little. */
    private static final int MAX_PROPOSALS_PER_DESTINATION = 4;
    /** Refused attempts kept for another offer; beyond this they wait out their lease instead. */
    private static final int MAX_DEFERRED = 4096;

    private final OperationPublisher publisher;
    private final LongSupplier appliedIndex;
    private final DestinationFigures figures;
    private final StorageReader reader;
    private final WorkerLink link;
    private final ErrorHandler errorHandler;
    private final int maxBatch;
    private final OneToOneRingBuffer events;
    private final UnsafeBuffer eventScratch = new UnsafeBuffer(ByteBuffer.allocateDirect(EVENT_LENGTH));
    /**
     * Events that found the ring full, oldest first, until the business logic moves them in ({@link #eventsHeldBack});
     * business-logic thread only. It grows only when the ring was full.
     */
    private final ExpandableArrayBuffer spill = new ExpandableArrayBuffer(0);
    private int spillHead;
    private int spillTail;
    /** The index of the entry whose events first went to the spill; this process settles only below it. */
    private volatile long spilledFromIndex = Long.MAX_VALUE;
    private final ManyToOneConcurrentLinkedQueue<Runnable> commands = new ManyToOneConcurrentLinkedQueue<>();
    private final Long2ObjectHashMap<Worker> workers = new Long2ObjectHashMap<>();
    private final Int2ObjectHashMap<Destination> destinations = new Int2ObjectHashMap<>();
    /** Attempts in a worker's hands: tenant to (session id to worker id). */
    private final Int2ObjectHashMap<Long2LongHashMap> inHand = new Int2ObjectHashMap<>();
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer operator = new UnsafeBuffer(new byte[64]);
    private final MutableDirectBuffer payload;
    private final AtomicLong dispatched = new AtomicLong();
    private final AtomicLong undeliverable = new AtomicLong();
    private final AtomicLong proposals = new AtomicLong();
    private final AtomicLong probes = new AtomicLong();
    private final AtomicLong deferredCount = new AtomicLong();
    private volatile boolean leader;
    /**
     * The last entry of the leaders before this one: the attempts its entries and those before began were theirs to
     * hand out (or are left to their leases), never this leader's; 0 standalone.
     */
    private volatile long previousLeadersThrough;
    private volatile boolean closed;
    /** Proposals in the ring, oldest (lowest index) first. */
    private final ArrayDeque<Proposal> outstanding = new ArrayDeque<>();
    private final ArrayDeque<Proposal> spareProposals = new ArrayDeque<>();
    private long rounds;
    private final List<Destination> destinationList = new ArrayList<>();
    /** Attempts a worker's connection refused, oldest first; at most {@link #MAX_DEFERRED}. */
    private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();
    private final ArrayDeque<Deferred> spareDeferred = new ArrayDeque<>();
    private final LongHashSet refusedThisPass = new LongHashSet();

    /**
     * @param appliedIndex the business logic's applied index, readable from any thread.
     * @param maxBatch     the largest {@code BeginRepeats} the business rules accept.
     * @param eventBytes   room for events between the business logic and this process.
     */
    public RepeatProcess(
        final OperationPublisher publisher,
        final LongSupplier appliedIndex,
        final DestinationFigures figures,
        final StorageReader reader,
        final int maxPayloadBytes,
        final WorkerLink link,
        final ErrorHandler errorHandler,
        final int maxBatch,
        final int eventBytes)
    {
        this.publisher = publisher;
        this.appliedIndex = appliedIndex;
        this.figures = figures;
        this.reader = reader;
        this.link = link;
        this.errorHandler = errorHandler;
        this.maxBatch = maxBatch;
        this.payload = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(1, maxPayloadBytes)));
        events = new OneToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(eventBytes + RingBufferDescriptor.TRAILER_LENGTH)));
    }

    // ------------------------------------------------------------------------- from the business-logic thread

    /** An attempt began and is committed: dispatch it. Business-logic thread. */
    public void onRepeatStarted(
        final int tenant, final long sessionId, final int destination, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
        publishEvent(STARTED, tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle);
    }

    /**
     * An attempt ended ({@code endedBy}: {@code OutputSink.ENDED_BY_*}): free the hand that held it, and hold back
     * or restore its worker. Business-logic thread.
     */
    public void onAttemptEnded(
        final int tenant, final long sessionId, final int destination, final int attempt, final int endedBy)
    {
        publishEvent(ENDED, tenant, sessionId, destination, attempt, 0, endedBy);
    }

    /**
     * Never waits and never loses an event: when the ring is full the event goes to the spill, and so do the ones
     * after it until the business logic has moved them all into the ring (it takes no new entry meanwhile). A
     * follower or a stopped process takes no events.
     */
    private void publishEvent(
        final int type, final int tenant, final long sessionId, final int destination, final int attempt,
        final long leaseExpiresAtMs, final int handleOrEndedBy)
    {
        if (!leader || closed || (type == STARTED && appliedIndex.getAsLong() < previousLeadersThrough))
        {
            return; // the entry being applied (the one after the applied index) is an earlier leader's
        }
        eventScratch.putLong(0, sessionId);
        eventScratch.putLong(8, leaseExpiresAtMs);
        eventScratch.putInt(16, tenant);
        eventScratch.putInt(20, destination);
        eventScratch.putInt(24, attempt);
        eventScratch.putInt(28, handleOrEndedBy);
        if (spillTail == spillHead && events.write(type, eventScratch, 0, EVENT_LENGTH))
        {
            return;
        }
        if (spillTail == spillHead)
        {
            spilledFromIndex = appliedIndex.getAsLong() + 1;
        }
        spill.putInt(spillTail, type);
        spill.putBytes(spillTail + Integer.BYTES, eventScratch, 0, EVENT_LENGTH);
        spillTail += Integer.BYTES + EVENT_LENGTH;
    }

    /**
     * Moves held-back events into the ring as room allows. Business-logic thread, between batches: it takes no
     * entry while this is true, so events keep their order and the spill stays small.
     *
     * @return true while events are still held back.
     */
    public boolean eventsHeldBack()
    {
        if (spillTail == spillHead)
        {
            return false;
        }
        while (spillHead < spillTail)
        {
            if (!closed && !events.write(spill.getInt(spillHead), spill, spillHead + Integer.BYTES, EVENT_LENGTH))
            {
                return true;
            }
            spillHead += Integer.BYTES + EVENT_LENGTH;
        }
        spillHead = 0;
        spillTail = 0;
        spilledFromIndex = Long.MAX_VALUE;
        return false;
    }

    // ------------------------------------------------------------------------- from the transport

    /** A worker connected and serves {@code destinations} of its tenant, taking up to {@code hands} at once. */
    public void workerJoined(final long workerId, final int tenant, final int[] destinations, final int hands)
    {
        final int[] served = destinations.clone();
        commands.offer(() -> addWorker(new Worker(workerId, tenant, served, hands)));
    }

    /** A worker disconnected or timed out. */
    public void workerLeft(final long workerId)
    {
        commands.offer(() -> removeWorker(workerId));
    }

    /**
     * Becomes leader (starts proposing and dispatching) or stops at once. Either way it starts from nothing:
     * attempts handed out before stay in flight until reported or expired.
     */
    public void leader(final boolean isLeader)
    {
        leader(isLeader, 0);
    }

    /**
     * As {@link #leader(boolean)}, for a member of a cluster that leads from the entry after
     * {@code previousLeadersThrough}: an attempt begun by an entry at or before it, which this member applies only now
     * (a follower applies what it knows committed, and learns that of the last entries only once it leads), was
     * handed out by the leader that proposed it. Handing it out again would give a worker the same attempt twice.
     */
    public void leader(final boolean isLeader, final long previousLeadersThrough)
    {
        commands.offer(this::forgetRounds);
        this.previousLeadersThrough = previousLeadersThrough;
        leader = isLeader;
    }

    // ------------------------------------------------------------------------- the agent

    public int doWork()
    {
        int work = drainCommands();
        // Read the applied index before the events: every event of an entry at or below it is in the ring, unless
        // held back in the spill from some entry on.
        final long applied = Math.min(appliedIndex.getAsLong(), spilledFromIndex - 1);
        int read;
        while ((read = events.read(this::onEvent)) > 0)
        {
            work += read;
        }
        work += settle(applied);
        work += offerDeferred();
        deferredCount.lazySet(deferred.size());
        if (!leader)
        {
            return work;
        }
        return work + proposeRound();
    }

    public void onClose()
    {
        closed = true;
    }

    public String roleName()
    {
        return "repeat-process";
    }

    public long dispatched()
    {
        return dispatched.get();
    }

    /**
     * Attempts started that no worker took: none was there, the payload was gone, or the worker left (or too many
     * were waiting) while its connection refused them. They return to the schedule when their lease runs out.
     */
    public long undeliverable()
    {
        return undeliverable.get();
    }

    /** {@code BeginRepeats} proposed. */
    public long proposals()
    {
        return proposals.get();
    }

    /** Attempts planned for held-back workers as probes. */
    public long probes()
    {
        return probes.get();
    }

    private int drainCommands()
    {
        int count = 0;
        Runnable command;
        while (null != (command = commands.poll()))
        {
            command.run();
            count++;
        }
        return count;
    }

    /**
     * Plans in two passes so that no destination starves another sharing its workers: first each destination
     * may take its share of a worker's free hands (free hands over the destinations it serves), then what is
     * left goes to whoever still has ready sessions. The order of destinations rotates from round to round.
     */
    private int proposeRound()
    {
        final int count = destinationList.size();
        if (count == 0)
        {
            return 0;
        }
        for (final Worker worker : workers.values())
        {
            worker.share = Math.max(1, worker.freeHands() / worker.destinations.length);
        }
        final int first = (int)(rounds++ % count);
        for (int i = 0; i < count; i++)
        {
            final Destination destination = destinationList.get((first + i) % count);
            final int d = destination.id;
            destination.proposal = null;
            if (destination.proposals.size() >= MAX_PROPOSALS_PER_DESTINATION)
            {
                destination.wanted = 0;
                continue;
            }
            final int room = figures.get(d, DestinationFigures.IN_FLIGHT_LIMIT) -
                figures.get(d, DestinationFigures.IN_FLIGHT);
            final int ready = figures.get(d, DestinationFigures.READY);
            destination.wanted = Math.min(Math.min(ready, room) - destination.outstandingPlanned, maxBatch);
            plan(destination, true);
        }
        int proposed = 0;
        for (int i = 0; i < count; i++)
        {
            final Destination destination = destinationList.get((first + i) % count);
            plan(destination, false);
            final Proposal proposal = destination.proposal;
            if (null == proposal)
            {
                continue;
            }
            destination.proposal = null;
            final int length = encoder.beginRepeats(operator, 0, destination.id, proposal.total);
            final long index = publisher.tryPublishIndex(operator, 0, length);
            if (index < 0)
            {
                release(proposal);
                continue;
            }
            proposal.index = index;
            outstanding.addLast(proposal);
            destination.proposals.addLast(proposal);
            proposals.lazySet(proposals.get() + 1);
            proposed++;
        }
        return proposed;
    }

    /**
     * Plans hands of the destination's workers of its owner tenant, up to each worker's share or all it has. When they
     * offer more than the destination wants, each takes in proportion to what it offers, and the odd ones left go one
     * each from a worker that moves on every round: so attempts spread over the live workers, the least loaded taking
     * the most. In the last pass, if the destination still wants more, a held-back worker with nothing in hand gets
     * one attempt as a probe.
     */
    private void plan(final Destination destination, final boolean shareOnly)
    {
        final int wanted = destination.wanted;
        if (wanted <= 0)
        {
            return;
        }
        final int owner = figures.get(destination.id, DestinationFigures.OWNER);
        final List<Worker> candidates = destination.workers;
        final int count = candidates.size();
        final int[] offered = destination.scratch(count);
        final int[] taking = destination.taking;
        long total = 0;
        for (int w = 0; w < count; w++)
        {
            final Worker worker = candidates.get(w);
            final int free = worker.tenant != owner ? 0 :
                shareOnly ? Math.min(worker.share, worker.freeHands()) : worker.freeHands();
            offered[w] = free;
            total += free;
        }
        if (total > wanted)
        {
            int left = wanted;
            for (int w = 0; w < count; w++)
            {
                taking[w] = (int)((long)wanted * offered[w] / total);
                left -= taking[w];
            }
            final int first = (int)(destination.rotation++ % count);
            for (int i = 0; i < count && left > 0; i++)
            {
                final int w = (first + i) % count;
                if (offered[w] > taking[w])
                {
                    taking[w]++;
                    left--;
                }
            }
        }
        else
        {
            System.arraycopy(offered, 0, taking, 0, count);
        }
        for (int w = 0; w < count; w++)
        {
            planHands(destination, candidates.get(w), taking[w]);
        }
        if (!shareOnly && destination.wanted > 0)
        {
            planProbe(destination, owner);
        }
    }

    /** One attempt for a held-back worker that holds nothing: only once every other worker's hands are taken. */
    private void planProbe(final Destination destination, final int owner)
    {
        final List<Worker> candidates = destination.workers;
        for (int w = 0; w < candidates.size(); w++)
        {
            final Worker worker = candidates.get(w);
            if (worker.tenant == owner && worker.heldBack() && worker.inHand == 0 && worker.planned == 0)
            {
                planHands(destination, worker, 1);
                probes.lazySet(probes.get() + 1);
                return;
            }
        }
    }

    private void planHands(final Destination destination, final Worker worker, final int take)
    {
        if (take > 0)
        {
            if (null == destination.proposal)
            {
                destination.proposal = newProposal(destination);
            }
            destination.proposal.add(worker, take);
            destination.wanted -= take;
        }
    }

    /** Proposals applied by now started all they could: the hands they planned and did not use are free. */
    private int settle(final long applied)
    {
        int settled = 0;
        Proposal proposal;
        while (null != (proposal = outstanding.peekFirst()) && proposal.index <= applied)
        {
            outstanding.pollFirst();
            proposal.destination.proposals.remove(proposal);
            release(proposal);
            settled++;
        }
        return settled;
    }

    private Proposal newProposal(final Destination destination)
    {
        final Proposal proposal = spareProposals.isEmpty() ? new Proposal() : spareProposals.poll();
        proposal.destination = destination;
        return proposal;
    }

    private void release(final Proposal proposal)
    {
        for (int i = 0; i < proposal.workers.size(); i++)
        {
            proposal.workers.get(i).planned -= proposal.counts[i];
        }
        proposal.destination.outstandingPlanned -= proposal.remaining;
        proposal.clear();
        spareProposals.addLast(proposal);
    }

    private void forgetRounds()
    {
        Proposal proposal;
        while (null != (proposal = outstanding.pollFirst()))
        {
            proposal.destination.proposals.remove(proposal);
            release(proposal);
        }
        inHand.clear();
        for (final Worker worker : workers.values())
        {
            worker.inHand = 0;
        }
    }

    private void onEvent(final int type, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final long sessionId = buffer.getLong(offset);
        final long leaseExpiresAtMs = buffer.getLong(offset + 8);
        final int tenant = buffer.getInt(offset + 16);
        final int destination = buffer.getInt(offset + 20);
        final int attempt = buffer.getInt(offset + 24);
        if (type == STARTED)
        {
            // Only a leader dispatches: an attempt whose start it took in before it stepped down is left to its
            // lease, and the next leader starts it again.
            if (leader)
            {
                dispatch(tenant, sessionId, destination, attempt, leaseExpiresAtMs, buffer.getInt(offset + 28));
            }
        }
        else
        {
            release(tenant, sessionId, buffer.getInt(offset + 28));
        }
    }

    private void dispatch(
        final int tenant, final long sessionId, final int destinationId, final int attempt, final long leaseExpiresAtMs,
        final int handle)
    {
        final Destination destination = destinations.get(destinationId);
        final Worker worker = null == destination ? null : destination.take(tenant);
        if (null == worker)
        {
            undeliverable.lazySet(undeliverable.get() + 1);
            return;
        }
        final int length;
        try
        {
            length = reader.read(tenant, sessionId, payload, 0);
        }
        catch (final Exception ex)
        {
            errorHandler.onError(ex);
            undeliverable.lazySet(undeliverable.get() + 1);
            return;
        }
        if (length == StorageReader.NOT_FOUND)
        {
            // Cancelled (or otherwise finished) after the attempt began: its payload is gone, nothing to send.
            undeliverable.lazySet(undeliverable.get() + 1);
            return;
        }
        // Behind attempts the worker's connection refused, a new one waits its turn: a worker gets them in order.
        final boolean taken = worker.deferred == 0 && link.dispatch(
            worker.id, tenant, sessionId, destinationId, attempt, leaseExpiresAtMs, handle, payload, 0, length);
        if (!taken && deferred.size() >= MAX_DEFERRED)
        {
            undeliverable.lazySet(undeliverable.get() + 1);
            return;
        }
        // A refused attempt keeps the worker's hand while it waits for another offer.
        worker.inHand++;
        inHand.computeIfAbsent(tenant, (t) -> new Long2LongHashMap(Long.MIN_VALUE)).put(sessionId, worker.id);
        if (taken)
        {
            dispatched.lazySet(dispatched.get() + 1);
        }
        else
        {
            final Deferred entry = spareDeferred.isEmpty() ? new Deferred() : spareDeferred.pollFirst();
            entry.set(worker.id, tenant, sessionId, destinationId, attempt, leaseExpiresAtMs, handle);
            deferred.addLast(entry);
            worker.deferred++;
        }
    }

    /**
     * Offers each refused attempt once more, oldest first; after a worker's connection refuses one, its later ones
     * wait for the next pass, so a worker gets its attempts in the order they started. One that ended meanwhile was
     * dropped by {@link #release}; one whose worker left, or whose payload is gone, is given up (its lease returns
     * it to the schedule).
     */
    private int offerDeferred()
    {
        if (!leader)
        {
            // Stepped down: nothing waiting is offered again; each returns to the schedule when its lease runs out.
            while (!deferred.isEmpty())
            {
                final Deferred entry = deferred.pollFirst();
                releaseHand(entry.tenant, entry.sessionId);
                retire(entry);
            }
            return 0;
        }
        int taken = 0;
        refusedThisPass.clear();
        for (int i = deferred.size(); i > 0; i--)
        {
            final Deferred entry = deferred.pollFirst();
            if (refusedThisPass.contains(entry.workerId))
            {
                deferred.addLast(entry);
                continue;
            }
            final Worker worker = workers.get(entry.workerId);
            int length = StorageReader.NOT_FOUND;
            if (null != worker)
            {
                try
                {
                    length = reader.read(entry.tenant, entry.sessionId, payload, 0);
                }
                catch (final Exception ex)
                {
                    errorHandler.onError(ex);
                }
            }
            if (length == StorageReader.NOT_FOUND)
            {
                undeliverable.lazySet(undeliverable.get() + 1);
                releaseHand(entry.tenant, entry.sessionId);
                retire(entry);
            }
            else if (link.dispatch(worker.id, entry.tenant, entry.sessionId, entry.destination, entry.attempt,
                entry.leaseExpiresAtMs, entry.handle, payload, 0, length))
            {
                dispatched.lazySet(dispatched.get() + 1);
                retire(entry);
                taken++;
            }
            else
            {
                refusedThisPass.add(entry.workerId);
                deferred.addLast(entry);
            }
        }
        return taken;
    }

    /** Refused attempts waiting for another offer, as of the last duty cycle. */
    public long deferred()
    {
        return deferredCount.get();
    }

    /**
     * The attempt ended: its hand is free, and if it still waits for another offer, it waits no more. A lease that ran
     * out holds its worker back; a report restores it.
     */
    private void release(final int tenant, final long sessionId, final int endedBy)
    {
        if (!deferred.isEmpty())
        {
            dropDeferred(tenant, sessionId);
        }
        final Worker worker = releaseHand(tenant, sessionId);
        if (null != worker)
        {
            if (endedBy == OutputSink.ENDED_BY_LEASE)
            {
                worker.leasesRunOut = Math.min(worker.leasesRunOut + 1, Integer.SIZE);
            }
            else if (endedBy == OutputSink.ENDED_BY_REPORT)
            {
                worker.leasesRunOut = 0;
            }
        }
    }

    private void dropDeferred(final int tenant, final long sessionId)
    {
        for (int i = deferred.size(); i > 0; i--)
        {
            final Deferred entry = deferred.pollFirst();
            if (entry.tenant == tenant && entry.sessionId == sessionId)
            {
                retire(entry);
            }
            else
            {
                deferred.addLast(entry);
            }
        }
    }

    /** An attempt no longer waits for another offer. */
    private void retire(final Deferred entry)
    {
        final Worker worker = workers.get(entry.workerId);
        if (null != worker)
        {
            worker.deferred--;
        }
        spareDeferred.addLast(entry);
    }

    /** @return the worker that held the attempt, if it is still connected. */
    private Worker releaseHand(final int tenant, final long sessionId)
    {
        final Long2LongHashMap sessions = inHand.get(tenant);
        if (null == sessions)
        {
            return null;
        }
        final long workerId = sessions.remove(sessionId);
        final Worker worker = workerId == Long.MIN_VALUE ? null : workers.get(workerId);
        if (null != worker && worker.inHand > 0)
        {
            worker.inHand--;
        }
        return worker;
    }

    private void addWorker(final Worker worker)
    {
        removeWorker(worker.id);
        workers.put(worker.id, worker);
        for (final int d : worker.destinations)
        {
            if (d >= 0 && d < figures.count())
            {
                Destination destination = destinations.get(d);
                if (null == destination)
                {
                    destination = new Destination(d);
                    destinations.put(d, destination);
                    destinationList.add(destination);
                }
                destination.workers.add(worker);
            }
        }
    }

    private void removeWorker(final long workerId)
    {
        final Worker worker = workers.remove(workerId);
        if (null == worker)
        {
            return;
        }
        for (final int d : worker.destinations)
        {
            final Destination destination = destinations.get(d);
            if (null != destination)
            {
                destination.workers.remove(worker);
                for (final Proposal proposal : destination.proposals)
                {
                    proposal.forget(worker);
                }
                if (destination.workers.isEmpty())
                {
                    destinations.remove(d);
                    destinationList.remove(destination);
                }
            }
        }
    }

    private static final class Worker
    {
        final long id;
        final int tenant;
        final int[] destinations;
        final int hands;
        int inHand;
        /** Of those, attempts its connection refused that wait for another offer. */
        int deferred;
        /** Hands promised in the current round, across all its destinations. */
        int planned;
        /** What one destination may take of its free hands in a round's first pass. */
        int share;
        /** Its attempts whose lease ran out since it last reported one: each halves the hands it is given. */
        int leasesRunOut;

        Worker(final long id, final int tenant, final int[] destinations, final int hands)
        {
            this.id = id;
            this.tenant = tenant;
            this.destinations = destinations;
            this.hands = hands;
        }

        /** The hands it is trusted with: all of them, halved by each lease run out since its last report. */
        int allowedHands()
        {
            return leasesRunOut >= Integer.SIZE ? 0 : hands >> leasesRunOut;
        }

        /** Held back to nothing: it gets an attempt only as a probe, when no other worker has a free hand. */
        boolean heldBack()
        {
            return allowedHands() == 0;
        }

        int freeHands()
        {
            return Math.max(0, allowedHands() - inHand - planned);
        }
    }

    /** A destination with live workers and its proposals in the ring, oldest first. */
    private static final class Destination
    {
        final int id;
        final List<Worker> workers = new ArrayList<>();
        final ArrayDeque<Proposal> proposals = new ArrayDeque<>();
        /** Hands its proposals in the ring planned and have not used yet. */
        int outstandingPlanned;
        /** Planning scratch of the current round. */
        int wanted;
        Proposal proposal;
        /** Planning scratch, per worker: the hands it offers and those it is given. */
        int[] offered = new int[4];
        int[] taking = new int[4];
        /** Where the hands left over by the proportional split start: moves on every round. */
        long rotation;

        Destination(final int id)
        {
            this.id = id;
        }

        /** The planning scratch for {@code count} workers, grown only when more workers serve it than ever before. */
        int[] scratch(final int count)
        {
            if (offered.length < count)
            {
                offered = new int[Integer.highestOneBit(count) << 1];
                taking = new int[offered.length];
            }
            return offered;
        }

        /**
         * The worker for the next started attempt: the business logic applies proposals in order, so it is one
         * planned by the oldest proposal with hands left; otherwise a worker of the tenant with a free hand.
         */
        Worker take(final int tenant)
        {
            for (final Proposal proposal : proposals)
            {
                final Worker worker = proposal.take(tenant);
                if (null != worker)
                {
                    return worker;
                }
            }
            for (int i = 0; i < workers.size(); i++)
            {
                final Worker worker = workers.get(i);
                if (worker.tenant == tenant && worker.freeHands() > 0)
                {
                    return worker;
                }
            }
            return null;
        }
    }

    /** A started attempt whose worker's connection refused it: what its dispatch needs again. */
    private static final class Deferred
    {
        long workerId;
        int tenant;
        long sessionId;
        int destination;
        int attempt;
        long leaseExpiresAtMs;
        int handle;

        void set(
            final long workerId, final int tenant, final long sessionId, final int destination, final int attempt,
            final long leaseExpiresAtMs, final int handle)
        {
            this.workerId = workerId;
            this.tenant = tenant;
            this.sessionId = sessionId;
            this.destination = destination;
            this.attempt = attempt;
            this.leaseExpiresAtMs = leaseExpiresAtMs;
            this.handle = handle;
        }
    }

    /** One {@code BeginRepeats} in the ring: which worker takes how many of the attempts it starts. */
    private static final class Proposal
    {
        final List<Worker> workers = new ArrayList<>();
        int[] counts = new int[4];
        Destination destination;
        long index;
        int total;
        int remaining;

        void add(final Worker worker, final int count)
        {
            if (workers.size() == counts.length)
            {
                counts = Arrays.copyOf(counts, counts.length * 2);
            }
            counts[workers.size()] = count;
            workers.add(worker);
            worker.planned += count;
            total += count;
            remaining += count;
            destination.outstandingPlanned += count;
        }

        Worker take(final int tenant)
        {
            for (int i = 0; i < workers.size(); i++)
            {
                final Worker worker = workers.get(i);
                if (counts[i] > 0 && worker.tenant == tenant)
                {
                    counts[i]--;
                    remaining--;
                    worker.planned--;
                    destination.outstandingPlanned--;
                    return worker;
                }
            }
            return null;
        }

        /** A worker left: its planned hands are gone with it. */
        void forget(final Worker worker)
        {
            for (int i = 0; i < workers.size(); i++)
            {
                if (workers.get(i) == worker)
                {
                    remaining -= counts[i];
                    destination.outstandingPlanned -= counts[i];
                    worker.planned -= counts[i];
                    counts[i] = 0;
                }
            }
        }

        void clear()
        {
            workers.clear();
            destination = null;
            total = 0;
            remaining = 0;
        }
    }
}
