package io.reprise.tools.demo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertTrue;

class AeronDemoTest
{
    @Test
    void shouldAccountForEverySessionAndRestartFromItsDataDirectory(@TempDir final Path dir) throws Exception
    {
        final String first = run(dir);
        assertTrue(first.contains("new data directory initialised"), first);
        // 1 in 100 is due in an hour: exactly 30 of 3000 are still pending at the end.
        assertTrue(lastLine(first).matches(
            "demo: saved=3000 completed=\\d+ dead=\\d+ cancelled=\\d+ pending=30 lost=0"), first);

        final String second = run(dir);
        assertTrue(second.contains("restarted from the data directory"), second);
        assertTrue(second.contains("restarted: journal-opened"), second);
        assertTrue(lastLine(second).matches(
            "demo: saved=3000 completed=\\d+ dead=\\d+ cancelled=\\d+ pending=30 lost=0"), second);
    }

    private static String run(final Path dir) throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        final boolean consistent = AeronDemo.run(3_000, dir, out);
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(consistent, text);
        return text;
    }

    private static String lastLine(final String text)
    {
        final String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }
}
