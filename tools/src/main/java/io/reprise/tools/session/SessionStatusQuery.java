package io.reprise.tools.session;

import java.io.File;
import java.io.PrintStream;
import java.util.List;
import java.util.Set;

import io.aeron.CncFileDescriptor;
import io.reprise.client.ClientContext;
import io.reprise.client.ConnectException;
import io.reprise.client.RepriseClient;
import io.reprise.client.SessionState;
import io.reprise.schema.client.ClientRole;
import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.TransportContext;

/**
 * {@code reprise session status TENANT:ID}: connects to the node running on an Aeron directory as a controller of
 * the tenant, asks for one session's state ({@code QuerySession}: read-only, not journaled) and prints it as the
 * node's applied state holds it: status, destination, attempt, due time or lease expiry, last error, and the index
 * and system time it is answered at. Changes nothing.
 */
public final class SessionStatusQuery
{
    public static final String USAGE = "session status TENANT:ID [--aeron-dir DIR] [--token TOKEN] [--timeout-ms N]";
    public static final String DESCRIPTION =
        "Asks the node running on the Aeron directory DIR (default " + TransportContext.AERON_DIR_DEFAULT + ",\n" +
        "or -Dreprise.aeron.dir) for the session's state now: status, destination, attempt, due time or lease\n" +
        "expiry, last error, at which applied index. --token defaults to the tenant's in reprise.auth.tokens.\n" +
        "Exit 1 when the session is unknown to the node (or another tenant's), or no node answers.";

    private static final Set<String> OPTIONS = Set.of("--aeron-dir", "--token", "--timeout-ms");

    private SessionStatusQuery()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final Args args = Args.parse("session status", tokens, OPTIONS, "TENANT:ID");
        final String key = args.positional(0);
        final int colon = key.indexOf(':');
        if (colon < 0)
        {
            throw new UsageException("TENANT:ID expected, e.g. 1:42, got '" + key + "'");
        }
        final int tenant = (int)Args.parseLong("TENANT", key.substring(0, colon), 1, Integer.MAX_VALUE);
        final long sessionId = Args.parseLong("ID", key.substring(colon + 1), Long.MIN_VALUE, Long.MAX_VALUE);
        final String aeronDir = args.has("--aeron-dir") ? args.option("--aeron-dir") :
            System.getProperty(TransportContext.AERON_DIR_PROP_NAME, TransportContext.AERON_DIR_DEFAULT);
        final String token = args.has("--token") ? args.option("--token") : TransportContext.defaultToken(tenant, ClientRole.CONTROLLER);
        final long timeoutMs = args.longOption("--timeout-ms", 5_000, 1, 600_000);
        final String name = tenant + ":" + sessionId;

        if (!new File(aeronDir, CncFileDescriptor.CNC_FILE).exists())
        {
            err.println("reprise session status: no node runs on the Aeron directory " + aeronDir + " (no " +
                CncFileDescriptor.CNC_FILE + "); give the node's directory with --aeron-dir or -D" +
                TransportContext.AERON_DIR_PROP_NAME);
            return ExitCode.FAILED;
        }
        final ClientContext context = new ClientContext().aeronDirectoryName(aeronDir).tenant(tenant).token(token)
            .connectTimeoutMs(timeoutMs).responseTimeoutMs(timeoutMs);
        final SessionState state;
        try (RepriseClient client = RepriseClient.connect(context, (correlationId, templateId, code, value) -> { }))
        {
            state = client.queryAndAwait(sessionId);
        }
        catch (final ConnectException ex)
        {
            err.println("reprise session status: could not connect to the node on " + aeronDir + ": " +
                ex.getMessage() + (ex.code() == ResultCode.AUTHENTICATION_FAILED ?
                " (give the tenant's token with --token)" : ""));
            return ExitCode.FAILED;
        }
        if (null == state)
        {
            err.println("reprise session status: no answer from the node on " + aeronDir + " within " + timeoutMs +
                " ms");
            return ExitCode.FAILED;
        }
        if (state.resultCode() == ResultCode.UNKNOWN_SESSION)
        {
            out.println("session " + name + ": UNKNOWN_SESSION: not in the node's state (never saved, purged after " +
                "its retention, or not tenant " + tenant + "'s)");
            out.println(asOf(state, aeronDir));
            return ExitCode.FAILED;
        }
        if (state.resultCode() != ResultCode.OK)
        {
            err.println("reprise session status: the node refused the query: " + state.resultCode());
            return ExitCode.FAILED;
        }
        out.println("session " + name + ": " + describe(state));
        out.println(asOf(state, aeronDir));
        return ExitCode.OK;
    }

    /** {@code IN_FLIGHT destination=1 attempt=2 lease-until=... last-error=-1 (lease expired)}. */
    static String describe(final SessionState state)
    {
        final StringBuilder text = new StringBuilder(state.status().name())
            .append(" destination=").append(state.destination())
            .append(" attempt=").append(state.attempt());
        if (state.status() == SessionStatus.PENDING)
        {
            text.append(" due=").append(Format.time(state.dueAtMs()));
        }
        else if (state.status() == SessionStatus.IN_FLIGHT)
        {
            text.append(" lease-until=").append(Format.time(state.dueAtMs()));
        }
        final int error = state.lastErrorCode();
        text.append(Format.lastError(error));
        return text.toString();
    }

    private static String asOf(final SessionState state, final String aeronDir)
    {
        return "as of applied index " + state.appliedIndex() + ", node system time " +
            Format.time(state.systemTimeMs()) + " (node on " + aeronDir + ")";
    }
}
