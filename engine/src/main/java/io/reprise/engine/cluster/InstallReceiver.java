package io.reprise.engine.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.schema.cluster.Flag;
import io.reprise.schema.cluster.InstallAckEncoder;
import io.reprise.schema.cluster.InstallSnapshotDecoder;
import io.reprise.schema.cluster.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The follower's side of a full install (see {@link InstallSender}): it writes the files of the install into a
 * staging directory and tells the leader how far it holds them durably. A step with no thread and no clock: the host
 * hands every {@code InstallSnapshot} of the leader it follows to {@link #onChunk} (the host checks the leader's term,
 * as for AppendEntries), then calls {@link #doWork()} once per poll cycle.
 * <ul>
 *   <li><b>In order only.</b> A chunk is written only if it starts where the file in progress ends and its CRC32C
 *       holds; any other is dropped, and the next acknowledgement tells the leader where to resume.</li>
 *   <li><b>Acknowledges only what is durable.</b> {@link #doWork()} syncs what the cycle wrote (one sync per cycle;
 *       a file whose last chunk came is synced at once, as each file needs its own sync), records progress, then
 *       acknowledges. A file written whole is read back and checked against its CRC32C; a file that fails is
 *       deleted and acknowledged at offset 0, so the leader sends it again.</li>
 *   <li><b>Survives its own restart.</b> A new receiver on the same directory reads {@link InstallProgress} and
 *       resumes the file in progress from its synced length, when the leader's transfer names the same install:
 *       the same snapshot index and term, file count and files digest (every file's name, length and checksum). A
 *       newer transfer of a different install clears the directory and starts over.</li>
 *   <li><b>Survives the leader's restart.</b> A new transfer of the same install resumes where this receiver stands;
 *       a chunk of an older transfer than the newest seen (term, then transfer id) is ignored.</li>
 *   <li><b>A failed sync</b> may have lost what it covered (fsyncgate): the file in progress goes back to its last
 *       synced length and the exception is rethrown; nothing unsynced is ever acknowledged.</li>
 * </ul>
 * Once {@link #complete()}, the caller moves {@link #files()} into place, then clears the staging directory.
 */
public final class InstallReceiver
{
    public static final long NO_SNAPSHOT = -1;

    private final int memberId;
    private final Disk disk;
    private final Path staging;
    private final ReplicaLink link;
    private final CRC32C crc = new CRC32C();
    private final byte[] name = new byte[InstallFormat.MAX_FILE_NAME_BYTES];
    private byte[] chunkBytes = new byte[64 * 1024];
    private ByteBuffer chunk = ByteBuffer.wrap(chunkBytes);
    private final UnsafeBuffer sendBuffer =
        new UnsafeBuffer(new byte[MessageHeaderEncoder.ENCODED_LENGTH + InstallAckEncoder.BLOCK_LENGTH]);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final InstallAckEncoder ackEncoder = new InstallAckEncoder();

    /** The install held, null before the first; its record is durable unless {@code progressDirty}. */
    private InstallProgress progress;
    private boolean progressDirty;
    /** The file in progress (ordinal {@code progress.completeFiles()}): open, bytes written, bytes synced. */
    private DiskFile current;
    private long writtenBytes;
    private long syncedBytes;

    /** The newest transfer seen, whose leader the acknowledgements go to. */
    private long term = Long.MIN_VALUE;
    private long transferId = Long.MIN_VALUE;
    private int leaderId = -1;
    private boolean ackPending;
    private long refusedChunks;
    private long refusedFiles;

    /** Opens {@code stagingDirectory} and resumes the install recorded there, if any. */
    public InstallReceiver(final int memberId, final Disk disk, final Path stagingDirectory, final ReplicaLink link)
        throws IOException
    {
        this.memberId = memberId;
        this.disk = disk;
        this.staging = stagingDirectory;
        this.link = link;
        disk.createDirectories(stagingDirectory);
        resume();
    }

    /**
     * Keeps what the record names and drops the rest: files of another install, or one created just before a
     * crash took the record that would have named it.
     */
    private void resume() throws IOException
    {
        progress = InstallProgress.load(disk, staging);
        boolean deleted = false;
        for (final String file : disk.list(staging))
        {
            final boolean named = null != progress &&
                (file.equals(InstallProgress.FILE_NAME) || progress.indexOf(file) >= 0);
            if (!named)
            {
                disk.delete(staging.resolve(file));
                deleted = true;
            }
        }
        if (deleted)
        {
            disk.syncDirectory(staging);
        }
        if (null == progress)
        {
            return;
        }
        for (int i = 0; i < progress.completeFiles(); i++)
        {
            if (lengthOnDisk(i) != progress.length(i))
            {
                // It was whole and checked: gone or cut since, it is taken again from what is left of it.
                progress.reopen(i);
                progressDirty = true;
                break;
            }
        }
        if (progress.entryCount() > progress.completeFiles())
        {
            final int ordinal = progress.completeFiles();
            final long held = Math.max(0, Math.min(lengthOnDisk(ordinal), progress.length(ordinal)));
            current = disk.open(staging.resolve(progress.name(ordinal)), true);
            current.setLength(held);
            // A crashed process may have left unsynced bytes in the page cache: synced, they are the disk's.
            current.sync();
            writtenBytes = held;
            syncedBytes = held;
            finishFileIfWhole();
        }
    }

    private long lengthOnDisk(final int ordinal) throws IOException
    {
        final Path file = staging.resolve(progress.name(ordinal));
        if (!disk.exists(file))
        {
            return -1;
        }
        try (DiskFile in = disk.open(file, false))
        {
            return in.length();
        }
    }

    /** Takes one chunk of the leader this member follows; writes it if it is the next one and its checksum holds. */
    public void onChunk(final InstallSnapshotDecoder message) throws IOException
    {
        final long chunkTerm = message.term();
        final long chunkTransferId = message.transferId();
        final boolean sameTransfer = chunkTerm == term && chunkTransferId == transferId;
        if (!sameTransfer && (chunkTerm < term || (chunkTerm == term && chunkTransferId < transferId)))
        {
            return;
        }
        final long filesDigest = message.filesDigest();
        final int fileCount = message.fileCount();
        if (filesDigest == InstallSnapshotDecoder.filesDigestNullValue() || fileCount < 1 ||
            fileCount > InstallFormat.MAX_FILES)
        {
            // A version-1 sender names no install: it cannot be told from another, so it is not taken.
            refusedChunks++;
            return;
        }
        final boolean sameInstall = null != progress &&
            progress.describes(message.snapshotIndex(), message.snapshotTerm(), filesDigest, fileCount);
        if (sameTransfer && !sameInstall)
        {
            // One transfer names one install: only a newer transfer may make this receiver start over.
            refusedChunks++;
            return;
        }
        if (!sameInstall)
        {
            startOver(new InstallProgress(message.snapshotIndex(), message.snapshotTerm(), filesDigest, fileCount));
        }
        term = chunkTerm;
        transferId = chunkTransferId;
        leaderId = message.leaderId();
        ackPending = true;

        final int ordinal = progress.completeFiles();
        if (ordinal == fileCount || message.fileOrdinal() != ordinal || message.fileOffset() != writtenBytes)
        {
            return;
        }
        final long fileLength = message.fileLength();
        final int fileChecksum = message.fileChecksum();
        final int nameLength = message.fileNameLength();
        if (nameLength > name.length)
        {
            refusedChunks++;
            return;
        }
        message.getFileName(name, 0, nameLength);
        final int length = message.chunkLength();
        if (fileLength < 0 || length > InstallFormat.MAX_CHUNK_BYTES || length > fileLength - writtenBytes)
        {
            refusedChunks++;
            return;
        }
        ensureChunkCapacity(length);
        message.getChunk(chunkBytes, 0, length);
        crc.reset();
        crc.update(chunkBytes, 0, length);
        if ((int)crc.getValue() != message.chunkChecksum())
        {
            refusedChunks++;
            return;
        }
        if (ordinal < progress.entryCount())
        {
            if (!progress.matches(ordinal, name, nameLength, fileLength, fileChecksum))
            {
                // The same install names other files only if the leader is wrong: take nothing from it.
                refusedChunks++;
                return;
            }
        }
        else
        {
            if (!InstallFormat.isValidFileName(name, nameLength) || progress.hasName(name, nameLength))
            {
                refusedChunks++;
                return;
            }
            progress.add(name, nameLength, fileLength, fileChecksum);
            progressDirty = true;
        }
        if (null == current)
        {
            current = disk.open(staging.resolve(progress.name(ordinal)), true);
            current.setLength(writtenBytes);
        }
        chunk.clear().limit(length);
        current.write(chunk, writtenBytes);
        writtenBytes += length;
        // Each file needs its own sync anyway: finished now, the next file's chunks are taken in this same cycle.
        finishFileIfWhole();
    }

    /** Another install: what the directory holds is of no use. */
    private void startOver(final InstallProgress install) throws IOException
    {
        // The old install is forgotten before its files go: if this fails half way, nothing of it is acknowledged.
        progress = null;
        progressDirty = false;
        writtenBytes = 0;
        syncedBytes = 0;
        closeCurrent();
        for (final String file : disk.list(staging))
        {
            disk.delete(staging.resolve(file));
        }
        disk.syncDirectory(staging);
        progress = install;
        progressDirty = true;
    }

    /**
     * Makes this cycle's writes durable, records progress and acknowledges: in that order, so an acknowledgement never
     * runs ahead of the disk.
     *
     * @return how many of those steps had something to do.
     */
    public int doWork() throws IOException
    {
        int work = 0;
        if (writtenBytes > syncedBytes)
        {
            sync();
            work++;
        }
        // Normally done as the last chunk came; again here if the disk failed it then.
        if (finishFileIfWhole())
        {
            work++;
        }
        if (progressDirty)
        {
            progress.store(disk, staging);
            progressDirty = false;
            work++;
        }
        if (ackPending && null != progress)
        {
            ackPending = !sendAck();
            work++;
        }
        return work;
    }

    private void sync() throws IOException
    {
        try
        {
            current.sync();
            syncedBytes = writtenBytes;
        }
        catch (final IOException ex)
        {
            // What this sync covered may never reach the disk, even if a later sync succeeds: it is written again.
            writtenBytes = syncedBytes;
            try
            {
                current.setLength(syncedBytes);
            }
            catch (final IOException suppressed)
            {
                ex.addSuppressed(suppressed);
            }
            throw ex;
        }
    }

    /**
     * Syncs the file in progress once written whole and reads it back from the disk: it is complete only if what the
     * disk holds checks. One that does not is deleted, to be sent again.
     *
     * @return whether there was such a file.
     */
    private boolean finishFileIfWhole() throws IOException
    {
        if (null == progress || progress.entryCount() == progress.completeFiles() ||
            writtenBytes != progress.length(progress.completeFiles()))
        {
            return false;
        }
        if (writtenBytes > syncedBytes)
        {
            sync();
        }
        final int ordinal = progress.completeFiles();
        if (null == current)
        {
            current = disk.open(staging.resolve(progress.name(ordinal)), true);
        }
        final int checksum = InstallFormat.checksum(current, syncedBytes, chunk, crc);
        closeCurrent();
        if (checksum == progress.checksum(ordinal))
        {
            progress.completeCurrent();
        }
        else
        {
            disk.delete(staging.resolve(progress.name(ordinal)));
            refusedFiles++;
        }
        // Stored before the next acknowledgement; the store syncs the directory: the file's creation is durable too.
        progressDirty = true;
        writtenBytes = 0;
        syncedBytes = 0;
        return true;
    }

    private boolean sendAck()
    {
        final boolean complete = progress.completeFiles() == progress.fileCount();
        ackEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .term(term)
            .transferId(transferId)
            .fileOffset(syncedBytes)
            .followerId(memberId)
            .fileOrdinal(progress.completeFiles())
            .complete(complete ? Flag.TRUE : Flag.FALSE);
        return link.send(leaderId, sendBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + ackEncoder.encodedLength());
    }

    private void ensureChunkCapacity(final int length)
    {
        if (length > chunkBytes.length)
        {
            chunkBytes = new byte[length];
            chunk = ByteBuffer.wrap(chunkBytes);
        }
    }

    private void closeCurrent() throws IOException
    {
        if (null != current)
        {
            final DiskFile file = current;
            current = null;
            file.close();
        }
    }

    /** Whether every file of the install is held whole, checked and durable. */
    public boolean complete()
    {
        return null != progress && !progressDirty && progress.completeFiles() == progress.fileCount();
    }

    /** The term of the newest transfer a chunk came in: {@link Long#MIN_VALUE} before the first since start. */
    public long transferTerm()
    {
        return term;
    }

    /** The index of the snapshot being installed, or {@link #NO_SNAPSHOT}. */
    public long snapshotIndex()
    {
        return null == progress ? NO_SNAPSHOT : progress.snapshotIndex();
    }

    /** The term of the snapshot being installed, or {@link #NO_SNAPSHOT}. */
    public long snapshotTerm()
    {
        return null == progress ? NO_SNAPSHOT : progress.snapshotTerm();
    }

    /** The staged files, in the order of the install; only the complete ones until {@link #complete()}. */
    public List<Path> files()
    {
        final List<Path> files = new ArrayList<>();
        for (int i = 0; null != progress && i < progress.completeFiles(); i++)
        {
            files.add(staging.resolve(progress.name(i)));
        }
        return files;
    }

    /**
     * The caller moved the installed files into place: the staging directory is emptied (its progress record last,
     * so a crash part way leaves nothing a restart would resume) and the receiver holds no install.
     */
    public void discard() throws IOException
    {
        closeCurrent();
        for (final String name : disk.list(staging))
        {
            if (!name.equals(InstallProgress.FILE_NAME))
            {
                disk.delete(staging.resolve(name));
            }
        }
        if (disk.exists(staging.resolve(InstallProgress.FILE_NAME)))
        {
            disk.delete(staging.resolve(InstallProgress.FILE_NAME));
        }
        disk.syncDirectory(staging);
        progress = null;
        progressDirty = false;
        writtenBytes = 0;
        syncedBytes = 0;
        ackPending = false;
    }

    /** Chunks refused: a checksum that did not hold, a name or length that could not be, a version-1 sender. */
    public long refusedChunks()
    {
        return refusedChunks;
    }

    /** Files refused for a whole-file checksum that did not hold, and asked for again. */
    public long refusedFiles()
    {
        return refusedFiles;
    }
}
