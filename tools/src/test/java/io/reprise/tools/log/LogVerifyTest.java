package io.reprise.tools.log;

import static io.reprise.tools.NodeFixture.reprise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.journal.JournalReader;
import io.reprise.tools.NodeFixture;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Progress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogVerifyTest
{
    @TempDir
    static Path shared;
    static NodeFixture node;

    @BeforeAll
    static void buildDataDirectory() throws Exception
    {
        // 8 KB payloads over ~2 MB segments: at least three segments, no snapshot, so nothing is rotated away.
        node = new NodeFixture(shared.resolve("node"), 600, 8_000).segmentLength(NodeFixture.SMALL_SEGMENT).build();
    }

    /** Where one record lies. */
    record Located(Path file, long offset, int frameLength)
    {
    }

    static Located locate(final Path dir, final long index) throws IOException
    {
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), dir.resolve("journal")))
        {
            while (reader.next() == JournalReader.Status.RECORD)
            {
                if (reader.index() == index)
                {
                    return new Located(reader.file(), reader.recordOffset(),
                        JournalFormat.RECORD_OVERHEAD + reader.operatorLength());
                }
            }
        }
        throw new AssertionError("no record " + index);
    }

    static long lastIndex(final Path dir) throws IOException
    {
        long last = -1;
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), dir.resolve("journal")))
        {
            while (reader.next() == JournalReader.Status.RECORD)
            {
                last = reader.index();
            }
        }
        return last;
    }

    static void write(final Path file, final long offset, final byte[] bytes) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    static void flipBit(final Path file, final long offset) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte)(one.get(0) ^ 0x10)).clear();
            channel.write(one, offset);
        }
    }

    @Test
    void shouldEndWithTheRecordCountOnACleanDirectory()
    {
        final NodeFixture.Run run = reprise("log", "verify", node.dir().toString());

        assertEquals(ExitCode.OK, run.exit(), run.toString());
        assertEquals("verify: records=" + node.appliedIndex() + " ok", run.lastLine(), run.toString());
        assertTrue(run.out().contains("00000000000000000001.journal  records="), run.toString());
        assertTrue(run.out().contains(": 3 segments") || run.out().contains(": 4 segments"), run.toString());
    }

    @Test
    void shouldNameFileAndOffsetOfABitFlipInAnOldRecord(@TempDir final Path tmp) throws IOException
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final Located old = locate(dir, 20);
        flipBit(old.file(), old.offset() + JournalFormat.RECORD_OVERHEAD + 10);

        final NodeFixture.Run run = reprise("log", "verify", dir.toString());

        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("verify: CORRUPT " + old.file() + " at offset " + old.offset() +
            ": checksum mismatch in a fully written record"), run.toString());
        assertTrue(run.out().contains("records=19 valid before it (last valid index 19)"), run.toString());
        assertTrue(run.out().contains("not read (after the problem)"), "later segments are listed: " + run);
    }

    @Test
    void shouldReportABitFlipInTheLastRecordAsCorruption(@TempDir final Path tmp) throws IOException
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final Located last = locate(dir, node.appliedIndex());
        flipBit(last.file(), last.offset() + last.frameLength() - 100);

        final NodeFixture.Run run = reprise("log", "verify", dir.toString());

        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("verify: CORRUPT " + last.file() + " at offset " + last.offset() + ": checksum"),
            run.toString());
    }

    @Test
    void shouldReportATornLastRecordWithItsFileAndOffset(@TempDir final Path tmp) throws IOException
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final Located last = locate(dir, node.appliedIndex());
        // One 512-byte sector inside the record never reached the disk.
        final long sector = (last.offset() / 512 + 2) * 512;
        assertTrue(sector + 512 <= last.offset() + last.frameLength(), "the record spans whole sectors");
        write(last.file(), sector, new byte[512]);

        final NodeFixture.Run run = reprise("log", "verify", dir.toString());

        assertEquals(ExitCode.TORN_TAIL, run.exit(), run.toString());
        assertTrue(run.out().contains("verify: TORN tail " + last.file() + " at offset " + last.offset() +
            ": torn write"), run.toString());
        assertTrue(run.lastLine().startsWith("verify: records=" + (node.appliedIndex() - 1) + " valid"), run.toString());
    }

    /**
     * The second record of the last segment lost its frame length: the scan ends there, but data follows more
     * than one write batch later, so the journal is corrupt, not torn (the node refuses to start on it).
     */
    @Test
    void shouldReportAnEndFollowedByMoreThanOneWriteBatchOfRecordsAsCorruption(@TempDir final Path tmp)
        throws IOException
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final long last = lastIndex(dir);
        final Located end = locate(dir, last);
        final Located damaged = locate(dir, JournalFormat.firstIndexOf(end.file().getFileName().toString()) + 1);
        assertEquals(end.file(), damaged.file(), "in the last segment");
        assertTrue(end.offset() - damaged.offset() > 2 * 65536, "more than one write batch of records follows it");
        write(damaged.file(), damaged.offset(), new byte[Integer.BYTES]);

        final String property = "reprise.journal.write.buffer.bytes";
        System.setProperty(property, "65536");
        final NodeFixture.Run run;
        try
        {
            run = reprise("log", "verify", dir.toString());
        }
        finally
        {
            System.clearProperty(property);
        }

        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("verify: CORRUPT " + damaged.file() + " at offset " + damaged.offset() +
            ": the journal ends (a frame length of 0); but written data follows at offset "), run.toString());
    }

    @Test
    void shouldReportAMissingMiddleSegment(@TempDir final Path tmp) throws IOException
    {
        final Path dir = NodeFixture.copy(node.dir(), tmp.resolve("copy"));
        final List<Long> segments;
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), dir.resolve("journal")))
        {
            segments = reader.segments();
        }
        assertTrue(segments.size() >= 3, "segments " + segments);
        Files.delete(dir.resolve("journal").resolve(JournalFormat.segmentName(segments.get(1))));
        final Path third = dir.resolve("journal").resolve(JournalFormat.segmentName(segments.get(2)));

        final NodeFixture.Run run = reprise("log", "verify", dir.toString());

        assertEquals(ExitCode.FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("verify: CORRUPT " + third + " at offset 0: missing records: expected index " +
            segments.get(1) + " but the next segment starts at " + segments.get(2)), run.toString());
    }

    @Test
    void shouldPrintProgressToStandardError()
    {
        System.setProperty(Progress.EVERY_PROP_NAME, "100");
        try
        {
            final NodeFixture.Run run = reprise("log", "verify", node.dir().toString());
            assertEquals(ExitCode.OK, run.exit(), run.toString());
            assertTrue(run.err().contains("verify: 100 records, at index 100"), run.toString());
            assertTrue(run.err().contains("verify: 500 records"), run.toString());
            assertTrue(!run.out().contains("records/s"), "progress stays off stdout");
        }
        finally
        {
            System.clearProperty(Progress.EVERY_PROP_NAME);
        }
    }

    @Test
    void shouldRefuseBadArguments(@TempDir final Path tmp)
    {
        NodeFixture.Run run = reprise("log", "verify");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("reprise log verify: missing DIR"), run.toString());
        assertTrue(run.err().contains("usage: reprise log verify DIR"), run.toString());

        run = reprise("log", "verify", tmp.resolve("nowhere").toString());
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("is not a directory"), run.toString());

        run = reprise("log", "verify", tmp.toString());
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("is not a Reprise data directory"), run.toString());

        run = reprise("log", "verify", node.dir().toString(), "--fast");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("unknown option '--fast'"), run.toString());

        run = reprise("log", "verify", node.dir().toString(), "extra");
        assertEquals(ExitCode.USAGE, run.exit());
        assertTrue(run.err().contains("unexpected argument 'extra'"), run.toString());
        assertEquals("", run.out());
    }
}
