package io.reprise.engine.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** What a full install needs of the node's files: the leader's side (what to send) and the follower's (taking it). */
public interface InstallFiles
{
    /** A snapshot and the files that carry it: the snapshot file, its saved-session manifest and its sources. */
    record Snapshot(long index, long term, List<Path> files)
    {
    }

    /** The newest snapshot this node holds, with its files; null when it has none. */
    Snapshot newest() throws IOException;

    /**
     * Puts the installed files in place of this node's state and log: afterwards the node holds that snapshot,
     * its sources, and an empty log after it. A crash part way leaves a node that starts from less and catches up
     * again, never one that starts from a mix. The node restarts afterwards.
     */
    void install(long index, long term, List<Path> staged) throws IOException;
}
