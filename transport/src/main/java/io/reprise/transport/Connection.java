package io.reprise.transport;

import io.aeron.Publication;
import io.aeron.Subscription;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ResultCode;
import org.agrona.collections.IntHashSet;

/** One connected client as the node sees it: who it is and where its responses go. */
final class Connection
{
    /** The client schema version that brought {@code ROLE_NOT_ALLOWED}. */
    static final int ROLE_NOT_ALLOWED_SINCE_VERSION = 2;
    /** The client schema version from which a client reads the node's {@code Heartbeat}. */
    static final int NODE_HEARTBEAT_SINCE_VERSION = 3;

    final long clientId;
    final int tenant;
    /** A role its token grants: what it may send depends on it. */
    final ClientRole role;
    final Publication publication;
    /** What the client is still to receive: every message but attempts goes through it. */
    final ClientBacklog backlog;
    /** The ingress subscription and image its frames arrive on. */
    final Subscription source;
    final int imageSessionId;
    /** The client schema version of its Connect: it cannot read result codes newer than that. */
    final int clientVersion;
    /** A worker announces its destinations once per connection; ingress thread only. */
    boolean announced;
    /** When its last frame arrived, on the ingress's clock; ingress thread only. */
    long lastHeardNs;
    /** The destinations a worker announced: it reports only on those. Ingress thread only. */
    private final IntHashSet destinations = new IntHashSet();
    /** Ingress thread only: removed from the registry (disconnected, gone, or too slow). */
    boolean closed;
    /** Too slow: when the node gives up delivering the rest of the backlog and closes the publication. */
    long closeDeadlineNs;
    /** Closing after its backlog: the backlog overflowed (and it is told so), or this member stopped leading. */
    boolean notLeader;

    Connection(
        final long clientId,
        final int tenant,
        final ClientRole role,
        final Publication publication,
        final ClientBacklog backlog,
        final Subscription source,
        final int imageSessionId,
        final int clientVersion)
    {
        this.clientId = clientId;
        this.tenant = tenant;
        this.role = role;
        this.publication = publication;
        this.backlog = backlog;
        this.source = source;
        this.imageSessionId = imageSessionId;
        this.clientVersion = clientVersion;
    }

    /** A worker's announcement was accepted: it serves these destinations from now on. Ingress thread only. */
    void announced(final int[] announcedDestinations)
    {
        announced = true;
        for (final int destination : announcedDestinations)
        {
            destinations.add(destination);
        }
    }

    /** Whether this worker announced {@code destination}; no allocation. Ingress thread only. */
    boolean serves(final int destination)
    {
        return destinations.contains(destination);
    }

    /**
     * {@code code} as this client can decode it: a code its schema version does not know would make its decoder
     * throw, so it gets the closest one it knows (docs/schema_versioning.md, adding an enum value).
     */
    /** Whether the client takes the node's heartbeat: an older one would hand it to its application. */
    boolean hearsHeartbeats()
    {
        return clientVersion >= NODE_HEARTBEAT_SINCE_VERSION;
    }

    ResultCode readable(final ResultCode code)
    {
        return code == ResultCode.ROLE_NOT_ALLOWED && clientVersion < ROLE_NOT_ALLOWED_SINCE_VERSION ?
            ResultCode.INVALID_ARGUMENT : code;
    }

    public String toString()
    {
        return "client " + clientId + " (tenant " + tenant + ", " + role + ")";
    }
}
