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
    /** The ingress subscription and image its frames arrive on. */
    final Subscription source;
    final int imageSessionId;
    /** A worker announces its destinations once per connection; ingress thread only. */
    boolean announced;
    /** When its last frame arrived, on the ingress's clock; ingress thread only. */
    long lastHeardNs;

    Connection(
        final long clientId,
        final int tenant,
        final ClientRole role,
        final Publication publication,
        final Subscription source,
        final int imageSessionId)
    {
        this.clientId = clientId;
        this.tenant = tenant;
        this.role = role;
        this.publication = publication;
        this.source = source;
        this.imageSessionId = imageSessionId;
    }

    public String toString()
    {
        return "client " + clientId + " (tenant " + tenant + ", " + role + ")";
    }
}
