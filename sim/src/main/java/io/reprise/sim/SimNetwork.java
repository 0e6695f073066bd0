package io.reprise.sim;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

import io.reprise.engine.cluster.ReplicaLink;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The simulated network between the members {@code 0..n-1} of a simulated cluster, on virtual time: each member's
 * {@link ReplicaLink} sends onto it and polls what arrived. A sent message is copied and given a delivery time, now
 * plus a drawn delay; a member's poll hands over its messages whose delivery time has come, earliest first (ties in
 * send order). Every draw comes from the one {@link Random} given, in the order of the calls, so a run of the
 * simulator depends on its seed alone.
 * <p>
 * Faults, none until set: loss and duplication of a message, a delay drawn per message (which also reorders),
 * partitions (one way, at send time: a message already on the wire arrives), and members that are down. A member
 * that goes down loses what was queued for it, as a crashed process loses its receive buffers, and what arrives
 * while it is down is dropped; what it sent before is on the wire and arrives. A down member neither sends nor
 * polls: its process is not running, so a call on its link is a bug of the simulator.
 * <p>
 * At most {@link #MAX_IN_FLIGHT_PER_MEMBER} messages are in flight to one member: beyond, a send returns false, as a
 * link pushes back when its buffers are full.
 */
final class SimNetwork
{
    /** Messages on the wire to one member, at most: a send beyond returns false (back-pressure). */
    static final int MAX_IN_FLIGHT_PER_MEMBER = 10_000;
    /** The longest message a link takes: a larger one is a bug of its sender. */
    static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    /** The longest mean delay: an hour of virtual time, far from overflowing a delivery time. */
    static final long MAX_DELAY_MEAN_NS = 3_600_000_000_000L;

    private static final int PPM = 1_000_000;
    private static final int INITIAL_SLOTS = 64;
    private static final int MIN_PAYLOAD_BYTES = 64;

    private final Random random;
    private final VirtualClock clock;
    private final Member[] members;
    /** {@code blocked[from][to]}: messages from {@code from} to {@code to} are dropped when sent. */
    private final boolean[][] blocked;

    private int lossPpm;
    private int duplicationPpm;
    private long delayMinNs;
    private long delayMeanNs;
    /** Orders the messages of one delivery time as they were sent, duplicates after their original. */
    private long nextSequence;

    private long sent;
    private long delivered;
    private long lost;
    private long partitioned;
    private long droppedDown;
    private long duplicated;
    private long backPressured;

    SimNetwork(final int members, final Random random, final VirtualClock clock)
    {
        if (members < 1)
        {
            throw new IllegalArgumentException("members must be at least 1: " + members);
        }
        this.random = Objects.requireNonNull(random, "random");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.members = new Member[members];
        for (int i = 0; i < members; i++)
        {
            this.members[i] = new Member(i);
        }
        this.blocked = new boolean[members][members];
    }

    /** The link of {@code member}: the same object on every call, across its downs and ups. */
    ReplicaLink link(final int member)
    {
        return members[checkMember(member)];
    }

    int members()
    {
        return members.length;
    }

    /** Each message is dropped with probability {@code ppm} per million. */
    SimNetwork loss(final int ppm)
    {
        lossPpm = checkPpm(ppm);
        return this;
    }

    /** Each message not lost arrives twice with probability {@code ppm} per million, each copy with its own delay. */
    SimNetwork duplication(final int ppm)
    {
        duplicationPpm = checkPpm(ppm);
        return this;
    }

    /**
     * Each message (and each duplicate) takes {@code minNanos} plus an exponential draw of mean
     * {@code meanNanos - minNanos}: drawn per message, so messages overtake each other.
     */
    SimNetwork delay(final long minNanos, final long meanNanos)
    {
        if (minNanos < 0 || meanNanos < minNanos || meanNanos > MAX_DELAY_MEAN_NS)
        {
            throw new IllegalArgumentException("delay must satisfy 0 <= min <= mean <= " + MAX_DELAY_MEAN_NS +
                ": min=" + minNanos + " mean=" + meanNanos);
        }
        delayMinNs = minNanos;
        delayMeanNs = meanNanos;
        return this;
    }

    /** While {@code blocked}, messages sent from {@code from} to {@code to} are dropped; the other way is untouched. */
    SimNetwork partition(final int from, final int to, final boolean blocked)
    {
        checkPair(from, to);
        this.blocked[from][to] = blocked;
        return this;
    }

    /** Blocks every message from {@code member} to the others and from them to it, until {@link #heal()}. */
    SimNetwork isolate(final int member)
    {
        checkMember(member);
        for (int other = 0; other < members.length; other++)
        {
            if (other != member)
            {
                blocked[member][other] = true;
                blocked[other][member] = true;
            }
        }
        return this;
    }

    /** Clears every partition and isolation. */
    SimNetwork heal()
    {
        for (final boolean[] row : blocked)
        {
            Arrays.fill(row, false);
        }
        return this;
    }

    /**
     * {@code member}'s process has crashed: what was queued for it is discarded, and what arrives for it until
     * {@link #up} is dropped. Messages it sent are on the wire and still arrive. Nothing changes if it is down.
     */
    void down(final int member)
    {
        final Member crashed = members[checkMember(member)];
        if (!crashed.down)
        {
            crashed.down = true;
            droppedDown += crashed.size;
            crashed.discardAll();
        }
    }

    /**
     * {@code member}'s process runs again: what arrived while it was down is dropped (counted now), what is still on
     * the wire to it will arrive. Nothing changes if it is up.
     */
    void up(final int member)
    {
        final Member restarted = members[checkMember(member)];
        if (restarted.down)
        {
            restarted.discardArrived(clock.nanoTime());
            restarted.down = false;
        }
    }

    boolean isDown(final int member)
    {
        return members[checkMember(member)].down;
    }

    /**
     * The earliest delivery time of a message on the wire to a member that is up, or {@link Long#MAX_VALUE} when there
     * is none: the simulator may skip virtual time up to it. A message to a down member is no event (it will be
     * dropped, or wait for the member to come up), so it does not count.
     */
    long nextDeliveryNanos()
    {
        long earliestNs = Long.MAX_VALUE;
        for (final Member member : members)
        {
            if (!member.down && member.size > 0)
            {
                earliestNs = Math.min(earliestNs, member.slotDeliveryNs[member.heap[0]]);
            }
        }
        return earliestNs;
    }

    /** Messages on the wire to {@code member}; for a down member, including those arrived and not yet dropped. */
    int inFlight(final int member)
    {
        return members[checkMember(member)].size;
    }

    /** Sends that were taken: not those that returned false, nor duplicates. */
    long sent()
    {
        return sent;
    }

    long delivered()
    {
        return delivered;
    }

    /** Messages lost, blocked by a partition, or dropped for a down member. */
    long dropped()
    {
        return lost + partitioned + droppedDown;
    }

    long duplicated()
    {
        return duplicated;
    }

    /** Sends that returned false: the receiver had {@link #MAX_IN_FLIGHT_PER_MEMBER} messages in flight. */
    long backPressured()
    {
        return backPressured;
    }

    public String toString()
    {
        long inFlight = 0;
        for (final Member member : members)
        {
            inFlight += member.size;
        }
        return "net: members=" + members.length + " sent=" + sent + " delivered=" + delivered + " dropped=" +
            dropped() + " (loss=" + lost + " partition=" + partitioned + " down=" + droppedDown + ") duplicated=" +
            duplicated + " back-pressured=" + backPressured + " in-flight=" + inFlight + " faults: loss=" + lossPpm +
            "ppm duplication=" + duplicationPpm + "ppm delay=" + delayMinNs + "ns(min)/" + delayMeanNs + "ns(mean)";
    }

    private boolean send(
        final int from, final int to, final DirectBuffer buffer, final int offset, final int length)
    {
        checkPair(from, to);
        if (length < 0 || length > MAX_MESSAGE_BYTES || offset < 0 || offset > buffer.capacity() - length)
        {
            throw new IllegalArgumentException("message out of bounds or too long (max " + MAX_MESSAGE_BYTES +
                "): offset=" + offset + " length=" + length + " capacity=" + buffer.capacity());
        }
        if (members[from].down)
        {
            throw new IllegalStateException("member " + from + " is down: a crashed process sends nothing");
        }

        final long nowNs = clock.nanoTime();
        final Member receiver = members[to];
        if (receiver.down)
        {
            // What arrived for a down member is gone: it takes no room on the wire.
            receiver.discardArrived(nowNs);
        }
        // The bound comes first: a full link pushes back before the message meets a partition or a loss.
        if (receiver.slotsInUse() >= MAX_IN_FLIGHT_PER_MEMBER)
        {
            backPressured++;
            return false;
        }

        sent++;
        if (blocked[from][to])
        {
            partitioned++;
            return true;
        }
        if (lossPpm > 0 && random.nextInt(PPM) < lossPpm)
        {
            lost++;
            return true;
        }
        receiver.add(nowNs + drawDelayNs(), nextSequence++, buffer, offset, length);
        // A duplicate that finds no room is not made: the original was taken, so the send still succeeds.
        if (duplicationPpm > 0 && random.nextInt(PPM) < duplicationPpm &&
            receiver.slotsInUse() < MAX_IN_FLIGHT_PER_MEMBER)
        {
            duplicated++;
            receiver.add(nowNs + drawDelayNs(), nextSequence++, buffer, offset, length);
        }
        return true;
    }

    private long drawDelayNs()
    {
        final long spreadNs = delayMeanNs - delayMinNs;
        if (0 == spreadNs)
        {
            return delayMinNs;
        }
        // StrictMath: the same draw gives the same delay on every JVM.
        return delayMinNs + Math.round(-StrictMath.log(1.0 - random.nextDouble()) * spreadNs);
    }

    private int checkMember(final int member)
    {
        if (member < 0 || member >= members.length)
        {
            throw new IllegalArgumentException("no member " + member + " (members 0.." + (members.length - 1) + ")");
        }
        return member;
    }

    private void checkPair(final int from, final int to)
    {
        checkMember(from);
        checkMember(to);
        if (from == to)
        {
            throw new IllegalArgumentException("member " + from + " cannot send to itself");
        }
    }

    private static int checkPpm(final int ppm)
    {
        if (ppm < 0 || ppm > PPM)
        {
            throw new IllegalArgumentException("ppm must be in 0.." + PPM + ": " + ppm);
        }
        return ppm;
    }

    /**
     * One member's link, and the messages on the wire to it: a binary heap of slots ordered by delivery time, then
     * send sequence. A slot keeps its payload buffer when freed, so the steady path allocates nothing.
     */
    private final class Member implements ReplicaLink
    {
        private final int id;
        private boolean down;

        private int[] heap = new int[INITIAL_SLOTS];
        private int size;

        private long[] slotDeliveryNs = new long[INITIAL_SLOTS];
        private long[] slotSequence = new long[INITIAL_SLOTS];
        private int[] slotLength = new int[INITIAL_SLOTS];
        private UnsafeBuffer[] slotPayload = new UnsafeBuffer[INITIAL_SLOTS];
        private int[] freeSlots = new int[INITIAL_SLOTS];
        private int freeCount;
        /** Slots below this index have been used; those above have never been. */
        private int slotsUsed;

        Member(final int id)
        {
            this.id = id;
        }

        public boolean send(final int member, final DirectBuffer buffer, final int offset, final int length)
        {
            return SimNetwork.this.send(id, member, buffer, offset, length);
        }

        public int poll(final MessageHandler handler, final int limit)
        {
            if (down)
            {
                throw new IllegalStateException("member " + id + " is down: a crashed process polls nothing");
            }
            final long nowNs = clock.nanoTime();
            int count = 0;
            // The handler may take this member down (a crash in the middle of a poll): nothing more arrives then.
            while (count < limit && size > 0 && slotDeliveryNs[heap[0]] <= nowNs && !down)
            {
                final int slot = removeHead();
                delivered++;
                count++;
                try
                {
                    handler.onMessage(slotPayload[slot], 0, slotLength[slot]);
                }
                finally
                {
                    free(slot);
                }
            }
            return count;
        }

        void add(
            final long deliveryNs, final long sequence, final DirectBuffer buffer, final int offset, final int length)
        {
            final int slot = allocate();
            UnsafeBuffer bytes = slotPayload[slot];
            if (null == bytes || bytes.capacity() < length)
            {
                final int capacity = Math.max(MIN_PAYLOAD_BYTES, BitUtil.findNextPositivePowerOfTwo(length));
                bytes = new UnsafeBuffer(new byte[capacity]);
                slotPayload[slot] = bytes;
            }
            bytes.putBytes(0, buffer, offset, length);
            slotDeliveryNs[slot] = deliveryNs;
            slotSequence[slot] = sequence;
            slotLength[slot] = length;

            int child = size++;
            heap[child] = slot;
            while (child > 0)
            {
                final int parent = (child - 1) >>> 1;
                if (!before(heap[child], heap[parent]))
                {
                    break;
                }
                swap(child, parent);
                child = parent;
            }
        }

        /** Drops every message whose delivery time has come: it arrived while this member was down. */
        void discardArrived(final long nowNs)
        {
            while (size > 0 && slotDeliveryNs[heap[0]] <= nowNs)
            {
                free(removeHead());
                droppedDown++;
            }
        }

        void discardAll()
        {
            for (int i = 0; i < size; i++)
            {
                free(heap[i]);
            }
            size = 0;
        }

        private int removeHead()
        {
            final int head = heap[0];
            size--;
            if (size > 0)
            {
                heap[0] = heap[size];
                int parent = 0;
                while (true)
                {
                    final int left = 2 * parent + 1;
                    if (left >= size)
                    {
                        break;
                    }
                    final int right = left + 1;
                    final int child = right < size && before(heap[right], heap[left]) ? right : left;
                    if (!before(heap[child], heap[parent]))
                    {
                        break;
                    }
                    swap(parent, child);
                    parent = child;
                }
            }
            return head;
        }

        /** Sequences are unique, so this order is total: the heap's shape cannot change what is delivered when. */
        private boolean before(final int slotA, final int slotB)
        {
            return slotDeliveryNs[slotA] < slotDeliveryNs[slotB] ||
                slotDeliveryNs[slotA] == slotDeliveryNs[slotB] && slotSequence[slotA] < slotSequence[slotB];
        }

        private void swap(final int i, final int j)
        {
            final int slot = heap[i];
            heap[i] = heap[j];
            heap[j] = slot;
        }

        private int allocate()
        {
            if (freeCount > 0)
            {
                return freeSlots[--freeCount];
            }
            if (slotsUsed == heap.length)
            {
                // The bound on messages in flight bounds the slots: growth stops at MAX_IN_FLIGHT_PER_MEMBER.
                final int capacity = Math.min(heap.length * 2, MAX_IN_FLIGHT_PER_MEMBER);
                heap = Arrays.copyOf(heap, capacity);
                slotDeliveryNs = Arrays.copyOf(slotDeliveryNs, capacity);
                slotSequence = Arrays.copyOf(slotSequence, capacity);
                slotLength = Arrays.copyOf(slotLength, capacity);
                slotPayload = Arrays.copyOf(slotPayload, capacity);
                freeSlots = Arrays.copyOf(freeSlots, capacity);
            }
            return slotsUsed++;
        }

        /** Messages in the heap, and one being handed over by a poll: the bound counts it until its handler returns. */
        int slotsInUse()
        {
            return slotsUsed - freeCount;
        }

        private void free(final int slot)
        {
            freeSlots[freeCount++] = slot;
        }
    }
}
