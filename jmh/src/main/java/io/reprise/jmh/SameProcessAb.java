package io.reprise.jmh;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Compares builds of the engine in one process, where the machine's noise hits them alike: each
 * {@code benchmarks.jar} (built at a different commit) is loaded in its own class loader with its own business
 * logic and {@link SteadyStateMix}, all are populated, then chunks of operators alternate between them
 * (ABBA order) and the median of the per-round ratios against the first jar is printed. The first round warms up.
 * Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xms6g -Xmx6g -cp
 * jmh/target/benchmarks.jar io.reprise.jmh.SameProcessAb sessions chunk rounds base.jar other.jar...}
 */
public final class SameProcessAb
{
    private SameProcessAb()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int sessions = Integer.parseInt(args[0]);
        final int chunk = Integer.parseInt(args[1]);
        final int rounds = Integer.parseInt(args[2]);
        final String[] jars = Arrays.copyOfRange(args, 3, args.length);
        final Object[] mixes = new Object[jars.length];
        final Method[] steps = new Method[jars.length];
        for (int j = 0; j < jars.length; j++)
        {
            final ClassLoader loader = new URLClassLoader(
                new URL[] {new File(jars[j]).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
            final Class<?> mixClass = loader.loadClass("io.reprise.jmh.SteadyStateMix");
            final Class<?> sinkClass = loader.loadClass("io.reprise.jmh.CountingSink");
            final Class<?> engineClass = loader.loadClass("io.reprise.jmh.Engine");
            final Class<?> rulesClass = loader.loadClass("io.reprise.engine.logic.BusinessRules");
            final Class<?> logicClass = loader.loadClass("io.reprise.engine.logic.BusinessLogic");
            final Class<?> outputClass = loader.loadClass("io.reprise.engine.logic.OutputSink");
            final Object rules = method(mixClass, "rules", int.class).invoke(null, sessions);
            final Constructor<?> sinkConstructor = sinkClass.getDeclaredConstructor();
            sinkConstructor.setAccessible(true);
            final Object sink = sinkConstructor.newInstance();
            final Object logic = logicClass.getConstructor(rulesClass, outputClass).newInstance(rules, sink);
            final Object engine = method(engineClass, "of", logicClass).invoke(null, logic);
            final Constructor<?> mixConstructor = mixClass.getDeclaredConstructor(engineClass, sinkClass, int.class);
            mixConstructor.setAccessible(true);
            mixes[j] = mixConstructor.newInstance(engine, sink, sessions);
            final long start = System.nanoTime();
            method(mixClass, "populate", int.class).invoke(mixes[j], sessions);
            System.out.printf("%s populated in %d ms%n", jars[j], (System.nanoTime() - start) / 1_000_000);
            steps[j] = runMethod(mixClass);
        }

        final List<List<Double>> rates = new ArrayList<>();
        for (int j = 0; j < jars.length; j++)
        {
            rates.add(new ArrayList<>());
        }
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < jars.length; k++)
            {
                final int j = round % 2 == 0 ? k : jars.length - 1 - k;
                final long start = System.nanoTime();
                if (steps[j].getParameterCount() == 1)
                {
                    steps[j].invoke(mixes[j], (long)chunk);
                }
                else
                {
                    for (int i = 0; i < chunk; i++)
                    {
                        steps[j].invoke(mixes[j]);
                    }
                }
                final double rate = chunk * 1e3 / (System.nanoTime() - start);
                if (round > 0)
                {
                    rates.get(j).add(rate);
                }
            }
        }
        for (int j = 0; j < jars.length; j++)
        {
            final List<Double> sorted = new ArrayList<>(rates.get(j));
            Collections.sort(sorted);
            System.out.printf("%-40s median %.3f M ops/s (min %.3f max %.3f, %d chunks)%n", jars[j],
                sorted.get(sorted.size() / 2), sorted.get(0), sorted.get(sorted.size() - 1), sorted.size());
        }
        for (int j = 1; j < jars.length; j++)
        {
            final List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < rates.get(0).size(); i++)
            {
                ratios.add(rates.get(j).get(i) / rates.get(0).get(i));
            }
            Collections.sort(ratios);
            System.out.printf("paired ratio %s / %s: median %.3f (min %.3f max %.3f)%n", jars[j], jars[0],
                ratios.get(ratios.size() / 2), ratios.get(0), ratios.get(ratios.size() - 1));
        }
    }

    /** {@code run(long)} of a mix that applies batches; {@code step()}, one operator, of an older one. */
    private static Method runMethod(final Class<?> mixClass) throws NoSuchMethodException
    {
        try
        {
            return method(mixClass, "run", long.class);
        }
        catch (final NoSuchMethodException ex)
        {
            return method(mixClass, "step");
        }
    }

    private static Method method(final Class<?> type, final String name, final Class<?>... parameters)
        throws NoSuchMethodException
    {
        final Method method = type.getDeclaredMethod(name, parameters);
        method.setAccessible(true);
        return method;
    }
}
