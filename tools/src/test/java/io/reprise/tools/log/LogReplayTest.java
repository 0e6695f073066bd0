package io.reprise.tools.log;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.data.CatalogView;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogReplayTest
{
    @TempDir
    static Path shared;
    static NodeFixture node;
    static List<SnapshotInfo> snapshots;

    @BeforeAll
    static void buildDataDirectory() throws Exception
    {
        node = new NodeFixture(shared.resolve("node"), 300, 600).snapshotEveryOperators(150).build();
        snapshots = CatalogView.read(node.dir().resolve("snapshots")).snapshots();
        assertEquals(2, snapshots.size(), "retained snapshots: " + snapshots);
    }

    @Test
    void shouldReachTheNodesStateAtTheEndOfTheJournal()
    {
        final NodeFixture.Run run = reprise("log", "replay", node.dir().toString());

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertEquals("replay: index=" + node.appliedIndex() + " digest=" + Format.hex64(node.digest()), run.lastLine());
        assertTrue(run.out().contains("replay: restored " + snapshots.get(1).fileName() + " (index=" +
            snapshots.get(1).index()), run.toString());
        assertTrue(run.out().contains("replay: applying the journal from index " + (snapshots.get(1).index() + 1)),
            run.toString());
        assertTrue(run.out().contains(node.liveSessions() + " sessions (pending="), run.toString());
    }

    @Test
    void shouldUseTheNewestSnapshotAtOrBelowTheIndexAndSaySo()
    {
        final SnapshotInfo older = snapshots.get(0);
        final SnapshotInfo newer = snapshots.get(1);
        NodeFixture.Run run = reprise("log", "replay", node.dir().toString(), "--to-index",
            Long.toString(newer.index() - 1));
        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().contains("replay: skipped " + newer.fileName() + " (index " + newer.index() +
            " is past " + (newer.index() - 1) + ")"), run.toString());
        assertTrue(run.out().contains("replay: restored " + older.fileName()), run.toString());
        assertTrue(run.lastLine().startsWith("replay: index=" + (newer.index() - 1) + " digest=0x"), run.toString());

        run = reprise("log", "replay", node.dir().toString(), "--to-index", Long.toString(older.index() - 1));
        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().contains("replay: no snapshot used: starting from the empty state"), run.toString());
        assertTrue(run.lastLine().startsWith("replay: index=" + (older.index() - 1) + " digest=0x"), run.toString());
    }

    @Test
    void shouldMeetEverySnapshotsDigestWhenReplayingFromFurtherBack()
    {
        final NodeFixture.Run none = reprise("log", "replay", node.dir().toString(), "--start", "none");
        assertEquals(ExitCode.OK, none.exit(), none.toString());
        for (final SnapshotInfo info : snapshots)
        {
            assertTrue(none.out().contains("replay: at index " + info.index() + " the state digest equals that of " +
                info.fileName()), none.toString());
        }
        assertEquals("replay: index=" + node.appliedIndex() + " digest=" + Format.hex64(node.digest()),
            none.lastLine());

        final NodeFixture.Run oldest = reprise("log", "replay", node.dir().toString(), "--start", "oldest",
            "--to-index", Long.toString(snapshots.get(1).index()));
        assertEquals(ExitCode.OK, oldest.exit(), oldest.toString());
        assertTrue(oldest.out().contains("replay: restored " + snapshots.get(0).fileName()), oldest.toString());
        assertEquals("replay: index=" + snapshots.get(1).index() + " digest=" +
            Format.hex64(snapshots.get(1).stateDigest()), oldest.lastLine());
    }

    @Test
    void shouldFailWhenTheIndexIsBeyondTheJournal()
    {
        final NodeFixture.Run run = reprise("log", "replay", node.dir().toString(), "--to-index",
            Long.toString(node.appliedIndex() + 10));

        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("replay: the journal ends at index " + node.appliedIndex() + ", before index " +
            (node.appliedIndex() + 10)), run.toString());
        // A replay that fails prints no result line: only why it failed, last.
        assertEquals("replay: FAILED, no result: index " + (node.appliedIndex() + 10) + " is not reached",
            run.lastLine(), run.toString());
        assertFalse(run.out().contains("replay: index="), "no result line: " + run);
        assertFalse(run.out().contains(" digest=0x"), "no result line: " + run);
    }

    @Test
    void shouldRefuseBadArguments()
    {
        NodeFixture.Run run = reprise("log", "replay", node.dir().toString(), "--to-index", "ten");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--to-index is not a number: 'ten'"), run.toString());

        run = reprise("log", "replay", node.dir().toString(), "--start", "sideways");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("--start must be newest, oldest or none: 'sideways'"), run.toString());

        run = reprise("log", "replay", node.dir().toString(), "--to-index", "-1");
        assertEquals(ExitCode.USAGE, run.exit());
        assertEquals("", run.out());
    }
}
