package io.reprise.engine.journal;

import java.io.IOException;

/** Written journal data does not validate: the node must not start on it alone. */
public final class JournalCorruptException extends IOException
{
    private static final long serialVersionUID = 1L;

    public JournalCorruptException(final String message)
    {
        super("journal corrupt: " + message);
    }
}
