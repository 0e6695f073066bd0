package io.reprise.tools.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.reprise.schema.client.ClientRole;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.UsageException;
import io.reprise.transport.TransportContext;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/** The options of {@code reprise load}, checked; also what a side of {@code reprise bench} runs. */
public final class LoadOptions
{
    static final String EMBEDDED = "--embedded";
    private static final Set<String> OPTIONS = Set.of("--aeron-dir", "--media", "--rate", "--window", "--seconds",
        "--warmup-seconds", "--workers", "--hands", "--failure-ratio", "--payload-bytes", "--delay-ms", "--token",
        "--worker-token", "--tenant", "--ingress", "--idle", "--max-attempts");

    boolean embedded;
    String aeronDir;
    String media = "ipc";
    long rate = 10_000;
    int window = 4096;
    long seconds = 20;
    long warmupSeconds = 5;
    int workers = 1;
    int hands = 256;
    double failureRatio;
    int payloadBytes = 128;
    long delayMs;
    /** The controller's token. */
    String token;
    /** The workers' token: the same as the controller's unless the node binds them to roles. */
    String workerToken;
    int tenant = 1;
    /** The ingress channel clients send to; null until resolved (by media, or the embedded node's). */
    String ingressChannel;
    String idle = "backoff";
    int maxAttempts = 10;
    int firstDestination = 1;

    /** Options from the words of a {@code reprise load} command line (after the verb). */
    public static LoadOptions parse(final List<String> tokens) throws UsageException
    {
        final List<String> rest = new ArrayList<>(tokens);
        final LoadOptions options = new LoadOptions();
        options.embedded = rest.remove(EMBEDDED);
        if (rest.contains(EMBEDDED))
        {
            throw new UsageException(EMBEDDED + " given twice");
        }
        final Args args = Args.parse("load", rest, OPTIONS);
        if (options.embedded == args.has("--aeron-dir"))
        {
            throw new UsageException("give either --aeron-dir DIR (a running node) or --embedded (a node of its own)");
        }
        options.aeronDir = args.option("--aeron-dir");
        if (args.has("--media"))
        {
            options.media = args.option("--media");
            if (!"ipc".equals(options.media) && !"udp".equals(options.media))
            {
                throw new UsageException("--media must be ipc or udp: " + options.media);
            }
        }
        options.rate = args.longOption("--rate", options.rate, 0, 10_000_000);
        options.window = (int)args.longOption("--window", options.window, 1, 1 << 20);
        options.seconds = args.longOption("--seconds", options.seconds, 1, 86_400);
        options.warmupSeconds = args.longOption("--warmup-seconds", options.warmupSeconds, 0, 3_600);
        options.workers = (int)args.longOption("--workers", options.workers, 0, 256);
        options.hands = (int)args.longOption("--hands", options.hands, 1, 1 << 16);
        options.payloadBytes = (int)args.longOption("--payload-bytes", options.payloadBytes, 8, 64 * 1024);
        options.delayMs = args.longOption("--delay-ms", options.delayMs, 0, 3_600_000);
        options.tenant = (int)args.longOption("--tenant", options.tenant, 1, Integer.MAX_VALUE);
        options.maxAttempts = (int)args.longOption("--max-attempts", options.maxAttempts, 1, 1_000);
        if (args.has("--failure-ratio"))
        {
            final String value = args.option("--failure-ratio");
            try
            {
                options.failureRatio = Double.parseDouble(value);
            }
            catch (final NumberFormatException ex)
            {
                throw new UsageException("--failure-ratio is not a number: '" + value + "'");
            }
            if (!(options.failureRatio >= 0 && options.failureRatio <= 1))
            {
                throw new UsageException("--failure-ratio must be 0..1: " + value);
            }
        }
        options.token = args.has("--token") ? args.option("--token") :
            TransportContext.defaultToken(options.tenant, ClientRole.CONTROLLER);
        options.workerToken = args.has("--worker-token") ? args.option("--worker-token") :
            args.has("--token") ? options.token : TransportContext.defaultToken(options.tenant, ClientRole.WORKER);
        options.ingressChannel = args.option("--ingress");
        if (args.has("--idle"))
        {
            options.idle = args.option("--idle");
            if (!"backoff".equals(options.idle) && !"busy-spin".equals(options.idle))
            {
                throw new UsageException("--idle must be backoff or busy-spin: " + options.idle);
            }
        }
        return options;
    }

    /**
     * The first token that grants {@code tenant} the {@code role} among the node's default tokens
     * (reprise.auth.tokens), or "".
     */
    /** The token spec of a node of its own: one token for both roles, or one for each. */
    String tokenSpec()
    {
        return token.equals(workerToken) ? tenant + "=" + token :
            tenant + ":" + TransportContext.CONTROLLER_ROLE + "=" + token + "," +
            tenant + ":" + TransportContext.WORKER_ROLE + "=" + workerToken;
    }

    /**
     * How the generator's own threads wait when there is nothing to do: {@code backoff} spins, yields, then parks
     * 1 to 50 us (right when it shares 2 cores with the node); {@code busy-spin} never gives the core up.
     */
    IdleStrategy idleStrategy()
    {
        return "busy-spin".equals(idle) ? new BusySpinIdleStrategy() :
            new BackoffIdleStrategy(100, 10, 1_000, 50_000);
    }

    public long rate()
    {
        return rate;
    }

    public int payloadBytes()
    {
        return payloadBytes;
    }

    public String describe()
    {
        return "media " + media + ", rate " + (rate > 0 ? rate + "/s" : "max (window-bound)") + ", window " + window +
            ", " + seconds + " s after " + warmupSeconds + " s warm-up, " + workers + " worker" +
            (workers == 1 ? "" : "s") + " x " + hands + " hands, failure ratio " + failureRatio + ", payload " +
            payloadBytes + " B, due " + (workers > 0 ? "at send + " + delayMs + " ms" : "in 1 h (no workers)") +
            ", idle " + idle;
    }
}
