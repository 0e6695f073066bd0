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

    /**
     * What a run reports, as counts that hold however slow the machine is (it is shared): every save sent is
     * answered, the saves scheduled in the measured window are rate x seconds, what was sent plus what fell behind
     * schedule is what was scheduled, the latency histogram has one value per save acknowledged in the window, its
     * percentiles are in order, and the result line repeats the figures above it. No threshold on time or rate.
     */
    @Test
    void shouldRunABriefLoadAgainstAnEmbeddedNode() throws Exception
    {
        final int status = load("--embedded", "--rate", "500", "--seconds", "2", "--warmup-seconds", "1",
            "--failure-ratio", "0.2", "--payload-bytes", "64");
        final String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCode.OK, status, text + err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("\nerrors: 0\n"), text);

        final Matcher saves = Pattern.compile("saves: sent ([\\d,]+), acked ([\\d,]+); measured 2 s: scheduled " +
            "([\\d,]+), sent ([\\d,]+), acked ([\\d,]+) = ([\\d,]+)/s \\(([\\d.]+) % of the rate\\)\n").matcher(text);
        assertTrue(saves.find(), text);
        final long sent = number(saves.group(1));
        final long ackedInWindow = number(saves.group(5));
        assertEquals(sent, number(saves.group(2)), "every save sent was answered: " + text);
        assertEquals(1_000, number(saves.group(3)), "scheduled in the window: 500/s x 2 s: " + text);
        assertEquals(number(saves.group(4)), ackedInWindow, "every save sent in the window was answered: " + text);
        assertTrue(ackedInWindow <= 1_000, text);
        assertEquals(Math.round(ackedInWindow / 2.0), number(saves.group(6)), "the rate over the window: " + text);
        final double achieved = ackedInWindow / 2.0;
        assertEquals(String.format("%.1f", 100.0 * achieved / 500), saves.group(7), text);
        // Scheduled over the whole run, warm-up included: what was sent, and what fell behind, if anything.
        final Matcher behind = Pattern.compile("saves: behind schedule at the end by ([\\d,]+) saves").matcher(text);
        assertEquals(1_500, sent + (behind.find() ? number(behind.group(1)) : 0), text);

        final Matcher latency = Pattern.compile("save-to-ack latency, from intended send \\(us, n=([\\d,]+)\\): " +
            "p50 ([\\d,.]+)  p90 ([\\d,.]+)  p99 ([\\d,.]+)  p99.9 ([\\d,.]+)  max ([\\d,.]+)\n").matcher(text);
        assertTrue(latency.find(), text);
        assertEquals(ackedInWindow, number(latency.group(1)), "one latency per save acknowledged in the window");
        for (int i = 2; i < 6; i++)
        {
            assertTrue(decimal(latency.group(i)) <= decimal(latency.group(i + 1)), "percentiles in order: " + text);
        }
        assertTrue(text.matches("(?s).*\ndispatch lag, due to worker receipt, 1st attempts \\(us, n=[\\d,]+\\): " +
            "p50 -?[\\d,.]+  p90 -?[\\d,.]+  p99 -?[\\d,.]+  p99.9 -?[\\d,.]+  max -?[\\d,.]+\n.*"), text);

        // Workers took attempts and answered them: some RETRY (failure ratio 0.2), the rest SUCCEEDED.
        final Matcher attempts = Pattern.compile("attempts: ([\\d,]+) received, ([\\d,]+) of them retries")
            .matcher(text);
        assertTrue(attempts.find(), text);
        assertTrue(number(attempts.group(1)) > 0 && number(attempts.group(2)) <= number(attempts.group(1)), text);
        final Matcher finished = Pattern.compile("sessions finished \\(notices\\): \\{COMPLETED=(\\d+)\\}").matcher(text);
        assertTrue(finished.find(), "only completions, no session dead or cancelled: " + text);
        assertTrue(Long.parseLong(finished.group(1)) <= sent, text);

        final Matcher result = Pattern.compile("result: media=ipc rate=500 window=\\d+ achieved=(\\d+) " +
            "ack_p50_us=([\\d.]+) .*ack_max_us=([\\d.]+) lag_p50_us=(-?[\\d.]+) .*errors=0").matcher(text);
        assertTrue(result.find(), text);
        assertEquals(number(saves.group(6)), Long.parseLong(result.group(1)), "the result line's rate: " + text);
        assertEquals(decimal(latency.group(2)), Double.parseDouble(result.group(2)), 0.05, text);
        assertEquals(decimal(latency.group(6)), Double.parseDouble(result.group(3)), 0.05, text);
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

    private static double decimal(final String text)
    {
        return Double.parseDouble(text.replace(",", ""));
    }
}
