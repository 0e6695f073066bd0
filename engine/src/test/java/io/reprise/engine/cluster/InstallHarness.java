package io.reprise.engine.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.disk.SimulatedDisk;
import io.reprise.schema.cluster.InstallAckDecoder;
import io.reprise.schema.cluster.InstallSnapshotDecoder;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import org.agrona.DirectBuffer;

/**
 * A leader (member 0) installing onto followers 1 .. n over a {@link LossyNetwork}, each member on its own
 * {@link SimulatedDisk}, driven one step at a time with a virtual clock. Counts what the leader sends.
 */
final class InstallHarness
{
    static final int LEADER = 0;
    static final long STEP_NS = 1_000_000L;
    static final Path SOURCE = Path.of("/leader/install");
    static final Path STAGING = Path.of("/follower/staging");

    final int members;
    final InstallSender.Settings settings;
    final LossyNetwork network;
    final SimulatedDisk leaderDisk;
    final SimulatedDisk[] followerDisks;
    final InstallReceiver[] receivers;
    InstallSender sender;
    long term = 1;
    long nowNs;
    long chunkMessages;
    long chunkPayloadBytes;
    long stepMessageBytes;

    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final InstallSnapshotDecoder chunk = new InstallSnapshotDecoder();
    private final InstallAckDecoder ack = new InstallAckDecoder();
    private final MessageHeaderDecoder sentHeader = new MessageHeaderDecoder();
    private final InstallSnapshotDecoder sentChunk = new InstallSnapshotDecoder();
    private int receiving;

    InstallHarness(final int followers, final InstallSender.Settings settings, final LossyNetwork network,
        final long seed) throws IOException
    {
        this.members = followers + 1;
        this.settings = settings;
        this.network = network;
        leaderDisk = new SimulatedDisk(seed);
        leaderDisk.createDirectories(SOURCE);
        followerDisks = new SimulatedDisk[members];
        receivers = new InstallReceiver[members];
        for (int m = 1; m < members; m++)
        {
            followerDisks[m] = new SimulatedDisk(seed + m);
            receivers[m] = new InstallReceiver(m, followerDisks[m], STAGING, network.link(m));
        }
        sender = new InstallSender(LEADER, members, settings, leaderDisk, countingLink(network.link(LEADER)),
            () -> term);
    }

