package io.reprise.engine.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;

/**
 * A member's current term and the vote it gave in that term, durable before either is acted on: a member that
 * crashes and restarts must never vote twice in one term nor go back to an older term. One small file,
 * {@code election.state}, replaced whole: written to a temporary file, synced, renamed over the old one and the
 * directory synced, so a crash leaves either the old pair or the new one. A checksum covers the pair; a file that
 * does not validate is refused (a member that forgot its vote could vote twice).
 * <p>
 * Layout, little-endian: magic (int32), version (int32), term (int64), votedFor (int32, -1 for none), CRC32C of the
 * 20 bytes before it (int32).
 */
public final class ElectionState
{
    public static final String FILE_NAME = "election.state";
    public static final int NO_VOTE = -1;
    private static final String TEMPORARY_NAME = "election.state.tmp";
    private static final int MAGIC = 0x52455056; // "REPV"
    private static final int VERSION = 1;
    private static final int LENGTH = 24;

    private final Disk disk;
    private final Path directory;
    private final ByteBuffer buffer = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private long term;
    private int votedFor = NO_VOTE;

    private ElectionState(final Disk disk, final Path directory)
    {
        this.disk = disk;
        this.directory = directory;
    }

    /** Reads the pair kept in {@code directory}: term 0 and no vote when there is none yet. */
    public static ElectionState open(final Disk disk, final Path directory) throws IOException
    {
        disk.createDirectories(directory);
        final ElectionState state = new ElectionState(disk, directory);
        final Path file = directory.resolve(FILE_NAME);
        if (disk.exists(file))
        {
            state.read(file);
        }
        return state;
    }

    private void read(final Path file) throws IOException
    {
        try (DiskFile in = disk.open(file, false))
        {
            buffer.clear();
            while (buffer.hasRemaining())
            {
                if (in.read(buffer, buffer.position()) < 0)
                {
                    throw new IOException(file + ": election state cut short at " + buffer.position() + " bytes");
                }
            }
        }
        crc.reset();
        crc.update(buffer.array(), 0, LENGTH - 4);
        if (buffer.getInt(0) != MAGIC || buffer.getInt(4) != VERSION || buffer.getInt(20) != (int)crc.getValue())
        {
            throw new IOException(file + ": election state does not validate (magic, version or checksum)");
        }
        term = buffer.getLong(8);
        votedFor = buffer.getInt(16);
    }

    public long term()
    {
        return term;
    }

    /** The member voted for in {@link #term()}, or {@link #NO_VOTE}. */
    public int votedFor()
    {
        return votedFor;
    }

    /**
     * Makes {@code term} and {@code votedFor} durable, then holds them. On an exception the pair held is unchanged
     * and the file holds either pair: the caller must not act on the new one.
     */
    public void store(final long term, final int votedFor) throws IOException
    {
        if (term < this.term || (term == this.term && this.votedFor != NO_VOTE && votedFor != this.votedFor))
        {
            throw new IllegalStateException("election state may not go from term " + this.term + " vote " +
                this.votedFor + " to term " + term + " vote " + votedFor);
        }
        buffer.clear();
        buffer.putInt(0, MAGIC).putInt(4, VERSION).putLong(8, term).putInt(16, votedFor);
        crc.reset();
        crc.update(buffer.array(), 0, LENGTH - 4);
        buffer.putInt(20, (int)crc.getValue());
        final Path temporary = directory.resolve(TEMPORARY_NAME);
        try (DiskFile out = disk.open(temporary, true))
        {
            out.setLength(0);
            buffer.clear();
            out.write(buffer, 0);
            out.sync();
        }
        disk.rename(temporary, directory.resolve(FILE_NAME));
        disk.syncDirectory(directory);
        this.term = term;
        this.votedFor = votedFor;
    }
}
