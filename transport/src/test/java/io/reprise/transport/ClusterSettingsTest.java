package io.reprise.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A member's cluster settings: checked before anything starts, each error naming the key and the entry. */
class ClusterSettingsTest
{
    private static final String REPLICAS = "localhost:20110,localhost:20111,localhost:20112";
    private static final String INGRESSES = "localhost:40460, localhost:40461 ,localhost:40462";

    @Test
    void shouldMakeAMemberWhoseUdpIngressIsItsOwnEntry()
    {
        final TransportContext context = member(1, REPLICAS, INGRESSES).conclude();

        assertTrue(context.clustered());
        assertEquals(TransportContext.udpIngressChannel("localhost:40461"), context.ingressUdpChannel());
        assertArrayEquals(new String[] {"localhost:20110", "localhost:20111", "localhost:20112"},
            context.replicaEndpointList());
        assertEquals(TransportContext.udpIngressChannel("localhost:40462"), context.clusterIngressChannels()[2]);
    }

    @Test
    void shouldBeStandaloneByDefault()
    {
        final TransportContext context = new TransportContext().clusterMemberId(TransportContext.STANDALONE).conclude();

        assertFalse(context.clustered());
    }

    @Test
    void shouldRefuseMembershipsThatDoNotHoldTogether()
    {
        assertRefused(member(0, "", INGRESSES), TransportContext.CLUSTER_REPLICA_ENDPOINTS_PROP_NAME + " is not set");
        assertRefused(member(3, REPLICAS, INGRESSES), TransportContext.CLUSTER_MEMBER_ID_PROP_NAME + " must be 0..2");
        assertRefused(member(0, REPLICAS, "localhost:40460,localhost:40461"), "names 3 members and");
        assertRefused(member(0, "localhost:20110,localhost:0,localhost:20112", INGRESSES),
            TransportContext.CLUSTER_REPLICA_ENDPOINTS_PROP_NAME + ", member 1: port must be 1..65535");
        assertRefused(member(0, "localhost:20110,localhost:20111,localhost:20110", INGRESSES),
            "members 0 and 2 are both given localhost:20110");
        assertRefused(member(0, REPLICAS, "localhost:40460,localhost:20111,localhost:40462"),
            "localhost:20111 is both a replica and an ingress endpoint");
        assertRefused(member(0, REPLICAS, INGRESSES).heartbeatIntervalMs(300).electionTimeoutMs(400),
            "at most half of " + TransportContext.ELECTION_TIMEOUT_MS_PROP_NAME);
    }

    private static TransportContext member(final int id, final String replicas, final String ingresses)
    {
        return new TransportContext().clusterMemberId(id).replicaEndpoints(replicas).clusterIngressEndpoints(ingresses);
    }

    private static void assertRefused(final TransportContext context, final String message)
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, context::conclude);
        assertTrue(refused.getMessage().contains(message), "'" + refused.getMessage() + "' says '" + message + "'");
    }
}
