package io.reprise.tools.snapshot;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.data.CatalogView;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotInspectTest
{
    @TempDir
    static Path shared;
    static NodeFixture node;
    static SnapshotInfo newest;

    @BeforeAll
    static void buildDataDirectory() throws Exception
    {
        node = new NodeFixture(shared.resolve("node"), 300, 600).snapshotEveryOperators(150).build();
        final List<SnapshotInfo> snapshots = CatalogView.read(node.dir().resolve("snapshots")).snapshots();
        newest = snapshots.get(snapshots.size() - 1);
    }

    private static Path file(final Path dir, final SnapshotInfo info)
    {
        return dir.resolve("snapshots").resolve(info.fileName());
    }

    @Test
    void shouldPrintHeaderFooterAndSessionsOfAValidSnapshot()
    {
        final NodeFixture.Run run = reprise("snapshot", "inspect", file(node.dir(), newest).toString());

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().contains("  header: index=" + newest.index() + " term=" + newest.term() + " system-time=" +
            Format.time(newest.systemTimeMs()) + " state-digest=" + Format.hex64(newest.stateDigest())), run.toString());
        assertTrue(run.out().contains("  body: checksum valid"), run.toString());
        assertTrue(run.out().contains("  rules: taken under the default business rules"), run.toString());
        assertTrue(run.out().contains("  state: loaded; its digest equals the header's; applied index " +
            newest.index()), run.toString());
        // Every session of the fixture is saved before the first snapshot can be taken (150 operators in).
        assertTrue(run.out().matches("(?s).*  sessions: \\d+ \\(pending=\\d+ ready=\\d+ in-flight=\\d+ completed=\\d+ " +
            "cancelled=\\d+ dead=\\d+\\).*"), run.toString());
        assertTrue(run.out().contains("  destinations: 1 owned"), run.toString());
        assertEquals("snapshot: ok", run.lastLine());
    }

    @Test
    void shouldReportABodyThatDoesNotMatchItsChecksum(@TempDir final Path tmp) throws Exception
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final Path file = file(dir, newest);
        final byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(file, bytes);

        final NodeFixture.Run run = reprise("snapshot", "inspect", file.toString());

        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("  body: checksum MISMATCH: computed 0x"), run.toString());
        assertTrue(run.lastLine().startsWith("snapshot: FAILED to load: snapshot corrupt: " + file), run.toString());
    }

    @Test
    void shouldSayWhenTheSnapshotWasTakenUnderOtherRules(@TempDir final Path tmp) throws Exception
    {
        final NodeFixture other = new NodeFixture(tmp.resolve("other"), 10, 100).snapshotEveryOperators(10)
            .rules(new BusinessRules().maxSessions(12_345)).build();
        final List<SnapshotInfo> snapshots = CatalogView.read(other.dir().resolve("snapshots")).snapshots();

        final NodeFixture.Run run = reprise("snapshot", "inspect", file(other.dir(), snapshots.get(0)).toString());

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().contains("  rules: the snapshot was taken under other business rules (digest " +
            Format.hex64(new BusinessRules().maxSessions(12_345).conclude().digest()) + "); the default rules"),
            run.toString());
        assertTrue(run.out().contains("  body: checksum valid"), run.toString());
        assertEquals("snapshot: checksum ok, not loaded (other rules)", run.lastLine());
    }

    @Test
    void shouldRefuseBadArguments(@TempDir final Path tmp)
    {
        NodeFixture.Run run = reprise("snapshot", "inspect", tmp.resolve("none.snapshot").toString());
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("is not a file"), run.toString());

        run = reprise("snapshot", "inspect");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("reprise snapshot inspect: missing FILE"), run.toString());

        run = reprise("snapshot", "show");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("reprise: unknown verb 'snapshot show': snapshot takes inspect"), run.toString());
    }
}
