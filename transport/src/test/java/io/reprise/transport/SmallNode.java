package io.reprise.transport;

import java.io.IOException;
import java.nio.file.Path;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;

/** A node small enough for a test, with data in {@code dir/data}, IPC ingress only, on {@code dir/aeron}. */
final class SmallNode
{
    private SmallNode()
    {
    }

    /** The Aeron directory of a node started by {@link #start} in {@code dir}. */
    static String aeronDir(final Path dir)
    {
        return dir.resolve("aeron").toString();
    }

    /** @param transport its settings; the Aeron directory and the IPC-only ingress are set here. */
    static RepriseNode start(final Path dir, final TransportContext transport) throws IOException
    {
        return RepriseNode.start(
            new NodeContext()
                .dataDirectory(dir.resolve("data"))
                .rules(new BusinessRules().maxSessions(1 << 12).expectedSessions(1 << 8).maxDestinations(8))
                .journalSegmentLength(8L * 1024 * 1024)
                .ringSize(1024),
            transport.aeronDirectoryName(aeronDir(dir)).ingressUdpChannel(null));
    }
}
