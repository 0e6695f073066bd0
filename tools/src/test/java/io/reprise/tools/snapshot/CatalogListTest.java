package io.reprise.tools.snapshot;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.data.CatalogView;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogListTest
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
        assertEquals(2, snapshots.size());
    }

    @Test
    void shouldListTheLiveSnapshotsWithTheirFigures()
    {
        final NodeFixture.Run run = reprise("catalog", node.dir().toString());

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertTrue(run.out().contains("2 live snapshots, oldest first"), run.toString());
        for (final SnapshotInfo info : snapshots)
        {
            final String row = run.out().lines().filter((l) -> l.contains(info.fileName())).findFirst().orElseThrow();
            assertTrue(row.contains(" " + info.index() + " ") && row.contains(Format.time(info.systemTimeMs())) &&
                row.contains(Format.hex64(info.stateDigest())) && row.contains(" " + info.fileLength() + " ") &&
                row.endsWith("ok"), row);
        }
        assertEquals("catalog: tail ok (no torn entry)", run.lastLine());
    }

    @Test
    void shouldReportATornLastEntryWithoutCuttingIt(@TempDir final Path tmp) throws Exception
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final Path catalog = dir.resolve("snapshots").resolve("catalog.log");
        final long length = Files.size(catalog);
        // An appended entry whose length field reached the disk but whose body never did.
        final ByteBuffer torn = ByteBuffer.allocate(600).order(ByteOrder.LITTLE_ENDIAN).putInt(600).putInt(0xDEADBEEF);
        Files.write(catalog, torn.array(), StandardOpenOption.APPEND);

        final NodeFixture.Run run = reprise("catalog", dir.toString());

        assertEquals(ExitCode.TORN_TAIL, run.exit(), run.toString());
        assertTrue(run.lastLine().startsWith("catalog: torn tail: truncated torn catalog entry at offset " + length +
            " (the node cuts it off at its next start; this tool changed nothing)"), run.toString());
        assertTrue(run.out().contains("2 live snapshots"), run.toString());
        assertEquals(length + 600, Files.size(catalog), "the tool does not cut the file");
    }

    @Test
    void shouldReportACorruptEntryAndAMissingFile(@TempDir final Path tmp) throws Exception
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final Path catalog = dir.resolve("snapshots").resolve("catalog.log");
        final byte[] bytes = Files.readAllBytes(catalog);
        bytes[20] ^= 1;
        Files.write(catalog, bytes);

        NodeFixture.Run run = reprise("catalog", dir.toString());
        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("catalog: CORRUPT snapshot corrupt: " + catalog + " at offset 0: catalog entry " +
            "fails its checksum"), run.toString());

        final Path intact = NodeFixture.copy(node.dir(), tmp.resolve("intact"));
        Files.delete(intact.resolve("snapshots").resolve(snapshots.get(1).fileName()));
        run = reprise("catalog", intact.toString());
        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().lines().anyMatch((l) -> l.contains(snapshots.get(1).fileName()) && l.endsWith("MISSING")),
            run.toString());
    }

    @Test
    void shouldRefuseBadArguments()
    {
        final NodeFixture.Run run = reprise("catalog");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("reprise catalog: missing DIR"), run.toString());
    }
}
