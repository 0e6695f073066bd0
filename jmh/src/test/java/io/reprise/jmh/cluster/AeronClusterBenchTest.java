package io.reprise.jmh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.reprise.tools.bench.BenchCommand;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.UsageException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code reprise bench aeron-cluster}, briefly: both sides run in JVMs of their own from this test's class path, and
 * the last line compares them (docs/benchmarks.md).
 */
class AeronClusterBenchTest
{
    private static final Pattern LAST_LINE = Pattern.compile("bench: members=1 fsync=(on|off) payload=(\\d+) " +
        "reprise=(\\d+)/s aeron-cluster=(\\d+)/s ratio=(\\d+\\.\\d\\d) p99_us=(\\d+)/(\\d+) p99_ratio=(\\d+\\.\\d\\d)" +
        "( recovery_ms=(\\d+)/(\\d+))?");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeAll
    static void sidesFromThisClassPath()
    {
        System.setProperty(BenchCommand.CLASSPATH_PROP_NAME, System.getProperty("java.class.path"));
    }

    private int bench(final String... args) throws Exception
    {
        return BenchCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private Matcher lastLine(final int status)
    {
        final String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCode.OK, status, text + err.toString(StandardCharsets.UTF_8));
        final String[] lines = text.split("\n");
        final Matcher matcher = LAST_LINE.matcher(lines[lines.length - 1]);
        assertTrue(matcher.matches(), "last line: " + lines[lines.length - 1] + "\n" + text);
        return matcher;
    }

    @Test
    void shouldCompareBothSidesAtAFixedRateWithFsyncAndTimeTheirRestarts() throws Exception
    {
        final Matcher line = lastLine(bench("aeron-cluster", "--runs", "1", "--seconds", "2", "--warmup-seconds", "1",
            "--rate", "1000", "--payload-bytes", "32", "--recovery-saves", "20000"));
        assertEquals("on", line.group(1));
        assertEquals("32", line.group(2));
        assertTrue(Long.parseLong(line.group(3)) >= 500, "reprise committed saves: " + line.group());
        assertTrue(Long.parseLong(line.group(4)) >= 500, "aeron-cluster committed saves: " + line.group());
        assertTrue(Long.parseLong(line.group(6)) > 0 && Long.parseLong(line.group(7)) > 0, line.group());
        assertTrue(null != line.group(9) && Long.parseLong(line.group(10)) > 0 && Long.parseLong(line.group(11)) > 0,
            "recovery times: " + line.group());
        final String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("aeron-cluster service: snapshot restored at index 10,000, applied 20,001"), text);
        assertTrue(text.contains(" ms snapshot-restored "), text);
    }

    @Test
    void shouldCompareBothSidesAtTheirMaximumRateWithoutFsync() throws Exception
    {
        final Matcher line = lastLine(bench("aeron-cluster", "--runs", "1", "--seconds", "2", "--warmup-seconds", "1",
            "--rate", "0", "--fsync", "off", "--payload-bytes", "288"));
        assertEquals("off", line.group(1));
        assertEquals("288", line.group(2));
        assertTrue(Long.parseLong(line.group(3)) > 0 && Long.parseLong(line.group(4)) > 0, line.group());
        assertTrue(null == line.group(9), line.group());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("journal fsync skipped"));
    }

    @Test
    void shouldRefuseWhatItCannotRun()
    {
        final UsageException even = assertThrows(UsageException.class,
            () -> bench("aeron-cluster", "--members", "2"));
        assertTrue(even.getMessage().contains("1, 3 or 5"), even.getMessage());
        final UsageException recovery = assertThrows(UsageException.class,
            () -> bench("aeron-cluster", "--members", "3", "--recovery-saves", "1000"));
        assertTrue(recovery.getMessage().contains("--members 1 only"), recovery.getMessage());
        assertThrows(UsageException.class, () -> bench("aeron-cluster", "--members", "7"));
        assertThrows(UsageException.class, () -> bench("quartz"));
        assertThrows(UsageException.class, () -> bench("aeron-cluster", "--fsync", "sometimes"));
    }
}
