package io.reprise.engine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.schema.cluster.Flag;
import io.reprise.schema.cluster.InstallAckDecoder;
import io.reprise.schema.cluster.InstallAckEncoder;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import io.reprise.schema.cluster.MessageHeaderEncoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** {@link InstallSender}'s limits: the window per follower, the byte budget per duty cycle, which acks count. */
class InstallSenderTest
{
    private static final int CHUNK = 1024;

    @Test
    void shouldKeepAtMostAWindowOfChunksUnacknowledged() throws IOException
    {
        final InstallSender.Settings settings = new InstallSender.Settings(CHUNK, 4,
            16 * (CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES), 1_000 * InstallHarness.STEP_NS);
        final InstallHarness harness = new InstallHarness(1, settings, LossyNetwork.perfect(2), 1);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(1), 40 * CHUNK);
        harness.sender.start(1, 1, 10, 1, files);

        // The follower takes and acknowledges every chunk; its acknowledgements wait on the way back.
        for (int i = 0; i < 50; i++)
        {
            harness.sender.doWork(harness.nowNs);
            harness.deliverChunks(1);
            harness.receivers[1].doWork();
            harness.nowNs += InstallHarness.STEP_NS;
            assertEquals(4, harness.sender.unacknowledgedChunks(1));
        }
        // The budget had room for 16 a cycle: the window alone held them back.
        assertEquals(4, harness.chunkMessages);

