package io.reprise.engine.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.FileChannelDisk;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalCorruptException;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.schema.log.OperatorEncoder;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotCorruptException;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.engine.state.SessionTable;
import io.reprise.engine.testing.Snapshots;
import io.reprise.schema.client.ResultCode;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged data directories written by a real node (ARCHITECTURE §5, §10): every damage is detected, reported
 * with the file and the offset (or the index) concerned, and never costs an acknowledged operator silently. A
 * node either starts with everything it acknowledged, or refuses to start; after a refusal, undoing the damage
 * gives back a node with everything (the refused start destroyed nothing).
 */
class NodeCorruptionTest
{
    private static final int TENANT = 1;
    /** The smallest segment the journal accepts (two maximal records), so a few thousand saves span several. */
    private static final long SEGMENT = JournalFormat.SEGMENT_HEADER_LENGTH + 2L * JournalFormat.MAX_FRAME_LENGTH;
    private static final int WRITE_BUFFER = JournalFormat.MAX_FRAME_LENGTH + JournalFormat.ALIGNMENT;

    private final List<String> steps = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong lastAcknowledged = new AtomicLong();
    private final SessionPolicy policy = new SessionPolicy().initialDelayMs(60_000);
    private final Random random = new Random(42); // payload bytes only; nothing here depends on chance

    private NodeContext context(final Path dir)
    {
        return new NodeContext()
            .dataDirectory(dir)
            .rules(new BusinessRules().maxSessions(100_000).expectedSessions(1024).maxDestinations(16))
            .journalSegmentLength(SEGMENT)
            .journalWriteBufferBytes(WRITE_BUFFER)
            .ringSize(1024)
            .timeTickMs(1_000_000) // one SetTime at first start, then none: the state stays still to be compared
            .lifecycleListener(steps::add);
    }

