package io.reprise.engine.cluster;

import static io.reprise.engine.cluster.InstallHarness.STAGING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.engine.testing.TestSeeds;
import io.reprise.schema.cluster.InstallSnapshotDecoder;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import org.junit.jupiter.api.Test;

/**
 * A full install end to end: {@link InstallSender} on the leader, {@link InstallReceiver} on a follower, each on a
 * {@link io.reprise.engine.disk.SimulatedDisk}, over a lossy, duplicating, reordering link; crashes and restarts on
 * either side.
 */
class InstallTransferTest
{
    private static final int FOLLOWER = 1;
    private static final long SNAPSHOT_INDEX = 100;
    private static final long SNAPSHOT_TERM = 3;
    private static final int SMALL_CHUNK = 256;
    /** Small chunks, so that a few kilobytes make many; a resend after 20 steps of silence. */
    private static final InstallSender.Settings SMALL =
        new InstallSender.Settings(SMALL_CHUNK, 8, 4 * SMALL_CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES,
            20 * InstallHarness.STEP_NS);

    @Test
    void shouldDeliverFilesOfEveryShapeByteForByte() throws IOException
    {
        final InstallSender.Settings settings = InstallSender.Settings.defaults();
        final InstallHarness harness = new InstallHarness(1, settings, LossyNetwork.perfect(2), 1);
        final int chunk = settings.chunkBytes();
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(1), 0, 1, chunk, 5 * chunk + 123);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);

        assertTrue(harness.runUntilComplete(1_000));

        harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, "clean");
        assertEquals(SNAPSHOT_TERM, harness.receivers[FOLLOWER].snapshotTerm());
        // Nothing lost, nothing sent twice: every byte once, one chunk for the empty file.
        assertEquals(InstallHarness.totalBytes(harness.leaderDisk, files), harness.chunkPayloadBytes);
        assertEquals(1 + 1 + 1 + 6, harness.chunkMessages);
        assertEquals(0, harness.receivers[FOLLOWER].refusedChunks());
    }

    @Test
    void shouldCompleteByteForByteOverALossyDuplicatingReorderingLink() throws IOException
    {
        final long base =
            TestSeeds.seed("InstallTransferTest#shouldCompleteByteForByteOverALossyDuplicatingReorderingLink");
        for (int run = 0; run < 200; run++)
        {
            final long seed = base + run;
            final String where = "seed " + seed + " (run it first with -D" + TestSeeds.PROP_NAME + "=" + seed + ")";
            final SplittableRandom random = new SplittableRandom(seed);
            final InstallHarness harness = new InstallHarness(1, SMALL, new LossyNetwork(2, seed, 10, 10, 10), seed);
            final List<Path> files = harness.writeFiles("f", random, randomSizes(random));
            harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);

            for (int step = 0; step < 20_000 && !harness.allComplete(); step++)
            {
                harness.step();
                assertTrue(harness.sender.unacknowledgedChunks(FOLLOWER) <= SMALL.windowChunks(), where);
            }

            assertTrue(harness.allComplete(), where + ": not complete");
            harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, where);
        }
    }

    @Test
    void shouldRefuseACorruptedChunkAndHaveItSentAgain() throws IOException
    {
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), 2);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(2), 10 * SMALL_CHUNK);
        final int[] chunks = {0};
        harness.network.filter = (from, to, message) ->
        {
            if (to == FOLLOWER && ++chunks[0] == 3)
            {
                // The last byte of a message is its chunk's: one bit flips on the way.
                final int last = message.capacity() - 1;
                message.putByte(last, (byte)(message.getByte(last) ^ 0x10));
            }
            return true;
        };
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);

        assertTrue(harness.runUntilComplete(1_000));

        harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, "corrupted chunk");
        assertEquals(1, harness.receivers[FOLLOWER].refusedChunks());
        assertTrue(harness.chunkMessages > 10, "the refused chunk and those after it went again: " +
            harness.chunkMessages);
    }

    @Test
    void shouldRefuseAFileWhoseWholeChecksumFailsAndHaveItSentAgain() throws IOException
    {
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), 3);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(3), 100, 40 * SMALL_CHUNK);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
        final Path staged = STAGING.resolve(files.get(1).getFileName());
        while (stagedLength(harness, staged) < 8 * SMALL_CHUNK)
        {
            harness.step();
        }
        // The media loses a bit of what the follower synced: every chunk checked on arrival, yet the file does not.
        harness.followerDisks[FOLLOWER].corruptSector(staged, 0);

        assertTrue(harness.runUntilComplete(2_000));

        harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, "corrupt sector");
        assertEquals(1, harness.receivers[FOLLOWER].refusedFiles());
        final long total = InstallHarness.totalBytes(harness.leaderDisk, files);
        assertTrue(harness.chunkPayloadBytes >= total + 40 * SMALL_CHUNK, "the file went twice: " +
            harness.chunkPayloadBytes);
    }

    @Test
    void shouldResumeAfterTheReceiverCrashesMidTransfer() throws IOException
    {
        final long seed = TestSeeds.seed("InstallTransferTest#shouldResumeAfterTheReceiverCrashesMidTransfer");
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), seed);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(seed), 3 * SMALL_CHUNK, 100,
            30 * SMALL_CHUNK + 7, 0, 20 * SMALL_CHUNK);
        final long total = InstallHarness.totalBytes(harness.leaderDisk, files);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
        while (harness.chunkPayloadBytes < total / 2)
        {
            harness.step();
        }
        // Power fails while chunks are written and not yet synced.
        harness.sender.doWork(harness.nowNs);
        harness.deliverChunks(FOLLOWER);
        harness.crashAndRestartReceiver(FOLLOWER);
        final long sentBeforeCrash = harness.chunkPayloadBytes;

        assertTrue(harness.runUntilComplete(2_000), "seed " + seed);

        harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, "seed " + seed);
        final long sentAfterCrash = harness.chunkPayloadBytes - sentBeforeCrash;
        assertTrue(sentAfterCrash < total, "seed " + seed + ": " + sentAfterCrash + " bytes sent after the crash, " +
            "no fewer than a fresh start's " + total);
        // It resumes from what the follower had synced: about the half not yet sent, and the chunks the crash lost.
        assertTrue(sentAfterCrash <= total - total / 2 + SMALL.windowChunks() * SMALL_CHUNK,
            "seed " + seed + ": " + sentAfterCrash + " bytes sent after the crash, of " + total);
    }

    @Test
    void shouldResumeAfterTheSenderRestartsWithANewTransfer() throws IOException
    {
        final long seed = TestSeeds.seed("InstallTransferTest#shouldResumeAfterTheSenderRestartsWithANewTransfer");
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), seed);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(seed), 25 * SMALL_CHUNK, 1,
            25 * SMALL_CHUNK + 3);
        final long total = InstallHarness.totalBytes(harness.leaderDisk, files);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
        while (harness.chunkPayloadBytes < total / 2)
        {
            harness.step();
        }

        harness.restartSender();
        harness.sender.start(FOLLOWER, 2, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
        final long sentBeforeRestart = harness.chunkPayloadBytes;
        assertTrue(harness.runUntilComplete(2_000), "seed " + seed);

        harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, "seed " + seed);
        final long sentAfterRestart = harness.chunkPayloadBytes - sentBeforeRestart;
        assertTrue(sentAfterRestart < total, "seed " + seed + ": " + sentAfterRestart + " bytes sent after the " +
            "restart, no fewer than a fresh start's " + total);
        // The new transfer's first window goes from the start, before the follower's answer moves it on.
        assertTrue(sentAfterRestart <= total - total / 2 + 2 * SMALL.windowChunks() * SMALL_CHUNK,
            "seed " + seed + ": " + sentAfterRestart + " bytes sent after the restart, of " + total);
    }

    @Test
    void shouldClearTheStagingDirectoryAndStartOverForADifferentSnapshot() throws IOException
    {
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), 4);
        final SplittableRandom random = new SplittableRandom(4);
        final List<Path> older = harness.writeFiles("old", random, 20 * SMALL_CHUNK, 20 * SMALL_CHUNK);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, older);
        for (int i = 0; i < 10; i++)
        {
            harness.step();
        }
        assertEquals(SNAPSHOT_INDEX, harness.receivers[FOLLOWER].snapshotIndex());

        final List<Path> newer = harness.writeFiles("new", random, 5 * SMALL_CHUNK, 0, 3);
        harness.sender.start(FOLLOWER, 2, 2 * SNAPSHOT_INDEX, SNAPSHOT_TERM + 1, newer);
        assertTrue(harness.runUntilComplete(1_000));

        // Only the new install is staged: the older one's files are gone.
        harness.assertInstalled(FOLLOWER, newer, 2 * SNAPSHOT_INDEX, "different snapshot");
        assertEquals(SNAPSHOT_TERM + 1, harness.receivers[FOLLOWER].snapshotTerm());
    }

    @Test
    void shouldNotResumeAnInstallOfTheSameSnapshotThatNamesOtherFiles() throws IOException
    {
        // Two leaders each hold a snapshot of the same index and term; their manifests list different sources.
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), 7);
        final SplittableRandom random = new SplittableRandom(7);
        final Path snapshot = harness.writeFiles("snapshot", random, 3 * SMALL_CHUNK).get(0);
        final Path manifestA = harness.writeFiles("manifest", random, 2 * SMALL_CHUNK).get(0);
        final Path sourceA = harness.writeFiles("source-a", random, 30 * SMALL_CHUNK).get(0);
        final List<Path> first = List.of(snapshot, manifestA, sourceA);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, first);
        while (harness.receivers[FOLLOWER].files().size() < 2)
        {
            harness.step();
        }

        // The other leader's manifest has the same name and length, other bytes.
        final Path manifestB = harness.writeFiles("manifest", random, 2 * SMALL_CHUNK).get(0);
        final Path sourceB = harness.writeFiles("source-b", random, 30 * SMALL_CHUNK).get(0);
        final List<Path> second = List.of(snapshot, manifestB, sourceB);
        harness.restartSender();
        harness.term++;
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, second);
        assertTrue(harness.runUntilComplete(1_000));

        harness.assertInstalled(FOLLOWER, second, SNAPSHOT_INDEX, "same snapshot, other files");
    }

    @Test
    void shouldIgnoreChunksOfAnOlderTransferThanTheNewestSeen() throws IOException
    {
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), 5);
        final SplittableRandom random = new SplittableRandom(5);
        final List<Path> older = harness.writeFiles("old", random, 20 * SMALL_CHUNK);
        final List<Path> newer = harness.writeFiles("new", random, 20 * SMALL_CHUNK);
        harness.sender.start(FOLLOWER, 2, 2 * SNAPSHOT_INDEX, SNAPSHOT_TERM, newer);
        harness.step();
        // Chunks of an older transfer arrive late, as a leader's delayed messages would.
        final LossyNetwork staleNetwork = LossyNetwork.perfect(2);
        final InstallSender delayed = new InstallSender(InstallHarness.LEADER, 2, SMALL, harness.leaderDisk,
            staleNetwork.link(InstallHarness.LEADER), () -> 1);
        delayed.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, older);
        delayed.doWork(harness.nowNs);
        final InstallSnapshotDecoder chunk = new InstallSnapshotDecoder();
        final MessageHeaderDecoder header = new MessageHeaderDecoder();
        staleNetwork.link(FOLLOWER).poll((buffer, offset, length) ->
        {
            header.wrap(buffer, offset);
            chunk.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(), header.version());
            try
            {
                harness.receivers[FOLLOWER].onChunk(chunk);
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        }, 100);

        assertEquals(2 * SNAPSHOT_INDEX, harness.receivers[FOLLOWER].snapshotIndex());
        assertTrue(harness.runUntilComplete(1_000));
        harness.assertInstalled(FOLLOWER, newer, 2 * SNAPSHOT_INDEX, "older transfer");
    }

    @Test
    void shouldNotAcknowledgeWhatAFailedSyncMayHaveLost() throws IOException
    {
        final InstallHarness harness = new InstallHarness(1, SMALL, LossyNetwork.perfect(2), 6);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(6), 40 * SMALL_CHUNK);
        harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
        for (int i = 0; i < 5; i++)
        {
            harness.step();
        }

        // The sync fails: as on Linux, the data it covered stays readable but is no longer on its way to the disk.
        harness.followerDisks[FOLLOWER].failSyncs(1);
        assertThrows(IOException.class, harness::step);
        for (int i = 0; i < 3; i++)
        {
            harness.step();
        }
        // Had the receiver acknowledged the lost bytes, the leader would never send them again after this crash.
        harness.crashAndRestartReceiver(FOLLOWER);

        assertTrue(harness.runUntilComplete(2_000));
        harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, "failed sync");
        // The bytes the failed sync covered were written again, not found missing by the whole file's checksum.
        assertEquals(0, harness.receivers[FOLLOWER].refusedFiles());
    }

    @Test
    void shouldCompleteThroughRandomCrashesOfTheReceiverAndRestartsOfTheSender() throws IOException
    {
        final long base = TestSeeds.seed(
            "InstallTransferTest#shouldCompleteThroughRandomCrashesOfTheReceiverAndRestartsOfTheSender");
        for (int run = 0; run < 50; run++)
        {
            final long seed = base + run;
            final String where = "seed " + seed + " (run it first with -D" + TestSeeds.PROP_NAME + "=" + seed + ")";
            final SplittableRandom random = new SplittableRandom(seed);
            final InstallHarness harness = new InstallHarness(1, SMALL, new LossyNetwork(2, seed, 10, 10, 10), seed);
            final List<Path> files = harness.writeFiles("f", random, randomSizes(random));
            long transferId = 1;
            harness.sender.start(FOLLOWER, transferId, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
            int crashes = 0;
            for (int step = 0; step < 50_000 && !harness.allComplete(); step++)
            {
                final int dice = random.nextInt(1000);
                if (dice < 5 && crashes < 10)
                {
                    // Chunks written and not synced when the power fails.
                    harness.sender.doWork(harness.nowNs);
                    harness.deliverChunks(FOLLOWER);
                    harness.crashAndRestartReceiver(FOLLOWER);
                    crashes++;
                }
                else if (dice < 8 && crashes < 10)
                {
                    harness.restartSender();
                    harness.sender.start(FOLLOWER, ++transferId, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
                    crashes++;
                }
                harness.step();
            }

            assertTrue(harness.allComplete(), where + ": not complete after " + crashes + " crashes and restarts");
            harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, where);
        }
    }

    @Test
    void shouldCompleteWhileTheFollowersDiskFailsSyncsMisdirectsWritesAndCorruptsSectors() throws IOException
    {
        final long base = TestSeeds.seed(
            "InstallTransferTest#shouldCompleteWhileTheFollowersDiskFailsSyncsMisdirectsWritesAndCorruptsSectors");
        final SimulatedDisk.Faults faults =
            SimulatedDisk.Faults.none().syncFailurePpm(20_000).misdirectedWritePpm(5_000).corruptReadPpm(500);
        long diskErrors = 0;
        for (int run = 0; run < 100; run++)
        {
            final long seed = base + run;
            final String where = "seed " + seed + " (run it first with -D" + TestSeeds.PROP_NAME + "=" + seed + ")";
            final SplittableRandom random = new SplittableRandom(seed);
            final InstallHarness harness = new InstallHarness(1, SMALL, new LossyNetwork(2, seed, 10, 10, 10), seed);
            harness.followerDisks[FOLLOWER].faults(faults);
            final List<Path> files = harness.writeFiles("f", random, randomSizes(random));
            harness.sender.start(FOLLOWER, 1, SNAPSHOT_INDEX, SNAPSHOT_TERM, files);
            for (int step = 0; step < 50_000 && !harness.allComplete(); step++)
            {
                // A host meets a disk error and goes on.
                try
                {
                    if (random.nextInt(1000) < 3)
                    {
                        harness.crashAndRestartReceiver(FOLLOWER);
                    }
                    harness.step();
                }
                catch (final IOException ex)
                {
                    diskErrors++;
                    harness.nowNs += InstallHarness.STEP_NS;
                }
            }

            assertTrue(harness.allComplete(), where + ": not complete");
            harness.followerDisks[FOLLOWER].faults(SimulatedDisk.Faults.none());
            harness.assertInstalled(FOLLOWER, files, SNAPSHOT_INDEX, where);
        }
        assertTrue(diskErrors > 0, "no disk error met");
    }

    /** Three to six files: empty, one byte, one chunk exactly, or up to sixteen chunks. */
    private static int[] randomSizes(final SplittableRandom random)
    {
        final int[] sizes = new int[3 + random.nextInt(4)];
        for (int i = 0; i < sizes.length; i++)
        {
            switch (random.nextInt(4))
            {
                case 0 -> sizes[i] = random.nextInt(2);
                case 1 -> sizes[i] = SMALL_CHUNK;
                default -> sizes[i] = random.nextInt(16 * SMALL_CHUNK);
            }
        }
        return sizes;
    }

    private static long stagedLength(final InstallHarness harness, final Path staged) throws IOException
    {
        final SimulatedDisk disk = harness.followerDisks[FOLLOWER];
        return disk.exists(staged) ? InstallHarness.read(disk, staged).length : 0;
    }
}
