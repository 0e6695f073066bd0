package io.reprise.tools.cli;

/** The command line was wrong: the message says precisely what; the verb's usage follows it; exit status 2. */
public final class UsageException extends Exception
{
    private static final long serialVersionUID = 1L;

    public UsageException(final String message)
    {
        super(message);
    }
}
