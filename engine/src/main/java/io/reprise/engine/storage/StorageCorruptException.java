package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.file.Path;

/** A source file (or a record in it) failed its checks: names the file and the byte offset where it failed. */
public final class StorageCorruptException extends IOException
{
    private final Path file;
    private final long offset;

    public StorageCorruptException(final Path file, final long offset, final String problem)
    {
        super("saved-session storage corrupt: " + file + " at offset " + offset + ": " + problem);
        this.file = file;
        this.offset = offset;
    }

    public Path file()
    {
        return file;
    }

    public long offset()
    {
        return offset;
    }
}
