package io.reprise.tools.load;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadCommandTest
{
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int load(final String... args) throws Exception
    {
        return LoadCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldRunABriefLoadAgainstAnEmbeddedNode() throws Exception
    {
        final int status = load("--embedded", "--rate", "500", "--seconds", "2", "--warmup-seconds", "1",
            "--failure-ratio", "0.2", "--payload-bytes", "64");
        final String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCode.OK, status, text + err.toString(StandardCharsets.UTF_8));

        final Matcher saves = Pattern.compile("measured 2 s: scheduled ([\\d,]+), sent ([\\d,]+), acked ([\\d,]+)")
            .matcher(text);
        assertTrue(saves.find(), text);
        assertEquals(1_000, number(saves.group(1)), text);
        assertTrue(number(saves.group(3)) >= 900, text);
        assertTrue(text.contains("save-to-ack latency, from intended send (us, n="), text);
        assertTrue(text.contains("dispatch lag, due to worker receipt, 1st attempts (us, n="), text);
        assertTrue(text.matches("(?s).*p50 [\\d,.]+  p90 [\\d,.]+  p99 [\\d,.]+  p99.9 [\\d,.]+  max [\\d,.]+.*"),
            text);
        assertTrue(text.contains("\nerrors: 0\n"), text);

        final Matcher result = Pattern.compile("result: media=ipc rate=500 window=\\d+ achieved=(\\d+) " +
            "ack_p50_us=([\\d.]+) .*ack_max_us=([\\d.]+) lag_p50_us=([\\d.]+) .*errors=0").matcher(text);
        assertTrue(result.find(), text);
        assertTrue(Long.parseLong(result.group(1)) >= 450, text);
        final double p50 = Double.parseDouble(result.group(2));
        assertTrue(p50 > 0 && p50 <= Double.parseDouble(result.group(3)), text);
        assertTrue(Double.parseDouble(result.group(4)) > 0, text);
        assertTrue(text.contains("COMPLETED="), "sessions completed: " + text);
    }

    @Test
    void shouldRefuseBadOptions()
    {
        assertThrows(UsageException.class, () -> load("--rate", "10"));
        assertThrows(UsageException.class, () -> load("--embedded", "--aeron-dir", "/tmp/x"));
        assertThrows(UsageException.class, () -> load("--embedded", "--media", "tcp"));
        assertThrows(UsageException.class, () -> load("--embedded", "--failure-ratio", "1.5"));
        assertThrows(UsageException.class, () -> load("--embedded", "--payload-bytes", "4"));
    }

    @Test
    void shouldSayClearlyWhenNoNodeRuns() throws Exception
    {
        assertEquals(ExitCode.FAILED, load("--aeron-dir", "/nonexistent/reprise-aeron", "--seconds", "1"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no node runs on the Aeron directory"));
    }

    private static long number(final String text)
    {
        return Long.parseLong(text.replace(",", ""));
    }
}
