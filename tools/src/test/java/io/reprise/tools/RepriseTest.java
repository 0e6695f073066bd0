package io.reprise.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class RepriseTest
{
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(final String... args)
    {
        return Reprise.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintHelp()
    {
        assertEquals(Reprise.EXIT_OK, run("help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("demo [--seed N] [--sessions N]"));
    }

    @Test
    void shouldRefuseUnknownVerbsAndOptions()
    {
        assertEquals(Reprise.EXIT_USAGE, run());
        assertEquals(Reprise.EXIT_USAGE, run("launch"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--fast"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--sessions", "0"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--seed", "x"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--seed"));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRunADemoWithTheGivenSeedAndSize()
    {
        assertEquals(Reprise.EXIT_OK, run("demo", "--seed", "11", "--sessions=300"));
        final String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("reprise demo: seed=11 sessions=300"), text);
        assertTrue(text.strip().endsWith("lost=0"), text);
    }
}
