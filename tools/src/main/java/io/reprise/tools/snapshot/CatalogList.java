package io.reprise.tools.snapshot;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.reprise.engine.snapshot.SnapshotCatalog;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.snapshot.SnapshotInfo;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.data.CatalogView;
import io.reprise.tools.data.DataDirectory;
import io.reprise.tools.data.ReadOnlyDisk;

/**
 * {@code reprise catalog DIR}: the snapshot catalog as the node reads it at start-up (seed step 1): every live
 * snapshot with its index, term, system time, state digest and size, whether its file is there and agrees, the
 * files the node would delete as orphans, and whether the catalog ends with a torn entry (which the node cuts
 * off; this tool changes nothing).
 */
public final class CatalogList
{
    public static final String USAGE = "catalog DIR";
    public static final String DESCRIPTION =
        "Lists the live snapshots of DIR/snapshots/catalog.log (file, index, term, system time, digest, size),\n" +
        "checks each file's header against its entry, and says if the catalog ends with a torn entry.\n" +
        "Exit 0: ok; 3: torn last entry (the node cuts it at start); 1: corrupt entry or missing file.";

    private CatalogList()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("catalog", tokens, Set.of(), "DIR");
        final DataDirectory dir = DataDirectory.of(args.positional(0));
        final CatalogView catalog;
        try
        {
            catalog = CatalogView.read(dir.snapshots());
        }
        catch (final IOException ex)
        {
            out.println("catalog: CORRUPT " + ex.getMessage());
            out.println("catalog: the node refuses to start on this catalog");
            return ExitCode.FAILED;
        }
        if (!catalog.exists())
        {
            out.println("catalog: " + catalog.file() + " does not exist (no snapshot was ever taken; the node " +
                "creates it at start)");
            return ExitCode.OK;
        }

        final List<SnapshotInfo> snapshots = catalog.snapshots();
        out.println("catalog: " + catalog.file() + " (" + catalog.fileLength() + " bytes): " + snapshots.size() +
            " live snapshot" + (snapshots.size() == 1 ? "" : "s") + ", oldest first");
        int exit = ExitCode.OK;
        if (!snapshots.isEmpty())
        {
            out.println(String.format("  %-30s %12s %6s  %-24s  %-18s %12s  %s",
                "file", "index", "term", "system time", "state digest", "size", "file check"));
        }
        final ReadOnlyDisk disk = new ReadOnlyDisk();
        for (final SnapshotInfo info : snapshots)
        {
            final String check = check(disk, dir.snapshots().resolve(info.fileName()), info);
            if (!"ok".equals(check))
            {
                exit = ExitCode.FAILED;
            }
            out.println(String.format("  %-30s %12d %6d  %-24s  %-18s %12d  %s", info.fileName(), info.index(),
                info.term(), Format.time(info.systemTimeMs()), Format.hex64(info.stateDigest()), info.fileLength(),
                check));
        }

        final List<String> orphans = new ArrayList<>();
        for (final String name : disk.list(dir.snapshots()))
        {
            final boolean listed = snapshots.stream().anyMatch((s) -> s.fileName().equals(name));
            if (!listed && !name.equals(SnapshotCatalog.FILE_NAME) &&
                (name.endsWith(SnapshotFile.SUFFIX) || name.endsWith(".tmp")))
            {
                orphans.add(name);
            }
        }
        if (!orphans.isEmpty())
        {
            out.println("catalog: files not in the catalog (the node deletes them at start): " +
                String.join(", ", orphans));
        }

        if (null != catalog.truncation())
        {
            out.println("catalog: torn tail: " + catalog.truncation() + " (the node cuts it off at its next start; " +
                "this tool changed nothing)");
            return exit == ExitCode.OK ? ExitCode.TORN_TAIL : exit;
        }
        out.println("catalog: tail ok (no torn entry)");
        return exit;
    }

    private static String check(final ReadOnlyDisk disk, final Path file, final SnapshotInfo info)
    {
        if (!Files.isRegularFile(file))
        {
            return "MISSING";
        }
        try
        {
            final SnapshotInfo header = SnapshotFile.readHeader(disk, file);
            if (header.fileLength() != info.fileLength())
            {
                return "SIZE " + header.fileLength() + " on disk";
            }
            if (header.index() != info.index() || header.term() != info.term() ||
                header.stateDigest() != info.stateDigest())
            {
                return "HEADER DIFFERS (index " + header.index() + ", term " + header.term() + ", digest " +
                    Format.hex64(header.stateDigest()) + ")";
            }
            return "ok";
        }
        catch (final IOException ex)
        {
            return "UNREADABLE: " + ex.getMessage();
        }
    }
}
