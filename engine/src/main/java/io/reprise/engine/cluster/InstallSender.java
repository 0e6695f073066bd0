package io.reprise.engine.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.schema.cluster.Flag;
import io.reprise.schema.cluster.InstallAckDecoder;
import io.reprise.schema.cluster.InstallSnapshotEncoder;
import io.reprise.schema.cluster.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The leader's side of a full install (ARCHITECTURE §9): it brings a follower whose needs the log no longer holds up
 * to date by sending it files, the newest snapshot, its saved-session manifest and every source the manifest lists
 * (the caller decides which; this class sends an ordered list). One transfer per follower, any number of followers
 * at once. A step with no thread and no clock of its own: the host calls {@link #doWork(long)} in its duty cycle with
 * the time it read once, and hands every {@code InstallAck} to {@link #onAck}.
 * <p>
 * <b>Never starves live replication.</b> Two limits keep an install from taking the link from the AppendEntries the
 * same member sends: at most {@link Settings#windowChunks()} chunks are unacknowledged per follower, and one
 * {@link #doWork(long)} sends at most {@link Settings#budgetBytesPerWork()} bytes of messages over all followers
 * (whichever follower went first last time goes last this time). An install therefore adds a bounded amount to each
 * duty cycle and waits for the follower, while replication keeps its turn in every cycle.
 * <p>
 * <b>Loss, duplication, reordering.</b> The follower takes chunks only in order and acknowledges the position it
 * holds durably (see {@link InstallFormat}). When the oldest unacknowledged chunk has waited
 * {@link Settings#resendTimeoutNs()}, sending starts again from the acknowledged position. An acknowledgement ahead
 * of what was sent (a follower that kept an earlier transfer of the same install) moves sending on to it. One behind
 * the acknowledged position is most likely an old one overtaken, and moves nothing at once; but if it is still the
 * newest word from the follower when the timeout comes, the follower has lost what it had acknowledged (it refused a
 * file's checksum, or restarted without its progress record) and sending starts again from where it stands.
 * <p>
 * The files are opened and checksummed in {@link #start} and held open until the transfer ends: they must not change
 * meanwhile. No allocation per chunk: one read buffer, one send buffer and fixed per-follower state.
 */
public final class InstallSender
{
    /** Sizes and the resend timeout; the defaults suit a LAN. */
    public record Settings(int chunkBytes, int windowChunks, int budgetBytesPerWork, long resendTimeoutNs)
    {
        public Settings
        {
            if (chunkBytes < 1 || chunkBytes > InstallFormat.MAX_CHUNK_BYTES)
            {
                throw new IllegalArgumentException("chunkBytes must be 1 to " + InstallFormat.MAX_CHUNK_BYTES + ": " +
                    chunkBytes);
            }
            if (windowChunks < 1)
            {
                throw new IllegalArgumentException("windowChunks must be at least 1: " + windowChunks);
            }
            // Any one chunk must fit in a whole budget, or a transfer could never move.
            if (budgetBytesPerWork < InstallFormat.MAX_CHUNK_OVERHEAD_BYTES + chunkBytes)
            {
                throw new IllegalArgumentException("budgetBytesPerWork " + budgetBytesPerWork + " is less than one " +
                    "chunk's message: " + (InstallFormat.MAX_CHUNK_OVERHEAD_BYTES + chunkBytes));
            }
            if (resendTimeoutNs <= 0)
            {
                throw new IllegalArgumentException("resendTimeoutNs must be positive: " + resendTimeoutNs);
            }
        }

        /** 64 KiB chunks, 16 in flight per follower, 256 KiB per duty cycle, resend after 200 ms of silence. */
        public static Settings defaults()
        {
            return new Settings(64 * 1024, 16, 256 * 1024, 200_000_000L);
        }
    }

    private static final DiskFile[] NO_FILES = new DiskFile[0];

    private final int memberId;
    private final int memberCount;
    private final Settings settings;
    private final Disk disk;
    private final ReplicaLink link;
    private final LongSupplier term;
    private final Transfer[] transfers;
    private final byte[] chunkBytes;
    private final ByteBuffer chunk;
    private final UnsafeBuffer sendBuffer;
    private final CRC32C crc = new CRC32C();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final InstallSnapshotEncoder chunkEncoder = new InstallSnapshotEncoder();
    private int firstFollower;
    private int budgetLeftBytes;

    /**
     * @param term the leader's current term, read when a transfer starts: its chunks carry it and only
     *             acknowledgements of it count.
     */
    public InstallSender(
        final int memberId,
        final int memberCount,
        final Settings settings,
        final Disk disk,
        final ReplicaLink link,
        final LongSupplier term)
    {
        if (memberCount < 1 || memberId < 0 || memberId >= memberCount)
        {
            throw new IllegalArgumentException("member " + memberId + " of " + memberCount);
        }
        this.memberId = memberId;
        this.memberCount = memberCount;
        this.settings = settings;
        this.disk = disk;
        this.link = link;
        this.term = term;
        transfers = new Transfer[memberCount];
        for (int m = 0; m < memberCount; m++)
        {
            transfers[m] = new Transfer(settings.windowChunks());
        }
        chunkBytes = new byte[settings.chunkBytes()];
        chunk = ByteBuffer.wrap(chunkBytes);
        sendBuffer = new UnsafeBuffer(new byte[InstallFormat.MAX_CHUNK_OVERHEAD_BYTES + settings.chunkBytes()]);
    }

    /**
     * Starts sending {@code files}, in order, to {@code follower}, replacing any transfer to it. Opens each file and
     * reads it whole for its checksum. {@code transferId} must grow with each transfer this leader starts in a term:
     * a follower ignores chunks of an older transfer than the newest it has seen.
     */
    public void start(
        final int follower,
        final long transferId,
        final long snapshotIndex,
        final long snapshotTerm,
        final List<Path> files) throws IOException
    {
        checkFollower(follower);
        final int count = files.size();
        if (count < 1 || count > InstallFormat.MAX_FILES)
        {
            throw new IllegalArgumentException("an install has 1 to " + InstallFormat.MAX_FILES + " files: " + count);
        }
        cancel(follower);
        final DiskFile[] handles = new DiskFile[count];
        final byte[][] names = new byte[count][];
        final long[] lengths = new long[count];
        final int[] checksums = new int[count];
        final Set<String> distinct = new HashSet<>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                final String name = files.get(i).getFileName().toString();
                names[i] = name.getBytes(StandardCharsets.UTF_8);
                if (!InstallFormat.isValidFileName(names[i], names[i].length) || !distinct.add(name))
                {
                    throw new IllegalArgumentException("file " + i + " of the install may not be named '" + name +
                        "' (one path element, at most " + InstallFormat.MAX_FILE_NAME_BYTES + " bytes, distinct)");
                }
                handles[i] = disk.open(files.get(i), false);
                lengths[i] = handles[i].length();
                checksums[i] = InstallFormat.checksum(handles[i], lengths[i], chunk, crc);
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            closeQuietly(handles);
            throw ex;
        }
        final Transfer t = transfers[follower];
        t.active = true;
        t.complete = false;
        t.transferId = transferId;
        t.term = term.getAsLong();
        t.snapshotIndex = snapshotIndex;
        t.snapshotTerm = snapshotTerm;
        t.filesDigest = InstallFormat.filesDigest(names, lengths, checksums, count, crc);
        t.files = handles;
        t.names = names;
        t.lengths = lengths;
        t.checksums = checksums;
        t.ackedFile = 0;
        t.ackedOffset = 0;
        t.heardFile = 0;
        t.heardOffset = 0;
        t.sendFile = 0;
        t.sendOffset = 0;
        t.inFlightCount = 0;
    }

    /** Stops the transfer to {@code follower}, if any, and closes its files. */
    public void cancel(final int follower)
    {
        checkFollower(follower);
        end(transfers[follower], false);
    }

    private static void end(final Transfer t, final boolean complete)
    {
        closeQuietly(t.files);
        t.files = NO_FILES;
        t.active = false;
        t.complete = complete;
        t.inFlightCount = 0;
    }

    /** Whether {@code follower} has acknowledged every file of its transfer, whole, checked and durable. */
    public boolean isComplete(final int follower)
    {
        checkFollower(follower);
        return transfers[follower].complete;
    }

    /** Chunks sent to {@code follower} and not acknowledged: never more than {@link Settings#windowChunks()}. */
    public int unacknowledgedChunks(final int follower)
    {
        checkFollower(follower);
        return transfers[follower].inFlightCount;
    }

    /**
     * Resends what went unacknowledged too long and sends what the windows and this cycle's budget allow.
     *
     * @return how many chunks were sent and resends begun.
     */
    public int doWork(final long nowNs) throws IOException
    {
        budgetLeftBytes = settings.budgetBytesPerWork();
        int work = 0;
        for (int i = 0; i < memberCount; i++)
        {
            final int follower = (firstFollower + i) % memberCount;
            final Transfer t = transfers[follower];
            if (t.active)
            {
                work += resendIfSilent(t, nowNs);
                work += sendChunks(follower, t, nowNs);
            }
        }
        firstFollower = (firstFollower + 1) % memberCount;
        return work;
    }

    /**
     * Takes a follower's acknowledgement. One of another transfer or term is ignored; one behind the position already
     * acknowledged moves nothing, unless it is still the newest when the resend timeout comes.
     */
    public void onAck(final InstallAckDecoder ack)
    {
        final int follower = ack.followerId();
        if (follower < 0 || follower >= memberCount || follower == memberId)
        {
            return;
        }
        final Transfer t = transfers[follower];
        // The follower answers with the term and transfer of the chunk it took: any other is of an earlier transfer.
        if (!t.active || ack.transferId() != t.transferId || ack.term() != t.term)
        {
            return;
        }
        if (ack.complete() == Flag.TRUE)
        {
            end(t, true);
            return;
        }
        final int file = ack.fileOrdinal();
        final long offset = ack.fileOffset();
        if (file < 0 || file >= t.fileCount() || offset < 0 || offset > t.lengths[file])
        {
            return;
        }
        t.heardFile = file;
        t.heardOffset = offset;
        if (compare(file, offset, t.ackedFile, t.ackedOffset) > 0)
        {
            t.ackedFile = file;
            t.ackedOffset = offset;
            t.dropAcknowledged();
            if (compare(file, offset, t.sendFile, t.sendOffset) > 0)
            {
                t.sendFrom(file, offset);
            }
        }
    }

    private int resendIfSilent(final Transfer t, final long nowNs)
    {
        if (t.inFlightCount > 0 && nowNs - t.inFlightSentNs[t.inFlightHead] >= settings.resendTimeoutNs())
        {
            if (compare(t.heardFile, t.heardOffset, t.ackedFile, t.ackedOffset) < 0)
            {
                // After a whole timeout no overtaken acknowledgement explains it: the follower is back there.
                t.ackedFile = t.heardFile;
                t.ackedOffset = t.heardOffset;
            }
            t.sendFrom(t.ackedFile, t.ackedOffset);
            return 1;
        }
        return 0;
    }

    private int sendChunks(final int follower, final Transfer t, final long nowNs) throws IOException
    {
        int sent = 0;
        while (t.sendFile < t.fileCount() && t.inFlightCount < settings.windowChunks())
        {
            final int file = t.sendFile;
            final long offset = t.sendOffset;
            final byte[] name = t.names[file];
            final int length = (int)Math.min(settings.chunkBytes(), t.lengths[file] - offset);
            final int messageBytes = InstallFormat.chunkMessageBytes(name.length, length);
            if (messageBytes > budgetLeftBytes)
            {
                break;
            }
            chunk.clear().limit(length);
            InstallFormat.readFully(t.files[file], chunk, offset);
            crc.reset();
            crc.update(chunkBytes, 0, length);
            chunkEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
                .term(t.term)
                .transferId(t.transferId)
                .snapshotIndex(t.snapshotIndex)
                .snapshotTerm(t.snapshotTerm)
                .fileLength(t.lengths[file])
                .fileOffset(offset)
                .leaderId(memberId)
                .fileOrdinal(file)
                .fileCount(t.fileCount())
                .fileChecksum(t.checksums[file])
                .chunkChecksum((int)crc.getValue())
                .filesDigest(t.filesDigest)
                .putFileName(name, 0, name.length)
                .putChunk(chunkBytes, 0, length);
            if (!link.send(follower, sendBuffer, 0, messageBytes))
            {
                break;
            }
            budgetLeftBytes -= messageBytes;
            if (offset + length == t.lengths[file])
            {
                t.sendFile = file + 1;
                t.sendOffset = 0;
            }
            else
            {
                t.sendOffset = offset + length;
            }
            t.addInFlight(t.sendFile, t.sendOffset, nowNs);
            sent++;
        }
        return sent;
    }

    private void checkFollower(final int follower)
    {
        if (follower < 0 || follower >= memberCount || follower == memberId)
        {
            throw new IllegalArgumentException("not a follower of member " + memberId + " of " + memberCount + ": " +
                follower);
        }
    }

    /** Orders positions (file, offset). */
    private static int compare(final int file, final long offset, final int otherFile, final long otherOffset)
    {
        return file != otherFile ? Integer.compare(file, otherFile) : Long.compare(offset, otherOffset);
    }

    /** A read-only handle loses nothing when its close fails: there is nothing to report. */
    private static void closeQuietly(final DiskFile[] files)
    {
        for (final DiskFile file : files)
        {
            if (null != file)
            {
                try
                {
                    file.close();
                }
                catch (final IOException ignore)
                {
                }
            }
        }
    }

    /** One follower's transfer: what is sent, where the follower stands, and the chunks in flight. */
    private static final class Transfer
    {
        boolean active;
        boolean complete;
        long transferId;
        long term;
        long snapshotIndex;
        long snapshotTerm;
        long filesDigest;
        DiskFile[] files = NO_FILES;
        byte[][] names;
        long[] lengths;
        int[] checksums;
        /** What the follower holds durably, as far as this transfer knows. */
        int ackedFile;
        long ackedOffset;
        /** The position of the newest acknowledgement received, which may be behind (see resendIfSilent). */
        int heardFile;
        long heardOffset;
        /** Where the next chunk starts. */
        int sendFile;
        long sendOffset;
        /** Chunks sent and unacknowledged, oldest first, as a ring: where each ends and when it was sent. */
        final int[] inFlightEndFile;
        final long[] inFlightEndOffset;
        final long[] inFlightSentNs;
        int inFlightHead;
        int inFlightCount;

        Transfer(final int windowChunks)
        {
            inFlightEndFile = new int[windowChunks];
            inFlightEndOffset = new long[windowChunks];
            inFlightSentNs = new long[windowChunks];
        }

        int fileCount()
        {
            return files.length;
        }

        void addInFlight(final int endFile, final long endOffset, final long sentNs)
        {
            final int slot = (inFlightHead + inFlightCount) % inFlightEndFile.length;
            inFlightEndFile[slot] = endFile;
            inFlightEndOffset[slot] = endOffset;
            inFlightSentNs[slot] = sentNs;
            inFlightCount++;
        }

        /** Forgets the chunks the acknowledged position covers. */
        void dropAcknowledged()
        {
            while (inFlightCount > 0 &&
                compare(inFlightEndFile[inFlightHead], inFlightEndOffset[inFlightHead], ackedFile, ackedOffset) <= 0)
            {
                inFlightHead = (inFlightHead + 1) % inFlightEndFile.length;
                inFlightCount--;
            }
        }

        /** Sends on from ({@code file}, {@code offset}); what was in flight no longer counts. */
        void sendFrom(final int file, final long offset)
        {
            sendFile = file;
            sendOffset = offset;
            inFlightCount = 0;
        }
    }
}
