package io.reprise.tools.cluster;

/** A local cluster did not do what was asked of it in time: the message says what was seen instead. */
public final class ClusterException extends Exception
{
    private static final long serialVersionUID = 1L;

    public ClusterException(final String message)
    {
        super(message);
    }
}
