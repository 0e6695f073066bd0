package io.reprise.tools.demo;

/** The data directory holds state the demo did not write (sessions it would not save, ids beyond its limit). */
public final class ForeignDataException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public ForeignDataException(final String message)
    {
        super(message);
    }
}
