package io.reprise.jmh.cluster;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.client.EgressListener;
import io.aeron.logbuffer.Header;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.schema.client.MessageHeaderDecoder;
import io.reprise.schema.client.ResponseDecoder;
import io.reprise.tools.load.SaveClient;
import io.reprise.client.RepriseClient;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

/**
 * The load generator's client of the Aeron Cluster baseline: encodes each save as the same SBE operator a
 * {@link RepriseClient} sends (with its cluster session id as the client id, which a Reprise node's ingress would
 * stamp), offers it to the cluster's ingress, and decodes the service's {@code Response}s from the egress.
 */
public final class ClusterSaveClient implements SaveClient, EgressListener
{
    /** {@link AeronCluster#pollEgress()} takes up to 10 fragments; 7 of them take about as many as a Reprise client. */
    private static final int EGRESS_FRAGMENTS = 10;
    private static final int EGRESS_POLLS = 7;

    private final RepriseClient.Listener listener;
    private final int tenant;
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final ResponseDecoder response = new ResponseDecoder();
    private AeronCluster cluster;
    private long nextCorrelationId = 1;

    private ClusterSaveClient(final RepriseClient.Listener listener, final int tenant)
    {
        this.listener = listener;
        this.tenant = tenant;
    }

    /** Connects over IPC through {@code aeron}, which the client shares and does not close. */
    public static SaveClient.Connector connector(final Aeron aeron, final int tenant, final long connectTimeoutMs)
    {
        return connector(aeron, tenant, connectTimeoutMs, AeronClusterMember.CLIENT_CHANNEL, null,
            AeronClusterMember.CLIENT_CHANNEL);
    }

    /**
     * Connects over UDP to the members at {@code ingressEndpoints} ({@code 0=host:port,...}), through {@code aeron};
     * responses come back on an ephemeral loopback port.
     */
    public static SaveClient.Connector udpConnector(
        final Aeron aeron, final int tenant, final long connectTimeoutMs, final String ingressEndpoints)
    {
        return connector(aeron, tenant, connectTimeoutMs, AeronClusterMember.CLIENT_UDP_CHANNEL, ingressEndpoints,
            AeronClusterMember.CLIENT_UDP_CHANNEL + "|endpoint=localhost:0");
    }

    private static SaveClient.Connector connector(
        final Aeron aeron, final int tenant, final long connectTimeoutMs, final String ingressChannel,
        final String ingressEndpoints, final String egressChannel)
    {
        return (listener) ->
        {
            final ClusterSaveClient client = new ClusterSaveClient(listener, tenant);
            client.cluster = AeronCluster.connect(new AeronCluster.Context()
                .aeron(aeron)
                .ownsAeronClient(false)
                .ingressChannel(ingressChannel)
                .ingressEndpoints(ingressEndpoints)
                .egressChannel(egressChannel)
                .messageTimeoutNs(connectTimeoutMs * 1_000_000L)
                .egressListener(client));
            return client;
        };
    }

    public long save(
        final long sessionId, final int destination, final SessionPolicy policy, final DirectBuffer payload,
        final int offset, final int length)
    {
        buffer.checkLimit(length + 256);
        final int encoded = encoder.saveSession(buffer, 0, cluster.clusterSessionId(), nextCorrelationId, tenant,
            sessionId, destination, policy, payload, offset, length);
        final long result = cluster.offer(buffer, 0, encoded);
        if (result > 0)
        {
            return nextCorrelationId++;
        }
        return result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION ?
            RepriseClient.BACK_PRESSURED : RepriseClient.NOT_CONNECTED;
    }

    public int poll()
    {
        int work = 0;
        for (int i = 0; i < EGRESS_POLLS; i++)
        {
            final int polled = cluster.pollEgress();
            work += polled;
            if (polled < EGRESS_FRAGMENTS)
            {
                break;
            }
        }
        return work;
    }

    public void onMessage(
        final long clusterSessionId, final long timestamp, final DirectBuffer buffer, final int offset,
        final int length, final Header header)
    {
        this.header.wrap(buffer, offset);
        if (this.header.templateId() != ResponseDecoder.TEMPLATE_ID)
        {
            return;
        }
        response.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, this.header.blockLength(),
            this.header.version());
        listener.onResponse(response.correlationId(), response.operatorTemplateId(), response.resultCode(),
            response.value());
    }

    public void close()
    {
        if (null != cluster)
        {
            cluster.close();
        }
    }
}