    /** Saves {@code count} sessions with payloads of {@code payloadLength} random (or zero) bytes, all applied. */
    private void save(final StandaloneNode node, final long fromId, final int count, final int payloadLength,
        final boolean zeroPayload) throws InterruptedException
    {
        final InProcessClient client = node.newClient(TENANT, (index, correlationId, templateId, code, value) ->
        {
            if (code == ResultCode.OK)
            {
                lastAcknowledged.accumulateAndGet(index, Math::max);
            }
        });
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[payloadLength]);
        for (long id = fromId; id < fromId + count; id++)
        {
            if (!zeroPayload)
            {
                random.nextBytes(payload.byteArray());
            }
            ResultCode code;
            while ((code = client.save(id, 1, policy, payload, 0, payloadLength)) == ResultCode.BACK_PRESSURE)
            {
                Thread.onSpinWait();
            }
            assertEquals(ResultCode.OK, code);
        }
        assertTrue(node.awaitApplied(30_000));
    }

    private StandaloneNode startAndSave(final NodeContext context, final int count, final int payloadLength,
        final boolean zeroPayload) throws Exception
    {
        final StandaloneNode node = StandaloneNode.start(context);
        // A fresh node's time process proposes one SetTime: let it come first, so the last record is a save.
        waitFor(() -> node.appliedIndex() >= 1);
        save(node, 1, count, payloadLength, zeroPayload);
        return node;
    }

    private static void assertSessions(final BusinessLogic logic, final long fromId, final int count)
    {
        for (long id = fromId; id < fromId + count; id++)
        {
            assertTrue(logic.sessions().find(TENANT, id) != SessionTable.NULL, "session " + id + " is missing");
        }
    }

    // ---------------------------------------------------------------------------------------------- journal

    /**
     * A torn last record. A record can only be torn when the crash came before its sync completed, and then it
     * was never acknowledged; so the record torn here is one appended after the node's last acknowledgement,
     * through the journal directly, exactly as the node would have appended it, then a sector inside it zeroed
     * as if it never reached the disk.
     */
    @Test
    void shouldTruncateATornLastRecordThatWasNeverAcknowledgedAndSaySo(@TempDir final Path dir) throws Exception
    {
        final long digest;
        try (StandaloneNode node = startAndSave(context(dir), 200, 1500, false))
        {
            node.close();
            digest = node.logic().digest();
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex());
        }
        final long acknowledged = lastAcknowledged.get();

        final Disk disk = new FileChannelDisk();
        try (Journal journal = Journal.open(disk, dir.resolve("journal"), SEGMENT, WRITE_BUFFER, 1))
        {
            assertEquals(acknowledged, journal.lastIndex());
            final ExpandableArrayBuffer operator = new ExpandableArrayBuffer(4096);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[1500]);
            random.nextBytes(payload.byteArray());
            final int length = new OperatorEncoder().saveSession(operator, 0, 99, 1, TENANT, 999_999, 1, policy,
                payload, 0, payload.capacity());
            journal.append(acknowledged + 1, journal.lastTerm(), 0, operator, 0, length);
            journal.commit();
        }
        final Record torn = records(dir).get(records(dir).size() - 1);
        assertEquals(acknowledged + 1, torn.index);
        final long sector = (torn.offset + JournalFormat.RECORD_OVERHEAD + 511) / 512 * 512;
        assertTrue(sector + 512 <= torn.offset + torn.frameLength(), "a whole sector inside the record");
        write(torn.file, sector, new byte[512]);

        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            final String opened = steps.stream().filter((s) -> s.startsWith("journal-opened")).findFirst().orElseThrow();
            assertTrue(opened.contains("truncated torn tail: " + torn.file + " at offset " + torn.offset), opened);
            assertEquals(acknowledged, node.logic().appliedIndex(), "everything acknowledged, nothing more");
            assertEquals(digest, node.logic().digest());
            assertSessions(node.logic(), 1, 200);
            assertEquals(SessionTable.NULL, node.logic().sessions().find(TENANT, 999_999));
            save(node, 201, 10, 1500, false); // goes where the torn record was
        }
        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertTrue(steps.stream().noneMatch((s) -> s.contains("truncated")), steps.toString());
            assertEquals(acknowledged + 10, node.logic().appliedIndex());
            assertSessions(node.logic(), 1, 210);
        }
    }

    /** The last record was acknowledged: a checksum failure in it is corruption, never a tail to cut. */
    @Test
    void shouldRefuseToStartOnABitFlipInTheLastRecordAndNameFileAndOffset(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir), 200, 1500, false))
        {
            node.close();
        }
        final Record last = records(dir).get(records(dir).size() - 1);
        assertEquals(lastAcknowledged.get(), last.index, "the last record was acknowledged");
        final long at = last.offset + JournalFormat.RECORD_OVERHEAD + last.operatorLength / 2;
        flipBit(last.file, at);

        steps.clear();
        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains(last.file.toString()) && ex.getMessage().contains("offset " + last.offset),
            ex.getMessage());
        assertFalse(steps.contains("started"), steps.toString());

        flipBit(last.file, at);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex(), "the refused start changed nothing");
            assertSessions(node.logic(), 1, 200);
        }
    }

    @Test
    void shouldRefuseToStartOnABitFlipInAnOldRecordAndNameFileAndOffset(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir), 3000, 1500, false))
        {
            node.close();
        }
        final List<Record> records = records(dir);
        assertTrue(Journal.listSegments(new FileChannelDisk(), dir.resolve("journal")).size() >= 2);
        final Record old = records.get(records.size() / 2);
        flipBit(old.file, old.offset + JournalFormat.RECORD_OVERHEAD + 10);

        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains(old.file.toString()) && ex.getMessage().contains("offset " + old.offset),
            ex.getMessage());

        flipBit(old.file, old.offset + JournalFormat.RECORD_OVERHEAD + 10);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex());
            assertSessions(node.logic(), 1, 3000);
        }
    }

    /**
     * Regression: a record whose payload holds an all-zero sector, hit by a bit flip in the last segment, was
     * taken for a torn write and the node started after zeroing every committed record that followed it.
     */
    @Test
    void shouldRefuseToStartOnABitFlipInAnOldRecordWithZeroPayload(@TempDir final Path dir) throws Exception
    {
        final Record old = savedRecordWithMoreThanABatchAfterIt(dir, true);
        flipBit(old.file, old.offset + JournalFormat.RECORD_OVERHEAD + 1000);

        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains(old.file.toString()) && ex.getMessage().contains("offset " + old.offset),
            ex.getMessage());

        flipBit(old.file, old.offset + JournalFormat.RECORD_OVERHEAD + 1000);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex(), "nothing after it was zeroed");
            assertSessions(node.logic(), 1, 800);
        }
    }

    /**
     * A synced record in the last segment lost its frame length (reads 0, as if its first sector never reached the
     * disk). The scan ends there; records more than one write batch after it show the end is damage, not where the
     * writer stopped, and the node refuses to start instead of zeroing every committed record after it.
     */
    @Test
    void shouldRefuseToStartWhenASyncedRecordInTheLastSegmentLostItsFrameLength(@TempDir final Path dir)
        throws Exception
    {
        final Record old = savedRecordWithMoreThanABatchAfterIt(dir, false);
        final byte[] frameLength = read(old.file, old.offset, Integer.BYTES);
        write(old.file, old.offset, new byte[Integer.BYTES]);

        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains(old.file + " at offset " + old.offset + ": the journal ends") &&
            ex.getMessage().contains("not a torn write"), ex.getMessage());

        write(old.file, old.offset, frameLength);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex(), "nothing after it was zeroed");
            assertSessions(node.logic(), 1, 800);
        }
    }

    /**
     * Saves 800 sessions (with all-zero payloads if asked) in one segment and stops the node: returns the 101st
     * record, which has more than one write batch of synced records after it in that last segment.
     */
    private Record savedRecordWithMoreThanABatchAfterIt(final Path dir, final boolean zeroPayloads) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir), 800, 2000, zeroPayloads))
        {
            node.close();
        }
        final List<Record> records = records(dir);
        final Record old = records.get(100);
        final Record last = records.get(records.size() - 1);
        assertEquals(old.file, last.file, "the record is in the last segment");
        assertTrue(last.offset - old.offset > WRITE_BUFFER, "more than one write batch of records follows it");
        return old;
    }

    @Test
    void shouldRefuseToStartWhenAMiddleSegmentIsMissingAndSayWhichIndex(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir), 5000, 1500, false))
        {
            node.close();
        }
        final List<Long> segments = Journal.listSegments(new FileChannelDisk(), dir.resolve("journal"));
        assertTrue(segments.size() >= 3, segments.toString());
        final Path missing = dir.resolve("journal").resolve(JournalFormat.segmentName(segments.get(1)));
        final byte[] kept = Files.readAllBytes(missing);
        Files.delete(missing);

        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains("expected index " + segments.get(1)) &&
            ex.getMessage().contains(JournalFormat.segmentName(segments.get(2))), ex.getMessage());

        Files.write(missing, kept);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex());
            assertSessions(node.logic(), 1, 5000);
        }
    }

    /**
     * The segment that holds the first entry after the snapshot the node restores from is gone. Whether it was a
     * middle segment or the last one, the node sees that entries it needs are missing and says which.
     */
    @Test
    void shouldRefuseToStartWhenTheSegmentAfterTheSnapshotIsMissing(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir).snapshotEveryOperators(1500), 5000, 1500, false))
        {
            awaitSnapshots(node, 1500);
            node.close();
        }
        final SnapshotInfo newest = newest(dir);
        final List<Long> segments = Journal.listSegments(new FileChannelDisk(), dir.resolve("journal"));
        long holding = -1;
        for (final long first : segments)
        {
            if (first <= newest.index() + 1)
            {
                holding = first;
            }
        }
        assertTrue(holding > 0 && segments.indexOf(holding) > 0, "segments " + segments + ", snapshot " + newest);
        final Path missing = dir.resolve("journal").resolve(JournalFormat.segmentName(holding));
        final byte[] kept = Files.readAllBytes(missing);
        Files.delete(missing);

        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        final boolean last = holding == segments.get(segments.size() - 1);
        final String says = last ? "journal ends at index " + (holding - 1) + " but entries up to " + newest.index() +
            " were applied before" : "expected index " + holding;
        assertTrue(ex.getMessage().contains(says), ex.getMessage());

        Files.write(missing, kept);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex());
            assertSessions(node.logic(), 1, 5000);
        }
    }

    /**
     * Regression: records that a killed process wrote but never synced read as valid at restart; the journal
     * called them durable without syncing them, so the node applied them, its snapshot agent snapshotted them,
     * and its graceful close said "flushed-and-synced" while they were still only in the page cache. A power
     * failure then left a snapshot ahead of the journal, and the node refused to start for good.
     */
    @Test
    void shouldMakeRecordsAKilledProcessLeftUnsyncedDurableBeforeUsingThem() throws Exception
    {
        final SimulatedDisk disk = new SimulatedDisk(11);
        final Path dir = Path.of("/sim/node");
        try (StandaloneNode node = startAndSave(context(dir).disk(disk), 100, 200, false))
        {
            node.close();
        }
        // A process that journaled 50 more operators and was killed before their sync completed.
        final long synced;
        final long written;
        final Journal killed = Journal.open(disk, dir.resolve("journal"), SEGMENT, WRITE_BUFFER, 1);
        final ExpandableArrayBuffer operator = new ExpandableArrayBuffer(1024);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
        final OperatorEncoder encoder = new OperatorEncoder();
        synced = killed.lastIndex();
        for (long id = 1000; id < 1050; id++)
        {
            random.nextBytes(payload.byteArray());
            final int length = encoder.saveSession(operator, 0, 99, id, TENANT, id, 1, policy, payload, 0, 200);
            killed.append(killed.lastIndex() + 1, killed.lastTerm(), 0, operator, 0, length);
        }
        written = killed.lastIndex();
        disk.interruptNextSync();
        assertThrows(IOException.class, killed::commit);

        final long digest;
        final long applied;
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk).snapshotEveryOperators(25)))
        {
            assertEquals(written, node.logic().appliedIndex(), "the restart found what the killed process wrote");
            // More than 25 operators since the last snapshot: the agent snapshots, past the records never synced.
            waitFor(() -> node.snapshotAgent().lastSnapshotIndex() >= written);
            node.close();
            digest = node.logic().digest();
            applied = node.logic().appliedIndex();
        }
        disk.crash(); // power fails after the graceful close

        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir).disk(disk)))
        {
            assertEquals(applied, node.logic().appliedIndex());
            assertEquals(digest, node.logic().digest());
            assertSessions(node.logic(), 1000, 50);
        }
    }

    // ---------------------------------------------------------------------------------------------- snapshots

    @Test
    void shouldFallBackToNoSnapshotWhenEveryOneIsCorruptAndTheJournalStillStartsAtOne(@TempDir final Path dir)
        throws Exception
    {
        final long digest;
        try (StandaloneNode node = startAndSave(context(dir), 500, 100, false))
        {
            Snapshots.takeNow(node);
            save(node, 501, 500, 100, false);
            Snapshots.takeNow(node);
            node.close();
            digest = node.logic().digest();
        }
        final List<SnapshotInfo> snapshots = snapshots(dir);
        assertEquals(2, snapshots.size());
        assertEquals(List.of(1L), Journal.listSegments(new FileChannelDisk(), dir.resolve("journal")));
        for (final SnapshotInfo info : snapshots)
        {
            flipBit(dir.resolve("snapshots").resolve(info.fileName()), 200);
        }

        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            for (final SnapshotInfo info : snapshots)
            {
                assertTrue(steps.stream().anyMatch((s) -> s.startsWith("snapshot-rejected " + info.fileName()) &&
                    s.contains("checksum")), steps.toString());
            }
            assertTrue(steps.contains("snapshot-none"), steps.toString());
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex());
            assertEquals(digest, node.logic().digest());
        }
    }

    @Test
    void shouldRefuseToStartWhenEverySnapshotIsCorruptAndTheJournalWasRotated(@TempDir final Path dir)
        throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir).snapshotEveryOperators(1000), 6000, 1500, false))
        {
            // Two snapshots after the first segment, whenever the operator-count trigger fired (at batch boundaries,
            // so it may have fired only twice, the first time inside the first segment).
            Snapshots.takeNow(node);
            save(node, 6001, 200, 100, false);
            Snapshots.takeNow(node);
            node.close();
        }
        final List<SnapshotInfo> snapshots = snapshots(dir);
        final List<Long> segments = Journal.listSegments(new FileChannelDisk(), dir.resolve("journal"));
        assertTrue(segments.get(0) > 1, "rotated: " + segments + " snapshots " + snapshots);
        for (final SnapshotInfo info : snapshots)
        {
            flipBit(dir.resolve("snapshots").resolve(info.fileName()), 200);
        }

        steps.clear();
        final JournalCorruptException ex =
            assertThrows(JournalCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains("entries from 1 are needed but the first segment starts at " +
            segments.get(0)), ex.getMessage());
        for (final SnapshotInfo info : snapshots)
        {
            assertTrue(steps.stream().anyMatch((s) -> s.startsWith("snapshot-rejected " + info.fileName())),
                steps.toString());
        }

        flipBit(dir.resolve("snapshots").resolve(snapshots.get(0).fileName()), 200);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex(), "restored from the repaired older one");
            assertSessions(node.logic(), 1, 6000);
        }
    }

    /** After falling back from a corrupt newest snapshot the node goes on, snapshotting and rotating soundly. */
    @Test
    void shouldKeepWorkingAfterFallingBackFromACorruptNewestSnapshot(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir).snapshotEveryOperators(1000), 3500, 1500, false))
        {
            awaitSnapshots(node, 1000);
            node.close();
        }
        final List<SnapshotInfo> before = snapshots(dir);
        flipBit(dir.resolve("snapshots").resolve(before.get(before.size() - 1).fileName()), 200);

        final long digest;
        try (StandaloneNode node = StandaloneNode.start(context(dir).snapshotEveryOperators(1000)))
        {
            save(node, 10_000, 3000, 1500, false);
            awaitSnapshots(node, 1000);
            node.close();
            digest = node.logic().digest();
        }
        final List<SnapshotInfo> after = snapshots(dir);
        assertEquals(2, after.size(), "two snapshots retained: " + after);
        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertTrue(steps.stream().noneMatch((s) -> s.startsWith("snapshot-rejected")), steps.toString());
            assertEquals(digest, node.logic().digest());
            assertSessions(node.logic(), 1, 3500);
            assertSessions(node.logic(), 10_000, 3000);
        }
    }

    /** A catalog entry cut short by a crash while it was appended: its snapshot never counted. */
    @Test
    void shouldCutATornLastCatalogEntryAndDeleteItsSnapshot(@TempDir final Path dir) throws Exception
    {
        final long digest;
        try (StandaloneNode node = startAndSave(context(dir), 350, 100, false))
        {
            Snapshots.takeNow(node);
            save(node, 351, 350, 100, false);
            Snapshots.takeNow(node);
            node.close();
            digest = node.logic().digest();
        }
        final List<SnapshotInfo> snapshots = snapshots(dir);
        assertEquals(2, snapshots.size(), "two snapshots and no retention yet: the last entry adds one");
        final Path catalog = dir.resolve("snapshots").resolve(SnapshotCatalog.FILE_NAME);
        final long length = Files.size(catalog);
        final long entry = length / 2; // two entries of the same size
        try (FileChannel channel = FileChannel.open(catalog, StandardOpenOption.WRITE))
        {
            channel.truncate(length - 10);
        }

        steps.clear();
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertTrue(steps.contains("catalog-read snapshots=1 truncated torn catalog entry at offset " + entry),
                steps.toString());
            assertTrue(steps.contains("orphan-deleted " + snapshots.get(1).fileName()), steps.toString());
            assertTrue(steps.contains("snapshot-restored " + snapshots.get(0).fileName() + " index=" +
                snapshots.get(0).index()), steps.toString());
            assertEquals(digest, node.logic().digest());
        }
    }

    @Test
    void shouldRefuseToStartOnACorruptCatalogEntryAndNameFileAndOffset(@TempDir final Path dir) throws Exception
    {
        try (StandaloneNode node = startAndSave(context(dir).snapshotEveryOperators(300), 700, 100, false))
        {
            awaitSnapshots(node, 300);
            node.close();
        }
        final Path catalog = dir.resolve("snapshots").resolve(SnapshotCatalog.FILE_NAME);
        flipBit(catalog, 30);

        final SnapshotCorruptException ex =
            assertThrows(SnapshotCorruptException.class, () -> StandaloneNode.start(context(dir)));
        assertTrue(ex.getMessage().contains(catalog + " at offset 0") && ex.getMessage().contains("checksum"),
            ex.getMessage());

        flipBit(catalog, 30);
        try (StandaloneNode node = StandaloneNode.start(context(dir)))
        {
            assertEquals(lastAcknowledged.get(), node.logic().appliedIndex());
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private record Record(Path file, long offset, long index, int operatorLength)
    {
        long frameLength()
        {
            return JournalFormat.RECORD_OVERHEAD + operatorLength;
        }
    }

    private static List<Record> records(final Path dir) throws IOException
    {
        final List<Record> records = new ArrayList<>();
        try (JournalReader reader = new JournalReader(new FileChannelDisk(), dir.resolve("journal")))
        {
            while (reader.next() == JournalReader.Status.RECORD)
            {
                records.add(new Record(reader.file(), reader.recordOffset(), reader.index(), reader.operatorLength()));
            }
        }
        return records;
    }

    private static List<SnapshotInfo> snapshots(final Path dir) throws IOException
    {
        try (SnapshotCatalog catalog = SnapshotCatalog.open(new FileChannelDisk(), dir.resolve("snapshots")))
        {
            return new ArrayList<>(catalog.snapshots());
        }
    }

    private static SnapshotInfo newest(final Path dir) throws IOException
    {
        final List<SnapshotInfo> snapshots = snapshots(dir);
        return snapshots.get(snapshots.size() - 1);
    }

    /** Waits until no snapshot is due by operator count: the agent has snapshotted what it will. */
    private static void awaitSnapshots(final StandaloneNode node, final long everyOperators)
        throws InterruptedException
    {
        waitFor(() -> node.snapshotAgent().lastSnapshotIndex() > node.appliedIndex() - everyOperators);
    }

    private static void flipBit(final Path file, final long offset) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte)(one.get(0) ^ 0x08)).clear();
            channel.write(one, offset);
        }
    }

    private static byte[] read(final Path file, final long offset, final int length) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final ByteBuffer bytes = ByteBuffer.allocate(length);
            channel.read(bytes, offset);
            return bytes.array();
        }
    }

    private static void write(final Path file, final long offset, final byte[] bytes) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    private static void waitFor(final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.currentTimeMillis() < deadline, "timed out");
            Thread.sleep(1);
        }
    }
}
