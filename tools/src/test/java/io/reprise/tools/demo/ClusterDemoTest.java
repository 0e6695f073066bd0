package io.reprise.tools.demo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code reprise demo} as it runs by default: three member processes, the leader SIGKILLed half-way through the saves
 * and started again; every saved session accounted for in the state the members' data directories agree on.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterDemoTest
{
    @Test
    void shouldFailOverAndAccountForEverySession(@TempDir final Path dir) throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        final boolean consistent = ClusterDemo.run(3_000, dir, out);
        final String text = bytes.toString(StandardCharsets.UTF_8);

        assertTrue(consistent, text);
        final String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 2].matches("failover: leader (\\d) killed at index \\d+; member (?!\\1)\\d " +
            "leads term \\d+ after \\d+ ms; member \\1 caught up by (log|install)"), text);
        // 1 in 100 is due in an hour: exactly 30 of 3000 are still pending at the end.
        assertTrue(lines[lines.length - 1].matches(
            "demo: saved=3000 completed=\\d+ dead=\\d+ cancelled=\\d+ pending=30 lost=0"), text);
        assertTrue(text.contains("equal state digests"), text);
    }
}
