package io.reprise.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample service of {@code examples/client-sample}, outside the reactor, built against the client's runtime
 * classpath alone (the client's classes and what Maven resolved for it: schema, aeron-client, agrona) and run in a
 * JVM of its own against a node this test starts. Proves a service needs nothing of the node.
 */
class ClientSampleTest
{
    private static final int SESSIONS = 50;

    @TempDir
    Path dir;

    @Test
    void shouldBuildAndRunTheSampleOnTheClientAloneAgainstANode() throws Exception
    {
        final Path root = Path.of(System.getProperty("user.dir")).getParent();
        final Path sample = root.resolve("examples/client-sample");
        assertEquals(List.of("reprise-client"), dependencyArtifactIds(sample.resolve("pom.xml")),
            "the sample depends on reprise-client only");

        final String classpath = clientRuntimeClasspath(root);
        for (final String banned : List.of("reprise-engine", "reprise-transport", "disruptor", "aeron-driver"))
        {
            assertFalse(classpath.contains(banned), banned + " on the client's classpath: " + classpath);
        }

        final Path classes = Files.createDirectories(dir.resolve("sample-classes"));
        final List<String> sources;
        try (Stream<Path> files = Files.walk(sample.resolve("src/main/java")))
        {
            sources = files.filter((p) -> p.toString().endsWith(".java")).map(Path::toString)
                .collect(Collectors.toList());
        }
        final List<String> javacArgs = new ArrayList<>(List.of(
            "--release", "17", "-Xlint:all", "-Werror", "-classpath", classpath, "-d", classes.toString()));
        javacArgs.addAll(sources);
        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK is needed to compile the sample");
        assertEquals(0, javac.run(null, null, null, javacArgs.toArray(new String[0])), "the sample compiles");

        try (EndToEndTest.TestNode node = EndToEndTest.TestNode.start(dir, "ipc"))
        {
            final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
            final Path out = dir.resolve("sample.out");
            final Process process = new ProcessBuilder(
                java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx128m",
                "-Dreprise.aeron.dir=" + node.aeronDir,
                "-Dsample.token=token-one",
                "-Dsample.sessions=" + SESSIONS,
                "-classpath", classes + File.pathSeparator + classpath,
                "io.reprise.example.ClientSample")
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
            final boolean exited = process.waitFor(60, TimeUnit.SECONDS);
            if (!exited)
            {
                process.destroyForcibly().waitFor();
            }
            final String output = Files.readString(out);
            assertTrue(exited, "the sample did not finish within 60 s: " + output);
            assertEquals(0, process.exitValue(), output);
            assertTrue(output.contains("client-sample: saved=" + SESSIONS + " completed=" + SESSIONS + " "), output);
        }
    }

    /** What {@code client/pom.xml} has Maven write at generate-resources, with the client's own classes first. */
    private static String clientRuntimeClasspath(final Path root) throws IOException
    {
        final Path file = root.resolve("client/target/runtime-classpath.txt");
        assertTrue(Files.exists(file), file + " is written by the client's build; build the client module first");
        final String resolved = Files.readString(file, StandardCharsets.UTF_8).trim();
        return root.resolve("client/target/classes") + File.pathSeparator + resolved;
    }

    private static List<String> dependencyArtifactIds(final Path pom) throws IOException
    {
        final String text = Files.readString(pom, StandardCharsets.UTF_8).replaceAll("(?s)<!--.*?-->", "");
        final Matcher dependencies = Pattern.compile("(?s)<dependencies>(.*?)</dependencies>").matcher(text);
        final List<String> ids = new ArrayList<>();
        while (dependencies.find())
        {
            final Matcher id = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(dependencies.group(1));
            while (id.find())
            {
                ids.add(id.group(1).trim());
            }
        }
        return ids;
    }
}
