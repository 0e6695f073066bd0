package io.reprise.sim;

import io.reprise.engine.node.PlantedBug;

/** Runs one simulation from the command line: {@code SimMain SEED STEPS FAULTS [PLANT]}; for development. */
public final class SimMain
{
    private SimMain()
    {
    }

    public static void main(final String[] args)
    {
        final long start = System.nanoTime();
        final Simulation.Result result = new Simulation(Long.parseLong(args[0]), Long.parseLong(args[1]),
            Simulation.Fault.parse(args[2]), args.length > 3 ? PlantedBug.ofFlag(args[3]) : PlantedBug.NONE).run();
        if (!result.ok())
        {
            System.out.println("replay: " + result.replayCommand());
        }
        System.out.println(result.lastLine());
        System.out.printf("%.1f s%n", (System.nanoTime() - start) / 1e9);
    }
}
