package io.reprise.example;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.reprise.client.ClientContext;
import io.reprise.client.RepriseClient;
import io.reprise.client.RepriseWorker;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A service built on {@code reprise-client} alone: a controller saves sessions, a worker works every attempt,
 * and the controller counts the sessions the node reports finished. Exits 0 when all of them completed.
 */
public final class ClientSample
{
    public static void main(final String[] args) throws Exception
    {
        final int tenant = Integer.getInteger("sample.tenant", 1);
        final String token = System.getProperty("sample.token", "reprise-dev-token");
        final int destination = Integer.getInteger("sample.destination", 1);
        final int sessions = Integer.getInteger("sample.sessions", 100);
        final long timeoutMs = Long.getLong("sample.timeout.ms", 30_000);

        // Defaults reach a node on this machine over IPC; -Dreprise.aeron.dir names its media driver.
        final ClientContext controllerContext = new ClientContext().tenant(tenant).token(token);
        final ClientContext workerContext = new ClientContext().tenant(tenant).token(token);
        final int[] completed = new int[1];
        final int[] otherwise = new int[1];

        try (RepriseClient client = RepriseClient.connect(controllerContext, new RepriseClient.Listener()
            {
                public void onResponse(
                    final long correlationId, final int templateId, final ResultCode code, final long value)
                {
                }

                public void onSessionFinished(
                    final long sessionId,
                    final int destination,
                    final SessionStatus status,
                    final int attempt,
                    final int errorCode)
                {
                    if (SessionStatus.COMPLETED == status)
                    {
                        completed[0]++;
                    }
                    else
                    {
                        otherwise[0]++;
                    }
                }
            });
            RepriseWorker worker = RepriseWorker.connect(workerContext, new int[] {destination}, 16, null))
        {
            // One thread polls both: the worker succeeds every attempt, the controller hears how sessions end.
            final RepriseWorker.AttemptHandler handler =
                (t, sessionId, dest, attempt, leaseExpiresAtMs, handle, buffer, offset, length) ->
                worker.report(sessionId, dest, attempt, handle, Outcome.SUCCEEDED, 0, 0);

            // Ids of their own per run, so that a second run against the same node saves new sessions.
            final long firstSessionId = System.currentTimeMillis() * 1_000;
            final SessionPolicy policy = new SessionPolicy().initialDelayMs(0).maxAttempts(3).leaseMs(10_000);
            final UnsafeBuffer payload = new UnsafeBuffer("{\"hello\":\"worker\"}".getBytes(StandardCharsets.UTF_8));
            int saved = 0;
            for (int i = 0; i < sessions; i++)
            {
                final ResultCode code = client.saveAndAwait(
                    firstSessionId + i, destination, policy, payload, 0, payload.capacity());
                if (ResultCode.OK != code)
                {
                    System.err.println("client-sample: save " + (firstSessionId + i) + " answered " + code);
                    break;
                }
                saved++;
                worker.poll(handler); // a worker that polls stays alive (heartbeats) and gets its attempts
            }

            final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (completed[0] + otherwise[0] < saved && System.nanoTime() < deadlineNs)
            {
                final int work = worker.poll(handler) + client.poll();
                if (0 == work)
                {
                    Thread.onSpinWait();
                }
            }

            System.out.println("client-sample: saved=" + saved + " completed=" + completed[0] +
                " otherwise=" + otherwise[0]);
            System.exit(saved == sessions && completed[0] == sessions ? 0 : 1);
        }
    }
}
