package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The file system as the engine sees it: the one way durable components touch files, so that tests and the
 * simulation runtime can inject torn writes, lost unsynced data, failed syncs and a full disk
 * (ARCHITECTURE §0). Production uses {@link FileChannelDisk}.
 */
public interface Disk
{
    /**
     * The unit of write atomicity the engine assumes: a crash leaves each 512-byte sector of an unsynced write
     * either old or new, never mixed. Torn-write detection rests on it.
     */
    int SECTOR_BYTES = 512;

    /** Opens a file for reading and writing, creating it (empty) when {@code create} and it does not exist. */
    DiskFile open(Path file, boolean create) throws IOException;

    boolean exists(Path path);

    /** Names of the regular files directly in {@code directory}, sorted; empty when it does not exist. */
    List<String> list(Path directory) throws IOException;

    void createDirectories(Path directory) throws IOException;

    void delete(Path file) throws IOException;

    /** Atomic rename, replacing {@code target} if it exists. Follow it with {@link #syncDirectory}. */
    void rename(Path source, Path target) throws IOException;

    /** Makes creates, renames and deletes in the directory durable. */
    void syncDirectory(Path directory) throws IOException;

    /** How large background writes (snapshots, saved-session sources) are synced and paced on this disk. */
    default BackgroundSync.Settings backgroundWrites()
    {
        return BackgroundSync.Settings.UNPACED;
    }
}
