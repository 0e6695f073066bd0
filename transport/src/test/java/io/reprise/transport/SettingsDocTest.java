package io.reprise.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md lists every key as the table the node checks ({@link Settings}) has it, and the table has
 * every key the sources read: neither can drift from the other.
 */
class SettingsDocTest
{
    static final String BEGIN = "<!-- generated from io.reprise.transport.Settings: do not edit by hand -->";
    static final String END = "<!-- end of the generated part -->";
    static final String REGENERATE = "./mvnw -o -q -B -pl transport -am verify -Dtest=SettingsDocTest " +
        "-Dsurefire.failIfNoSpecifiedTests=false -Dreprise.docs.regenerate=true";
    /** The mark of a source that names unknown keys on purpose. */
    static final String UNKNOWN_KEYS_MARK = "(names unknown keys on purpose)";
    private static final Pattern KEY = Pattern.compile("\"(reprise\\.[a-zA-Z0-9.]*[a-zA-Z0-9])\"");

    /** The repository: tests run in the module's directory. */
    static Path root()
    {
        final Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(root.resolve("docs/configuration.md")), "no docs/configuration.md in " + root);
        return root;
    }

    @Test
    void shouldDocumentEveryKeyAsTheTableHasIt() throws IOException
    {
        final Path doc = root().resolve("docs/configuration.md");
        final String text = Files.readString(doc, StandardCharsets.UTF_8);
        final int begin = text.indexOf(BEGIN);
        final int end = text.indexOf(END);
        assertTrue(begin >= 0 && end > begin, doc + " has lost its markers " + BEGIN + " ... " + END);
        final String committed = text.substring(begin + BEGIN.length(), end);
        final String generated = "\n" + Settings.markdown();
        if (!committed.equals(generated))
        {
            if (Boolean.getBoolean("reprise.docs.regenerate"))
            {
                Files.writeString(doc, text.substring(0, begin + BEGIN.length()) + generated + text.substring(end),
                    StandardCharsets.UTF_8);
                System.out.println("SettingsDocTest: rewrote the generated part of " + doc);
                return;
            }
            fail(doc + " differs from the table of io.reprise.transport.Settings; regenerate it with\n  " +
                REGENERATE + "\nfirst difference at line " + firstDifference(committed, generated));
        }
    }

    @Test
    void shouldHaveEveryKeyTheSourcesRead() throws IOException
    {
        final Map<String, List<String>> keysRead = new TreeMap<>();
        final Map<String, List<String>> keysOutsideTheTable = new TreeMap<>();
        final Path root = root();
        try (Stream<Path> files = Files.walk(root))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                final String path = root.relativize(file).toString();
                if (!path.endsWith(".java") || !path.contains("src/") || path.contains("/target/"))
                {
                    continue;
                }
                final String source = Files.readString(file, StandardCharsets.UTF_8);
                final Matcher matcher = KEY.matcher(source);
                // A test of what an unknown key does names such keys on purpose, and says so with this mark.
                final boolean unknownOnPurpose = source.contains(UNKNOWN_KEYS_MARK);
                while (matcher.find())
                {
                    if (unknownOnPurpose && null == Settings.get(matcher.group(1)))
                    {
                        continue;
                    }
                    keysRead.computeIfAbsent(matcher.group(1), (k) -> new ArrayList<>()).add(path);
                    if (!file.getFileName().toString().equals("Settings.java"))
                    {
                        keysOutsideTheTable.computeIfAbsent(matcher.group(1), (k) -> new ArrayList<>()).add(path);
                    }
                }
            }
        }
        final List<String> missing = new ArrayList<>();
        keysRead.forEach((key, where) ->
        {
            if (null == Settings.get(key))
            {
                missing.add(key + " (" + String.join(", ", where) + "; nearest in the table: " +
                    Settings.nearestKey(key) + ")");
            }
        });
        assertEquals(List.of(), missing, "keys read by the sources but not in io.reprise.transport.Settings");

        final List<String> unused = new ArrayList<>();
        for (final Setting setting : Settings.all())
        {
            if (!keysOutsideTheTable.containsKey(setting.key()))
            {
                unused.add(setting.key());
            }
        }
        assertEquals(List.of(), unused, "keys of the table that no source names");
    }

    private static String firstDifference(final String a, final String b)
    {
        final String[] left = a.split("\n", -1);
        final String[] right = b.split("\n", -1);
        for (int i = 0; i < Math.max(left.length, right.length); i++)
        {
            final String l = i < left.length ? left[i] : "(nothing)";
            final String r = i < right.length ? right[i] : "(nothing)";
            if (!l.equals(r))
            {
                return (i + 1) + " of the generated part:\n  doc:   " + l + "\n  table: " + r;
            }
        }
        return "(none)";
    }
}
