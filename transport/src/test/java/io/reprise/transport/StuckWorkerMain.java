package io.reprise.transport;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseWorker;

/**
 * A worker in a process of its own that takes attempts and never reports them, so that a test can SIGKILL it while
 * it holds them. Prints {@code ready CLIENT_ID} once it has announced, then {@code attempt SESSION_ID ATTEMPT} for
 * each attempt, and polls until it is killed.
 * <p>
 * Arguments: aeron directory, tenant, token, destination, hands.
 */
public final class StuckWorkerMain
{
    private StuckWorkerMain()
    {
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final ClientContext context = new ClientContext()
            .aeronDirectoryName(args[0])
            .tenant(Integer.parseInt(args[1]))
            .token(args[2]);
        final RepriseWorker worker = RepriseWorker.connect(context, new int[] {Integer.parseInt(args[3])},
            Integer.parseInt(args[4]), null);
        System.out.println("ready " + worker.clientId());
        System.out.flush();
        while (true)
        {
            final int work = worker.poll((tenant, sessionId, destination, attempt, leaseExpiresAtMs, handle,
                payload, payloadOffset, payloadLength) ->
            {
                System.out.println("attempt " + sessionId + " " + attempt);
                System.out.flush();
            });
            if (work == 0)
            {
                Thread.sleep(1);
            }
        }
    }
}
