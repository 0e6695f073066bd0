package io.reprise.tools.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.journal.JournalReader;
import io.reprise.engine.node.NodeContext;
import io.reprise.engine.util.SystemProperties;
import io.reprise.tools.cli.UsageException;

/**
 * A node's data directory as the tools see it (docs/tools.md): {@code DIR/journal/*.journal} (the operation
 * log) and {@code DIR/snapshots/} ({@code catalog.log} and {@code *.snapshot}).
 */
public final class DataDirectory
{
    public static final String JOURNAL = "journal";
    public static final String SNAPSHOTS = "snapshots";

    private final Path root;

    private DataDirectory(final Path root)
    {
        this.root = root;
    }

    /** @throws UsageException when {@code dir} is not a directory holding a journal or snapshots directory. */
    public static DataDirectory of(final String dir) throws UsageException
    {
        final Path root = Path.of(dir);
        if (!Files.isDirectory(root))
        {
            throw new UsageException("DIR '" + dir + "' is not a directory");
        }
        if (!Files.isDirectory(root.resolve(JOURNAL)) && !Files.isDirectory(root.resolve(SNAPSHOTS)))
        {
            throw new UsageException("DIR '" + dir + "' is not a Reprise data directory (it has neither " +
                JOURNAL + "/ nor " + SNAPSHOTS + "/)");
        }
        return new DataDirectory(root);
    }

    public Path root()
    {
        return root;
    }

    /**
     * A reader of a stopped node's journal that judges where it ends as the node's start-up does: nothing may be
     * written more than one write batch past the end (the node's {@code reprise.journal.write.buffer.bytes}).
     */
    public static JournalReader journalReader(final Disk disk, final Path journal) throws IOException
    {
        return new JournalReader(disk, journal).endOnlyWithinTheLastBatch(
            SystemProperties.intValue(NodeContext.WRITE_BUFFER_PROP_NAME, NodeContext.WRITE_BUFFER_DEFAULT));
    }

    public Path journal()
    {
        return root.resolve(JOURNAL);
    }

    public Path snapshots()
    {
        return root.resolve(SNAPSHOTS);
    }
}
