package io.reprise.tools.sim;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;

import io.reprise.engine.node.PlantedBug;
import io.reprise.sim.ClusterSimulation;
import io.reprise.sim.Simulation;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;

/**
 * {@code reprise sim}: runs the node's own code on the simulation runtime, with its clients, workers and faults,
 * from one seed in one thread (docs/simulation.md). The last line is
 * {@code sim: seed=S nodes=1 steps=N ops=N acked=N crashes=N faults=N digest=0x<16 hex> ok} (a cluster adds
 * {@code elections=N installs=N} before the digest), or the same head with
 * {@code FAILED <invariant>: <detail>} and exit status 1, after a line with the command that replays it.
 */
public final class SimCommand
{
    public static final String USAGE =
        "sim [--nodes 1|3|5] [--seed S] [--steps N] [--faults all|none|LIST] [--plant BUG] [--seeds K]";
    public static final String DESCRIPTION =
        "Runs one node (--nodes 1, the default) or a cluster of 3 or 5 on a simulated network, its controllers and\n" +
        "workers, and faults, from one seed in one thread on virtual time, checking every invariant\n" +
        "(docs/simulation.md, docs/cluster.md). --steps (100000); --faults all (default), none, or a list of\n" +
        "crash,power-loss,sync-fail,disk-full,clock-jump,worker-death,slow-io,network\n(corrupt-read and misdirected-write on demand, one node); --plant ack-before-sync|\n" +
        "apply-uncommitted|skip-torn-check (one node), commit-without-majority|double-vote|\n" +
        "follower-applies-beyond-commit|install-without-sources|dispatch-after-stepdown|redispatch-previous-terms\n" +
        "    (a cluster) plants a bug the checker must catch.\n" +
        "Without --seed it picks one and prints it first. --seeds K runs seeds S..S+K-1, stopping at the first\n" +
        "failure. Exit 1 on a failure.";

    private static final Set<String> OPTIONS = Set.of("--nodes", "--seed", "--steps", "--faults", "--plant", "--seeds");

    private SimCommand()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException
    {
        final Args args = Args.parse("sim", tokens, OPTIONS);
        final long steps = args.longOption("--steps", 100_000, 1, Long.MAX_VALUE);
        final long seeds = args.longOption("--seeds", 1, 1, Long.MAX_VALUE);
        final int nodes = (int)args.longOption("--nodes", 1, 1, 5);
        if (nodes != 1 && nodes != 3 && nodes != 5)
        {
            throw new UsageException("--nodes must be 1, 3 or 5: " + nodes);
        }
        final Set<Simulation.Fault> faults;
        final PlantedBug plant;
        try
        {
            faults = Simulation.Fault.parse(args.has("--faults") ? args.option("--faults") : "all");
            plant = args.has("--plant") ? PlantedBug.ofFlag(args.option("--plant")) : PlantedBug.NONE;
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UsageException(ex.getMessage());
        }
        final long firstSeed;
        if (args.has("--seed"))
        {
            firstSeed = Args.parseLong("--seed", args.option("--seed"), Long.MIN_VALUE, Long.MAX_VALUE);
        }
        else
        {
            firstSeed = new SecureRandom().nextLong() & Long.MAX_VALUE;
            out.println("sim: seed=" + firstSeed);
        }
        for (long i = 0; i < seeds; i++)
        {
            final Simulation.Result result = nodes == 1 ? new Simulation(firstSeed + i, steps, faults, plant).run() :
                new ClusterSimulation(firstSeed + i, steps, nodes, faults, plant).run();
            if (!result.ok())
            {
                out.println("replay: " + result.replayCommand());
                out.println(result.lastLine());
                return ExitCode.FAILED;
            }
            out.println(result.lastLine());
        }
        return ExitCode.OK;
    }
}
