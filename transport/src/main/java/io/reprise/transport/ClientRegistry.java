package io.reprise.transport;

import java.util.concurrent.atomic.AtomicReferenceArray;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * The connected clients, by client id, readable from any thread without locks or allocation: the business-logic
 * thread looks up where a response goes, the repeat process where a dispatch goes. Only the ingress thread adds
 * and removes. A client id carries its slot in its low bits and a sequence above them, so an id of a client that
 * left never reaches the client that took its slot. Ids start above {@link #SLOTS}, clear of in-process clients.
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

    ClientRegistry(final int capacity)
    {
        if (capacity < 1 || capacity >= SLOTS)
        {
            throw new IllegalArgumentException("max connections must be in [1, " + (SLOTS - 1) + "]: " + capacity);
        }
        this.capacity = capacity;
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
