package io.reprise.transport;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;

/**
 * A node with its embedded media driver in a JVM of its own, as users run it, for tests that kill it with SIGKILL.
 * Arguments: DATA_DIR AERON_DIR TOKENS (IPC ingress only). It prints each start-up step, then {@value #SERVING}, and
 * runs until "stop" or the end of its stdin.
 */
public final class NodeMain
{
    /** The line printed once the node serves clients. */
    public static final String SERVING = "serving";

    private NodeMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final NodeContext nodeContext = new NodeContext()
            .dataDirectory(Path.of(args[0]))
            .rules(new BusinessRules().maxSessions(1 << 16).expectedSessions(1 << 10).maxDestinations(16))
            .journalSegmentLength(4L * 1024 * 1024)
            .lifecycleListener((step) -> System.out.println("step " + step));
        final TransportContext transportContext = new TransportContext()
            .aeronDirectoryName(args[1])
            .ingressUdpChannel(null)
            .tokens(args[2]);
        try (RepriseNode node = RepriseNode.start(nodeContext, transportContext))
        {
            System.out.println(SERVING);
            System.out.flush();
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while (null != (line = in.readLine()) && !"stop".equals(line))
            {
                // wait for the test to end it
            }
        }
        System.out.println("stopped");
    }
}