        harness.deliverAcks();
        assertEquals(0, harness.sender.unacknowledgedChunks(1));
        harness.sender.doWork(harness.nowNs);
        assertEquals(4 + 4, harness.chunkMessages, "the acknowledgement of four opened the window for four more");
        assertTrue(harness.runUntilComplete(1_000));
        harness.assertInstalled(1, files, 10, "window");
    }

    @Test
    void shouldSendNoMoreThanItsByteBudgetPerDutyCycleAcrossFollowers() throws IOException
    {
        final int budget = 2 * (CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES);
        final InstallSender.Settings settings =
            new InstallSender.Settings(CHUNK, 8, budget, 50 * InstallHarness.STEP_NS);
        final InstallHarness harness = new InstallHarness(3, settings, LossyNetwork.perfect(4), 2);
        final SplittableRandom random = new SplittableRandom(2);
        final List<Path> files = harness.writeFiles("f", random, 30 * CHUNK, 7, 12 * CHUNK + 5);
        for (int follower = 1; follower <= 3; follower++)
        {
            harness.sender.start(follower, 1, 10, 1, files);
        }

        int steps = 0;
        long mostBytes = 0;
        while (!harness.allComplete())
        {
            harness.step();
            assertTrue(harness.stepMessageBytes <= budget, "step " + steps + " sent " + harness.stepMessageBytes +
                " bytes, over the budget of " + budget);
            mostBytes = Math.max(mostBytes, harness.stepMessageBytes);
            assertTrue(++steps < 10_000, "not complete");
        }
        for (int follower = 1; follower <= 3; follower++)
        {
            harness.assertInstalled(follower, files, 10, "budget, follower " + follower);
        }
        // The windows (8 chunks for each of three) allowed far more: the budget is what held each cycle back.
        assertTrue(mostBytes > budget - (CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES), "at most " + mostBytes);
    }

    @Test
    void shouldIgnoreAcknowledgementsOfAnotherTransferOrAnOlderTerm() throws IOException
    {
        final InstallSender.Settings settings = new InstallSender.Settings(CHUNK, 4,
            4 * (CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES), 1_000 * InstallHarness.STEP_NS);
        final InstallHarness harness = new InstallHarness(1, settings, LossyNetwork.perfect(2), 3);
        harness.term = 5;
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(3), 10 * CHUNK);
        harness.sender.start(1, 7, 10, 1, files);
        harness.sender.doWork(0);
        assertEquals(4, harness.sender.unacknowledgedChunks(1));

        harness.sender.onAck(ack(4, 7, 0, 2 * CHUNK));
        assertEquals(4, harness.sender.unacknowledgedChunks(1), "an older term");
        harness.sender.onAck(ack(5, 6, 0, 2 * CHUNK));
        assertEquals(4, harness.sender.unacknowledgedChunks(1), "another transfer");
        harness.sender.onAck(ack(5, 7, 0, 2 * CHUNK));
        assertEquals(2, harness.sender.unacknowledgedChunks(1), "this transfer and term");
        harness.sender.onAck(ack(5, 7, 0, CHUNK));
        assertEquals(2, harness.sender.unacknowledgedChunks(1), "an older acknowledgement, overtaken");
        harness.sender.onAck(ack(5, 7, 0, 3 * CHUNK));
        assertEquals(1, harness.sender.unacknowledgedChunks(1), "a newer one after it still counts");
    }

    @Test
    void shouldGoBackToWhereTheFollowerStandsWhenItLostWhatItHadAcknowledged() throws IOException
    {
        final InstallSender.Settings settings = new InstallSender.Settings(CHUNK, 4,
            4 * (CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES), 10 * InstallHarness.STEP_NS);
        final InstallHarness harness = new InstallHarness(1, settings, LossyNetwork.perfect(2), 4);
        final List<Path> files = harness.writeFiles("f", new SplittableRandom(4), 40 * CHUNK);
        harness.sender.start(1, 1, 10, 1, files);
        for (int i = 0; i < 5; i++)
        {
            harness.step();
        }
        // The follower loses its staging directory whole, progress record and all, and starts from nothing.
        for (final String name : harness.followerDisks[1].list(InstallHarness.STAGING))
        {
            harness.followerDisks[1].delete(InstallHarness.STAGING.resolve(name));
        }
        harness.followerDisks[1].syncDirectory(InstallHarness.STAGING);
        harness.crashAndRestartReceiver(1);
        final long sentBefore = harness.chunkPayloadBytes;

        assertTrue(harness.runUntilComplete(1_000));
        harness.assertInstalled(1, files, 10, "follower lost its staging directory");
        assertTrue(harness.chunkPayloadBytes - sentBefore >= 40 * CHUNK, "the file went again from its start");
    }

    private static InstallAckDecoder ack(final long term, final long transferId, final int file, final long offset)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        new InstallAckEncoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .term(term)
            .transferId(transferId)
            .fileOffset(offset)
            .followerId(1)
            .fileOrdinal(file)
            .complete(Flag.FALSE);
        return new InstallAckDecoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderDecoder());
    }

    /**
     * Steady state: a transfer of many chunks, each acknowledged, allocates nothing in {@code doWork} or
     * {@code onAck}. The files are in memory and the link copies into one buffer, so that only the sender is measured.
     */
    @Test
    void shouldNotAllocatePerChunkInSteadyState() throws IOException
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final InstallSender.Settings settings = new InstallSender.Settings(CHUNK, 1,
            CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES, Long.MAX_VALUE / 4);
        final LastMessageLink link = new LastMessageLink();
        final Disk disk = new ArrayDisk(new byte[2048 * CHUNK]);
        final InstallSender sender = new InstallSender(0, 2, settings, disk, link, () -> 1);
        final UnsafeBuffer ackBuffer = new UnsafeBuffer(new byte[64]);
        final InstallAckEncoder ackEncoder = new InstallAckEncoder();
        final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
        final InstallAckDecoder ackDecoder = new InstallAckDecoder();
        final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();

        long allocated = 0;
        for (int transfer = 1; transfer <= 2; transfer++)
        {
            sender.start(1, transfer, 10, 1, List.of(Path.of("/memory/snapshot")));
            for (long offset = CHUNK; offset <= 2048 * CHUNK; offset += CHUNK)
            {
                final boolean last = offset == 2048 * CHUNK;
                final long before = threads.getCurrentThreadAllocatedBytes();
                final int sent = sender.doWork(offset);
                ackEncoder.wrapAndApplyHeader(ackBuffer, 0, headerEncoder)
                    .term(1)
                    .transferId(transfer)
                    .fileOffset(last ? 0 : offset)
                    .followerId(1)
                    .fileOrdinal(last ? 1 : 0)
                    .complete(last ? Flag.TRUE : Flag.FALSE);
                sender.onAck(ackDecoder.wrapAndApplyHeader(ackBuffer, 0, headerDecoder));
                final long after = threads.getCurrentThreadAllocatedBytes();
                // The first transfer warms up: only the second is measured.
                allocated += transfer == 2 ? after - before : 0;
                assertEquals(1, sent);
            }
            assertTrue(sender.isComplete(1));
            assertEquals(0, sender.unacknowledgedChunks(1));
        }
        assertTrue(allocated < 2048, allocated + " bytes allocated over 2048 chunks");
        assertEquals(2 * 2048, link.messages);
    }

    /** A link that keeps only the last message, in one buffer. */
    private static final class LastMessageLink implements ReplicaLink
    {
        final UnsafeBuffer last = new UnsafeBuffer(new byte[CHUNK + InstallFormat.MAX_CHUNK_OVERHEAD_BYTES]);
        long messages;

        public boolean send(final int member, final DirectBuffer buffer, final int offset, final int length)
        {
            last.putBytes(0, buffer, offset, length);
            messages++;
            return true;
        }

        public int poll(final MessageHandler handler, final int limit)
        {
            return 0;
        }
    }

    /** Every path names the same bytes, read only: a disk with nothing on its read path but a copy. */
    private static final class ArrayDisk implements Disk
    {
        private final byte[] bytes;

        ArrayDisk(final byte[] bytes)
        {
            this.bytes = bytes;
        }

        public DiskFile open(final Path file, final boolean create)
        {
            return new DiskFile()
            {
                public int read(final ByteBuffer destination, final long position)
                {
                    if (position >= bytes.length)
                    {
                        return -1;
                    }
                    final int count = (int)Math.min(destination.remaining(), bytes.length - position);
                    destination.put(bytes, (int)position, count);
                    return count;
                }

                public void write(final ByteBuffer source, final long position)
                {
                    throw new UnsupportedOperationException();
                }

                public void sync()
                {
                }

                public long length()
                {
                    return bytes.length;
                }

                public void setLength(final long length)
                {
                    throw new UnsupportedOperationException();
                }

                public void close()
                {
                }
            };
        }

        public boolean exists(final Path path)
        {
            return true;
        }

        public List<String> list(final Path directory)
        {
            return List.of();
        }

        public void createDirectories(final Path directory)
        {
        }

        public void delete(final Path file)
        {
            throw new UnsupportedOperationException();
        }

        public void rename(final Path source, final Path target)
        {
            throw new UnsupportedOperationException();
        }

        public void syncDirectory(final Path directory)
        {
        }
    }
}
