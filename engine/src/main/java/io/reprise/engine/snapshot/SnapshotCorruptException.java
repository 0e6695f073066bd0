package io.reprise.engine.snapshot;

import java.io.IOException;
import java.nio.file.Path;

/** A snapshot file that does not validate, with where and why. */
public final class SnapshotCorruptException extends IOException
{
    private static final long serialVersionUID = 1L;

    public SnapshotCorruptException(final Path file, final long offset, final String reason)
    {
        super("snapshot corrupt: " + file + " at offset " + offset + ": " + reason);
    }
}