    /** The leader's link, counting what it sends before the network loses any. */
    private ReplicaLink countingLink(final ReplicaLink link)
    {
        return new ReplicaLink()
        {
            public boolean send(final int member, final DirectBuffer buffer, final int offset, final int length)
            {
                sentHeader.wrap(buffer, offset);
                if (sentHeader.templateId() == InstallSnapshotDecoder.TEMPLATE_ID)
                {
                    sentChunk.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, sentHeader.blockLength(),
                        sentHeader.version());
                    sentChunk.skipFileName();
                    chunkMessages++;
                    chunkPayloadBytes += sentChunk.chunkLength();
                    stepMessageBytes += length;
                }
                return link.send(member, buffer, offset, length);
            }

            public int poll(final MessageHandler handler, final int limit)
            {
                return link.poll(handler, limit);
            }
        };
    }

    /** A new leader-side sender, as after the leader's restart; the files stay. */
    void restartSender()
    {
        network.clear(LEADER);
        sender = new InstallSender(LEADER, members, settings, leaderDisk, countingLink(network.link(LEADER)),
            () -> term);
    }

    /**
     * The follower loses power (unsynced writes lost, messages to it gone) and starts a new receiver, trying again
     * when the disk fails the start, as a host would.
     */
    void crashAndRestartReceiver(final int follower) throws IOException
    {
        followerDisks[follower].crash();
        network.clear(follower);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                receivers[follower] =
                    new InstallReceiver(follower, followerDisks[follower], STAGING, network.link(follower));
                return;
            }
            catch (final IOException ex)
            {
                if (attempt == 100)
                {
                    throw ex;
                }
            }
        }
    }

    /** One duty cycle of every member, then the clock moves on one step. */
    int step() throws IOException
    {
        stepMessageBytes = 0;
        int work = sender.doWork(nowNs);
        for (int m = 1; m < members; m++)
        {
            work += deliverChunks(m);
            work += receivers[m].doWork();
        }
        work += deliverAcks();
        nowNs += STEP_NS;
        return work;
    }

    int deliverChunks(final int follower) throws IOException
    {
        receiving = follower;
        try
        {
            return network.link(follower).poll(this::onFollowerMessage, 64);
        }
        catch (final UncheckedIOException ex)
        {
            throw ex.getCause();
        }
    }

    int deliverAcks()
    {
        return network.link(LEADER).poll(this::onLeaderMessage, 64);
    }

    private void onFollowerMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        header.wrap(buffer, offset);
        if (header.templateId() == InstallSnapshotDecoder.TEMPLATE_ID)
        {
            chunk.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(), header.version());
            try
            {
                receivers[receiving].onChunk(chunk);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }

    private void onLeaderMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        header.wrap(buffer, offset);
        if (header.templateId() == InstallAckDecoder.TEMPLATE_ID)
        {
            sender.onAck(ack.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(),
                header.version()));
        }
    }

    /** Steps until every follower's install is complete on both sides; false if {@code maxSteps} run out. */
    boolean runUntilComplete(final int maxSteps) throws IOException
    {
        for (int i = 0; i < maxSteps; i++)
        {
            if (allComplete())
            {
                return true;
            }
            step();
        }
        return allComplete();
    }

    boolean allComplete()
    {
        for (int m = 1; m < members; m++)
        {
            if (!receivers[m].complete() || !sender.isComplete(m))
            {
                return false;
            }
        }
        return true;
    }

    /** Writes files of these sizes, random bytes, durably on the leader's disk. */
    List<Path> writeFiles(final String prefix, final SplittableRandom random, final int... sizes) throws IOException
    {
        final List<Path> files = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++)
        {
            final Path file = SOURCE.resolve(prefix + "-" + i + ".dat");
            final byte[] bytes = new byte[sizes[i]];
            random.nextBytes(bytes);
            try (DiskFile out = leaderDisk.open(file, true))
            {
                out.write(ByteBuffer.wrap(bytes), 0);
                out.sync();
            }
            files.add(file);
        }
        leaderDisk.syncDirectory(SOURCE);
        return files;
    }

    static long totalBytes(final Disk disk, final List<Path> files) throws IOException
    {
        long total = 0;
        for (final Path file : files)
        {
            total += read(disk, file).length;
        }
        return total;
    }

    static byte[] read(final Disk disk, final Path file) throws IOException
    {
        try (DiskFile in = disk.open(file, false))
        {
            final ByteBuffer buffer = ByteBuffer.allocate((int)in.length());
            InstallFormat.readFully(in, buffer, 0);
            return buffer.array();
        }
    }

    /** The follower's staged files are the leader's, byte for byte, in order, and nothing else is staged. */
    void assertInstalled(final int follower, final List<Path> files, final long snapshotIndex, final String where)
        throws IOException
    {
        final InstallReceiver receiver = receivers[follower];
        assertTrue(receiver.complete(), where + ": not complete");
        assertEquals(snapshotIndex, receiver.snapshotIndex(), where);
        final List<Path> staged = receiver.files();
        assertEquals(files.size(), staged.size(), where + ": staged " + staged);
        final List<String> expectedNames = new ArrayList<>(List.of(InstallProgress.FILE_NAME));
        for (int i = 0; i < files.size(); i++)
        {
            assertEquals(STAGING.resolve(files.get(i).getFileName()), staged.get(i), where);
            assertArrayEquals(read(leaderDisk, files.get(i)), read(followerDisks[follower], staged.get(i)),
                where + ": " + staged.get(i));
            expectedNames.add(files.get(i).getFileName().toString());
        }
        expectedNames.sort(null);
        assertEquals(expectedNames, followerDisks[follower].list(STAGING), where);
    }
}
