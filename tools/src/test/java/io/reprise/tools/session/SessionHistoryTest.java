package io.reprise.tools.session;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.data.CatalogView;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionHistoryTest
{
    @TempDir
    static Path shared;
    static NodeFixture node;

    @BeforeAll
    static void buildDataDirectory() throws Exception
    {
        node = new NodeFixture(shared.resolve("node"), 50, 300).build();
    }

    /** The operator lines and their result lines, in order. */
    private static List<String> story(final NodeFixture.Run run)
    {
        return run.out().lines().filter((l) -> l.startsWith("index=") || l.startsWith("    -> "))
            .collect(Collectors.toList());
    }

    @Test
    void shouldTellTheWholeStoryOfARetriedSession()
    {
        final NodeFixture.Run run = reprise("session", "history", node.dir().toString(), "1:" + NodeFixture.RETRIED);

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().startsWith("history: 1:2 in " + node.dir() + ": replaying the journal from index 1"));
        final List<String> story = story(run);
        assertEquals(12, story.size(), run.toString());
        assertTrue(story.get(0).contains(" SaveSession ") && story.get(0).contains("sessionId=2 "), run.toString());
        assertTrue(story.get(1).startsWith("    -> OK; saved for destination 1 (300-byte payload); now READY " +
            "attempt=0/3"), run.toString());
        assertTrue(story.get(2).contains(" BeginRepeats destination=1 maxCount=1024"), run.toString());
        assertTrue(story.get(3).matches("    -> OK; attempt 1 started \\(lease until \\S+\\); now IN_FLIGHT " +
            "attempt=1/3 lease-until=\\S+"), run.toString());
        assertTrue(story.get(4).contains(" ReportOutcome ") && story.get(4).contains("outcome=RETRY"), run.toString());
        assertTrue(story.get(5).matches("    -> OK; now PENDING attempt=1/3 due=\\S+ last-error=503"), run.toString());
        assertTrue(story.get(6).contains(" SetTime "), run.toString());
        assertTrue(story.get(7).startsWith("    -> OK; its timer fired; now READY attempt=1/3"), run.toString());
        assertTrue(story.get(9).contains("attempt 2 started"), run.toString());
        assertTrue(story.get(10).contains("attempt=2 outcome=SUCCEEDED"), run.toString());
        assertTrue(story.get(11).startsWith("    -> OK; finished COMPLETED after attempt 2 (error code 200); now " +
            "COMPLETED attempt=2/3 purge-at="), run.toString());
        assertTrue(run.lastLine().startsWith("history: 1:2: 6 operators touched it (" + node.appliedIndex() +
            " records replayed, indexes 1.." + node.appliedIndex() + "); at index " + node.appliedIndex() +
            " it is COMPLETED"), run.toString());
    }

    @Test
    void shouldShowTheSetTimeThatExpiredALease()
    {
        final NodeFixture.Run run = reprise("session", "history", node.dir().toString(),
            "1:" + NodeFixture.LEASE_EXPIRES);

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        final List<String> story = story(run);
        final int expired = story.indexOf(story.stream().filter((l) -> l.contains("last-error=-1 (lease expired)"))
            .findFirst().orElseThrow(() -> new AssertionError(run.toString())));
        assertTrue(story.get(expired - 1).contains(" SetTime "), run.toString());
        assertTrue(story.get(expired).startsWith("    -> OK; its timer fired; now "), run.toString());
    }

    @Test
    void shouldShowACancelAndAResultCodeThatRefused()
    {
        NodeFixture.Run run = reprise("session", "history", node.dir().toString(), "1:" + NodeFixture.CANCELLED);
        assertTrue(run.out().contains("    -> OK; finished CANCELLED after attempt 1 (error code 0); now CANCELLED"),
            run.toString());

        run = reprise("session", "history", node.dir().toString(), "1:" + node.lastSessionId());
        assertEquals(2, story(run).size(), run.toString());

        run = reprise("session", "history", node.dir().toString(), "2:1");
        assertEquals(ExitCode.OK, run.exit());
        assertEquals("history: no operator touched 2:1 (" + node.appliedIndex() + " records replayed, indexes 1.." +
            node.appliedIndex() + ")", run.lastLine());
    }

    @Test
    void shouldStartFromTheOldestSnapshotWhenTheJournalWasRotated(@TempDir final Path tmp) throws Exception
    {
        final NodeFixture rotated = new NodeFixture(tmp.resolve("rotated"), 600, 8_000)
            .segmentLength(NodeFixture.SMALL_SEGMENT).snapshotEveryOperators(200).build();
        final List<Long> segments = Journal.listSegments(new FileChannelDisk(), rotated.dir().resolve("journal"));
        assertTrue(segments.get(0) > 1, "rotation removed the first segment: " + segments + rotated.steps());
        final SnapshotInfo oldest = CatalogView.read(rotated.dir().resolve("snapshots")).snapshots().get(0);

        final NodeFixture.Run run = reprise("session", "history", rotated.dir().toString(),
            "1:" + NodeFixture.RETRIED);

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().contains(": the journal starts at index " + segments.get(0) + " (earlier segments were " +
            "rotated away), so the history starts from the oldest usable snapshot " + oldest.fileName()),
            run.toString());
        assertTrue(run.out().contains("at snapshot index " + oldest.index() + ": "), run.toString());
        assertTrue(run.lastLine().contains("indexes " + (oldest.index() + 1) + ".." + rotated.appliedIndex()),
            run.toString());
    }

    @Test
    void shouldRefuseBadArguments()
    {
        NodeFixture.Run run = reprise("session", "history", node.dir().toString(), "1-42");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("TENANT:ID expected, e.g. 1:42, got '1-42'"), run.toString());

        run = reprise("session", "history", node.dir().toString(), "0:42");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("TENANT must be 1.."), run.toString());

        run = reprise("session", "history", node.dir().toString(), "1:x");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("ID is not a number: 'x'"), run.toString());

        run = reprise("session", "history", node.dir().toString());
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("missing TENANT:ID"), run.toString());
    }
}
