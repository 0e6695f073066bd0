package io.reprise.engine.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * What the warm-up is for, observed: after the rounds a node runs before serving, the JIT has compiled the snapshot
 * path (the hand-off's serve, the freezes of the state's tables, saving ahead) that a node otherwise runs interpreted
 * at its first snapshots, and
 * every view it checked kept the digest of its freeze (a view that did not would end the run with an exception).
 * Without the rounds, none of it is compiled: the check can tell. Each run is a JVM of its own with
 * {@code -XX:+PrintCompilation}, so that what this test JVM compiled before does not count.
 */
class SnapshotWarmUpTest
{
    /** As StandaloneNode runs it before serving. */
    private static final int NODE_ROUNDS = 2_000;
    /** Compiled on their own (BusinessLogic's freeze and recycle are small and inlined into them). */
    private static final List<String> SNAPSHOT_PATH = List.of(
        "io.reprise.engine.flow.StateHandOff::serve ",
        "io.reprise.engine.state.CopyOnWriteRecords::freeze ",
        "io.reprise.engine.state.SessionTable::freeze ",
        "io.reprise.engine.state.CopyOnWriteRecords::saveAhead ");

    @Test
    void shouldWarmUpTheSnapshotPathCheckingItsViews() throws Exception
    {
        final List<String> warmed = compiledAfter(NODE_ROUNDS);
        for (final String method : SNAPSHOT_PATH)
        {
            assertTrue(warmed.stream().anyMatch((line) -> line.contains(method)),
                method + "compiled by the warm-up; compiled: " + reprise(warmed));
        }

        final List<String> cold = compiledAfter(0);
        for (final String method : SNAPSHOT_PATH)
        {
            assertFalse(cold.stream().anyMatch((line) -> line.contains(method)),
                method + "not compiled without freezes: " + reprise(cold));
        }
    }

    /** Runs the warm-up in a JVM of its own; the JIT's compilations it printed (the run's own lines excluded). */
    private static List<String> compiledAfter(final int rounds) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx256m", "-XX:+PrintCompilation",
            "-cp", System.getProperty("java.class.path"), WarmUpMain.class.getName(), Integer.toString(rounds),
            rounds > 0 ? "2000" : "0")
            .redirectErrorStream(true).start();
        final List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                lines.add(line);
            }
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the warm-up run did not end");
        assertEquals(0, process.exitValue(), "the warm-up failed (a view that differs from its freeze ends it " +
            "with an exception): " + lines);
        // The JIT prints on the same stream from its own threads: the line may share its line with one of them.
        assertTrue(lines.stream().anyMatch((line) -> line.contains("warm-up: " + rounds + " rounds done")),
            lines.toString());
        return lines;
    }

    private static List<String> reprise(final List<String> lines)
    {
        return lines.stream().filter((line) -> line.contains("io.reprise.") &&
            (line.contains("::freeze") || line.contains("::serve") || line.contains("::saveAhead"))).toList();
    }

    /** The warm-up alone, then a pause (ms) for the compilations it queued to finish. */
    public static final class WarmUpMain
    {
        public static void main(final String[] args) throws InterruptedException
        {
            final int rounds = Integer.parseInt(args[0]);
            SnapshotWarmUp.run(rounds);
            Thread.sleep(Long.parseLong(args[1]));
            System.out.println("warm-up: " + rounds + " rounds done");
        }
    }
}
