package io.reprise.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        final String help = out.toString(StandardCharsets.UTF_8);
        for (final String verb : new String[] {"demo [--standalone] [--sessions N] [--data-dir DIR]",
            "node [--config FILE] [--data-dir DIR]", "cluster [--nodes 3|5] [--data-dir DIR]", "log verify DIR",
            "log dump DIR [--from N] [--to N]", "log replay DIR [--to-index N]", "catalog DIR",
            "snapshot inspect FILE", "session history DIR TENANT:ID"})
        {
            assertTrue(help.contains("  " + verb), verb + " in\n" + help);
        }
    }

    @Test
    void shouldRefuseUnknownVerbsAndOptions()
    {
        assertEquals(Reprise.EXIT_USAGE, run());
        assertEquals(Reprise.EXIT_USAGE, run("launch"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--fast"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--sessions", "0"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--simulated", "--seed", "x"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--simulated", "--seed"));
        assertEquals(Reprise.EXIT_USAGE, run("demo", "--simulated", "--standalone"));
        assertEquals(Reprise.EXIT_USAGE, run("log"));
        assertEquals(Reprise.EXIT_USAGE, run("log", "verify"));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        final String errors = err.toString(StandardCharsets.UTF_8);
        assertTrue(errors.contains("reprise: unknown verb 'launch'"), errors);
        assertTrue(errors.contains("reprise demo: unknown option '--fast'"), errors);
        assertTrue(errors.contains("reprise demo: --sessions must be 1..2000000: 0"), errors);
        assertTrue(errors.contains("reprise demo: --seed is not a number: 'x'"), errors);
        assertTrue(errors.contains("reprise demo: --seed needs a value"), errors);
        assertTrue(errors.contains("reprise log verify: missing DIR"), errors);
    }

    @Test
    void shouldRefuseAMalformedTokenSpecSayingWhereWithoutShowingTheToken()
    {
        assertEquals(Reprise.EXIT_USAGE, run("node", "--tokens", "1:controller=s3cret,1:boss=s3cret-too"));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        final String errors = err.toString(StandardCharsets.UTF_8);
        assertTrue(errors.contains("reprise node: --tokens: token entry 2 (1:boss=...): unknown role 'boss': give " +
            "controller or worker, or T=TOKEN for both"), errors);
        assertFalse(errors.contains("s3cret"), errors);
    }

    @Test
    void shouldRunADemoWithTheGivenSeedAndSize()
    {
        assertEquals(Reprise.EXIT_OK, run("demo", "--simulated", "--seed", "11", "--sessions=300"));
        final String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("reprise demo: seed=11 sessions=300"), text);
        assertTrue(text.strip().endsWith("lost=0"), text);
    }
}
