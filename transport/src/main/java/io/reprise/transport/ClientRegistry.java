package io.reprise.transport;

import java.util.concurrent.atomic.AtomicReferenceArray;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * The connected clients, by client id, readable from any thread without locks or allocation: the business-logic
 * thread looks up where a response goes, the repeat process where a dispatch goes. Only the ingress thread adds
 * and removes. A client id carries its slot in its low bits and a sequence above them, so an id of a client that
 * left never reaches the client that took its slot. Ids start above {@link #SLOTS}, clear of in-process clients.
 * <p>
 * The sequence starts at {@link #sequenceBase}: a member's id and the second the process started. In a cluster an
 * operator's answer goes to the client whose id it carries, on whichever member applies it, so no two members, and
 * no two starts of one, may give the same id.
 */
final class ClientRegistry
{
    static final int SLOT_BITS = 12;
    static final int SLOTS = 1 << SLOT_BITS;

    private final AtomicReferenceArray<Connection> slots = new AtomicReferenceArray<>(SLOTS);
    private final int capacity;
    private long sequence;
    private int connected;
    /** Controllers of each tenant, copied on change: they receive the session-finished notices. */
    private volatile Int2ObjectHashMap<Connection[]> controllersByTenant = new Int2ObjectHashMap<>();

    /** Bits of the sequence a start counts in: 2^18 connections before it reaches the range of a start 1 s later. */
    private static final int START_SEQUENCE_BITS = 18;
    /** Seconds since 2020-01-01: 30 bits last until the year 2054. */
    private static final long EPOCH_2020_SECONDS = 1_577_836_800L;
    private static final int MEMBER_SHIFT = START_SEQUENCE_BITS + 30;

    /**
     * @param sequenceBase where client ids' sequence starts, from {@link #sequenceBase(int, long)}.
     */
    ClientRegistry(final int capacity, final long sequenceBase)
    {
        if (capacity < 1 || capacity >= SLOTS)
        {
            throw new IllegalArgumentException("max connections must be in [1, " + (SLOTS - 1) + "]: " + capacity);
        }
        this.capacity = capacity;
        this.sequence = sequenceBase;
    }

    /**
     * The sequence base of member {@code memberId} (0 standalone) started at {@code startMs} of the wall clock: ids
     * of different members never meet, and those of two starts of one member only after 2^18 connections in the
     * first per second between them. Ids stay below 2^63 for member ids up to 7.
     */
    static long sequenceBase(final int memberId, final long startMs)
    {
        if (memberId < 0 || memberId > 7)
        {
            throw new IllegalArgumentException("member id must be in [0, 7]: " + memberId);
        }
        final long seconds = Math.max(0, startMs / 1000 - EPOCH_2020_SECONDS) & ((1L << 30) - 1);
        return ((long)memberId << MEMBER_SHIFT) | (seconds << START_SEQUENCE_BITS);
    }

    /** A free client id, or -1 when {@code capacity} clients are connected. Ingress thread. */
    long nextClientId()
    {
        if (connected >= capacity)
        {
            return -1;
        }
        for (int slot = 1; slot < SLOTS; slot++)
        {
            if (null == slots.get(slot))
            {
                return (++sequence << SLOT_BITS) | slot;
            }
        }
        return -1;
    }

    /** Ingress thread. */
    void add(final Connection connection)
    {
        slots.set(slot(connection.clientId), connection);
        connected++;
        if (connection.role == io.reprise.schema.client.ClientRole.CONTROLLER)
        {
            changeControllers(connection.tenant, connection, true);
        }
    }

    /** Ingress thread. */
    void remove(final Connection connection)
    {
        if (slots.compareAndSet(slot(connection.clientId), connection, null))
        {
            connected--;
            if (connection.role == io.reprise.schema.client.ClientRole.CONTROLLER)
            {
                changeControllers(connection.tenant, connection, false);
            }
        }
    }

    /** The connected client with this id, or null. Any thread. */
    Connection get(final long clientId)
    {
        if (clientId < SLOTS)
        {
            return null;
        }
        final Connection connection = slots.get(slot(clientId));
        return null != connection && connection.clientId == clientId ? connection : null;
    }

    /** The connected controllers of a tenant, or null. Any thread. */
    Connection[] controllers(final int tenant)
    {
        return controllersByTenant.get(tenant);
    }

    int connected()
    {
        return connected;
    }

    private void changeControllers(final int tenant, final Connection connection, final boolean added)
    {
        final Int2ObjectHashMap<Connection[]> copy = new Int2ObjectHashMap<>(controllersByTenant);
        final Connection[] old = copy.get(tenant);
        final java.util.List<Connection> list = new java.util.ArrayList<>();
        if (null != old)
        {
            list.addAll(java.util.Arrays.asList(old));
        }
        list.remove(connection);
        if (added)
        {
            list.add(connection);
        }
        if (list.isEmpty())
        {
            copy.remove(tenant);
        }
        else
        {
            copy.put(tenant, list.toArray(new Connection[0]));
        }
        controllersByTenant = copy;
    }

    private static int slot(final long clientId)
    {
        return (int)(clientId & (SLOTS - 1));
    }
}
