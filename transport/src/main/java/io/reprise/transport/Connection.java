package io.reprise.transport;

import io.aeron.Publication;
import io.aeron.Subscription;
import io.reprise.schema.client.ClientRole;

/** One connected client as the node sees it: who it is and where its responses go. */
final class Connection
{
    final long clientId;
    final int tenant;
    final ClientRole role;
    final Publication publication;
    /** What the client is still to receive: every message but attempts goes through it. */
    final ClientBacklog backlog;
    /** The ingress subscription and image its frames arrive on. */
    final Subscription source;
    final int imageSessionId;
    /** A worker announces its destinations once per connection; ingress thread only. */
    boolean announced;
    /** Ingress thread only: removed from the registry (disconnected, gone, or too slow). */
    boolean closed;
    /** Too slow: when the node gives up delivering the rest of the backlog and closes the publication. */
    long closeDeadlineNs;

    Connection(
        final long clientId,
        final int tenant,
        final ClientRole role,
        final Publication publication,
        final ClientBacklog backlog,
        final Subscription source,
        final int imageSessionId)
    {
        this.clientId = clientId;
        this.tenant = tenant;
        this.role = role;
        this.publication = publication;
        this.backlog = backlog;
        this.source = source;
        this.imageSessionId = imageSessionId;
    }

    public String toString()
    {
        return "client " + clientId + " (tenant " + tenant + ", " + role + ")";
    }
}
