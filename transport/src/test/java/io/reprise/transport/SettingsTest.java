package io.reprise.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.node.NodeContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The table of every key: where a value comes from (default, file, system property, command line, each over the
 * one before), what an unknown key or a value out of range says, and that the table agrees with the contexts it
 * configures (their defaults, and every bound it accepts). (names unknown keys on purpose)
 */
class SettingsTest
{
    private static final String FILE = "node.properties";

    private static Properties properties(final String... keyValues)
    {
        final Properties properties = new Properties();
        for (int i = 0; i < keyValues.length; i += 2)
        {
            properties.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return properties;
    }

    private static String problem(final Properties file, final Properties system, final Map<String, String> commandLine)
    {
        return assertThrows(IllegalArgumentException.class,
            () -> Settings.resolve(file, FILE, system, commandLine)).getMessage();
    }

    @Test
    void shouldTakeEachValueFromTheCommandLineOverSystemPropertiesOverTheFileOverTheDefault()
    {
        final Settings.Resolved resolved = Settings.resolve(
            properties("reprise.ring.size", "4096", "reprise.ring.max.batch", "100", "reprise.snapshot.every.ms", "5000"),
            FILE,
            properties("reprise.ring.size", "2048", "reprise.ring.max.batch", "200", "java.vendor", "anyone",
                "reprise.crash.kills", "3"), // the JVM's own and the test suites' keys are let be
            Map.of("reprise.ring.max.batch", "300"));

        assertEquals("2048", resolved.value("reprise.ring.size"));
        assertEquals(Settings.SYSTEM_PROPERTY, resolved.sources().get("reprise.ring.size"));
        assertEquals("300", resolved.value("reprise.ring.max.batch"));
        assertEquals(Settings.COMMAND_LINE, resolved.sources().get("reprise.ring.max.batch"));
        assertEquals("5000", resolved.value("reprise.snapshot.every.ms"));
        assertEquals(FILE, resolved.sources().get("reprise.snapshot.every.ms"));
        assertEquals(Integer.toString(NodeContext.RING_CELL_BYTES_DEFAULT), resolved.value("reprise.ring.cell.bytes"));
        assertEquals(Settings.DEFAULT, resolved.sources().get("reprise.ring.cell.bytes"));
        assertFalse(resolved.sources().containsKey("reprise.crash.kills"), "a key of the tests is no node setting");

        // Applied, the contexts hold them, and describe them back the same way.
        final NodeContext node = new NodeContext();
        final TransportContext transport = new TransportContext();
        resolved.applyTo(node, transport);
        node.conclude();
        assertEquals(2048, node.ringSize());
        assertEquals(300, node.maxBatchSize());
        assertEquals(5000, node.snapshotEveryMs());
        final List<String[]> described = Settings.describe(node, transport, resolved.sources());
        final List<String[]> resolvedRows = resolved.describe();
        assertEquals(resolvedRows.size(), described.size());
        for (int i = 0; i < described.size(); i++)
        {
            assertEquals(List.of(resolvedRows.get(i)), List.of(described.get(i)), "row " + i);
        }
    }

    @Test
    void shouldNameTheNearestKnownKeyOfAnUnknownOne()
    {
        assertEquals("reprise.snapshot.every.operator (in " + FILE + "): unknown key; the nearest known key is " +
            "reprise.snapshot.every.operators",
            problem(properties("reprise.snapshot.every.operator", "5"), new Properties(), Map.of()));
        assertEquals("reprise.ring.sise (system property -Dreprise.ring.sise): unknown key; the nearest known key " +
            "is reprise.ring.size", problem(new Properties(), properties("reprise.ring.sise", "1024"), Map.of()));
        // In a file, a key without the prefix is unknown too.
        assertEquals("snapshot.every.ms (in " + FILE + "): unknown key; the nearest known key is " +
            "reprise.snapshot.every.ms", problem(properties("snapshot.every.ms", "5"), new Properties(), Map.of()));
        // A key of the tools is known, but it has no place in a node's file.
        assertEquals("reprise.tools.progress.records (in " + FILE + "): not a setting of the node (it is read by " +
            "the tools); remove it from the file",
            problem(properties("reprise.tools.progress.records", "5"), new Properties(), Map.of()));
        assertEquals(2, Settings.editDistance("reprise.ring.sise", "reprise.ring.size") + 1);
    }

    @Test
    void shouldNameTheKeyTheValueAndTheRangeOfAValueOutOfRange()
    {
        assertEquals("reprise.ring.size=100 (in " + FILE + "): out of range: must be 64..16,777,216, a power of two " +
            "(slots)", problem(properties("reprise.ring.size", "100"), new Properties(), Map.of()));
        assertEquals("reprise.rules.max.payload.bytes=2000000 (system property): out of range: must be " +
            "0..1,048,576 (bytes)",
            problem(new Properties(), properties("reprise.rules.max.payload.bytes", "2000000"), Map.of()));
        assertEquals("reprise.worker.liveness.timeout.ms=ten (command line): not a whole number: must be " +
            "300..86,400,000 (ms)", problem(new Properties(), new Properties(),
            Map.of("reprise.worker.liveness.timeout.ms", "ten")));
        assertEquals("reprise.snapshots.retained=0 (in " + FILE + "): out of range: must be 1 or more (snapshots)",
            problem(properties("reprise.snapshots.retained", "0"), new Properties(), Map.of()));
        assertEquals("reprise.journal.skip.fsync=yes (in " + FILE + "): must be true or false",
            problem(properties("reprise.journal.skip.fsync", "yes"), new Properties(), Map.of()));
        assertEquals("reprise.ring.wait.strategy=spin (in " + FILE + "): must be one of sleeping, yielding, " +
            "blocking, busy-spin", problem(properties("reprise.ring.wait.strategy", "spin"), new Properties(), Map.of()));
        // A value overridden by a later source is checked all the same: the file is wrong.
        assertEquals("reprise.ring.size=100 (in " + FILE + "): out of range: must be 64..16,777,216, a power of two " +
            "(slots)", problem(properties("reprise.ring.size", "100"), properties("reprise.ring.size", "1024"),
            Map.of()));
        // A token is never shown.
        final String tokens = problem(properties("reprise.auth.tokens", "1=good,2:boss=s3cret"), new Properties(),
            Map.of());
        assertEquals("reprise.auth.tokens=(not shown) (in " + FILE + "): token entry 2 (2:boss=...): unknown role " +
            "'boss': give controller or worker, or T=TOKEN for both", tokens);
        // Every problem at once, one a line.
        final String two = problem(properties("reprise.ring.size", "100", "reprise.ring.sise", "1"), new Properties(),
            Map.of());
        assertTrue(two.startsWith("2 problems:"), two);
        assertTrue(two.contains("reprise.ring.sise (in " + FILE + "): unknown key") &&
            two.contains("reprise.ring.size=100"), two);
    }

    @Test
    void shouldRefuseSettingsThatBreakARelationNamingTheirValues()
    {
        assertEquals("the ring's slab, ring size x cell bytes, must be at most 1,073,741,824 bytes: " +
            "reprise.ring.size=16777216 (" + FILE + "), reprise.ring.cell.bytes=" + NodeContext.RING_CELL_BYTES_DEFAULT +
            " (default)", problem(properties("reprise.ring.size", "16777216"), new Properties(), Map.of()));
        assertEquals("the default in-flight limit must be at most the largest one: " +
            "reprise.rules.default.in.flight.limit=2000 (command line), reprise.rules.max.in.flight.limit=1000 (" +
            FILE + ")", problem(properties("reprise.rules.max.in.flight.limit", "1000"), new Properties(),
            Map.of("reprise.rules.default.in.flight.limit", "2000")));
    }

    @Test
    void shouldRefuseADirectoryThatIsAFile(@TempDir final Path dir) throws Exception
    {
        final Path file = Files.createFile(dir.resolve("not-a-dir"));
        assertEquals("reprise.data.dir=" + file + " (in " + FILE + "): " + file + " is a file, not a directory",
            problem(properties("reprise.data.dir", file.toString()), new Properties(), Map.of()));
    }

    /** The table's defaults are the contexts' own: a context built with no property reads back every default. */
    @Test
    void shouldHaveTheDefaultsTheContextsHave()
    {
        final NodeContext node = new NodeContext().conclude();
        final TransportContext transport = new TransportContext();
        final List<String> differing = new ArrayList<>();
        for (final String[] row : Settings.describe(node, transport, Map.of()))
        {
            final Setting setting = Settings.get(row[0]);
            final String expected = setting.secret() ? TransportContext.maskTokens(setting.defaultValue()) :
                setting.defaultValue();
            if (null == System.getProperty(row[0]) && !expected.equals(row[1]))
            {
                differing.add(row[0] + ": table " + expected + ", context " + row[1]);
            }
        }
        assertEquals(List.of(), differing);
    }

    /**
     * Whatever the table accepts, the contexts accept: each bound of each number of the node, alone with the
     * defaults, passes the contexts' own checks when the table's relations allow it.
     */
    @Test
    void shouldLetTheContextsTakeEveryValueTheTableAccepts()
    {
        final List<String> refused = new ArrayList<>();
        int tried = 0;
        for (final Setting setting : Settings.all())
        {
            if (!setting.scope().ofNode() ||
                (setting.kind() != Setting.Kind.INT && setting.kind() != Setting.Kind.LONG))
            {
                continue;
            }
            final long min = setting.isPowerOfTwo() ? Long.highestOneBit(setting.min() - 1) << 1 : setting.min();
            final long max = setting.isPowerOfTwo() ? Long.highestOneBit(setting.max()) : setting.max();
            for (final long value : new long[] {min, max})
            {
                final Map<String, String> commandLine = new LinkedHashMap<>();
                commandLine.put(setting.key(), Long.toString(value));
                final Settings.Resolved resolved;
                try
                {
                    resolved = Settings.resolve(new Properties(), FILE, new Properties(), commandLine);
                }
                catch (final IllegalArgumentException ex)
                {
                    assertFalse(ex.getMessage().contains("out of range"), ex.getMessage());
                    continue; // a relation with the other defaults refuses it: the table does not accept it
                }
                tried++;
                try
                {
                    final NodeContext node = new NodeContext();
                    final TransportContext transport = new TransportContext();
                    resolved.applyTo(node, transport);
                    final BusinessRules rules = node.rules();
                    node.conclude();
                    assertTrue(rules.isConcluded());
                    transport.conclude();
                }
                catch (final RuntimeException ex)
                {
                    refused.add(setting.key() + "=" + value + ": " + ex.getMessage());
                }
            }
        }
        assertEquals(List.of(), refused, "values the table accepts but the contexts refuse");
        assertTrue(tried > 60, "bounds tried: " + tried);
    }
}
